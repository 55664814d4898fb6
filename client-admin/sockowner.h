/* Who listens on a port: the listening sockets of this network namespace, from the kernel's
 * tables (<proc>/net/tcp, tcp6, udp, udp6), and the process that holds one (its fd links,
 * <proc>/PID/fd/N -> socket:[INODE]). For vdiskctl doctor: another daemon on a port of the
 * pair's is the usual first-day mistake (tgtd on 3260, dnsmasq on 67, tftpd-hpa on 69). */
#ifndef CLIENT_ADMIN_SOCKOWNER_H
#define CLIENT_ADMIN_SOCKOWNER_H

#include <stddef.h>
#include <sys/types.h>

enum sock_proto { SOCK_PROTO_TCP, SOCK_PROTO_UDP };

struct sock_owner {
	pid_t pid;		/* 0: a socket listens but its process is not found */
	char comm[32];		/* the process's name (<proc>/PID/comm) */
	char parent[32];	/* its parent's */
};

/* Parses one line of a /proc/net/{tcp,udp}[6] table: its local port, state and inode.
 * Returns 0, or -EINVAL for the header or a malformed line. */
int sock_table_line(const char *line, unsigned *port, unsigned *state, unsigned long *inode);

/* Fills *out for the first socket listening on port (TCP: state LISTEN; UDP: unconnected).
 * proc is "/proc" but for tests. Returns 1 when one listens, 0 when none, or a negative
 * errno when the tables cannot be read. */
int sock_owner(const char *proc, enum sock_proto proto, unsigned port, struct sock_owner *out);

#endif
