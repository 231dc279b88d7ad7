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

/* The run: the clients, what they have seen, the lateness samples. */
static struct fan {
	const char *host, *ready;
	int port, n, open_n, upgraded, ep;
	double period, speed, secs, step;
	struct cl *cls;
	int64_t *samp;
	size_t ns, scap;
	uint64_t msgs;
	int64_t t_first, t_last;
} F = { .speed = 1, .secs = 120 };

static int
fan_args(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr,
			"usage: replay_fan HOST PORT N [--period-ns P] [--speed S] [--secs T] [--expect FILE] "
			"[--ready FILE]\n");
		return 2;
	}
	F.host = argv[1];
	F.port = atoi(argv[2]);
	F.n = atoi(argv[3]);
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--period-ns"))
			F.period = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--speed"))
			F.speed = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--secs"))
			F.secs = atof(argv[i + 1]);
		else if (!strcmp(argv[i], "--expect"))
			load_expect(argv[i + 1]);
		else if (!strcmp(argv[i], "--ready"))
			F.ready = argv[i + 1];
	}
	F.step = F.period / F.speed;
	return 0;
}

/* Connect client i and send its upgrade request; 0, or -1 (it is closed). */
static int
fan_connect(int i, const char *req, int reqn)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)F.port) };
	struct cl *c = &F.cls[i];
	int one = 1;

	c->pos = -1;
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	inet_pton(AF_INET, F.host, &sa.sin_addr);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    write(c->fd, req, (size_t)reqn) != reqn) {
		fprintf(stderr, "client %d: cannot connect: %s\n", i, strerror(errno));
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		c->closed = 1;
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	epoll_ctl(F.ep, EPOLL_CTL_ADD, c->fd, &ev);
	return 0;
}

static void
fan_connect_all(void)
{
	char req[512];
	int reqn =
		snprintf(req, sizeof(req),
			 "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			 F.host, F.port);

	F.cls = calloc((size_t)F.n, sizeof(*F.cls));
	F.ep = epoll_create1(0);
	for (int i = 0; i < F.n; i++)
		if (fan_connect(i, req, reqn) == 0)
			F.open_n++;
	F.scap = 1 << 20;
	F.samp = F.period > 0 ? malloc(F.scap * sizeof(*F.samp)) : NULL;
}

/* Read what client c's socket holds into its buffer. */
static void
fan_read(struct cl *c)
{
	for (;;) {
		if (c->cap - c->len < 65536) {
			c->cap = c->cap ? c->cap * 2 : 131072;
			c->buf = realloc(c->buf, c->cap);
		}
		ssize_t r = read(c->fd, c->buf + c->len, c->cap - c->len);
		if (r <= 0) {
			if (!(r < 0 && (errno == EAGAIN || errno == EINTR)))
				c->closed = 1;
			return;
		}
		c->len += (size_t)r;
	}
}

/* The end of the upgrade answer in c's buffer: where its frames begin (0 when not yet). */
static size_t
fan_upgrade(struct cl *c)
{
	uint8_t *h = memmem(c->buf, c->len, "\r\n\r\n", 4);

	if (!h)
		return 0;
	c->upgraded = 1;
	if (++F.upgraded == F.open_n && F.ready) {
		FILE *rf = fopen(F.ready, "w");
		if (rf) {
			fprintf(rf, "ready %d\n", F.upgraded);
			fclose(rf);
		}
	}
	return (size_t)(h - c->buf) + 4;
}

/* One data message of c received at t: counted, checked, its lateness sampled. */
static void
fan_message(struct cl *c, int op, const uint8_t *p, uint64_t pl, int64_t t)
{
	c->msgs++;
	if (!F.msgs++)
		F.t_first = t;
	F.t_last = t;
	if (expected)
		check(c, op, p, pl);
	const uint8_t *q = pl > 5 ? memmem(p, pl < 32 ? pl : 32, "\"i\":", 4) : NULL;
	if (F.samp && q) {
		if (F.ns == F.scap)
			F.samp = realloc(F.samp, (F.scap *= 2) * sizeof(*F.samp));
		F.samp[F.ns++] = t - (int64_t)(F.step * (double)strtoll((const char *)q + 4, NULL, 10));
	}
}

/* The whole frames in c's buffer from off; returns where the next one begins. */
static size_t
fan_frames(struct cl *c, size_t off, int64_t t)
{
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
		off += hl + pl;
		if (op == 8) {
			c->closed = 1;
			break;
		}
		if (op == 1 || op == 2)
			fan_message(c, op, h + hl, pl, t);
	}
	return off;
}

/* Read every client until all have closed or the time is up. */
static void
fan_loop(void)
{
	int64_t t_end = now_ns() + (int64_t)(F.secs * 1e9);
	int live = F.open_n;
	struct epoll_event evs[256];

	while (live > 0 && now_ns() < t_end) {
		int k = epoll_wait(F.ep, evs, 256, 100);
		int64_t t = now_ns();
		for (int e = 0; e < k; e++) {
			struct cl *c = evs[e].data.ptr;
			fan_read(c);
			size_t off = c->upgraded ? 0 : fan_upgrade(c);
			off = fan_frames(c, off, t);
			memmove(c->buf, c->buf + off, c->len - off);
			c->len -= off;
			if (c->closed) {
				epoll_ctl(F.ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				live--;
			}
		}
	}
}

/* Print the figures; 0, or 1 when --expect found a client without every frame. */
static int
fan_report(void)
{
	double p50 = 0, p99 = 0, mx = 0, sec = (double)(F.t_last - F.t_first) / 1e9;
	int rc = 0;

	if (F.ns) {
		qsort(F.samp, F.ns, sizeof(*F.samp), cmp64);
		int64_t base = F.samp[0];
		p50 = (double)(F.samp[F.ns / 2] - base) / 1e3;
		p99 = (double)(F.samp[(size_t)((double)(F.ns - 1) * 0.99)] - base) / 1e3;
		mx = (double)(F.samp[F.ns - 1] - base) / 1e3;
	}
	printf("clients %d open %d msgs %llu secs %.3f rate %.0f p50_us %.1f p99_us %.1f max_us %.1f", F.n,
	       F.open_n, (unsigned long long)F.msgs, sec, sec > 0 ? (double)F.msgs / sec : 0, p50, p99, mx);
	if (expected) {
		int complete = 0;
		long bad = 0;
		for (int i = 0; i < F.n; i++) {
			bad += F.cls[i].bad;
			complete += F.cls[i].pos == nexp && !F.cls[i].bad;
		}
		printf(" complete %d bad %ld", complete, bad);
		rc = complete == F.n && !bad ? 0 : 1;
	}
	printf("\n");
	return rc;
}

int
main(int argc, char **argv)
{
	int rc = fan_args(argc, argv);

	if (rc)
		return rc;
	fan_connect_all();
	fan_loop();
	rc = fan_report();
	for (int i = 0; i < F.n; i++) {
		if (F.cls[i].fd >= 0)
			close(F.cls[i].fd);
		free(F.cls[i].buf);
	}
	free(F.cls);
	free(F.samp);
	free(expected);
	free(expected_data);
	close(F.ep);
	return rc;
}
