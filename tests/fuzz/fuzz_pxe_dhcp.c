/* libFuzzer target for the DHCP request parser, its option accessors and the reply writer
 * fed with what a request carries (the server echoes chaddr, xid, flags and giaddr). */
#include <stddef.h>
#include <stdint.h>

#include "pxe/dhcp_pkt.h"
#include "pxe/pxe_class.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dhcp_msg m;
	struct dhcp_reply r;
	struct pxe_class c;
	char s[256];
	uint32_t v32;
	uint16_t v16;
	size_t len;
	int code;

	if (dhcp_parse(data, size, &m) != DHCP_OK)
		return 0;
	for (code = 1; code < 255; code++)
		(void)dhcp_opt_find(&m, (uint8_t)code, (size_t)code % 5, &len);
	(void)dhcp_opt_u32(&m, OPT_REQ_IP, &v32);
	(void)dhcp_opt_u16(&m, OPT_CLIENT_ARCH, &v16);
	(void)dhcp_opt_str(&m, OPT_VENDOR_CLASS, s, sizeof(s));
	(void)dhcp_opt_str(&m, OPT_HOSTNAME, s, 8);
	pxe_classify(&m, &c);
	dhcp_reply_init(&r, &m, DHCPOFFER);
	(void)dhcp_reply_opt_str(&r, OPT_VENDOR_CLASS, c.vendor);
	(void)dhcp_reply_finish(&r);
	return 0;
}
