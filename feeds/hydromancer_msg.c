/* hydromancer_msg.c - what a Hydromancer server sends, and what its clients send it */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "feeds/feed_int.h"
#include "feeds/feed_server.h"
#include "feeds/json_scan.h"
#include "util/text.h"

/* The subscription type and cursor a client sends are echoed between quotes, escapes as
 * they came (subscriptionUpdate, replay chunks): only a valid JSON string (or, for a
 * cursor, a number) may be, else the answer would not be JSON. */
static int
echo_ok(struct feed_str v, int number_ok)
{
	json_error_t e;
	json_t *j = json_loadb(v.p, v.len, JSON_DECODE_ANY, &e);
	int ok = j && (json_is_string(j) || (number_ok && json_is_number(j)));
	json_decref(j);
	return ok;
}

void
hm_client_parse(const uint8_t *p, size_t n, struct hm_client_msg *m)
{
	struct feed_fields f = { 0 };

	memset(m, 0, sizeof(*m));
	if (feed_fields_scan((const char *)p, n, &f) != 0) {
		m->kind = HM_C_BAD;
		return;
	}
	struct feed_str method = feed_str_unquote(f.method), type = feed_str_unquote(f.type);
	if (feed_str_eq(method, "pong") || feed_str_eq(type, "pong")) {
		m->kind = HM_C_PONG;
		return;
	}
	if (feed_str_eq(method, "ping") || feed_str_eq(type, "ping")) {
		m->kind = HM_C_PING;
		return;
	}
	int sub = feed_str_eq(method, "subscribe"), unsub = feed_str_eq(method, "unsubscribe");
	if (!sub && !unsub) {
		m->kind = method.len ? HM_C_OTHER : HM_C_BAD;
		return;
	}
	struct feed_fields s = { 0 };
	if (!f.subscription.len || feed_fields_scan(f.subscription.p, f.subscription.len, &s) != 0) {
		m->kind = HM_C_BAD;
		return;
	}
	if (!echo_ok(s.type, 0) || (s.cursor.len && !echo_ok(s.cursor, 1))) {
		m->kind = HM_C_BAD;
		return;
	}
	m->sub_type = feed_str_unquote(s.type);
	m->cursor = feed_str_unquote(s.cursor);
	m->kind = m->sub_type.len ? (sub ? HM_C_SUBSCRIBE : HM_C_UNSUBSCRIBE) : HM_C_BAD;
}

void
hm_msg_connected(struct text_buf *b, const char *client_id, const char *session_id)
{
	text_buf_adds(b, "{\"type\":\"connected\",\"clientId\":");
	text_json_string(b, client_id, strlen(client_id));
	text_buf_adds(b, ",\"sessionId\":");
	text_json_string(b, session_id, strlen(session_id));
	text_buf_adds(b, "}");
}

void
hm_msg_reconnected(struct text_buf *b, const char *client_id, const char *session_id, const char *const *subs,
		   int nsubs)
{
	text_buf_adds(b, "{\"type\":\"reconnected\",\"clientId\":");
	text_json_string(b, client_id, strlen(client_id));
	text_buf_adds(b, ",\"sessionId\":");
	text_json_string(b, session_id, strlen(session_id));
	text_buf_adds(b, ",\"subscriptions\":[");
	for (int i = 0; i < nsubs; i++) {
		if (i)
			text_buf_adds(b, ",");
		text_json_string(b, subs[i], strlen(subs[i]));
	}
	text_buf_adds(b, "],\"lastSeq\":0}");
}

static void
str_list(struct text_buf *b, const struct feed_str *v, int n)
{
	text_buf_adds(b, "[");
	for (int i = 0; i < n; i++) {
		if (i)
			text_buf_adds(b, ",");
		text_buf_adds(b, "\"");
		text_buf_add(b, v[i].p, v[i].len); /* contents as received: escapes kept */
		text_buf_adds(b, "\"");
	}
	text_buf_adds(b, "]");
}

void
hm_msg_subscription_update(struct text_buf *b, const struct feed_str *ok, int nok,
			   const struct feed_str *failed, int nfailed)
{
	text_buf_adds(b, "{\"type\":\"subscriptionUpdate\",\"subscribed\":");
	str_list(b, ok, nok);
	text_buf_adds(b, ",\"failed\":");
	str_list(b, failed, nfailed);
	text_buf_adds(b, "}");
}

void
hm_msg_unsubscribed(struct text_buf *b, const struct feed_str *type)
{
	text_buf_adds(b,
		      "{\"type\":\"subscriptionUpdate\",\"subscribed\":[],\"failed\":[],\"unsubscribed\":");
	str_list(b, type, 1);
	text_buf_adds(b, "}");
}

void
hm_msg_error(struct text_buf *b, const char *message)
{
	text_buf_adds(b, "{\"type\":\"error\",\"message\":");
	text_json_string(b, message, strlen(message));
	text_buf_adds(b, "}");
}

void
hm_msg_ping(struct text_buf *b)
{
	text_buf_adds(b, "{\"type\":\"ping\"}");
}

int
hm_msg_with_seq(struct text_buf *b, const uint8_t *p, size_t n, int64_t seq)
{
	struct feed_fields f = { 0 };
	char num[32];
	int k;

	if (feed_fields_scan((const char *)p, n, &f) != 0)
		return -1;
	if (f.seq.len) {
		size_t at = (size_t)(f.seq.p - (const char *)p);
		k = snprintf(num, sizeof(num), "%lld", (long long)seq);
		text_buf_add(b, p, at);
		text_buf_add(b, num, (size_t)k);
		text_buf_add(b, p + at + f.seq.len, n - at - f.seq.len);
		return 0;
	}
	/* no seq: add it right after the type member, or at the start of the object */
	size_t at;
	const char *fmt = ",\"seq\":%lld";
	if (f.type.len) {
		at = (size_t)(f.type.p + f.type.len - (const char *)p);
	} else {
		const char *o = memchr(p, '{', n), *end = (const char *)p + n;
		at = (size_t)(o - (const char *)p) + 1;
		/* an empty object gets no comma after its one member */
		fmt = *json_scan_ws(o + 1, end) == '}' ? "\"seq\":%lld" : "\"seq\":%lld,";
	}
	k = snprintf(num, sizeof(num), fmt, (long long)seq);
	text_buf_add(b, p, at);
	text_buf_add(b, num, (size_t)k);
	text_buf_add(b, p + at, n - at);
	return 0;
}

int
hm_open_live_format(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	struct json_scan_it it;
	const char *k, *v, *end = (const char *)p + n;
	size_t kl, vl;
	int rc;

	if (!outlen || json_scan_object_begin(&it, (const char *)p, end) != 0)
		return -1;
	while ((rc = json_scan_object_next(&it, &k, &kl, &v, &vl)) == 1)
		if (kl == 3 && !memcmp(k, "url", 3) && vl >= 2 && v[0] == '"')
			break;
	if (rc != 1)
		return -1;
	/* the URL as journaled: redacted, percent-encoded, no JSON escapes in a query */
	const char *u = v + 1, *ue = v + vl - 1, *q = memchr(u, '?', (size_t)(ue - u));
	out[0] = 0;
	while (q && q < ue) {
		const char *a = q + 1, *e = memchr(a, '&', (size_t)(ue - a));
		if (!e)
			e = ue;
		if (e - a >= 11 && !memcmp(a, "liveFormat=", 11)) {
			size_t o = 0;
			for (const char *c = a + 11; c < e; c++) {
				int ch = (unsigned char)*c, h1, h2;
				if (ch == '%' && e - c >= 3 && (h1 = text_hex_value(c[1])) >= 0 &&
				    (h2 = text_hex_value(c[2])) >= 0) {
					ch = h1 * 16 + h2;
					c += 2;
				}
				if (o + 1 >= outlen)
					return -1;
				out[o++] = (char)ch;
			}
			out[o] = 0;
			return 0;
		}
		q = e;
	}
	return 0;
}

void
hm_msg_replay(struct text_buf *b, const char *channel, size_t chlen, const char *cursor, size_t curlen,
	      int64_t count, int64_t chunk, int64_t total, int has_gap, const char *events, size_t elen)
{
	text_buf_adds(b, "{\"type\":\"replay\",\"channel\":\"");
	text_buf_add(b, channel, chlen);
	text_buf_adds(b, "\",\"replayTimeMs\":\"");
	text_buf_add(b, cursor, curlen);
	text_buf_adds(b, "\",\"cursor\":\"");
	text_buf_add(b, cursor, curlen);
	text_buf_addf(b, "\",\"count\":%lld,\"chunk\":%lld,\"totalChunks\":%lld", (long long)count,
		      (long long)chunk, (long long)total);
	if (has_gap)
		text_buf_adds(b, ",\"hasGap\":true");
	text_buf_adds(b, ",\"data\":[");
	text_buf_add(b, events, elen);
	text_buf_adds(b, "]}");
}

/* ---- replay chunks ---- */

void
hm_chunker_init(struct hm_chunker *k, const char *cursor, size_t curlen)
{
	memset(k, 0, sizeof(*k));
	if (curlen)
		text_buf_add(&k->cursor, cursor, curlen);
}

/* A closed chunk in 'done': count, cursor length, events length, cursor, events. */
static void
chunk_close(struct hm_chunker *k)
{
	size_t hdr[3] = { (size_t)k->count, k->cursor.len, k->events.len };
	text_buf_add(&k->done, hdr, sizeof(hdr));
	if (k->cursor.len)
		text_buf_add(&k->done, k->cursor.p, k->cursor.len);
	if (k->events.len)
		text_buf_add(&k->done, k->events.p, k->events.len);
	k->nchunks++;
	k->events.len = 0;
	k->count = 0;
}

void
hm_chunker_add(struct hm_chunker *k, const char *event, size_t n)
{
	if (k->count > 0 && (k->count >= HM_CHUNK_MAX_ITEMS || k->events.len + 1 + n > HM_CHUNK_MAX_BYTES))
		chunk_close(k);
	if (k->count)
		text_buf_add(&k->events, ",", 1);
	text_buf_add(&k->events, event, n);
	k->count++;
}

void
hm_chunker_cursor(struct hm_chunker *k, const char *cursor, size_t n)
{
	if (!n)
		return;
	k->cursor.len = 0;
	text_buf_add(&k->cursor, cursor, n);
}

int
hm_chunker_finish(struct hm_chunker *k, const char *channel, size_t chlen, int has_gap,
		  int (*emit)(const struct text_buf *msg, const char *cursor, size_t curlen, void *ud),
		  void *ud)
{
	if (k->count || !k->nchunks)
		chunk_close(k);
	const char *p = k->done.p;
	for (int i = 0; i < k->nchunks; i++) {
		size_t hdr[3];
		memcpy(hdr, p, sizeof(hdr));
		p += sizeof(hdr);
		const char *cur = p, *ev = p + hdr[1];
		p = ev + hdr[2];
		struct text_buf msg = { 0 };
		hm_msg_replay(&msg, channel, chlen, cur, hdr[1], (int64_t)hdr[0], i + 1, k->nchunks,
			      has_gap && i == 0, ev, hdr[2]);
		int rc = emit(&msg, cur, hdr[1], ud);
		text_buf_free(&msg);
		if (rc)
			return rc;
	}
	return 0;
}

void
hm_chunker_free(struct hm_chunker *k)
{
	text_buf_free(&k->events);
	text_buf_free(&k->cursor);
	text_buf_free(&k->done);
	memset(k, 0, sizeof(*k));
}
