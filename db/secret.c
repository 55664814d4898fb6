/* CHAP secrets: generated here from the kernel's CSPRNG, for every client row. */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "db/db_internal.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
#define ALPHABET_LEN 62
/* 248 = 4 * 62: bytes at or above it are drawn again, so every character is equally
 * likely (a plain `% 62` would favour the first 8). */
#define UNBIASED_LIMIT 248

int (*db_random_hook)(void *buf, size_t len);

static int random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	if (db_random_hook)
		return db_random_hook(buf, len);
	while (len) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int db_secret_generate(char out[DB_SECRET_MAX])
{
	unsigned char buf[64];
	size_t have = 0, i = 0;
	int rc, rounds = 0;

	while (have < DB_SECRET_LEN) {
		/* 64 bytes give 16 usable ones unless the source is broken (p < 1e-30). */
		if (++rounds > 4)
			return -EIO;
		rc = random_bytes(buf, sizeof(buf));
		if (rc)
			return rc;
		for (i = 0; i < sizeof(buf) && have < DB_SECRET_LEN; i++)
			if (buf[i] < UNBIASED_LIMIT)
				out[have++] = alphabet[buf[i] % ALPHABET_LEN];
	}
	out[DB_SECRET_LEN] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int db_secret_valid(const char *s)
{
	size_t i;

	for (i = 0; i < DB_SECRET_LEN; i++)
		if (!s[i] || !memchr(alphabet, s[i], ALPHABET_LEN))
			return 0;
	return s[DB_SECRET_LEN] == '\0';
}

int db_secret_pair(char secret[DB_SECRET_MAX], char target_secret[DB_SECRET_MAX])
{
	int rc, tries;

	rc = db_secret_generate(secret);
	/* Equal secrets would let a PC's own CHAP answer pass as the target's (RFC 7143
	 * 12.1.3): drawn again, which a working source needs once in 62^16. */
	for (tries = 0; !rc && tries < 4; tries++) {
		rc = db_secret_generate(target_secret);
		if (!rc && strcmp(secret, target_secret) != 0)
			return 0;
	}
	return rc ? rc : -EIO;
}
