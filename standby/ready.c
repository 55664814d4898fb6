#include "standby/ready.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>

int ready_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char c;
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc < 0)
		return -errno;
	if (rc == 0)
		return -ETIMEDOUT;
	return recv(fd, &c, 1, 0) == 1 && c == 1 ? 0 : -EPIPE;
}
