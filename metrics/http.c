/* http.c - /metrics and /healthz on a vhost of the caller's libwebsockets context: parsing
 * HOST:PORT, listening, answering GET and HEAD, writing the body in pieces */
#include "metrics/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libwebsockets.h>

#define CT_METRICS "text/plain; version=0.0.4; charset=utf-8"
#define CT_JSON "application/json"
#define CT_TEXT "text/plain; charset=utf-8"

struct metrics_http {
	struct metrics_http_ops ops;
	struct lws_vhost *vh;
	int port;
};

/* one request's answer, kept between WRITEABLE calls */
struct mh_session {
	struct text_buf body;
	size_t off;
	int close_after; /* a method we do not take: close once answered */
};

int
metrics_http_parse(const char *arg, char *host, size_t hsize, int *port, char *why, size_t wsize)
{
	const char *colon, *h = arg;
	size_t hlen;
	uint64_t p;

	if (!arg || !*arg)
		goto bad;
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (!close || close[1] != ':')
			goto bad;
		h = arg + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
		if (!hlen)
			goto bad;
	} else {
		if (!(colon = strrchr(arg, ':')) || memchr(arg, ':', (size_t)(colon - arg)))
			goto bad;
		hlen = (size_t)(colon - arg);
	}
	if (hlen >= hsize || text_parse_u64(colon + 1, &p) || p > 65535)
		goto bad;
	memcpy(host, h, hlen);
	host[hlen] = 0;
	*port = (int)p;
	return 0;
bad:
	snprintf(why, wsize,
		 "'%s' is not HOST:PORT (such as 127.0.0.1:9100, localhost:9100, [::1]:9100, or :9100 "
		 "for every address; a port from 0 to 65535)",
		 arg ? arg : "");
	return EINVAL;
}

/* host as a numeric address for lws (a name is looked up; IPv4 first), and whether it is
 * one this machine can listen on at port: a clearer word than lws's when it is not. */
static int
resolve_and_try(const char *arg, const char *host, int port, char *num, size_t nsize, char *why, size_t wsize)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *ai = NULL, *use;
	char ps[8];
	int gai, fd, one = 1, err = 0;

	snprintf(ps, sizeof(ps), "%d", port);
	if ((gai = getaddrinfo(host[0] ? host : NULL, ps, &hints, &ai)) != 0) {
		snprintf(why, wsize, "cannot listen on '%s': '%s' is not an address or a known name: %s", arg,
			 host, gai_strerror(gai));
		return EADDRNOTAVAIL;
	}
	for (use = ai; use && use->ai_family != AF_INET; use = use->ai_next)
		;
	if (!use)
		use = ai;
	if (getnameinfo(use->ai_addr, use->ai_addrlen, num, (socklen_t)nsize, NULL, 0, NI_NUMERICHOST))
		num[0] = 0;
	if ((fd = socket(use->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		err = errno;
		snprintf(why, wsize, "cannot listen on '%s': %s", arg, strerror(err));
	} else {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, use->ai_addr, use->ai_addrlen) != 0) {
			err = errno;
			if (err == EADDRINUSE)
				snprintf(why, wsize,
					 "cannot listen on '%s': the port is in use (another program listens "
					 "there; choose another port)",
					 arg);
			else if (err == EADDRNOTAVAIL)
				snprintf(why, wsize,
					 "cannot listen on '%s': %s is not an address of this machine", arg,
					 num);
			else
				snprintf(why, wsize, "cannot listen on '%s': %s", arg, strerror(err));
		}
		close(fd);
	}
	freeaddrinfo(ai);
	return err;
}

static int
begin_answer(struct lws *wsi, struct mh_session *ps, unsigned status, const char *ctype, int head)
{
	unsigned char hdr[LWS_PRE + 512], *start = hdr + LWS_PRE, *p = start, *end = hdr + sizeof(hdr) - 1;

	if (text_buf_err(&ps->body))
		return -1;
	if (lws_add_http_common_headers(wsi, status, ctype, (lws_filepos_t)ps->body.len, &p, end) ||
	    lws_add_http_header_by_token(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, (const unsigned char *)"no-store",
					 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	ps->off = 0;
	if (head || !ps->body.len) {
		text_buf_free(&ps->body);
		if (ps->close_after)
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static int
on_request(struct lws *wsi, struct mh_session *ps, const char *path)
{
	struct metrics_http *h = lws_vhost_user(lws_get_vhost(wsi));
	int head = lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
	int get = lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) > 0;

	text_buf_free(&ps->body);
	ps->close_after = 0;
	if (!h)
		return -1;
	if (!get && !head) {
		ps->close_after = 1;
		text_buf_adds(&ps->body, "only GET and HEAD are answered here\n");
		return begin_answer(wsi, ps, 405, CT_TEXT, 0);
	}
	if (!strcmp(path, "/metrics")) {
		h->ops.render(h->ops.ud, &ps->body);
		return begin_answer(wsi, ps, 200, CT_METRICS, head);
	}
	if (!strcmp(path, "/healthz")) {
		int ok = h->ops.health(h->ops.ud, &ps->body);
		text_buf_adds(&ps->body, "\n");
		return begin_answer(wsi, ps, ok ? 200 : 503, CT_JSON, head);
	}
	text_buf_adds(&ps->body, "not found: this server answers /metrics and /healthz\n");
	return begin_answer(wsi, ps, 404, CT_TEXT, head);
}

static int
on_writeable(struct lws *wsi, struct mh_session *ps)
{
	static unsigned char buf[LWS_PRE + METRICS_HTTP_PIECE];
	size_t n;
	int final;

	if (!ps->body.p || ps->off >= ps->body.len)
		return 0;
	n = ps->body.len - ps->off;
	if (n > METRICS_HTTP_PIECE)
		n = METRICS_HTTP_PIECE;
	final = ps->off + n == ps->body.len;
	memcpy(buf + LWS_PRE, ps->body.p + ps->off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	ps->off += n;
	if (!final) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	text_buf_free(&ps->body);
	if (ps->close_after)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int
mh_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct mh_session *ps = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP: return on_request(wsi, ps, in ? (const char *)in : "");
	case LWS_CALLBACK_HTTP_BODY: return 0; /* a body we do not take (405) */
	case LWS_CALLBACK_HTTP_WRITEABLE: return ps ? on_writeable(wsi, ps) : 0;
	case LWS_CALLBACK_CLOSED_HTTP:
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
		if (ps)
			text_buf_free(&ps->body);
		return 0;
	default: return 0;
	}
}

static const struct lws_protocols mh_protocols[] = {
	{ "http", mh_callback, sizeof(struct mh_session), 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

int
metrics_http_start(struct lws_context *ctx, const char *arg, const struct metrics_http_ops *ops,
		   struct metrics_http **out, char *why, size_t wsize)
{
	struct lws_context_creation_info info;
	struct metrics_http *h;
	char host[256], num[INET6_ADDRSTRLEN + 1];
	int port, err;

	*out = NULL;
	if ((err = metrics_http_parse(arg, host, sizeof(host), &port, why, wsize)) ||
	    (err = resolve_and_try(arg, host, port, num, sizeof(num), why, wsize)))
		return err;
	if (ops->no_ipv6 && host[0] && strchr(num, ':')) {
		snprintf(why, wsize,
			 "cannot listen on '%s': this command serves IPv4 only (give an IPv4 address)", arg);
		return EADDRNOTAVAIL;
	}
	if (!(h = calloc(1, sizeof(*h)))) {
		snprintf(why, wsize, "out of memory");
		return ENOMEM;
	}
	h->ops = *ops;
	memset(&info, 0, sizeof(info));
	info.vhost_name = "wstape-metrics";
	info.port = port;
	info.iface = host[0] ? num : NULL;
	info.protocols = mh_protocols;
	info.user = h;
	info.keepalive_timeout = 30;
	info.options = LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
	if (strchr(num, ':') && host[0])
		info.options |= LWS_SERVER_OPTION_IPV6_V6ONLY_MODIFY | LWS_SERVER_OPTION_IPV6_V6ONLY_VALUE;
	else if (host[0])
		/* an IPv4 address: on a context with IPv6, lws 4.1 would bind every address */
		info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
	if (!(h->vh = lws_create_vhost(ctx, &info))) {
		snprintf(why, wsize, "cannot listen on '%s'", arg);
		free(h);
		return EADDRNOTAVAIL;
	}
	h->port = lws_get_vhost_listen_port(h->vh);
	*out = h;
	return 0;
}

int
metrics_http_port(const struct metrics_http *h)
{
	return h ? h->port : 0;
}

void
metrics_http_free(struct metrics_http *h)
{
	free(h);
}
