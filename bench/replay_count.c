/* replay_count.c - a minimal libwebsockets client for the replay benchmark: connects, counts
 * whole messages until the server closes, and prints "messages bytes seconds last_s" where
 * last_s is the arrival of the last message after the first one.
 * usage: replay_count ws://HOST:PORT/PATH */
#include <libwebsockets.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static uint64_t msgs, bytes;
static double t_first, t_last, t_open;
static int done;

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int
cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		t_open = now();
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		bytes += len;
		if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi)) {
			double t = now();
			if (!msgs)
				t_first = t;
			t_last = t;
			msgs++;
		}
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
		done = 1;
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "bench", cb, 0, 1 << 20, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int
main(int argc, char **argv)
{
	struct lws_context_creation_info info;
	struct lws_client_connect_info ci;
	char url[512];
	const char *proto, *addr, *path;
	int port;

	if (argc < 2) {
		fprintf(stderr, "usage: replay_count ws://HOST:PORT/PATH\n");
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
	lws_context_destroy(ctx);
	printf("%llu %llu %.6f %.6f\n", (unsigned long long)msgs, (unsigned long long)bytes,
	       msgs ? t_last - t_open : 0.0, msgs ? t_last - t_first : 0.0);
	return 0;
}
