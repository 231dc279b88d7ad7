/* hydromancer_client.c - the client side of the Hydromancer WebSocket API: subscribe after
 * `connected`, pong to JSON pings, reconnect URL with sessionId + cursor (+ liveFormat) */
#include "feeds/feed_client_int.h"

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
	int changed = 0;

	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	feed_cursor_track_msg(&fc->trk, m, (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (m->cls != FEED_MSG_CONTROL)
		return 0;
	if (feed_client_str_is(m->type, "connected") || feed_client_str_is(m->type, "reconnected")) {
		if (m->session_id.len && (strlen(fc->session) != m->session_id.len ||
		    memcmp(fc->session, m->session_id.p, m->session_id.len) != 0)) {
			feed_client_set_session(fc, m->session_id.p, m->session_id.len);
			changed = 1;
		}
		/* A new session (also when a resume was refused): the server holds no
		 * subscriptions for it, so they are sent again. */
		if (feed_client_str_is(m->type, "connected"))
			subscribe(fc, send, ud);
	} else if (feed_client_str_is(m->type, "ping")) {
		static const char pong[] = "{\"type\":\"pong\"}";
		send(ud, pong, sizeof(pong) - 1);
	}
	return changed;
}

/* ---- the cursor to resume from ---- */

static void
track_set(char *dst, struct feed_str v)
{
	size_t n = v.len < FEED_CURSOR_MAX ? v.len : FEED_CURSOR_MAX;
	memcpy(dst, v.p, n);
	dst[n] = '\0';
}

static void
track_release(struct feed_cursor_track *t)
{
	t->holding = 0;
	if (t->live[0])
		memcpy(t->cursor, t->live, sizeof(t->cursor));
	t->live[0] = '\0';
}

void
feed_cursor_track_init(struct feed_cursor_track *t, enum feed_id feed)
{
	memset(t, 0, sizeof(*t));
	t->feed = feed;
}

void
feed_cursor_track_msg(struct feed_cursor_track *t, const struct feed_msg *m, int64_t now_ms)
{
	if (t->feed != FEED_HYDROMANCER) {
		if (m->cursor.len && (m->cls == FEED_MSG_DATA || m->cls == FEED_MSG_REPLAY))
			track_set(t->cursor, m->cursor);
		return;
	}
	if (m->cls == FEED_MSG_CONTROL) {
		if (feed_client_str_is(m->type, "reconnected")) {
			t->holding = 1;
			t->replays = 0;
			t->hold_since_ms = now_ms;
			t->live[0] = '\0';
		} else if (feed_client_str_is(m->type, "connected")) {
			t->holding = 0;   /* a new session: nothing will be replayed */
			t->live[0] = '\0';
		}
	} else if (m->cls == FEED_MSG_REPLAY) {
		if (m->cursor.len)
			track_set(t->cursor, m->cursor);
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
	} else if (m->cls == FEED_MSG_DATA && m->cursor.len) {
		if (t->holding)
			track_set(t->live, m->cursor);
		else
			track_set(t->cursor, m->cursor);
	}
	if (t->holding && t->replays == 0 && now_ms - t->hold_since_ms >= FEED_CURSOR_HOLD_MS)
		track_release(t);
}
