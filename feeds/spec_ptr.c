/* spec_ptr.c - a spec's JSON pointers evaluated on a payload's text, and the classification
 * and events of a feed declared as data
 *
 * Nothing is allocated on the way: a pointer is walked token by token with the pull scanner
 * (feeds/json_scan.h), each level's members or elements skipped until the one named, so
 * every value found is a slice of the payload, and a large payload costs one pass per
 * pointer at most. The payload is checked to be one JSON object before any pointer is
 * walked, so a truncated or malformed message is NOT_JSON, never half-read.
 */
#include "feeds/feed_client_int.h"
#include "feeds/json_scan.h"
#include "feeds/spec_int.h"

#include <string.h>

/* A member's key (contents, escapes as in the payload) equals the decoded token. */
static int
key_eq(const char *k, size_t kl, const char *tok, size_t tl)
{
	char buf[512];
	long n;

	if (!memchr(k, '\\', kl))
		return kl == tl && memcmp(k, tok, tl) == 0;
	if (tl >= sizeof(buf))
		return 0;
	n = feed_client_json_decode((struct feed_str){ k, kl }, buf, sizeof(buf));
	return n >= 0 && (size_t)n == tl && memcmp(buf, tok, tl) == 0;
}

/* An array index token: digits, no leading zero. -1 when it is not one. */
static long
index_of(const char *tok, size_t tl)
{
	long x = 0;

	if (!tl || tl > 9 || (tl > 1 && tok[0] == '0'))
		return -1;
	for (size_t i = 0; i < tl; i++) {
		if (tok[i] < '0' || tok[i] > '9')
			return -1;
		x = x * 10 + (tok[i] - '0');
	}
	return x;
}

/* One step: the member tok of the object, or the element tok of the array, at cur. */
static int
step(struct feed_str cur, const char *tok, size_t tl, struct feed_str *v)
{
	struct json_scan_it it;
	const char *end = cur.p + cur.len, *k, *val;
	size_t kl, vl;
	long want, i = 0;
	int r;

	if (cur.p[0] == '{') {
		if (json_scan_object_begin(&it, cur.p, end))
			return -1;
		while ((r = json_scan_object_next(&it, &k, &kl, &val, &vl)) == 1) {
			if (key_eq(k, kl, tok, tl)) {
				*v = (struct feed_str){ val, vl };
				return 1;
			}
		}
		return r < 0 ? -1 : 0;
	}
	if (cur.p[0] != '[' || (want = index_of(tok, tl)) < 0)
		return 0;
	if (json_scan_array_begin(&it, cur.p, end))
		return -1;
	while ((r = json_scan_array_next(&it, &val, &vl)) == 1) {
		if (i++ == want) {
			*v = (struct feed_str){ val, vl };
			return 1;
		}
	}
	return r < 0 ? -1 : 0;
}

int
spec_ptr_eval(const struct spec_ptr *ptr, const char *p, size_t n, struct feed_str *v)
{
	const char *end = p + n, *e;
	struct feed_str cur;
	int r;

	p = json_scan_ws(p, end);
	if (p >= end || !(e = json_scan_value(p, end)))
		return -1;
	cur = (struct feed_str){ p, (size_t)(e - p) };
	for (int i = 0; i < ptr->ntok; i++)
		if ((r = step(cur, ptr->tok[i], ptr->len[i], &cur)) != 1)
			return r;
	*v = cur;
	return 1;
}

int
spec_ptr_scalar(const struct spec_ptr *ptr, const char *p, size_t n, struct feed_str *v)
{
	struct feed_str x;

	if (!ptr->set || spec_ptr_eval(ptr, p, n, &x) != 1 || x.p[0] == '{' || x.p[0] == '[')
		return 0;
	if (x.p[0] == '"') {
		x.p++;
		x.len -= 2;
	}
	*v = x;
	return 1;
}

int
spec_ptr_int(const struct spec_ptr *ptr, const char *p, size_t n, int64_t *x)
{
	struct feed_str v;

	return ptr->set && spec_ptr_eval(ptr, p, n, &v) == 1 && json_scan_int(v.p, v.len, x) == 0;
}

/* The value text v (strings with quotes) equals the JSON value want. */
static int
value_eq(struct feed_str v, const json_t *want)
{
	json_t *got;
	int eq;

	if (json_is_string(want)) {
		const char *w = json_string_value(want);
		size_t wl = json_string_length(want);
		char buf[1024];
		long dl;

		if (v.len < 2 || v.p[0] != '"')
			return 0;
		v.p++;
		v.len -= 2;
		if (!memchr(v.p, '\\', v.len))
			return v.len == wl && memcmp(v.p, w, wl) == 0;
		if (wl >= sizeof(buf))
			return 0;
		dl = feed_client_json_decode(v, buf, sizeof(buf));
		return dl >= 0 && (size_t)dl == wl && memcmp(buf, w, wl) == 0;
	}
	if (!(got = json_loadb(v.p, v.len, JSON_DECODE_ANY, NULL)))
		return 0;
	eq = json_equal(got, (json_t *)want);
	json_decref(got);
	return eq;
}

int
spec_match_all(const struct spec_match *m, int nm, const char *p, size_t n)
{
	struct feed_str v;

	for (int i = 0; i < nm; i++)
		if (spec_ptr_eval(&m[i].ptr, p, n, &v) != 1 || !value_eq(v, m[i].value))
			return 0;
	return 1;
}

int
spec_value_is(const struct spec_value *v, const char *p, size_t n)
{
	switch (v->kind) {
	case SPEC_V_TEXT: return n == v->len && memcmp(p, v->text, n) == 0;
	case SPEC_V_JSON:
		/* the same value, spaced otherwise: never far longer than its compact text */
		return n <= 4 * v->len + 256 && json_scan_document(p, n) == 0 &&
			value_eq((struct feed_str){ json_scan_ws(p, p + n),
						    (size_t)(p + n - json_scan_ws(p, p + n)) },
				 v->json);
	case SPEC_V_MATCH: return json_scan_document(p, n) == 0 && spec_match_all(v->m, v->nm, p, n);
	default: return 0;
	}
}

int
spec_channel_of(const struct spec_ptr *ptrs, int nptrs, const char *p, size_t n, char *buf, size_t cap,
		struct feed_str *out)
{
	struct feed_str v;
	size_t len = 0;

	if (nptrs < 1)
		return 0;
	if (nptrs == 1) {
		if (!spec_ptr_scalar(&ptrs[0], p, n, &v) || !v.len)
			return 0;
		*out = v;
		return 1;
	}
	for (int i = 0; i < nptrs; i++) {
		if (!spec_ptr_scalar(&ptrs[i], p, n, &v) || len + (i > 0) + v.len >= cap)
			return 0;
		if (i)
			buf[len++] = ':';
		memcpy(buf + len, v.p, v.len);
		len += v.len;
	}
	*out = (struct feed_str){ buf, len };
	return 1;
}

/* Which of the spec's ping messages the payload is (FEED_MSG_PING, FEED_MSG_PONG), or 0. A
 * JSON ping is looked for in JSON payloads only (doc). */
static int
ping_of(const struct spec *s, const char *p, size_t n, int doc)
{
	if (!s->ping_from)
		return 0;
	if ((s->ping_msg.kind == SPEC_V_TEXT || doc) && spec_value_is(&s->ping_msg, p, n))
		return FEED_MSG_PING;
	if ((s->ping_answer.kind == SPEC_V_TEXT || doc) && spec_value_is(&s->ping_answer, p, n))
		return FEED_MSG_PONG;
	return 0;
}

/* A data message's cursor, sequence number and events. */
static void
data_fields(const struct spec *s, const char *p, size_t n, struct feed_msg *m)
{
	struct feed_str v;
	int64_t x;

	if (spec_ptr_scalar(&s->cursor, p, n, &v))
		m->cursor = v;
	if (spec_ptr_int(s->seq_rule == SPEC_SEQ_RANGE ? &s->last : &s->seq, p, n, &x))
		m->seq = x;
	if (s->events.set && spec_ptr_eval(&s->events, p, n, &v) == 1 && (v.p[0] == '[' || v.p[0] == '{'))
		m->events = v;
}

void
spec_classify(const struct feed *feed, const char *p, size_t n, struct feed_msg *m)
{
	const struct spec *s = spec_of(feed);
	const char *b = json_scan_ws(p, p + n);
	int doc = n && json_scan_document(p, n) == 0, data;
	struct feed_str v;

	m->ping = ping_of(s, p, n, doc);
	if (!doc || *b != '{') {
		m->cls = m->ping ? FEED_MSG_CONTROL : doc ? FEED_MSG_OTHER : FEED_MSG_NOT_JSON;
		if (m->ping)
			m->type = (struct feed_str){ p, n };
		return;
	}
	if (spec_ptr_scalar(&s->type, p, n, &v))
		m->type = v;
	spec_channel_of(s->channel, s->nchannel, p, n, m->joined, sizeof(m->joined), &m->channel);
	/* data: the channel's (when the spec has channels) and the data member's (when it
	   names one); a spec with neither has no data */
	data = (s->nchannel || s->data.set) && (!s->nchannel || m->channel.len) &&
		(!s->data.set || spec_ptr_eval(&s->data, p, n, &v) == 1);
	m->cls = data && !m->ping ? FEED_MSG_DATA : FEED_MSG_CONTROL;
	if (m->cls == FEED_MSG_DATA)
		data_fields(s, p, n, m);
}

/* ---- events ---- */

/* The dedup key of an event: a hash of its key members' texts (in the spec's order; a
 * missing one counts as such); with no key, or none of its members there, the event's
 * bytes. */
static uint64_t
key_hash(const struct spec *s, struct feed_str ev)
{
	uint64_t h = 0x84222325cbf29ce4ULL;
	int found = 0;

	for (int i = 0; i < s->nkey; i++) {
		struct feed_str v;

		h *= 0x100000001b3ULL;
		if (spec_ptr_eval(&s->key[i], ev.p, ev.len, &v) == 1) {
			h ^= feed_hash(v.p, v.len);
			found = 1;
		} else {
			h ^= 0x9e3779b97f4a7c15ULL;
		}
	}
	return found ? h : feed_hash(ev.p, ev.len);
}

static int
visit(const struct spec *s, const char *p, size_t n, int (*fn)(const struct feed_event *, void *), void *ud)
{
	struct feed_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.raw = (struct feed_str){ p, n };
	ev.key_time = ev.key_tx = -1; /* no order of keys: every event is looked up */
	ev.hash = key_hash(s, ev.raw);
	return fn(&ev, ud);
}

int
spec_events_foreach(const struct feed *feed, const struct feed_msg *msg,
		    int (*fn)(const struct feed_event *ev, void *ud), void *ud)
{
	const struct spec *s = spec_of(feed);
	const char *end, *p, *v;
	struct json_scan_it it;
	size_t vl;
	int r, rr;

	if (!msg->events.len)
		return 0;
	end = msg->events.p + msg->events.len;
	p = json_scan_ws(msg->events.p, end);
	if (p < end && *p == '{') {
		/* an object is one event */
		const char *e = json_scan_value(p, end);
		return e ? visit(s, p, (size_t)(e - p), fn, ud) : -1;
	}
	if (json_scan_array_begin(&it, p, end))
		return -1;
	while ((r = json_scan_array_next(&it, &v, &vl)) == 1)
		if ((rr = visit(s, v, vl, fn, ud)) != 0)
			return rr;
	return r < 0 ? -1 : 0;
}
