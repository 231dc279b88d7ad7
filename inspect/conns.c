/* conns.c - connections: their records and connection events, reconnects judged by the
 * feed's documented backoff, and the downtime between them (covered by a replay or not, or
 * in a merged journal filled by another recorder). Each recorder's connections follow one
 * another: the current connection is followed per recorder (struct lane). */
#include "inspect/internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static void
copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

int
inspect_cut_start(const struct inspect *in)
{
	return in->cut_before && (in->ln ? in->ln->conns : in->conns_total) <= 1;
}

void
inspect_lane_enter(struct inspect *in, int lane)
{
	in->lane = lane >= 0 && lane < INSPECT_LANES ? lane : 0;
	in->ln = &in->lanes[in->lane];
	in->cur = in->ln->have_cur ? &in->ln->cur_conn : NULL;
}

uint64_t
inspect_others(const struct inspect *in)
{
	return in->data_known - (in->lane ? in->ln->data : 0);
}

/* Why the downtime before c is not covered by a replay, or NULL when it is (or nothing says
 * it should be). */
static const char *
downtime_why(const struct inspect *in, const struct conn *c, char *buf, size_t n)
{
	const char *gap = in->ops->replay_gap_name ? in->ops->replay_gap_name : "a gap";

	if (c->session_kind == FEED_SESSION_NEW) {
		snprintf(buf, n, "a new session (\"%s\"): no replay", c->session);
		return buf;
	}
	if (c->session_kind != FEED_SESSION_RESUMED)
		return NULL;
	if (c->replays_gap) {
		snprintf(buf, n, "the replay has %s", gap);
		return buf;
	}
	if (c->replays_complete + c->replays_cut < c->replays)
		return "the replay is incomplete";
	return NULL;
}

/* The downtime between the last established connection of its recorder and c, which has
 * ended (its session and replays are known), and whether a replay covered it (where the
 * feed's replays cover downtime) or, in a merged journal, another recorder's connections
 * delivered data messages meanwhile. */
static void
downtime_check(struct inspect *in, const struct conn *c)
{
	struct lane *ln = in->ln;
	int64_t start, d;
	char dur[32], why_buf[64];
	const char *why;
	struct inspect_at at;

	if (!c->ok || !ln->have_prev_ok)
		return;
	start = c->open_ns ? c->open_ns : c->first_ns;
	d = start - ln->prev_ok_end_ns;
	if (ln->prev_ok_idx >= 0)
		in->conns[ln->prev_ok_idx].downtime_after_ns = d;
	if (!in->ops->replay_covers_downtime)
		return;
	/* filled by another recorder: the recorders section says by whom */
	if (inspect_merged(in) && c->others_at_start > ln->prev_ok_others)
		return;
	if (!(why = downtime_why(in, c, why_buf, sizeof(why_buf)))) {
		if (c->replays_cut)
			in->cut_downtime++; /* covered as far as the selection goes */
		return;
	}
	inspect_fmt_dur(d, dur, sizeof(dur));
	at = (struct inspect_at){ c->open_recno ? c->open_recno : c->first_recno,
				  ln->prev_ok_last_recno,
				  start,
				  d,
				  c->id,
				  NULL,
				  0 };
	inspect_finding(in, F_DOWNTIME, &at,
			"downtime of %s before conn %" PRIu32 " (after #%" PRIu64 ") not covered: %s", dur,
			c->id, ln->prev_ok_last_recno, why);
}

/* The current connection of the current lane ends: close what belongs to it, check the
 * downtime before it, keep it in detail if there is room. */
void
inspect_conn_end(struct inspect *in)
{
	struct lane *ln = in->ln;
	struct conn *c = &ln->cur_conn;
	int idx = -1, cut = in->finished && in->cut_after;

	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		struct chlane *l = inspect_chlane_find(in->ch[i], in->lane);

		if (!l || !l->rp_active || l->rp_conn != ln->cur_id)
			continue;
		if (cut)
			inspect_replay_cut(in, l);
		else
			inspect_replay_end(in, in->ch[i], l,
					   in->finished ? "journal ended" : "connection ended");
	}
	inspect_pings_end(in);
	downtime_check(in, c);
	if (in->nconns < INSPECT_MAX_CONNS) {
		idx = in->nconns++;
		in->conns[idx] = *c;
	} else {
		in->conns_dropped++;
	}
	if (c->ok) {
		ln->have_prev_ok = 1;
		ln->prev_ok_idx = idx;
		ln->prev_ok_end_ns = c->close_ns ? c->close_ns : c->last_ns;
		ln->prev_ok_last_recno = c->last_recno;
		ln->prev_ok_others = ln->cur_last_others;
	}
}

/* Judge reconnect r by the feed's documented backoff. 'given': the recorder said which
 * attempt it is. */
static void
backoff_judge(struct inspect *in, struct reconnect *r, int given)
{
	int64_t e;

	if (!in->ops->backoff_documented)
		return;
	if (!(given || in->ln->have_prev_ok) && in->cut_before) {
		/* failed attempts since the last established connection, before --from: the
		   attempt number, so the documented delay, is not known */
		in->cut_reconnects++;
		return;
	}
	e = r->expected_ms = feed_backoff_ms(in->opt.feed, (unsigned)r->attempt);
	if ((r->stated_ms >= 0 && (r->stated_ms * 10 < e * 9 || r->stated_ms * 10 > e * 11)) ||
	    r->actual_ms * 10 < e * 9 || r->actual_ms > 2 * e + 1000)
		r->off = 1;
}

/* A new connection after prev_id, of the same recorder: the reconnect, with its attempt and
 * delays. */
static void
reconnect_note(struct inspect *in, const struct journal_record *rec, uint32_t prev_id)
{
	struct lane *ln = in->ln;
	struct reconnect r;
	int given = 0;

	memset(&r, 0, sizeof(r));
	r.from_conn = prev_id;
	r.to_conn = rec->conn;
	r.recno = rec->recno;
	r.ns = rec->wall_ns;
	r.stated_ms = r.expected_ms = -1;
	r.actual_ms = (rec->wall_ns - ln->cur_last_ns) / 1000000;
	r.attempt = ln->attempts_since_ok + 1;
	if (ln->rc_pending) {
		r.attempt = ln->rc_attempt > 0 ? ln->rc_attempt : r.attempt;
		given = ln->rc_attempt > 0;
		r.stated_ms = ln->rc_delay_ms;
		r.actual_ms = (rec->wall_ns - ln->rc_ns) / 1000000;
		ln->rc_pending = 0;
	}
	backoff_judge(in, &r, given);
	in->rcs_total++;
	if (in->nrcs < INSPECT_MAX_CONNS)
		in->rcs[in->nrcs++] = r;
	if (r.off) {
		struct inspect_at at = { rec->recno, 0, rec->wall_ns, 0, rec->conn, NULL, 0 };

		inspect_finding(in, F_BACKOFF, &at,
				"reconnect attempt %d (conn %" PRIu32 ") came %" PRId64
				" ms after the disconnect%s; the documented backoff is %" PRId64 " ms",
				r.attempt, rec->conn, r.actual_ms,
				r.stated_ms >= 0 ? " (scheduled delay given)" : "", r.expected_ms);
	}
}

/* A record of another connection than its lane's current one: that one ends, rec's begins. */
void
inspect_conn_switch(struct inspect *in, const struct journal_record *rec)
{
	struct lane *ln = in->ln;
	int had = ln->have_cur;
	uint32_t prev_id = ln->cur_id;
	struct conn *c = &ln->cur_conn;

	if (had) {
		inspect_conn_end(in);
		ln->attempts_since_ok = ln->cur_ok ? 0 : ln->attempts_since_ok + 1;
	}
	ln->have_cur = 1;
	ln->cur_id = rec->conn;
	ln->cur_ok = 0;
	ln->conns++;
	in->conns_total++;
	memset(c, 0, sizeof(*c));
	c->id = rec->conn;
	c->first_recno = rec->recno;
	c->first_ns = rec->wall_ns;
	c->close_code = -1;
	c->downtime_after_ns = -1;
	c->others_at_start = inspect_others(in);
	copy_str(c->recorder, sizeof(c->recorder), inspect_recorder_of(in, rec->conn));
	in->cur = c;
	if (had)
		reconnect_note(in, rec, prev_id);
}

/* --- the recorder's connection events (JSON payloads of open/close/error records) --- */

static void
conn_open(struct inspect *in, const struct journal_record *rec, json_t *o)
{
	struct conn *c = in->cur;

	in->ln->cur_ok = 1;
	if (!c)
		return;
	c->ok = 1;
	c->open_recno = rec->recno;
	c->open_ns = rec->wall_ns;
	c->others_at_start = inspect_others(in);
	c->status = (int)json_integer_value(json_object_get(o, "status"));
	c->attempt = (int)json_integer_value(json_object_get(o, "attempt"));
}

static void
conn_close(struct inspect *in, const struct journal_record *rec, json_t *o)
{
	struct conn *c = in->cur;
	const char *by = json_string_value(json_object_get(o, "by"));
	const char *reason = json_string_value(json_object_get(o, "reason"));
	json_t *jc = json_object_get(o, "code");
	int code = jc ? (int)json_integer_value(jc) : 0;
	char dur[32] = "";
	struct inspect_at at = { rec->recno, 0, rec->wall_ns, 0, rec->conn, NULL, 0 };

	if (c) {
		c->close_recno = rec->recno;
		c->close_ns = rec->wall_ns;
		c->close_code = code;
		copy_str(c->close_reason, sizeof(c->close_reason), reason);
		copy_str(c->close_by, sizeof(c->close_by), by ? by : "unknown");
		inspect_fmt_dur(rec->wall_ns - (c->open_ns ? c->open_ns : c->first_ns), dur, sizeof(dur));
	}
	if (!by || strcmp(by, "client") != 0)
		inspect_finding(in, F_DISCONNECT, &at, "conn %" PRIu32 " closed by %s: code %d \"%s\"%s%s",
				rec->conn, by ? by : "unknown", code, reason ? reason : "",
				*dur ? " after " : "", dur);
}

static void
conn_error(struct inspect *in, const struct journal_record *rec, json_t *o)
{
	struct conn *c = in->cur;
	const char *err = json_string_value(json_object_get(o, "error"));
	const char *phase = json_string_value(json_object_get(o, "phase"));
	int status = (int)json_integer_value(json_object_get(o, "status"));
	int attempt = (int)json_integer_value(json_object_get(o, "attempt"));
	char st[24] = "", at_s[24] = "";
	struct inspect_at at = { rec->recno, 0, rec->wall_ns, 0, rec->conn, NULL, 0 };

	if (c) {
		copy_str(c->error, sizeof(c->error), err ? err : "error");
		copy_str(c->phase, sizeof(c->phase), phase);
		if (attempt)
			c->attempt = attempt;
	}
	if (status)
		snprintf(st, sizeof(st), " (HTTP %d)", status);
	if (attempt)
		snprintf(at_s, sizeof(at_s), " attempt %d", attempt);
	inspect_finding(in, F_CONNECT_FAILED, &at, "conn %" PRIu32 "%s failed%s%s: %s%s", rec->conn, at_s,
			phase ? " in " : "", phase ? phase : "", err ? err : "error", st);
}

void
inspect_conn_event(struct inspect *in, const struct journal_record *rec)
{
	json_t *o = json_loadb((const char *)rec->payload, rec->payload_len, 0, NULL);
	const char *ev;

	if (!o || !json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	ev = json_string_value(json_object_get(o, "event"));
	if (rec->kind == JOURNAL_OPEN) {
		conn_open(in, rec, o);
	} else if (rec->kind == JOURNAL_CLOSE) {
		conn_close(in, rec, o);
	} else if (ev && !strcmp(ev, "reconnect")) {
		/* the recorder's "reconnect scheduled" */
		in->ln->rc_pending = 1;
		in->ln->rc_attempt = (int)json_integer_value(json_object_get(o, "attempt"));
		in->ln->rc_delay_ms = json_integer_value(json_object_get(o, "delay_ms"));
		in->ln->rc_ns = rec->wall_ns;
	} else {
		conn_error(in, rec, o);
	}
	json_decref(o);
}
