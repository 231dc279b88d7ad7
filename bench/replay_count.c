/* replay_count.c - clients for the replay and record benchmarks: connect, count whole
 * messages until the server closes (or until the Nth of --max N), and print "messages bytes
 * seconds last_s cpu_s" (seconds: the last message's arrival after the open; last_s: after
 * the first message; cpu_s: the process's CPU, user + system, from the first message to the
 * last one: with --max, taken at the Nth message, else at the end, the close included).
 * usage: replay_count [--max N] ws://HOST:PORT/PATH    a minimal libwebsockets client
 *        replay_count [--max N] --raw HOST PORT       a plain socket that parses frames
 *                                                     itself, so that the client is not
 *                                                     what is measured */
#include <arpa/inet.h>
#include <libwebsockets.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static uint64_t msgs, bytes, max_msgs;
static double t_first, t_last, t_open, cpu_first, cpu_last;
static int done;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One whole message has arrived; returns 1 at the last one --max wants. */
static int
message(void)
{
	double t = now();
	if (!msgs) {
		t_first = t;
		cpu_first = cpu_now();
	}
	t_last = t;
	if (++msgs == max_msgs) {
		cpu_last = cpu_now();
		return 1;
	}
	return 0;
}

static void
report(void)
{
	if (msgs && msgs != max_msgs)
		cpu_last = cpu_now();
	printf("%llu %llu %.6f %.6f %.6f\n", (unsigned long long)msgs, (unsigned long long)bytes,
	       msgs ? t_last - t_open : 0.0, msgs ? t_last - t_first : 0.0,
	       msgs ? cpu_last - cpu_first : 0.0);
}

static int
cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED: t_open = now(); break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		bytes += len;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi) && message()) {
			done = 1;
			return -1;
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED: done = 1; break;
	default: break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "bench", cb, 0, 1 << 20, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

/* A socket with the upgrade request sent on it; -1 when it cannot be had. */
static int
raw_connect(const char *host, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	char req[512];
	int n = snprintf(req, sizeof(req),
			 "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
			 host, port);
	if (write(fd, req, (size_t)n) != n)
		return -1;
	return fd;
}

/* The whole frames in buf[*off, len), counted, *off moved past them; *need: the size that
 * a frame that is not whole yet needs (0: none). Returns 1 at a close frame, else 0. */
static int
frames_count(const uint8_t *buf, size_t len, size_t *off, size_t *need)
{
	*need = 0;
	while (len - *off >= 2) {
		const uint8_t *h = buf + *off;
		uint64_t pl = h[1] & 127;
		size_t hl = 2;
		if (pl == 126) {
			if (len - *off < 4)
				break;
			pl = (uint64_t)h[2] << 8 | h[3];
			hl = 4;
		} else if (pl == 127) {
			if (len - *off < 10)
				break;
			pl = 0;
			for (int i = 0; i < 8; i++)
				pl = pl << 8 | h[2 + i];
			hl = 10;
		}
		if (len - *off < hl + pl) {
			*need = hl + pl;
			break;
		}
		int op = h[0] & 15, fin = h[0] & 0x80;
		if (op == 8)
			return 1;
		bytes += pl;
		*off += hl + pl;
		if (fin && op != 9 && op != 10 && message())
			return 1;
	}
	return 0;
}

static int
raw_client(const char *host, int port)
{
	int fd = raw_connect(host, port);
	if (fd < 0)
		return 1;
	size_t cap = 1 << 20, len = 0, off = 0, need;
	uint8_t *buf = malloc(cap);
	int hdr_done = 0;
	t_open = now();
	for (;;) {
		/* a frame that runs past the end of the buffer moves to its start first */
		if (off > cap / 2 || (off && len == cap)) {
			memmove(buf, buf + off, len - off);
			len -= off;
			off = 0;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (!hdr_done) {
			uint8_t *e = memmem(buf, len, "\r\n\r\n", 4);
			if (!e)
				continue;
			off = (size_t)(e + 4 - buf);
			hdr_done = 1;
		}
		if (frames_count(buf, len, &off, &need))
			break;
		if (need > cap) {
			cap = need * 2;
			buf = realloc(buf, cap);
		}
	}
	report();
	free(buf);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "--max")) {
		max_msgs = strtoull(argv[2], NULL, 10);
		argc -= 2;
		argv += 2;
	}
	if (argc == 4 && !strcmp(argv[1], "--raw"))
		return raw_client(argv[2], atoi(argv[3]));
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	char url[512];
	const char *proto, *addr, *path;
	int port;

	if (argc < 2) {
		fprintf(stderr,
			"usage: replay_count [--max N] ws://HOST:PORT/PATH | [--max N] --raw HOST PORT\n");
		return 2;
	}
	lws_set_log_level(LLL_ERR, NULL);
	snprintf(url, sizeof(url), "%s", argv[1]);
	if (lws_parse_uri(url, &proto, &addr, &port, &path))
		return 2;
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.pt_serv_buf_size = 256 * 1024;
	struct lws_context *ctx = lws_create_context(&info);
	if (!ctx)
		return 1;
	char p[512];
	snprintf(p, sizeof(p), "/%s", path);
	memset(&ci, 0, sizeof(ci));
	ci.context = ctx;
	ci.address = addr;
	ci.port = port;
	ci.path = p;
	ci.host = addr;
	ci.origin = addr;
	ci.protocol = NULL;
	if (!lws_client_connect_via_info(&ci))
		return 1;
	while (!done && lws_service(ctx, 0) >= 0)
		;
	report();
	lws_context_destroy(ctx);
	return 0;
}
