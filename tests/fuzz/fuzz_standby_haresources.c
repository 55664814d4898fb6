/* libFuzzer target: standbyd's haresources parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "standby/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_resources hr;
	struct cfg_err err;

	ha_resources_parse(&hr, "haresources", (const char *)data, size, &err);
	return 0;
}
