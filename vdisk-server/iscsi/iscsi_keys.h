/* iSCSI text keys (RFC 7143 sections 6 and 13): splitting a key=value data segment, building
 * answers, and negotiating the operational keys. Pure functions over buffers we own; the
 * login and Text handlers above decide what is allowed when. */
#ifndef VDISK_ISCSI_KEYS_H
#define VDISK_ISCSI_KEYS_H

#include <stddef.h>
#include <stdint.h>

#define ISCSI_KEY_NAME_MAX	63	/* RFC 7143 6.1 */
#define ISCSI_KEY_VALUE_MAX	8192	/* large enough for CHAP's hex-encoded binary values */
#define ISCSI_MAX_KEYS		64	/* in one login or text exchange */

struct iscsi_kv {
	const char *key;
	const char *value;
};

/* Splits text (len bytes of NUL-terminated key=value pairs; the last NUL may be missing, and
 * text must have room for one more byte) in place. Returns the number of pairs stored in kv,
 * or -EINVAL for a pair without '=', an empty or overlong key or value, or a key with bytes
 * outside RFC 7143's key alphabet; -E2BIG for more than max pairs. */
int iscsi_text_parse(char *text, size_t len, struct iscsi_kv *kv, int max);

/* A growable answer buffer capped at cap bytes. */
struct iscsi_text_out {
	char *buf;
	size_t len, cap;
	int overflow;		/* an answer did not fit: the caller fails the exchange */
};

int iscsi_text_out_init(struct iscsi_text_out *t, size_t cap);
void iscsi_text_out_free(struct iscsi_text_out *t);
__attribute__((format(printf, 3, 4)))
void iscsi_text_add(struct iscsi_text_out *t, const char *key, const char *fmt, ...);

/* Session and connection parameters. */
struct iscsi_params {
	uint32_t max_recv_dsl;		/* the initiator's: caps our Data-In segments */
	uint32_t max_burst, first_burst;
	uint32_t max_outstanding_r2t;
	uint32_t time2wait, time2retain;
	uint32_t max_connections;
	uint32_t erl;
	int initial_r2t, immediate_data;
	int data_pdu_in_order, data_seq_in_order;
	int header_digest, data_digest;
};

/* RFC 7143 defaults: what holds for a key nobody negotiated. */
void iscsi_params_rfc_default(struct iscsi_params *p);

/* Negotiates one key the initiator offered: stores the outcome in *neg and our answer in out.
 * ours holds what we prefer or support (ours->max_recv_dsl is the length we declare).
 * Returns 1 when key is an operational key (answered, possibly with "Reject"), 0 when it is
 * not one (the caller handles it or answers NotUnderstood). */
int iscsi_negotiate_key(struct iscsi_params *neg, const struct iscsi_params *ours,
			const char *key, const char *value, struct iscsi_text_out *out);

/* Parses an RFC 7143 number (decimal, or 0x hex); -EINVAL unless it fits in 32 bits. */
int iscsi_parse_u32(const char *s, uint32_t *out);

#endif
