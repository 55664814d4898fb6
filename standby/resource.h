/* Starting, stopping and checking one haresources entry: IPaddr (through ipaddr.h; the
 * gratuitous ARPs are the daemon's, which owns the timers), LSB scripts, and the built-ins for
 * vdiskd (a role change on its control socket) and pxed (a child process).
 *
 * Scripts run synchronously with a time limit: heartbeats wait meanwhile, so resource
 * scripts must be quick (LSB start/stop of a service is). */
#ifndef STANDBY_RESOURCE_H
#define STANDBY_RESOURCE_H

#include <net/if.h>
#include <sys/types.h>

#include "standby/config.h"

#define RES_VDISKD_SOCK   "/run/vdisk/vdiskd.sock"
#define RES_PXED_CMD      "/usr/sbin/pxed"
#define RES_SCRIPT_TIMEOUT_MS 20000
#define RES_STATUS_TIMEOUT_MS 5000

struct res_runtime {
	int running;
	int failed;
	int restarted;		/* restarted once since it became active */
	pid_t pid;		/* pxed child, 0 if none */
	char ifname[IF_NAMESIZE];	/* IPaddr: interface actually used */
	unsigned prefix;		/* IPaddr: prefix actually used */
	char script[HA_PATH_MAX + 128];	/* LSB: path actually run */
};

/* Resolves what the entry needs before the first start (IPaddr's interface and prefix, the
 * script path). Returns 0 or a negative errno with err filled. */
int res_prepare(const struct ha_config *c, const struct ha_resource *r, struct res_runtime *rt,
		struct cfg_err *err);

/* 0 on success, or a negative errno (or -ECHILD for a script that exits non-zero). */
int res_start(const struct ha_resource *r, struct res_runtime *rt);
int res_stop(const struct ha_resource *r, struct res_runtime *rt);
/* 0 running, -ESRCH not running, other negative errno when unknown. */
int res_status(const struct ha_resource *r, struct res_runtime *rt);

/* Runs path ARGS... ACTION (args split on blanks), waiting at most timeout_ms. Returns the exit
 * status (>= 0) or a negative errno (-ETIMEDOUT after killing it). */
int res_run_script(const char *path, const char *args, const char *action, int timeout_ms);

#endif
