/* vdiskd's option table (vdisk-server/vdiskd_opts.c): the configuration file's syntax, every
 * must-fail vector naming its line and key, the command line winning over the file, the
 * checks across options, and a file with a CHAP secret readable by others refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/lib/tap.h"
#include "vdisk-server/mirror/store_mirror.h"
#include "vdisk-server/vdiskd_opts.h"

static struct vdiskd_opts o;
static char err[8192];

/* Parses text into a fresh o; returns the parser's code. */
static int parse(const char *text)
{
	vdiskd_opts_free(&o);
	vdiskd_opts_init(&o);
	err[0] = '\0';
	return vdiskd_opts_parse_text(&o, "t.conf", text, strlen(text), NULL, err, sizeof(err));
}

/* text must fail with an error containing want. */
static void must_fail(const char *text, const char *want, const char *what)
{
	int rc = parse(text);

	ok(rc == -EINVAL && strstr(err, want) != NULL, "refused: %s", what);
	if (rc != -EINVAL || !strstr(err, want))
		diag("rc %d, err '%s', want '%s'", rc, err, want);
}

static int load_argv(int argc, char **argv)
{
	vdiskd_opts_free(&o);
	vdiskd_opts_init(&o);
	return vdiskd_opts_load(&o, argc, argv);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

int main(void)
{
	char dir[] = "/tmp/vdiskd-opts.XXXXXX", conf[64], big[VDISKD_CONF_LINE_MAX + 64];
	static const char nul_text[] = "threads 4\nlisten 1.2.3.4:3260\0x\n";

	/* a whole file, every kind of key */
	is_int(parse("# vdiskd.conf\n\n  listen 10.0.0.1:3261  \n"
		     "db /var/lib/vdisk/vdisk.db\noverlay-dir /srv/ov\ntarget iqn.2026-11.lan.vdisk:x\n"
		     "ctl /run/vdisk/v.sock\nrole secondary\nnode srv-a\n"
		     "replica-listen 10.99.0.1:3261\nmirror-peer 10.99.0.2:3261\n"
		     "mirror-secret /etc/vdisk/mirror.secret\nmirror-timeout-ms 500\n"
		     "fence none\nresync-rate 100\nthreads 8\nnop-interval 0\nlogin-timeout 20\n"
		     "max-conns-per-addr 2\nverbose\r\n"), 0, "a full file parses");
	is_str(o.addr, "10.0.0.1", "listen: address");
	is_int(o.port, 3261, "listen: port");
	is_str(o.db_path, "/var/lib/vdisk/vdisk.db", "db");
	is_str(o.overlay_dir, "/srv/ov", "overlay-dir");
	is_str(o.target, "iqn.2026-11.lan.vdisk:x", "target");
	is_int(o.secondary, 1, "role secondary");
	is_str(o.node, "srv-a", "node");
	is_str(o.raddr, "10.99.0.1", "replica-listen address");
	is_int(o.rport, 3261, "replica-listen port");
	is_str(o.mirror_peer, "10.99.0.2:3261", "mirror-peer");
	is_int(o.mirror_timeout_ms, 500, "mirror-timeout-ms");
	is_int(o.fence_off, 1, "fence none");
	is_int(o.rate_mbps, 100, "resync-rate");
	is_int(o.threads, 8, "threads");
	is_int(o.nop_s, 0, "nop-interval 0");
	is_int(o.login_s, 20, "login-timeout");
	is_int(o.per_addr, 2, "max-conns-per-addr");
	is_int(o.verbose, 1, "a bare flag key sets it (CRLF ending too)");
	is_int(vdiskd_opts_check(&o, err, sizeof(err)), 0, "the full file passes the checks");

	is_int(parse("lun iqn.2026-11.lan.vdisk:a=/x\nlun iqn.2026-11.lan.vdisk:a=/y,ro\n"
		     "allow iqn.2026-11.lan.vdisk:pc1\nallow iqn.2026-11.lan.vdisk:pc2\n"
		     "chap u:secret with spaces # kept\nverbose off\n"), 0,
	       "repeatable keys, a value with blanks and a #");
	is_int(o.nspecs, 2, "two lun lines: two LUNs");
	is_int(o.specs[1].read_only, 1, "the second is read-only");
	is_int(o.nallowed, 2, "two allow lines");
	is_str(o.chap.secret, "secret with spaces # kept", "the value is the rest of the line");
	is_int(o.verbose, 0, "verbose off");
	is_int(parse(""), 0, "an empty file is fine");
	is_int(parse("listen 1.2.3.4:5"), 0, "a last line without a newline");
	is_int(o.port, 5, "... is read");

	/* must-fail vectors: each names the file, the line and the key */
	must_fail("threads 4\nbogus 1\n", "t.conf:2: unknown key 'bogus'", "unknown key");
	must_fail("--listen 1.2.3.4:5\n", "keys are the long options without the --",
		  "a key written as a flag");
	must_fail("config /etc/x\n", "a command-line option only", "config inside the file");
	must_fail("test-fault lose-final-request\n", "unknown key 'test-fault'",
		  "test faults are not file keys");
	must_fail("check-config\n", "a command-line option only", "check-config in the file");
	must_fail("listen\n", "t.conf:1: listen: needs a value (ADDR:PORT)", "missing value");
	must_fail("listen 1.2.3.4\n", "t.conf:1: listen 1.2.3.4: expected ADDR:PORT",
		  "listen without a port");
	must_fail("listen 1.2.3.4:0\n", "expected ADDR:PORT", "port 0");
	must_fail("listen 1.2.3.4:65536\n", "expected ADDR:PORT", "port 65536");
	must_fail("listen 1.2.3.4:-1\n", "expected ADDR:PORT", "a negative port");
	must_fail("listen :3260\n", "expected ADDR:PORT", "no address");
	must_fail("threads 0\n", "threads 0: 1 to 64", "threads 0");
	must_fail("threads 65\n", "1 to 64", "threads 65");
	must_fail("threads -1\n", "1 to 64", "a negative number");
	must_fail("threads 4x\n", "1 to 64", "trailing characters");
	must_fail("threads 99999999999999999999999\n", "1 to 64", "overflow");
	must_fail("threads 4\nthreads 5\n", "t.conf:2: threads set twice", "a scalar twice");
	must_fail("nop-interval 3601\n", "0 to 3600 seconds", "nop-interval too long");
	must_fail("login-timeout 0\n", "1 to 3600 seconds", "login-timeout 0");
	must_fail("max-conns-per-addr 4097\n", "1 to 4096", "max-conns-per-addr too high");
	must_fail("mirror-timeout-ms 99\n", "100 to 600000", "mirror timeout too short");
	must_fail("resync-rate 100001\n", "0 (no cap) to 100000", "resync rate too high");
	must_fail("role boss\n", "primary or secondary", "unknown role");
	must_fail("target not-an-iqn\n", "not an iSCSI name", "a bad target name");
	must_fail("allow nobody\n", "not an iSCSI name", "a bad initiator name");
	must_fail("lun iqn.2026-11.lan.vdisk:a\n", "t.conf:1: lun", "lun without a file");
	must_fail("lun iqn.2026-11.lan.vdisk:a=/x,bogus\n", "t.conf:1: lun", "unknown lun option");
	must_fail("chap nocolon\n", "t.conf:1: chap: expected USER:SECRET", "chap without a colon");
	parse("chap u:hunter2x\nchap v:hunter2y\n");
	ok(!strstr(err, "hunter2"), "an error about chap never echoes the secret");
	must_fail("mutual-chap :x\n", "expected USER:SECRET", "mutual-chap without a user");
	must_fail("verbose maybe\n", "on or off", "a flag with a bad value");
	must_fail("node 0123456789012345678901234567890123456789012345678901234567890123456789\n",
		  "a server name of 1 to 63 bytes", "a node name too long");
	must_fail("fence /run/0123456789012345678901234567890123456789012345678901234567890123456789"
		  "0123456789012345678901234567890123456789\n", "a socket path of at most",
		  "a fence socket path too long");
	must_fail("mirror-peer 10.0.0.1\n", "expected ADDR:PORT", "a mirror peer without a port");
	must_fail("replica-listen x:y\n", "expected ADDR:PORT", "a replica listener without a port");
	ok(vdiskd_opts_parse_text(&o, "t.conf", nul_text, sizeof(nul_text) - 1, NULL, err,
				  sizeof(err)) == -EINVAL && strstr(err, "t.conf:2: a NUL byte"),
	   "refused: a NUL byte, naming its line");
	memset(big, 'a', sizeof(big));
	memcpy(big, "db ", 3);
	big[sizeof(big) - 1] = '\0';
	must_fail(big, "t.conf:1: line longer than 8192 bytes", "an overlong line");
	big[VDISKD_PATH_MAX + 10] = '\0';
	must_fail(big, "t.conf:1: db aaaa", "a path longer than PATH_MAX");
	ok(strstr(err, "longer than 4095 bytes") != NULL, "... says the limit");

	/* the checks across options */
	parse("threads 4\n");
	ok(vdiskd_opts_check(&o, err, sizeof(err)) == -EINVAL && strstr(err, "nothing to export"),
	   "nothing to export");
	parse("db /x\nlun iqn.2026-11.lan.vdisk:a=/x\n");
	ok(vdiskd_opts_check(&o, err, sizeof(err)) == -EINVAL && strstr(err, "exclude each other"),
	   "lun and db exclude each other");
	parse("db /x\nmirror-peer 10.0.0.2:3261\n");
	ok(vdiskd_opts_check(&o, err, sizeof(err)) == -EINVAL && strstr(err, "--mirror-secret"),
	   "the mirror needs a secret");
	parse("lun iqn.2026-11.lan.vdisk:a=/x\nmutual-chap u:s\n");
	ok(vdiskd_opts_check(&o, err, sizeof(err)) == -EINVAL && strstr(err, "needs --chap"),
	   "mutual CHAP needs CHAP");
	parse("db /x\n");
	vdiskd_opts_check(&o, err, sizeof(err));
	is_str(o.ctl_path, VDISKD_DEFAULT_CTL, "database mode: the default control socket");

	/* the command line and the file */
	if (!mkdtemp(dir)) {
		diag("no temporary folder: %s", strerror(errno));
		return done_testing();
	}
	snprintf(conf, sizeof(conf), "%s/vdiskd.conf", dir);
	write_file(conf, "listen 10.0.0.1:3260\nthreads 2\nlun iqn.2026-11.lan.vdisk:a=/f1\n"
		   "lun iqn.2026-11.lan.vdisk:a=/f2\n", 0644);
	{
		char *argv[] = { "vdiskd", "-c", conf, "--threads", "6", NULL };

		is_int(load_argv(5, argv), 0, "-c FILE with a flag");
		is_int(o.threads, 6, "the command line wins over the file");
		is_str(o.addr, "10.0.0.1", "the file gives what the command line does not");
		is_int(o.nspecs, 2, "the file's LUNs");
	}
	{
		char *argv[] = { "vdiskd", "--config", conf, "--lun", "iqn.2026-11.lan.vdisk:b=/g",
				 NULL };

		is_int(load_argv(5, argv), 0, "--lun on the command line");
		is_int(o.nspecs, 1, "replaces the file's list");
		is_str(o.specs[0].path, "/g", "... with its own");
	}
	{
		char *argv[] = { "vdiskd", "--config", conf, "--threads", "6", NULL };

		write_file(conf, "threads 99\n", 0644);
		is_int(load_argv(5, argv), 2, "a bad file key is an error even when the command "
		       "line gives the key");
	}
	{
		char missing[96], *argv[] = { "vdiskd", "--config", missing, NULL };

		snprintf(missing, sizeof(missing), "%s/none.conf", dir);
		is_int(load_argv(3, argv), 2, "a missing --config file: configuration error");
	}
	{
		char *argv[] = { "vdiskd", "-c", conf, NULL };

		write_file(conf, "lun iqn.2026-11.lan.vdisk:a=/f\nchap u:secretsecret\n", 0644);
		is_int(load_argv(3, argv), 2, "a file with a CHAP secret, mode 0644: refused");
		chmod(conf, 0600);
		is_int(load_argv(3, argv), 0, "the same file, mode 0600: read");
		is_int(o.have_chap, 1, "... with its CHAP user");
	}
	{
		char *argv[] = { "vdiskd", "--threads", "x", NULL };

		is_int(load_argv(3, argv), 2, "a bad flag value: usage error");
	}
	{
		char *argv[] = { "vdiskd", "--test-fault", "lose-final-request", "--db", "/x", NULL };

		is_int(load_argv(5, argv), 0, "--test-fault on the command line");
		is_int(o.test_fault, MIRROR_FAULT_LOSE_REQUEST, "... is read");
	}
	{
		char *argv[] = { "vdiskd", "--version", "--bogus", NULL };

		is_int(load_argv(3, argv), 2, "an unknown option is a usage error, --version or not");
	}
	{
		char *argv[] = { "vdiskd", "--version", NULL };

		is_int(load_argv(2, argv), 0, "--version");
		is_int(o.version, 1, "... is seen");
	}
	{
		char *argv[] = { "vdiskd", "stray", NULL };

		is_int(load_argv(2, argv), 2, "a stray operand: usage error");
	}
	unlink(conf);
	rmdir(dir);
	vdiskd_opts_free(&o);
	return done_testing();
}
