/* The heartbeat receiver: a child process that reads the links' sockets and checks each
 * packet, holding no privilege. Anyone on a heartbeat link can
 * send it anything, so the code that looks at those bytes first runs as an unprivileged user
 * with no capabilities, chrooted into an empty directory that no longer exists, unable to
 * open a file or a socket or to fork (rlimits), its other descriptors closed, and its
 * system calls filtered (seccomp: it cannot send on a link).
 *
 * It checks each packet as standbyd would (framing, MAC, then cluster, sender, clock and the
 * replay window: hb_decode and hb_accept, with a window of its own) and tells standbyd's
 * loop only records of one fixed size: an accepted packet's bytes (a copy by another link
 * included), how many packets a link dropped and why, or that it is alive. (It is started by
 * the privileged helper, privop.h, whose child it is; its end of the pair is handed to the
 * loop.) The loop checks every record
 * (hbrx_rec_check) and decodes and accepts the packet again itself, so a receiver that is
 * taken over can tell it nothing a holder of the key could not. */
#ifndef STANDBY_HBRX_H
#define STANDBY_HBRX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "standby/config.h"
#include "standby/hbpkt.h"

/* The user the receiver runs as: its own when the packages made it, else nobody's. */
#define HBRX_USER "vdisk-hb"
#define HBRX_USER_FALLBACK "nobody"
/* Dropped-packet counts go up at most this often, so a flood becomes a few records and an
 * accepted packet always finds room on the way up; with nothing else to say, the receiver
 * says it is alive this often. */
#define HBRX_FLUSH_MS 100
/* A receiver silent this long is stuck (stopped, looping): the parent replaces it. */
#define HBRX_STALL_MS 1000

struct hbrx_rec {
	uint8_t link;		/* index into the descriptors given to hbrx_start */
	uint8_t why;		/* HB_OK, or a drop from HB_DROP_MALFORMED to HB_DROP_REPLAY */
	uint16_t len;		/* HB_OK: the packet's length (HB_LEN or HB_V1_LEN), or 0 */
	uint32_t count;		/* HB_OK: 1 with a packet, 0 for "alive"; else packets
				 * dropped, at least 1 */
	uint8_t pkt[HB_LEN];
};

struct hbrx {
	pid_t pid;		/* 0 when none runs */
	int fd;			/* the parent's end: records come up here; -1 when none */
	uid_t uid;		/* the user it runs as, looked up once (0: not yet) */
	gid_t gid;
};

/* Starts the receiver on the n sockets fds (it shares them; the parent still sends on them),
 * checking packets against cfg (keys, cluster, node names). realtime: it runs at the lowest
 * real-time priority, as the parent does (ha.cf's realtime). Returns when the receiver has
 * dropped its privileges (or after 1 s): 0, or a negative errno and then nothing runs. */
int hbrx_start(struct hbrx *rx, const int *fds, unsigned n, const struct ha_config *cfg,
	       int realtime);
/* Kills and reaps it; closes the parent's end. Safe when none runs. */
void hbrx_stop(struct hbrx *rx);

/* Reads one record without blocking: 1 with a record that hbrx_rec_check passed, 0 when none
 * is queued, -EPIPE when the receiver is gone (then hbrx_stop it), -EPROTO for a record that
 * failed the check (logged; the receiver is not to be trusted: stop it). */
int hbrx_read(struct hbrx *rx, unsigned nlinks, struct hbrx_rec *rec);

/* The receiver's last confinement, exposed for the unit test: a seccomp filter (libseccomp)
 * of the system calls its loop makes (libc, OpenSSL's HMAC and the allocator included); any
 * other fails with EPERM. It holds the keys and the sockets that could send heartbeats to
 * the peer, so it may send only on its end of the pair (fd 3) and write only there and to
 * stderr (which standbyd keeps open, so no socket or file can become fd 2), never on a
 * link. 0 or a negative errno. */
int hbrx_seccomp(void);

/* Checks got bytes (as received) as a record for nlinks links. 0 or -EPROTO. */
int hbrx_rec_check(const void *buf, size_t got, unsigned nlinks);

#endif
