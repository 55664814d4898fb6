/* A long-lived TCP connection for the tickle ACK test (tests/ha/standby_tickle.t).
 *
 *   standby_tcphold serve PORT
 *       accepts connections on PORT and reads whatever they send, holding them open
 *   standby_tcphold client ADDR PORT LIMIT_MS write|idle
 *       connects, prints "connected", then either writes 1 KiB every 20 ms (an initiator
 *       with I/O in flight: unacknowledged data as soon as the server is gone) or only waits
 *       to read (an idle initiator: a pending read, nothing in flight). Prints
 *       "error WALL_MS REASON" (wall clock in ms) as soon as the connection fails and exits 0,
 *       or "timeout" after LIMIT_MS and exits 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	64
#define WRITE_EVERY_MS	20

static uint64_t now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int serve(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct pollfd p[MAX_CONNS + 1];
	char buf[65536];
	int lfd, one = 1, n = 1, i;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		perror("standby_tcphold: listen");
		return 1;
	}
	p[0].fd = lfd;
	p[0].events = POLLIN;
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		if ((p[0].revents & POLLIN) && n <= MAX_CONNS) {
			int fd = accept(lfd, NULL, NULL);

			if (fd >= 0) {
				p[n].fd = fd;
				p[n++].events = POLLIN;
			}
		}
		for (i = 1; i < n; i++) {
			if (!p[i].revents)
				continue;
			if (read(p[i].fd, buf, sizeof(buf)) <= 0) {
				close(p[i].fd);
				p[i--] = p[--n];
			}
		}
	}
}

static int client(const char *addr, int port, unsigned limit_ms, int writing)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	char buf[1024];
	uint64_t end, next_write = 0;
	int fd;

	memset(buf, 'x', sizeof(buf));
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "standby_tcphold: bad address %s\n", addr);
		return 2;
	}
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("standby_tcphold: connect");
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	end = now_ms(CLOCK_MONOTONIC) + limit_ms;
	while (now_ms(CLOCK_MONOTONIC) < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		const char *why = NULL;
		int err = 0;

		/* A reset shows as readable (read fails) or as an error event: either way at once. */
		if (poll(&p, 1, 5) > 0) {
			ssize_t r = read(fd, buf, sizeof(buf));

			if (r <= 0) {
				err = r < 0 ? errno : 0;
				why = r < 0 ? strerror(err) : "closed by the server";
			}
		}
		if (!why && writing && now_ms(CLOCK_MONOTONIC) >= next_write) {
			next_write = now_ms(CLOCK_MONOTONIC) + WRITE_EVERY_MS;
			if (send(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
			    errno != EAGAIN)
				why = strerror(errno);
		}
		if (why) {
			printf("error %llu %s\n", (unsigned long long)now_ms(CLOCK_REALTIME), why);
			return 0;
		}
	}
	printf("timeout\n");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "serve") == 0)
		return serve(atoi(argv[2]));
	if (argc == 6 && strcmp(argv[1], "client") == 0 &&
	    (strcmp(argv[5], "write") == 0 || strcmp(argv[5], "idle") == 0))
		return client(argv[2], atoi(argv[3]), (unsigned)atoi(argv[4]),
			      strcmp(argv[5], "write") == 0);
	fprintf(stderr, "usage: standby_tcphold serve PORT\n"
		"       standby_tcphold client ADDR PORT LIMIT_MS write|idle\n");
	return 2;
}
