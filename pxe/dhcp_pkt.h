/* DHCP wire format (RFC 2131, 2132): reading requests through bounded accessors and writing
 * replies with a bounded writer. Nothing here knows about leases, clients or sockets.
 *
 * A received packet is never cast to a struct: dhcp_parse() checks the fixed part and walks
 * every option area once (the options field, then file and sname when option 52 overloads
 * them), so that every later dhcp_opt_find() only looks at options known to lie inside the
 * packet. */
#ifndef PXE_DHCP_PKT_H
#define PXE_DHCP_PKT_H

#include <stddef.h>
#include <stdint.h>

#define DHCP_FIXED_LEN    236	/* op .. file */
#define DHCP_MAGIC        0x63825363u
#define DHCP_MIN_LEN      (DHCP_FIXED_LEN + 4)
/* Our receive buffer: an Ethernet frame's UDP payload. Longer datagrams are dropped. */
#define DHCP_MAX_LEN      1472
/* A request carrying more options than this is an attack or garbage, not a client. */
#define DHCP_MAX_OPTIONS  255
/* Every DHCP client must accept a 576-byte IP datagram (RFC 2131 2): our replies fit it. */
#define DHCP_REPLY_MAX    (576 - 28)
/* BOOTP relays and old ROMs expect at least the 300-byte BOOTP size. */
#define DHCP_REPLY_MIN    300

#define DHCP_OFF_CHADDR   28
#define DHCP_OFF_SNAME    44
#define DHCP_OFF_FILE     108
#define DHCP_SNAME_LEN    64
#define DHCP_FILE_LEN     128

#define BOOTREQUEST 1
#define BOOTREPLY   2
#define DHCP_FLAG_BROADCAST 0x8000

enum dhcp_type {
	DHCPDISCOVER = 1, DHCPOFFER, DHCPREQUEST, DHCPDECLINE,
	DHCPACK, DHCPNAK, DHCPRELEASE, DHCPINFORM,
};

enum dhcp_opt {
	OPT_PAD = 0, OPT_SUBNET_MASK = 1, OPT_ROUTER = 3, OPT_DNS = 6, OPT_HOSTNAME = 12,
	OPT_BROADCAST = 28, OPT_VENDOR = 43, OPT_REQ_IP = 50, OPT_LEASE_TIME = 51,
	OPT_OVERLOAD = 52, OPT_MSG_TYPE = 53, OPT_SERVER_ID = 54, OPT_PARAM_LIST = 55,
	OPT_MESSAGE = 56, OPT_MAX_SIZE = 57, OPT_T1 = 58, OPT_T2 = 59, OPT_VENDOR_CLASS = 60,
	OPT_CLIENT_ID = 61, OPT_TFTP_SERVER = 66, OPT_BOOTFILE = 67, OPT_USER_CLASS = 77,
	OPT_RELAY_INFO = 82, OPT_IPXE_ENCAP = 175,
	OPT_CLIENT_ARCH = 93, OPT_CLIENT_NDI = 94, OPT_CLIENT_UUID = 97, OPT_END = 255,
};

/* Why a packet was dropped; each has a counter in the server. */
enum dhcp_err {
	DHCP_OK = 0,
	DHCP_E_SHORT,		/* shorter than the fixed part plus the magic cookie */
	DHCP_E_LONG,		/* longer than DHCP_MAX_LEN (truncated on receive) */
	DHCP_E_MAGIC,		/* no magic cookie: BOOTP or garbage */
	DHCP_E_OP,		/* not a BOOTREQUEST */
	DHCP_E_HW,		/* not Ethernet (htype 1, hlen 6) */
	DHCP_E_OPTLEN,		/* an option runs past the end of its area */
	DHCP_E_OVERLOAD,	/* option 52 with a bad length or value */
	DHCP_E_TOO_MANY,	/* more than DHCP_MAX_OPTIONS options */
	DHCP_E_TYPE,		/* option 53 missing, badly sized or unknown */
	DHCP_E_COUNT
};

const char *dhcp_err_name(enum dhcp_err e);
const char *dhcp_type_name(int type);

/* An area of the packet holding options: offset and length into the packet. */
struct dhcp_area {
	uint16_t off, len;
};

/* A validated request. Points into the caller's buffer, which must outlive it. Addresses are
 * in host byte order. */
struct dhcp_msg {
	const uint8_t *buf;
	size_t len;
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[6];
	uint8_t type;			/* option 53 */
	struct dhcp_area areas[3];	/* options, then file and sname if overloaded */
	unsigned nareas;
};

/* Checks buf[0..len) as a DHCP request and fills *m. Returns DHCP_OK or why it is bad. */
enum dhcp_err dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m);

/* The first option `code` in the packet's areas (options, file, sname: RFC 2131 4.1) whose
 * length is at least minlen. Returns a pointer to its data and sets *len, or NULL when absent
 * or shorter than minlen (a short option is as good as none). len may be NULL. */
const uint8_t *dhcp_opt_find(const struct dhcp_msg *m, uint8_t code, size_t minlen,
			     size_t *len);
/* Option as a 32-bit value or IPv4 address (host order); -ENOENT when absent or short. */
int dhcp_opt_u32(const struct dhcp_msg *m, uint8_t code, uint32_t *out);
int dhcp_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *out);
/* Option as text: copies at most outlen - 1 bytes, stops at a NUL inside the option, always
 * NUL-terminates. Returns the copied length or -ENOENT. */
int dhcp_opt_str(const struct dhcp_msg *m, uint8_t code, char *out, size_t outlen);

/* Reply writer: never writes past DHCP_REPLY_MAX and always keeps room for OPT_END. */
struct dhcp_reply {
	uint8_t buf[DHCP_REPLY_MAX];
	size_t len;
	int overflow;		/* an option did not fit: it was left out */
};

/* Starts a BOOTREPLY to req: copies xid, flags, giaddr, chaddr; sets the cookie and option
 * 53. Other fixed fields are zero until set with the helpers below. */
void dhcp_reply_init(struct dhcp_reply *r, const struct dhcp_msg *req, uint8_t type);
void dhcp_reply_set_addr(struct dhcp_reply *r, size_t field_off, uint32_t addr);
#define DHCP_OFF_CIADDR 12
#define DHCP_OFF_YIADDR 16
#define DHCP_OFF_SIADDR 20
#define DHCP_OFF_GIADDR 24
/* Copies s into the file field; -ENAMETOOLONG if it does not fit with its NUL. */
int dhcp_reply_set_file(struct dhcp_reply *r, const char *s);
/* Appends an option; -ENOSPC (and overflow set) if it would not fit, -EINVAL if len > 255. */
int dhcp_reply_opt(struct dhcp_reply *r, uint8_t code, const void *data, size_t len);
int dhcp_reply_opt_u32(struct dhcp_reply *r, uint8_t code, uint32_t v);
int dhcp_reply_opt_u8(struct dhcp_reply *r, uint8_t code, uint8_t v);
int dhcp_reply_opt_str(struct dhcp_reply *r, uint8_t code, const char *s);
/* Writes OPT_END and pads to DHCP_REPLY_MIN; returns the length to send. */
size_t dhcp_reply_finish(struct dhcp_reply *r);

#endif
