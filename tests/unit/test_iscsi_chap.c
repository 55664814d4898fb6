/* CHAP: the MD5 response as RFC 1994 defines it, hex and base64 decoding, mismatches. */
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "vdisk-server/iscsi/iscsi_chap.h"
#include "tests/lib/tap.h"

int main(void)
{
	struct chap_state st = { .alg = CHAP_ALG_MD5, .id = 7 };
	uint8_t md[EVP_MAX_MD_SIZE], out[64], buf[64];
	unsigned mdlen;
	char hex[200], ans[200];
	size_t n;
	int alg;

	for (int i = 0; i < CHAP_CHALLENGE_LEN; i++)
		st.challenge[i] = (uint8_t)i;
	/* expected: MD5(id || secret || challenge), computed independently */
	buf[0] = 7;
	memcpy(buf + 1, "s3cret", 6);
	memcpy(buf + 7, st.challenge, CHAP_CHALLENGE_LEN);
	EVP_Digest(buf, 7 + CHAP_CHALLENGE_LEN, md, &mdlen, EVP_md5(), NULL);
	chap_hex(md, mdlen, hex, sizeof(hex));
	is_int(chap_verify(&st, "s3cret", hex), 0, "right response verifies");
	is_int(chap_verify(&st, "wrong", hex), -EACCES, "wrong secret refused");
	hex[5] = hex[5] == '0' ? '1' : '0';
	is_int(chap_verify(&st, "s3cret", hex), -EACCES, "altered response refused");
	is_int(chap_verify(&st, "s3cret", "0x00"), -EACCES, "short response refused");
	is_int(chap_verify(&st, "s3cret", "zz"), -EACCES, "garbage refused");

	is_int(chap_answer(CHAP_ALG_MD5, 7, "s3cret", st.challenge, CHAP_CHALLENGE_LEN, ans,
			   sizeof(ans)), 0, "answer computed");
	chap_hex(md, mdlen, hex, sizeof(hex));
	is_str(ans, hex, "answer equals the verifier's expectation");

	is_int(chap_decode("0x0a0B", out, sizeof(out), &n), 0, "hex decodes");
	ok(n == 2 && out[0] == 0x0a && out[1] == 0x0b, "hex bytes");
	is_int(chap_decode("0xabc", out, sizeof(out), &n), 0, "odd hex digit count");
	ok(n == 2 && out[0] == 0x0a && out[1] == 0xbc, "leading nibble");
	is_int(chap_decode("0bAQID", out, sizeof(out), &n), 0, "base64 decodes");
	ok(n == 3 && out[0] == 1 && out[1] == 2 && out[2] == 3, "base64 bytes");
	is_int(chap_decode("0x", out, sizeof(out), &n), -EINVAL, "empty hex refused");
	is_int(chap_decode("0xgg", out, sizeof(out), &n), -EINVAL, "bad hex refused");
	is_int(chap_decode("1234", out, sizeof(out), &n), -EINVAL, "no prefix refused");
	is_int(chap_decode("0x0102030405", out, 4, &n), -EINVAL, "longer than the buffer refused");

	is_int(chap_pick_alg("7,5", &alg), 0, "algorithm list");
	is_int(alg, 7, "first supported: SHA-256");
	is_int(chap_pick_alg("6,5", &alg), 0, "skips unknown");
	is_int(alg, 5, "MD5");
	is_int(chap_pick_alg("6,128", &alg), -ENOTSUP, "none supported");
	is_int(chap_new_challenge(&st, CHAP_ALG_SHA256), 0, "fresh challenge");
	return done_testing();
}
