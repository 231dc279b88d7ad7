/* hydromancer_client.c - the client side of the Hydromancer WebSocket API: subscribe after
 * `connected`, pong to JSON pings, reconnect URL with sessionId + cursor (+ liveFormat) */
#include "feeds/feed_client_int.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static void
add_encoded(struct text_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '.' || c == '_' || c == '~' || c == ':') {
			text_buf_add(out, s, 1);
		} else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			text_buf_add(out, e, 3);
		}
	}
}

/* Parameters this client sets itself are dropped from the URL as given, so that a URL that
 * already names a session does not end up with two. */
static int
param_is_ours(const char *p, size_t n, const struct feed_client *fc)
{
	if (n == 9 && strncmp(p, "sessionId", 9) == 0)
		return fc->session[0] != '\0';
	if (n == 6 && strncmp(p, "cursor", 6) == 0)
		return fc->session[0] != '\0' && fc->trk.cursor[0] != '\0';
	if (n == 10 && strncmp(p, "liveFormat", 10) == 0)
		return fc->live_format != NULL;
	return 0;
}

void
hydromancer_client_url(const struct feed_client *fc, struct text_buf *out)
{
	const char *u = fc->url, *q = u + strcspn(u, "?#"), *frag;
	int first = 1;

	text_buf_add(out, u, (size_t)(q - u));
	frag = q + strcspn(q, "#");
	if (*q == '?') {
		const char *p = q + 1;
		while (p < frag) {
			size_t len = strcspn(p, "&#"), nlen = strcspn(p, "=&#");
			if (len && !param_is_ours(p, nlen < len ? nlen : len, fc)) {
				text_buf_add(out, first ? "?" : "&", 1);
				text_buf_add(out, p, len);
				first = 0;
			}
			p += len;
			if (*p == '&')
				p++;
		}
	}
	if (fc->session[0]) {
		text_buf_adds(out, first ? "?sessionId=" : "&sessionId=");
		add_encoded(out, fc->session);
		first = 0;
		if (fc->trk.cursor[0]) {
			text_buf_adds(out, "&cursor=");
			add_encoded(out, fc->trk.cursor);
		}
	}
	if (fc->live_format) {
		text_buf_adds(out, first ? "?liveFormat=" : "&liveFormat=");
		add_encoded(out, fc->live_format);
	}
	text_buf_adds(out, frag);
	text_buf_reserve(out, 1);
	out->p[out->len] = '\0';
}

static void
subscribe(struct feed_client *fc, feed_send_fn send, void *ud)
{
	struct text_buf b = { 0 };

	for (int i = 0; i < fc->nsubscribe; i++) {
		b.len = 0;
		text_buf_adds(&b, "{\"method\":\"subscribe\",\"subscription\":{\"type\":");
		text_json_string(&b, fc->subscribe[i], strlen(fc->subscribe[i]));
		text_buf_adds(&b, "}}");
		send(ud, b.p, b.len);
	}
	text_buf_free(&b);
}

int
hydromancer_client_on_message(struct feed_client *fc, const struct feed_msg *m,
			      feed_send_fn send, void *ud)
{
	int flags = 0;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	feed_cursor_track_msg(&fc->trk, m, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (m->cls != FEED_MSG_CONTROL)
		return 0;
	if (feed_client_str_is(m->type, "connected") || feed_client_str_is(m->type, "reconnected")) {
		char sid[FEED_CLIENT_MAX_SESSION + 1];
		long n = m->session_id.len ? feed_client_json_decode(m->session_id, sid, FEED_CLIENT_MAX_SESSION) : -1;
		if (n > 0 && strcmp(fc->session, sid) != 0) {
			feed_client_set_session(fc, sid, (size_t)n);
			flags |= FEED_CLIENT_SESSION;
		} else if (n <= 0 && m->session_id.p && feed_client_str_is(m->type, "connected")) {
			/* a new session whose id does not decode (a lone surrogate such as \ud800,
			 * a NUL, too long) cannot be sent back: it cannot be resumed, and the one
			 * before it is over, so neither is kept (a "reconnected" one goes on with
			 * the id the client sent) */
			if (fc->session[0])
				feed_client_set_session(fc, "", 0);
			flags |= FEED_CLIENT_SESSION | FEED_CLIENT_BAD_SESSION;
		}
		/* A new session (also when a resume was refused): the server holds no
		 * subscriptions for it, so they are sent again. */
		if (feed_client_str_is(m->type, "connected"))
			subscribe(fc, send, ud);
	} else if (feed_client_str_is(m->type, "ping")) {
		static const char pong[] = "{\"type\":\"pong\"}";
		send(ud, pong, sizeof(pong) - 1);
	} else if (feed_client_str_is(m->type, "error")) {
		char msg[sizeof(fc->refusal)];
		if (feed_client_json_decode(m->message, msg, sizeof(msg) - 1) < 0)
			msg[0] = '\0';
		/* The docs' common errors: "Session not found" (invalid or expired sessionId:
		 * create a new session, re-subscribe), "Invalid API key" (bad token: check the
		 * key; no retry helps), "Rate limit exceeded" (back off: the recorder does). */
		if (strcasestr(msg, "session not found")) {
			if (fc->session[0]) {
				feed_client_set_session(fc, "", 0);
				flags |= FEED_CLIENT_SESSION;
			}
		} else if (strcasestr(msg, "invalid api key")) {
			snprintf(fc->refusal, sizeof(fc->refusal), "%s", msg);
			flags |= FEED_CLIENT_REFUSED;
		}
	}
	return flags;
}

/* ---- the cursor to resume from ---- */

int
feed_cursor_time_cmp(const char *a, const char *b)
{
	struct hm_cursor ca, cb;
	int ea = hm_cursor_parse(a, strlen(a), &ca), eb = hm_cursor_parse(b, strlen(b), &cb);

	if (ea || eb)
		return ea && eb ? strcmp(a, b) : ea ? -1 : 1;
	if (ca.ts != cb.ts)
		return ca.ts < cb.ts ? -1 : 1;
	if (ca.fmt != cb.fmt)
		return ca.fmt < cb.fmt ? -1 : 1;    /* at the same time the coarser one covers more */
	if (ca.fmt > 1 && ca.block != cb.block)
		return ca.block < cb.block ? -1 : 1;
	if (ca.fmt == 3 && ca.tx != cb.tx)
		return ca.tx < cb.tx ? -1 : 1;
	return 0;
}

static void
track_oldest(struct feed_cursor_track *t)
{
	const char *best = NULL;

	for (int i = 0; i < t->nchan; i++)
		if (t->chan[i].cursor[0] && (!best || feed_cursor_time_cmp(t->chan[i].cursor, best) < 0))
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
store(char *dst, const char *c, int shared)
{
	if (shared && dst[0] && feed_cursor_time_cmp(c, dst) >= 0)
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
			store(t->chan[i].cursor, t->chan[i].live, i == FEED_CURSOR_CHANNELS - 1);
		t->chan[i].live[0] = '\0';
	}
	track_oldest(t);
}

void
feed_cursor_track_init(struct feed_cursor_track *t, enum feed_id feed)
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
	int shared;
	struct feed_cursor_chan *ch;
	struct feed_str v = { cursor, cursor_len };

	if (decode_cursor(v, c))
		return;
	if (t->feed != FEED_HYDROMANCER) {
		memcpy(t->cursor, c, strlen(c) + 1);
		return;
	}
	ch = track_chan(t, channel, channel_len, &shared);
	store(ch->cursor, c, shared);
	track_oldest(t);
}

int
feed_cursor_track_has(const struct feed_cursor_track *t, const char *channel, size_t n)
{
	for (int i = 0; i < t->nchan && i < FEED_CURSOR_CHANNELS - 1; i++)
		if (strlen(t->chan[i].name) == n && !memcmp(t->chan[i].name, channel, n) && t->chan[i].cursor[0])
			return 1;
	return 0;
}

void
feed_cursor_track_msg(struct feed_cursor_track *t, const struct feed_msg *m, int64_t now_ms)
{
	char c[FEED_CURSOR_MAX + 1];
	struct feed_cursor_chan *ch;
	int shared;

	if (t->feed != FEED_HYDROMANCER) {
		if (m->cursor.len && (m->cls == FEED_MSG_DATA || m->cls == FEED_MSG_REPLAY) &&
		    !decode_cursor(m->cursor, c))
			memcpy(t->cursor, c, strlen(c) + 1);
		return;
	}
	if (m->cls == FEED_MSG_CONTROL) {
		if (feed_client_str_is(m->type, "reconnected")) {
			t->holding = 1;
			t->replays = 0;
			t->hold_since_ms = now_ms;
			for (int i = 0; i < t->nchan; i++)
				t->chan[i].live[0] = '\0';
		} else if (feed_client_str_is(m->type, "connected")) {
			t->holding = 0;   /* a new session: nothing will be replayed */
			for (int i = 0; i < t->nchan; i++)
				t->chan[i].live[0] = '\0';
		}
	} else if (m->cls == FEED_MSG_REPLAY) {
		if (m->cursor.len && !decode_cursor(m->cursor, c)) {
			ch = track_chan(t, m->channel.p, m->channel.len, &shared);
			store(ch->cursor, c, shared);
			track_oldest(t);
		}
		int last = m->total_chunks <= 0 || m->chunk >= m->total_chunks;
		if (m->chunk <= 1 && !last) {
			t->replays++;
			if (!t->holding) {   /* a replay that began after the others ended */
				t->holding = 1;
				t->hold_since_ms = now_ms;
			}
		}
		else if (m->chunk > 1 && last && t->replays > 0)
			t->replays--;
		if (t->holding && last && t->replays == 0)
			track_release(t);
	} else if (m->cls == FEED_MSG_DATA && m->cursor.len && !decode_cursor(m->cursor, c)) {
		ch = track_chan(t, m->channel.p, m->channel.len, &shared);
		if (t->holding) {
			store(ch->live, c, shared);
		} else {
			store(ch->cursor, c, shared);
			track_oldest(t);
		}
	}
	if (t->holding && t->replays == 0 && now_ms - t->hold_since_ms >= FEED_CURSOR_HOLD_MS)
		track_release(t);
}
