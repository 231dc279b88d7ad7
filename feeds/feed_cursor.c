/* feed_cursor.c - the cursor tracker: where a recording resumes from, one cursor per channel
 * by the feed's order of cursors, live cursors held back while a resume's replays run */
#include "feeds/feed_client_int.h"

#include <string.h>

static const struct feed_client_ops *
ops_of(const struct feed_cursor_track *t)
{
	return t->feed ? t->feed->client : NULL;
}

/* The feed's order of cursors; NULL when it keeps one cursor, the last. */
static int (*order_of(const struct feed_cursor_track *t))(const char *, const char *)
{
	const struct feed_client_ops *ops = ops_of(t);

	return ops ? ops->cursor_cmp : NULL;
}

static void
track_oldest(struct feed_cursor_track *t)
{
	int (*cmp)(const char *, const char *) = order_of(t);
	const char *best = NULL;

	for (int i = 0; i < t->nchan; i++)
		if (t->chan[i].cursor[0] && (!best || cmp(t->chan[i].cursor, best) < 0))
			best = t->chan[i].cursor;
	if (best)
		memmove(t->cursor, best, strlen(best) + 1);
}

/* The slot of a channel; the last slot is shared by the channels beyond the others. */
static struct feed_cursor_chan *
track_chan(struct feed_cursor_track *t, const char *name, size_t n, int *shared)
{
	*shared = 0;
	if (n > FEED_CURSOR_CHANNEL_MAX)
		n = FEED_CURSOR_CHANNEL_MAX;
	for (int i = 0; i < t->nchan && i < FEED_CURSOR_CHANNELS - 1; i++)
		if (strlen(t->chan[i].name) == n && !memcmp(t->chan[i].name, name, n))
			return &t->chan[i];
	if (t->nchan >= FEED_CURSOR_CHANNELS - 1) {
		*shared = 1;
		if (t->nchan == FEED_CURSOR_CHANNELS - 1) {
			memset(&t->chan[t->nchan], 0, sizeof(t->chan[0]));
			t->nchan++;
		}
		return &t->chan[FEED_CURSOR_CHANNELS - 1];
	}
	memset(&t->chan[t->nchan], 0, sizeof(t->chan[0]));
	memcpy(t->chan[t->nchan].name, name, n);
	return &t->chan[t->nchan++];
}

/* Store decoded cursor c into dst; a slot shared by several channels only moves back. */
static void
store(const struct feed_cursor_track *t, char *dst, const char *c, int shared)
{
	if (shared && dst[0] && order_of(t)(c, dst) >= 0)
		return;
	memmove(dst, c, strlen(c) + 1);
}

static int
decode_cursor(struct feed_str v, char *out)
{
	return feed_client_json_decode(v, out, FEED_CURSOR_MAX) > 0 ? 0 : -1;
}

static void
track_release(struct feed_cursor_track *t)
{
	t->holding = 0;
	for (int i = 0; i < t->nchan; i++) {
		if (t->chan[i].live[0])
			store(t, t->chan[i].cursor, t->chan[i].live, i == FEED_CURSOR_CHANNELS - 1);
		t->chan[i].live[0] = '\0';
	}
	track_oldest(t);
}

/* Channel cursor c (decoded) moves on: held back as live, or taken. */
static void
track_advance(struct feed_cursor_track *t, struct feed_str channel, const char *c, int live)
{
	struct feed_cursor_chan *ch;
	int shared;

	if (!order_of(t)) {
		memcpy(t->cursor, c, strlen(c) + 1);
		return;
	}
	ch = track_chan(t, channel.p, channel.len, &shared);
	if (live) {
		store(t, ch->live, c, shared);
	} else {
		store(t, ch->cursor, c, shared);
		track_oldest(t);
	}
}

void
feed_cursor_track_init(struct feed_cursor_track *t, const struct feed *feed)
{
	t->feed = feed;
	t->holding = t->replays = 0;
	t->hold_since_ms = 0;
	t->nchan = 0;
	t->cursor[0] = '\0';
}

void
feed_cursor_track_set(struct feed_cursor_track *t, const char *channel, size_t channel_len,
		      const char *cursor, size_t cursor_len)
{
	char c[FEED_CURSOR_MAX + 1];
	struct feed_str v = { cursor, cursor_len }, ch = { channel, channel_len };

	if (!decode_cursor(v, c))
		track_advance(t, ch, c, 0);
}

int
feed_cursor_track_has(const struct feed_cursor_track *t, const char *channel, size_t n)
{
	for (int i = 0; i < t->nchan && i < FEED_CURSOR_CHANNELS - 1; i++)
		if (strlen(t->chan[i].name) == n && !memcmp(t->chan[i].name, channel, n) &&
		    t->chan[i].cursor[0])
			return 1;
	return 0;
}

void
feed_cursor_track_hold(struct feed_cursor_track *t, int64_t now_ms)
{
	t->holding = 1;
	t->replays = 0;
	t->hold_since_ms = now_ms;
	for (int i = 0; i < t->nchan; i++)
		t->chan[i].live[0] = '\0';
}

void
feed_cursor_track_new_session(struct feed_cursor_track *t)
{
	t->holding = 0;
	for (int i = 0; i < t->nchan; i++)
		t->chan[i].live[0] = '\0';
}

void
feed_cursor_track_chunk(struct feed_cursor_track *t, struct feed_str channel, struct feed_str cursor,
			int64_t chunk, int64_t total, int64_t now_ms)
{
	char c[FEED_CURSOR_MAX + 1];
	int last = total <= 0 || chunk >= total;

	if (cursor.len && !decode_cursor(cursor, c))
		track_advance(t, channel, c, 0);
	if (chunk <= 1 && !last) {
		t->replays++;
		if (!t->holding) { /* a replay that began after the others ended */
			t->holding = 1;
			t->hold_since_ms = now_ms;
		}
	} else if (chunk > 1 && last && t->replays > 0) {
		t->replays--;
	}
	if (t->holding && last && t->replays == 0)
		track_release(t);
}

void
feed_cursor_track_live(struct feed_cursor_track *t, struct feed_str channel, struct feed_str cursor)
{
	char c[FEED_CURSOR_MAX + 1];

	if (cursor.len && !decode_cursor(cursor, c))
		track_advance(t, channel, c, t->holding);
}

void
feed_cursor_track_expire(struct feed_cursor_track *t, int64_t now_ms)
{
	if (t->holding && t->replays == 0 && now_ms - t->hold_since_ms >= FEED_CURSOR_HOLD_MS)
		track_release(t);
}

void
feed_cursor_track_msg(struct feed_cursor_track *t, const struct feed_msg *m, int64_t now_ms)
{
	const struct feed_client_ops *ops = ops_of(t);
	char c[FEED_CURSOR_MAX + 1];

	if (ops && ops->track) {
		ops->track(t, m, now_ms);
		return;
	}
	if (m->cursor.len && (m->cls == FEED_MSG_DATA || m->cls == FEED_MSG_REPLAY) &&
	    !decode_cursor(m->cursor, c))
		memcpy(t->cursor, c, strlen(c) + 1);
}

void
feed_cursor_track_record(struct feed_cursor_track *t, int text, const void *payload, size_t len,
			 const void *cursor, size_t cursor_len, int64_t wall_ms)
{
	const struct feed_client_ops *ops = ops_of(t);
	struct feed_msg m;

	if (ops && ops->track) {
		if (text) {
			feed_classify(t->feed, payload, len, &m);
			ops->track(t, &m, wall_ms);
		}
	} else if (cursor_len) {
		feed_cursor_track_set(t, "", 0, cursor, cursor_len);
	}
}
