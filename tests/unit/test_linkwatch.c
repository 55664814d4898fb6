/* The carrier watch's reading of rtnetlink link messages: only the watched interface counts,
 * only a change is reported, a deleted link is forgotten, and short or truncated messages are
 * skipped without reading past the datagram. */
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "common/linkwatch.h"
#include "tests/lib/tap.h"

#define CARRIER 0x10000		/* IFF_LOWER_UP */

static int calls, last_up;

static void changed(void *arg, int up)
{
	(void)arg;
	calls++;
	last_up = up;
}

struct msg {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
};

static size_t put(uint8_t *buf, uint16_t type, int ifindex, unsigned flags)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.nh.nlmsg_len = NLMSG_LENGTH(sizeof(m.ifi));
	m.nh.nlmsg_type = type;
	m.ifi.ifi_index = ifindex;
	m.ifi.ifi_flags = flags;
	memcpy(buf, &m, sizeof(m));
	return NLMSG_ALIGN(m.nh.nlmsg_len);
}

int main(void)
{
	struct linkwatch lw;
	uint8_t buf[512] __attribute__((aligned(4)));
	size_t n;

	memset(&lw, 0, sizeof(lw));
	lw.ifindex = 7;
	lw.up = 1;
	lw.changed = changed;
	snprintf(lw.ifname, sizeof(lw.ifname), "ha0");

	n = put(buf, RTM_NEWLINK, 7, IFF_UP | CARRIER);
	linkwatch_input(&lw, buf, n);
	ok(calls == 0, "the same state again: nothing reported");
	n = put(buf, RTM_NEWLINK, 3, IFF_UP);
	linkwatch_input(&lw, buf, n);
	ok(calls == 0, "another interface loses its carrier: nothing reported");
	n = put(buf, RTM_NEWLINK, 3, IFF_UP);
	n += put(buf + n, RTM_NEWLINK, 7, IFF_UP);
	linkwatch_input(&lw, buf, n);
	ok(calls == 1 && last_up == 0 && lw.up == 0, "ours loses its carrier (second message of "
	   "the datagram): reported down");
	n = put(buf, RTM_NEWLINK, 7, CARRIER);
	linkwatch_input(&lw, buf, n);
	ok(calls == 1, "carrier without IFF_UP is still down");
	n = put(buf, RTM_NEWLINK, 7, IFF_UP | CARRIER);
	linkwatch_input(&lw, buf, n);
	ok(calls == 2 && last_up == 1, "back up: reported");

	n = put(buf, RTM_NEWLINK, 7, IFF_UP);
	linkwatch_input(&lw, buf, n - 1);
	ok(calls == 2, "a message cut short by the datagram's end is skipped");
	n = put(buf, RTM_NEWLINK, 7, IFF_UP);
	((struct nlmsghdr *)buf)->nlmsg_len = NLMSG_LENGTH(2);
	linkwatch_input(&lw, buf, n);
	ok(calls == 2, "a message too short for its ifinfomsg is skipped");
	((struct nlmsghdr *)buf)->nlmsg_len = 4000;
	linkwatch_input(&lw, buf, n);
	ok(calls == 2, "a length past the datagram is not followed");

	lw.peer = 0x0100007f;	/* 127.0.0.1: found again over lo, which never loses its carrier */
	n = put(buf, RTM_DELLINK, 7, 0);
	linkwatch_input(&lw, buf, n);
	ok(calls == 3 && last_up == 0 && lw.ifindex == 0, "our interface deleted: reported down, "
	   "forgotten");
	n = put(buf, RTM_NEWLINK, 3, IFF_UP);
	linkwatch_input(&lw, buf, n);
	ok(lw.ifindex == if_nametoindex("lo") && lw.up, "the next link event looks the interface "
	   "up again from the route to the peer");
	printf("1..%d\n", tap_count);
	return tap_failed != 0;
}
