/* vdiskctl image sync NAME: makes the peer server's base image file for NAME identical to
 * ours, sending only the 64 KiB blocks whose SHA-256 differs. The peer's vdiskd offers its
 * file as LU 0 of "<target_iqn>:image.<NAME>" on its replica listener (HA link, CHAP with the
 * pair secret) and answers READ DIGESTS (common/image_sync_proto.h). Each batch of
 * blocks is compared just before it is sent, so a run that was cut short is resumed by
 * running it again: it sends what still differs. A final pass compares everything again.
 * libiscsi's asynchronous API lets both sides hash a batch at the same time and puts all the
 * batch's writes in flight together. */
#include <errno.h>
#include <fcntl.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client-admin/cli_db.h"
#include "client-admin/commands.h"
#include "common/image_sync_proto.h"

#define SYNC_PORT "3261"
#define SYNC_SECRET "/etc/vdisk/mirror.secret"
#define SYNC_USER "vdisk-mirror"
#define SYNC_INITIATOR "iqn.2026-11.lan.vdisk:image-sync"
#define SYNC_TARGET "iqn.2026-11.lan.vdisk:disk"
#define SYNC_TIMEOUT_S 30
#define SECRET_MIN 12
#define SECRET_MAX 127
#define WRITE_MAX_BLOCKS 16u	/* adjacent differing blocks go in one WRITE(16) of <= 1 MiB */
#define SECTOR 512u

enum { OPT_PEER = OPT_FIRST_CMD, OPT_SECRET, OPT_RATE };

struct sync {
	struct cli *cli;
	const char *image;
	const char *portal;		/* the peer's ADDR:PORT */
	int fd;				/* our image file */
	uint64_t size, nblocks;
	struct iscsi_context *iscsi;
	uint8_t *buf;			/* our blocks of one batch: IS_MAX_BLOCKS * IS_BLOCK */
	uint8_t ours[IS_MAX_BLOCKS][IS_DIGEST_LEN];
	uint8_t theirs[IS_MAX_BLOCKS][IS_DIGEST_LEN];
	uint32_t asked;			/* digests of the READ DIGESTS in flight */
	int inflight;			/* asynchronous commands sent, not completed */
	char err[320];			/* the first failure of one of them */
	uint64_t compared, sent, bytes;
	double rate;			/* bytes per second, 0: no cap */
	struct timespec start, shown;
};

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (double)(now.tv_nsec - t->tv_nsec) / 1e9;
}

/* The pair secret: the first line of path, as vdiskd reads it. */
static int read_secret(const struct cli *cli, const char *path, char *out, size_t outlen)
{
	char line[SECRET_MAX + 3];
	size_t len;
	FILE *f = fopen(path, "r");

	if (!f)
		return cli_fail(cli, "--secret %s: %s (the pair secret vdiskd's --mirror-secret "
				"reads)", path, strerror(errno));
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	fclose(f);
	len = strcspn(line, "\r\n");
	line[len] = '\0';
	if (len < SECRET_MIN || len > SECRET_MAX || len >= outlen)
		return cli_fail(cli, "--secret %s: the first line must be a secret of %d to %d "
				"characters", path, SECRET_MIN, SECRET_MAX);
	memcpy(out, line, len + 1);
	return 0;
}

/* ADDR:PORT with a port of 1..65535. */
static int valid_portal(const char *s)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s)
		return 0;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	return !errno && *end == '\0' && end != colon + 1 && port > 0 && port < 65536;
}

/* The other server's HA-link address from the servers table: the one row with an ha_addr
 * that is not this host. */
static int default_peer(struct cli *cli, char *out, size_t outlen)
{
	struct db_server *srv;
	char host[256] = "";
	const char *pick = NULL;
	size_t n, i, found = 0;

	if (db_server_all(cli->db, &srv, &n))
		return cli_db_fail(cli, "reading servers");
	gethostname(host, sizeof(host) - 1);
	host[strcspn(host, ".")] = '\0';	/* vdiskd's default --node: the short host name */
	for (i = 0; i < n; i++) {
		if (!srv[i].ha_addr[0] || strcmp(srv[i].name, host) == 0)
			continue;
		pick = srv[i].ha_addr;
		found++;
	}
	if (found != 1) {
		free(srv);
		return cli_usage(cli, "give --peer ADDR:PORT (the servers table has %s other "
				 "server with an HA address)", found ? "more than one" : "no");
	}
	snprintf(out, outlen, strchr(pick, ':') ? "%s" : "%s:" SYNC_PORT, pick);
	free(srv);
	return 0;
}

/* Fails with the reason of a command that did not end GOOD; frees t. */
static int cmd_failed(struct sync *s, struct scsi_task *t, const char *what)
{
	char why[160];

	if (!t || t->status > 0xff) {
		/* libiscsi's own statuses (cancelled, error): the session, not the command */
		const char *e = iscsi_get_error(s->iscsi);

		if (t)
			scsi_free_scsi_task(t);
		return cli_fail(s->cli, "%s: %s (the peer's vdiskd log says why: promoted, "
				"restarted, or the link went down; run it again to resume)", what,
				e && *e ? e : "the session was closed");
	}
	if (t->status == SCSI_STATUS_CHECK_CONDITION)
		snprintf(why, sizeof(why), "%s (asc/ascq %04x)", scsi_sense_key_str(t->sense.key),
			 t->sense.ascq);
	else
		snprintf(why, sizeof(why), "status 0x%02x", t->status);
	scsi_free_scsi_task(t);
	return cli_fail(s->cli, "%s: the peer answered %s", what, why);
}

static int login(struct sync *s, const char *portal, const char *target, const char *secret)
{
	struct scsi_readcapacity16 *rc16;
	struct scsi_task *t;
	uint64_t peer_size;

	s->iscsi = iscsi_create_context(SYNC_INITIATOR);
	if (!s->iscsi)
		return cli_fail(s->cli, "out of memory");
	iscsi_set_targetname(s->iscsi, target);
	iscsi_set_session_type(s->iscsi, ISCSI_SESSION_NORMAL);
	iscsi_set_header_digest(s->iscsi, ISCSI_HEADER_DIGEST_NONE);
	iscsi_set_timeout(s->iscsi, SYNC_TIMEOUT_S);
	/* a dropped session means the peer stopped taking the sync (promoted, restarted): a
	 * re-login would be refused and libiscsi would retry it for ever; say so, exit, and let
	 * the admin run it again */
	iscsi_set_noautoreconnect(s->iscsi, 1);
	iscsi_set_initiator_username_pwd(s->iscsi, SYNC_USER, secret);
	if (iscsi_full_connect_sync(s->iscsi, portal, 0) != 0)
		return cli_fail(s->cli, "cannot log in to %s at %s: %s (the peer's vdiskd log "
				"says why: it takes an image sync on its --replica-listen address "
				"while secondary, with the same pair secret, when no disk there uses "
				"the image)", target, portal, iscsi_get_error(s->iscsi));
	t = iscsi_readcapacity16_sync(s->iscsi, 0);
	if (!t || t->status != SCSI_STATUS_GOOD)
		return cmd_failed(s, t, "reading the peer image's size");
	rc16 = scsi_datain_unmarshall(t);
	if (!rc16 || rc16->block_length != SECTOR) {
		scsi_free_scsi_task(t);
		return cli_fail(s->cli, "the peer sent an unusable READ CAPACITY answer");
	}
	peer_size = (rc16->returned_lba + 1) * SECTOR;
	scsi_free_scsi_task(t);
	if (peer_size != s->size)
		return cli_fail(s->cli, "the peer's file for image %s has %llu bytes, ours %llu: "
				"sync copies blocks into a file of the same size (make it so "
				"there first, e.g. truncate -s %llu)", s->image,
				(unsigned long long)peer_size, (unsigned long long)s->size,
				(unsigned long long)s->size);
	return 0;
}

/* Keeps the first failure of an asynchronous command in s->err. */
static void note_failure(struct sync *s, struct scsi_task *t, int status, const char *what)
{
	const char *e;

	if (s->err[0])
		return;
	if (t && status == SCSI_STATUS_CHECK_CONDITION) {
		snprintf(s->err, sizeof(s->err), "%s: the peer answered %s (asc/ascq %04x)", what,
			 scsi_sense_key_str(t->sense.key), t->sense.ascq);
	} else if (!t || status > 0xff) {
		/* libiscsi's own statuses (cancelled, error): the session, not the command */
		e = iscsi_get_error(s->iscsi);
		snprintf(s->err, sizeof(s->err), "%s: %s (the peer's vdiskd log says why: "
			 "promoted, restarted, or the link went down; run it again to resume)", what,
			 e && *e ? e : "the session was closed");
	} else {
		snprintf(s->err, sizeof(s->err), "%s: the peer answered status 0x%02x", what,
			 status);
	}
}

static void digests_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct sync *s = priv;
	struct scsi_task *t = command_data;

	(void)iscsi;
	s->inflight--;
	if (status != SCSI_STATUS_GOOD || !t)
		note_failure(s, t, status, "asking the peer for digests");
	else if (t->datain.size != (int)(s->asked * IS_DIGEST_LEN))
		snprintf(s->err, sizeof(s->err), "the peer sent %d bytes of digests for %u blocks",
			 t->datain.size, s->asked);	/* the only command in flight: no err yet */
	else
		memcpy(s->theirs, t->datain.data, s->asked * IS_DIGEST_LEN);
	if (t)
		scsi_free_scsi_task(t);
}

static void write_cb(struct iscsi_context *iscsi, int status, void *command_data, void *priv)
{
	struct sync *s = priv;

	(void)iscsi;
	s->inflight--;
	if (status != SCSI_STATUS_GOOD)
		note_failure(s, command_data, status, "writing to the peer");
	if (command_data)
		scsi_free_scsi_task(command_data);
}

/* Runs libiscsi until every command sent has completed (or, with wait 0, only what can be
 * done now: queued commands go out only from iscsi_service). The first failure, if any. */
static int run_iscsi(struct sync *s, int wait)
{
	while (s->inflight > 0) {
		struct pollfd pfd = { .fd = iscsi_get_fd(s->iscsi),
				      .events = (short)iscsi_which_events(s->iscsi) };
		/* a wake-up a second at least: libiscsi checks its timeouts in iscsi_service */
		int n = poll(&pfd, 1, wait ? 1000 : 0);

		if (!wait && n == 0)
			break;

		if (n < 0 && errno != EINTR)
			return cli_fail(s->cli, "poll: %s", strerror(errno));
		if (n >= 0 && iscsi_service(s->iscsi, n > 0 ? pfd.revents : 0) < 0) {
			note_failure(s, NULL, SCSI_STATUS_ERROR, "talking to the peer");
			break;
		}
		if (!wait)
			break;
	}
	return s->err[0] ? cli_fail(s->cli, "%s", s->err) : 0;
}

/* Asks for the peer's digests of count blocks from first (into s->theirs, by digests_cb). */
static int ask_digests(struct sync *s, uint64_t first, uint32_t count)
{
	uint8_t cdb[16];
	struct scsi_task *t;

	is_cdb_build(cdb, first, count);
	t = scsi_create_task(16, cdb, SCSI_XFER_READ, count * IS_DIGEST_LEN);
	if (!t)
		return cli_fail(s->cli, "out of memory");
	s->asked = count;
	if (iscsi_scsi_command_async(s->iscsi, 0, t, digests_cb, NULL, s) < 0) {
		scsi_free_scsi_task(t);
		return cli_fail(s->cli, "asking the peer for digests: %s", iscsi_get_error(s->iscsi));
	}
	s->inflight++;
	return 0;
}

/* Reads count blocks from first into s->buf and hashes them into s->ours. */
static int our_digests(struct sync *s, uint64_t first, uint32_t count)
{
	uint64_t off = first * IS_BLOCK;
	size_t len = (size_t)count * IS_BLOCK;

	if (len > s->size - off)
		len = (size_t)(s->size - off);
	for (size_t done = 0; done < len;) {
		ssize_t n = pread(s->fd, s->buf + done, len - done, (off_t)(off + done));

		if (n <= 0)
			return cli_fail(s->cli, "reading image %s: %s", s->image,
					n < 0 ? strerror(errno) : "the file shrank");
		done += (size_t)n;
	}
	for (uint32_t i = 0; i < count; i++) {
		size_t blen = len - (size_t)i * IS_BLOCK < IS_BLOCK ?
			      len - (size_t)i * IS_BLOCK : IS_BLOCK;

		if (is_digest(s->buf + (size_t)i * IS_BLOCK, blen, s->ours[i]) < 0)
			return cli_fail(s->cli, "out of memory");
	}
	return 0;
}

/* Sends n blocks from block first (index i of the batch in s->buf); write_cb completes it. */
static int send_run(struct sync *s, uint64_t first, uint32_t i, uint32_t n)
{
	uint64_t off = first * IS_BLOCK;
	uint64_t len = (uint64_t)n * IS_BLOCK;
	struct scsi_task *t;

	if (len > s->size - off)
		len = s->size - off;	/* the short last block: whole sectors (checked) */
	t = iscsi_write16_task(s->iscsi, 0, off / SECTOR, s->buf + (size_t)i * IS_BLOCK,
			       (uint32_t)len, SECTOR, 0, 0, 0, 0, 0, write_cb, s);
	if (!t)
		return cli_fail(s->cli, "writing to the peer: %s", iscsi_get_error(s->iscsi));
	s->inflight++;
	s->sent += n;
	s->bytes += len;
	return 0;
}

/* With --rate: waits until the bytes sent so far fit the cap. */
static void pace(struct sync *s)
{
	double ahead;

	if (s->rate <= 0)
		return;
	ahead = (double)s->bytes / s->rate - since(&s->start);
	if (ahead > 0) {
		struct timespec ts = { (time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9) };

		nanosleep(&ts, NULL);
	}
}

static void progress(struct sync *s, int force)
{
	if (!force && since(&s->shown) < 1.0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &s->shown);
	fprintf(stderr, "image %s: %llu/%llu blocks compared, %llu sent (%.1f MiB)\n", s->image,
		(unsigned long long)s->compared, (unsigned long long)s->nblocks,
		(unsigned long long)s->sent, (double)s->bytes / (1024.0 * 1024.0));
}

/* One pass over the image: compares every block; with send, writes the ones that differ.
 * *differ gets how many differed. Per batch the peer hashes its blocks while we hash ours,
 * and the batch's writes are all in flight at once. */
static int pass(struct sync *s, int send, uint64_t *differ)
{
	*differ = 0;
	for (uint64_t first = 0; first < s->nblocks; first += IS_MAX_BLOCKS) {
		uint32_t count = s->nblocks - first < IS_MAX_BLOCKS ?
				 (uint32_t)(s->nblocks - first) : IS_MAX_BLOCKS;
		int rc;

		if ((rc = ask_digests(s, first, count)) || (rc = run_iscsi(s, 0)) ||
		    (rc = our_digests(s, first, count)) || (rc = run_iscsi(s, 1)))
			return rc;
		for (uint32_t i = 0; i < count;) {
			uint32_t n = 0;

			while (i + n < count && n < WRITE_MAX_BLOCKS &&
			       memcmp(s->ours[i + n], s->theirs[i + n], IS_DIGEST_LEN) != 0)
				n++;
			if (!n) {
				i++;
				continue;
			}
			*differ += n;
			if (send && (rc = send_run(s, first + i, i, n)))
				return rc;
			i += n;
		}
		if (send) {
			/* s->buf is the writes' data: the next batch reads into it after this */
			if ((rc = run_iscsi(s, 1)))
				return rc;
			pace(s);
			s->compared += count;
			progress(s, 0);
		}
	}
	return 0;
}

/* --dry-run: one comparison, nothing sent. */
static int compare_only(struct sync *s)
{
	uint64_t differ;
	int rc = pass(s, 0, &differ);

	if (rc)
		return rc;
	printf("image %s: %llu blocks compared, %llu differ (dry run, nothing sent)\n", s->image,
	       (unsigned long long)s->nblocks, (unsigned long long)differ);
	return EXIT_OK;
}

static int finish(struct sync *s)
{
	struct scsi_task *t;
	uint64_t differ;
	double secs;
	int rc;

	if (s->cli->dry_run)
		return compare_only(s);
	if ((rc = pass(s, 1, &differ)))
		return rc;
	progress(s, 1);
	t = iscsi_synchronizecache10_sync(s->iscsi, 0, 0, 0, 0, 0);
	if (!t || t->status != SCSI_STATUS_GOOD)
		return cmd_failed(s, t, "flushing the peer's image (SYNCHRONIZE CACHE)");
	scsi_free_scsi_task(t);
	secs = since(&s->start);
	if ((rc = pass(s, 0, &differ)))
		return rc;
	if (differ)
		return cli_fail(s->cli, "image %s: %llu blocks still differ after the sync (is "
				"the image changing on either server?)", s->image,
				(unsigned long long)differ);
	fprintf(stderr, "image %s: %.2f s, %.0f blocks/s compared, %.1f MiB/s sent\n", s->image,
		secs, secs > 0 ? (double)s->nblocks / secs : 0.0,
		secs > 0 ? (double)s->bytes / (1024.0 * 1024.0) / secs : 0.0);
	printf("image %s: %llu blocks compared, %llu sent (%.1f MiB), identical\n", s->image,
	       (unsigned long long)s->compared, (unsigned long long)s->sent,
	       (double)s->bytes / (1024.0 * 1024.0));
	/* the peer's copy changed: the admin's record says so (not fatal: the sync is done) */
	if (db_event_add(s->cli->db, "info", "vdiskctl", "image sync %s to %s: %llu blocks "
			 "compared, %llu sent, identical", s->image, s->portal,
			 (unsigned long long)s->compared, (unsigned long long)s->sent) != 0)
		fprintf(stderr, "vdiskctl image sync: warning: recording the event: %s\n",
			db_errmsg(s->cli->db));
	return EXIT_OK;
}

int image_sync(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "peer", required_argument, NULL, OPT_PEER },
		{ "secret", required_argument, NULL, OPT_SECRET },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
		CLI_COMMON_OPTS
	};
	const char *secret_path = SYNC_SECRET;
	char secret[SECRET_MAX + 1], portal[DB_ADDR_MAX + 8] = "", tiqn[256], target[512];
	struct sync s = { .cli = cli, .fd = -1 };
	struct db_image img;
	struct stat sb;
	char *end;
	int opt, rc;

	while ((opt = cli_getopt(cli, argc, argv, opts)) != -1) {
		if (opt == '?')
			return EXIT_USAGE;
		if (opt == OPT_HELP) {
			printf("usage: vdiskctl image sync NAME [--peer ADDR:PORT] [--secret FILE] "
			       "[--rate MBPS] [--dry-run]\n"
			       "  makes the peer server's file for image NAME identical to ours,\n"
			       "  sending only the 64 KiB blocks that differ; run it again to resume\n"
			       "  --peer    the peer vdiskd's replica listener (default: the other\n"
			       "            server's ha_addr in the servers table, port " SYNC_PORT ")\n"
			       "  --secret  the pair secret file (default " SYNC_SECRET ")\n"
			       "  --rate    at most MBPS megabytes per second sent (default: no cap)\n"
			       "  --dry-run only count the blocks that differ\n");
			return EXIT_OK;
		}
		if (opt == OPT_PEER) {
			if (!valid_portal(optarg) || strlen(optarg) >= sizeof(portal))
				return cli_usage(cli, "--peer '%s': expected ADDR:PORT", optarg);
			strcpy(portal, optarg);
		} else if (opt == OPT_DRY_RUN) {
			cli->dry_run = 1;
		} else if (opt == OPT_SECRET) {
			secret_path = optarg;
		} else if (opt == OPT_RATE) {
			errno = 0;
			s.rate = strtod(optarg, &end) * 1e6;
			if (errno || *end || end == optarg || !(s.rate > 0))
				return cli_usage(cli, "--rate '%s': expected a positive number of MB/s",
						 optarg);
		}
	}
	if (argc - optind != 1)
		return cli_usage(cli, "expected one image name");
	s.image = argv[optind];
	if ((rc = cli_open_db(cli, 0)))		/* writable: the events table */
		return rc;
	if (db_image_by_name(cli->db, s.image, &img))
		return cli_fail(cli, "no image '%s'", s.image);
	if (!portal[0] && (rc = default_peer(cli, portal, sizeof(portal))))
		return rc;
	if (db_setting_get(cli->db, "target_iqn", tiqn, sizeof(tiqn)) < 0)
		strcpy(tiqn, SYNC_TARGET);
	snprintf(target, sizeof(target), "%s" IS_TARGET_SEP "%s", tiqn, s.image);
	if (!is_target_image(tiqn, target) || strlen(target) >= 224)
		return cli_usage(cli, "image name '%s' cannot be part of a target name", s.image);
	if ((rc = read_secret(cli, secret_path, secret, sizeof(secret))))
		return rc;
	s.fd = open(img.path, O_RDONLY | O_CLOEXEC);
	if (s.fd < 0)
		return cli_fail(cli, "image %s: %s: %s", s.image, img.path, strerror(errno));
	rc = EXIT_FAIL;
	if (fstat(s.fd, &sb) < 0) {
		cli_fail(cli, "image %s: %s: %s", s.image, img.path, strerror(errno));
		goto out_close_fd;
	}
	if (S_ISBLK(sb.st_mode))
		sb.st_size = lseek(s.fd, 0, SEEK_END);
	if (!(S_ISREG(sb.st_mode) || S_ISBLK(sb.st_mode)) || sb.st_size <= 0 ||
	    sb.st_size % SECTOR) {
		cli_fail(cli, "image %s: %s is not a block device or a file of whole 512-byte "
			 "sectors", s.image, img.path);
		goto out_close_fd;
	}
	s.size = (uint64_t)sb.st_size;
	s.nblocks = is_nblocks(s.size);
	s.buf = malloc((size_t)IS_MAX_BLOCKS * IS_BLOCK);
	if (!s.buf) {
		cli_fail(cli, "out of memory");
		goto out_close_fd;
	}
	clock_gettime(CLOCK_MONOTONIC, &s.start);
	s.shown = s.start;
	s.portal = portal;
	rc = login(&s, portal, target, secret);
	if (!rc)
		rc = finish(&s);
	if (s.iscsi) {
		if (iscsi_is_logged_in(s.iscsi))
			iscsi_logout_sync(s.iscsi);
		iscsi_destroy_context(s.iscsi);
	}
	free(s.buf);
out_close_fd:
	close(s.fd);
	return rc;
}
