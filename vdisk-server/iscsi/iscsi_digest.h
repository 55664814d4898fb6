/* CRC32C for iSCSI header and data digests (RFC 7143 section 13.1), computed by ISA-L.
 * The digest travels least significant byte first (RFC 7143 appendix B.4 test vectors). */
#ifndef VDISK_ISCSI_DIGEST_H
#define VDISK_ISCSI_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include <isa-l/crc.h>

#define ISCSI_CRC_INIT 0xffffffffu

/* Continues a running CRC over len bytes; start with ISCSI_CRC_INIT. */
static inline uint32_t iscsi_crc_update(uint32_t crc, const void *buf, size_t len)
{
	return crc32_iscsi((unsigned char *)buf, (int)len, crc);
}

static inline void iscsi_crc_put(uint8_t out[4], uint32_t crc)
{
	crc = ~crc;
	out[0] = (uint8_t)crc;
	out[1] = (uint8_t)(crc >> 8);
	out[2] = (uint8_t)(crc >> 16);
	out[3] = (uint8_t)(crc >> 24);
}

static inline int iscsi_crc_check(const uint8_t in[4], uint32_t crc)
{
	uint8_t want[4];

	iscsi_crc_put(want, crc);
	return want[0] == in[0] && want[1] == in[1] && want[2] == in[2] && want[3] == in[3];
}

#endif
