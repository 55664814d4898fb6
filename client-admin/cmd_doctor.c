/* vdiskctl doctor: the usual mistakes on a running server of the pair, each named with what
 * to do about it. What it knows comes from the daemons' status (their control sockets), the
 * database, the host name, the interfaces and the kernel's socket tables; it changes
 * nothing. Exit 1 when it found a problem. */
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "client-admin/cli_db.h"
#include "client-admin/commands.h"
#include "client-admin/daemons.h"
#include "client-admin/sockowner.h"

#define CLOCK_SKEW_MAX_MS 1000	/* well inside the heartbeats' 30 s, and what NTP keeps */
#define LINK_SILENT_MS 10000	/* a link the peer's heartbeats no longer come over */

enum { D_STANDBYD, D_VDISKD, D_PXED, D_COUNT };
static const char *const daemon_names[D_COUNT] = { "standbyd", "vdiskd", "pxed" };

struct doctor {
	struct cli *cli;
	json_t *status[D_COUNT];	/* NULL: the daemon does not answer */
	unsigned problems;
};

__attribute__((format(printf, 2, 3)))
static void say(const char *what, const char *fmt, ...)
{
	va_list ap;

	printf("%-12s ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);	/* in order with what the calls below say on stderr */
}

#define fine(...)	say("ok", __VA_ARGS__)
#define unchecked(...)	say("not checked", __VA_ARGS__)
#define problem(dr, ...) ((dr)->problems++, say("PROBLEM", __VA_ARGS__))

/* A daemon's status member KEY as text ("" when absent, not a string, or not running). */
static const char *field(const struct doctor *dr, int daemon, const char *key)
{
	const char *v = json_string_value(json_object_get(dr->status[daemon], key));

	return v ? v : "";
}

/* ... as a whole number: 0 and *v, or -1 when absent or not a number. */
static int number(const json_t *obj, const char *key, long long *v)
{
	const json_t *j = json_object_get(obj, key);

	if (!json_is_integer(j))
		return -1;
	*v = json_integer_value(j);
	return 0;
}

static int standing_by(const struct doctor *dr)
{
	const char *state = field(dr, D_STANDBYD, "state");

	return strcmp(state, "active") != 0 && strcmp(state, "taking_over") != 0;
}

static void check_daemons(struct doctor *dr)
{
	for (int i = 0; i < D_COUNT; i++) {
		if (daemon_call(dr->cli, daemon_names[i], "status", &dr->status[i], 1))
			dr->status[i] = NULL;
	}
	for (int i = D_STANDBYD; i <= D_VDISKD; i++)
		if (!dr->status[i])
			problem(dr, "%s does not answer on its control socket: is it running? "
				"(systemctl status %s)", daemon_names[i], daemon_names[i]);
	if (dr->status[D_PXED])
		fine("standbyd, vdiskd and pxed answer");
	else if (dr->status[D_STANDBYD] && standing_by(dr))
		fine("pxed is not running: this server stands by (standbyd starts it on takeover)");
	else if (dr->status[D_STANDBYD])
		problem(dr, "pxed does not answer though this server is active: PCs cannot boot "
			"(standbyd's haresources should start it; journalctl -u standbyd)");
}

/* The same server name in the host name (heartbeat's node lines), vdiskd's --node, pxed's
 * node and the database's servers table. */
static void check_names(struct doctor *dr)
{
	static const struct { int daemon; const char *key, *where; } named[] = {
		{ D_STANDBYD, "node", "standbyd (the host name it found in ha.cf)" },
		{ D_VDISKD, "node", "vdiskd (vdiskd.conf node)" },
		{ D_PXED, "node", "pxed (pxed.conf node)" },
	};
	struct utsname u;
	struct db_server s;
	unsigned bad = 0;

	if (uname(&u) < 0) {
		unchecked("names: no host name");
		return;
	}
	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++) {
		const char *v = field(dr, named[i].daemon, named[i].key);

		if (!*v || strcmp(v, u.nodename) == 0)
			continue;
		problem(dr, "names disagree: %s says this server is '%s', the host name is '%s' "
			"(the same name in every file: vdisk-setup writes them)", named[i].where, v,
			u.nodename);
		bad++;
	}
	if (cli_open_db(dr->cli, DB_OPEN_READONLY)) {
		problem(dr, "the database cannot be opened: the servers' names are not checked");
		return;
	}
	if (db_server_by_name(dr->cli->db, u.nodename, &s) != 0) {
		problem(dr, "the database has no server named '%s', the host name (vdiskctl server "
			"add --name %s ...)", u.nodename, u.nodename);
		bad++;
	}
	if (!bad)
		fine("names: '%s' in the host name, the daemons and the database", u.nodename);
}

static void check_clock(struct doctor *dr)
{
	long long off;

	if (number(dr->status[D_STANDBYD], "peer_clock_offset_ms", &off)) {
		unchecked("clocks: no heartbeat from the peer yet");
		return;
	}
	if (off > CLOCK_SKEW_MAX_MS || off < -CLOCK_SKEW_MAX_MS)
		problem(dr, "clocks: the peer's is %lld ms %s this one's (heartbeats more than "
			"30 s off are refused, and events and DB copies are stamped by them): run "
			"NTP on both servers (chrony)", off < 0 ? -off : off,
			off < 0 ? "behind" : "ahead of");
	else
		fine("clocks: the peer's is %lld ms from this one's", off);
}

/* A peer not heard may be heard and refused: what standbyd counted says which file of the
 * two servers differs. (A PC forging packets bumps these too; only asked when heartbeats
 * from the peer are missing.) */
static void check_refusals(struct doctor *dr)
{
	static const struct {
		const char *key, *what;
	} why[] = {
		{ "dropped_bad_auth", "fail authentication: /etc/ha.d/authkeys differs from the "
		  "peer's (the pair's keys on both: vdisk-setup --keys FILE)" },
		{ "dropped_wrong_cluster", "name another cluster: ha.cf's cluster line differs "
		  "from the peer's" },
		{ "dropped_unknown_node", "come from a node ha.cf does not name: the node lines "
		  "differ from the peer's" },
	};
	long long n;

	for (size_t i = 0; i < sizeof(why) / sizeof(why[0]); i++)
		if (number(dr->status[D_STANDBYD], why[i].key, &n) == 0 && n > 0)
			problem(dr, "heartbeats arrive but %lld %s", n, why[i].what);
}

/* Whether standbyd's link element (name, last_rx_ms_ago: left out before the first
 * heartbeat) is up and hears the peer; says what is wrong when not. */
static int link_fine(struct doctor *dr, const json_t *link)
{
	const char *ifname = json_string_value(json_object_get(link, "name"));
	char path[64], oper[16] = "";
	long long ago;
	int heard;
	FILE *f;

	if (!ifname || strlen(ifname) > IF_NAMESIZE)
		return 1;
	if (!if_nametoindex(ifname)) {
		problem(dr, "interface %s (a heartbeat link in ha.cf) does not exist here", ifname);
		return 0;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", ifname);
	f = fopen(path, "re");
	if (f) {
		if (!fgets(oper, sizeof(oper), f))
			oper[0] = '\0';
		fclose(f);
		oper[strcspn(oper, "\n")] = '\0';
	}
	if (strcmp(oper, "down") == 0) {
		problem(dr, "interface %s (a heartbeat link) is down", ifname);
		return 0;
	}
	heard = number(link, "last_rx_ms_ago", &ago) == 0;
	if (!heard || ago > LINK_SILENT_MS) {
		problem(dr, "no heartbeat from the peer on %s %s (cable, addresses in ha.cf, "
			"firewall: UDP 694)", ifname, heard ? "for more than 10 s" : "yet");
		return 0;
	}
	return 1;
}

/* Every heartbeat link of standbyd's: the interface exists, is up and hears the peer. */
static void check_links(struct doctor *dr)
{
	const json_t *links = json_object_get(dr->status[D_STANDBYD], "link");
	unsigned bad = 0;
	size_t i, n = json_array_size(links);

	for (i = 0; i < n; i++)
		bad += !link_fine(dr, json_array_get(links, i));
	if (n && !bad)
		fine("heartbeat links: %zu, each up and hearing the peer", n);
	else if (bad)
		check_refusals(dr);
}

/* The ports of the pair (their defaults): another daemon on one is the usual first-day
 * mistake. The listener's owner is found through /proc: all of them only as root. */
static void check_ports(struct doctor *dr)
{
	static const struct {
		enum sock_proto proto;
		unsigned port;
		const char *owner, *parent, *what;
	} ports[] = {
		{ SOCK_PROTO_TCP, 3260, "vdiskd", NULL, "iSCSI" },
		{ SOCK_PROTO_TCP, 3261, "vdiskd", NULL, "the mirror's replica" },
		{ SOCK_PROTO_UDP, 694, "standbyd", NULL, "heartbeats" },
		{ SOCK_PROTO_TCP, 694, "standbyd", NULL, "DB shipping" },
		{ SOCK_PROTO_UDP, 67, "pxed", NULL, "DHCP" },
		{ SOCK_PROTO_UDP, 4011, "pxed", NULL, "proxyDHCP" },
		{ SOCK_PROTO_UDP, 69, "in.tftpd", "pxed", "TFTP (pxed's in.tftpd)" },
	};
	unsigned bad = 0, unknown = 0;

	for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
		const char *proto = ports[i].proto == SOCK_PROTO_TCP ? "tcp" : "udp";
		struct sock_owner o;
		int rc = sock_owner("/proc", ports[i].proto, ports[i].port, &o);

		if (rc < 0) {
			unchecked("ports: the kernel's socket tables cannot be read");
			return;
		}
		if (rc == 0)
			continue;
		if (!o.pid) {
			unknown++;
			continue;
		}
		if (strcmp(o.comm, ports[i].owner) == 0 &&
		    (!ports[i].parent || strcmp(o.parent, ports[i].parent) == 0))
			continue;
		problem(dr, "port %u/%s (%s) is held by %s (pid %ld, started by %s), not %s%s%s: "
			"stop and disable it (systemctl disable --now ...)", ports[i].port, proto,
			ports[i].what, o.comm, (long)o.pid, o.parent, ports[i].owner,
			ports[i].parent ? " under " : "", ports[i].parent ? ports[i].parent : "");
		bad++;
	}
	if (unknown)
		unchecked("ports: %u listeners whose process is not visible (run as root)", unknown);
	else if (!bad)
		fine("ports: no other daemon on 3260, 3261, 694, 67, 4011, 69");
}

/* Why the mirror is down, from vdiskd's "mirror_down" list ({name, why}): a refused login
 * with "Authentication failure" is a pair secret that differs from the peer's. */
static void degraded(struct doctor *dr)
{
	const json_t *down = json_array_get(json_object_get(dr->status[D_VDISKD], "mirror_down"), 0);
	const char *name = json_string_value(json_object_get(down, "name"));
	const char *why = json_string_value(json_object_get(down, "why"));

	if (why && strstr(why, "Authentication failure"))
		problem(dr, "mirror: the peer refuses this server's replication login: "
			"/etc/vdisk/mirror.secret differs from the peer's (the pair's keys on "
			"both: vdisk-setup --keys FILE)");
	else if (name && why)
		problem(dr, "mirror: degraded, the peer lacks writes of hot-standby clients: "
			"%s %s (vdiskctl mirror status)", name, why);
	else
		problem(dr, "mirror: degraded, the peer lacks writes of hot-standby clients "
			"(vdiskctl mirror status)");
}

/* Hot-standby PCs need the mirror: without it their writes are on this server only. */
static void check_mirror(struct doctor *dr)
{
	const char *m = field(dr, D_VDISKD, "mirror");

	if (!dr->status[D_VDISKD])
		return;
	if (strcmp(m, "unprotected") == 0)
		problem(dr, "mirror: clients have hot standby on but vdiskd has no mirror peer "
			"(vdiskd.conf mirror_peer): their writes are on this server only");
	else if (strcmp(m, "degraded") == 0)
		degraded(dr);
	else if (strcmp(m, "split-brain") == 0)
		problem(dr, "mirror: split brain, both servers took writes apart (vdiskctl mirror "
			"resolve CLIENT --keep NODE)");
	else if (*m)
		fine("mirror: %s", m);
	else
		unchecked("mirror: vdiskd does not say");
}

int cmd_doctor(struct cli *cli, int argc, char **argv)
{
	struct doctor dr = { .cli = cli };
	int rc = cli_simple_args(cli, argc, argv,
				 "doctor: looks for the usual mistakes on this server of the pair (a\n"
				 "  daemon not running, names that disagree, clocks apart, a heartbeat\n"
				 "  link missing or silent, another daemon on one of the pair's ports,\n"
				 "  hot-standby clients without a mirror); changes nothing\n"
				 "  exit status: 0 nothing found, 1 a problem found", 0, 0);

	if (rc >= 0)
		return rc;
	if (cli->json)
		return cli_usage(cli, "doctor answers in text only (no --json)");
	check_daemons(&dr);
	check_names(&dr);
	check_clock(&dr);
	check_links(&dr);
	check_ports(&dr);
	check_mirror(&dr);
	for (int i = 0; i < D_COUNT; i++)
		json_decref(dr.status[i]);
	if (dr.problems)
		printf("%u problem%s found\n", dr.problems, dr.problems == 1 ? "" : "s");
	else
		printf("no problem found\n");
	return dr.problems ? EXIT_FAIL : EXIT_OK;
}
