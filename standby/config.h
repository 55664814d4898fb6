/* standbyd's configuration: heartbeat's ha.cf, authkeys and haresources, as Linux-HA
 * Heartbeat documents them, plus a few extensions named in docs/standby.md.
 *
 * The parsers take a buffer and a file name (for messages), so the fuzz targets and unit tests
 * feed them the same way the daemon does. Every parser returns 0 or -EINVAL; on -EINVAL
 * err->msg names the file, the line and the problem. Ignored directives give one warning each
 * through log_warn. */
#ifndef STANDBY_CONFIG_H
#define STANDBY_CONFIG_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#define HA_NAME_MAX    32	/* node and cluster names incl. NUL: they travel in packets */
#define HA_MAX_LINKS   8
#define HA_MAX_PING    4
#define HA_MAX_RES     16
#define HA_RES_ARG_MAX 256
#define HA_KEY_MAX     128
#define HA_KEY_MIN     32	/* shorter keys, and crc, only with insecure_auth yes */
#define HA_MAX_KEYS    16	/* authkeys indexes 1..15 */
#define HA_PATH_MAX    256
#define HA_FILE_MAX    (64 * 1024)	/* config files are small; anything larger is a mistake */

struct cfg_err {
	char msg[640];
};

enum ha_link_kind { HA_LINK_BCAST, HA_LINK_UCAST, HA_LINK_MCAST };

struct ha_link {
	enum ha_link_kind kind;
	char ifname[IF_NAMESIZE];
	uint32_t addr;		/* ucast peer / mcast group, host order; 0 for bcast */
	unsigned line;
};

struct ha_cf {
	unsigned keepalive_ms, warntime_ms, deadtime_ms, initdead_ms;
	unsigned keepalive_line, warntime_line, deadtime_line, initdead_line;
	unsigned udpport;
	struct ha_link links[HA_MAX_LINKS];
	unsigned nlinks;
	char nodes[2][HA_NAME_MAX];
	unsigned nnodes;
	uint32_t ping[HA_MAX_PING];	/* host order */
	unsigned nping;
	int auto_failback;
	char logfile[HA_PATH_MAX];
	char debugfile[HA_PATH_MAX];
	/* Extensions (not in Heartbeat). */
	char cluster[HA_NAME_MAX];
	unsigned probe_ms;		/* ARP probe / ping wait before a takeover */
	unsigned monitor_ms;		/* resource status interval */
	int tickle_acks;		/* tickle clients' connections after a takeover */
	unsigned insecure_auth;		/* line of "insecure_auth yes" (crc and short keys
					 * allowed), 0 when off */
	int realtime;			/* Heartbeat's: run at a real-time priority (default on) */
};

enum ha_auth_alg { HA_AUTH_NONE = 0, HA_AUTH_CRC, HA_AUTH_MD5, HA_AUTH_SHA1, HA_AUTH_SHA256 };

struct ha_key {
	enum ha_auth_alg alg;	/* HA_AUTH_NONE: index not defined */
	uint8_t key[HA_KEY_MAX];
	size_t keylen;
	unsigned line;		/* authkeys line that defines it */
};

struct ha_authkeys {
	unsigned active;	/* index chosen by "auth N" */
	unsigned ship;		/* index chosen by "ship N": DB shipping's own key, never
				 * accepted on a heartbeat; 0 when none (shipping off) */
	struct ha_key keys[HA_MAX_KEYS];
};

enum ha_res_kind { HA_RES_IPADDR, HA_RES_LSB, HA_RES_VDISKD, HA_RES_PXED };

struct ha_resource {
	enum ha_res_kind kind;
	char name[HA_NAME_MAX * 2];	/* as written before the first "::" */
	char arg[HA_RES_ARG_MAX];	/* the rest after "::", "::" turned into spaces; may be "" */
	/* IPaddr only: */
	uint32_t addr;			/* host order */
	unsigned prefix;		/* 0 when not given (found from the interface) */
	char ifname[IF_NAMESIZE];	/* "" when not given */
};

struct ha_resources {
	char node[HA_NAME_MAX];		/* the preferred node */
	struct ha_resource res[HA_MAX_RES];
	unsigned nres;
	int ipaddr_idx;			/* index of the IPaddr resource, -1 if none */
};

const char *ha_auth_alg_name(enum ha_auth_alg alg);

void ha_cf_defaults(struct ha_cf *cf);
/* Parses ha.cf text (need not be NUL-terminated) into cf, which the caller set to defaults. */
int ha_cf_parse(struct ha_cf *cf, const char *fname, const char *buf, size_t len,
		struct cfg_err *err);
/* Fills the defaults that follow other values (warntime, initdead from deadtime), then makes
 * the cross-field checks (deadtime above keepalive, ...). */
int ha_cf_finish(struct ha_cf *cf, const char *fname, struct cfg_err *err);

int ha_authkeys_parse(struct ha_authkeys *ak, const char *fname, const char *buf, size_t len,
		      struct cfg_err *err);
/* How many defined keys are weak: crc, or an HMAC key under HA_KEY_MIN bytes. */
unsigned ha_authkeys_weak(const struct ha_authkeys *ak);
/* The key policy: a weak key is refused (naming its line in akname) unless ha.cf (cfname)
 * says insecure_auth yes on line insecure_line; then each one is warned about. */
int ha_authkeys_policy(const struct ha_authkeys *ak, const char *akname, const char *cfname,
		       unsigned insecure_line, struct cfg_err *err);
int ha_resources_parse(struct ha_resources *hr, const char *fname, const char *buf, size_t len,
		       struct cfg_err *err);

/* Time values: "2" (seconds), "1.5", "500ms", "2s". Returns 0 or -EINVAL. */
int ha_parse_time_ms(const char *s, unsigned *ms);

/* Everything standbyd reads, loaded and checked together. */
struct ha_config {
	char dir[HA_PATH_MAX];
	char node[HA_NAME_MAX];		/* this node */
	char peer[HA_NAME_MAX];
	struct ha_cf cf;
	struct ha_authkeys keys;
	struct ha_resources res;
};

/* Reads DIR/ha.cf, DIR/authkeys (refused if group or others may read it) and DIR/haresources.
 * node: this node's name, NULL for uname -n. Returns 0, -EINVAL (bad content) or another
 * negative errno (unreadable file); err->msg says which. */
int ha_config_load(struct ha_config *c, const char *dir, const char *node, struct cfg_err *err);

#endif
