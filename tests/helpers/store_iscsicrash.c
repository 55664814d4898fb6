/* Crash test helper for vdiskd as a whole: the same write load and check as store_crash, but
 * through iSCSI, so the test can kill -9 vdiskd itself.
 *
 *   store_iscsicrash load URL LOG ROUND   random writes at QD 16 until the target goes away
 *   store_iscsicrash verify URL BASE LOG  read the whole LUN and check it against the log
 *
 * A write counts as acknowledged when its SCSI status GOOD arrived. store_crashlog.h says
 * what the log holds and what verify checks. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#include "tests/helpers/store_crashlog.h"

#define QD 16

struct slot {
	uint64_t seq, sector, nsect;
	unsigned char buf[CL_MAX_SECTS * CL_SECT];
};

static struct iscsi_context *ctx;
static int lun;
static struct slot slots[QD];
static uint64_t next_seq, nsectors;

static void write_done(struct iscsi_context *c, int status, void *data, void *priv);

static void submit_one(struct slot *s)
{
	uint64_t start[QD], len[QD], i;
	int k;

	s->seq = 0;
	for (k = 0; k < QD; k++) {
		start[k] = slots[k].sector;
		len[k] = slots[k].seq ? slots[k].nsect : 0;
	}
	cl_pick(nsectors, start, len, QD, &s->sector, &s->nsect);
	s->seq = ++next_seq;
	for (i = 0; i < s->nsect; i++)
		cl_fill_sector(s->buf + i * CL_SECT, s->seq, s->sector + i);
	cl_log('S', s->seq, s->sector, (uint32_t)s->nsect);
	if (!iscsi_write16_task(ctx, lun, s->sector, s->buf, (uint32_t)(s->nsect * CL_SECT),
				CL_SECT, 0, 0, rand() % 8 == 0, 0, 0, write_done, s)) {
		fprintf(stderr, "store_iscsicrash: cannot queue a write\n");
		exit(1);
	}
}

static void write_done(struct iscsi_context *c, int status, void *data, void *priv)
{
	struct slot *s = priv;

	(void)c;
	if (data)
		scsi_free_scsi_task(data);
	if (status != SCSI_STATUS_GOOD) {
		/* The target went away (or failed the write): stop, without acknowledging. */
		printf("write not acknowledged (status %d), stopping\n", status);
		exit(0);
	}
	cl_log('A', s->seq, s->sector, (uint32_t)s->nsect);
	submit_one(s);
}

static int connect_url(const char *url)
{
	struct scsi_readcapacity16 *rc16;
	struct iscsi_url *iu;
	struct scsi_task *t;

	ctx = iscsi_create_context("iqn.2026-11.lan.vs:crash");
	if (!ctx)
		return -1;
	iu = iscsi_parse_full_url(ctx, url);
	if (!iu) {
		fprintf(stderr, "store_iscsicrash: %s: %s\n", url, iscsi_get_error(ctx));
		return -1;
	}
	iscsi_set_targetname(ctx, iu->target);
	iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE);
	/* A dead target must end the load, not be retried behind our back. */
	iscsi_set_noautoreconnect(ctx, 1);
	lun = iu->lun;
	if (iscsi_full_connect_sync(ctx, iu->portal, iu->lun)) {
		fprintf(stderr, "store_iscsicrash: %s: %s\n", url, iscsi_get_error(ctx));
		iscsi_destroy_url(iu);
		return -1;
	}
	iscsi_destroy_url(iu);
	t = iscsi_readcapacity16_sync(ctx, lun);
	if (!t || t->status != SCSI_STATUS_GOOD || !(rc16 = scsi_datain_unmarshall(t)) ||
	    rc16->block_length != CL_SECT) {
		fprintf(stderr, "store_iscsicrash: READ CAPACITY failed or blocks not 512 bytes\n");
		return -1;
	}
	nsectors = rc16->returned_lba + 1;
	scsi_free_scsi_task(t);
	return 0;
}

static int read_lun(void *arg, uint64_t off, uint64_t len, void *buf)
{
	struct scsi_task *t;
	int rc = -1;

	(void)arg;
	t = iscsi_read16_sync(ctx, lun, off / CL_SECT, (uint32_t)len, CL_SECT, 0, 0, 0, 0, 0);
	if (t && t->status == SCSI_STATUS_GOOD && t->datain.size == (int)len) {
		memcpy(buf, t->datain.data, len);
		rc = 0;
	}
	if (t)
		scsi_free_scsi_task(t);
	return rc;
}

static int usage(void)
{
	fprintf(stderr, "usage: store_iscsicrash load URL LOG ROUND\n"
			"       store_iscsicrash verify URL BASE LOG\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct pollfd pfd;
	int i;

	if (argc != 5 || (strcmp(argv[1], "load") && strcmp(argv[1], "verify")))
		return usage();
	if (connect_url(argv[2]))
		return 1;
	if (!strcmp(argv[1], "verify"))
		return cl_verify(argv[4], argv[3], nsectors, read_lun, NULL);
	if (cl_open(argv[3])) {
		perror(argv[3]);
		return 1;
	}
	next_seq = (uint64_t)atoi(argv[4]) << 40;
	srand((unsigned)atoi(argv[4]) * 7919 + (unsigned)getpid());
	for (i = 0; i < QD; i++)
		submit_one(&slots[i]);
	printf("loading\n");
	fflush(stdout);
	for (;;) {
		pfd.fd = iscsi_get_fd(ctx);
		pfd.events = (short)iscsi_which_events(ctx);
		if (poll(&pfd, 1, 1000) < 0)
			return 1;
		if (iscsi_service(ctx, pfd.revents) < 0) {
			printf("connection lost: %s\n", iscsi_get_error(ctx));
			return 0;
		}
	}
}
