/* Hostile heartbeats for the HA tests, sent from the client LAN to the heartbeat port:
 *   replay: one real heartbeat (from FILE, else the first one received, of NODE if given)
 *           sent again COUNT times;
 *   forge:  well-formed packets from NODE in CLUSTER signed with a wrong key;
 *   future: packets from NODE signed with the right key N:KEY (as one who broke a weak key
 *           would) claiming a boot generation a day ahead;
 *   garbage: short and random packets;
 * and, not hostile, an old peer:
 *   v1peer: NODE as a standbyd from before heartbeat version 2 runs it, active and holding
 *           the address: COUNT version 1 heartbeats signed with N:KEY, one per INTERVAL_MS,
 *           while it counts what it receives by version; prints "v1 N v2 M".
 * usage: standby_inject MODE DEST_IP PORT COUNT INTERVAL_MS [CLUSTER NODE [N:KEY] | FILE]
 *
 * Heartbeats unicast between the servers do not reach a PC on a switched LAN: capture takes
 * one where it passes (run in the switch's namespace on a node's port, as one who mirrors
 * that port or poisons ARP to get in the path would):
 *        standby_inject capture IF NODE FILE     (5 s at most) */
#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common/netaddr.h"
#include "standby/fsm.h"
#include "standby/hbpkt.h"

/* N:KEY into ak as sha256 key N, the active one. 0 or -1. */
static int key_arg(const char *arg, struct ha_authkeys *ak)
{
	const char *key = strchr(arg, ':');
	unsigned idx = (unsigned)atoi(arg);

	if (!key || idx < 1 || idx >= HA_MAX_KEYS) {
		fprintf(stderr, "standby_inject: want N:KEY, not '%s'\n", arg);
		return -1;
	}
	memset(ak, 0, sizeof(*ak));
	ak->active = idx;
	ak->keys[idx].alg = HA_AUTH_SHA256;
	ak->keys[idx].keylen = strnlen(key + 1, HA_KEY_MAX);
	memcpy(ak->keys[idx].key, key + 1, ak->keys[idx].keylen);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Counts the heartbeats from others that arrive on fd until the wall clock reaches until. */
static void count_rx(int fd, const char *self, uint64_t until, unsigned *v1, unsigned *v2)
{
	uint8_t buf[HB_LEN + 1];
	ssize_t n;

	while (now_ms() < until) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < HB_V1_LEN || strncmp((char *)buf + 40, self, 32) == 0)
			continue;
		*v1 += n == HB_V1_LEN && buf[4] == 1;
		*v2 += n == HB_LEN && buf[4] == 2;
	}
}

static int old_peer(int fd, struct sockaddr_in *to, int count, int interval, char **argv)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_port = to->sin_port };
	struct timeval tv = { 0, 10000 };
	struct ha_authkeys ak;
	uint8_t pkt[HB_LEN];
	struct hb_msg m;
	unsigned v1 = 0, v2 = 0;
	int i;

	if (key_arg(argv[8], &ak))
		return 2;
	if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
		perror("bind");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	memset(&m, 0, sizeof(m));
	m.version = 1;
	m.key_index = (uint8_t)ak.active;
	m.state = FSM_ACTIVE;
	m.flags = HB_F_HOLDING;
	snprintf(m.cluster, sizeof(m.cluster), "%s", argv[6]);
	snprintf(m.node, sizeof(m.node), "%s", argv[7]);
	m.boot_gen = now_ms() * 1000;
	m.repl = HB_REPL_IN_SYNC;
	for (i = 0; i < count; i++) {
		m.seq = (uint64_t)i + 1;
		m.time_ms = now_ms();
		m.active_since = m.boot_gen / 1000;
		if (hb_encode(&m, &ak, pkt) != HB_V1_LEN ||
		    sendto(fd, pkt, HB_V1_LEN, 0, (struct sockaddr *)to, sizeof(*to)) < 0)
			perror("sendto");
		count_rx(fd, m.node, m.time_ms + (uint64_t)interval, &v1, &v2);
	}
	printf("v1 %u v2 %u\n", v1, v2);
	return 0;
}

/* The UDP payload of an IPv4 packet, or NULL. */
static const uint8_t *udp_payload(const uint8_t *p, size_t n, size_t *len)
{
	size_t ihl;

	if (n < 20 || (p[0] >> 4) != 4 || p[9] != 17)
		return NULL;
	ihl = (size_t)(p[0] & 0xf) * 4;
	if (ihl < 20 || n < ihl + 8)
		return NULL;
	*len = n - ihl - 8;
	return p + ihl + 8;
}

static int capture(const char *ifname, const char *node, const char *file)
{
	/* ETH_P_ALL: a bridge port's frames reach only the taps, not a protocol's handlers */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				   .sll_ifindex = (int)if_nametoindex(ifname) };
	struct timeval tv = { 0, 100000 };
	uint64_t deadline = now_ms() + 5000;
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	uint8_t buf[2048];
	FILE *f;

	if (fd < 0 || !sll.sll_ifindex || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		perror(ifname);
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (now_ms() < deadline) {
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		const uint8_t *hb;
		size_t len;

		hb = n > 0 && from.sll_protocol == htons(ETH_P_IP) ?
		     udp_payload(buf, (size_t)n, &len) : NULL;
		if (!hb || len != HB_LEN || memcmp(hb, "SBHB", 4) != 0 ||
		    strncmp((const char *)hb + 40, node, 32) != 0)
			continue;
		f = fopen(file, "w");
		if (!f || fwrite(hb, 1, len, f) != len || fclose(f)) {
			perror(file);
			return 1;
		}
		return 0;
	}
	fprintf(stderr, "standby_inject: no heartbeat of %s on %s\n", node, ifname);
	return 1;
}

/* A heartbeat saved by capture. Returns its length or -1. */
static ssize_t load(const char *file, uint8_t *pkt, size_t size)
{
	FILE *f = fopen(file, "r");
	size_t n = f ? fread(pkt, 1, size, f) : 0;

	if (f)
		fclose(f);
	return n == HB_LEN || n == HB_V1_LEN ? (ssize_t)n : -1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET }, any = { .sin_family = AF_INET };
	uint8_t pkt[HB_LEN + 8];
	uint32_t dest;
	int fd, one = 1, count, interval, i;
	ssize_t len = HB_LEN;

	if (argc == 5 && strcmp(argv[1], "capture") == 0)
		return capture(argv[2], argv[3], argv[4]);
	if (argc < 6 || ipv4_parse(argv[2], &dest)) {
		fprintf(stderr, "usage: standby_inject replay|forge|future|garbage|v1peer DEST PORT "
			"COUNT INTERVAL_MS [CLUSTER NODE [N:KEY]]\n");
		return 2;
	}
	to.sin_addr.s_addr = htonl(dest);
	to.sin_port = any.sin_port = htons((uint16_t)atoi(argv[3]));
	count = atoi(argv[4]);
	interval = atoi(argv[5]);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (strcmp(argv[1], "replay") == 0 && argc == 7) {
		len = load(argv[6], pkt, sizeof(pkt));
		if (len < 0) {
			fprintf(stderr, "standby_inject: no heartbeat in %s\n", argv[6]);
			return 1;
		}
	} else if (strcmp(argv[1], "replay") == 0) {
		struct timeval tv = { 5, 0 };

		if (bind(fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
			perror("bind");
			return 1;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		/* With NODE given, only that node's heartbeat will do. */
		do
			len = recv(fd, pkt, sizeof(pkt), 0);
		while (len == HB_LEN && argc == 8 && strncmp((char *)pkt + 40, argv[7], 32) != 0);
		if (len != HB_LEN) {
			fprintf(stderr, "standby_inject: no heartbeat captured\n");
			return 1;
		}
	} else if (strcmp(argv[1], "v1peer") == 0 && argc == 9) {
		return old_peer(fd, &to, count, interval, argv);
	} else if ((strcmp(argv[1], "forge") == 0 && argc == 8) ||
		   (strcmp(argv[1], "future") == 0 && argc == 9)) {
		int future = argv[1][1] == 'u';
		struct ha_authkeys ak;
		struct hb_msg m;
		struct timespec ts;

		if (key_arg(future ? argv[8] : "1:wrong", &ak))
			return 2;
		memset(&m, 0, sizeof(m));
		m.key_index = (uint8_t)ak.active;
		m.state = FSM_ACTIVE;
		snprintf(m.cluster, sizeof(m.cluster), "%s", argv[6]);
		snprintf(m.node, sizeof(m.node), "%s", argv[7]);
		clock_gettime(CLOCK_REALTIME, &ts);
		m.boot_gen = (uint64_t)ts.tv_sec * 1000000 + (future ? 86400000000ull : 999999999ull);
		m.time_ms = (uint64_t)ts.tv_sec * 1000;
		m.seq = 1;
		m.repl = HB_REPL_IN_SYNC;
		hb_encode(&m, &ak, pkt);
	} else if (strcmp(argv[1], "garbage") != 0) {
		fprintf(stderr, "standby_inject: unknown mode '%s'\n", argv[1]);
		return 2;
	}
	srand((unsigned)getpid());
	for (i = 0; i < count; i++) {
		if (strcmp(argv[1], "garbage") == 0) {
			size_t k;

			len = rand() % (HB_LEN + 8);
			for (k = 0; k < (size_t)len; k++)
				pkt[k] = (uint8_t)rand();
			if (len >= 4)
				memcpy(pkt, "SBHB", 4);
		} else if (strcmp(argv[1], "forge") == 0) {
			pkt[80 + 7]++;	/* a fresh sequence each time; the MAC is wrong anyway */
		}
		/* future: the same signed packet each time; the first one accepted is enough */
		if (sendto(fd, pkt, (size_t)len, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
			perror("sendto");
		usleep((useconds_t)interval * 1000);
	}
	return 0;
}
