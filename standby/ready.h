/* The parent's side of a child process's start (the heartbeat receiver, the privileged
 * helper): the child sends one byte, 1, on its socket once it is set up and confined. */
#ifndef STANDBY_READY_H
#define STANDBY_READY_H

/* Waits up to timeout_ms for that byte on fd. 0; -ETIMEDOUT; -EPIPE when anything else
 * came (the child died or failed); another negative errno from poll. */
int ready_wait(int fd, int timeout_ms);

#endif
