/* A DB transfer to a standbyd, made by hand for the HA tests: the snapshot of DBFILE sent as
 * NODE of CLUSTER, signed with authkeys' ship key N:KEY (HMAC-SHA256), in one of these ways:
 *   good     what a real active standbyd sends (the positive control)
 *   wrongkey header and trailer signed with KEY, which the test makes a wrong one
 *   badmac   right header, the payload's MAC broken
 *   replay   a good transfer to a challenge of our own making, not the receiver's
 *   garbage  136 random bytes where the header goes
 * Prints the receiver's answer: "applied SEQ", "refused STATUS SEQ" or "closed".
 * usage: standby_shipforge MODE DEST_IP PORT CLUSTER NODE N:KEY DBFILE */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "db/ship.h"
#include "standby/shippkt.h"

static int read_full(int fd, uint8_t *buf, size_t n)
{
	size_t off = 0;

	while (off < n) {
		ssize_t r = read(fd, buf + off, n - off);

		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 5 };
	struct ha_authkeys ak;
	struct ship_hdr h;
	struct ship_reply r;
	uint8_t nonce[SHIP_NONCE_LEN], hdr[SHIP_HDR_LEN], mac[SHIP_MAC_LEN], reply[SHIP_REPLY_LEN];
	unsigned char *snap;
	const char *mode;
	struct db *db;
	size_t len, i;
	int64_t seq;
	const char *key;
	uint32_t dest;
	unsigned idx;
	int fd;

	if (argc != 8 || ipv4_parse(argv[2], &dest) || sscanf(argv[6], "%u:", &idx) != 1 ||
	    idx >= HA_MAX_KEYS || !(key = strchr(argv[6], ':'))) {
		fprintf(stderr, "usage: standby_shipforge good|wrongkey|badmac|replay|garbage DEST "
			"PORT CLUSTER NODE N:KEY DBFILE\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);	/* a refusal may close before we are done writing */
	mode = argv[1];
	memset(&ak, 0, sizeof(ak));
	key++;
	ak.ship = idx;	/* as authkeys' "ship N": DB shipping's own key */
	ak.keys[idx].alg = HA_AUTH_SHA256;
	ak.keys[idx].keylen = strnlen(key, HA_KEY_MAX);
	memcpy(ak.keys[idx].key, key, ak.keys[idx].keylen);
	if (db_open(argv[7], 0, &db, NULL) ||
	    db_ship_snapshot(db, &snap, &len, &seq)) {
		fprintf(stderr, "standby_shipforge: cannot snapshot %s\n", argv[7]);
		return 1;
	}
	to.sin_addr.s_addr = htonl(dest);
	to.sin_port = htons((uint16_t)atoi(argv[3]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    read_full(fd, nonce, sizeof(nonce))) {
		printf("closed\n");
		goto out;
	}
	memset(&h, 0, sizeof(h));
	h.key_index = (uint8_t)idx;
	snprintf(h.cluster, sizeof(h.cluster), "%s", argv[4]);
	snprintf(h.node, sizeof(h.node), "%s", argv[5]);
	memcpy(h.nonce, nonce, sizeof(nonce));
	if (strcmp(mode, "replay") == 0)
		memset(h.nonce, 0x5a, sizeof(h.nonce));
	h.db_seq = seq;
	h.length = (uint32_t)len;
	ship_hdr_encode(&h, &ak, hdr);
	ship_trailer(&ak.keys[idx], hdr, snap, len, mac);
	if (strcmp(mode, "badmac") == 0)
		mac[0] ^= 1;
	if (strcmp(mode, "garbage") == 0)
		for (i = 0; i < sizeof(hdr); i++)
			hdr[i] = (uint8_t)random();
	/* The receiver may close as soon as the header is refused: later writes may fail. */
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    write(fd, snap, len) != (ssize_t)len || write(fd, mac, sizeof(mac)) != sizeof(mac) ||
	    read_full(fd, reply, sizeof(reply)))
		printf("closed\n");
	else if (ship_reply_decode(reply, sizeof(reply), &ak.keys[idx], nonce, &r) != SHIP_OK)
		printf("bad answer\n");
	else if (r.status == 0)
		printf("applied %lld\n", (long long)r.db_seq);
	else
		printf("refused %d %lld\n", r.status, (long long)r.db_seq);
out:
	close(fd);
	db_ship_free(snap);
	db_close(db);
	return 0;
}
