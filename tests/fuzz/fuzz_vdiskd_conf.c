/* libFuzzer target: vdiskd's configuration file parser (vdisk-server/vdiskd_opts.c) on
 * arbitrary bytes, then the checks across options and the --check-config printer. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vdisk-server/vdiskd_opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vdiskd_opts o;
	static FILE *devnull;
	char err[8192];

	if (!devnull)
		devnull = fopen("/dev/null", "w");
	vdiskd_opts_init(&o);
	if (vdiskd_opts_parse_text(&o, "vdiskd.conf", (const char *)data, size, NULL, err,
				   sizeof(err)) == 0 &&
	    vdiskd_opts_check(&o, err, sizeof(err)) == 0 && devnull)
		vdiskd_opts_print(&o, devnull);
	vdiskd_opts_free(&o);
	return 0;
}
