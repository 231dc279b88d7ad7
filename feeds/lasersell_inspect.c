/* lasersell_inspect.c - inspect rules of the LaserSell Exit Intelligence Stream
 *
 * A session opens with hello_ok, whose limits give pnl_flush_ms; the client pings with a
 * JSON ping, the server answers pong. Positions open with position_opened and close with
 * position_closed; pnl_update, exit_signal_with_tx, ... name an open position, and a
 * position's pnl_update comes every pnl_flush_ms (late: more than twice that). Channels are
 * message types, so a position spans channels. Reconnects follow the documented backoff.
 */
#include "feeds/lasersell_inspect.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int
streq(struct feed_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

static void *
ls_state_new(const struct feed *feed)
{
	struct lasersell_inspect *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->pos = malloc(INSPECT_MAX_POSITIONS * sizeof(struct ls_position));
	s->pos_spare = malloc(INSPECT_MAX_POSITIONS * sizeof(struct ls_position));
	if (!s->pos || !s->pos_spare) {
		free(s->pos);
		free(s->pos_spare);
		free(s);
		return NULL;
	}
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++)
		s->pos[i].id = -1;
	s->pnl_flush_ms = -1;
	return s;
}

static void
ls_state_free(void *st)
{
	struct lasersell_inspect *s = st;

	if (!s)
		return;
	free(s->pos);
	free(s->pos_spare);
	free(s);
}

static int
ls_session(void *st, const struct inspect_rec *r, const struct feed_msg *m, const char **kind)
{
	struct lasersell_inspect *s = st;

	(void)r;
	if (!streq(m->type, "hello_ok"))
		return FEED_SESSION_NONE;
	if (m->pnl_flush_ms > 0)
		s->pnl_flush_ms = m->pnl_flush_ms;
	*kind = "hello_ok";
	return FEED_SESSION_OPEN;
}

static int
ls_ping(void *st, const struct inspect_rec *r, const struct feed_msg *m)
{
	(void)st;
	if (r->out)
		return streq(m->type, "ping") ? FEED_PING_SENT : FEED_PING_NONE;
	return streq(m->type, "pong") ? FEED_PONG_RECEIVED : FEED_PING_NONE;
}

/* --- the table of positions --- */

static struct ls_position *pos_probe(struct lasersell_inspect *s, int64_t id, int insert);

/* The table is full enough to slow probing down: keep the open positions, forget the closed
 * ones (an event for a position closed long ago is still reported, without its close). Only
 * when open positions alone fill it are new ones dropped, and counted. */
static void
pos_sweep(struct lasersell_inspect *s)
{
	struct ls_position *old = s->pos;

	s->pos = s->pos_spare;
	s->pos_spare = old;
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++)
		s->pos[i].id = -1;
	s->pos_used = 0;
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++) {
		if (old[i].id >= 0 && !old[i].closed) {
			struct ls_position *p = pos_probe(s, old[i].id, 1);
			*p = old[i];
		}
	}
}

static struct ls_position *
pos_probe(struct lasersell_inspect *s, int64_t id, int insert)
{
	uint32_t i = (uint32_t)((uint64_t)id * 0x9e3779b97f4a7c15ULL >> 52) & (INSPECT_MAX_POSITIONS - 1);

	for (uint32_t n = 0; n < INSPECT_MAX_POSITIONS; n++, i = (i + 1) & (INSPECT_MAX_POSITIONS - 1)) {
		if (s->pos[i].id == id)
			return &s->pos[i];
		if (s->pos[i].id == -1) {
			if (!insert)
				return NULL;
			memset(&s->pos[i], 0, sizeof(s->pos[i]));
			s->pos[i].id = id;
			s->pos_used++;
			return &s->pos[i];
		}
	}
	return NULL;
}

static struct ls_position *
pos_find(struct lasersell_inspect *s, int64_t id, int insert)
{
	struct ls_position *p = pos_probe(s, id, 0);

	if (p || !insert)
		return p;
	if (s->pos_used >= INSPECT_MAX_POSITIONS * 3 / 4)
		pos_sweep(s);
	if (s->pos_used >= INSPECT_MAX_POSITIONS * 3 / 4) {
		s->pos_dropped++;
		return NULL;
	}
	return pos_probe(s, id, 1);
}

/* position_opened: a position not open yet (or closed before) opens. Returns 1 when it did. */
static int
pos_open(struct lasersell_inspect *s, int64_t id, const struct inspect_rec *r, int unselected)
{
	struct ls_position *p = pos_find(s, id, 1);

	if (!p || (p->open_recno && !p->closed))
		return 0;
	p->open_recno = r->recno;
	p->open_ns = r->ns;
	p->closed = 0;
	p->last_pnl_ns = 0;
	p->unselected = unselected;
	return 1;
}

/* A position opened or closed on a channel that --channel leaves out: followed, so that
 * the selected messages are judged against it, never reported nor counted. */
static void
ls_follow(struct lasersell_inspect *s, const struct inspect_rec *r, const struct feed_msg *m)
{
	struct ls_position *p;

	if (streq(m->type, "position_opened")) {
		pos_open(s, m->position_id, r, 1);
	} else if (streq(m->type, "position_closed")) {
		p = pos_find(s, m->position_id, 0);
		if (p && !p->closed) {
			p->closed = 1;
			p->close_recno = r->recno;
		}
	}
}

static void
pnl_update(struct lasersell_inspect *s, const struct inspect_host *h, const struct inspect_rec *r,
	   struct feed_str channel, const struct feed_msg *m, struct ls_position *p)
{
	if (p->last_pnl_ns && p->last_pnl_conn == r->conn && r->ns >= p->last_pnl_ns) {
		int64_t d = r->ns - p->last_pnl_ns;

		hist_add(&s->pnl_gap, (uint64_t)d);
		if (s->pnl_flush_ms > 0 && d > 2 * s->pnl_flush_ms * 1000000) {
			char dur[32];
			struct inspect_at at = { r->recno, p->last_pnl_recno, r->ns,      d,
						 r->conn,  channel.p,         channel.len };

			h->fmt_dur(d, dur, sizeof(dur));
			h->finding(h->ud, F_PNL_LATE, &at,
				   "pnl_update for position %" PRId64
				   " came %s after the previous one (#%" PRIu64 "); pnl_flush_ms is %" PRId64,
				   m->position_id, dur, p->last_pnl_recno, s->pnl_flush_ms);
		}
	}
	p->last_pnl_ns = r->ns;
	p->last_pnl_recno = r->recno;
	p->last_pnl_conn = r->conn;
}

static void
ls_data(void *st, const struct inspect_host *h, const struct inspect_rec *r, struct feed_str channel,
	const struct feed_msg *m, int selected)
{
	struct lasersell_inspect *s = st;
	struct ls_position *p;

	if (m->position_id < 0)
		return;
	if (!selected) {
		ls_follow(s, r, m);
		return;
	}
	if (streq(m->type, "position_opened")) {
		if (pos_open(s, m->position_id, r, 0))
			s->pos_opened++;
		return;
	}
	p = pos_find(s, m->position_id, 0);
	if (!p && h->cut_start(h->ud)) {
		/* opened before --from, most likely: the server announces open positions again
		   only on a new connection (position_opened after configure) */
		h->cut(h->ud, INSPECT_CUT_POSITION_EVENTS);
		return;
	}
	if (!p || p->closed) {
		char closed[48] = "";
		struct inspect_at at = { r->recno, 0, r->ns, 0, r->conn, channel.p, channel.len };

		if (p)
			snprintf(closed, sizeof(closed), " (closed at #%" PRIu64 ")", p->close_recno);
		s->pos_unknown_events++;
		h->finding(h->ud, F_POSITION_UNKNOWN, &at, "%.*s for unknown position %" PRId64 "%s",
			   (int)m->type.len, m->type.p, m->position_id, closed);
		return;
	}
	if (streq(m->type, "position_closed")) {
		p->closed = 1;
		p->close_recno = r->recno;
		s->pos_closed++;
	} else if (streq(m->type, "pnl_update")) {
		pnl_update(s, h, r, channel, m, p);
	}
}

/* Positions still open: never closed, or cut by the selection (their close may lie after
 * --to, or on another connection than --conn). */
static void
ls_finish(void *st, const struct inspect_host *h)
{
	struct lasersell_inspect *s = st;

	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++) {
		struct ls_position *p = &s->pos[i];
		struct inspect_at at = { p->open_recno, 0, p->open_ns, 0, 0, NULL, 0 };
		char t[40];

		if (p->id < 0 || !p->open_recno || p->closed || p->unselected)
			continue;
		if (h->cut_end(h->ud)) {
			h->cut(h->ud, INSPECT_CUT_POSITIONS_OPEN);
			continue;
		}
		text_format_time(p->open_ns, t, sizeof(t));
		h->finding(h->ud, F_POSITION_OPEN, &at,
			   "position %" PRId64 " opened at #%" PRIu64 " (%s) was never closed", p->id,
			   p->open_recno, t);
	}
}

/* --- the report's lasersell section --- */

static void
hist_text(const struct inspect_host *h, const struct hist *x, const char *lead, struct text_buf *b)
{
	char a[32], c[32], d[32];

	if (!x->count)
		return;
	h->fmt_dur((int64_t)hist_quantile(x, 0.5), a, sizeof(a));
	h->fmt_dur((int64_t)hist_quantile(x, 0.99), c, sizeof(c));
	h->fmt_dur((int64_t)x->max, d, sizeof(d));
	text_buf_addf(b, "%sp50 %s, p99 %s, max %s", lead, a, c, d);
}

static void
ls_report_text(const void *st, const struct inspect_host *h, struct text_buf *b)
{
	const struct lasersell_inspect *s = st;
	struct inspect_pings pg;

	h->pings(h->ud, &pg);
	text_buf_adds(b, "\nlasersell\n");
	text_buf_addf(b, "  ping rtt     %" PRIu64 " pings, %" PRIu64 " pongs", pg.pings, pg.pongs);
	hist_text(h, pg.rtt, "; rtt ", b);
	text_buf_addf(b, "; %" PRIu64 " unanswered\n", h->count(h->ud, F_PING_UNANSWERED));
	text_buf_addf(b, "  pnl_update   pnl_flush_ms %" PRId64 "; %" PRIu64 " intervals", s->pnl_flush_ms,
		      s->pnl_gap.count);
	hist_text(h, &s->pnl_gap, ", ", b);
	text_buf_addf(b, "; %" PRIu64 " above 2x pnl_flush_ms\n", h->count(h->ud, F_PNL_LATE));
	text_buf_addf(b,
		      "  positions    %" PRIu64 " opened, %" PRIu64 " closed, %" PRIu64
		      " never closed; %" PRIu64 " event(s) for unknown positions\n",
		      s->pos_opened, s->pos_closed, h->count(h->ud, F_POSITION_OPEN), s->pos_unknown_events);
	if (s->pos_dropped)
		text_buf_addf(b, "  ... %" PRIu64 " position(s) not tracked: more than %d open at once\n",
			      s->pos_dropped, INSPECT_MAX_POSITIONS * 3 / 4);
}

static json_t *
jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static struct json_t *
ls_report_json(const void *st, const struct inspect_host *h)
{
	const struct lasersell_inspect *s = st;
	struct inspect_pings pg;
	json_t *o = json_object();

	h->pings(h->ud, &pg);
	json_object_set_new(o, "pings", jint(pg.pings));
	json_object_set_new(o, "pongs", jint(pg.pongs));
	json_object_set_new(o, "rtt", h->json_hist(pg.rtt));
	json_object_set_new(o, "pnl_flush_ms",
			    s->pnl_flush_ms >= 0 ? json_integer(s->pnl_flush_ms) : json_null());
	json_object_set_new(o, "pnl_interval", h->json_hist(&s->pnl_gap));
	json_object_set_new(o, "pnl_late", jint(h->count(h->ud, F_PNL_LATE)));
	json_object_set_new(o, "positions_opened", jint(s->pos_opened));
	json_object_set_new(o, "positions_closed", jint(s->pos_closed));
	json_object_set_new(o, "positions_never_closed", jint(h->count(h->ud, F_POSITION_OPEN)));
	json_object_set_new(o, "unknown_position_events", jint(s->pos_unknown_events));
	json_object_set_new(o, "positions_not_tracked", jint(s->pos_dropped));
	return o;
}

const struct feed_inspect_ops lasersell_inspect_ops = {
	.not_json_is_finding = 1,
	.seq_first = -1,
	.backoff_documented = 1,
	.state_new = ls_state_new,
	.state_free = ls_state_free,
	.session = ls_session,
	.ping = ls_ping,
	.data = ls_data,
	.finish = ls_finish,
	.section = "lasersell",
	.report_text = ls_report_text,
	.report_json = ls_report_json,
};
