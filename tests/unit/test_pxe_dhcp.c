/* DHCP parser and reply writer: good packets read back, every kind of malformed packet is
 * rejected with its own reason, and the writer never overflows its buffer. */
#include <errno.h>
#include <string.h>

#include "pxe/dhcp_pkt.h"
#include "pxe/pxe_class.h"
#include "tests/lib/tap.h"

static uint8_t pkt[2048];

/* A DISCOVER from 52:54:00:00:00:01 with options appended by the caller after offset 240. */
static size_t base(uint8_t type)
{
	memset(pkt, 0, sizeof(pkt));
	pkt[0] = BOOTREQUEST;
	pkt[1] = 1;
	pkt[2] = 6;
	pkt[4] = 0x12; pkt[5] = 0x34; pkt[6] = 0x56; pkt[7] = 0x78;
	pkt[10] = 0x80;
	memcpy(pkt + DHCP_OFF_CHADDR, "\x52\x54\x00\x00\x00\x01", 6);
	memcpy(pkt + 236, "\x63\x82\x53\x63", 4);
	pkt[240] = OPT_MSG_TYPE;
	pkt[241] = 1;
	pkt[242] = type;
	return 243;
}

static size_t add(size_t off, const void *bytes, size_t n)
{
	memcpy(pkt + off, bytes, n);
	return off + n;
}

int main(void)
{
	struct dhcp_msg m;
	struct dhcp_reply r;
	struct pxe_class c;
	char s[80];
	size_t len, l, i;
	uint32_t v32;
	uint16_t v16;
	const uint8_t *d;

	/* A well-formed PXE DISCOVER. */
	len = base(DHCPDISCOVER);
	len = add(len, "\x3c\x09PXEClient", 11);
	len = add(len, "\x5d\x02\x00\x07", 4);
	len = add(len, "\x32\x04\x0a\x00\x00\x05", 6);
	len = add(len, "\xff", 1);
	is_int(dhcp_parse(pkt, len, &m), DHCP_OK, "PXE DISCOVER parses");
	is_int(m.type, DHCPDISCOVER, "message type");
	is_int(m.xid, 0x12345678, "xid");
	is_int(m.flags, DHCP_FLAG_BROADCAST, "broadcast flag");
	ok(memcmp(m.chaddr, "\x52\x54\x00\x00\x00\x01", 6) == 0, "chaddr");
	is_int(dhcp_opt_str(&m, OPT_VENDOR_CLASS, s, sizeof(s)), 9, "option 60 length");
	is_str(s, "PXEClient", "option 60 text");
	is_int(dhcp_opt_u16(&m, OPT_CLIENT_ARCH, &v16), 0, "option 93 read");
	is_int(v16, 7, "option 93 = EFI x64");
	is_int(dhcp_opt_u32(&m, OPT_REQ_IP, &v32), 0, "option 50 read");
	is_int(v32, 0x0a000005, "option 50 value");
	ok(dhcp_opt_find(&m, OPT_CLIENT_ARCH, 3, NULL) == NULL, "option shorter than minsize is absent");
	is_int(dhcp_opt_u32(&m, OPT_SERVER_ID, &v32), -ENOENT, "absent option");
	is_int(dhcp_opt_str(&m, OPT_VENDOR_CLASS, s, 4), 3, "text cut to the buffer");
	is_str(s, "PXE", "cut text NUL-terminated");

	/* Padding without OPT_END is accepted; zeros are PAD. */
	len = base(DHCPREQUEST);
	is_int(dhcp_parse(pkt, 300, &m), DHCP_OK, "no END, zero padding: accepted");
	is_int(m.type, DHCPREQUEST, "REQUEST");

	/* Malformed vectors, each with its reason. */
	base(DHCPDISCOVER);
	is_int(dhcp_parse(pkt, 0, &m), DHCP_E_SHORT, "empty packet");
	is_int(dhcp_parse(pkt, 100, &m), DHCP_E_SHORT, "truncated in the fixed part");
	is_int(dhcp_parse(pkt, 239, &m), DHCP_E_SHORT, "truncated in the magic cookie");
	is_int(dhcp_parse(pkt, DHCP_MAX_LEN + 1, &m), DHCP_E_LONG, "longer than an Ethernet payload");
	is_int(dhcp_parse(pkt, 240, &m), DHCP_E_TYPE, "no options at all: no message type");
	is_int(dhcp_parse(pkt, 242, &m), DHCP_E_OPTLEN, "truncated inside option 53");
	pkt[236] = 0;
	is_int(dhcp_parse(pkt, 243, &m), DHCP_E_MAGIC, "bad magic cookie");
	base(DHCPDISCOVER);
	pkt[0] = BOOTREPLY;
	is_int(dhcp_parse(pkt, 243, &m), DHCP_E_OP, "BOOTREPLY from a client port");
	base(DHCPDISCOVER);
	pkt[2] = 16;
	is_int(dhcp_parse(pkt, 243, &m), DHCP_E_HW, "hlen 16");
	base(DHCPDISCOVER);
	pkt[1] = 6;
	is_int(dhcp_parse(pkt, 243, &m), DHCP_E_HW, "htype IEEE 802");

	len = base(DHCPDISCOVER);
	len = add(len, "\x3c\xff" "PXE", 5);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_OPTLEN, "option length 255 past the end");
	len = base(DHCPDISCOVER);
	len = add(len, "\x3c", 1);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_OPTLEN, "option code with no length byte");
	len = base(DHCPDISCOVER);
	pkt[241] = 0;
	pkt[242] = OPT_END;
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_TYPE, "message type of length 0");
	len = base(DHCPDISCOVER);
	pkt[241] = 2;
	len = add(len, "\x00\xff", 2);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_TYPE, "message type of length 2");
	len = base(9);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_TYPE, "message type 9");
	len = base(0);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_TYPE, "message type 0");

	/* Huge counts: many tiny options. */
	len = base(DHCPDISCOVER);
	for (i = 0; i < 300; i++)
		len = add(len, "\x0c\x00", 2);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_TOO_MANY, "300 options rejected");
	len = base(DHCPDISCOVER);
	for (i = 0; i < 200; i++)
		len = add(len, "\x0c\x00", 2);
	is_int(dhcp_parse(pkt, len, &m), DHCP_OK, "200 options accepted");
	len = base(DHCPDISCOVER);
	for (i = 0; len < DHCP_MAX_LEN; i++)
		pkt[len++] = OPT_PAD;
	is_int(dhcp_parse(pkt, len, &m), DHCP_OK, "a full packet of PAD is fine");

	/* Option overload: message type and option 60 in the file field. */
	len = base(DHCPDISCOVER);
	pkt[240] = OPT_OVERLOAD;
	pkt[241] = 1;
	pkt[242] = 1;
	len = add(len, "\xff", 1);
	memcpy(pkt + DHCP_OFF_FILE, "\x35\x01\x03\x3c\x04iPXE\xff", 10);
	is_int(dhcp_parse(pkt, len, &m), DHCP_OK, "overloaded file field parses");
	is_int(m.type, DHCPREQUEST, "message type from the file field");
	is_int(dhcp_opt_str(&m, OPT_VENDOR_CLASS, s, sizeof(s)), 4, "option from the file field");
	pkt[242] = 2;
	memcpy(pkt + DHCP_OFF_SNAME, "\x35\x01\x01\xff", 4);
	is_int(dhcp_parse(pkt, len, &m), DHCP_OK, "overloaded sname parses");
	is_int(m.type, DHCPDISCOVER, "message type from sname");
	pkt[242] = 3;
	is_int(dhcp_parse(pkt, len, &m), DHCP_OK, "file and sname overloaded");
	is_int(m.type, DHCPREQUEST, "file is searched before sname");
	pkt[242] = 4;
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_OVERLOAD, "overload value 4");
	pkt[242] = 0;
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_OVERLOAD, "overload value 0");
	pkt[241] = 2;
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_OVERLOAD, "overload of length 2");
	pkt[241] = 1;
	pkt[242] = 1;
	memcpy(pkt + DHCP_OFF_FILE, "\x35\x01\x03\x3c\x7fiPXE", 9);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_OPTLEN, "option overrunning the file field");
	memset(pkt + DHCP_OFF_FILE, 0, DHCP_FILE_LEN);
	memcpy(pkt + DHCP_OFF_FILE + DHCP_FILE_LEN - 2, "\x3c\x01", 2);
	is_int(dhcp_parse(pkt, len, &m), DHCP_E_OPTLEN, "option overrunning into sname");
	/* Not overloaded: the same bytes in file are a boot file name, not options. */
	len = base(DHCPDISCOVER);
	memcpy(pkt + DHCP_OFF_FILE, "\x3c\xff", 2);
	is_int(dhcp_parse(pkt, len, &m), DHCP_OK, "file field ignored without overload");
	ok(dhcp_opt_find(&m, OPT_VENDOR_CLASS, 0, NULL) == NULL, "no options read from it");

	/* Client kinds. */
	len = base(DHCPDISCOVER);
	len = add(len, "\x3c\x20PXEClient:Arch:00000:UNDI:002001\x5d\x02\x00\x00\xff", 39);
	dhcp_parse(pkt, len, &m);
	pxe_classify(&m, &c);
	ok(c.kind == PXE_KIND_ROM && c.arch == 0, "BIOS PXE ROM");
	is_str(pxe_rom_file(c.arch, "undionly.kpxe", "snponly.efi"), "undionly.kpxe", "BIOS gets undionly.kpxe");
	is_str(pxe_rom_file(7, "undionly.kpxe", "snponly.efi"), "snponly.efi", "EFI x64 gets the EFI build");
	is_str(pxe_rom_file(9, "undionly.kpxe", "snponly.efi"), "snponly.efi", "EFI BC too");
	ok(pxe_rom_file(11, "undionly.kpxe", "snponly.efi") == NULL, "ARM64 gets nothing");
	len = base(DHCPDISCOVER);
	len = add(len, "\x3c\x09PXEClient\x4d\x04iPXE\xff", 17);
	dhcp_parse(pkt, len, &m);
	pxe_classify(&m, &c);
	ok(c.kind == PXE_KIND_IPXE && c.arch == -1, "iPXE by its user class, before PXEClient");
	len = base(DHCPDISCOVER);
	len = add(len, "\x4d\x0a\x04" "abcd" "\x04iPXE\xff", 13);
	dhcp_parse(pkt, len, &m);
	pxe_classify(&m, &c);
	ok(c.kind == PXE_KIND_IPXE, "iPXE in an RFC 3004 user class list");
	len = base(DHCPDISCOVER);
	len = add(len, "\x4d\x05\x09iPXE\xff", 8);
	dhcp_parse(pkt, len, &m);
	pxe_classify(&m, &c);
	ok(c.kind == PXE_KIND_PLAIN, "user class item longer than the option: plain client");

	/* Reply writer. */
	len = base(DHCPDISCOVER);
	dhcp_parse(pkt, len, &m);
	dhcp_reply_init(&r, &m, DHCPOFFER);
	dhcp_reply_set_addr(&r, DHCP_OFF_YIADDR, 0x0a000064);
	is_int(dhcp_reply_set_file(&r, "undionly.kpxe"), 0, "file set");
	memset(s, 'x', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	{
		char longname[DHCP_FILE_LEN + 1];

		memset(longname, 'f', DHCP_FILE_LEN);
		longname[DHCP_FILE_LEN] = '\0';
		is_int(dhcp_reply_set_file(&r, longname), -ENAMETOOLONG,
		       "a 128-byte file name does not fit with its NUL");
	}
	is_int(dhcp_reply_opt_u32(&r, OPT_SERVER_ID, 0x0a000001), 0, "option written");
	for (i = 0; i < 100; i++)
		if (dhcp_reply_opt(&r, OPT_MESSAGE, s, 40))
			break;
	ok(r.overflow && r.len <= sizeof(r.buf) - 1, "writer stops before the end, keeps room for END");
	is_int(dhcp_reply_opt(&r, OPT_MESSAGE, s, 256), -EINVAL, "option of 256 bytes refused");
	l = dhcp_reply_finish(&r);
	ok(l <= DHCP_REPLY_MAX && r.buf[l - 1] == OPT_END, "finished reply ends with END");

	/* A reply parses back once turned into a request. */
	dhcp_reply_init(&r, &m, DHCPACK);
	dhcp_reply_opt_u32(&r, OPT_LEASE_TIME, 3600);
	l = dhcp_reply_finish(&r);
	is_int(l, DHCP_REPLY_MIN, "short reply padded to 300 bytes");
	r.buf[0] = BOOTREQUEST;
	is_int(dhcp_parse(r.buf, l, &m), DHCP_OK, "reply re-parses");
	is_int(m.type, DHCPACK, "its type");
	d = dhcp_opt_find(&m, OPT_LEASE_TIME, 4, &l);
	ok(d && l == 4 && d[2] == 0x0e && d[3] == 0x10, "its lease time");
	is_int(m.xid, 0x12345678, "xid echoed");
	is_int(m.flags, DHCP_FLAG_BROADCAST, "flags echoed");
	return done_testing();
}
