/* vdiskctl doctor's reading of the kernel's socket tables: lines of /proc/net/tcp and tcp6,
 * malformed ones refused; the owner found through a process's fd links, in a /proc made up
 * in a temporary directory. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client-admin/sockowner.h"
#include "tests/lib/tap.h"

#define HEADER "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt" \
	       "   uid  timeout inode\n"
#define LISTEN_3260 "   0: 00000000:0CBC 00000000:0000 0A 00000000:00000000 00:00000000 " \
		    "00000000     0        0 4242 1 0000000000000000 100 0 0 10 0\n"
#define LISTEN6_69 "   0: 00000000000000000000000000000000:0045 " \
		   "00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 " \
		   "00000000     0        0 777 2 0000000000000000 0\n"

static void test_lines(void)
{
	static const char *const bad[] = {
		HEADER,
		"",
		"   0: 00000000:0CBC\n",				/* cut short */
		"   0: 00000000:CBC 00000000:0000 0A 0:0 0:0 0 0 0 1\n",	/* 3 hex digits */
		"   0: 00000000:0CBCX 00000000:0000 0A 0:0 0:0 0 0 0 1\n",	/* 5 */
		"   0: 00000000 00000000:0000 0A 0:0 0:0 0 0 0 1\n",	/* no port */
		"   0: :0CBC 00000000:0000 0A 0:0 0:0 0 0 0 1\n",	/* no address */
		"   0: 00000000:0CBG 00000000:0000 0A 0:0 0:0 0 0 0 1\n",	/* not hex */
		"   0: 00000000:0CBC 00000000:0000 0A 0:0 0:0 0 0 0\n",	/* no inode */
		"x: 00000000:0CBC 00000000:0000 0A 0:0 0:0 0 0 0 1\n",	/* no slot */
	};
	unsigned port = 0, state = 0;
	unsigned long inode = 0;

	is_int(sock_table_line(LISTEN_3260, &port, &state, &inode), 0, "a tcp line");
	ok(port == 3260 && state == 0x0A && inode == 4242, "port %u state %x inode %lu", port,
	   state, inode);
	is_int(sock_table_line(LISTEN6_69, &port, &state, &inode), 0, "a udp6 line");
	ok(port == 69 && state == 0x07 && inode == 777, "port %u state %x inode %lu", port, state,
	   inode);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(sock_table_line(bad[i], &port, &state, &inode), -EINVAL, "refused: %.40s",
		       bad[i]);
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		printf("Bail out! cannot write %s\n", path);
		exit(1);
	}
}

static void test_owner(void)
{
	char root[] = "/tmp/sockowner-XXXXXX", path[512];
	struct sock_owner o;

	if (!mkdtemp(root)) {
		printf("Bail out! mkdtemp\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/net", root);
	mkdir(path, 0700);
	put(path, "tcp", HEADER LISTEN_3260);
	put(path, "udp", HEADER);
	put(path, "udp6", HEADER LISTEN6_69);	/* no tcp6: IPv6 off */
	/* pid 812 tgtd, started by pid 1 systemd, holds inode 4242 as fd 5 */
	snprintf(path, sizeof(path), "%s/812", root);
	mkdir(path, 0700);
	put(path, "comm", "tgtd\n");
	put(path, "status", "Name:\ttgtd\nPPid:\t1\n");
	snprintf(path, sizeof(path), "%s/812/fd", root);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/812/fd/5", root);
	if (symlink("socket:[4242]", path)) {
		printf("Bail out! symlink\n");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/1", root);
	mkdir(path, 0700);
	put(path, "comm", "systemd\n");

	is_int(sock_owner(root, SOCK_PROTO_TCP, 3260, &o), 1, "3260/tcp listens");
	ok(o.pid == 812 && strcmp(o.comm, "tgtd") == 0 && strcmp(o.parent, "systemd") == 0,
	   "held by %s (pid %ld, parent %s)", o.comm, (long)o.pid, o.parent);
	is_int(sock_owner(root, SOCK_PROTO_TCP, 3261, &o), 0, "3261/tcp: nobody");
	is_int(sock_owner(root, SOCK_PROTO_UDP, 3260, &o), 0, "3260/udp: nobody");
	is_int(sock_owner(root, SOCK_PROTO_UDP, 69, &o), 1, "69/udp listens (udp6)");
	ok(o.pid == 0, "its process not found: pid 0");
	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	if (system(path) != 0)
		diag("could not remove %s", root);
}

int main(void)
{
	test_lines();
	test_owner();
	return done_testing();
}
