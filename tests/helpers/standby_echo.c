/* The HA tests' stand-in service: a TCP server that answers every connection with a word
 * (the node's name) and closes, so a client can tell which server holds the address. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int fd, one = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: standby_echo PORT WORD\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)atoi(argv[1]));
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		perror("standby_echo");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		if (write(c, argv[2], strlen(argv[2])) < 0 || write(c, "\n", 1) < 0)
			perror("standby_echo: write");
		close(c);
	}
}
