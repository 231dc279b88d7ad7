/* classify.c - fuzz the feed classifier of every feed: the input is one message as a
 * recorder receives it (or finds it in a journal); each feed classifies it, walks its
 * events with their dedup keys, and the replay's message builders rework it
 *
 * Checks: every slice points into the payload; rebuilding a message with its own events
 * gives it back byte for byte; what is built from valid JSON is valid JSON. */
#include <jansson.h>

#include "feeds/feed.h"
#include "feeds/feed_server.h"
#include "fuzz/fuzz.h"

static volatile uint64_t fuzz_sink;
static const uint8_t *in_p;
static size_t in_n;

#define IN_PAYLOAD(s) \
	FUZZ_CHECK((s).len == 0 || \
		   ((const uint8_t *)(s).p >= in_p && (const uint8_t *)(s).p + (s).len <= in_p + in_n))

static int
valid_json(const void *p, size_t n)
{
	json_error_t e;
	json_t *v = json_loadb(p, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
	json_decref(v);
	return v != NULL;
}

static int
on_event(const struct feed_event *ev, void *ud)
{
	IN_PAYLOAD(ev->raw);
	IN_PAYLOAD(ev->key_role);
	FUZZ_CHECK(ev->hash == feed_hash(ev->raw.p, ev->raw.len));
	(*(int *)ud)++;
	return 0;
}

static int
on_holding(const uint8_t *p, size_t n, void *ud)
{
	FUZZ_CHECK(n <= in_n);
	*(uint64_t *)ud ^= feed_hash(p, n);
	return 0;
}

/* The hydromancer dedup of the events of a data or replay message (nev of them): what it
 * keeps rebuilds into valid JSON, and the same events again are all duplicates. */
static void
fuzz_hm_dedup(const uint8_t *p, size_t size, const struct feed_msg *m, int nev, int json, struct text_buf *b)
{
	struct hm_dedup *d = hm_dedup_new();
	struct text_buf kept = { 0 };
	int all;

	if (!d)
		return;
	int k = hm_dedup_filter(d, m, &kept, &all);
	FUZZ_CHECK(k < 0 || k <= nev);
	if (k > 0 && json && m->events.p[0] == '[') {
		b->len = 0;
		hm_msg_with_events(b, p, size, m, kept.p, kept.len);
		FUZZ_CHECK(valid_json(b->p, b->len));
	}
	kept.len = 0;
	if (k > 0)
		FUZZ_CHECK(hm_dedup_filter(d, m, &kept, &all) == 0);
	hm_dedup_free(d);
	text_buf_free(&kept);
}

/* The hydromancer helpers on a message it classified (m, with nev events). */
static void
fuzz_hydromancer(const uint8_t *p, size_t size, const struct feed_msg *m, int nev, int json,
		 struct text_buf *b, uint64_t *h)
{
	struct hm_cursor c, c0 = { 3, 1000, 1700000000000LL, 1 };
	if (m->cursor.len && hm_cursor_parse(m->cursor.p, m->cursor.len, &c) == 0)
		*h += (uint64_t)hm_cursor_newer(&c, &c0) + (uint64_t)hm_cursor_newer(&c0, &c);

	struct feed_str name;
	if (m->events.len && hm_msg_events_field(p, size, m, &name) == 0) {
		IN_PAYLOAD(name);
		/* the replay rebuilds messages around their events */
		if (m->events.len >= 2 && m->events.p[0] == '[' && m->events.p[m->events.len - 1] == ']') {
			b->len = 0;
			hm_msg_with_events(b, p, size, m, m->events.p + 1, m->events.len - 2);
			FUZZ_CHECK(b->len == size && memcmp(b->p, p, size) == 0);
		}
	}
	if ((m->cls == FEED_MSG_DATA || m->cls == FEED_MSG_REPLAY) && m->events.len)
		fuzz_hm_dedup(p, size, m, nev, json, b);
	b->len = 0;
	if (hm_msg_with_seq(b, p, size, 42) == 0 && json)
		FUZZ_CHECK(valid_json(b->p, b->len));
	struct feed_str subs[8];
	int ns = hm_msg_subscriptions(p, size, subs, 8);
	for (int i = 0; i < ns; i++)
		IN_PAYLOAD(subs[i]);
	char lf[64];
	if (hm_open_live_format(p, size, lf, sizeof(lf)) == 0)
		FUZZ_CHECK(strlen(lf) < sizeof(lf));
}

/* The lasersell helpers: the hello's limits, the holdings of a reconnect. */
static void
fuzz_lasersell(const uint8_t *p, size_t size, uint64_t *h)
{
	struct feed_str lim;
	if (ls_hello_limits(p, size, &lim) == 0)
		IN_PAYLOAD(lim);
	struct ls_holdings *hold = ls_holdings_new();
	if (hold) {
		ls_holdings_add(hold, p, size);
		ls_holdings_add(hold, p, size);
		ls_holdings_foreach(hold, on_holding, h);
		FUZZ_CHECK(ls_holdings_count(hold) <= 2);
		ls_holdings_free(hold);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes: ASan sees any read past the message */
	uint8_t *p = malloc(size ? size : 1);
	struct feed_msg m;
	struct text_buf b = { 0 };
	uint64_t h = 0;

	memcpy(p, data, size);
	in_p = p;
	in_n = size;
	int json = valid_json(p, size);

	for (int id = 0; feed_builtin(id); id++) {
		FUZZ_CHECK(feed_classify(feed_builtin(id), p, size, &m) == 0);
		IN_PAYLOAD(m.type);
		IN_PAYLOAD(m.channel);
		IN_PAYLOAD(m.cursor);
		IN_PAYLOAD(m.session_id);
		IN_PAYLOAD(m.client_id);
		IN_PAYLOAD(m.events);
		FUZZ_CHECK(m.cls >= FEED_MSG_OTHER && m.cls <= FEED_MSG_REPLAY);
		int nev = 0;
		if (m.events.len)
			feed_events_foreach(feed_builtin(id), &m, on_event, &nev);
		if (feed_builtin(id) == feed_find("hydromancer"))
			fuzz_hydromancer(p, size, &m, nev, json, &b, &h);
	}
	fuzz_lasersell(p, size, &h);
	text_buf_free(&b);
	free(p);
	fuzz_sink = h;
	return 0;
}
