/* conn.c - a connection to one of a list of NATS servers: the list parsed, reconnecting for
 * ever when asked (a recorder must outlive an outage), and the errors named */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetstream/internal.h"

const char *
js_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case JS_EOF: return "end of the stream";
	case JS_ECONNECT: return "no NATS server could be reached";
	case JS_ESTREAM: return "the JetStream server refused the stream operation";
	case JS_ENOSTREAM: return "no such stream";
	case JS_EHEADER: return "a message that is not a wstape record";
	case JS_ETIMEOUT: return "timed out";
	case JS_ENATS: return "NATS client error";
	case JS_EINVAL: return "invalid argument";
	}
	return err > 0 ? strerror(err) : "unknown JetStream error";
}

void
js_detail(char *detail, size_t cap, const char *fmt, ...)
{
	va_list ap;
	if (!detail || !cap)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, cap, fmt, ap);
	va_end(ap);
}

int
js_status(natsStatus s, jsErrCode jerr, const char *what, char *detail, size_t cap)
{
	if (s == NATS_OK)
		return 0;
	const char *last = nats_GetLastError(NULL);
	/* libnats puts where it noticed the error first: "(jsm.c:1033): " */
	if (last && last[0] == '(' && strstr(last, "): "))
		last = strstr(last, "): ") + 3;
	if (jerr && last && *last)
		js_detail(detail, cap, "%s: %s (JetStream error %d)", what, last, (int)jerr);
	else
		js_detail(detail, cap, "%s: %s%s%s", what, natsStatus_GetText(s), last && *last ? ": " : "",
			  last && *last ? last : "");
	if (jerr == JSStreamNotFoundErr || s == NATS_NOT_FOUND)
		return JS_ENOSTREAM;
	if (jerr)
		return JS_ESTREAM;
	switch (s) {
	case NATS_NO_SERVER:
	case NATS_NOT_YET_CONNECTED:
	case NATS_CONNECTION_CLOSED:
	case NATS_CONNECTION_DISCONNECTED:
	case NATS_STALE_CONNECTION: return JS_ECONNECT;
	case NATS_TIMEOUT: return JS_ETIMEOUT;
	case NATS_NO_MEMORY: return ENOMEM;
	case NATS_INVALID_ARG: return JS_EINVAL;
	default: return JS_ENATS;
	}
}

void
js_servers_redact(const char *in, char *out, size_t cap)
{
	size_t o = 0;
	if (!cap)
		return;
	for (const char *p = in ? in : ""; *p && o + 1 < cap;) {
		/* one URL: up to ',' or ' ' */
		const char *e = p + strcspn(p, ", ");
		const char *host = p, *sch = strstr(p, "://");
		if (sch && sch < e)
			host = sch + 3;
		const char *at = memchr(host, '@', (size_t)(e - host));
		if (at) {
			o += (size_t)snprintf(out + o, cap - o, "%.*s***", (int)(host - p), p);
			p = at;
		}
		if (o >= cap)
			break;
		o += (size_t)snprintf(out + o, cap - o, "%.*s", (int)(e - p), p);
		if (o >= cap)
			break;
		p = e;
		while ((*p == ',' || *p == ' ') && o + 1 < cap)
			out[o++] = *p++;
	}
	out[o < cap ? o : cap - 1] = 0;
}

/* "a,b:4222, nats://c" into URLs with a scheme; returns the count or -1 */
static int
split_servers(const char *list, char ***out, char *detail, size_t cap)
{
	int n = 0, max = 1;
	for (const char *p = list; *p; p++)
		max += *p == ',';
	char **v = calloc((size_t)max, sizeof(*v));
	if (!v)
		return -1;
	const char *p = list;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',' && *e != ' ')
			e++;
		if (e == p)
			break;
		size_t len = (size_t)(e - p);
		int scheme = strstr(p, "://") && strstr(p, "://") < e;
		if (scheme && !(len > 7 && (!strncmp(p, "nats://", 7) || !strncmp(p, "tls://", 6)))) {
			js_detail(detail, cap, "'%.*s': a NATS server is nats://HOST:PORT or tls://HOST:PORT",
				  (int)len, p);
			goto bad;
		}
		if (asprintf(&v[n], "%s%.*s", scheme ? "" : "nats://", (int)len, p) < 0) {
			v[n] = NULL;
			goto bad;
		}
		n++;
		p = e;
	}
	if (n == 0) {
		js_detail(detail, cap, "no NATS server given (nats://HOST:PORT[,...])");
		goto bad;
	}
	*out = v;
	return n;
bad:
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return -1;
}

static void
url_of(natsConnection *nc, char *buf, size_t n)
{
	if (natsConnection_GetConnectedUrl(nc, buf, n) != NATS_OK || !*buf)
		snprintf(buf, n, "?");
}

static void
on_disconnected(natsConnection *nc, void *ud)
{
	struct js_conn *c = ud;
	char url[256] = "";
	if (c->on_state && !natsConnection_IsClosed(nc))
		c->on_state(0, url, c->ud);
}

static void
on_connected(natsConnection *nc, void *ud)
{
	struct js_conn *c = ud;
	char url[256];
	char shown[256];
	url_of(nc, url, sizeof url);
	js_servers_redact(url, shown, sizeof shown);
	snprintf(url, sizeof url, "%s", shown);
	if (c->on_state)
		c->on_state(1, url, c->ud);
}

int
js_connect(const struct js_conn_options *o, struct js_conn **out, char *detail, size_t cap)
{
	char **urls = NULL;
	int n, err;
	natsStatus s;
	jsOptions jo;

	*out = NULL;
	if (!o || !o->servers || (n = split_servers(o->servers, &urls, detail, cap)) < 0)
		return JS_EINVAL;
	struct js_conn *c = calloc(1, sizeof(*c));
	if (!c) {
		err = ENOMEM;
		goto done;
	}
	c->timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	c->on_state = o->on_state;
	c->ud = o->ud;
	s = natsOptions_Create(&c->opts);
	if (s == NATS_OK)
		s = natsOptions_SetServers(c->opts, (const char **)urls, n);
	if (s == NATS_OK)
		s = natsOptions_SetName(c->opts, o->name ? o->name : "wstape");
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(c->opts, c->timeout_ms);
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(c->opts, true);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(c->opts, on_disconnected, c);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(c->opts, on_connected, c);
	if (s == NATS_OK && o->retry) {
		s = natsOptions_SetMaxReconnect(c->opts, -1);
		if (s == NATS_OK)
			s = natsOptions_SetReconnectWait(c->opts, 500);
		if (s == NATS_OK)
			s = natsOptions_SetRetryOnFailedConnect(c->opts, true, on_connected, c);
	} else if (s == NATS_OK) {
		s = natsOptions_SetMaxReconnect(c->opts, 5);
	}
	if (s != NATS_OK) {
		err = js_status(s, 0, "NATS options", detail, cap);
		goto done;
	}
	s = natsConnection_Connect(&c->nc, c->opts);
	if (s != NATS_OK && !(o->retry && s == NATS_NOT_YET_CONNECTED)) {
		err = js_status(s, 0, "connect", detail, cap);
		if (err == JS_ECONNECT || err == JS_ENATS || err == JS_ETIMEOUT) {
			char shown[1024];
			js_servers_redact(o->servers, shown, sizeof shown);
			js_detail(
				detail, cap,
				"no NATS server answered at %s (%s): is nats-server running there, with -js?",
				shown, natsStatus_GetText(s));
			err = JS_ECONNECT;
		}
		goto done;
	}
	jsOptions_Init(&jo);
	jo.Wait = c->timeout_ms;
	s = natsConnection_JetStream(&c->js, c->nc, &jo);
	err = js_status(s, 0, "JetStream context", detail, cap);
done:
	for (int i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	if (err) {
		js_close(c);
		return err;
	}
	*out = c;
	return 0;
}

int
js_connected(struct js_conn *c)
{
	return c && c->nc && natsConnection_Status(c->nc) == NATS_CONN_STATUS_CONNECTED;
}

void
js_close(struct js_conn *c)
{
	if (!c)
		return;
	jsCtx_Destroy(c->js);
	if (c->nc) {
		natsConnection_Close(c->nc);
		natsConnection_Destroy(c->nc);
	}
	natsOptions_Destroy(c->opts);
	free(c);
}

void
js_library_close(void)
{
	nats_CloseAndWait(2000);
}
