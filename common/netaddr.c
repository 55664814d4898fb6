#include "common/netaddr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int mac_parse(const char *s, uint8_t mac[6])
{
	size_t len = strlen(s);
	int i;

	if (len == 12) {
		for (i = 0; i < 6; i++) {
			int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			mac[i] = (uint8_t)(hi << 4 | lo);
		}
		return 0;
	}
	if (len != 17)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		/* Both separators must be the same kind throughout. */
		if (i < 5 && p[2] != s[2])
			return -EINVAL;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (s[2] != ':' && s[2] != '-')
		return -EINVAL;
	return 0;
}

void mac_format(const uint8_t mac[6], char out[MAC_STRLEN])
{
	snprintf(out, MAC_STRLEN, "%02x:%02x:%02x:%02x:%02x:%02x",
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int mac_canonical(const char *s, char out[MAC_STRLEN])
{
	uint8_t mac[6];

	if (mac_parse(s, mac))
		return -EINVAL;
	mac_format(mac, out);
	return 0;
}

int ipv4_parse(const char *s, uint32_t *out)
{
	struct in_addr a;

	/* inet_pton takes exactly four decimal parts, no leading zeros trick, no shorthand. */
	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

void ipv4_format(uint32_t addr, char out[INET_ADDRSTRLEN])
{
	struct in_addr a = { .s_addr = htonl(addr) };

	inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}
