/* Starting, stopping and checking one haresources entry: IPaddr (through ipaddr.h; the
 * gratuitous ARPs are the daemon's, which owns the timers), LSB scripts, and the built-ins for
 * vdiskd (a role change on its control socket) and pxed (a child process).
 *
 * Scripts, and pxed while it stops, are children waited for through a pidfd, so heartbeats
 * keep flowing while a slow service starts or stops; everything else is quick and done at
 * once. */
#ifndef STANDBY_RESOURCE_H
#define STANDBY_RESOURCE_H

#include <jansson.h>
#include <net/if.h>
#include <sys/types.h>

#include "standby/config.h"

#define RES_VDISKD_SOCK   "/run/vdisk/vdiskd.sock"
#define RES_PXED_CMD      "/usr/sbin/pxed"
#define RES_SCRIPT_TIMEOUT_MS 20000
#define RES_STATUS_TIMEOUT_MS 5000
#define RES_PXED_STOP_MS 3000		/* pxed's SIGTERM, then SIGKILL */
#define RES_VDISKD_TIMEOUT_MS 3000	/* a role change or status from vdiskd */

enum res_op { RES_START, RES_STOP, RES_STATUS };

struct res_runtime {
	int running;
	int failed;
	int restarted;		/* restarted once since it became active */
	pid_t pid;		/* pxed child, 0 if none */
	pid_t script_pid;	/* the child a step waits for: an LSB script, or pxed while it
				 * stops; 0 if none */
	int stopping_pxed;	/* script_pid is pxed, sent SIGTERM */
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
 * -EINPROGRESS when a child runs (a script, or pxed stopping after its SIGTERM): *pidfd (the
 * caller closes it) becomes readable when it exits; then res_finish gives the result. Past
 * res_limit_ms, res_expire ends it. */
int res_begin(const struct ha_resource *r, struct res_runtime *rt, enum res_op op, int *pidfd);
/* How long op's child may run: a script's status RES_STATUS_TIMEOUT_MS, its start and stop
 * RES_SCRIPT_TIMEOUT_MS, pxed's stop RES_PXED_STOP_MS. */
unsigned res_limit_ms(const struct ha_resource *r, enum res_op op);
/* The child past its limit: killed and reaped. Its step's result: -ETIMEDOUT for a script;
 * 0 for pxed's stop (stopped by SIGKILL rather than SIGTERM). */
int res_expire(struct res_runtime *rt);
/* The vdiskd resource is a request on vdiskd's control socket, sent without blocking by the
 * daemon's loop (res_begin does not run it): where, what for op, and the step's result from
 * the answer (rc and answer as ctl_call_start gives them; answer NULL when rc != 0). An error
 * answer is -EIO. A status (asked on the active node only) whose answer says "role":
 * "secondary" is -ESRCH: not running as the resource. */
const char *res_vdiskd_socket(const struct ha_resource *r);
const char *res_vdiskd_request(enum res_op op);
int res_vdiskd_result(enum res_op op, int rc, const json_t *answer);
/* The replication state (enum hb_repl) in vdiskd's status answer: its member "mirror", a
 * string, the worst state over its clients: off (no mirror configured) and in-sync are in
 * sync, then syncing, degraded, split-brain. An error answer, NULL, no such member (an older
 * vdiskd), one that is not a string, or an unknown state: unknown. */
int res_vdiskd_mirror(const json_t *answer);
/* Whether vdiskd's status answer says it is fencing the peer or has (its member "fence", an
 * object, has "state" asking or done): 1, else 0 (none, off, no such member, or an error
 * answer or NULL). */
int res_vdiskd_fencing(const json_t *answer);
/* Whether vdiskd's status answer says "role": "primary" (0 for NULL or an error answer). */
int res_vdiskd_primary(const json_t *answer);

/* Reaps the child and maps its exit status to op's result (-ECHILD: start/stop failed;
 * pxed's stop: 0 however it exited). */
int res_finish(struct res_runtime *rt, enum res_op op);
/* Kills and reaps the child a step waits for (its result is moot). */
void res_abort(struct res_runtime *rt);
/* Stops a pxed child at exit; nothing else outlives standbyd on purpose. */
void res_release_children(const struct ha_resource *r, struct res_runtime *rt);

#endif
