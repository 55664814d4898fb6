/* Watches, from the client's side, for the service address to answer ARP at a MAC other
 * than the old one: sends an ARP request every 5 ms (libpcap) and prints the wall clock in
 * ms of the first reply from another MAC, and that MAC. Exit 0, or 1 after the time limit. */
#include <arpa/inet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "common/netaddr.h"

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	char err[PCAP_ERRBUF_SIZE];
	uint8_t old[6], me[6], frame[42];
	uint32_t target, self;
	struct ifreq ifr;
	uint64_t deadline, next = 0;
	pcap_t *pc;
	int s;

	if (argc != 6 || ipv4_parse(argv[2], &target) || ipv4_parse(argv[3], &self) ||
	    mac_parse(argv[4], old)) {
		fprintf(stderr, "usage: standby_arpwatch IF TARGET_IP OWN_IP OLD_MAC TIMEOUT_MS\n");
		return 2;
	}
	s = socket(AF_INET, SOCK_DGRAM, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	if (ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
		perror(argv[1]);
		return 1;
	}
	close(s);
	memcpy(me, ifr.ifr_hwaddr.sa_data, 6);
	pc = pcap_create(argv[1], err);
	if (!pc || pcap_set_immediate_mode(pc, 1) || pcap_set_snaplen(pc, 64) ||
	    pcap_activate(pc) < 0 || pcap_setnonblock(pc, 1, err) < 0) {
		fprintf(stderr, "pcap %s: %s\n", argv[1], pc ? pcap_geterr(pc) : err);
		return 1;
	}
	memset(frame, 0xff, 6);
	memcpy(frame + 6, me, 6);
	memcpy(frame + 12, "\x08\x06\x00\x01\x08\x00\x06\x04\x00\x01", 10);
	memcpy(frame + 22, me, 6);
	self = htonl(self);
	memcpy(frame + 28, &self, 4);
	memset(frame + 32, 0, 6);
	target = htonl(target);
	memcpy(frame + 38, &target, 4);
	deadline = wall_ms() + (uint64_t)atoi(argv[5]);
	while (wall_ms() < deadline) {
		struct pcap_pkthdr *h;
		const u_char *p;
		int rc;

		if (wall_ms() >= next) {
			pcap_inject(pc, frame, sizeof(frame));
			next = wall_ms() + 5;
		}
		while ((rc = pcap_next_ex(pc, &h, &p)) == 1) {
			char mac[MAC_STRLEN];

			if (h->caplen < 42 || p[12] != 0x08 || p[13] != 0x06 || p[21] != 2 ||
			    memcmp(p + 28, &target, 4) != 0 || memcmp(p + 22, old, 6) == 0 ||
			    memcmp(p + 22, me, 6) == 0)
				continue;
			mac_format(p + 22, mac);
			printf("%llu %s\n", (unsigned long long)wall_ms(), mac);
			fflush(stdout);
			pcap_close(pc);
			return 0;
		}
		usleep(1000);
	}
	pcap_close(pc);
	return 1;
}
