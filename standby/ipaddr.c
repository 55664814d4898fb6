#include "standby/ipaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct addr_req {
	struct nlmsghdr nh;
	struct ifaddrmsg ifa;
	char attrs[64];
};

static void put_attr(struct addr_req *r, unsigned short type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* One request, one acknowledgement: returns the kernel's verdict as a negative errno. */
static int addr_request(int type, const char *ifname, uint32_t addr, unsigned prefix)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct addr_req req;
	char ans[512];
	uint32_t a = htonl(addr), b = htonl(addr | (prefix < 32 ? 0xffffffffu >> prefix : 0));
	unsigned ifindex = if_nametoindex(ifname);
	struct nlmsghdr *nh;
	ssize_t n;
	int fd, rc;

	if (!ifindex)
		return -ENODEV;
	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = (unsigned short)type;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK |
			     (type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_EXCL : 0);
	req.nh.nlmsg_seq = 1;
	req.ifa.ifa_family = AF_INET;
	req.ifa.ifa_prefixlen = (unsigned char)prefix;
	req.ifa.ifa_index = ifindex;
	put_attr(&req, IFA_LOCAL, &a, 4);
	put_attr(&req, IFA_ADDRESS, &a, 4);
	if (type == RTM_NEWADDR && prefix < 31)
		put_attr(&req, IFA_BROADCAST, &b, 4);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (sendto(fd, &req, req.nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		rc = -errno;
		goto out_close;
	}
	n = recv(fd, ans, sizeof(ans), 0);
	if (n < 0) {
		rc = -errno;
		goto out_close;
	}
	nh = (struct nlmsghdr *)ans;
	if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_type != NLMSG_ERROR ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		rc = -EPROTO;
		goto out_close;
	}
	rc = ((struct nlmsgerr *)NLMSG_DATA(nh))->error;
out_close:
	close(fd);
	return rc;
}

int ipaddr_add(const char *ifname, uint32_t addr, unsigned prefix)
{
	int rc = addr_request(RTM_NEWADDR, ifname, addr, prefix);

	return rc == -EEXIST ? 0 : rc;
}

int ipaddr_del(const char *ifname, uint32_t addr, unsigned prefix)
{
	int rc = addr_request(RTM_DELADDR, ifname, addr, prefix);

	return rc == -EADDRNOTAVAIL || rc == -ENOENT ? 0 : rc;
}

int ipaddr_is_local(uint32_t addr)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i && !found; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr) == addr)
			found = 1;
	freeifaddrs(ifa);
	return found;
}

int ipaddr_find_if(uint32_t addr, char ifname[IF_NAMESIZE], unsigned *prefix)
{
	struct ifaddrs *ifa, *i;
	int rc = -ENOENT;

	if (getifaddrs(&ifa) < 0)
		return -errno;
	for (i = ifa; i; i = i->ifa_next) {
		uint32_t a, m;

		if (!i->ifa_addr || !i->ifa_netmask || i->ifa_addr->sa_family != AF_INET)
			continue;
		a = ntohl(((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr);
		m = ntohl(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
		if (a == addr || m == 0 || (a & m) != (addr & m))
			continue;
		snprintf(ifname, IF_NAMESIZE, "%s", i->ifa_name);
		*prefix = (unsigned)__builtin_popcount(m);
		rc = 0;
		break;
	}
	freeifaddrs(ifa);
	return rc;
}
