/* vdiskd's option table, its command line and its configuration file (vdiskd_opts.h). */
#include "vdisk-server/vdiskd_opts.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/secretfile.h"
#include "vdisk-server/iscsi/iscsi_target.h"
#include "vdisk-server/mirror/store_mirror.h"

enum {
	O_REPEAT = 1,	/* may be given many times: a list */
	O_CMDLINE = 2,	/* command line only, never a file key */
	O_HIDDEN = 4,	/* left out of --help (test-only) */
	O_SECRET = 8,	/* the value is never echoed in an error */
	O_FLAG = 16,	/* no argument on the command line; `key` or `key on|off` in a file */
};

struct vdiskd_opt {
	const char *name;	/* --name, and the file's key */
	int shortopt;		/* 0: none */
	const char *arg;	/* for --help; NULL for a flag */
	unsigned flags;
	/* Parses v (NULL for a flag on the command line) into o; -EINVAL with why. */
	int (*set)(struct vdiskd_opts *o, const char *v, char *why, size_t n);
	const char *help;	/* lines after the first indented by the table printer */
};

/* ---- value parsers ---- */

/* "ADDR:PORT" with a port of 1 to 65535. */
static int parse_hostport(const char *arg, char *addr, size_t alen, uint16_t *port)
{
	const char *colon = strrchr(arg, ':');
	char *end;
	unsigned long p;

	if (!colon || colon == arg || (size_t)(colon - arg) >= alen)
		return -EINVAL;
	if (!isdigit((unsigned char)colon[1]))
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p == 0 || p > 65535)
		return -EINVAL;
	memcpy(addr, arg, (size_t)(colon - arg));
	addr[colon - arg] = '\0';
	*port = (uint16_t)p;
	return 0;
}

/* A decimal number within [min, max]; no sign, no blanks, no trailing characters. */
static int parse_uint(const char *v, unsigned long min, unsigned long max, unsigned *out)
{
	char *end;
	unsigned long l;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	l = strtoul(v, &end, 10);
	if (errno || *end || l < min || l > max)
		return -EINVAL;
	*out = (unsigned)l;
	return 0;
}

static int copy_str(char *dst, size_t size, const char *v, char *why, size_t n)
{
	if (!*v) {
		snprintf(why, n, "empty");
		return -EINVAL;
	}
	if (strlen(v) >= size) {
		snprintf(why, n, "longer than %zu bytes", size - 1);
		return -EINVAL;
	}
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int parse_cred(const char *arg, struct chap_cred *c)
{
	const char *colon = strchr(arg, ':');

	if (!colon || colon == arg || (size_t)(colon - arg) >= sizeof(c->user) ||
	    strlen(colon + 1) < 1 || strlen(colon + 1) >= sizeof(c->secret))
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	memcpy(c->user, arg, (size_t)(colon - arg));
	memcpy(c->secret, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

/* ---- one setter per option ---- */

#define FAIL(...) do { snprintf(why, n, __VA_ARGS__); return -EINVAL; } while (0)

static int set_listen(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_hostport(v, o->addr, sizeof(o->addr), &o->port) < 0)
		FAIL("expected ADDR:PORT (a port of 1 to 65535)");
	return 0;
}

static int set_lun(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	const char *reason = NULL;

	if (o->nspecs == VDISKD_MAX_LUNS)
		FAIL("more than %d LUNs", VDISKD_MAX_LUNS);
	if (o->nspecs == o->cap_specs) {
		unsigned cap = o->cap_specs ? o->cap_specs * 2 : 4;
		struct lun_spec *grown;

		if (cap > VDISKD_MAX_LUNS)
			cap = VDISKD_MAX_LUNS;
		grown = realloc(o->specs, cap * sizeof(*o->specs));
		if (!grown)
			FAIL("out of memory");
		o->specs = grown;
		o->cap_specs = cap;
	}
	if (lun_spec_parse(v, &o->specs[o->nspecs], &reason) < 0)
		FAIL("%s", reason ? reason : "expected IQN=FILE[,ro][,overlay=PATH]");
	o->nspecs++;
	return 0;
}

static int set_allow(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	char **grown, *copy;

	if (!iscsi_name_valid(v))
		FAIL("not an iSCSI name");
	if (o->nallowed == VDISKD_MAX_ALLOW)
		FAIL("more than %d initiators", VDISKD_MAX_ALLOW);
	grown = realloc(o->allowed, (o->nallowed + 1) * sizeof(*o->allowed));
	if (!grown)
		FAIL("out of memory");
	o->allowed = grown;
	copy = strdup(v);
	if (!copy)
		FAIL("out of memory");
	o->allowed[o->nallowed++] = copy;
	return 0;
}

static int set_chap(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_cred(v, &o->chap) < 0)
		FAIL("expected USER:SECRET");
	o->have_chap = 1;
	return 0;
}

static int set_mutual(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_cred(v, &o->mutual) < 0)
		FAIL("expected USER:SECRET");
	o->have_mutual = 1;
	return 0;
}

static int set_db(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	return copy_str(o->db_path, sizeof(o->db_path), v, why, n);
}

static int set_overlay_dir(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	return copy_str(o->overlay_dir, sizeof(o->overlay_dir), v, why, n);
}

static int set_target(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (!iscsi_name_valid(v) || strlen(v) >= sizeof(o->target))
		FAIL("not an iSCSI name");
	memcpy(o->target, v, strlen(v) + 1);
	return 0;
}

static int set_ctl(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (strlen(v) >= sizeof(o->ctl_path))
		FAIL("a socket path of at most %zu characters", sizeof(o->ctl_path) - 1);
	return copy_str(o->ctl_path, sizeof(o->ctl_path), v, why, n);
}

static int set_role(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (strcmp(v, "primary") != 0 && strcmp(v, "secondary") != 0)
		FAIL("primary or secondary");
	o->secondary = strcmp(v, "secondary") == 0;
	return 0;
}

static int set_node(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (!*v || strlen(v) >= sizeof(o->node))
		FAIL("a server name of 1 to %zu bytes", sizeof(o->node) - 1);
	memcpy(o->node, v, strlen(v) + 1);
	return 0;
}

static int set_replica_listen(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (strlen(v) >= sizeof(o->replica_listen) ||
	    parse_hostport(v, o->raddr, sizeof(o->raddr), &o->rport) < 0)
		FAIL("expected ADDR:PORT");
	memcpy(o->replica_listen, v, strlen(v) + 1);
	return 0;
}

static int set_mirror_peer(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	char paddr[64];
	uint16_t pport;

	if (strlen(v) >= sizeof(o->mirror_peer) ||
	    strlen(v) >= sizeof(((struct mirror_config *)0)->peer) ||
	    parse_hostport(v, paddr, sizeof(paddr), &pport) < 0)
		FAIL("expected ADDR:PORT");
	memcpy(o->mirror_peer, v, strlen(v) + 1);
	return 0;
}

static int set_mirror_secret(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	return copy_str(o->secret_file, sizeof(o->secret_file), v, why, n);
}

static int set_mirror_timeout(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_uint(v, 100, 600000, &o->mirror_timeout_ms) < 0)
		FAIL("100 to 600000");
	return 0;
}

static int set_fence(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (!*v || strlen(v) >= sizeof(o->fence))
		FAIL("a socket path of at most %zu characters, or none", sizeof(o->fence) - 1);
	o->fence_off = strcmp(v, "none") == 0;
	memcpy(o->fence, v, strlen(v) + 1);
	return 0;
}

static int set_resync_rate(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_uint(v, 0, 100000, &o->rate_mbps) < 0)
		FAIL("0 (no cap) to 100000 MB/s");
	return 0;
}

static int set_test_fault(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (strcmp(v, "crash-at-final-answer") == 0)
		o->test_fault = MIRROR_FAULT_CRASH_AT_ANSWER;
	else if (strcmp(v, "lose-final-request") == 0)
		o->test_fault = MIRROR_FAULT_LOSE_REQUEST;
	else
		FAIL("crash-at-final-answer or lose-final-request");
	return 0;
}

static int set_threads(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_uint(v, 1, 64, &o->threads) < 0)
		FAIL("1 to 64");
	return 0;
}

static int set_nop(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_uint(v, 0, 3600, &o->nop_s) < 0)
		FAIL("0 to 3600 seconds");
	return 0;
}

static int set_login_timeout(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_uint(v, 1, 3600, &o->login_s) < 0)
		FAIL("1 to 3600 seconds");
	return 0;
}

static int set_per_addr(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (parse_uint(v, 1, 4096, &o->per_addr) < 0)
		FAIL("1 to 4096");
	return 0;
}

static int set_verbose(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	if (!v || strcmp(v, "on") == 0 || strcmp(v, "yes") == 0)
		o->verbose = 1;
	else if (strcmp(v, "off") == 0 || strcmp(v, "no") == 0)
		o->verbose = 0;
	else
		FAIL("on or off (or the key alone)");
	return 0;
}

static int set_config(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	o->config_given = 1;
	return copy_str(o->config, sizeof(o->config), v, why, n);
}

static int set_check(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	(void)v, (void)why, (void)n;
	o->check_config = 1;
	return 0;
}

static int set_help(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	(void)v, (void)why, (void)n;
	o->help = 1;
	return 0;
}

static int set_version(struct vdiskd_opts *o, const char *v, char *why, size_t n)
{
	(void)v, (void)why, (void)n;
	o->version = 1;
	return 0;
}

#undef FAIL

static const struct vdiskd_opt opt_table[] = {
	{ "listen", 0, "ADDR:PORT", 0, set_listen,
	  "IPv4 address and TCP port to listen on (default 0.0.0.0:3260)" },
	{ "lun", 0, "IQN=FILE[,OPT]", O_REPEAT, set_lun,
	  "export FILE as the next LUN of target IQN; OPT: ro (read-only),\n"
	  "overlay=PATH (FILE is a read-only base, writes go to the\n"
	  "copy-on-write overlay PATH.data/PATH.map)" },
	{ "allow", 0, "IQN", O_REPEAT, set_allow,
	  "only these initiators may log in (repeatable; default anyone)" },
	{ "chap", 0, "USER:SECRET", O_SECRET, set_chap, "require CHAP from initiators" },
	{ "mutual-chap", 0, "USER:SECRET", O_SECRET, set_mutual,
	  "answer the initiator's CHAP challenge (mutual CHAP)" },
	{ "db", 0, "PATH", 0, set_db, "serve the clients of this database (no --lun then)" },
	{ "overlay-dir", 0, "DIR", 0, set_overlay_dir,
	  "client overlays (default " VDISKD_DEFAULT_OVERLAY_DIR ")" },
	{ "target", 0, "IQN", 0, set_target,
	  "the target name clients log in to (default: the DB setting\n"
	  "target_iqn, else iqn.2026-11.lan.vdisk:disk)" },
	{ "ctl", 0, "PATH", 0, set_ctl,
	  "control socket: status, overlay-reset CLIENT [force],\n"
	  "role primary|secondary, mirror-resolve CLIENT keep-local\n"
	  "(default " VDISKD_DEFAULT_CTL " with --db, none standalone)" },
	{ "role", 0, "primary|secondary", 0, set_role,
	  "the role at start (default primary; under standbyd give\n"
	  "secondary: standbyd promotes it on takeover)" },
	{ "node", 0, "NAME", 0, set_node, "this server's name in the DB (default the host name)" },
	{ "replica-listen", 0, "ADDR:PORT", 0, set_replica_listen,
	  "the HA-link address where the peer's mirror logs in\n"
	  "(CHAP with the pair secret; accepted while secondary)" },
	{ "mirror-peer", 0, "ADDR:PORT", 0, set_mirror_peer,
	  "the peer's replica listener: hot-standby clients' writes\n"
	  "are mirrored there while primary" },
	{ "mirror-secret", 0, "FILE", 0, set_mirror_secret,
	  "the pair secret (first line; the same file on both servers;\n"
	  "mode 0600)" },
	{ "mirror-timeout-ms", 0, "N", 0, set_mirror_timeout,
	  "the peer is given up after N ms without an answer (default\n"
	  "3000): writes then go on, recorded for resync" },
	{ "fence", 0, "SOCKET|none", 0, set_fence,
	  "writes the peer lacks are acknowledged only once standbyd at\n"
	  "SOCKET has the peer's copy marked outdated, or the peer dead\n"
	  "(default " VDISKD_DEFAULT_FENCE "); none: at once, and a\n"
	  "takeover can then lose them (docs/mirror.md, Fencing)" },
	{ "resync-rate", 0, "MBPS", 0, set_resync_rate,
	  "resync bandwidth cap in MB/s (default 0: none)" },
	{ "test-fault", 0, "FAULT", O_CMDLINE | O_HIDDEN, set_test_fault,
	  "for tests only (docs/mirror.md)" },
	{ "threads", 0, "N", 0, set_threads, "disk worker threads (default 4)" },
	{ "nop-interval", 0, "SEC", 0, set_nop,
	  "NOP-In keepalive on idle connections (default 5, 0 off)" },
	{ "login-timeout", 0, "SEC", 0, set_login_timeout,
	  "a connection still logging in after SEC is dropped (default 15)" },
	{ "max-conns-per-addr", 0, "N", 0, set_per_addr,
	  "connections one initiator address may hold (default 8; the\n"
	  "replica listener: no cap, the peer opens one per client)" },
	{ "verbose", 0, NULL, O_FLAG, set_verbose, "log every login and connection" },
	{ "config", 'c', "FILE", O_CMDLINE, set_config,
	  "read options from FILE, one `key value` per line, the keys\n"
	  "these options' names (default " VDISKD_DEFAULT_CONF " if it\n"
	  "exists); the command line wins over the file" },
	{ "check-config", 0, NULL, O_CMDLINE | O_FLAG, set_check,
	  "check the options and the file, say so in one line (with\n"
	  "--verbose, print every option read), and exit" },
	{ "version", 0, NULL, O_CMDLINE | O_FLAG, set_version, "print the version and exit" },
	{ "help", 'h', NULL, O_CMDLINE | O_FLAG, set_help, "this text" },
};

#define NOPTS (sizeof(opt_table) / sizeof(opt_table[0]))

void vdiskd_opts_init(struct vdiskd_opts *o)
{
	memset(o, 0, sizeof(*o));
	strcpy(o->addr, "0.0.0.0");
	o->port = 3260;
	strcpy(o->overlay_dir, VDISKD_DEFAULT_OVERLAY_DIR);
	strcpy(o->fence, VDISKD_DEFAULT_FENCE);
	o->mirror_timeout_ms = 3000;
	o->threads = 4;
	o->nop_s = 5;
	o->login_s = ISCSI_LOGIN_TIMEOUT_MS / 1000;
	o->per_addr = ISCSI_CONNS_PER_ADDR;
}

static void clear_lists(struct vdiskd_opts *o, const struct vdiskd_opt *opt)
{
	unsigned i;

	if (opt->set == set_lun) {
		o->nspecs = 0;
	} else if (opt->set == set_allow) {
		for (i = 0; i < o->nallowed; i++)
			free(o->allowed[i]);
		o->nallowed = 0;
	}
}

void vdiskd_opts_free(struct vdiskd_opts *o)
{
	unsigned i;

	free(o->specs);
	o->specs = NULL;
	o->nspecs = o->cap_specs = 0;
	for (i = 0; i < o->nallowed; i++)
		free(o->allowed[i]);
	free(o->allowed);
	o->allowed = NULL;
	o->nallowed = 0;
	explicit_bzero(&o->chap, sizeof(o->chap));
	explicit_bzero(&o->mutual, sizeof(o->mutual));
}

/* ---- the file ---- */

static const struct vdiskd_opt *find_key(const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < NOPTS; i++)
		if (strlen(opt_table[i].name) == len && memcmp(opt_table[i].name, key, len) == 0)
			return &opt_table[i];
	return NULL;
}

/* One line (without its newline, NUL-terminated, no NUL inside) of file name. */
static int parse_line(struct vdiskd_opts *o, struct vdiskd_opts *scratch, const char *name,
		      unsigned lineno, char *line, unsigned char *seen, const unsigned char *skip,
		      char *err, size_t errlen)
{
	const struct vdiskd_opt *opt;
	char *key = line, *val, *end, why[256];
	size_t klen;
	int rc;

	while (*key == ' ' || *key == '\t' || *key == '\r')
		key++;
	end = key + strlen(key);
	while (end > key && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if (!*key || *key == '#')
		return 0;
	klen = strcspn(key, " \t");
	val = key + klen;
	while (*val == ' ' || *val == '\t')
		val++;
	opt = find_key(key, klen);
	if (!opt || (opt->flags & O_CMDLINE)) {
		key[klen] = '\0';
		snprintf(err, errlen, "%s:%u: unknown key '%.64s'%s", name, lineno, key,
			 key[0] == '-' ? " (keys are the long options without the --)" :
			 opt ? " (a command-line option only)" : "");
		return -EINVAL;
	}
	if (!*val && !(opt->flags & O_FLAG)) {
		snprintf(err, errlen, "%s:%u: %s: needs a value (%s)", name, lineno, opt->name,
			 opt->arg);
		return -EINVAL;
	}
	if (seen[opt - opt_table] && !(opt->flags & O_REPEAT)) {
		snprintf(err, errlen, "%s:%u: %s set twice", name, lineno, opt->name);
		return -EINVAL;
	}
	seen[opt - opt_table] = 1;
	if (opt->flags & O_SECRET)
		o->file_has_secret = 1;
	why[0] = '\0';
	/* A key the command line gives too is checked all the same, on a scratch copy. */
	rc = opt->set(skip && skip[opt - opt_table] ? scratch : o, *val ? val : NULL, why,
		      sizeof(why));
	if (rc < 0) {
		if (opt->flags & O_SECRET)
			snprintf(err, errlen, "%s:%u: %s: %s", name, lineno, opt->name, why);
		else
			snprintf(err, errlen, "%s:%u: %s %.200s: %s", name, lineno, opt->name, val,
				 why);
		return -EINVAL;
	}
	return 0;
}

int vdiskd_opts_parse_text(struct vdiskd_opts *o, const char *name, const char *text,
			   size_t len, const unsigned char *skip, char *err, size_t errlen)
{
	unsigned char seen[NOPTS] = { 0 };
	struct vdiskd_opts *scratch;
	char *line;
	size_t pos = 0;
	unsigned lineno = 0;
	int rc = 0;

	if (len > VDISKD_CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", name, VDISKD_CONF_FILE_MAX);
		return -EINVAL;
	}
	line = malloc(VDISKD_CONF_LINE_MAX + 1);
	scratch = malloc(sizeof(*scratch));
	if (!line || !scratch) {
		free(line);
		free(scratch);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	vdiskd_opts_init(scratch);
	while (pos < len && rc == 0) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t llen = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		if (llen > VDISKD_CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", name, lineno,
				 VDISKD_CONF_LINE_MAX);
			rc = -EINVAL;
			break;
		}
		if (memchr(text + pos, '\0', llen)) {
			snprintf(err, errlen, "%s:%u: a NUL byte in the line", name, lineno);
			rc = -EINVAL;
			break;
		}
		memcpy(line, text + pos, llen);
		line[llen] = '\0';
		rc = parse_line(o, scratch, name, lineno, line, seen, skip, err, errlen);
		pos += llen + (nl ? 1 : 0);
	}
	explicit_bzero(line, VDISKD_CONF_LINE_MAX + 1);
	free(line);
	vdiskd_opts_free(scratch);
	free(scratch);
	return rc;
}

/* Reads the file whole (at most VDISKD_CONF_FILE_MAX bytes). A file that holds a CHAP
 * secret must keep it (secret_mode_check). */
static int load_file(struct vdiskd_opts *o, const char *path, const unsigned char *skip,
		     char *err, size_t errlen)
{
	struct stat sb;
	char *buf, why[160];
	size_t len = 0;
	ssize_t got;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if (sb.st_size > VDISKD_CONF_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %d bytes", path, VDISKD_CONF_FILE_MAX);
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (len < (size_t)sb.st_size &&
	       (got = read(fd, buf + len, (size_t)sb.st_size - len)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(buf);
			close(fd);
			return rc;
		}
		len += (size_t)got;
	}
	close(fd);
	rc = vdiskd_opts_parse_text(o, path, buf, len, skip, err, errlen);
	explicit_bzero(buf, len);
	free(buf);
	if (rc == 0 && o->file_has_secret && secret_mode_check(&sb, why, sizeof(why))) {
		snprintf(err, errlen, "%s: holds a CHAP secret and is %s", path, why);
		return -EPERM;
	}
	return rc;
}

/* ---- the command line ---- */

struct cmd_arg {
	unsigned idx;
	const char *val;
};

static void arg_error(const struct vdiskd_opt *opt, const char *val, const char *why)
{
	if (val && !(opt->flags & O_SECRET))
		fprintf(stderr, "vdiskd: --%s %s: %s\n", opt->name, val, why);
	else
		fprintf(stderr, "vdiskd: --%s: %s\n", opt->name, why);
}

int vdiskd_opts_load(struct vdiskd_opts *o, int argc, char **argv)
{
	struct option longopts[NOPTS + 1];
	unsigned char given[NOPTS] = { 0 }, cleared[NOPTS] = { 0 };
	char shortopts[16] = "", why[256], err[VDISKD_PATH_MAX + 512];
	struct cmd_arg *args;
	unsigned nargs = 0, i;
	size_t ns = 0;
	int c, rc = 0;

	for (i = 0; i < NOPTS; i++) {
		longopts[i].name = opt_table[i].name;
		longopts[i].has_arg = opt_table[i].flags & O_FLAG ? no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 256 + (int)i;
		if (opt_table[i].shortopt && ns + 3 < sizeof(shortopts)) {
			shortopts[ns++] = (char)opt_table[i].shortopt;
			if (opt_table[i].arg)
				shortopts[ns++] = ':';
			shortopts[ns] = '\0';
		}
	}
	memset(&longopts[NOPTS], 0, sizeof(longopts[NOPTS]));
	args = calloc((size_t)argc + 1, sizeof(*args));
	if (!args) {
		fprintf(stderr, "vdiskd: out of memory\n");
		return 1;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (c < 256) {
			for (i = 0; i < NOPTS; i++)
				if (opt_table[i].shortopt == c)
					break;
			if (i == NOPTS) {
				/* optopt is the option when only its value is missing (an unknown
				 * short option's letter too, an unknown long option's 0) */
				int missing = optopt >= 256 ||
					      (optopt > 0 && strchr(shortopts, optopt));

				fprintf(stderr, "vdiskd: %s '%s' (see vdiskd --help)\n",
					missing ? "a value is missing after" : "unknown option",
					argv[optind - 1]);
				rc = 2;
				goto out;
			}
		} else {
			i = (unsigned)(c - 256);
		}
		args[nargs].idx = i;
		args[nargs++].val = optarg;
		given[i] = 1;
	}
	if (optind < argc) {
		fprintf(stderr, "vdiskd: unexpected argument '%s'\n", argv[optind]);
		rc = 2;
		goto out;
	}
	/* The command-line-only options first: they say which file to read, or that none is. */
	for (i = 0; i < nargs; i++) {
		const struct vdiskd_opt *opt = &opt_table[args[i].idx];

		if (!(opt->flags & O_CMDLINE))
			continue;
		if (opt->set(o, args[i].val, why, sizeof(why)) < 0) {
			arg_error(opt, args[i].val, why);
			rc = 2;
			goto out;
		}
	}
	if (o->help || o->version)
		goto out;
	if (!o->config_given && access(VDISKD_DEFAULT_CONF, F_OK) == 0)
		strcpy(o->config, VDISKD_DEFAULT_CONF);
	if (o->config[0] && load_file(o, o->config, given, err, sizeof(err)) < 0) {
		fprintf(stderr, "vdiskd: %s\n", err);
		rc = 2;
		goto out;
	}
	for (i = 0; i < nargs; i++) {
		const struct vdiskd_opt *opt = &opt_table[args[i].idx];

		if (opt->flags & O_CMDLINE)
			continue;
		if ((opt->flags & O_REPEAT) && !cleared[args[i].idx]) {
			clear_lists(o, opt);	/* the command line's list replaces the file's */
			cleared[args[i].idx] = 1;
		}
		if (opt->set(o, args[i].val, why, sizeof(why)) < 0) {
			arg_error(opt, args[i].val, why);
			rc = 2;
			goto out;
		}
	}
out:
	free(args);
	return rc;
}

int vdiskd_opts_check(struct vdiskd_opts *o, char *err, size_t errlen)
{
	if (o->nspecs == 0 && !o->db_path[0]) {
		snprintf(err, errlen, "nothing to export: give --db PATH or at least one "
			 "--lun IQN=FILE");
		return -EINVAL;
	}
	if (o->nspecs && o->db_path[0]) {
		snprintf(err, errlen, "--lun and --db exclude each other");
		return -EINVAL;
	}
	if (o->have_mutual && !o->have_chap) {
		snprintf(err, errlen, "--mutual-chap needs --chap");
		return -EINVAL;
	}
	if ((o->replica_listen[0] || o->mirror_peer[0]) && (!o->db_path[0] || !o->secret_file[0])) {
		snprintf(err, errlen, "--replica-listen and --mirror-peer need --db and "
			 "--mirror-secret");
		return -EINVAL;
	}
	if (o->db_path[0] && !o->ctl_path[0])
		strcpy(o->ctl_path, VDISKD_DEFAULT_CTL);
	return 0;
}

void vdiskd_opts_usage(FILE *f)
{
	size_t i;

	fprintf(f,
"usage: vdiskd --listen ADDR:PORT --lun IQN=FILE[,ro][,overlay=PATH] [options]\n"
"       vdiskd --db PATH [--listen ADDR:PORT] [--overlay-dir DIR] [--target IQN] [options]\n"
"       vdiskd [-c FILE] --check-config\n"
"\n"
"Exports files as SCSI disks over iSCSI (RFC 7143). Several --lun with one IQN are the\n"
"LUNs 0, 1, ... of that target. With --db, a login's initiator name selects the client\n"
"record; its image is the read-only base and DIR/<client>.data/.map its overlay.\n"
"\n");
	for (i = 0; i < NOPTS; i++) {
		const struct vdiskd_opt *opt = &opt_table[i];
		const char *h = opt->help, *nl;
		char head[64];
		int w;

		if (opt->flags & O_HIDDEN)
			continue;
		if (opt->shortopt)
			w = snprintf(head, sizeof(head), "-%c, --%s%s%s", opt->shortopt, opt->name,
				     opt->arg ? " " : "", opt->arg ? opt->arg : "");
		else
			w = snprintf(head, sizeof(head), "    --%s%s%s", opt->name,
				     opt->arg ? " " : "", opt->arg ? opt->arg : "");
		if (w > 25)
			fprintf(f, "  %s\n%29s", head, "");
		else
			fprintf(f, "  %-27s", head);
		for (;;) {
			nl = strchr(h, '\n');
			fprintf(f, "%.*s\n", nl ? (int)(nl - h) : (int)strlen(h), h);
			if (!nl)
				break;
			h = nl + 1;
			fprintf(f, "%29s", "");
		}
	}
	fprintf(f, "\nEvery option is also a key of the file: `listen 0.0.0.0:3260`, `lun IQN=FILE`,\n"
		"`verbose`. Exit status: 0 stopped by SIGTERM, 1 runtime failure, 2 usage or\n"
		"configuration error.\n");
}

void vdiskd_opts_print(const struct vdiskd_opts *o, FILE *f)
{
	unsigned i;

	fprintf(f, "listen %s:%u\n", o->addr, o->port);
	for (i = 0; i < o->nspecs; i++)
		fprintf(f, "lun %s=%s%s%s%s\n", o->specs[i].iqn, o->specs[i].path,
			o->specs[i].read_only ? ",ro" : "", o->specs[i].overlay[0] ? ",overlay=" : "",
			o->specs[i].overlay);
	for (i = 0; i < o->nallowed; i++)
		fprintf(f, "allow %s\n", o->allowed[i]);
	if (o->have_chap)
		fprintf(f, "chap %s:(secret)\n", o->chap.user);
	if (o->have_mutual)
		fprintf(f, "mutual-chap %s:(secret)\n", o->mutual.user);
	if (o->db_path[0]) {
		fprintf(f, "db %s\noverlay-dir %s\n", o->db_path, o->overlay_dir);
		if (o->target[0])
			fprintf(f, "target %s\n", o->target);
	}
	if (o->ctl_path[0])
		fprintf(f, "ctl %s\n", o->ctl_path);
	fprintf(f, "role %s\n", o->secondary ? "secondary" : "primary");
	if (o->node[0])
		fprintf(f, "node %s\n", o->node);
	if (o->replica_listen[0])
		fprintf(f, "replica-listen %s\n", o->replica_listen);
	if (o->mirror_peer[0])
		fprintf(f, "mirror-peer %s\n", o->mirror_peer);
	if (o->secret_file[0])
		fprintf(f, "mirror-secret %s\n", o->secret_file);
	if (o->replica_listen[0] || o->mirror_peer[0])
		fprintf(f, "mirror-timeout-ms %u\nfence %s\nresync-rate %u\n", o->mirror_timeout_ms,
			o->fence, o->rate_mbps);
	fprintf(f, "threads %u\nnop-interval %u\nlogin-timeout %u\nmax-conns-per-addr %u\n",
		o->threads, o->nop_s, o->login_s, o->per_addr);
	if (o->verbose)
		fprintf(f, "verbose\n");
}
