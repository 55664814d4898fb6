/* libFuzzer target: standbyd's ha.cf parser on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "standby/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_cf cf;
	struct cfg_err err;

	log_init("fuzz", 0, LOG_CRIT);	/* warnings for ignored directives are expected */
	ha_cf_defaults(&cf);
	if (ha_cf_parse(&cf, "ha.cf", (const char *)data, size, &err) == 0)
		ha_cf_finish(&cf, "ha.cf", &err);
	return 0;
}
