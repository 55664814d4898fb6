/* Carrier of the interface towards one address; see linkwatch.h. */
#include "common/linkwatch.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

/* LINK_CARRIER (the carrier) is in <linux/if.h>, which clashes with <net/if.h> */
#define LINK_CARRIER 0x10000

/* The interface whose address the kernel would send from to reach lw->peer. */
static void find_interface(struct linkwatch *lw)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) }, local;
	socklen_t len = sizeof(local);
	struct ifaddrs *ifs, *i;
	int fd;

	to.sin_addr.s_addr = lw->peer;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	/* a UDP connect sends nothing: it only picks the route and the source address */
	if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &len) < 0) {
		close(fd);
		return;
	}
	close(fd);
	if (getifaddrs(&ifs) < 0)
		return;
	for (i = ifs; i; i = i->ifa_next) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)i->ifa_addr;

		if (a && a->sin_family == AF_INET && a->sin_addr.s_addr == local.sin_addr.s_addr) {
			lw->ifindex = if_nametoindex(i->ifa_name);
			snprintf(lw->ifname, sizeof(lw->ifname), "%s", i->ifa_name);
			lw->up = (i->ifa_flags & IFF_UP) && (i->ifa_flags & LINK_CARRIER);
			break;
		}
	}
	freeifaddrs(ifs);
}

void linkwatch_input(struct linkwatch *lw, const void *buf, size_t len)
{
	const struct nlmsghdr *nh;
	size_t left = len;

	if (!lw->ifindex)
		find_interface(lw);
	for (nh = buf; NLMSG_OK(nh, left); nh = NLMSG_NEXT(nh, left)) {
		const struct ifinfomsg *ifi = NLMSG_DATA(nh);
		int up;

		if ((nh->nlmsg_type != RTM_NEWLINK && nh->nlmsg_type != RTM_DELLINK) ||
		    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)) || !lw->ifindex ||
		    (unsigned)ifi->ifi_index != lw->ifindex)
			continue;
		up = nh->nlmsg_type == RTM_NEWLINK && (ifi->ifi_flags & IFF_UP) &&
		     (ifi->ifi_flags & LINK_CARRIER);
		if (nh->nlmsg_type == RTM_DELLINK)
			lw->ifindex = 0;	/* gone: found again from the route later */
		if (up == lw->up)
			continue;
		lw->up = up;
		log_notice("link %s: carrier %s", lw->ifname, up ? "back" : "lost");
		lw->changed(lw->arg, up);
	}
}

static void on_readable(struct ev_io *io, uint32_t events)
{
	struct linkwatch *lw = io->arg;
	uint8_t buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	ssize_t n;

	(void)events;
	while ((n = recv(lw->fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		linkwatch_input(lw, buf, (size_t)n);
}

int linkwatch_open(struct linkwatch *lw, struct evloop *loop, const char *peer,
		   void (*changed)(void *arg, int up), void *arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	struct in_addr a;
	int rc;

	memset(lw, 0, sizeof(*lw));
	lw->fd = -1;
	if (inet_pton(AF_INET, peer, &a) != 1)
		return -EINVAL;
	lw->loop = loop;
	lw->peer = a.s_addr;
	lw->changed = changed;
	lw->arg = arg;
	lw->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	if (lw->fd < 0)
		return -errno;
	if (bind(lw->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto out_close;
	}
	rc = ev_io_add(loop, &lw->io, lw->fd, EPOLLIN, on_readable, lw);
	if (rc < 0)
		goto out_close;
	find_interface(lw);
	return 0;
out_close:
	close(lw->fd);
	lw->fd = -1;
	return rc;
}

void linkwatch_close(struct linkwatch *lw)
{
	if (lw->fd < 0)
		return;
	ev_io_del(lw->loop, &lw->io);
	close(lw->fd);
	lw->fd = -1;
}
