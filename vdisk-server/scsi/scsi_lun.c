/* The LUN field of a SCSI PDU (SAM-5 single level: peripheral or flat addressing). */
#include <string.h>

#include "vdisk-server/scsi/scsi.h"

uint64_t scsi_lun_decode(const uint8_t lun[8])
{
	switch (lun[0] >> 6) {
	case 0:
		return lun[1];
	case 1:
		return (uint64_t)(lun[0] & 0x3f) << 8 | lun[1];
	default:
		return UINT64_MAX;	/* an addressing method we do not use: no such LU */
	}
}

void scsi_lun_encode(uint64_t lun, uint8_t out[8])
{
	memset(out, 0, 8);
	if (lun < 256) {
		out[1] = (uint8_t)lun;
	} else {
		out[0] = (uint8_t)(0x40 | ((lun >> 8) & 0x3f));
		out[1] = (uint8_t)lun;
	}
}
