/* libFuzzer target: standbyd's authkeys parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "standby/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_authkeys ak;
	struct cfg_err err;

	log_init("fuzz", 0, LOG_CRIT);	/* the crc warning is expected */
	ha_authkeys_parse(&ak, "authkeys", (const char *)data, size, &err);
	return 0;
}
