/* libFuzzer target: standbyd's authkeys parser on arbitrary bytes, then the key policy on
 * what it accepted, refusing and forced (insecure_auth). */
#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "standby/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ha_authkeys ak;
	struct cfg_err err;

	log_init("fuzz", 0, LOG_CRIT);	/* the weak-key warnings are expected */
	if (ha_authkeys_parse(&ak, "authkeys", (const char *)data, size, &err))
		return 0;
	ha_authkeys_policy(&ak, "authkeys", "ha.cf", 0, &err);
	ha_authkeys_policy(&ak, "authkeys", "ha.cf", 1, &err);
	ha_authkeys_weak(&ak);
	return 0;
}
