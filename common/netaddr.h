/* Parsing and printing of the addresses admins type and packets carry. Every parser takes a
 * NUL-terminated string, accepts the whole string or nothing, and returns 0 or -EINVAL. */
#ifndef COMMON_NETADDR_H
#define COMMON_NETADDR_H

#include <stdint.h>
#include <netinet/in.h>

#define MAC_STRLEN 18	/* "aa:bb:cc:dd:ee:ff" and its NUL */

/* Accepts aa:bb:cc:dd:ee:ff, aa-bb-cc-dd-ee-ff and aabbccddeeff, any case. */
int mac_parse(const char *s, uint8_t mac[6]);
/* Writes the canonical lower-case colon form into out[MAC_STRLEN]. */
void mac_format(const uint8_t mac[6], char out[MAC_STRLEN]);
/* Rewrites a MAC string into canonical form; -EINVAL if it is not a MAC. */
int mac_canonical(const char *s, char out[MAC_STRLEN]);

/* Dotted-quad IPv4 only (no shorthand like "10.1"); *out in host byte order. */
int ipv4_parse(const char *s, uint32_t *out);
void ipv4_format(uint32_t addr, char out[INET_ADDRSTRLEN]);

#endif
