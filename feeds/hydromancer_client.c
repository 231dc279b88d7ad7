/* hydromancer_client.c - the client half of the Hydromancer WebSocket API: subscribe after
 * `connected`, pong to JSON pings, reconnect URL with sessionId + cursor (+ liveFormat), the
 * errors that end a session or the recording, and the resume cursor's rules (replays) */
#include "feeds/feed_client_int.h"
#include "util/clock.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

struct hm_client {
	char **subscribe; /* --subscribe: subscription types, e.g. "allFills" */
	int nsubscribe;
	char *live_format; /* --live-format ("chunked-v1"), or NULL */
};

static const struct feed_client_opt options[] = {
	{ .name = "--subscribe",
	  .type = FEED_OPT_LIST,
	  .meta = "subscribe",
	  .elsewhere = "use --send for other feeds",
	  .arg = "TYPE",
	  .help = "subscribe to TYPE, again after each new session (repeatable;\n"
		  "default: none; --resume: the journal's)" },
	{ .name = "--live-format",
	  .type = FEED_OPT_TEXT,
	  .meta = "live_format",
	  .arg = "FMT",
	  .help = "liveFormat on every connect (e.g. chunked-v1; default: none;\n"
		  "--resume: the journal's)" },
	{ .name = NULL },
};

static int
hm_init(struct feed_client *fc, const struct feed_client_arg *args, int nargs)
{
	struct hm_client *hm = calloc(1, sizeof(*hm));

	if (!hm)
		return ENOMEM;
	fc->state = hm;
	if (!(hm->subscribe = calloc((size_t)nargs + 1, sizeof(char *))))
		return ENOMEM;
	for (int i = 0; i < nargs; i++) {
		const struct feed_client_arg *a = &args[i];
		char *v = strndup(a->value, a->len);
		if (!v)
			return ENOMEM;
		if (!strcmp(a->name, "--subscribe")) {
			hm->subscribe[hm->nsubscribe++] = v;
		} else {
			free(hm->live_format);
			hm->live_format = v;
		}
	}
	return 0;
}

static void
hm_fini(struct feed_client *fc)
{
	struct hm_client *hm = fc->state;

	if (!hm)
		return;
	for (int i = 0; i < hm->nsubscribe; i++)
		free(hm->subscribe[i]);
	free(hm->subscribe);
	free(hm->live_format);
	free(hm);
}

static void
add_encoded(struct text_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
		    c == '.' || c == '_' || c == '~' || c == ':') {
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
	const struct hm_client *hm = fc->state;

	if (n == 9 && strncmp(p, "sessionId", 9) == 0)
		return fc->session[0] != '\0';
	if (n == 6 && strncmp(p, "cursor", 6) == 0)
		return fc->session[0] != '\0' && fc->trk.cursor[0] != '\0';
	if (n == 10 && strncmp(p, "liveFormat", 10) == 0)
		return hm->live_format != NULL;
	return 0;
}

static void
hm_url(const struct feed_client *fc, struct text_buf *out)
{
	const struct hm_client *hm = fc->state;
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
	if (hm->live_format) {
		text_buf_adds(out, first ? "?liveFormat=" : "&liveFormat=");
		add_encoded(out, hm->live_format);
	}
	text_buf_adds(out, frag);
	text_buf_reserve(out, 1);
	out->p[out->len] = '\0';
}

static void
subscribe(struct feed_client *fc, feed_send_fn send, void *ud)
{
	const struct hm_client *hm = fc->state;
	struct text_buf b = { 0 };

	for (int i = 0; i < hm->nsubscribe; i++) {
		b.len = 0;
		text_buf_adds(&b, "{\"method\":\"subscribe\",\"subscription\":{\"type\":");
		text_json_string(&b, hm->subscribe[i], strlen(hm->subscribe[i]));
		text_buf_adds(&b, "}}");
		send(ud, b.p, b.len);
	}
	text_buf_free(&b);
}

static int
hm_on_message(struct feed_client *fc, const struct feed_msg *m, feed_send_fn send, void *ud)
{
	int flags = 0;

	feed_cursor_track_msg(&fc->trk, m, clock_mono_ns() / 1000000);
	if (m->cls != FEED_MSG_CONTROL)
		return 0;
	if (feed_client_str_is(m->type, "connected") || feed_client_str_is(m->type, "reconnected")) {
		char sid[FEED_CLIENT_MAX_SESSION + 1];
		long n = m->session_id.len
			? feed_client_json_decode(m->session_id, sid, FEED_CLIENT_MAX_SESSION)
			: -1;
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

/* The tracker's rules: `reconnected` (a resumed session) holds live cursors back while
 * its replays run, `connected` (a new session) replays nothing. */
static void
hm_track(struct feed_cursor_track *t, const struct feed_msg *m, int64_t now_ms)
{
	if (m->cls == FEED_MSG_CONTROL) {
		if (feed_client_str_is(m->type, "reconnected"))
			feed_cursor_track_hold(t, now_ms);
		else if (feed_client_str_is(m->type, "connected"))
			feed_cursor_track_new_session(t);
	} else if (m->cls == FEED_MSG_REPLAY) {
		feed_cursor_track_chunk(t, m->channel, m->cursor, m->chunk, m->total_chunks, now_ms);
	} else if (m->cls == FEED_MSG_DATA) {
		feed_cursor_track_live(t, m->channel, m->cursor);
	}
	feed_cursor_track_expire(t, now_ms);
}

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
		return ca.fmt < cb.fmt ? -1 : 1; /* at the same time the coarser one covers more */
	if (ca.fmt > 1 && ca.block != cb.block)
		return ca.block < cb.block ? -1 : 1;
	if (ca.fmt == 3 && ca.tx != cb.tx)
		return ca.tx < cb.tx ? -1 : 1;
	return 0;
}

const struct feed_client_ops hydromancer_client_ops = {
	.options = options,
	.channels_meta = "subscribe",
	.init = hm_init,
	.fini = hm_fini,
	.url = hm_url,
	.on_message = hm_on_message,
	.track = hm_track,
	.cursor_cmp = feed_cursor_time_cmp,
};
