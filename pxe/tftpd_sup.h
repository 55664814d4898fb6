/* Runs tftp-hpa's in.tftpd in the foreground on the TFTP root (--secure, bound to the service
 * address) and restarts it with exponential backoff when it dies; stops it when pxed stops
 * (the release of pxed's resources). A run that lasted long enough resets the backoff. */
#ifndef PXE_TFTPD_SUP_H
#define PXE_TFTPD_SUP_H

#include <stdint.h>
#include <sys/types.h>

#include "common/evloop.h"
#include "pxe/pxe_conf.h"

#define TFTPD_BACKOFF_MIN_MS 500
#define TFTPD_BACKOFF_MAX_MS 30000
#define TFTPD_STABLE_MS      10000	/* a run this long resets the backoff */

struct tftpd_sup {
	struct evloop *loop;
	const struct pxe_conf *conf;
	pid_t pid;			/* 0 when not running */
	unsigned restarts;
	unsigned backoff_ms;
	uint64_t started_ms;
	char last_exit[64];		/* how it last ended, for `status` */
	struct ev_timer restart;
	int stopping;
};

/* Starts in.tftpd now. Returns 0 or a negative errno (fork failed). */
int tftpd_sup_start(struct tftpd_sup *t, struct evloop *loop, const struct pxe_conf *conf);
/* Reaps in.tftpd if it exited (call on SIGCHLD); schedules the restart. Returns 1 if it did. */
int tftpd_sup_reap(struct tftpd_sup *t);
/* SIGTERM, then SIGKILL after 2 s; waits for it. No restart after this. */
void tftpd_sup_stop(struct tftpd_sup *t);

#endif
