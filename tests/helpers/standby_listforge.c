/* A connection-list transfer (tickle ACKs) to a standbyd, made by hand for the HA tests:
 * the ENTRIES as given (no sorting, so a test can send them out of order), sent as NODE of
 * CLUSTER and signed with authkeys' ship key N:KEY (HMAC-SHA256), as a real active standbyd would
 * sign them. An ENTRY is LADDR:LPORT-RADDR:RPORT. Prints the receiver's answer:
 * "applied", "refused STATUS" or "closed".
 * usage: standby_listforge DEST_IP PORT CLUSTER NODE N:KEY [ENTRY...] */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/netaddr.h"
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

/* "10.77.0.100:47400-10.77.0.10:51234" into 12 wire bytes. */
static int parse_entry(const char *s, uint8_t *out)
{
	char la[16], ra[16];
	unsigned lp, rp;
	uint32_t l, r;

	if (sscanf(s, "%15[0-9.]:%u-%15[0-9.]:%u", la, &lp, ra, &rp) != 4 || lp > 65535 ||
	    rp > 65535 || ipv4_parse(la, &l) || ipv4_parse(ra, &r))
		return -1;
	l = htonl(l);
	r = htonl(r);
	memcpy(out, &l, 4);
	out[4] = (uint8_t)(lp >> 8);
	out[5] = (uint8_t)lp;
	memcpy(out + 6, &r, 4);
	out[10] = (uint8_t)(rp >> 8);
	out[11] = (uint8_t)rp;
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
	uint8_t payload[64 * CONN_WIRE_LEN];
	size_t len = 0;
	const char *key;
	uint32_t dest;
	unsigned idx;
	int fd, i;

	if (argc < 6 || argc - 6 > 64 || ipv4_parse(argv[1], &dest) ||
	    sscanf(argv[5], "%u:", &idx) != 1 || idx >= HA_MAX_KEYS ||
	    !(key = strchr(argv[5], ':'))) {
		fprintf(stderr, "usage: standby_listforge DEST PORT CLUSTER NODE N:KEY "
			"[LADDR:LPORT-RADDR:RPORT...]\n");
		return 2;
	}
	for (i = 6; i < argc; i++, len += CONN_WIRE_LEN)
		if (parse_entry(argv[i], payload + len)) {
			fprintf(stderr, "standby_listforge: bad entry %s\n", argv[i]);
			return 2;
		}
	signal(SIGPIPE, SIG_IGN);	/* a refusal may close before we are done writing */
	memset(&ak, 0, sizeof(ak));
	key++;
	ak.ship = idx;	/* as authkeys' "ship N": DB shipping's own key */
	ak.keys[idx].alg = HA_AUTH_SHA256;
	ak.keys[idx].keylen = strnlen(key, HA_KEY_MAX);
	memcpy(ak.keys[idx].key, key, ak.keys[idx].keylen);
	to.sin_addr.s_addr = htonl(dest);
	to.sin_port = htons((uint16_t)atoi(argv[2]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    read_full(fd, nonce, sizeof(nonce))) {
		printf("closed\n");
		close(fd);
		return 0;
	}
	memset(&h, 0, sizeof(h));
	h.key_index = (uint8_t)idx;
	h.type = SHIP_TYPE_CONNS;
	snprintf(h.cluster, sizeof(h.cluster), "%s", argv[3]);
	snprintf(h.node, sizeof(h.node), "%s", argv[4]);
	memcpy(h.nonce, nonce, sizeof(nonce));
	h.db_seq = 1;
	h.length = (uint32_t)len;
	ship_hdr_encode(&h, &ak, hdr);
	ship_trailer(&ak.keys[idx], hdr, payload, len, mac);
	if (write(fd, hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr) ||
	    write(fd, payload, len) != (ssize_t)len || write(fd, mac, sizeof(mac)) != sizeof(mac) ||
	    read_full(fd, reply, sizeof(reply)))
		printf("closed\n");
	else if (ship_reply_decode(reply, sizeof(reply), &ak.keys[idx], nonce, &r) != SHIP_OK)
		printf("bad answer\n");
	else if (r.status == 0)
		printf("applied\n");
	else
		printf("refused %d\n", r.status);
	close(fd);
	return 0;
}
