/* iSCSI load generator for the vdiskd benchmark (tests/bench/vdiskd_vs_tgt.sh), for what
 * iscsi-perf cannot do: writes, many sessions at once, latency percentiles. libiscsi's async
 * API, one thread, poll() over every session.
 *
 *   store_iscsiload [--op randread|randwrite|seqread|boot] [--bs BYTES] [--qd N]
 *                   [--sessions N] [--seconds S] [--span BYTES] URL
 *
 * URL is iscsi://HOST:PORT/IQN/LUN; a "%d" in it becomes the session number (0..N-1), so each
 * session can log in to its own target (a client overlay each). --op boot: every session
 * reads the same pseudo-random sequence of regions of the first --span bytes, all starting
 * together, as PCs booting one image do. Prints: ops, IOPS, MB/s, p50 and p99 latency. */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>

#define MAX_SESSIONS 512
#define MAX_QD 128
#define MAX_SAMPLES (8u << 20)

enum load_op { L_RANDREAD, L_RANDWRITE, L_SEQREAD, L_BOOT };

struct session;

struct cmd {
	struct session *s;
	uint64_t t0;
};

struct session {
	struct iscsi_context *ctx;
	int lun;
	uint64_t blocks;	/* LUN size in 512-byte blocks */
	uint64_t next;		/* sequential position or boot step */
	uint64_t rng;
	unsigned inflight;
	struct cmd cmds[MAX_QD];
};

static struct session sessions[MAX_SESSIONS];
static enum load_op op = L_RANDREAD;
static uint64_t bs = 4096, span, deadline, completed, failed;
static unsigned qd = 32, nsessions = 1, stopping;
static uint32_t *lat_us;
static unsigned char *wbuf;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static void issue(struct cmd *c);

static void cmd_done(struct iscsi_context *ctx, int status, void *data, void *priv)
{
	struct cmd *c = priv;
	uint64_t us = (now_ns() - c->t0) / 1000;

	(void)ctx;
	if (status != SCSI_STATUS_GOOD)
		failed++;
	if (data)
		scsi_free_scsi_task(data);
	if (completed < MAX_SAMPLES)
		lat_us[completed] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
	completed++;
	c->s->inflight--;
	issue(c);
}

static void issue(struct cmd *c)
{
	struct session *s = c->s;
	uint64_t nblk = s->blocks / (bs / 512), lba;
	struct scsi_task *t;

	if (stopping || now_ns() >= deadline)
		return;
	switch (op) {
	case L_RANDREAD:
	case L_RANDWRITE:
		s->rng = mix(s->rng + 1);
		lba = s->rng % nblk * (bs / 512);
		break;
	case L_SEQREAD:
		if (s->next >= nblk)
			s->next = 0;
		lba = s->next++ * (bs / 512);
		break;
	default:
		/* Boot: step k of the same sequence in every session. */
		lba = mix(s->next++) % (span / bs) * (bs / 512);
		break;
	}
	c->t0 = now_ns();
	if (op == L_RANDWRITE)
		t = iscsi_write16_task(s->ctx, s->lun, lba, wbuf, (uint32_t)bs, 512, 0, 0, 0, 0, 0,
				       cmd_done, c);
	else
		t = iscsi_read16_task(s->ctx, s->lun, lba, (uint32_t)bs, 512, 0, 0, 0, 0, 0,
				      cmd_done, c);
	if (!t) {
		fprintf(stderr, "store_iscsiload: cannot queue: %s\n", iscsi_get_error(s->ctx));
		exit(1);
	}
	s->inflight++;
}

/* url with the first "%d" replaced by n. */
static int session_url(const char *url, unsigned n, char *out, size_t size)
{
	const char *p = strstr(url, "%d");
	int len;

	if (!p)
		len = snprintf(out, size, "%s", url);
	else
		len = snprintf(out, size, "%.*s%u%s", (int)(p - url), url, n, p + 2);
	return len < 0 || (size_t)len >= size ? -1 : 0;
}

static int connect_session(struct session *s, const char *url, unsigned n)
{
	char u[1024], iqn[64];
	struct iscsi_url *iu;
	struct scsi_task *t;
	struct scsi_readcapacity16 *rc16;

	snprintf(iqn, sizeof(iqn), "iqn.2026-11.lan.vs:load-%u", n);
	s->ctx = iscsi_create_context(iqn);
	if (!s->ctx || session_url(url, n, u, sizeof(u)))
		return -1;
	iu = iscsi_parse_full_url(s->ctx, u);
	if (!iu) {
		fprintf(stderr, "store_iscsiload: %s: %s\n", u, iscsi_get_error(s->ctx));
		return -1;
	}
	iscsi_set_targetname(s->ctx, iu->target);
	iscsi_set_session_type(s->ctx, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(s->ctx, ISCSI_HEADER_DIGEST_NONE);
	s->lun = iu->lun;
	if (iscsi_full_connect_sync(s->ctx, iu->portal, iu->lun)) {
		fprintf(stderr, "store_iscsiload: %s: %s\n", u, iscsi_get_error(s->ctx));
		iscsi_destroy_url(iu);
		return -1;
	}
	iscsi_destroy_url(iu);
	t = iscsi_readcapacity16_sync(s->ctx, s->lun);
	if (!t || t->status != SCSI_STATUS_GOOD || !(rc16 = scsi_datain_unmarshall(t))) {
		fprintf(stderr, "store_iscsiload: READ CAPACITY failed\n");
		return -1;
	}
	s->blocks = (rc16->returned_lba + 1) * rc16->block_length / 512;
	scsi_free_scsi_task(t);
	s->rng = mix(n + 1);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int usage(void)
{
	fprintf(stderr, "usage: store_iscsiload [--op randread|randwrite|seqread|boot] [--bs B] "
			"[--qd N] [--sessions N] [--seconds S] [--span B] URL\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "op", required_argument, NULL, 'o' }, { "bs", required_argument, NULL, 'b' },
		{ "qd", required_argument, NULL, 'q' },
		{ "sessions", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "span", required_argument, NULL, 'p' }, { NULL, 0, NULL, 0 },
	};
	static struct pollfd pfd[MAX_SESSIONS];
	double seconds = 5, el;
	uint64_t t0, n;
	unsigned i, j, busy;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!strcmp(optarg, "randread")) op = L_RANDREAD;
			else if (!strcmp(optarg, "randwrite")) op = L_RANDWRITE;
			else if (!strcmp(optarg, "seqread")) op = L_SEQREAD;
			else if (!strcmp(optarg, "boot")) op = L_BOOT;
			else return usage();
			break;
		case 'b': bs = strtoull(optarg, NULL, 0); break;
		case 'q': qd = (unsigned)atoi(optarg); break;
		case 'n': nsessions = (unsigned)atoi(optarg); break;
		case 's': seconds = atof(optarg); break;
		case 'p': span = strtoull(optarg, NULL, 0); break;
		default: return usage();
		}
	}
	if (optind + 1 != argc || !qd || qd > MAX_QD || !nsessions || nsessions > MAX_SESSIONS ||
	    !bs || bs % 512 || bs > (16u << 20))
		return usage();
	lat_us = malloc(MAX_SAMPLES * sizeof(*lat_us));
	wbuf = malloc(bs);
	if (!lat_us || !wbuf)
		return 1;
	memset(wbuf, 0x5a, bs);
	for (i = 0; i < nsessions; i++)
		if (connect_session(&sessions[i], argv[optind], i))
			return 1;
	if (!span || span > sessions[0].blocks * 512)
		span = sessions[0].blocks * 512;
	if (span < bs)
		return usage();
	t0 = now_ns();
	deadline = t0 + (uint64_t)(seconds * 1e9);
	for (i = 0; i < nsessions; i++)
		for (j = 0; j < qd; j++) {
			sessions[i].cmds[j].s = &sessions[i];
			issue(&sessions[i].cmds[j]);
		}
	for (;;) {
		busy = 0;
		for (i = 0; i < nsessions; i++) {
			pfd[i].fd = iscsi_get_fd(sessions[i].ctx);
			pfd[i].events = (short)iscsi_which_events(sessions[i].ctx);
			busy += sessions[i].inflight;
		}
		if (!busy)
			break;
		if (poll(pfd, nsessions, 1000) < 0)
			return 1;
		for (i = 0; i < nsessions; i++)
			if (pfd[i].revents && iscsi_service(sessions[i].ctx, pfd[i].revents) < 0) {
				fprintf(stderr, "store_iscsiload: session %u: %s\n", i,
					iscsi_get_error(sessions[i].ctx));
				return 1;
			}
	}
	el = (double)(now_ns() - t0) / 1e9;
	n = completed < MAX_SAMPLES ? completed : MAX_SAMPLES;
	qsort(lat_us, n, sizeof(*lat_us), cmp_u32);
	printf("ops %llu failed %llu iops %.0f MB/s %.1f p50_us %u p99_us %u\n",
	       (unsigned long long)completed, (unsigned long long)failed, completed / el,
	       completed * (double)bs / el / 1e6, n ? lat_us[n / 2] : 0,
	       n ? lat_us[n * 99 / 100] : 0);
	for (i = 0; i < nsessions; i++) {
		iscsi_logout_sync(sessions[i].ctx);
		iscsi_destroy_context(sessions[i].ctx);
	}
	return failed ? 1 : 0;
}
