/* iSCSI text keys; see iscsi_keys.h. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/iscsi/iscsi_keys.h"

/* RFC 7143 6.1: key names use letters, digits, '.', '-', '+', '@', '_'. */
static int key_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '+' || c == '@' || c == '_';
}

int iscsi_text_parse(char *text, size_t len, struct iscsi_kv *kv, int max)
{
	char *p = text, *end = text + len;
	int n = 0;

	*end = '\0';	/* the caller left room: a missing final NUL ends the last pair */
	while (p < end) {
		size_t plen = strnlen(p, (size_t)(end - p));
		char *eq;

		if (plen == 0) {	/* padding NULs at the end are tolerated */
			p++;
			continue;
		}
		eq = memchr(p, '=', plen);
		if (!eq || eq == p || eq - p > ISCSI_KEY_NAME_MAX)
			return -EINVAL;
		if ((size_t)(p + plen - eq - 1) > ISCSI_KEY_VALUE_MAX)
			return -EINVAL;
		for (char *c = p; c < eq; c++)
			if (!key_char_ok(*c))
				return -EINVAL;
		if (n == max)
			return -E2BIG;
		*eq = '\0';
		kv[n].key = p;
		kv[n].value = eq + 1;
		n++;
		p += plen + 1;
	}
	return n;
}

int iscsi_text_out_init(struct iscsi_text_out *t, size_t cap)
{
	t->len = 0;
	t->cap = cap;
	t->overflow = 0;
	t->buf = malloc(cap);
	return t->buf ? 0 : -ENOMEM;
}

void iscsi_text_out_free(struct iscsi_text_out *t)
{
	free(t->buf);
	t->buf = NULL;
}

void iscsi_text_add(struct iscsi_text_out *t, const char *key, const char *fmt, ...)
{
	va_list ap;
	size_t room = t->cap - t->len;
	int n, m;

	if (t->overflow)
		return;
	n = snprintf(t->buf + t->len, room, "%s=", key);
	if (n < 0 || (size_t)n >= room)
		goto overflow;
	va_start(ap, fmt);
	m = vsnprintf(t->buf + t->len + n, room - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)n + (size_t)m >= room)
		goto overflow;
	t->len += (size_t)n + (size_t)m + 1;	/* keep the NUL: it separates pairs */
	return;
overflow:
	t->overflow = 1;
}

void iscsi_params_rfc_default(struct iscsi_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_recv_dsl = 8192;
	p->max_burst = 262144;
	p->first_burst = 65536;
	p->max_outstanding_r2t = 1;
	p->time2wait = 2;
	p->time2retain = 20;
	p->max_connections = 1;
	p->erl = 0;
	p->initial_r2t = 1;
	p->immediate_data = 1;
	p->data_pdu_in_order = 1;
	p->data_seq_in_order = 1;
}

int iscsi_parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v = 0;
	int base = 10, digits = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	for (; *s; s++, digits++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -EINVAL;
		v = v * (unsigned)base + (unsigned)d;
		if (v > UINT32_MAX)
			return -EINVAL;
	}
	if (!digits)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	if (strcmp(s, "Yes") == 0)
		*out = 1;
	else if (strcmp(s, "No") == 0)
		*out = 0;
	else
		return -EINVAL;
	return 0;
}

enum key_kind {
	KEY_MIN,	/* numeric, result is the smaller */
	KEY_MAX,	/* numeric, result is the larger */
	KEY_DECLARE,	/* numeric, each side declares its own */
	KEY_OR,		/* boolean, Yes wins */
	KEY_AND,	/* boolean, No wins */
	KEY_DIGEST,	/* list of None / CRC32C */
};

struct key_def {
	const char *name;
	enum key_kind kind;
	uint32_t lo, hi;
	size_t off;
};

#define P(field) offsetof(struct iscsi_params, field)
static const struct key_def key_defs[] = {
	{ "MaxRecvDataSegmentLength", KEY_DECLARE, 512, 16777215, P(max_recv_dsl) },
	{ "MaxBurstLength", KEY_MIN, 512, 16777215, P(max_burst) },
	{ "FirstBurstLength", KEY_MIN, 512, 16777215, P(first_burst) },
	{ "MaxOutstandingR2T", KEY_MIN, 1, 65535, P(max_outstanding_r2t) },
	{ "DefaultTime2Wait", KEY_MAX, 0, 3600, P(time2wait) },
	{ "DefaultTime2Retain", KEY_MIN, 0, 3600, P(time2retain) },
	{ "MaxConnections", KEY_MIN, 1, 65535, P(max_connections) },
	{ "ErrorRecoveryLevel", KEY_MIN, 0, 2, P(erl) },
	{ "InitialR2T", KEY_OR, 0, 1, P(initial_r2t) },
	{ "ImmediateData", KEY_AND, 0, 1, P(immediate_data) },
	{ "DataPDUInOrder", KEY_OR, 0, 1, P(data_pdu_in_order) },
	{ "DataSequenceInOrder", KEY_OR, 0, 1, P(data_seq_in_order) },
	{ "HeaderDigest", KEY_DIGEST, 0, 1, P(header_digest) },
	{ "DataDigest", KEY_DIGEST, 0, 1, P(data_digest) },
};
#undef P

/* Picks the first value of the initiator's list we support (RFC 7143 6.2.1). */
static int negotiate_digest(const char *list, int we_allow_crc, int *out)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 4 && strncmp(p, "None", 4) == 0) {
			*out = 0;
			return 0;
		}
		if (n == 6 && strncmp(p, "CRC32C", 6) == 0 && we_allow_crc) {
			*out = 1;
			return 0;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return -EINVAL;
}

int iscsi_negotiate_key(struct iscsi_params *neg, const struct iscsi_params *ours,
			const char *key, const char *value, struct iscsi_text_out *out)
{
	const struct key_def *d = NULL;
	uint32_t v, mine, *field;
	int b, rc;

	/* Markers are gone from RFC 7143; answer as a target without them must. */
	if (strcmp(key, "IFMarker") == 0 || strcmp(key, "OFMarker") == 0) {
		iscsi_text_add(out, key, "No");
		return 1;
	}
	if (strcmp(key, "IFMarkInt") == 0 || strcmp(key, "OFMarkInt") == 0) {
		iscsi_text_add(out, key, "Irrelevant");
		return 1;
	}
	for (size_t i = 0; i < sizeof(key_defs) / sizeof(key_defs[0]); i++)
		if (strcmp(key, key_defs[i].name) == 0)
			d = &key_defs[i];
	if (!d)
		return 0;

	field = (uint32_t *)(void *)((char *)neg + d->off);
	mine = *(const uint32_t *)(const void *)((const char *)ours + d->off);
	if (d->kind == KEY_DIGEST) {
		if (negotiate_digest(value, (int)mine, &b) < 0) {
			iscsi_text_add(out, key, "Reject");
			return 1;
		}
		*(int *)field = b;
		iscsi_text_add(out, key, "%s", b ? "CRC32C" : "None");
		return 1;
	}
	if (d->kind == KEY_OR || d->kind == KEY_AND) {
		if (parse_bool(value, &b) < 0) {
			iscsi_text_add(out, key, "Reject");
			return 1;
		}
		b = d->kind == KEY_OR ? (b || (int)mine) : (b && (int)mine);
		*(int *)field = b;
		iscsi_text_add(out, key, "%s", b ? "Yes" : "No");
		return 1;
	}
	rc = iscsi_parse_u32(value, &v);
	if (rc < 0 || v < d->lo || v > d->hi) {
		iscsi_text_add(out, key, "Reject");
		return 1;
	}
	switch (d->kind) {
	case KEY_DECLARE:
		*field = v;		/* the initiator's own receive limit */
		iscsi_text_add(out, key, "%u", mine);
		return 1;
	case KEY_MIN:
		*field = v < mine ? v : mine;
		break;
	default:
		*field = v > mine ? v : mine;
		break;
	}
	iscsi_text_add(out, key, "%u", *field);
	return 1;
}
