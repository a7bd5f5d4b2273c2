/* httpget: HTTP GETs in a row, each on a new TCP connection, timed two ways:
 * connect (socket's connect(): SYN out to SYN/ACK back) and total (from
 * before connect to the last byte of the response, as curl's time_total).
 * Each response must be a 200 with a Content-Length body, read whole. The
 * connection then ends with a RST (SO_LINGER {1, 0}): no TIME_WAIT on
 * either side, so thousands of tries never reuse a port still in use.
 * Bounded by the number of tries, MAX_FAILURES and a wall-clock limit.
 *
 * usage: httpget -a IP -p PORT [-c COUNT] [-w WARMUP] [-l MAX_SECONDS]
 * prints one JSON object: count, failures, and for connect and total
 * p50 p90 p99 min max mean in µs; exit 0 when every counted try worked.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_FAILURES 20

static double seconds_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted xs. */
static double rank(const double *xs, int n, int pct)
{
	int i = (pct * n + 99) / 100 - 1;

	return n == 0 ? -1 : xs[i < 0 ? 0 : i];
}

/* Reads a response until its headers and Content-Length bytes of body are in; returns 0 when it is a whole 200. */
static int read_response(int fd)
{
	char buf[8192];
	int have = 0;
	char *end = NULL;
	long body = -1;

	for (;;) {
		ssize_t n = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);

		if (n <= 0)
			return -1;
		have += n;
		buf[have] = 0;
		if (!end && (end = strstr(buf, "\r\n\r\n"))) {
			char *len = strstr(buf, "Content-Length: ");

			if (strncmp(buf, "HTTP/1.1 200 ", 13) != 0 || !len || len > end)
				return -1;
			body = atol(len + 16);
		}
		if (end && have - (end + 4 - buf) >= body)
			return 0;
		if (have == sizeof(buf) - 1)
			return -1;
	}
}

/* One GET; fills connect and total (µs); returns 0 when it worked. */
static int one_get(const struct sockaddr_in *to, double *connect_us, double *total_us)
{
	static const char request[] = "GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: httpget\r\nAccept: */*\r\nConnection: close\r\n\r\n";
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct timeval give_up = { .tv_sec = 1 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok = -1;
	double t0, t1, t2;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &give_up, sizeof(give_up));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &give_up, sizeof(give_up));
	t0 = seconds_now();
	if (connect(fd, (const struct sockaddr *)to, sizeof(*to)) == 0) {
		t1 = seconds_now();
		if (send(fd, request, sizeof(request) - 1, MSG_NOSIGNAL) == sizeof(request) - 1 && read_response(fd) == 0) {
			t2 = seconds_now();
			*connect_us = (t1 - t0) * 1e6;
			*total_us = (t2 - t0) * 1e6;
			ok = 0;
		}
	}
	close(fd);
	return ok;
}

static void print_stats(const char *name, double *us, int n)
{
	double sum = 0;

	for (int i = 0; i < n; i++)
		sum += us[i];
	qsort(us, n, sizeof(*us), by_value);
	printf("\"%s\":{\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"min\":%.2f,\"max\":%.2f,\"mean\":%.2f}", name,
	       rank(us, n, 50), rank(us, n, 90), rank(us, n, 99), n ? us[0] : -1, n ? us[n - 1] : -1, n ? sum / n : -1);
}

int main(int argc, char **argv)
{
	struct sockaddr_in to = { .sin_family = AF_INET };
	int count = 1000, warmup = 100, port = 0, got = 0, failures = 0, opt;
	double limit = 60, start, *conn, *total;
	char *addr = NULL;

	while ((opt = getopt(argc, argv, "a:p:c:w:l:")) != -1) {
		switch (opt) {
		case 'a': addr = optarg; break;
		case 'p': port = atoi(optarg); break;
		case 'c': count = atoi(optarg); break;
		case 'w': warmup = atoi(optarg); break;
		case 'l': limit = atof(optarg); break;
		default: goto usage;
		}
	}
	if (!addr || inet_pton(AF_INET, addr, &to.sin_addr) != 1 || port <= 0 || port > 65535 || count <= 0 || warmup < 0)
		goto usage;
	to.sin_port = htons(port);
	conn = calloc(count, sizeof(*conn));
	total = calloc(count, sizeof(*total));
	if (!conn || !total)
		return 1;
	start = seconds_now();
	for (int i = 0; i < warmup + count && failures <= MAX_FAILURES; i++) {
		double c, t;

		if (seconds_now() - start > limit)
			break;
		if (one_get(&to, &c, &t) != 0)
			failures++;
		else if (i >= warmup) {
			conn[got] = c;
			total[got++] = t;
		}
	}
	printf("{\"count\":%d,\"failures\":%d,", got, failures);
	print_stats("connect", conn, got);
	printf(",");
	print_stats("total", total, got);
	printf(",\"seconds\":%.3f}\n", seconds_now() - start);
	return got == count ? 0 : 1;
usage:
	fprintf(stderr, "usage: httpget -a IP -p PORT [-c COUNT] [-w WARMUP] [-l MAX_SECONDS]\n");
	return 2;
}
