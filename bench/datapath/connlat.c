/* connlat: how long connect() takes, SYN out to SYN/ACK back, for many new
 * TCP connections in a row: the first-packet path of a service dataplane.
 * Given several addresses, it connects to each in turn (the floor spreads
 * over the same backend pods as a service does).
 *
 * Each try opens a socket, sets SO_LINGER {1, 0} so close() sends a RST (no
 * TIME_WAIT: thousands of tries never run out of ports, and every SYN is a
 * new flow for conntrack and the NAT rules), times connect(), and closes.
 * A dropped SYN gives up after the send timeout instead of retrying for
 * seconds. Bounded by the number of tries and by a wall-clock limit.
 *
 * usage: connlat -a IP[,IP...] -p PORT [-c COUNT] [-w WARMUP] [-l MAX_SECONDS]
 * prints one JSON object: count, failures, p50 p90 p99 min max mean in µs.
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
#define MAX_ADDRS 8

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

/* Returns the microseconds connect() took, or -1 when it failed. */
static double one_connect(const struct sockaddr_in *to)
{
	struct linger rst = { .l_onoff = 1, .l_linger = 0 };
	struct timeval give_up = { .tv_sec = 1 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0, t1;
	int r;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &rst, sizeof(rst));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &give_up, sizeof(give_up));
	t0 = seconds_now();
	r = connect(fd, (const struct sockaddr *)to, sizeof(*to));
	t1 = seconds_now();
	close(fd);
	return r == 0 ? (t1 - t0) * 1e6 : -1;
}

/* Parses "IP[,IP...]" into to[] (port set later); returns how many, or 0 when one is not an IPv4 address. */
static int parse_addrs(char *list, struct sockaddr_in *to)
{
	int n = 0;

	for (char *a = strtok(list, ","); a; a = strtok(NULL, ",")) {
		if (n == MAX_ADDRS || inet_pton(AF_INET, a, &to[n].sin_addr) != 1)
			return 0;
		to[n++].sin_family = AF_INET;
	}
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_in to[MAX_ADDRS] = { 0 };
	int count = 2000, warmup = 200, port = 0, got = 0, failures = 0, naddrs = 0, opt;
	double limit = 60, start, sum = 0, *us;
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
	if (addr)
		naddrs = parse_addrs(addr, to);
	if (naddrs == 0 || port <= 0 || port > 65535 || count <= 0 || warmup < 0)
		goto usage;
	for (int i = 0; i < naddrs; i++)
		to[i].sin_port = htons(port);
	us = calloc(count, sizeof(*us));
	if (!us)
		return 1;
	start = seconds_now();
	for (int i = 0; i < warmup + count && failures <= MAX_FAILURES; i++) {
		double t;

		if (seconds_now() - start > limit)
			break;
		t = one_connect(&to[i % naddrs]);
		if (t < 0)
			failures++;
		else if (i >= warmup)
			us[got++] = t;
	}
	for (int i = 0; i < got; i++)
		sum += us[i];
	qsort(us, got, sizeof(*us), by_value);
	printf("{\"count\":%d,\"failures\":%d,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,"
	       "\"min\":%.2f,\"max\":%.2f,\"mean\":%.2f,\"seconds\":%.3f}\n",
	       got, failures, rank(us, got, 50), rank(us, got, 90), rank(us, got, 99),
	       got ? us[0] : -1, got ? us[got - 1] : -1, got ? sum / got : -1,
	       seconds_now() - start);
	return got == count ? 0 : 1;
usage:
	fprintf(stderr, "usage: connlat -a IP[,IP...] -p PORT [-c COUNT] [-w WARMUP] [-l MAX_SECONDS]\n");
	return 2;
}
