/* httpd: the backend pod of the NodePort benchmark. Answers every
 * connection with one HTTP/1.1 200 response whose body is a 612-byte page
 * (the size of nginx's welcome page), then closes. One connection at a
 * time: it reads until the end of the request's headers, writes the
 * response in one send, and closes. Exits by itself after MAX_SECONDS.
 *
 * usage: httpd -p PORT [-l MAX_SECONDS]
 */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#define BODY_SIZE 612

static char response[512 + BODY_SIZE];
static int response_len;

/* The page: HTML padded with spaces to exactly BODY_SIZE bytes. */
static void make_response(void)
{
	static const char page[] = "<!DOCTYPE html>\n<html><head><title>Welcome</title></head>\n"
				   "<body><h1>Welcome</h1><p>The NodePort benchmark's backend.</p></body></html>\n";
	char body[BODY_SIZE];

	memset(body, ' ', sizeof(body));
	memcpy(body, page, sizeof(page) - 1);
	body[BODY_SIZE - 1] = '\n';
	response_len = snprintf(response, sizeof(response),
				"HTTP/1.1 200 OK\r\nServer: httpd\r\nContent-Type: text/html\r\n"
				"Content-Length: %d\r\nConnection: close\r\n\r\n", BODY_SIZE);
	memcpy(response + response_len, body, BODY_SIZE);
	response_len += BODY_SIZE;
}

/* Reads until the blank line that ends the request's headers (or the client gives up). */
static void read_request(int c)
{
	char buf[2048];
	int have = 0;

	while (have < (int)sizeof(buf) - 1) {
		ssize_t n = recv(c, buf + have, sizeof(buf) - 1 - have, 0);

		if (n <= 0)
			return;
		have += n;
		buf[have] = 0;
		if (strstr(buf, "\r\n\r\n"))
			return;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in any = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	struct timeval stall = { .tv_sec = 1 };
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
		fprintf(stderr, "usage: httpd -p PORT [-l MAX_SECONDS]\n");
		return 2;
	}
	make_response();
	alarm(limit);
	any.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (fd < 0 || bind(fd, (struct sockaddr *)&any, sizeof(any)) || listen(fd, 4096)) {
		perror("httpd: listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		/* a client that stalls must not hold up the next one */
		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &stall, sizeof(stall));
		read_request(c);
		send(c, response, response_len, MSG_NOSIGNAL);
		close(c);
	}
}
