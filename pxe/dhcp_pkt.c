#include "pxe/dhcp_pkt.h"

#include <errno.h>
#include <string.h>

#include "common/wire.h"

static const char *const err_names[DHCP_E_COUNT] = {
	[DHCP_OK]          = "ok",
	[DHCP_E_SHORT]     = "short",
	[DHCP_E_LONG]      = "long",
	[DHCP_E_MAGIC]     = "no_magic",
	[DHCP_E_OP]        = "not_request",
	[DHCP_E_HW]        = "not_ethernet",
	[DHCP_E_OPTLEN]    = "bad_option_length",
	[DHCP_E_OVERLOAD]  = "bad_overload",
	[DHCP_E_TOO_MANY]  = "too_many_options",
	[DHCP_E_TYPE]      = "bad_message_type",
};

const char *dhcp_err_name(enum dhcp_err e)
{
	return (unsigned)e < DHCP_E_COUNT ? err_names[e] : "unknown";
}

const char *dhcp_type_name(int type)
{
	static const char *const names[] = {
		"?", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM",
	};

	return type > 0 && type <= DHCPINFORM ? names[type] : "?";
}

/* Walks one option area: every option must lie wholly inside it. Stops at OPT_END; an area
 * that simply runs out without OPT_END is accepted (many ROMs pad with zeros instead). */
static enum dhcp_err check_area(const uint8_t *p, const uint8_t *end, unsigned *count)
{
	while (p < end) {
		uint8_t code = *p;

		if (code == OPT_END)
			return DHCP_OK;
		if (code == OPT_PAD) {
			p++;
			continue;
		}
		if (end - p < 2)
			return DHCP_E_OPTLEN;
		if (p[1] > end - p - 2)
			return DHCP_E_OPTLEN;
		if (++*count > DHCP_MAX_OPTIONS)
			return DHCP_E_TOO_MANY;
		p += 2 + p[1];
	}
	return DHCP_OK;
}

/* Looks for code in one area already checked by check_area. */
static const uint8_t *area_find(const uint8_t *p, const uint8_t *end, uint8_t code,
				size_t *len)
{
	while (p < end && *p != OPT_END) {
		if (*p == OPT_PAD) {
			p++;
			continue;
		}
		if (*p == code) {
			*len = p[1];
			return p + 2;
		}
		p += 2 + p[1];
	}
	return NULL;
}

const uint8_t *dhcp_opt_find(const struct dhcp_msg *m, uint8_t code, size_t minlen,
			     size_t *len)
{
	size_t l = 0;
	unsigned i;

	for (i = 0; i < m->nareas; i++) {
		const uint8_t *a = m->buf + m->areas[i].off;
		const uint8_t *d = area_find(a, a + m->areas[i].len, code, &l);

		if (d) {
			if (l < minlen)
				return NULL;
			if (len)
				*len = l;
			return d;
		}
	}
	return NULL;
}

int dhcp_opt_u32(const struct dhcp_msg *m, uint8_t code, uint32_t *out)
{
	const uint8_t *d = dhcp_opt_find(m, code, 4, NULL);

	if (!d)
		return -ENOENT;
	*out = get_be32(d);
	return 0;
}

int dhcp_opt_u16(const struct dhcp_msg *m, uint8_t code, uint16_t *out)
{
	const uint8_t *d = dhcp_opt_find(m, code, 2, NULL);

	if (!d)
		return -ENOENT;
	*out = (uint16_t)(d[0] << 8 | d[1]);
	return 0;
}

int dhcp_opt_str(const struct dhcp_msg *m, uint8_t code, char *out, size_t outlen)
{
	size_t len, n;
	const uint8_t *d = dhcp_opt_find(m, code, 0, &len);

	if (!d || outlen == 0)
		return -ENOENT;
	n = strnlen((const char *)d, len);
	if (n > outlen - 1)
		n = outlen - 1;
	memcpy(out, d, n);
	out[n] = '\0';
	return (int)n;
}

enum dhcp_err dhcp_parse(const uint8_t *buf, size_t len, struct dhcp_msg *m)
{
	const uint8_t *opts, *end = buf + len, *ov, *t;
	unsigned count = 0;
	size_t tlen;
	enum dhcp_err e;

	memset(m, 0, sizeof(*m));
	if (len < DHCP_MIN_LEN)
		return DHCP_E_SHORT;
	if (len > DHCP_MAX_LEN)
		return DHCP_E_LONG;
	if (get_be32(buf + DHCP_FIXED_LEN) != DHCP_MAGIC)
		return DHCP_E_MAGIC;
	m->buf = buf;
	m->len = len;
	m->op = buf[0];
	m->htype = buf[1];
	m->hlen = buf[2];
	m->hops = buf[3];
	m->xid = get_be32(buf + 4);
	m->secs = (uint16_t)(buf[8] << 8 | buf[9]);
	m->flags = (uint16_t)(buf[10] << 8 | buf[11]);
	m->ciaddr = get_be32(buf + 12);
	m->yiaddr = get_be32(buf + 16);
	m->siaddr = get_be32(buf + 20);
	m->giaddr = get_be32(buf + 24);
	memcpy(m->chaddr, buf + DHCP_OFF_CHADDR, 6);
	if (m->op != BOOTREQUEST)
		return DHCP_E_OP;
	if (m->htype != 1 || m->hlen != 6)
		return DHCP_E_HW;

	opts = buf + DHCP_MIN_LEN;
	e = check_area(opts, end, &count);
	if (e)
		return e;
	m->areas[0].off = DHCP_MIN_LEN;
	m->areas[0].len = (uint16_t)(len - DHCP_MIN_LEN);
	m->nareas = 1;

	/* Option overload (RFC 2132 9.3) only counts in the options field itself. */
	ov = area_find(opts, end, OPT_OVERLOAD, &tlen);
	if (ov) {
		if (tlen != 1 || ov[0] < 1 || ov[0] > 3)
			return DHCP_E_OVERLOAD;
		/* RFC 2131 4.1: file is searched before sname. */
		if (ov[0] & 1) {
			e = check_area(buf + DHCP_OFF_FILE, buf + DHCP_OFF_FILE + DHCP_FILE_LEN,
				       &count);
			if (e)
				return e;
			m->areas[m->nareas++] = (struct dhcp_area){ DHCP_OFF_FILE, DHCP_FILE_LEN };
		}
		if (ov[0] & 2) {
			e = check_area(buf + DHCP_OFF_SNAME,
				       buf + DHCP_OFF_SNAME + DHCP_SNAME_LEN, &count);
			if (e)
				return e;
			m->areas[m->nareas++] = (struct dhcp_area){ DHCP_OFF_SNAME, DHCP_SNAME_LEN };
		}
	}

	t = dhcp_opt_find(m, OPT_MSG_TYPE, 1, &tlen);
	if (!t || tlen != 1 || t[0] < DHCPDISCOVER || t[0] > DHCPINFORM)
		return DHCP_E_TYPE;
	m->type = t[0];
	return DHCP_OK;
}

void dhcp_reply_init(struct dhcp_reply *r, const struct dhcp_msg *req, uint8_t type)
{
	memset(r, 0, sizeof(*r));
	r->buf[0] = BOOTREPLY;
	r->buf[1] = 1;
	r->buf[2] = 6;
	put_be32(r->buf + 4, req->xid);
	r->buf[10] = (uint8_t)(req->flags >> 8);
	r->buf[11] = (uint8_t)req->flags;
	put_be32(r->buf + DHCP_OFF_GIADDR, req->giaddr);
	memcpy(r->buf + DHCP_OFF_CHADDR, req->chaddr, 6);
	put_be32(r->buf + DHCP_FIXED_LEN, DHCP_MAGIC);
	r->len = DHCP_MIN_LEN;
	dhcp_reply_opt_u8(r, OPT_MSG_TYPE, type);
}

void dhcp_reply_set_addr(struct dhcp_reply *r, size_t field_off, uint32_t addr)
{
	put_be32(r->buf + field_off, addr);
}

static int set_field(struct dhcp_reply *r, size_t off, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap)
		return -ENAMETOOLONG;
	memset(r->buf + off, 0, cap);
	memcpy(r->buf + off, s, n);
	return 0;
}

int dhcp_reply_set_file(struct dhcp_reply *r, const char *s)
{
	return set_field(r, DHCP_OFF_FILE, DHCP_FILE_LEN, s);
}

int dhcp_reply_opt(struct dhcp_reply *r, uint8_t code, const void *data, size_t len)
{
	if (len > 255)
		return -EINVAL;
	/* 2 header bytes, the data, and one byte kept for OPT_END. */
	if (len + 3 > sizeof(r->buf) - r->len) {
		r->overflow = 1;
		return -ENOSPC;
	}
	r->buf[r->len] = code;
	r->buf[r->len + 1] = (uint8_t)len;
	memcpy(r->buf + r->len + 2, data, len);
	r->len += 2 + len;
	return 0;
}

int dhcp_reply_opt_u32(struct dhcp_reply *r, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	return dhcp_reply_opt(r, code, b, 4);
}

int dhcp_reply_opt_u8(struct dhcp_reply *r, uint8_t code, uint8_t v)
{
	return dhcp_reply_opt(r, code, &v, 1);
}

int dhcp_reply_opt_str(struct dhcp_reply *r, uint8_t code, const char *s)
{
	return dhcp_reply_opt(r, code, s, strlen(s));
}

size_t dhcp_reply_finish(struct dhcp_reply *r)
{
	/* dhcp_reply_opt always leaves this byte free. */
	r->buf[r->len++] = OPT_END;
	if (r->len < DHCP_REPLY_MIN)
		r->len = DHCP_REPLY_MIN;	/* the buffer is zeroed: padding is PAD options */
	return r->len;
}
