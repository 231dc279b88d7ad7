/* spec_server.c - the server half of a feed declared as data, for `wstape replay`
 *
 * The recorded frames, as recorded, with subscribe gating by channel when the spec says
 * how a client's subscribe names channels: a connection's timeline waits for its first
 * subscribe, and then a data frame goes to it only when its channel is one it subscribed
 * to (the others take their time and are not sent); control frames go as recorded. A
 * client's ping (ping "from" "client") gets the spec's answer; with "from" "server" the
 * server sends the spec's ping every every_s (unless --ping-s says otherwise) and the
 * client's answer counts as its pong.
 */
#include "feeds/json_scan.h"
#include "feeds/spec_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Channels one connection may subscribe to; more are refused (logged by no one: the
 * client simply gets none of theirs). */
#define SPEC_MAX_SUBS 4096

struct spec_srv {
	const struct spec *s;
	const struct feed_host *h;
};

struct spec_conn {
	const struct spec *s;
	const struct feed_host *h;
	struct feed_conn *c;
	int subscribed; /* a subscribe came */
	int nsub;
	char **sub;
	size_t *sublen;
};

static int
srv_new(const struct feed_host *h, void **out)
{
	struct spec_srv *v = calloc(1, sizeof(*v));

	if (!v)
		return ENOMEM;
	v->s = spec_of(h->feed);
	v->h = h;
	*out = v;
	return 0;
}

static void
srv_free(void *srv)
{
	free(srv);
}

static int
conn_new(void *srv, struct feed_conn *c, void **out)
{
	struct spec_srv *v = srv;
	struct spec_conn *k = calloc(1, sizeof(*k));

	if (!k)
		return ENOMEM;
	k->s = v->s;
	k->h = v->h;
	k->c = c;
	*out = k;
	return 0;
}

static void
conn_free(void *conn)
{
	struct spec_conn *k = conn;

	if (!k)
		return;
	for (int i = 0; i < k->nsub; i++)
		free(k->sub[i]);
	free(k->sub);
	free(k->sublen);
	free(k);
}

static void
unauthorized(void *conn, struct text_buf *b)
{
	(void)conn;
	text_buf_adds(b, "{\"type\":\"error\",\"message\":\"Invalid API key\"}");
}

static int
on_connect(void *conn)
{
	struct spec_conn *k = conn;

	k->h->timeline_start(k->c, k->h->live ? FEED_TL_LIVE : FEED_TL_FRESH);
	/* as an exchange: nothing of a channel before a subscribe */
	if (k->s->has_sub)
		k->h->hold(k->c, 1);
	return 0;
}

static int
subscribed(const struct spec_conn *k, struct feed_str ch)
{
	for (int i = 0; i < k->nsub; i++)
		if (k->sublen[i] == ch.len && memcmp(k->sub[i], ch.p, ch.len) == 0)
			return 1;
	return 0;
}

static void
sub_add(struct spec_conn *k, struct feed_str ch)
{
	char **s;
	size_t *l;

	if (subscribed(k, ch) || k->nsub >= SPEC_MAX_SUBS)
		return;
	if (!(s = realloc(k->sub, (size_t)(k->nsub + 1) * sizeof(*s))))
		return;
	k->sub = s;
	if (!(l = realloc(k->sublen, (size_t)(k->nsub + 1) * sizeof(*l))))
		return;
	k->sublen = l;
	if (!(k->sub[k->nsub] = malloc(ch.len + 1)))
		return;
	memcpy(k->sub[k->nsub], ch.p, ch.len);
	k->sub[k->nsub][ch.len] = '\0';
	k->sublen[k->nsub++] = ch.len;
}

/* A subscribe of the spec's shape: its list's channels are the connection's. Returns 1
 * when the message was one. */
static int
subscribe(struct spec_conn *k, const char *p, size_t n)
{
	const struct spec *s = k->s;
	struct json_scan_it it;
	struct feed_str list;
	const char *v;
	size_t vl;
	char buf[256];

	if (!s->has_sub || spec_ptr_eval(&s->sub_list, p, n, &list) != 1 || list.p[0] != '[' ||
	    !spec_match_all(s->sub_match, s->nsub_match, p, n) ||
	    json_scan_array_begin(&it, list.p, list.p + list.len))
		return 0;
	while (json_scan_array_next(&it, &v, &vl) == 1) {
		struct feed_str ch;

		if (spec_channel_of(s->sub_ch, s->nsub_ch, v, vl, buf, sizeof(buf), &ch))
			sub_add(k, ch);
	}
	if (!k->subscribed) {
		k->subscribed = 1;
		k->h->hold(k->c, 0);
		/* the stream starts with the subscription: its timeline plays from now on */
		if (!k->h->live)
			k->h->restart_clock(k->c);
	}
	/* the frame read ahead was made before this subscribe */
	k->h->reread(k->c);
	return 1;
}

static void
on_message(void *conn, const uint8_t *p, size_t n)
{
	struct spec_conn *k = conn;
	const struct spec *s = k->s;
	const char *t = (const char *)p;

	if (s->ping_from == SPEC_PING_CLIENT && spec_value_is(&s->ping_msg, t, n)) {
		k->h->send(k->c, s->ping_answer.text, s->ping_answer.len);
		return;
	}
	if (s->ping_from == SPEC_PING_SERVER && spec_value_is(&s->ping_answer, t, n)) {
		k->h->pong(k->c);
		return;
	}
	if (n && json_scan_document(t, n) == 0)
		subscribe(k, t, n);
}

static void
ping(void *conn, struct text_buf *b)
{
	struct spec_conn *k = conn;

	text_buf_add(b, k->s->ping_msg.text, k->s->ping_msg.len);
}

static int
frame(void *conn, const struct feed_record *r, struct feed_frame *out)
{
	struct spec_conn *k = conn;

	memset(out, 0, sizeof(*out));
	out->p = r->payload;
	out->n = r->payload_len;
	out->binary = r->kind == FEED_REC_BINARY;
	out->tag = -1;
	out->wall_ns = r->wall_ns;
	out->recno = r->recno;
	if (k->s->has_sub && r->kind == FEED_REC_TEXT) {
		struct feed_msg m;

		feed_classify(&k->s->feed, r->payload, r->payload_len, &m);
		if (m.cls == FEED_MSG_DATA && !subscribed(k, m.channel))
			out->skip = 1;
	}
	return 1;
}

const struct feed_server_ops spec_server_ops = {
	.server_new = srv_new,
	.server_free = srv_free,
	.conn_new = conn_new,
	.conn_free = conn_free,
	.unauthorized = unauthorized,
	.on_connect = on_connect,
	.on_message = on_message,
	.frame = frame,
};

void
spec_server_setup(struct spec *s)
{
	s->server = spec_server_ops;
	/* a ping known by its shape alone (a match object) cannot be sent: the recorded
	   ones go as recorded */
	if (s->ping_from == SPEC_PING_SERVER && s->ping_msg.kind != SPEC_V_MATCH) {
		s->server.ping = ping;
		s->server.ping_every_ms = s->ping_every_ms;
	}
}
