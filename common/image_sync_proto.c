/* READ DIGESTS encoding and checks; see image_sync_proto.h. */
#include "common/image_sync_proto.h"

#include <errno.h>
#include <openssl/evp.h>
#include <string.h>

#include "common/wire.h"

void is_cdb_build(uint8_t cdb[16], uint64_t first, uint32_t count)
{
	memset(cdb, 0, 16);
	cdb[0] = IS_OPCODE;
	cdb[1] = IS_READ_DIGESTS;
	put_be64(cdb + 2, first);
	put_be32(cdb + 10, count * IS_DIGEST_LEN);
}

int is_cdb_parse(const uint8_t cdb[16], uint64_t size, struct is_req *req, unsigned *field)
{
	uint64_t first, nblocks = is_nblocks(size);
	uint32_t len;

	*field = 0;
	if (cdb[0] != IS_OPCODE)
		return -ENOTSUP;
	first = get_be64(cdb + 2);
	len = get_be32(cdb + 10);
	if (cdb[1] != IS_READ_DIGESTS) {
		*field = 1;
		return -EINVAL;
	}
	if (!len || len % IS_DIGEST_LEN || len / IS_DIGEST_LEN > IS_MAX_BLOCKS) {
		*field = 10;
		return -EINVAL;
	}
	if (cdb[14]) {
		*field = 14;
		return -EINVAL;
	}
	if (first >= nblocks) {
		*field = 2;
		return -ERANGE;
	}
	req->first = first;
	req->count = len / IS_DIGEST_LEN;
	if (req->count > nblocks - first)
		req->count = (uint32_t)(nblocks - first);
	return 0;
}

const char *is_target_image(const char *target_iqn, const char *target)
{
	size_t tl = strlen(target_iqn), sl = strlen(IS_TARGET_SEP);
	const char *name;

	if (strncmp(target, target_iqn, tl) != 0 || strncmp(target + tl, IS_TARGET_SEP, sl) != 0)
		return NULL;
	name = target + tl + sl;
	if (!*name)
		return NULL;
	for (const char *p = name; *p; p++)
		if (*p == '/' || (unsigned char)*p < 0x20 || *p == 0x7f)
			return NULL;
	return name;
}

int is_digest(const void *buf, size_t len, uint8_t out[IS_DIGEST_LEN])
{
	unsigned olen = IS_DIGEST_LEN;

	/* EVP_Digest allocates a context per call; a few per MiB is noise next to SHA-256 */
	return EVP_Digest(buf, len, out, &olen, EVP_sha256(), NULL) == 1 ? 0 : -ENOMEM;
}
