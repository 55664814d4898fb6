#include "client-admin/sockowner.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TCP_LISTEN	0x0A
#define UDP_UNCONNECTED	0x07	/* TCP_CLOSE in the kernel's table: bound, no peer */

int sock_table_line(const char *line, unsigned *port, unsigned *state, unsigned long *inode)
{
	char local[80], remote[80];
	unsigned slot;
	const char *colon;
	char *end;
	unsigned long p;

	/* sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode */
	if (sscanf(line, " %u: %79s %79s %x %*x:%*x %*x:%*x %*x %*u %*u %lu", &slot, local,
		   remote, state, inode) != 5)
		return -EINVAL;
	colon = strrchr(local, ':');
	if (!colon || colon == local || strlen(colon + 1) != 4)
		return -EINVAL;
	errno = 0;
	p = strtoul(colon + 1, &end, 16);
	if (errno || *end || p > 65535)
		return -EINVAL;
	*port = (unsigned)p;
	return 0;
}

/* The inode of the first socket in table listening on port; 0 when none; -errno. */
static long find_inode(const char *table, unsigned want_state, unsigned port)
{
	char line[512];
	FILE *f = fopen(table, "re");
	unsigned long found = 0;

	if (!f)
		return errno == ENOENT ? 0 : -errno;	/* no IPv6 here: no tcp6 table */
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned p, st;
		unsigned long ino;

		if (sock_table_line(line, &p, &st, &ino) == 0 && p == port && st == want_state &&
		    ino)
			found = ino;
	}
	fclose(f);
	return (long)found;
}

static void read_comm(const char *proc, long pid, char *out, size_t len)
{
	char path[128];
	FILE *f;

	snprintf(out, len, "?");
	snprintf(path, sizeof(path), "%s/%ld/comm", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = '\0';
	fclose(f);
}

static long parent_of(const char *proc, long pid)
{
	char path[128], line[256];
	long ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%ld/status", proc, pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %ld", &ppid) == 1)
			break;
	fclose(f);
	return ppid;
}

/* Whether process pid holds the socket named target ("socket:[INODE]"). */
static int holds(const char *proc, long pid, const char *target)
{
	char dir[128], link[400], got[64];
	struct dirent *e;
	DIR *d;
	int yes = 0;

	snprintf(dir, sizeof(dir), "%s/%ld/fd", proc, pid);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!yes && (e = readdir(d))) {
		ssize_t n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, e->d_name);
		n = readlink(link, got, sizeof(got) - 1);
		if (n <= 0)
			continue;
		got[n] = '\0';
		yes = strcmp(got, target) == 0;
	}
	closedir(d);
	return yes;
}

static void find_holder(const char *proc, unsigned long inode, struct sock_owner *out)
{
	char target[48];
	struct dirent *e;
	DIR *d = opendir(proc);

	if (!d)
		return;
	snprintf(target, sizeof(target), "socket:[%lu]", inode);
	while ((e = readdir(d))) {
		char *end;
		long pid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0 || !holds(proc, pid, target))
			continue;
		out->pid = (pid_t)pid;
		read_comm(proc, pid, out->comm, sizeof(out->comm));
		read_comm(proc, parent_of(proc, pid), out->parent, sizeof(out->parent));
		break;
	}
	closedir(d);
}

int sock_owner(const char *proc, enum sock_proto proto, unsigned port, struct sock_owner *out)
{
	static const char *const tables[2][2] = { { "tcp", "tcp6" }, { "udp", "udp6" } };
	unsigned state = proto == SOCK_PROTO_TCP ? TCP_LISTEN : UDP_UNCONNECTED;
	char path[128];
	long inode = 0;

	memset(out, 0, sizeof(*out));
	for (int i = 0; i < 2 && !inode; i++) {
		snprintf(path, sizeof(path), "%s/net/%s", proc, tables[proto][i]);
		inode = find_inode(path, state, port);
		if (inode < 0)
			return (int)inode;
	}
	if (!inode)
		return 0;
	find_holder(proc, (unsigned long)inode, out);
	return 1;
}
