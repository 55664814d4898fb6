/* CHAP for iSCSI login (RFC 1994, RFC 7143 12.1.3): one-way (the initiator proves it knows
 * the secret) and mutual (the target proves it too). MD5 (CHAP_A=5) as every initiator
 * speaks, SHA-256 (CHAP_A=7) when offered first. Digests from OpenSSL libcrypto. */
#ifndef VDISK_ISCSI_CHAP_H
#define VDISK_ISCSI_CHAP_H

#include <stddef.h>
#include <stdint.h>

#define CHAP_ALG_MD5		5
#define CHAP_ALG_SHA256		7
#define CHAP_CHALLENGE_LEN	16
#define CHAP_MAX_BINARY		1024	/* decoded CHAP_C / CHAP_R we accept */
#define CHAP_SECRET_MAX		256

struct chap_cred {
	char user[256];
	char secret[CHAP_SECRET_MAX];
};

struct chap_state {
	int alg;
	uint8_t id;
	uint8_t challenge[CHAP_CHALLENGE_LEN];
};

/* Picks the first algorithm of the initiator's CHAP_A list we support; -ENOTSUP if none. */
int chap_pick_alg(const char *list, int *alg);
/* Fills st with a fresh identifier and random challenge for alg. */
int chap_new_challenge(struct chap_state *st, int alg);
/* Writes "0x<hex>" of len bytes into out (outlen must be at least 2 * len + 3). */
void chap_hex(const uint8_t *bin, size_t len, char *out, size_t outlen);
/* Decodes a CHAP binary value ("0x" hex or "0b" base64) into out; -EINVAL if malformed or
 * longer than max. */
int chap_decode(const char *s, uint8_t *out, size_t max, size_t *len);
/* Verifies the initiator's CHAP_R against secret: 0, or -EACCES. Constant-time compare. */
int chap_verify(const struct chap_state *st, const char *secret, const char *response);
/* The response to a challenge (mutual CHAP): H(id || secret || challenge) as "0x<hex>". */
int chap_answer(int alg, uint8_t id, const char *secret, const uint8_t *challenge,
		size_t challenge_len, char *out, size_t outlen);

#endif
