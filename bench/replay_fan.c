/* replay_fan.c - many clients of one replay, in one process: the live fan-out's lateness as
 * the clients measure it, its aggregate rate, and (for tests) every frame checked
 *
 * usage: replay_fan HOST PORT N [--period-ns P] [--speed S] [--secs T] [--expect FILE]
 *                   [--ready FILE]
 *
 * N plain sockets (the upgrade sent by hand, frames parsed here, so that the client costs
 * little), served by one epoll loop, until the server has closed them all or T seconds
 * (default 120) have passed. Prints one line:
 *   clients N open K msgs M secs S rate R p50_us A p99_us B max_us C
 * - lateness (--period-ns: the recording's frames are P ns apart and carry their index,
 *   {"i":N}, as the bench's pacing journals do): frame i is due at base + i * P / speed;
 *   the base is the least (receive time - i * P / speed) over every frame of every client,
 *   so a frame's lateness is its receive time against the earliest any frame went out
 *   (what a frame's due time is to a client that cannot read the server's clock). One base
 *   for all clients: a client served late every time is late, not its own zero.
 * - rate: messages over all clients, from the first one received to the last.
 * - --expect FILE: the frames of the recording in order (each: 1 byte opcode, 4 bytes
 *   big-endian length, the payload); each client must get a run of them, byte-exact, in
 *   order and without a gap, that ends with the last one. Adds "complete K bad B" (clients
 *   that got such a run to the end, frames that were not what was due); exit 1 unless
 *   every client is complete and no frame is bad.
 * - --ready FILE: "ready N" is written to FILE once every client has its upgrade answer (for
 *   a caller that measures the server with all of them connected). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct exp_frame {
	int op;
	uint32_t len;
	const uint8_t *p;
};

struct cl {
	int fd, upgraded, closed;
	uint8_t *buf;
	size_t len, cap;
	long pos; /* index of the next expected frame (-1: not started) */
	int bad;
	uint64_t msgs;
};

static struct exp_frame *expected;
static long nexp;
static uint8_t *expected_data;

static int64_t
now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void
load_expect(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		perror(path);
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *d = malloc((size_t)n + 1);
	if (!d || fread(d, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "cannot read %s\n", path);
		exit(2);
	}
	fclose(f);
	expected_data = d;
	long cap = 1024;
	expected = malloc(sizeof(*expected) * (size_t)cap);
	for (long off = 0; off + 5 <= n;) {
		if (nexp == cap)
			expected = realloc(expected, sizeof(*expected) * (size_t)(cap *= 2));
		struct exp_frame *e = &expected[nexp++];
		e->op = d[off];
		e->len = (uint32_t)d[off + 1] << 24 | (uint32_t)d[off + 2] << 16 | (uint32_t)d[off + 3] << 8 |
			d[off + 4];
		e->p = d + off + 5;
		off += 5 + e->len;
		if (off > n) {
			fprintf(stderr, "%s: truncated\n", path);
			exit(2);
		}
	}
}

/* The frame (op, p, n) against what the client is due: the first one it gets may be any
 * of the recording (it joined at the live edge), each one after it the next. */
static void
check(struct cl *c, int op, const uint8_t *p, uint64_t n)
{
	if (c->pos < 0) {
		for (long i = 0; i < nexp; i++)
			if (expected[i].op == op && expected[i].len == n &&
			    memcmp(expected[i].p, p, n) == 0) {
				c->pos = i;
				break;
			}
		if (c->pos < 0) {
			c->bad++;
			return;
		}
	}
	if (c->pos >= nexp || expected[c->pos].op != op || expected[c->pos].len != n ||
	    memcmp(expected[c->pos].p, p, n)) {
		c->bad++;
		return;
	}
	c->pos++;
}

int
main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr,
			"usage: replay_fan HOST PORT N [--period-ns P] [--speed S] [--secs T] [--expect FILE] "
			"[--ready FILE]\n");
		return 2;
	}
	const char *host = argv[1];
	int port = atoi(argv[2]), n = atoi(argv[3]);
	double period = 0, speed = 1, secs = 120;
	const char *ready = NULL;
	int upgraded = 0;
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--period-ns"))
			period = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--speed"))
			speed = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--secs"))
			secs = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--expect"))
			load_expect(argv[i + 1]);
		else if (!strcmp(argv[i], "--ready"))
			ready = argv[i + 1];
	}
	struct cl *cls = calloc((size_t)n, sizeof(*cls));
	int ep = epoll_create1(0), open_n = 0;
	char req[512];
	int reqn =
		snprintf(req, sizeof(req),
			 "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			 host, port);
	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
		struct cl *c = &cls[i];
		c->pos = -1;
		c->fd = socket(AF_INET, SOCK_STREAM, 0);
		int one = 1;
		inet_pton(AF_INET, host, &sa.sin_addr);
		if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    write(c->fd, req, (size_t)reqn) != reqn) {
			fprintf(stderr, "client %d: cannot connect: %s\n", i, strerror(errno));
			if (c->fd >= 0)
				close(c->fd);
			c->fd = -1;
			c->closed = 1;
			continue;
		}
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		fcntl(c->fd, F_SETFL, O_NONBLOCK);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
		epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		open_n++;
	}
	size_t scap = 1 << 20, ns = 0;
	int64_t *samp = period > 0 ? malloc(scap * sizeof(*samp)) : NULL;
	uint64_t msgs = 0;
	int64_t t_first = 0, t_last = 0, t_end = now_ns() + (int64_t)(secs * 1e9);
	int live = open_n;
	double step = period / speed;
	struct epoll_event evs[256];
	while (live > 0 && now_ns() < t_end) {
		int k = epoll_wait(ep, evs, 256, 100);
		int64_t t = now_ns();
		for (int e = 0; e < k; e++) {
			struct cl *c = evs[e].data.ptr;
			for (;;) {
				if (c->cap - c->len < 65536) {
					c->cap = c->cap ? c->cap * 2 : 131072;
					c->buf = realloc(c->buf, c->cap);
				}
				ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
				if (r <= 0) {
					if (r < 0 && (errno == EAGAIN || errno == EINTR))
						break;
					c->closed = 1;
					break;
				}
				c->len += (size_t)r;
			}
			size_t off = 0;
			if (!c->upgraded) {
				uint8_t *h = memmem(c->buf, c->len, "\r\n\r\n", 4);
				if (h) {
					c->upgraded = 1;
					off = (size_t)(h - c->buf) + 4;
					if (++upgraded == open_n && ready) {
						FILE *rf = fopen(ready, "w");
						if (rf) {
							fprintf(rf, "ready %d\n", upgraded);
							fclose(rf);
						}
					}
				}
			}
			while (c->upgraded && c->len - off >= 2) {
				const uint8_t *h = c->buf + off;
				uint64_t pl = h[1] & 127;
				size_t hl = 2;
				if (pl == 126) {
					if (c->len - off < 4)
						break;
					pl = (uint64_t)h[2] << 8 | h[3];
					hl = 4;
				} else if (pl == 127) {
					if (c->len - off < 10)
						break;
					pl = 0;
					for (int b = 0; b < 8; b++)
						pl = pl << 8 | h[2 + b];
					hl = 10;
				}
				if (c->len - off < hl + pl)
					break;
				int op = h[0] & 15;
				const uint8_t *p = h + hl;
				off += hl + pl;
				if (op == 8) {
					c->closed = 1;
					break;
				}
				if (op != 1 && op != 2)
					continue;
				c->msgs++;
				if (!msgs++)
					t_first = t;
				t_last = t;
				if (expected)
					check(c, op, p, pl);
				const uint8_t *q = pl > 5 ? memmem(p, pl < 32 ? pl : 32, "\"i\":", 4) : NULL;
				if (samp && q) {
					if (ns == scap)
						samp = realloc(samp, (scap *= 2) * sizeof(*samp));
					samp[ns++] = t -
						(int64_t)(step *
							  (double)strtoll((const char *)q + 4, NULL, 10));
				}
			}
			memmove(c->buf, c->buf + off, c->len - off);
			c->len -= off;
			if (c->closed) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				live--;
			}
		}
	}
	double p50 = 0, p99 = 0, mx = 0;
	if (ns) {
		qsort(samp, ns, sizeof(*samp), cmp64);
		int64_t base = samp[0];
		p50 = (double)(samp[ns / 2] - base) / 1e3;
		p99 = (double)(samp[(size_t)((double)(ns - 1) * 0.99)] - base) / 1e3;
		mx = (double)(samp[ns - 1] - base) / 1e3;
	}
	double sec = (double)(t_last - t_first) / 1e9;
	printf("clients %d open %d msgs %llu secs %.3f rate %.0f p50_us %.1f p99_us %.1f max_us %.1f", n,
	       open_n, (unsigned long long)msgs, sec, sec > 0 ? (double)msgs / sec : 0, p50, p99, mx);
	int rc = 0;
	if (expected) {
		int complete = 0;
		long bad = 0;
		for (int i = 0; i < n; i++) {
			bad += cls[i].bad;
			complete += cls[i].pos == nexp && !cls[i].bad;
		}
		printf(" complete %d bad %ld", complete, bad);
		rc = complete == n && !bad ? 0 : 1;
	}
	printf("\n");
	for (int i = 0; i < n; i++) {
		if (cls[i].fd >= 0)
			close(cls[i].fd);
		free(cls[i].buf);
	}
	free(cls);
	free(samp);
	free(expected);
	free(expected_data);
	close(ep);
	return rc;
}
