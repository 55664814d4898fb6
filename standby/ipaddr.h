/* The service address on a local interface: added and removed through rtnetlink (needs
 * CAP_NET_ADMIN), looked up with getifaddrs. Addresses in host byte order. */
#ifndef STANDBY_IPADDR_H
#define STANDBY_IPADDR_H

#include <net/if.h>
#include <stdint.h>

/* Adds addr/prefix to ifname; an address already there counts as success. */
int ipaddr_add(const char *ifname, uint32_t addr, unsigned prefix);
/* Removes it; an address already gone counts as success. */
int ipaddr_del(const char *ifname, uint32_t addr, unsigned prefix);
/* 1 if addr is configured on any local interface, else 0. */
int ipaddr_is_local(uint32_t addr);
/* The interface (and its prefix) whose IPv4 subnet holds addr, other than addr itself:
 * where IPaddr puts an address given without PREFIX/IF. -ENOENT when none. */
int ipaddr_find_if(uint32_t addr, char ifname[IF_NAMESIZE], unsigned *prefix);

#endif
