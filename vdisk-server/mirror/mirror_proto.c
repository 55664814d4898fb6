/* Encoding of the replication session's vendor command; see mirror_proto.h. */
#include "vdisk-server/mirror/mirror_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/wire.h"

#define MP_MAGIC "VDMS"
#define MP_VERSION 2u	/* 2: WRITE BATCH; both servers are upgraded together */
#define FP_SAMPLES 64u
#define FP_BLOCK 4096u

void mp_cdb(uint8_t cdb[16], enum mp_action action, uint64_t arg, uint32_t len)
{
	memset(cdb, 0, 16);
	cdb[0] = MP_OPCODE;
	cdb[1] = (uint8_t)action;
	put_be64(cdb + 2, arg);
	put_be32(cdb + 10, len);
}

/* Layout: magic[4] version[4] gen[8] peer_gen[8] flags[4] pad[4] size[8] nchunks[8] nset[8]
 * fingerprint[32] = 96 bytes, big-endian. */
void mp_state_encode(const struct mp_state *s, uint8_t out[MP_STATE_LEN])
{
	memset(out, 0, MP_STATE_LEN);
	memcpy(out, MP_MAGIC, 4);
	put_be32(out + 4, MP_VERSION);
	put_be64(out + 8, s->gen);
	put_be64(out + 16, s->peer_gen);
	put_be32(out + 24, s->flags);
	put_be64(out + 32, s->size);
	put_be64(out + 40, s->nchunks);
	put_be64(out + 48, s->nset);
	memcpy(out + 56, s->fingerprint, MP_FINGERPRINT_LEN);
}

int mp_state_decode(const uint8_t *buf, size_t len, struct mp_state *s)
{
	if (!buf || len != MP_STATE_LEN || memcmp(buf, MP_MAGIC, 4) != 0 ||
	    get_be32(buf + 4) != MP_VERSION)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->gen = get_be64(buf + 8);
	s->peer_gen = get_be64(buf + 16);
	s->flags = get_be32(buf + 24);
	s->size = get_be64(buf + 32);
	s->nchunks = get_be64(buf + 40);
	s->nset = get_be64(buf + 48);
	if (s->nset > s->nchunks)
		return -EINVAL;
	memcpy(s->fingerprint, buf + 56, MP_FINGERPRINT_LEN);
	return 0;
}

void mp_batch_rec_encode(const struct mp_batch_rec *r, uint8_t out[MP_BATCH_REC_LEN])
{
	put_be64(out, r->lba);
	put_be32(out + 8, r->nblk);
	put_be32(out + 12, r->flags);
}

int mp_batch_parse(const uint8_t *buf, size_t len, uint64_t count, uint64_t disk_blocks,
		   struct mp_batch_rec *recs)
{
	uint64_t data = 0;

	if (!buf || count == 0 || count > MP_BATCH_MAX || len > MP_BATCH_BYTES ||
	    len < count * MP_BATCH_REC_LEN)
		return -EINVAL;
	for (uint64_t i = 0; i < count; i++) {
		const uint8_t *p = buf + i * MP_BATCH_REC_LEN;
		struct mp_batch_rec *r = &recs[i];

		r->lba = get_be64(p);
		r->nblk = get_be32(p + 8);
		r->flags = get_be32(p + 12);
		if (r->nblk == 0 || r->lba > disk_blocks || r->nblk > disk_blocks - r->lba ||
		    (r->flags & ~(uint32_t)MP_REC_FUA))
			return -EINVAL;
		for (uint64_t j = 0; j < i; j++)
			if (r->lba < recs[j].lba + recs[j].nblk && recs[j].lba < r->lba + r->nblk)
				return -EINVAL;
		data += (uint64_t)r->nblk * 512u;	/* nblk < 2^32: no overflow */
	}
	return data == len - count * MP_BATCH_REC_LEN ? 0 : -EINVAL;
}

int mirror_fingerprint(const char *path, uint8_t out[MP_FINGERPRINT_LEN])
{
	uint8_t block[FP_BLOCK], le[8];
	EVP_MD_CTX *ctx;
	struct stat sb;
	uint64_t size;
	unsigned len = MP_FINGERPRINT_LEN;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		goto out_close;
	}
	size = (uint64_t)sb.st_size;
	if (S_ISBLK(sb.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);

		size = end > 0 ? (uint64_t)end : 0;
	}
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		rc = -ENOMEM;
		goto out_close;
	}
	put_be64(le, size);
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	EVP_DigestUpdate(ctx, le, sizeof(le));
	for (unsigned i = 0; i < FP_SAMPLES && size >= FP_BLOCK; i++) {
		uint64_t off = (size - FP_BLOCK) / (FP_SAMPLES - 1) * i;
		ssize_t n = pread(fd, block, FP_BLOCK, (off_t)(off & ~(uint64_t)(FP_BLOCK - 1)));

		if (n < 0) {
			rc = -errno;
			break;
		}
		EVP_DigestUpdate(ctx, block, (size_t)n);
	}
	EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
out_close:
	close(fd);
	return rc;
}
