/* Speaks raw iSCSI PDUs to vdiskd for robustness tests: each scenario sends something a
 * well-behaved initiator never would and checks the target's answer.
 *
 * usage: vdiskd_rawpdu PORT IQN SCENARIO [ARG]
 *   login          log in, ping with NOP-Out, log out
 *   hold SECONDS   log in and ping every 50 ms; fails if any ping goes unanswered
 *   sessions N     N sessions opened and logged out one after another
 *   truncated      log in, send half a BHS, close the write side: expect the target to close
 *   oversized      log in, declare a 16 MiB - 1 data segment: expect the connection dropped
 *   prelogin-big   a login PDU declaring 64 KiB of keys: expect the connection dropped
 *   unknown-op     log in, send opcode 0x1c: expect a Reject, then a ping still works
 *   cmdsn          log in, a command far outside the CmdSN window: no answer, ping works
 *   garbage-keys   login text that is not key=value: expect login status 0x0200
 *   no-login       a SCSI command as the first PDU: expect login status 0x020b
 *   unknown-target login to a target that does not exist: expect status 0x0203
 *   status         log in and print the login status as 0xCCDD (exit 0 whatever it is)
 *   nop-in         log in, wait for the target's NOP-In keepalive, answer it, ping
 *   read LBA N     log in, READ(10) N blocks at LBA, the data on stdout (checks DataSN,
 *                  buffer offsets and the status)
 *   header-digest  log in asking for CRC32C header digests only: the final login response
 *                  carries none (its text right after the BHS), then a NOP-Out with a
 *                  digest is answered by a NOP-In with a valid one
 * The initiator name is iqn.2026-11.lan.vdisk.test:rawpdu, or $RAWPDU_INITIATOR.
 * Exit: 0 when the target behaved, 1 when it did not, 2 on usage. Loopback only. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vdisk-server/iscsi_digest.h"
#include "vdisk-server/iscsi_proto.h"

static const char *g_iqn;
static uint16_t g_port;
static uint32_t g_cmdsn, g_statsn, g_itt = 1;

static int conn_open(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(g_port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		perror("connect");
		exit(1);
	}
	return fd;
}

static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads exactly len bytes within timeout_ms: 0, -1 on EOF/error, -2 on timeout. */
static int recv_all(int fd, void *buf, size_t len, int timeout_ms)
{
	uint8_t *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, timeout_ms) <= 0)
			return -2;
		n = read(fd, p, len);
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_pdu(int fd, uint8_t *bhs, const void *data, uint32_t dlen)
{
	static const uint8_t zero[4];

	put_be24(bhs + BHS_DSL, dlen);
	if (send_all(fd, bhs, ISCSI_BHS_LEN) < 0 || (dlen && send_all(fd, data, dlen) < 0))
		return -1;
	return send_all(fd, zero, ISCSI_PAD(dlen));
}

/* Receives one PDU into bhs (data, if any, into data up to cap). */
static int recv_pdu(int fd, uint8_t *bhs, uint8_t *data, size_t cap, int timeout_ms)
{
	static uint8_t sink[1 << 16];
	uint32_t dlen;
	int rc = recv_all(fd, bhs, ISCSI_BHS_LEN, timeout_ms);

	if (rc < 0)
		return rc;
	dlen = get_be24(bhs + BHS_DSL) + ISCSI_PAD(get_be24(bhs + BHS_DSL));
	if (dlen > sizeof(sink))
		return -1;
	rc = recv_all(fd, dlen <= cap ? data : sink, dlen, timeout_ms);
	if (rc == 0)
		g_statsn = get_be32(bhs + 24) + 1;
	return rc;
}

/* Sends a login with text; returns the status (class << 8 | detail), -1 on no answer. */
static int login_text(int fd, const char *text, size_t len)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { 0 }, data[8192];

	bhs[0] = ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE;
	bhs[1] = ISCSI_LOGIN_TRANSIT | (ISCSI_STAGE_OPERATIONAL << 2) | ISCSI_STAGE_FULL;
	bhs[8] = 0x80;
	put_be32(bhs + 10, (uint32_t)getpid() ^ (uint32_t)rand());
	put_be32(bhs + BHS_ITT, g_itt++);
	g_cmdsn = 1;
	put_be32(bhs + BHS_CMDSN, g_cmdsn);
	if (send_pdu(fd, bhs, text, (uint32_t)len) < 0)
		return -1;
	if (recv_pdu(fd, bhs, data, sizeof(data), 2000) < 0)
		return -1;
	if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_LOGIN_RSP)
		return -1;
	if (bhs[36] == 0 && bhs[37] == 0 && !(bhs[1] & ISCSI_LOGIN_TRANSIT))
		return -1;	/* the target wanted more negotiation: not expected here */
	return bhs[36] << 8 | bhs[37];
}

static int login(int fd, const char *target)
{
	const char *ini = getenv("RAWPDU_INITIATOR");
	char text[1024];
	int n = snprintf(text, sizeof(text),
			 "InitiatorName=%s%c"
			 "TargetName=%s%cSessionType=Normal%cHeaderDigest=None%c"
			 "DataDigest=None%cMaxRecvDataSegmentLength=65536%c",
			 ini ? ini : "iqn.2026-11.lan.vdisk.test:rawpdu", 0, target, 0, 0, 0, 0, 0);

	return login_text(fd, text, (size_t)n);
}

static int ping(int fd)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { 0 };
	uint32_t itt = g_itt++;

	bhs[0] = ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE;
	bhs[1] = ISCSI_FLAG_FINAL;
	put_be32(bhs + BHS_ITT, itt);
	put_be32(bhs + BHS_TTT, ISCSI_RESERVED_TAG);
	put_be32(bhs + BHS_CMDSN, g_cmdsn);
	put_be32(bhs + BHS_EXPSTATSN, g_statsn);
	if (send_pdu(fd, bhs, "ping", 4) < 0)
		return -1;
	for (;;) {
		if (recv_pdu(fd, bhs, NULL, 0, 2000) < 0)
			return -1;
		/* skip target NOP-In pings and anything else until our answer */
		if ((bhs[0] & ISCSI_OPCODE_MASK) == ISCSI_OP_NOP_IN && get_be32(bhs + BHS_ITT) == itt)
			return 0;
	}
}

static int logout(int fd)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { 0 };

	bhs[0] = ISCSI_OP_LOGOUT_REQ | ISCSI_IMMEDIATE;
	bhs[1] = ISCSI_FLAG_FINAL;
	put_be32(bhs + BHS_ITT, g_itt++);
	put_be32(bhs + BHS_CMDSN, g_cmdsn);
	put_be32(bhs + BHS_EXPSTATSN, g_statsn);
	if (send_pdu(fd, bhs, NULL, 0) < 0 || recv_pdu(fd, bhs, NULL, 0, 2000) < 0)
		return -1;
	return (bhs[0] & ISCSI_OPCODE_MASK) == ISCSI_OP_LOGOUT_RSP && bhs[2] == 0 ? 0 : -1;
}

static int expect_eof(int fd)
{
	uint8_t b[ISCSI_BHS_LEN];

	for (;;) {
		int rc = recv_all(fd, b, 1, 3000);

		if (rc == -1)
			return 0;
		if (rc == -2)
			return -1;
	}
}

static int fail(const char *what)
{
	fprintf(stderr, "vdiskd_rawpdu: %s\n", what);
	return 1;
}

/* The header-digest scenario: CRC32C negotiated; the login response has no digest, the
 * full feature phase's PDUs have one both ways. */
static int header_digest(int fd, const char *target)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { 0 }, data[8192], crc[4];
	char text[512];
	int n = snprintf(text, sizeof(text),
			 "InitiatorName=iqn.2026-11.lan.vdisk.test:rawpdu%cTargetName=%s%c"
			 "SessionType=Normal%cHeaderDigest=CRC32C%cDataDigest=None%c", 0, target, 0,
			 0, 0, 0);
	uint32_t dlen, itt;

	bhs[0] = ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE;
	bhs[1] = ISCSI_LOGIN_TRANSIT | (ISCSI_STAGE_OPERATIONAL << 2) | ISCSI_STAGE_FULL;
	bhs[8] = 0x80;
	put_be32(bhs + BHS_ITT, g_itt++);
	put_be32(bhs + BHS_CMDSN, g_cmdsn = 1);
	if (send_pdu(fd, bhs, text, (uint32_t)n) < 0 || recv_pdu(fd, bhs, data, sizeof(data), 2000))
		return fail("no login response");
	dlen = get_be24(bhs + BHS_DSL);
	if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_LOGIN_RSP || bhs[36] || bhs[37] ||
	    !(bhs[1] & ISCSI_LOGIN_TRANSIT) || !dlen || dlen > sizeof(data) || data[dlen - 1])
		return fail("login with CRC32C header digests refused or cut short");
	if (!memmem(data, dlen, "HeaderDigest=CRC32C", 20))
		return fail("CRC32C header digests not agreed");
	if (data[0] < 'A' || data[0] > 'Z')
		return fail("the final login response carries a header digest (its text does not "
			    "start with a key)");
	memset(bhs, 0, sizeof(bhs));
	bhs[0] = ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE;
	bhs[1] = ISCSI_FLAG_FINAL;
	put_be32(bhs + BHS_ITT, itt = g_itt++);
	put_be32(bhs + BHS_TTT, ISCSI_RESERVED_TAG);
	put_be32(bhs + BHS_CMDSN, g_cmdsn);
	put_be32(bhs + BHS_EXPSTATSN, g_statsn);
	iscsi_crc_put(crc, iscsi_crc_update(ISCSI_CRC_INIT, bhs, ISCSI_BHS_LEN));
	if (send_all(fd, bhs, ISCSI_BHS_LEN) < 0 || send_all(fd, crc, 4) < 0)
		return fail("send");
	if (recv_all(fd, bhs, ISCSI_BHS_LEN, 2000) || recv_all(fd, crc, 4, 2000))
		return fail("no answer to a NOP-Out with a header digest");
	if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_NOP_IN || get_be32(bhs + BHS_ITT) != itt ||
	    get_be24(bhs + BHS_DSL))
		return fail("the answer is not our NOP-In");
	if (!iscsi_crc_check(crc, iscsi_crc_update(ISCSI_CRC_INIT, bhs, ISCSI_BHS_LEN)))
		return fail("the NOP-In's header digest is wrong");
	return 0;
}

int main(int argc, char **argv)
{
	const char *sc;
	uint8_t bhs[ISCSI_BHS_LEN] = { 0 };
	int fd, st;

	if (argc < 4) {
		fprintf(stderr, "usage: vdiskd_rawpdu PORT IQN SCENARIO [ARG]\n");
		return 2;
	}
	g_port = (uint16_t)atoi(argv[1]);
	g_iqn = argv[2];
	sc = argv[3];
	srand((unsigned)getpid());

	if (strcmp(sc, "sessions") == 0) {
		int n = argc > 4 ? atoi(argv[4]) : 100;

		for (int i = 0; i < n; i++) {
			fd = conn_open();
			if (login(fd, g_iqn) != 0 || logout(fd) != 0)
				return fail("session login/logout failed");
			close(fd);
		}
		return 0;
	}
	fd = conn_open();
	if (strcmp(sc, "garbage-keys") == 0) {
		st = login_text(fd, "\x01\x02\x03garbage\0=\0", 12);
		return (st >> 8) == 2 ? 0 : fail("garbage keys not refused as an initiator error");
	}
	if (strcmp(sc, "unknown-target") == 0)
		return login(fd, "iqn.2026-11.lan.vdisk:nosuch") == ISCSI_LOGIN_NOT_FOUND ? 0 :
			fail("unknown target not answered 0x0203");
	if (strcmp(sc, "no-login") == 0) {
		bhs[0] = ISCSI_OP_SCSI_CMD;
		bhs[1] = ISCSI_FLAG_FINAL;
		put_be32(bhs + BHS_ITT, 9);
		if (send_pdu(fd, bhs, NULL, 0) < 0 || recv_pdu(fd, bhs, NULL, 0, 2000) < 0)
			return fail("no answer to a command before login");
		st = bhs[36] << 8 | bhs[37];
		if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_LOGIN_RSP || st != ISCSI_LOGIN_INVALID_REQUEST)
			return fail("command before login not refused with 0x020b");
		return expect_eof(fd) == 0 ? 0 : fail("connection left open after the refusal");
	}
	if (strcmp(sc, "prelogin-big") == 0) {
		bhs[0] = ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE;
		put_be24(bhs + BHS_DSL, 65536);
		send_all(fd, bhs, ISCSI_BHS_LEN);
		return expect_eof(fd) == 0 ? 0 : fail("64 KiB before login not dropped");
	}
	if (strcmp(sc, "header-digest") == 0)
		return header_digest(fd, g_iqn);
	if (strcmp(sc, "status") == 0) {
		printf("0x%04x\n", login(fd, g_iqn) & 0xffff);
		return 0;
	}
	if (login(fd, g_iqn) != 0)
		return fail("login failed");
	if (strcmp(sc, "login") == 0)
		return ping(fd) == 0 && logout(fd) == 0 ? 0 : fail("ping or logout failed");
	if (strcmp(sc, "hold") == 0) {
		int ms = (argc > 4 ? atoi(argv[4]) : 5) * 1000;

		for (int t = 0; t < ms; t += 50) {
			if (ping(fd) < 0)
				return fail("a ping went unanswered while others misbehaved");
			usleep(50000);
		}
		return logout(fd) == 0 ? 0 : fail("logout failed");
	}
	if (strcmp(sc, "truncated") == 0) {
		bhs[0] = ISCSI_OP_SCSI_CMD;
		send_all(fd, bhs, 20);
		shutdown(fd, SHUT_WR);
		return expect_eof(fd) == 0 ? 0 : fail("truncated PDU: connection not closed");
	}
	if (strcmp(sc, "oversized") == 0) {
		bhs[0] = ISCSI_OP_SCSI_CMD;
		bhs[1] = ISCSI_FLAG_FINAL | ISCSI_CMD_WRITE;
		put_be24(bhs + BHS_DSL, 0xffffff);	/* 16 MiB - 1, the most the field holds */
		send_all(fd, bhs, ISCSI_BHS_LEN);
		return expect_eof(fd) == 0 ? 0 : fail("16 MiB data segment not dropped");
	}
	if (strcmp(sc, "unknown-op") == 0) {
		bhs[0] = 0x1c | ISCSI_IMMEDIATE;
		bhs[1] = ISCSI_FLAG_FINAL;
		put_be32(bhs + BHS_ITT, g_itt++);
		if (send_pdu(fd, bhs, NULL, 0) < 0 || recv_pdu(fd, bhs, NULL, 0, 2000) < 0)
			return fail("no answer to an unknown opcode");
		if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_REJECT || bhs[2] != ISCSI_REJECT_UNSUPPORTED)
			return fail("unknown opcode not rejected as unsupported");
		return ping(fd) == 0 ? 0 : fail("connection unusable after the reject");
	}
	if (strcmp(sc, "nop-in") == 0) {
		uint32_t ttt;

		if (recv_pdu(fd, bhs, NULL, 0, 5000) < 0 ||
		    (bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_NOP_IN)
			return fail("no NOP-In from an idle target");
		ttt = get_be32(bhs + BHS_TTT);
		if (ttt == ISCSI_RESERVED_TAG || get_be32(bhs + BHS_ITT) != ISCSI_RESERVED_TAG)
			return fail("target NOP-In does not ask for an answer");
		memset(bhs, 0, sizeof(bhs));
		bhs[0] = ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE;
		bhs[1] = ISCSI_FLAG_FINAL;
		put_be32(bhs + BHS_ITT, ISCSI_RESERVED_TAG);
		put_be32(bhs + BHS_TTT, ttt);
		put_be32(bhs + BHS_CMDSN, g_cmdsn);
		put_be32(bhs + BHS_EXPSTATSN, g_statsn);
		if (send_pdu(fd, bhs, NULL, 0) < 0)
			return fail("send");
		return ping(fd) == 0 ? 0 : fail("connection unusable after answering the NOP-In");
	}
	if (strcmp(sc, "read") == 0 && argc > 5) {
		uint32_t lba = (uint32_t)strtoul(argv[4], NULL, 0), n = (uint32_t)atoi(argv[5]);
		uint32_t want = n * 512, got = 0, sn = 0;
		static uint8_t data[1 << 16];

		bhs[0] = ISCSI_OP_SCSI_CMD;
		bhs[1] = ISCSI_FLAG_FINAL | ISCSI_CMD_READ;
		put_be32(bhs + BHS_ITT, g_itt++);
		put_be32(bhs + 20, want);
		put_be32(bhs + BHS_CMDSN, g_cmdsn++);
		put_be32(bhs + BHS_EXPSTATSN, g_statsn);
		bhs[32] = 0x28;
		put_be32(bhs + 34, lba);
		put_be16(bhs + 39, (uint16_t)n);
		if (send_pdu(fd, bhs, NULL, 0) < 0)
			return fail("send");
		for (;;) {
			uint32_t dlen;

			if (recv_pdu(fd, bhs, data, sizeof(data), 5000) < 0)
				return fail("no Data-In");
			if ((bhs[0] & ISCSI_OPCODE_MASK) == ISCSI_OP_NOP_IN)
				continue;
			if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_DATA_IN)
				return fail("READ answered without data");
			dlen = get_be24(bhs + BHS_DSL);
			if (get_be32(bhs + 36) != sn++ || get_be32(bhs + 40) != got)
				return fail("Data-In out of sequence");
			fwrite(data, 1, dlen, stdout);
			got += dlen;
			if (bhs[1] & ISCSI_DATAIN_STATUS)
				break;
		}
		if (got != want || bhs[3] != 0)
			return fail("short read or bad status");
		return 0;
	}
	if (strcmp(sc, "cmdsn") == 0) {
		bhs[0] = ISCSI_OP_SCSI_CMD;
		bhs[1] = ISCSI_FLAG_FINAL;
		put_be32(bhs + BHS_ITT, g_itt++);
		put_be32(bhs + BHS_CMDSN, g_cmdsn + 100000);	/* TEST UNIT READY, far ahead */
		if (send_pdu(fd, bhs, NULL, 0) < 0)
			return fail("send");
		if (ping(fd) < 0)
			return fail("ping after an out-of-window command");
		/* the dropped command must never be answered */
		return recv_pdu(fd, bhs, NULL, 0, 300) == -2 ? 0 :
			fail("out-of-window command was answered");
	}
	return fail("unknown scenario");
}
