/* hydromancer_merge.c - one event stream out of live messages and replay chunks
 *
 * What a Hydromancer recording holds of one channel is two streams that overlap: the live
 * messages, and after each reconnect the replay chunks, which carry the events missed while
 * disconnected and, by design, some that the live stream carries too. A server that
 * replays the recording sends them again as one stream: this file has the protocol side
 * of that (the dedup by the docs' keys, the cursors of the three formats, the messages
 * built from the kept events); hydromancer_stream.c reads the journal.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed_int.h"
#include "feeds/feed_server.h"
#include "feeds/json_scan.h"

/* ---- dedup ---- */

/* What was emitted is remembered by the hash of its text in a window: two generations of
 * an open-addressing set, the older dropped when the newer is half full, so the set always
 * remembers the last WINDOW/2 events of the channel at least (32,768: some 30 s of a busy
 * channel, the span of the docs' replay cache). The slots are calloc'ed, so a quiet channel
 * keeps only the pages it touched. */
#define WINDOW 65536

struct key {
	int64_t time, tx;
};

struct hm_dedup_channel {
	char name[64];
	size_t name_len;
	uint64_t *gen[2]; /* WINDOW slots each, 0 = empty */
	size_t ngen; /* entries in gen[0] */
	struct key min[2]; /* the oldest key of each generation; time -1: none */
	int forgot; /* a generation has been dropped */
};

struct hm_dedup {
	struct hm_dedup_channel *ch;
	size_t nch;
};

struct hm_dedup *
hm_dedup_new(void)
{
	return calloc(1, sizeof(struct hm_dedup));
}

static void
channel_clear(struct hm_dedup_channel *c)
{
	free(c->gen[0]);
	free(c->gen[1]);
}

void
hm_dedup_reset(struct hm_dedup *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->nch; i++)
		channel_clear(&d->ch[i]);
	free(d->ch);
	d->ch = NULL;
	d->nch = 0;
}

void
hm_dedup_free(struct hm_dedup *d)
{
	hm_dedup_reset(d);
	free(d);
}

static struct hm_dedup_channel *
channel_get(struct hm_dedup *d, struct feed_str name)
{
	for (size_t i = 0; i < d->nch; i++)
		if (d->ch[i].name_len == name.len && (!name.len || !memcmp(d->ch[i].name, name.p, name.len)))
			return &d->ch[i];
	if (name.len >= sizeof(d->ch[0].name))
		return NULL;
	struct hm_dedup_channel *v = realloc(d->ch, (d->nch + 1) * sizeof(*v));
	if (!v)
		return NULL;
	d->ch = v;
	struct hm_dedup_channel *c = &d->ch[d->nch++];
	memset(c, 0, sizeof(*c));
	if (name.len) /* a message without a channel: name.p may be NULL */
		memcpy(c->name, name.p, name.len);
	c->name_len = name.len;
	c->min[0].time = c->min[1].time = -1;
	return c;
}

static int
gen_has(const uint64_t *t, uint64_t h)
{
	if (!t)
		return 0;
	for (size_t i = h & (WINDOW - 1);; i = (i + 1) & (WINDOW - 1)) {
		if (t[i] == h)
			return 1;
		if (!t[i])
			return 0;
	}
}

static int
seen(const struct hm_dedup_channel *c, uint64_t h)
{
	h |= 1; /* 0 marks an empty slot */
	return gen_has(c->gen[0], h) || gen_has(c->gen[1], h);
}

static int
key_before(struct key a, struct key b)
{
	return a.time < b.time || (a.time == b.time && a.tx < b.tx);
}

/* Remember an emitted event; 0, or -1 on ENOMEM. */
static int
remember(struct hm_dedup_channel *c, const struct feed_event *ev)
{
	uint64_t h = ev->hash | 1;
	struct key k = { ev->key_time, ev->key_tx };
	if (!c->gen[0] || c->ngen >= WINDOW / 2) {
		c->forgot |= c->gen[1] != NULL;
		free(c->gen[1]);
		c->gen[1] = c->gen[0];
		c->min[1] = c->min[0];
		c->min[0].time = -1;
		if (!(c->gen[0] = calloc(WINDOW, sizeof(uint64_t))))
			return -1;
		c->ngen = 0;
	}
	size_t i = h & (WINDOW - 1);
	while (c->gen[0][i])
		i = (i + 1) & (WINDOW - 1);
	c->gen[0][i] = h;
	c->ngen++;
	if (k.time >= 0 && (c->min[0].time < 0 || key_before(k, c->min[0])))
		c->min[0] = k;
	return 0;
}

/* Is this event one to emit? An event emitted already (the same text, within the window)
 * never goes out again: that is the overlap of replay and live the docs describe. Any other
 * event goes out, live or from a replay chunk, wherever its key falls (a live event that
 * came out of key order in the recording goes out as recorded; a chunk that came late
 * holds events the live stream never carried) — except a chunk's event whose key is older
 * than every key the window still remembers: what it may have emitted is forgotten there,
 * and an event that old in a chunk is one the live stream carried long before (a resume
 * from an old cursor replays the whole cache). */
static int
take(const struct hm_dedup_channel *c, const struct feed_event *ev, int from_replay)
{
	if (seen(c, ev->hash))
		return 0;
	if (from_replay && ev->key_time >= 0 && c->forgot) {
		struct key k = { ev->key_time, ev->key_tx }, oldest = c->min[0];
		if (c->min[1].time >= 0 && (oldest.time < 0 || key_before(c->min[1], oldest)))
			oldest = c->min[1];
		if (oldest.time >= 0 && key_before(k, oldest))
			return 0;
	}
	return 1;
}

struct filter {
	struct hm_dedup_channel *c;
	struct text_buf *kept;
	int from_replay;
	int n, all, err;
};

static int
filter_one(const struct feed_event *ev, void *ud)
{
	struct filter *f = ud;
	if (!take(f->c, ev, f->from_replay)) {
		f->all = 0;
		return 0;
	}
	if (remember(f->c, ev)) {
		f->err = ENOMEM;
		return 1;
	}
	if (f->n++)
		text_buf_add(f->kept, ",", 1);
	text_buf_add(f->kept, ev->raw.p, ev->raw.len);
	return 0;
}

int
hm_dedup_filter(struct hm_dedup *d, const struct feed_msg *m, struct text_buf *kept, int *all)
{
	struct hm_dedup_channel *c = channel_get(d, m->channel);
	struct filter f = { c, kept, m->cls == FEED_MSG_REPLAY, 0, 1, 0 };

	*all = 1;
	if (!c)
		return -ENOMEM;
	int rc = feed_events_foreach(&feed_hydromancer, m, filter_one, &f);
	if (f.err)
		return -f.err;
	if (rc < 0)
		return -EINVAL;
	*all = f.all;
	return f.n;
}

/* ---- messages ---- */

int
hm_msg_events_field(const uint8_t *p, size_t n, const struct feed_msg *m, struct feed_str *name)
{
	struct json_scan_it it;
	const char *k, *v;
	size_t kl, vl;

	if (!m->events.len || json_scan_object_begin(&it, (const char *)p, (const char *)p + n) != 0)
		return -1;
	while (json_scan_object_next(&it, &k, &kl, &v, &vl) == 1) {
		if (v == m->events.p) {
			name->p = k;
			name->len = kl;
			return 0;
		}
	}
	return -1;
}

const char *
hm_default_events_field(const char *channel, size_t n)
{
	static const struct {
		const char *suffix, *field;
	} rule[] = {
		{ "Fills", "fills" },   { "Liquidations", "liquidations" },
		{ "Trades", "trades" }, { "Updates", "updates" },
		{ "Events", "events" },
	};
	for (size_t i = 0; i < sizeof(rule) / sizeof(rule[0]); i++) {
		size_t l = strlen(rule[i].suffix);
		if (n >= l && !memcmp(channel + n - l, rule[i].suffix, l))
			return rule[i].field;
	}
	return "data";
}

void
hm_msg_live(struct text_buf *b, const char *channel, size_t chlen, const char *field, size_t flen,
	    const char *cursor, size_t curlen, int cursor_is_number, const char *events, size_t elen)
{
	text_buf_adds(b, "{\"type\":\"");
	text_buf_add(b, channel, chlen);
	text_buf_adds(b, "\"");
	if (curlen) {
		text_buf_adds(b, cursor_is_number ? ",\"cursor\":" : ",\"cursor\":\"");
		text_buf_add(b, cursor, curlen);
		if (!cursor_is_number)
			text_buf_adds(b, "\"");
	}
	text_buf_adds(b, ",\"");
	text_buf_add(b, field, flen);
	text_buf_adds(b, "\":[");
	text_buf_add(b, events, elen);
	text_buf_adds(b, "]}");
}

void
hm_msg_with_events(struct text_buf *b, const uint8_t *p, size_t n, const struct feed_msg *m,
		   const char *events, size_t elen)
{
	size_t at = (size_t)(m->events.p - (const char *)p);
	text_buf_add(b, p, at);
	text_buf_adds(b, "[");
	text_buf_add(b, events, elen);
	text_buf_adds(b, "]");
	text_buf_add(b, m->events.p + m->events.len, n - at - m->events.len);
}

int
hm_msg_subscriptions(const uint8_t *p, size_t n, struct feed_str *out, int max)
{
	struct json_scan_it it, arr;
	const char *k, *v, *end = (const char *)p + n;
	size_t kl, vl;
	int rc, count = 0;

	if (json_scan_object_begin(&it, (const char *)p, end) != 0)
		return -1;
	while ((rc = json_scan_object_next(&it, &k, &kl, &v, &vl)) == 1)
		if (kl == 13 && !memcmp(k, "subscriptions", 13))
			break;
	if (rc != 1 || json_scan_array_begin(&arr, v, v + vl) != 0)
		return -1;
	while ((rc = json_scan_array_next(&arr, &v, &vl)) == 1) {
		if (vl < 2 || v[0] != '"')
			continue;
		if (count == max)
			return -1;
		out[count].p = v + 1;
		out[count].len = vl - 2;
		count++;
	}
	return rc < 0 ? -1 : count;
}

void
hm_uuid(char out[37], uint64_t a, uint64_t b)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char u[16];
	for (int i = 0; i < 8; i++) {
		u[i] = (unsigned char)(a >> (56 - 8 * i));
		u[8 + i] = (unsigned char)(b >> (56 - 8 * i));
	}
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4: random */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* variant 10 (RFC 4122) */
	char *o = out;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		*o++ = hex[u[i] >> 4];
		*o++ = hex[u[i] & 15];
	}
	*o = 0;
}
