/* Starting, stopping and checking one haresources entry: IPaddr (through ipaddr.h; the
 * gratuitous ARPs are the daemon's, which owns the timers), LSB scripts, and the built-ins for
 * vdiskd (a role change on its control socket) and pxed (a child process).
 *
 * Scripts run as children the event loop waits for (a pidfd), so heartbeats keep flowing
 * while a slow service starts; everything else is quick and done at once. */
#ifndef STANDBY_RESOURCE_H
#define STANDBY_RESOURCE_H

#include <net/if.h>
#include <sys/types.h>

#include "standby/config.h"

#define RES_VDISKD_SOCK   "/run/vdisk/vdiskd.sock"
#define RES_PXED_CMD      "/usr/sbin/pxed"
#define RES_SCRIPT_TIMEOUT_MS 20000
#define RES_STATUS_TIMEOUT_MS 5000
#define RES_VDISKD_TIMEOUT_MS 3000	/* a role change or status from vdiskd */

enum res_op { RES_START, RES_STOP, RES_STATUS };

struct res_runtime {
	int running;
	int failed;
	int restarted;		/* restarted once since it became active */
	pid_t pid;		/* pxed child, 0 if none */
	pid_t script_pid;	/* LSB script running now, 0 if none */
	char ifname[IF_NAMESIZE];	/* IPaddr: interface actually used */
	unsigned prefix;		/* IPaddr: prefix actually used */
	char script[HA_PATH_MAX + 128];	/* LSB: path actually run */
};

/* Resolves what the entry needs before the first start (IPaddr's interface and prefix, the
 * script path). Returns 0 or a negative errno with err filled. */
int res_prepare(const struct ha_config *c, const struct ha_resource *r, struct res_runtime *rt,
		struct cfg_err *err);

/* Begins op on r. Returns its result when done at once: for start and stop 0 or a negative
 * errno, for status 0 running, -ESRCH stopped, another negative errno unknown. Returns
 * -EINPROGRESS when a script runs: *pidfd (the caller closes it) becomes readable when the
 * script exits; then res_finish gives the result. */
int res_begin(const struct ha_resource *r, struct res_runtime *rt, enum res_op op, int *pidfd);
/* The vdiskd resource is a request on vdiskd's control socket, sent without blocking by the
 * daemon's loop (res_begin does not run it): where, what for op, and the step's result from
 * the answer (rc and reply as ctl_call_start gives them). A status (asked on the active node
 * only) whose answer has the line "role secondary" is -ESRCH: not running as the resource. */
const char *res_vdiskd_socket(const struct ha_resource *r);
const char *res_vdiskd_request(enum res_op op);
int res_vdiskd_result(enum res_op op, int rc, const char *reply);
/* The replication state (enum hb_repl) in vdiskd's status answer: its "mirror STATE" line,
 * STATE the worst over its clients: off (no mirror configured) and in-sync are in sync,
 * then syncing, degraded, split-brain. No such line (an older vdiskd) or an unknown STATE:
 * unknown. */
int res_vdiskd_mirror(const char *reply);
/* Whether vdiskd's status answer says it is fencing the peer or has (its "fence STATE"
 * line says asking or done): 1, else 0 (none, off, or no such line). */
int res_vdiskd_fencing(const char *reply);
/* Whether vdiskd's status answer says "role primary". */
int res_vdiskd_primary(const char *reply);

/* Reaps the script and maps its exit status to op's result (-ECHILD: start/stop failed). */
int res_finish(struct res_runtime *rt, enum res_op op);
/* Kills and reaps a running script (time limit passed, or its result is moot). */
void res_abort(struct res_runtime *rt);
/* Stops a pxed child at exit; nothing else outlives standbyd on purpose. */
void res_release_children(const struct ha_resource *r, struct res_runtime *rt);

#endif
