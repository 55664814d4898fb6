/* What standbyd reads off the LAN besides heartbeats: ARP frames (does someone else claim
 * the service address, the peer or a stranger?) and ICMP echo replies from ping nodes. Built
 * frames round trip; short, foreign and our own frames are not claims. */
#include <arpa/inet.h>
#include <string.h>

#include "standby/arp.h"
#include "standby/ping.h"
#include "tests/lib/tap.h"

static const uint8_t me[6] = { 0x02, 0, 0, 0, 0, 1 }, them[6] = { 0x02, 0, 0, 0, 0, 2 };
#define VIP 0x0a4d0064u	/* 10.77.0.100 */

static void test_arp(void)
{
	uint8_t f[ARP_FRAME_LEN + 4], who[6];
	size_t n;

	arp_build_probe(f, me, VIP);
	ok(memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0, "probe is broadcast");
	ok(f[21] == 1 && memcmp(f + 28, "\0\0\0\0", 4) == 0, "probe: request with sender 0.0.0.0");
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP, them, who), 0,
	       "a probe claims nothing (sender address 0)");
	arp_build_garp(f, them, VIP, 0);
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP, me, who), 1, "gratuitous request claims");
	ok(memcmp(who, them, 6) == 0, "claimer's MAC returned");
	arp_build_garp(f, them, VIP, 1);
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP, me, who), 1, "gratuitous reply claims");
	ok(f[21] == 2 && memcmp(f + 32, them, 6) == 0, "reply form: target MAC is the sender's");
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP, them, who), 0, "our own frame is no claim");
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP + 1, me, who), 0, "another address");
	for (n = 0; n < ARP_FRAME_LEN; n++)
		if (arp_frame_claims(f, n, VIP, me, who))
			break;
	is_int(n, ARP_FRAME_LEN, "every truncation refused");
	f[13] = 0x00;
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP, me, who), 0, "IPv4 ethertype: not ARP");
	arp_build_garp(f, them, VIP, 1);
	f[19] = 16;
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP, me, who), 0, "protocol length 16 refused");
	arp_build_garp(f, them, VIP, 1);
	f[21] = 3;
	is_int(arp_frame_claims(f, ARP_FRAME_LEN, VIP, me, who), 0, "RARP opcode refused");
}

/* The takeover guard: only the peer's MAC (from its heartbeat) holds a takeover back; any
 * other claimant is a stranger; with the peer's MAC unknown every claim is counted as its. */
static void test_arp_classify(void)
{
	static const uint8_t pc[6] = { 0x52, 0x54, 0, 0x12, 0, 0x42 };
	static const struct {
		const uint8_t *sender, *peer;
		uint32_t addr;
		enum arp_claim want;
		const char *what;
	} v[] = {
		{ them, them, VIP, ARP_CLAIM_HOLDER, "the peer's MAC: holder" },
		{ pc, them, VIP, ARP_CLAIM_STRANGER, "another MAC: stranger" },
		{ pc, NULL, VIP, ARP_CLAIM_HOLDER, "peer unknown: any claim counts as its" },
		{ them, NULL, VIP, ARP_CLAIM_HOLDER, "peer unknown, the peer itself: holder" },
		{ me, them, VIP, ARP_CLAIM_NONE, "our own frame: no claim" },
		{ pc, them, VIP + 1, ARP_CLAIM_NONE, "another address: no claim" },
	};
	uint8_t f[ARP_FRAME_LEN], who[6];
	size_t i, n;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(who, 0, sizeof(who));
		arp_build_garp(f, v[i].sender, v[i].addr, 1);
		is_int(arp_classify(f, ARP_FRAME_LEN, VIP, me, v[i].peer, who), v[i].want, "%s",
		       v[i].what);
		if (v[i].want != ARP_CLAIM_NONE)
			ok(memcmp(who, v[i].sender, 6) == 0, "%s: the claimant returned", v[i].what);
	}
	arp_build_garp(f, pc, VIP, 0);
	for (n = 0; n < ARP_FRAME_LEN; n++)
		if (arp_classify(f, n, VIP, me, them, who) != ARP_CLAIM_NONE)
			break;
	is_int(n, ARP_FRAME_LEN, "every truncation: no claim");
	/* the sender hardware address counts, not the Ethernet source */
	arp_build_garp(f, pc, VIP, 1);
	memcpy(f + 6, them, 6);
	is_int(arp_classify(f, ARP_FRAME_LEN, VIP, me, them, who), ARP_CLAIM_STRANGER,
	       "the peer's Ethernet source with another ARP sender: stranger");
}

static void test_icmp(void)
{
	uint8_t p[64];

	memset(p, 0, sizeof(p));
	p[0] = 0x45;
	p[20] = 0;		/* echo reply */
	p[24] = 0x12, p[25] = 0x34;
	is_int(icmp_is_echo_reply(p, 28, 0x1234), 1, "echo reply to our id");
	is_int(icmp_is_echo_reply(p, 28, 0x1235), 0, "another id");
	is_int(icmp_is_echo_reply(p, 27, 0x1234), 0, "short ICMP header refused");
	is_int(icmp_is_echo_reply(p, 19, 0x1234), 0, "short IP header refused");
	p[20] = 8;
	is_int(icmp_is_echo_reply(p, 28, 0x1234), 0, "echo request is no reply");
	p[20] = 0;
	p[0] = 0x4f;		/* 60-byte IP header */
	is_int(icmp_is_echo_reply(p, 28, 0x1234), 0, "IP header longer than the packet refused");
	p[0] = 0x44;
	is_int(icmp_is_echo_reply(p, 28, 0x1234), 0, "IP header under 20 bytes refused");
	p[0] = 0x65;
	is_int(icmp_is_echo_reply(p, 28, 0x1234), 0, "IPv6 version nibble refused");
}

int main(void)
{
	test_arp();
	test_arp_classify();
	test_icmp();
	return done_testing();
}
