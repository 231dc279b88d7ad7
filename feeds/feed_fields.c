/* feed_fields.c - what the built-in feeds share to read a message: one pass over the
 * top-level members they read (struct feed_fields, feeds/feed_int.h), and the helpers on
 * the slices it gives. The feed list and the dispatch are feeds/feed.c's. */
#include "feeds/feed_int.h"
#include "feeds/json_scan.h"

#include <stddef.h>
#include <string.h>

struct feed_str
feed_str_unquote(struct feed_str v)
{
	if (v.len >= 2 && v.p[0] == '"') {
		v.p++;
		v.len -= 2;
	}
	return v;
}

int
feed_str_eq(struct feed_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

int64_t
feed_str_int(struct feed_str v)
{
	int64_t x;

	if (!v.len || json_scan_int(v.p, v.len, &x))
		return -1;
	return x;
}

/* The top-level members the feeds read, and the field of struct feed_fields each fills.
 * The events array is the first member present of those marked events. */
static const struct field_key {
	const char *name;
	unsigned char len;
	unsigned char events;
	unsigned short off;
} field_keys[] = {
#define K(lit, member, ev) \
	{ \
		lit, sizeof(lit) - 1, ev, offsetof(struct feed_fields, member) \
	}
	K("type", type, 0),
	K("channel", channel, 0),
	K("cursor", cursor, 0),
	K("seq", seq, 0),
	K("chunk", chunk, 0),
	K("totalChunks", total_chunks, 0),
	K("count", count, 0),
	K("hasGap", has_gap, 0),
	K("replayTimeMs", replay_time, 0),
	K("clientId", client_id, 0),
	K("sessionId", session_id, 0),
	K("session_id", session_id, 0),
	K("server_time_ms", server_time_ms, 0),
	K("client_time_ms", client_time_ms, 0),
	K("position_id", position_id, 0),
	K("subscription", subscription, 0),
	K("method", method, 0),
	K("message", message, 0),
	K("limits", limits, 0),
	K("fills", events, 1),
	K("updates", events, 1),
	K("events", events, 1),
	K("trades", events, 1),
	K("liquidations", events, 1),
	K("data", events, 1),
#undef K
};

/* Where member k goes in f; NULL when nowhere (a member the feeds do not read, or an
 * events array after the first). */
static struct feed_str *
field_slot(struct feed_fields *f, const char *k, size_t klen)
{
	for (size_t i = 0; i < sizeof(field_keys) / sizeof(field_keys[0]); i++) {
		const struct field_key *e = &field_keys[i];

		if (e->len == klen && e->name[0] == k[0] && memcmp(e->name, k, klen) == 0)
			return e->events && f->events.len ? NULL : (struct feed_str *)((char *)f + e->off);
	}
	return NULL;
}

/* One pass over the members of the top-level object. Returns 0, or -1 when the payload
 * is not exactly one JSON object. */
int
feed_fields_scan(const char *p, size_t len, struct feed_fields *f)
{
	struct json_scan_it it;
	const char *k, *v, *end = p + len;
	size_t klen, vlen;
	int r;

	if (json_scan_object_begin(&it, p, end))
		return -1;
	while ((r = json_scan_object_next(&it, &k, &klen, &v, &vlen)) == 1) {
		struct feed_str *dst = field_slot(f, k, klen);

		if (dst) {
			dst->p = v;
			dst->len = vlen;
		}
	}
	if (r < 0)
		return -1;
	if (json_scan_ws(it.p, end) != end)
		return -1;
	/* an events member that is not an array is not an events array */
	if (f->events.len && f->events.p[0] != '[')
		f->events.len = 0;
	return 0;
}
