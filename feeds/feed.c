/* feed.c - the list of built-in feeds, and the calls into a feed's table: classification,
 * its events with their dedup keys, its backoff (the field scan the built-in feeds share is
 * feeds/feed_fields.c) */
#include "feeds/feed.h"
#include "feeds/feed_int.h"
#include "feeds/json_scan.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Every built-in feed; the first is the default. */
static const struct feed *const feeds[] = {
	&feed_raw,
	&feed_hydromancer,
	&feed_lasersell,
};
#define NFEEDS ((int)(sizeof(feeds) / sizeof(feeds[0])))

const struct feed *
feed_builtin(int i)
{
	return i >= 0 && i < NFEEDS ? feeds[i] : NULL;
}

const struct feed *
feed_find(const char *name)
{
	for (int i = 0; name && i < NFEEDS; i++)
		if (strcmp(name, feeds[i]->name) == 0)
			return feeds[i];
	return NULL;
}

void
feed_list_names(char *buf, size_t n)
{
	size_t len = 0;

	if (!n)
		return;
	buf[0] = '\0';
	for (int i = 0; i < NFEEDS && len < n; i++)
		len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", feeds[i]->name);
}

uint32_t
feed_backoff_ms(const struct feed *f, unsigned attempt)
{
	uint32_t cap = f ? f->backoff_cap_ms : 5000, ms = f ? f->backoff_first_ms : 100;

	for (unsigned i = 1; i < attempt && ms < cap; i++)
		ms *= 2;
	return ms < cap ? ms : cap;
}

void
feed_msg_init(struct feed_msg *m)
{
	memset(m, 0, offsetof(struct feed_msg, joined));
	m->seq = m->chunk = m->total_chunks = m->count = -1;
	m->position_id = m->server_time_ms = m->client_time_ms = m->pnl_flush_ms = -1;
}

int
feed_classify(const struct feed *feed, const uint8_t *payload, size_t len, struct feed_msg *out)
{
	struct feed_fields f;

	feed_msg_init(out);
	memset(&f, 0, sizeof(f));
	if (!feed)
		feed = &feed_raw;
	if (feed->classify_payload) {
		if (payload)
			feed->classify_payload(feed, (const char *)payload, len, out);
		else
			out->cls = FEED_MSG_NOT_JSON;
		return 0;
	}
	if (!payload || feed_fields_scan((const char *)payload, len, &f)) {
		if (feed->any_json && payload && json_scan_document((const char *)payload, len) == 0)
			out->cls = FEED_MSG_OTHER;
		else
			out->cls = FEED_MSG_NOT_JSON;
		return 0;
	}
	if (f.type.len && f.type.p[0] == '"')
		out->type = feed_str_unquote(f.type);
	out->message = feed_str_unquote(f.message);
	feed->classify(&f, out);
	return 0;
}

#define KEY(lit) (klen == sizeof(lit) - 1 && memcmp(k, lit, sizeof(lit) - 1) == 0)

/* Read the key fields of the event object at p; returns the byte past the object, or
 * NULL when it is malformed. One pass: the members are walked, their values skipped. */
static const char *
event_keys(const char *p, const char *end, enum feed_key_rule rule, struct feed_event *ev)
{
	struct json_scan_it it;
	const char *k, *v;
	size_t klen, vlen;
	int64_t t = -1, ct = -1, x;
	int r;

	if (json_scan_object_begin(&it, p, end))
		return NULL;
	while ((r = json_scan_object_next(&it, &k, &klen, &v, &vlen)) == 1) {
		if (klen < 4 || klen > 9)
			continue;
		if (KEY("time")) {
			if (!json_scan_int(v, vlen, &x))
				t = x;
		} else if (KEY("closeTime")) {
			if (!json_scan_int(v, vlen, &x))
				ct = x;
		} else if (KEY("txIndex")) {
			if (!json_scan_int(v, vlen, &x))
				ev->key_tx = x;
		} else if (KEY("role") && rule == FEED_KEY_TIME_TX_ROLE) {
			ev->key_role.p = v;
			ev->key_role.len = vlen;
			ev->key_role = feed_str_unquote(ev->key_role);
		}
	}
	if (r < 0)
		return NULL;
	/* the channel's rule first; the other time field when the rule's is missing */
	if (rule == FEED_KEY_CLOSETIME_TX)
		ev->key_time = ct >= 0 ? ct : t;
	else
		ev->key_time = t >= 0 ? t : ct;
	return it.p;
}

/* One element of an events array at v: an event object, or [user, {event}] whose keys are
 * in its first object. Returns the byte past the element, or NULL. */
static const char *
event_parse(const char *v, const char *end, enum feed_key_rule rule, struct feed_event *ev)
{
	const char *p;
	int found = 0;

	if (*v == '{')
		return event_keys(v, end, rule, ev);
	if (*v != '[')
		return json_scan_value(v, end);
	p = json_scan_ws(v + 1, end);
	if (p < end && *p == ']')
		return p + 1;
	for (;;) {
		if (p >= end)
			return NULL;
		if (*p == '{' && !found) {
			found = 1;
			p = event_keys(p, end, rule, ev);
		} else {
			p = json_scan_value(p, end);
		}
		if (!p || (p = json_scan_ws(p, end)) >= end)
			return NULL;
		if (*p == ']')
			return p + 1;
		if (*p != ',')
			return NULL;
		p = json_scan_ws(p + 1, end);
	}
}

int
feed_events_foreach(const struct feed *feed, const struct feed_msg *msg,
		    int (*fn)(const struct feed_event *ev, void *ud), void *ud)
{
	const char *p, *e, *end;
	enum feed_key_rule rule;
	int rr;

	if (feed && feed->events_foreach)
		return feed->events_foreach(feed, msg, fn, ud);
	if (!msg->events.len)
		return 0;
	end = msg->events.p + msg->events.len;
	p = json_scan_ws(msg->events.p, end);
	if (p >= end || *p != '[')
		return -1;
	p = json_scan_ws(p + 1, end);
	if (p < end && *p == ']')
		return 0;
	rule = feed && feed->key_rule ? (enum feed_key_rule)feed->key_rule(msg->channel) : FEED_KEY_TIME_TX;
	for (;;) {
		struct feed_event ev;

		if (p >= end)
			return -1;
		memset(&ev, 0, sizeof(ev));
		ev.key_time = ev.key_tx = -1;
		if (!(e = event_parse(p, end, rule, &ev)))
			return -1;
		ev.raw.p = p;
		ev.raw.len = (size_t)(e - p);
		ev.hash = feed_hash(p, ev.raw.len);
		if ((rr = fn(&ev, ud)) != 0)
			return rr;
		if ((p = json_scan_ws(e, end)) >= end)
			return -1;
		if (*p == ']')
			return 0;
		if (*p != ',')
			return -1;
		p = json_scan_ws(p + 1, end);
	}
}

/* A 64-bit hash in the manner of MurmurHash64A (Austin Appleby, public domain), with four
 * independent lanes over 32-byte stripes so that long payloads hash at memory speed. */
static inline uint64_t
mix(uint64_t h, uint64_t k)
{
	const uint64_t m = 0xc6a4a7935bd1e995ULL;

	k *= m;
	k ^= k >> 47;
	k *= m;
	h ^= k;
	return h * m;
}

uint64_t
feed_hash(const void *key, size_t len)
{
	const uint64_t m = 0xc6a4a7935bd1e995ULL;
	const unsigned char *p = key, *end;
	uint64_t h = 0x5bd1e9955bd1e995ULL ^ (len * m), k;

	if (len >= 32) {
		uint64_t a = h, b = h ^ 0x9e3779b97f4a7c15ULL, c = h ^ 0xbf58476d1ce4e5b9ULL,
			 d = h ^ 0x94d049bb133111ebULL, w[4];

		end = p + (len & ~(size_t)31);
		for (; p != end; p += 32) {
			memcpy(w, p, 32);
			a = mix(a, w[0]);
			b = mix(b, w[1]);
			c = mix(c, w[2]);
			d = mix(d, w[3]);
		}
		h = mix(mix(mix(mix(h, a), b), c), d);
	}
	end = p + ((len & 31) & ~(size_t)7);
	for (; p != end; p += 8) {
		memcpy(&k, p, 8);
		h = mix(h, k);
	}
	switch (len & 7) {
	case 7: h ^= (uint64_t)p[6] << 48; /* fall through */
	case 6: h ^= (uint64_t)p[5] << 40; /* fall through */
	case 5: h ^= (uint64_t)p[4] << 32; /* fall through */
	case 4: h ^= (uint64_t)p[3] << 24; /* fall through */
	case 3: h ^= (uint64_t)p[2] << 16; /* fall through */
	case 2: h ^= (uint64_t)p[1] << 8; /* fall through */
	case 1: h ^= (uint64_t)p[0]; h *= m;
	}
	h ^= h >> 47;
	h *= m;
	h ^= h >> 47;
	return h;
}
