/* Speaks raw iSCSI PDUs to vdiskd for robustness tests: each scenario sends something a
 * well-behaved initiator never would and checks the target's answer.
 *
 * usage: vdiskd_rawpdu PORT IQN SCENARIO [ARG]
 *   login          log in, ping with NOP-Out, log out
 *   hold SECONDS   log in and ping every 50 ms; fails if any ping goes unanswered
 *   answer SECONDS log in and, for SECONDS, only answer the target's NOP-Ins at once (an
 *                  idle OS's initiator); fails if the connection ends
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
 *   idle N SECS    N connections that never log in: prints "refused R dropped D open O":
 *                  closed by the target within 500 ms, later within SECS, still open
 *   hold-login SECS  the first login PDU (security stage, AuthMethod=CHAP), then nothing
 *                  for SECS: a login that never authenticates; 0 when the target answered
 *   flood N        log in with ImmediateData and a 256 KiB FirstBurstLength, then N 8 MiB
 *                  WRITE(10)s with 256 KiB of immediate data each, CmdSN counting on
 *                  whatever MaxCmdSN says; prints "sent N answered A full F", where F were
 *                  answered TASK SET FULL; 0 when a ping still works afterwards
 *   header-digest  log in asking for CRC32C header digests only: the final login response
 *                  carries none (its text right after the BHS), then a NOP-Out with a
 *                  digest is answered by a NOP-In with a valid one
 * The initiator name is iqn.2026-11.lan.vdisk.test:rawpdu, or $RAWPDU_INITIATOR. The target
 * is on loopback, or at $RAWPDU_ADDR; $RAWPDU_SRC binds our end to that address. With
 * $RAWPDU_CHAP_SECRET the login passes CHAP (MD5, CHAP_N the initiator name) first, and with
 * $RAWPDU_CHAP_TARGET_SECRET too it asks the target to prove itself (mutual CHAP).
 * Exit: 0 when the target behaved, 1 when it did not, 2 on usage. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vdisk-server/iscsi/iscsi_chap.h"
#include "vdisk-server/iscsi/iscsi_digest.h"
#include "vdisk-server/iscsi/iscsi_proto.h"

static const char *g_iqn;
static uint16_t g_port;
static uint32_t g_cmdsn, g_statsn, g_itt = 1, g_isid;

static int conn_open(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(g_port) };
	struct sockaddr_in src = { .sin_family = AF_INET };
	const char *addr = getenv("RAWPDU_ADDR"), *from = getenv("RAWPDU_SRC");
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || (addr && inet_pton(AF_INET, addr, &sin.sin_addr) != 1) ||
	    (from && (inet_pton(AF_INET, from, &src.sin_addr) != 1 ||
		      bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)) ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
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
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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
	put_be32(bhs + 10, g_isid);
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

/* One login PDU of the security stage; the answer's status, its text in ans (NUL-separated). */
static int security_step(int fd, const char *text, size_t len, int transit, char *ans,
			 size_t anslen)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { 0 };

	bhs[0] = ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE;
	bhs[1] = transit ? (uint8_t)(ISCSI_LOGIN_TRANSIT | ISCSI_STAGE_OPERATIONAL) : 0;
	bhs[8] = 0x80;
	put_be32(bhs + 10, g_isid);
	put_be32(bhs + BHS_ITT, g_itt);	/* the whole login's, login_text's too */
	put_be32(bhs + BHS_CMDSN, 1);
	memset(ans, 0, anslen);
	if (send_pdu(fd, bhs, text, (uint32_t)len) < 0 ||
	    recv_pdu(fd, bhs, (uint8_t *)ans, anslen - 1, 2000) < 0 ||
	    (bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_LOGIN_RSP)
		return -1;
	return bhs[36] << 8 | bhs[37];
}

/* The value of key in a NUL-separated answer, or NULL. */
static const char *ans_value(const char *ans, size_t len, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = ans; p < ans + len && *p; p += strlen(p) + 1)
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return p + kl + 1;
	return NULL;
}

/* CHAP in the security stage; the status of the last step, 0 when authenticated. */
static int chap_login(int fd, const char *ini, const char *target, const char *secret)
{
	const char *tsecret = getenv("RAWPDU_CHAP_TARGET_SECRET"), *i, *c;
	char text[1024], ans[8192], resp[2 * CHAP_MAX_BINARY + 3];
	uint8_t chal[CHAP_MAX_BINARY];
	static const uint8_t mine[16] = "rawpdu-challenge";
	size_t clen;
	int n, st;

	n = snprintf(text, sizeof(text), "InitiatorName=%s%cTargetName=%s%cSessionType=Normal%c"
		     "AuthMethod=CHAP%c", ini, 0, target, 0, 0, 0);
	st = security_step(fd, text, (size_t)n, 0, ans, sizeof(ans));
	if (st != 0)
		return st;
	n = snprintf(text, sizeof(text), "CHAP_A=5%c", 0);
	st = security_step(fd, text, (size_t)n, 0, ans, sizeof(ans));
	i = ans_value(ans, sizeof(ans), "CHAP_I");
	c = ans_value(ans, sizeof(ans), "CHAP_C");
	if (st != 0 || !i || !c || chap_decode(c, chal, sizeof(chal), &clen) < 0 ||
	    chap_answer(CHAP_ALG_MD5, (uint8_t)atoi(i), secret, chal, clen, resp,
			sizeof(resp)) < 0)
		return st ? st : -1;
	n = snprintf(text, sizeof(text), "CHAP_N=%s%cCHAP_R=%s%c", ini, 0, resp, 0);
	if (tsecret) {
		char hex[64];

		chap_hex(mine, sizeof(mine), hex, sizeof(hex));
		n += snprintf(text + n, sizeof(text) - (size_t)n, "CHAP_I=7%cCHAP_C=%s%c", 0, hex, 0);
	}
	st = security_step(fd, text, (size_t)n, 1, ans, sizeof(ans));
	if (st == 0 && tsecret) {
		char want[sizeof(resp)];
		const char *r = ans_value(ans, sizeof(ans), "CHAP_R");

		if (chap_answer(CHAP_ALG_MD5, 7, tsecret, mine, sizeof(mine), want,
				sizeof(want)) < 0 || !r || strcmp(r, want) != 0)
			return -2;	/* the target could not prove itself */
	}
	return st;
}

static int login(int fd, const char *target)
{
	const char *ini = getenv("RAWPDU_INITIATOR"), *secret = getenv("RAWPDU_CHAP_SECRET");
	char text[1024];
	int n;

	if (!ini)
		ini = "iqn.2026-11.lan.vdisk.test:rawpdu";
	g_isid = (uint32_t)getpid() ^ (uint32_t)rand();	/* a session of its own */
	if (secret) {
		int st = chap_login(fd, ini, target, secret);

		if (st != 0)
			return st;
		n = snprintf(text, sizeof(text), "HeaderDigest=None%cDataDigest=None%c"
			     "MaxRecvDataSegmentLength=65536%c", 0, 0, 0);
		return login_text(fd, text, (size_t)n);
	}
	n = snprintf(text, sizeof(text), "InitiatorName=%s%c"
		     "TargetName=%s%cSessionType=Normal%cHeaderDigest=None%c"
		     "DataDigest=None%cMaxRecvDataSegmentLength=65536%c",
		     ini, 0, target, 0, 0, 0, 0, 0);
	return login_text(fd, text, (size_t)n);
}

/* Answers the target's NOP-In in bhs: a NOP-Out echoing its TTT. */
static int answer_nop_in(int fd, const uint8_t *nop_in)
{
	uint8_t bhs[ISCSI_BHS_LEN] = { 0 };

	bhs[0] = ISCSI_OP_NOP_OUT | ISCSI_IMMEDIATE;
	bhs[1] = ISCSI_FLAG_FINAL;
	put_be32(bhs + BHS_ITT, ISCSI_RESERVED_TAG);
	put_be32(bhs + BHS_TTT, get_be32(nop_in + BHS_TTT));
	put_be32(bhs + BHS_CMDSN, g_cmdsn);
	put_be32(bhs + BHS_EXPSTATSN, g_statsn);
	return send_pdu(fd, bhs, NULL, 0);
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
		if ((bhs[0] & ISCSI_OPCODE_MASK) == ISCSI_OP_NOP_IN && get_be32(bhs + BHS_ITT) == itt)
			return 0;
		/* the target's own ping is answered, as an initiator must; anything else skipped */
		if ((bhs[0] & ISCSI_OPCODE_MASK) == ISCSI_OP_NOP_IN &&
		    get_be32(bhs + BHS_TTT) != ISCSI_RESERVED_TAG && answer_nop_in(fd, bhs) < 0)
			return -1;
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

/* n connections that send nothing; how the target ends them */
static int idle_conns(int n, int secs)
{
	int fds[4096], refused = 0, dropped = 0, open = 0;
	uint8_t b;

	if (n < 1 || n > 4096)
		return fail("idle: 1 to 4096 connections");
	for (int i = 0; i < n; i++)
		fds[i] = conn_open();
	usleep(500000);
	for (int i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };

		if (poll(&pfd, 1, 0) == 1 && read(fds[i], &b, 1) <= 0) {
			refused++;
			close(fds[i]);
			fds[i] = -1;
		}
	}
	for (int i = 0; i < n; i++) {
		struct pollfd pfd = { .fd = fds[i], .events = POLLIN };

		if (fds[i] < 0)
			continue;
		if (poll(&pfd, 1, secs * 1000) == 1 && read(fds[i], &b, 1) <= 0)
			dropped++;
		else
			open++;
		close(fds[i]);
	}
	printf("refused %d dropped %d open %d\n", refused, dropped, open);
	return 0;
}

/* Writes past any window, each with 256 KiB of immediate data; the answers read as they
 * come (the target's R2Ts for the rest are ignored). */
static int flood(int fd, int n)
{
	static uint8_t data[262144], in[1 << 16];
	uint8_t bhs[ISCSI_BHS_LEN];
	int answered = 0, full = 0;

	memset(data, 0xa5, sizeof(data));
	for (int i = 0; i < n; i++) {
		memset(bhs, 0, sizeof(bhs));
		bhs[0] = ISCSI_OP_SCSI_CMD;
		bhs[1] = ISCSI_FLAG_FINAL | ISCSI_CMD_WRITE;
		put_be32(bhs + BHS_ITT, g_itt++);
		put_be32(bhs + 20, 8u << 20);
		put_be32(bhs + BHS_CMDSN, g_cmdsn++);
		put_be32(bhs + BHS_EXPSTATSN, g_statsn);
		bhs[32] = 0x2a;			/* WRITE(10) of 16384 blocks at LBA 0 */
		put_be16(bhs + 39, 16384);
		if (send_pdu(fd, bhs, data, sizeof(data)) < 0)
			return fail("flood: the target closed the connection");
		while (recv_pdu(fd, bhs, in, sizeof(in), 0) == 0) {
			if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_SCSI_RSP)
				continue;
			answered++;
			full += bhs[3] == 0x28;
		}
	}
	while (recv_pdu(fd, bhs, in, sizeof(in), 500) == 0) {
		if ((bhs[0] & ISCSI_OPCODE_MASK) == ISCSI_OP_SCSI_RSP) {
			answered++;
			full += bhs[3] == 0x28;
		}
	}
	printf("sent %d answered %d full %d\n", n, answered, full);
	return ping(fd) == 0 ? 0 : fail("flood: no answer to a ping afterwards");
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
	if (strcmp(sc, "idle") == 0 && argc > 5)
		return idle_conns(atoi(argv[4]), atoi(argv[5]));
	fd = conn_open();
	if (strcmp(sc, "flood") == 0 && argc > 4) {
		static const char keys[] = "InitiatorName=iqn.2026-11.lan.vdisk.test:flood\0"
			"SessionType=Normal\0HeaderDigest=None\0DataDigest=None\0"
			"MaxRecvDataSegmentLength=65536\0ImmediateData=Yes\0InitialR2T=No\0"
			"FirstBurstLength=262144\0MaxBurstLength=16776192\0TargetName=";
		char text[1024];
		int len = (int)sizeof(keys) - 1;

		memcpy(text, keys, sizeof(keys) - 1);
		len += snprintf(text + len, sizeof(text) - (size_t)len, "%s", g_iqn) + 1;
		if (login_text(fd, text, (size_t)len) != 0)
			return fail("flood: login failed");
		return flood(fd, atoi(argv[4]));
	}
	if (strcmp(sc, "hold-login") == 0 && argc > 4) {
		char text[512];
		int len = snprintf(text, sizeof(text), "InitiatorName=%s%cTargetName=%s%c"
				   "SessionType=Normal%cAuthMethod=CHAP%c",
				   getenv("RAWPDU_INITIATOR") ? getenv("RAWPDU_INITIATOR") :
				   "iqn.2026-11.lan.vdisk.test:rawpdu", 0, g_iqn, 0, 0, 0);

		bhs[0] = ISCSI_OP_LOGIN_REQ | ISCSI_IMMEDIATE;
		bhs[8] = 0x80;
		put_be32(bhs + BHS_ITT, g_itt++);
		put_be32(bhs + BHS_CMDSN, 1);
		if (send_pdu(fd, bhs, text, (uint32_t)len) < 0 ||
		    recv_pdu(fd, bhs, NULL, 0, 2000) < 0 ||
		    (bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_LOGIN_RSP)
			return fail("hold-login: no answer to the first login PDU");
		sleep((unsigned)atoi(argv[4]));
		return 0;
	}
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
	if (strcmp(sc, "answer") == 0 && argc > 4) {
		uint64_t end = now_ms() + (uint64_t)atoi(argv[4]) * 1000;

		while (now_ms() < end) {
			int rc = recv_pdu(fd, bhs, NULL, 0, (int)(end - now_ms()));

			if (rc == -2)
				break;	/* quiet until the end */
			if (rc < 0)
				return fail("the connection ended while answering pings");
			if ((bhs[0] & ISCSI_OPCODE_MASK) != ISCSI_OP_NOP_IN ||
			    get_be32(bhs + BHS_TTT) == ISCSI_RESERVED_TAG)
				continue;
			if (answer_nop_in(fd, bhs) < 0)
				return fail("send");
		}
		return logout(fd) == 0 ? 0 : fail("logout failed");
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
