/* http.h - the HTTP endpoint of --metrics: /metrics and /healthz served from the caller's
 * libwebsockets context, on a vhost of its own (metrics/http.c, the one file of metrics/
 * that includes libwebsockets.h)
 *
 * GET or HEAD of /metrics: the caller's render (text exposition format 0.0.4); of /healthz:
 * the caller's health, 200 with its JSON when healthy, else 503; other paths 404, other
 * methods 405. Requests are answered on the loop's thread, between its other work: the body
 * is built at once and written in pieces of METRICS_HTTP_PIECE bytes as the socket takes
 * them, so that a slow scraper holds memory, never the loop.
 */
#ifndef WSTAPE_METRICS_HTTP_H
#define WSTAPE_METRICS_HTTP_H

#include <stddef.h>

#include "util/text.h"

#define METRICS_HTTP_PIECE 16384

struct lws_context;

struct metrics_http_ops {
	void (*render)(void *ud, struct text_buf *out);
	/* the JSON status into out; returns 1 when healthy */
	int (*health)(void *ud, struct text_buf *out);
	void *ud;
	int no_ipv6; /* the context was made without IPv6 (lws would bind every IPv4 address) */
};

/* Split --metrics HOST:PORT ("127.0.0.1:9100", "localhost:9100", "[::1]:9100", ":9100" for
 * every address) into host ("" for every address; an IPv6 address without brackets) and
 * port (0-65535). Returns 0, or EINVAL with why (what a good value is). */
int metrics_http_parse(const char *arg, char *host, size_t hsize, int *port, char *why, size_t wsize);

struct metrics_http;

/* Listen on arg (metrics_http_parse) with a vhost of ctx. ops is copied. Returns 0 and *out,
 * EINVAL (a bad value), EADDRINUSE (the port is taken), EADDRNOTAVAIL (not an address of
 * this machine), another errno, with why naming the address and what to do. */
int metrics_http_start(struct lws_context *ctx, const char *arg, const struct metrics_http_ops *ops,
		       struct metrics_http **out, char *why, size_t wsize);
/* The port listened on (the one chosen for port 0). */
int metrics_http_port(const struct metrics_http *h);
/* After the context is destroyed (its vhost goes with it). */
void metrics_http_free(struct metrics_http *h);

#endif
