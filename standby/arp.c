#include "standby/arp.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static int if_ioctl(const char *ifname, unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", ifname);
	if (ioctl(fd, req, ifr) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int if_running(const char *ifname)
{
	struct ifreq ifr;
	int rc = if_ioctl(ifname, SIOCGIFFLAGS, &ifr);

	if (rc)
		return rc;
	return (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}

#define FD_SEEN_MAX 1024

/* Marks in seen the descriptors open now (those at or above FD_SEEN_MAX are not tracked). */
static void fds_open(unsigned char *seen)
{
	DIR *dir = opendir("/proc/self/fd");
	struct dirent *e;

	memset(seen, 0, FD_SEEN_MAX / 8);
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		int fd = atoi(e->d_name);

		if (e->d_name[0] != '.' && fd >= 0 && fd < FD_SEEN_MAX)
			seen[fd / 8] |= (unsigned char)(1u << (fd % 8));
	}
	closedir(dir);
}

/* libpcap opens its packet socket and (1.10 and later) an eventfd without close-on-exec,
 * and gives no way to reach the eventfd: every descriptor opened since before (not in
 * before) gets FD_CLOEXEC, so that none reaches a script or pxed. */
static void cloexec_new_fds(const unsigned char *before)
{
	unsigned char now[FD_SEEN_MAX / 8];
	int fd;

	fds_open(now);
	for (fd = 3; fd < FD_SEEN_MAX; fd++)
		if ((now[fd / 8] & (1u << (fd % 8))) && !(before[fd / 8] & (1u << (fd % 8)))) {
			int fl = fcntl(fd, F_GETFD);

			if (fl >= 0 && !(fl & FD_CLOEXEC))
				fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
		}
}

int arp_open(struct arp_port *p, const char *ifname, uint32_t addr, char *errbuf,
	     size_t errlen)
{
	unsigned char before[FD_SEEN_MAX / 8];
	char pcap_err[PCAP_ERRBUF_SIZE] = "", filter[64];
	struct bpf_program prog;
	struct ifreq ifr;
	pcap_t *pc;
	int rc;

	memset(p, 0, sizeof(*p));
	p->fd = -1;
	snprintf(p->ifname, sizeof(p->ifname), "%s", ifname);
	rc = if_ioctl(ifname, SIOCGIFHWADDR, &ifr);
	if (rc) {
		snprintf(errbuf, errlen, "%s: %s", ifname, strerror(-rc));
		return rc;
	}
	memcpy(p->mac, ifr.ifr_hwaddr.sa_data, 6);

	fds_open(before);
	pc = pcap_create(ifname, pcap_err);
	if (!pc) {
		snprintf(errbuf, errlen, "pcap %s: %s", ifname, pcap_err);
		return -ENODEV;
	}
	/* Immediate mode: a probe answer must reach us at once, not when a buffer fills. It also
	 * makes libpcap use TPACKET_V2 (one ring slot a frame, no block timeout), so that a
	 * read returning fewer frames than asked has emptied the ring: arp_read's callers take
	 * a short batch for that. */
	if (pcap_set_snaplen(pc, 128) || pcap_set_immediate_mode(pc, 1) ||
	    pcap_set_promisc(pc, 0) || pcap_activate(pc) < 0)
		goto out_pcap_err;
	/* Our own injected frames are outgoing: only what others send is evidence. */
	pcap_setdirection(pc, PCAP_D_IN);
	/* Only frames whose sender claims addr (arp[14:4], the sender's protocol address) reach
	 * us: the rest of the LAN's ARP is none of our business. */
	snprintf(filter, sizeof(filter), "arp and arp[14:4] = %u", addr);
	if (pcap_compile(pc, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) < 0)
		goto out_pcap_err;
	rc = pcap_setfilter(pc, &prog);
	pcap_freecode(&prog);
	if (rc < 0 || pcap_setnonblock(pc, 1, pcap_err) < 0)
		goto out_pcap_err;
	p->fd = pcap_get_selectable_fd(pc);
	if (p->fd < 0)
		goto out_pcap_err;
	if (fcntl(p->fd, F_SETFD, FD_CLOEXEC) < 0) {
		snprintf(errbuf, errlen, "pcap %s: close-on-exec: %s", ifname, strerror(errno));
		pcap_close(pc);
		return -EIO;
	}
	cloexec_new_fds(before);
	p->pcap = pc;
	return 0;

out_pcap_err:
	snprintf(errbuf, errlen, "pcap %s: %s", ifname, pcap_geterr(pc));
	pcap_close(pc);
	return -EIO;
}

void arp_close(struct arp_port *p)
{
	if (p->pcap)
		pcap_close(p->pcap);
	p->pcap = NULL;
	p->fd = -1;
}

/* Ethernet + ARP header for IPv4; sha/spa/tha/tpa follow. */
static void build(uint8_t *o, const uint8_t *dst, const uint8_t mac[6], uint16_t op,
		  uint32_t spa, const uint8_t *tha, uint32_t tpa)
{
	uint32_t v;

	memcpy(o, dst, 6);
	memcpy(o + 6, mac, 6);
	o[12] = 0x08, o[13] = 0x06;		/* ARP */
	o[14] = 0x00, o[15] = 0x01;		/* Ethernet */
	o[16] = 0x08, o[17] = 0x00;		/* IPv4 */
	o[18] = 6, o[19] = 4;
	o[20] = (uint8_t)(op >> 8), o[21] = (uint8_t)op;
	memcpy(o + 22, mac, 6);
	v = htonl(spa);
	memcpy(o + 28, &v, 4);
	memcpy(o + 32, tha, 6);
	v = htonl(tpa);
	memcpy(o + 38, &v, 4);
}

void arp_build_probe(uint8_t *out, const uint8_t mac[6], uint32_t addr)
{
	static const uint8_t zero[6];

	build(out, bcast_mac, mac, 1, 0, zero, addr);
}

/* Gratuitous: sender and target are both the address. The request form updates caches that
 * ignore replies they did not ask for; the reply form, those that ignore requests. */
void arp_build_garp(uint8_t *out, const uint8_t mac[6], uint32_t addr, int reply)
{
	static const uint8_t zero[6];

	build(out, bcast_mac, mac, reply ? 2 : 1, addr, reply ? mac : zero, addr);
}

static int inject(struct arp_port *p, const uint8_t *frame)
{
	if (!p->pcap)
		return -EBADF;
	if (pcap_inject(p->pcap, frame, ARP_FRAME_LEN) != ARP_FRAME_LEN)
		return -EIO;
	return 0;
}

int arp_send_probe(struct arp_port *p, uint32_t addr)
{
	uint8_t f[ARP_FRAME_LEN];

	arp_build_probe(f, p->mac, addr);
	return inject(p, f);
}

int arp_send_garp(struct arp_port *p, uint32_t addr)
{
	uint8_t f[ARP_FRAME_LEN];
	int rc;

	arp_build_garp(f, p->mac, addr, 0);
	rc = inject(p, f);
	arp_build_garp(f, p->mac, addr, 1);
	return rc ? rc : inject(p, f);
}

int arp_frame_claims(const uint8_t *f, size_t len, uint32_t addr, const uint8_t mac[6],
		     uint8_t sender_mac[6])
{
	uint32_t spa;

	if (len < ARP_FRAME_LEN)
		return 0;
	if (f[12] != 0x08 || f[13] != 0x06 || f[14] != 0 || f[15] != 1 || f[16] != 0x08 ||
	    f[17] != 0 || f[18] != 6 || f[19] != 4 || f[20] != 0 || (f[21] != 1 && f[21] != 2))
		return 0;
	memcpy(&spa, f + 28, 4);
	if (ntohl(spa) != addr || memcmp(f + 22, mac, 6) == 0)
		return 0;
	if (sender_mac)
		memcpy(sender_mac, f + 22, 6);
	return 1;
}

enum arp_claim arp_classify(const uint8_t *frame, size_t len, uint32_t addr,
			    const uint8_t own[6], const uint8_t *peer, uint8_t sender[6])
{
	uint8_t who[6];

	if (!arp_frame_claims(frame, len, addr, own, who))
		return ARP_CLAIM_NONE;
	memcpy(sender, who, 6);
	return !peer || memcmp(who, peer, 6) == 0 ? ARP_CLAIM_HOLDER : ARP_CLAIM_STRANGER;
}

struct read_ctx {
	void (*fn)(void *arg, const uint8_t *frame, size_t len);
	void *arg;
};

static void on_frame(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct read_ctx *c = (struct read_ctx *)arg;

	c->fn(c->arg, bytes, h->caplen);
}

int arp_drops(struct arp_port *p, uint32_t *n)
{
	struct pcap_stat st;

	/* ps_drop: what the capture's buffer had no room for (on Linux, the kernel's count,
	 * summed by libpcap since the capture opened); not ps_ifdrop, the interface's drops of
	 * anything at all */
	if (!p->pcap)
		return -EBADF;
	if (pcap_stats(p->pcap, &st) < 0)
		return -EIO;
	*n = st.ps_drop;
	return 0;
}

int arp_read(struct arp_port *p, void (*fn)(void *arg, const uint8_t *frame, size_t len),
	     void *arg)
{
	struct read_ctx c = { fn, arg };
	int n;

	if (!p->pcap)
		return -EBADF;
	n = pcap_dispatch(p->pcap, ARP_READ_BATCH, on_frame, (u_char *)&c);
	return n < 0 ? -EIO : n;
}
