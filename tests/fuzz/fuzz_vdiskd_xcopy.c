/* Fuzz the EXTENDED COPY (LID1) parameter list parser: the whole input is the Data-Out of an
 * EXTENDED COPY. A list that parses must stay within our limits (descriptor counts, designator
 * length) and a refusal must say why with a sense code the command can return. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vdisk-server/scsi/scsi.h"
#include "vdisk-server/scsi/scsi_xcopy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xcopy_list list;
	struct xcopy_error err;
	uint8_t *copy;

	if (size == 0 || size > XCOPY_MAX_PARAM_LEN + 64)
		return 0;
	/* an exact-size heap copy so ASan sees any read past the list */
	copy = malloc(size);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (xcopy_parse(copy, (uint32_t)size, &list, &err) == 0) {
		if (list.ntargets > XCOPY_MAX_TARGETS || list.nsegments > XCOPY_MAX_SEGMENTS)
			abort();
		for (unsigned i = 0; i < list.ntargets; i++)
			if (list.targets[i].desig_len > sizeof(list.targets[i].desig))
				abort();
		if (list.usage == 1)
			abort();
	} else if (err.asc != ASC_PARAM_LIST_LENGTH && err.asc != ASC_INVALID_FIELD_PARAM) {
		abort();
	} else if (err.field >= 0 && (size_t)err.field >= size) {
		abort();	/* a field pointer must point into the list */
	}
	free(copy);
	return 0;
}
