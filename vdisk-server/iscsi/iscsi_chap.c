/* CHAP; see iscsi_chap.h. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "vdisk-server/iscsi/iscsi_chap.h"

static const EVP_MD *chap_md(int alg)
{
	switch (alg) {
	case CHAP_ALG_MD5:	return EVP_md5();
	case CHAP_ALG_SHA256:	return EVP_sha256();
	default:		return NULL;
	}
}

int chap_pick_alg(const char *list, int *alg)
{
	const char *p = list;

	while (*p) {
		size_t n = strcspn(p, ",");

		if (n == 1 && (*p == '5' || *p == '7')) {
			*alg = *p - '0';
			return 0;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return -ENOTSUP;
}

int chap_new_challenge(struct chap_state *st, int alg)
{
	uint8_t id;

	if (!chap_md(alg))
		return -EINVAL;
	if (RAND_bytes(&id, 1) != 1 || RAND_bytes(st->challenge, CHAP_CHALLENGE_LEN) != 1)
		return -EIO;
	st->alg = alg;
	st->id = id;
	return 0;
}

void chap_hex(const uint8_t *bin, size_t len, char *out, size_t outlen)
{
	static const char digits[] = "0123456789abcdef";
	size_t o = 0;

	if (outlen < 2 * len + 3) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[o++] = '0';
	out[o++] = 'x';
	for (size_t i = 0; i < len; i++) {
		out[o++] = digits[bin[i] >> 4];
		out[o++] = digits[bin[i] & 15];
	}
	out[o] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int chap_decode(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		size_t digits = strlen(s + 2);
		const char *p = s + 2;

		if (digits == 0)
			return -EINVAL;
		/* an odd count means a leading zero nibble was left out */
		if (digits & 1) {
			int lo = hexval(*p++);

			if (lo < 0 || max < 1)
				return -EINVAL;
			out[n++] = (uint8_t)lo;
		}
		for (; *p; p += 2) {
			int hi = hexval(p[0]), lo = hexval(p[1]);

			if (hi < 0 || lo < 0 || n == max)
				return -EINVAL;
			out[n++] = (uint8_t)(hi << 4 | lo);
		}
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		unsigned acc = 0, bits = 0;

		for (const char *p = s + 2; *p && *p != '='; p++) {
			int v = b64val(*p);

			if (v < 0)
				return -EINVAL;
			acc = (acc << 6 | (unsigned)v) & 0xffffff;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				if (n == max)
					return -EINVAL;
				out[n++] = (uint8_t)(acc >> bits);
			}
		}
		if (n == 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	*len = n;
	return 0;
}

static int chap_digest(int alg, uint8_t id, const char *secret, const uint8_t *challenge,
		       size_t clen, uint8_t *md, unsigned *mdlen)
{
	const EVP_MD *type = chap_md(alg);
	EVP_MD_CTX *ctx;
	int rc = -EIO;

	if (!type)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestInit_ex(ctx, type, NULL) == 1 &&
	    EVP_DigestUpdate(ctx, &id, 1) == 1 &&
	    EVP_DigestUpdate(ctx, secret, strlen(secret)) == 1 &&
	    EVP_DigestUpdate(ctx, challenge, clen) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, mdlen) == 1)
		rc = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

int chap_verify(const struct chap_state *st, const char *secret, const char *response)
{
	uint8_t want[EVP_MAX_MD_SIZE], got[CHAP_MAX_BINARY];
	unsigned wlen;
	size_t glen;
	int rc;

	rc = chap_digest(st->alg, st->id, secret, st->challenge, CHAP_CHALLENGE_LEN, want, &wlen);
	if (rc < 0)
		return rc;
	if (chap_decode(response, got, sizeof(got), &glen) < 0 || glen != wlen)
		return -EACCES;
	return CRYPTO_memcmp(want, got, wlen) == 0 ? 0 : -EACCES;
}

int chap_answer(int alg, uint8_t id, const char *secret, const uint8_t *challenge,
		size_t challenge_len, char *out, size_t outlen)
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned mdlen;
	int rc;

	rc = chap_digest(alg, id, secret, challenge, challenge_len, md, &mdlen);
	if (rc < 0)
		return rc;
	chap_hex(md, mdlen, out, outlen);
	return 0;
}
