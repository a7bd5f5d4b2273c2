/* acceptd: the backend pod of the latency benchmark. Listens, accepts and
 * closes, nothing else. The kernel finishes the handshake before accept(),
 * so a client's connect() never waits for this process; it only keeps the
 * accept queue from filling. Exits by itself after MAX_SECONDS.
 *
 * usage: acceptd -p PORT [-l MAX_SECONDS]
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	int port = 0, limit = 3600, on = 1, fd, opt;

	while ((opt = getopt(argc, argv, "p:l:")) != -1) {
		if (opt == 'p')
			port = atoi(optarg);
		else if (opt == 'l')
			limit = atoi(optarg);
		else
			port = -1;
	}
	if (port <= 0 || port > 65535 || limit <= 0) {
		fprintf(stderr, "usage: acceptd -p PORT [-l MAX_SECONDS]\n");
		return 2;
	}
	alarm(limit);
	any.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof(any)) || listen(fd, 4096)) {
		perror("acceptd: listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}
