/* standbyd config parsers: the seed text's ha.cf loads, and table-driven must-fail vectors for
 * ha.cf, authkeys and haresources name the line at fault. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "standby/config.h"
#include "tests/lib/tap.h"

/* The example from the background text (Heartbeat 2.0 guide), comments and all. */
static const char seed_hacf[] =
	"logfile /var/log/ha_log/ha-log.log ## ha的日志文件记录位置。如没有该目录,则需要手动添加\n"
	"bcast eth1 ##使用eth1做心跳监测\n"
	"keepalive 2 ##设定心跳(监测)时间时间为2秒\n"
	"warntime 10\n"
	"deadtime 30\n"
	"initdead 120\n"
	"hopfudge 1\n"
	"udpport 694 ##使用udp端口694 进行心跳监测\n"
	"auto_failback on\n"
	"node server201 ##节点1,必须要与 uname -n 指令得到的结果一致。\n"
	"node server202 ##节点2\n"
	"ping 192.168.10.1 ##通过ping 网关来监测心跳是否正常。\n"
	"respawn hacluster /usr/lib64/heartbeat/ipfail\n"
	"apiauth ipfail gid=root uid=root\n"
	"debugfile /Datas/logs/ha_log/ha-debug.log\n";

static int parse_cf(const char *text, struct ha_cf *cf, struct cfg_err *err)
{
	int rc;

	ha_cf_defaults(cf);
	rc = ha_cf_parse(cf, "ha.cf", text, strlen(text), err);
	return rc ? rc : ha_cf_finish(cf, "ha.cf", err);
}

static void test_seed(void)
{
	struct ha_cf cf;
	struct cfg_err err = { "" };

	is_int(parse_cf(seed_hacf, &cf, &err), 0, "seed ha.cf loads (%s)", err.msg);
	is_int(cf.keepalive_ms, 2000, "keepalive 2 s");
	is_int(cf.warntime_ms, 10000, "warntime 10 s");
	is_int(cf.deadtime_ms, 30000, "deadtime 30 s");
	is_int(cf.initdead_ms, 120000, "initdead 120 s");
	is_int(cf.udpport, 694, "udpport");
	is_int(cf.nlinks, 1, "one link");
	is_int(cf.links[0].kind, HA_LINK_BCAST, "bcast link");
	is_str(cf.links[0].ifname, "eth1", "on eth1");
	is_str(cf.nodes[0], "server201", "node 1");
	is_str(cf.nodes[1], "server202", "node 2");
	is_int(cf.nping, 1, "one ping node");
	is_int(cf.ping[0], 0xc0a80a01, "ping 192.168.10.1");
	is_int(cf.auto_failback, 1, "auto_failback on");
	is_int(cf.tickle_acks, 1, "tickle_acks on by default");
	is_str(cf.logfile, "/var/log/ha_log/ha-log.log", "logfile");
	is_str(cf.debugfile, "/Datas/logs/ha_log/ha-debug.log", "debugfile");
}

static void test_times(void)
{
	static const struct { const char *s; int rc; unsigned ms; } v[] = {
		{ "2", 0, 2000 }, { "1.5", 0, 1500 }, { "500ms", 0, 500 }, { "2s", 0, 2000 },
		{ "0.1", 0, 100 }, { "0.25", 0, 250 }, { "100ms", 0, 100 },
		{ "", -EINVAL, 0 }, { "ms", -EINVAL, 0 }, { "-1", -EINVAL, 0 },
		{ "1.5ms", -EINVAL, 0 }, { "2m", -EINVAL, 0 }, { "99999999999", -EINVAL, 0 },
		{ "1 s", -EINVAL, 0 }, { ".", -EINVAL, 0 }, { "4000", -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		unsigned ms = 0;
		int rc = ha_parse_time_ms(v[i].s, &ms);

		is_int(rc, v[i].rc, "time '%s' rc", v[i].s);
		if (!v[i].rc)
			is_int(ms, v[i].ms, "time '%s' = %u ms", v[i].s, v[i].ms);
	}
}

static const char base_nodes[] = "node a\nnode b\nbcast eth0\n";

static void test_hacf_good(void)
{
	struct ha_cf cf;
	struct cfg_err err = { "" };
	char text[1024];

	snprintf(text, sizeof(text), "%skeepalive 100ms\ndeadtime 500ms\nucast eth1 10.0.0.2\n"
		 "mcast eth2 239.0.0.1 694 1 0\ncluster lab\nauto_failback off\n"
		 "probe_wait 50ms\nmonitor_interval 1\ntickle_acks off\n", base_nodes);
	is_int(parse_cf(text, &cf, &err), 0, "ms timings, ucast, mcast, extensions (%s)", err.msg);
	is_int(cf.keepalive_ms, 100, "keepalive 100ms");
	is_int(cf.deadtime_ms, 500, "deadtime 500ms");
	is_int(cf.warntime_ms, 250, "warntime defaults to half deadtime");
	is_int(cf.initdead_ms, 1000, "initdead defaults to twice deadtime");
	is_int(cf.nlinks, 3, "three links");
	is_int(cf.links[1].addr, 0x0a000002, "ucast address");
	is_int(cf.links[2].kind, HA_LINK_MCAST, "mcast link");
	is_str(cf.cluster, "lab", "cluster name");
	is_int(cf.auto_failback, 0, "auto_failback off");
	is_int(cf.probe_ms, 50, "probe_wait");
	is_int(cf.monitor_ms, 1000, "monitor_interval");
	is_int(cf.tickle_acks, 0, "tickle_acks off");
	snprintf(text, sizeof(text), "%stickle_acks off\ntickle_acks yes\n", base_nodes);
	is_int(parse_cf(text, &cf, &err), 0, "tickle_acks yes (%s)", err.msg);
	is_int(cf.tickle_acks, 1, "the last tickle_acks line wins");

	snprintf(text, sizeof(text), "node a b\r\nbcast eth0 eth1\r\n  # comment only\n\n\t\n");
	is_int(parse_cf(text, &cf, &err), 0, "CRLF, two names per line, blank lines (%s)", err.msg);
	is_int(cf.nlinks, 2, "bcast with two interfaces gives two links");
}

struct bad {
	const char *text;
	const char *want;	/* substring of the message, with the line */
};

static void test_hacf_bad(void)
{
	static const struct bad v[] = {
		{ "node a\nnode b\nbcast eth0\nfrobnicate 1\n", "ha.cf:4: unknown directive 'frobnicate'" },
		{ "node a\nnode b\nbcast eth0\nkeepalive\n", "ha.cf:4: keepalive takes 1 argument" },
		{ "node a\nnode b\nbcast eth0\nkeepalive 2x\n", "ha.cf:4: keepalive '2x'" },
		{ "node a\nnode b\nbcast eth0\nkeepalive 5ms\n", "ha.cf:4: keepalive" },
		{ "node a\nnode b\nbcast eth0\nkeepalive 2\ndeadtime 2\n", "ha.cf:5: deadtime must be above keepalive" },
		{ "node a\nnode b\nbcast eth0\ndeadtime 1\nkeepalive 3\n", "ha.cf:4: deadtime must be above keepalive" },
		{ "node a\nnode b\nbcast eth0\nkeepalive 1\nwarntime 40\ndeadtime 30\n", "ha.cf:5: warntime must not be above deadtime" },
		{ "node a\nnode b\nbcast eth0\nkeepalive 1\nwarntime 1\n", "ha.cf:5: warntime must be above keepalive" },
		{ "node a\nnode b\nbcast eth0\ninitdead 10\n", "ha.cf:4: initdead must not be below deadtime" },
		{ "node a\nnode b\n", "no heartbeat link" },
		{ "node a\nbcast eth0\n", "want two node lines" },
		{ "node a\nnode b\nnode c\nbcast eth0\n", "ha.cf:3: node c: standbyd pairs exactly two nodes" },
		{ "node a\nnode a\nbcast eth0\n", "ha.cf:2: node a listed twice" },
		{ "node a\nnode b\nucast eth0 10.0.0\n", "ha.cf:3: ucast '10.0.0' is not a unicast" },
		{ "node a\nnode b\nucast eth0\n", "ha.cf:3: ucast takes 2 arguments" },
		{ "node a\nnode b\nbcast eth0\nudpport 0\n", "ha.cf:4: udpport '0'" },
		{ "node a\nnode b\nbcast eth0\nudpport 65536\n", "ha.cf:4: udpport" },
		{ "node a\nnode b\nmcast eth0 10.0.0.1 694 1 0\n", "ha.cf:3: mcast group" },
		{ "node a\nnode b\nmcast eth0 239.0.0.1 695 1 0\n", "ha.cf:3: mcast port 695 differs" },
		{ "node a\nnode b\nmcast eth0 239.0.0.1 694 0 0\n", "ha.cf:3: mcast ttl" },
		{ "node a\nnode b\nbcast eth0\nauto_failback maybe\n", "ha.cf:4: auto_failback 'maybe'" },
		{ "node a\nnode b\nbcast eth0\ntickle_acks maybe\n", "ha.cf:4: tickle_acks 'maybe'" },
		{ "node a\nnode b\nbcast eth0\ntickle_acks\n", "ha.cf:4: tickle_acks takes 1 argument" },
		{ "node a\nnode b\nbcast eth0\ntickle_acks legacy\n", "ha.cf:4: tickle_acks 'legacy'" },
		{ "node a\nnode b\nbcast eth0\nping 300.1.1.1\n", "ha.cf:4: ping '300.1.1.1'" },
		{ "node a\nnode b\nbcast eth0\nbcast eth0\n", "ha.cf:4: the same link is configured twice" },
		{ "node a\nnode b\nbcast averyveryverylonginterfacename\n", "ha.cf:3: 'averyveryverylonginterfacename' is not an interface" },
		{ "node abcdefghijklmnopqrstuvwxyz0123456789\nnode b\nbcast eth0\n", "ha.cf:1: node name" },
		{ "node a\nnode b\nbcast eth0\nx\0y 1\n", "ha.cf:4: NUL byte" },
		{ "node a\nnode b\nbcast eth0\nprobe_wait 40\n", "probe_wait must be below deadtime" },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct ha_cf cf;
		struct cfg_err err = { "" };
		size_t len = strlen(v[i].text);
		int rc;

		if (strstr(v[i].want, "NUL"))
			len = sizeof("node a\nnode b\nbcast eth0\nx\0y 1\n") - 1;
		ha_cf_defaults(&cf);
		rc = ha_cf_parse(&cf, "ha.cf", v[i].text, len, &err);
		if (!rc)
			rc = ha_cf_finish(&cf, "ha.cf", &err);
		is_int(rc, -EINVAL, "ha.cf vector %zu refused", i);
		ok(strstr(err.msg, v[i].want) != NULL, "ha.cf vector %zu says '%s'", i, v[i].want);
		if (!strstr(err.msg, v[i].want))
			printf("#   got '%s'\n", err.msg);
	}
	{
		char longline[2000];
		struct ha_cf cf;
		struct cfg_err err = { "" };

		memset(longline, 'x', sizeof(longline));
		ha_cf_defaults(&cf);
		is_int(ha_cf_parse(&cf, "ha.cf", longline, sizeof(longline), &err), -EINVAL,
		       "overlong line refused");
		ok(strstr(err.msg, "ha.cf:1: line longer") != NULL, "overlong line named");
	}
}

static void test_authkeys(void)
{
	static const struct bad v[] = {
		{ "1 sha256 k\n", "authkeys:1: no 'auth N' line" },
		{ "auth 1\n", "authkeys:1: auth 1 names a key that is not defined" },
		{ "auth 0\n1 sha1 k\n", "authkeys:1: want 'auth N'" },
		{ "auth 16\n", "authkeys:1: want 'auth N'" },
		{ "auth 1\nauth 1\n1 sha1 k\n", "authkeys:2: second auth line" },
		{ "auth 1\n1 sha1\n", "authkeys:2: sha1 wants exactly one key word" },
		{ "auth 1\n1 sha1 a b\n", "authkeys:2: sha1 wants exactly one key word" },
		{ "auth 1\n1 rot13 k\n", "authkeys:2: unknown method 'rot13'" },
		{ "auth 1\n1 crc k\n", "authkeys:2: crc takes no key" },
		{ "auth 1\n1 sha1 k\n1 md5 k\n", "authkeys:3: key 1 defined twice" },
		{ "auth 1\n1\n", "authkeys:2: key 1 has no method" },
		{ "auth 1\nx sha1 k\n", "authkeys:2: want 'auth N', 'ship N' or" },
		{ "auth 1\n-1 sha1 k\n", "authkeys:2: want 'auth N', 'ship N' or" },
		/* the ship key: DB shipping's own, never the heartbeats' */
		{ "auth 1\n1 sha1 k\nship\n", "authkeys:3: want 'ship N'" },
		{ "auth 1\n1 sha1 k\nship 16\n", "authkeys:3: want 'ship N'" },
		{ "auth 1\n1 sha1 k\nship 2\n2 sha1 s\nship 2\n",
		  "authkeys:5: second ship line (first on line 3)" },
		{ "auth 1\n1 sha1 k\nship 3\n", "authkeys:3: ship 3 names a key that is not defined" },
		{ "auth 1\n1 sha1 k\nship 1\n",
		  "authkeys:3: ship 1 names the heartbeat key (auth 1): DB shipping needs a key of its own" },
		{ "auth 1\n1 sha1 k\nship 2\n2 crc\n", "authkeys:3: ship 2 names a crc key" },
		{ "ship 3\nauth 1\n1 sha1 k\n2 md5 s\n3 sha256 s\n",
		  "authkeys:1: ship 3: key 3 has the same secret as heartbeat key 2" },
	};
	struct ha_authkeys ak;
	struct cfg_err err = { "" };
	const char *good = "# comment\nauth 2\n1 crc\n2 sha256 s3cret\n3 md5 m\n4 sha1 s\n";
	size_t i;

	is_int(ha_authkeys_parse(&ak, "authkeys", good, strlen(good), &err), 0, "authkeys parse");
	is_int(ak.active, 2, "auth 2 active");
	is_int(ak.keys[2].alg, HA_AUTH_SHA256, "key 2 sha256");
	is_int(ak.keys[2].keylen, 6, "key 2 length");
	ok(memcmp(ak.keys[2].key, "s3cret", 6) == 0, "key 2 bytes");
	is_int(ak.keys[1].alg, HA_AUTH_CRC, "key 1 crc");
	is_int(ak.keys[3].alg, HA_AUTH_MD5, "key 3 md5");
	is_int(ak.keys[4].alg, HA_AUTH_SHA1, "key 4 sha1");
	is_int(ak.keys[5].alg, HA_AUTH_NONE, "key 5 undefined");
	is_int(ak.ship, 0, "no ship line: no ship key");
	good = "ship 3\nauth 1\n1 sha256 k\n3 sha256 s\n";
	is_int(ha_authkeys_parse(&ak, "authkeys", good, strlen(good), &err), 0,
	       "a ship line before the key it names");
	is_int(ak.ship, 3, "ship 3");
	is_int(ak.keys[3].line, 4, "key 3 on line 4");
	good = "auth 1\n1 crc\n";
	is_int(ha_authkeys_parse(&ak, "authkeys", good, strlen(good), &err), 0,
	       "crc parses (the key policy refuses it at load)");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&err, 0, sizeof(err));
		is_int(ha_authkeys_parse(&ak, "authkeys", v[i].text, strlen(v[i].text), &err), -EINVAL,
		       "authkeys vector %zu refused", i);
		ok(strstr(err.msg, v[i].want) != NULL, "authkeys vector %zu says '%s'", i, v[i].want);
		if (!strstr(err.msg, v[i].want))
			printf("#   got '%s'\n", err.msg);
	}
}

static void test_haresources(void)
{
	static const struct bad v[] = {
		{ "", "haresources: no resource group line" },
		{ "a IPaddr\n", "haresources:1: IPaddr wants ::ADDR" },
		{ "a IPaddr::10.0.0.300\n", "haresources:1: IPaddr '10.0.0.300'" },
		{ "a IPaddr::224.0.0.1\n", "haresources:1: IPaddr '224.0.0.1'" },
		{ "a IPaddr::10.0.0.1/33\n", "haresources:1: IPaddr prefix '33'" },
		{ "a IPaddr::10.0.0.1/24/averyveryverylongifname\n", "haresources:1: IPaddr interface" },
		{ "a IPaddr::10.0.0.1/24/eth0/x\n", "haresources:1: IPaddr broadcast 'x'" },
		{ "a IPaddr::10.0.0.1/24/eth0/10.0.0.255/x\n", "haresources:1: IPaddr wants ADDR" },
		{ "a IPaddr::10.0.0.1::x\n", "haresources:1: IPaddr takes one argument" },
		{ "a ../etc/passwd\n", "haresources:1: '../etc/passwd' is not a resource script" },
		{ "a ::x\n", "haresources:1: resource name" },
		{ "a httpd\nb httpd\n", "haresources:2: second resource group" },
		{ "a 10.0.0.1 IPaddr::10.0.0.1\n", "haresources:1: address IPaddr::10.0.0.1 listed twice" },
		{ "a vdiskd::relative\n", "haresources:1: vdiskd::ARG" },
		{ "a pxed::relative\n", "haresources:1: pxed::ARG" },
		{ "abcdefghijklmnopqrstuvwxyz0123456789 x\n", "haresources:1: node name" },
	};
	struct ha_resources hr;
	struct cfg_err err = { "" };
	const char *good = "server201 IPaddr::192.168.10.200/24/eth0 vdiskd \\\n"
			   "  ipvsadm httpd::arg1::arg2 pxed::/usr/sbin/pxed::-f 10.1.2.3\n";
	size_t i;

	is_int(ha_resources_parse(&hr, "haresources", good, strlen(good), &err), 0,
	       "haresources parse (%s)", err.msg);
	is_str(hr.node, "server201", "preferred node");
	is_int(hr.nres, 6, "six resources across a continued line");
	is_int(hr.res[0].kind, HA_RES_IPADDR, "IPaddr");
	is_int(hr.res[0].addr, 0xc0a80ac8, "IPaddr address");
	is_int(hr.res[0].prefix, 24, "IPaddr prefix");
	is_str(hr.res[0].ifname, "eth0", "IPaddr interface");
	is_int(hr.res[1].kind, HA_RES_VDISKD, "vdiskd built-in");
	is_int(hr.res[2].kind, HA_RES_LSB, "LSB script");
	is_str(hr.res[3].name, "httpd", "script name");
	is_str(hr.res[3].arg, "arg1 arg2", "script arguments");
	is_int(hr.res[4].kind, HA_RES_PXED, "pxed built-in");
	is_str(hr.res[4].arg, "/usr/sbin/pxed -f", "pxed command");
	is_int(hr.res[5].kind, HA_RES_IPADDR, "bare address is IPaddr");
	is_int(hr.res[5].prefix, 0, "prefix left to the interface");
	is_int(hr.ipaddr_idx, 0, "first IPaddr is the service address");
	good = "server201 IPaddr::192.168.10.200 ipvsadm httpd\n";
	is_int(ha_resources_parse(&hr, "haresources", good, strlen(good), &err), 0,
	       "seed haresources line");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		memset(&err, 0, sizeof(err));
		is_int(ha_resources_parse(&hr, "haresources", v[i].text, strlen(v[i].text), &err),
		       -EINVAL, "haresources vector %zu refused", i);
		ok(strstr(err.msg, v[i].want) != NULL, "haresources vector %zu says '%s'", i,
		   v[i].want);
		if (!strstr(err.msg, v[i].want))
			printf("#   got '%s'\n", err.msg);
	}
}

static void write_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror(path);
	fchmod(fd, mode);
	close(fd);
}

#define LONGKEY "0123456789abcdef0123456789abcdef"	/* 32 bytes: the shortest allowed */

/* crc and keys under 32 bytes are refused, naming the line, unless ha.cf forces them with
 * insecure_auth yes (warned about at every load). */
static void test_key_policy(const char *dir)
{
	static const struct {
		const char *authkeys, *want;
	} weak[] = {
		{ "auth 1\n1 crc\n", "authkeys:2: key 1 is crc, which authenticates nothing" },
		{ "auth 1\n1 sha256 k\n", "authkeys:2: key 1 is 1 byte" },
		{ "auth 1\n1 sha256 " LONGKEY "\n2 md5 0123456789abcdef0123456789abcde\n",
		  "authkeys:3: key 2 is 31 bytes" },
		{ "auth 2\n1 crc\n2 sha256 " LONGKEY "\n", "authkeys:2: key 1 is crc" },
	};
	struct ha_config c;
	struct cfg_err err = { "" };
	size_t i;

	write_file(dir, "ha.cf", seed_hacf, 0644);
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		write_file(dir, "authkeys", weak[i].authkeys, 0600);
		memset(&err, 0, sizeof(err));
		is_int(ha_config_load(&c, dir, "server202", &err), -EINVAL, "weak key %zu refused", i);
		ok(strstr(err.msg, weak[i].want) && strstr(err.msg, "insecure_auth yes"),
		   "weak key %zu: the line and the knob named (%s)", i, err.msg);
	}
	write_file(dir, "authkeys", "auth 1\n1 sha256 " LONGKEY "\n", 0600);
	is_int(ha_config_load(&c, dir, "server202", &err), 0, "a 32-byte key is accepted (%s)",
	       err.msg);
	is_int(c.cf.insecure_auth, 0, "insecure_auth off by default");
	write_file(dir, "ha.cf", "node server201\nnode server202\nbcast eth0\ninsecure_auth yes\n",
		   0644);
	for (i = 0; i < sizeof(weak) / sizeof(weak[0]); i++) {
		write_file(dir, "authkeys", weak[i].authkeys, 0600);
		is_int(ha_config_load(&c, dir, "server202", &err), 0,
		       "weak key %zu accepted with insecure_auth yes (%s)", i, err.msg);
		ok(ha_authkeys_weak(&c.keys) > 0, "weak key %zu counted as weak", i);
	}
	is_int(c.cf.insecure_auth, 4, "insecure_auth on, its line kept");
	write_file(dir, "ha.cf", "node server201\nnode server202\nbcast eth0\ninsecure_auth maybe\n",
		   0644);
	is_int(ha_config_load(&c, dir, "server202", &err), -EINVAL, "insecure_auth maybe refused");
	ok(strstr(err.msg, "ha.cf:4: insecure_auth 'maybe'") != NULL, "its line named (%s)",
	   err.msg);
}

static void test_load(void)
{
	char dir[] = "/tmp/sbcfgXXXXXX";
	struct ha_config c;
	struct cfg_err err = { "" };
	int rc;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	write_file(dir, "ha.cf", seed_hacf, 0644);
	write_file(dir, "authkeys", "auth 1\n1 sha256 " LONGKEY "\n", 0600);
	write_file(dir, "haresources", "server201 IPaddr::192.168.10.200 ipvsadm httpd\n", 0644);
	rc = ha_config_load(&c, dir, "server202", &err);
	is_int(rc, 0, "seed config directory loads (%s)", err.msg);
	is_str(c.node, "server202", "this node");
	is_str(c.peer, "server201", "peer node");
	is_int(ha_config_load(&c, dir, "server999", &err), -EINVAL, "unknown node refused");
	ok(strstr(err.msg, "'server999' is not one of the node lines") != NULL, "unknown node named");
	write_file(dir, "haresources", "other IPaddr::192.168.10.200\n", 0644);
	is_int(ha_config_load(&c, dir, "server202", &err), -EINVAL, "foreign preferred node refused");
	ok(strstr(err.msg, "preferred node 'other'") != NULL, "foreign preferred node named");
	write_file(dir, "haresources", "server201 IPaddr::192.168.10.200\n", 0644);
	write_file(dir, "authkeys", "auth 1\n1 sha256 " LONGKEY "\n", 0640);
	is_int(ha_config_load(&c, dir, "server202", &err), -EPERM, "group-readable authkeys refused");
	ok(strstr(err.msg, "mode 640") != NULL, "mode named (%s)", err.msg);
	write_file(dir, "authkeys", "auth 1\n1 sha256 " LONGKEY "\n", 0604);
	is_int(ha_config_load(&c, dir, "server202", &err), -EPERM, "world-readable authkeys refused");
	write_file(dir, "authkeys", "auth 1\n1 sha256 " LONGKEY "\n", 0600);
	is_int(ha_config_load(&c, dir, "server202", &err), 0, "mode 600 accepted");
	write_file(dir, "ha.cf", "node server201\nnode server202\nbcast eth0\nkeepalive 3\ndeadtime 2\n",
		   0644);
	is_int(ha_config_load(&c, dir, "server202", &err), -EINVAL, "inconsistent ha.cf refused");
	ok(strstr(err.msg, "ha.cf:5: deadtime must be above keepalive") != NULL, "line named (%s)",
	   err.msg);
	test_key_policy(dir);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		ok(system(cmd) == 0, "cleanup");
	}
	is_int(ha_config_load(&c, "/nonexistent-sb", "a", &err), -ENOENT, "missing dir: -ENOENT");
}

int main(void)
{
	log_init("test", 0, LOG_ERR);	/* the expected warnings would only be noise */
	test_seed();
	test_times();
	test_hacf_good();
	test_hacf_bad();
	test_authkeys();
	test_haresources();
	test_load();
	return done_testing();
}
