/* vdiskd's options, from one table: each option's name is both its long flag (--listen) and
 * its key in the configuration file (/etc/vdisk/vdiskd.conf: `listen 0.0.0.0:3260`), and one
 * parser per option checks a value whichever way it came. The command line wins over the
 * file: a scalar given on both takes the command line's value, a repeatable option (lun,
 * allow) given on the command line replaces the file's list.
 *
 * File syntax: one `key value` per line (key and value separated by blanks; the value is the
 * rest of the line, blanks at its ends trimmed); a flag is a bare `key` or `key on|off`;
 * blank lines and lines whose first non-blank character is '#' are ignored; a scalar key
 * appears once. Lines are at most VDISKD_CONF_LINE_MAX bytes; a NUL byte is an error. Every
 * error names FILE:LINE and the key. */
#ifndef VDISK_SERVER_VDISKD_OPTS_H
#define VDISK_SERVER_VDISKD_OPTS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "db/db.h"
#include "vdisk-server/iscsi/iscsi_chap.h"
#include "vdisk-server/lun_table.h"
#include "vdisk-server/mirror/mirror_fence.h"

#define VDISKD_DEFAULT_CONF	"/etc/vdisk/vdiskd.conf"
#define VDISKD_DEFAULT_OVERLAY_DIR "/var/lib/vdisk/overlays"
#define VDISKD_DEFAULT_CTL	"/run/vdisk/vdiskd.sock"
#define VDISKD_DEFAULT_FENCE	"/run/vdisk/standbyd.sock"
#define VDISKD_MAX_LUNS		1024
#define VDISKD_MAX_ALLOW	1024
#define VDISKD_CONF_LINE_MAX	8192
#define VDISKD_CONF_FILE_MAX	(1 << 20)	/* a larger file is refused, not read */
#define VDISKD_PATH_MAX		4096

struct vdiskd_opts {
	/* where to listen */
	char addr[64];
	uint16_t port;
	/* standalone: the LUNs, who may log in, CHAP */
	struct lun_spec *specs;		/* owned, VDISKD_MAX_LUNS at most */
	unsigned nspecs, cap_specs;
	char **allowed;			/* owned copies */
	unsigned nallowed;
	struct chap_cred chap, mutual;
	int have_chap, have_mutual;
	/* database mode; "" : not given */
	char db_path[VDISKD_PATH_MAX];
	char overlay_dir[VDISKD_PATH_MAX];
	char target[DB_IQN_MAX];
	char ctl_path[FENCE_PATH_MAX];
	char node[DB_NAME_MAX];
	int secondary;
	/* the pair */
	char replica_listen[80];	/* "ADDR:PORT" as given; "" : none */
	char raddr[64];
	uint16_t rport;
	char mirror_peer[80];
	char secret_file[VDISKD_PATH_MAX];
	unsigned mirror_timeout_ms;
	int fence_off;			/* --fence none */
	char fence[FENCE_PATH_MAX];
	unsigned rate_mbps;
	int test_fault;			/* MIRROR_FAULT_*, command line only, not in --help */
	/* the loop */
	unsigned threads, nop_s, login_s, per_addr;
	int verbose;
	/* what the command line asked beside options */
	char config[VDISKD_PATH_MAX];	/* the file read ("" : none) */
	int config_given;		/* --config on the command line: the file must exist */
	int file_has_secret;		/* the file holds chap or mutual-chap: mode 0600 */
	int check_config, help, version;
};

/* Fills o with the defaults (nothing to export, port 3260, ...). */
void vdiskd_opts_init(struct vdiskd_opts *o);
/* Frees what o owns. */
void vdiskd_opts_free(struct vdiskd_opts *o);

/* Reads the command line and the configuration file (--config FILE, else
 * VDISKD_DEFAULT_CONF when it exists) into o. Returns 0; or 2 (usage or configuration
 * error) after one line on stderr naming the problem; --help and --version set o->help and
 * o->version and return 0 without reading the file. */
int vdiskd_opts_load(struct vdiskd_opts *o, int argc, char **argv);

/* Parses a configuration text of len bytes (not NUL-terminated) named name into o, as the
 * file reader does. Returns 0, or -EINVAL with "NAME:LINE: ..." in err. A key in skip (one
 * flag per table entry, may be NULL) is checked but not applied. */
int vdiskd_opts_parse_text(struct vdiskd_opts *o, const char *name, const char *text,
			   size_t len, const unsigned char *skip, char *err, size_t errlen);

/* The checks across options (nothing to export, --lun with --db, ...). 0, or -EINVAL with
 * the reason in err. */
int vdiskd_opts_check(struct vdiskd_opts *o, char *err, size_t errlen);

/* --help, from the table (test-only options left out). */
void vdiskd_opts_usage(FILE *f);

/* One line per option set, as a configuration file would say it (secrets hidden), for
 * --check-config. */
void vdiskd_opts_print(const struct vdiskd_opts *o, FILE *f);

#endif
