/* inspect.c - the streaming pass: connections, gaps, duplicates, timing, lasersell rules */
#include "inspect/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct finding_info inspect_finding_info[F_COUNT] = {
	[F_SEQ_GAP] = { "seq_gap", INSPECT_GAPS },
	[F_SEQ_START] = { "seq_start", INSPECT_GAPS },
	[F_SEQ_BACK] = { "seq_back", INSPECT_GAPS },
	[F_CURSOR_BACK] = { "cursor_back", INSPECT_GAPS },
	[F_REPLAY_HASGAP] = { "replay_has_gap", INSPECT_GAPS },
	[F_REPLAY_INCOMPLETE] = { "replay_incomplete", INSPECT_GAPS },
	[F_STALL] = { "stall", INSPECT_GAPS },
	[F_DOWNTIME] = { "downtime_uncovered", INSPECT_GAPS },
	[F_DUP_EVENT] = { "dup_event", INSPECT_DUPS },
	[F_DUP_FRAME] = { "dup_frame", INSPECT_DUPS },
	[F_OVERLAP] = { "overlap", INSPECT_OVERLAP },
	[F_DISCONNECT] = { "disconnect", INSPECT_DISCONNECTS },
	[F_CONNECT_FAILED] = { "connect_failed", INSPECT_DISCONNECTS },
	[F_POSITION_OPEN] = { "position_never_closed", INSPECT_POSITIONS },
	[F_POSITION_UNKNOWN] = { "position_unknown", INSPECT_POSITIONS },
	[F_PNL_LATE] = { "pnl_late", INSPECT_TIMING },
	[F_BACKOFF] = { "backoff", INSPECT_TIMING },
	[F_PING_UNANSWERED] = { "ping_unanswered", INSPECT_TIMING },
	[F_NOT_JSON] = { "not_json", INSPECT_MALFORMED },
};

static const struct {
	const char *name;
	unsigned bit;
} class_names[] = {
	{ "gaps", INSPECT_GAPS }, { "dups", INSPECT_DUPS }, { "overlap", INSPECT_OVERLAP },
	{ "disconnects", INSPECT_DISCONNECTS }, { "positions", INSPECT_POSITIONS },
	{ "timing", INSPECT_TIMING }, { "malformed", INSPECT_MALFORMED }, { "any", INSPECT_ANY },
};

int
inspect_class_parse(const char *list, unsigned *mask)
{
	const char *p = list;

	*mask = 0;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
			if (strlen(class_names[i].name) == n && !memcmp(p, class_names[i].name, n))
				break;
		if (i == sizeof(class_names) / sizeof(class_names[0]))
			return -1;
		*mask |= class_names[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	return *mask ? 0 : -1;
}

const char *
inspect_class_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (class_names[i].bit == bit)
			return class_names[i].name;
	return "?";
}

void
inspect_fmt_dur(int64_t ns, char *buf, size_t n)
{
	const char *sign = ns < 0 ? "-" : "";

	if (ns < 0)
		ns = -ns;
	if (ns < 1000000)
		snprintf(buf, n, "%s%" PRId64 "us", sign, ns / 1000);
	else if (ns < 1000000000)
		snprintf(buf, n, "%s%" PRId64 ".%01" PRId64 "ms", sign, ns / 1000000, ns / 100000 % 10);
	else if (ns < 60 * (int64_t)1000000000)
		snprintf(buf, n, "%s%" PRId64 ".%03" PRId64 "s", sign, ns / 1000000000, ns / 1000000 % 1000);
	else
		snprintf(buf, n, "%s%" PRId64 "m%02" PRId64 ".%03" PRId64 "s", sign, ns / 60000000000,
			 ns / 1000000000 % 60, ns / 1000000 % 1000);
}

int
inspect_new(const struct inspect_options *opt, struct inspect **out)
{
	struct inspect *in;

	*out = NULL;
	if (!(in = calloc(1, sizeof(*in))))
		return ENOMEM;
	in->opt = *opt;
	if (in->opt.stall_ns <= 0)
		in->opt.stall_ns = 5 * (int64_t)1000000000;
	if (opt->channel) {
		snprintf(in->channel_filter, sizeof(in->channel_filter), "%s", opt->channel);
		in->opt.channel = in->channel_filter;
	}
	in->findings = calloc((size_t)F_COUNT * INSPECT_KEEP_FINDINGS, sizeof(struct finding));
	in->frames = inspect_seen_new(INSPECT_FRAME_WINDOW);
	in->pos = malloc(INSPECT_MAX_POSITIONS * sizeof(struct position));
	in->pos_spare = malloc(INSPECT_MAX_POSITIONS * sizeof(struct position));
	if (!in->findings || !in->frames || !in->pos || !in->pos_spare) {
		inspect_free(in);
		return ENOMEM;
	}
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++)
		in->pos[i].id = -1;
	in->pnl_flush_ms = -1;
	in->tl_width = 1000000000;
	in->cut_before = opt->from_ns != 0;
	in->cut_after = opt->to_ns != 0;
	in->cut_conns = in->cut_conns_before = opt->conn_set;
	*out = in;
	return 0;
}

void
inspect_free(struct inspect *in)
{
	if (!in)
		return;
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		if (in->ch[i]) {
			inspect_seen_free(in->ch[i]->seen);
			free(in->ch[i]);
		}
	}
	inspect_seen_free(in->frames);
	free(in->findings);
	free(in->pos);
	free(in->pos_spare);
	free(in);
}

/* Reports are UTF-8: bytes of a cursor or channel that are not (or a sequence cut by
 * truncation) become '?'. */
static void
utf8_sanitize(char *s)
{
	size_t n = strlen(s);

	if (text_utf8_valid((const uint8_t *)s, n))
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			s[i] = '?';
}

static struct finding *
finding_add(struct inspect *in, int type, uint64_t recno, int64_t ns, uint32_t conn,
	    const char *ch, size_t ch_len, const char *fmt, ...) __attribute__((format(printf, 8, 9)));

static struct finding *
finding_add(struct inspect *in, int type, uint64_t recno, int64_t ns, uint32_t conn,
	    const char *ch, size_t ch_len, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	in->count[type]++;
	if (in->kept[type] >= INSPECT_KEEP_FINDINGS)
		return NULL;
	in->kept[type]++;
	f = &in->findings[in->nfindings++];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->recno = recno;
	f->ns = ns;
	f->conn = conn;
	if (ch && ch_len) {
		if (ch_len >= sizeof(f->channel))
			ch_len = sizeof(f->channel) - 1;
		memcpy(f->channel, ch, ch_len);
	}
	va_start(ap, fmt);
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	va_end(ap);
	utf8_sanitize(f->channel);
	utf8_sanitize(f->msg);
	return f;
}

static int
streq(struct feed_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

static void
copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

/* A channel's state by name; the last slot collects channels beyond the limit. */
static struct channel *
channel_get(struct inspect *in, const char *name, size_t len)
{
	struct channel *c;

	if (len >= CH_NAME)
		len = CH_NAME - 1;
	for (int i = 0; i < in->nch; i++) {
		c = in->ch[i];
		if (c->name_len == len && !memcmp(c->name, name, len))
			return c;
	}
	if (in->nch < INSPECT_MAX_CHANNELS) {
		if (!(c = calloc(1, sizeof(*c))))
			return NULL;
		in->ch[in->nch++] = c;
		memcpy(c->name, name, len);
		c->name_len = len;
		return c;
	}
	if (!in->ch[INSPECT_MAX_CHANNELS]) {
		if (!(c = calloc(1, sizeof(*c))))
			return NULL;
		memcpy(c->name, "(other)", 7);
		c->name_len = 7;
		in->ch[INSPECT_MAX_CHANNELS] = c;
	}
	return in->ch[INSPECT_MAX_CHANNELS];
}

static void
replay_end(struct inspect *in, struct channel *c, const char *why)
{
	if (!c->rp_active)
		return;
	c->rp_active = 0;
	finding_add(in, F_REPLAY_INCOMPLETE, c->rp_first_recno, c->rp_first_ns, c->rp_conn, c->name,
		    c->name_len, "replay of %s on conn %" PRIu32 " incomplete: %" PRId64 " of %" PRId64
		    " chunks received (#%" PRIu64 "..#%" PRIu64 "), %s", c->name, c->rp_conn,
		    c->rp_next - 1, c->rp_total, c->rp_first_recno, c->rp_last_recno, why);
}

/* A replay still going when the selection ends (--to): its end is not missing, it is not
 * in the selection. One already known to miss chunks stays incomplete. */
static void
replay_cut(struct inspect *in, struct channel *c)
{
	if (!c->rp_active)
		return;
	c->rp_active = 0;
	if (c->rp_cut || c->rp_has_gap == 2)
		return;
	in->cut_replays++;
	if (in->cur && c->rp_conn == in->cur_id)
		in->cur->replays_cut++;
}

/* The downtime between the last established connection and c, which has ended (its
 * session and replays are known), and whether a replay covered it (hydromancer). */
static void
downtime_check(struct inspect *in, const struct conn *c)
{
	int64_t start, d;
	char dur[32];
	const char *why = NULL;
	struct finding *f;

	if (!c->ok || !in->have_prev_ok)
		return;
	start = c->open_ns ? c->open_ns : c->first_ns;
	d = start - in->prev_ok_end_ns;
	if (in->prev_ok_idx >= 0)
		in->conns[in->prev_ok_idx].downtime_after_ns = d;
	if (in->opt.feed != FEED_HYDROMANCER)
		return;
	if (!strcmp(c->session, "connected"))
		why = "a new session (\"connected\"): no replay";
	else if (!strcmp(c->session, "reconnected") && c->replays_gap)
		why = "the replay has hasGap";
	else if (!strcmp(c->session, "reconnected") && c->replays_complete + c->replays_cut < c->replays)
		why = "the replay is incomplete";
	if (!why) {
		if (c->replays_cut)
			in->cut_downtime++;     /* covered as far as the selection goes */
		return;
	}
	inspect_fmt_dur(d, dur, sizeof(dur));
	f = finding_add(in, F_DOWNTIME, c->open_recno ? c->open_recno : c->first_recno, start, c->id,
			NULL, 0, "downtime of %s before conn %" PRIu32 " (after #%" PRIu64 ") not covered: %s",
			dur, c->id, in->prev_ok_last_recno, why);
	if (f) {
		f->dur_ns = d;
		f->recno_before = in->prev_ok_last_recno;
	}
}

/* The connection of the last record ends: close what belongs to it, check the downtime
 * before it, keep it in detail if there is room. */
static void
conn_end(struct inspect *in)
{
	struct conn *c = &in->cur_conn;
	int idx = -1, cut = in->finished && in->cut_after;

	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		if (!in->ch[i] || !in->ch[i]->rp_active || in->ch[i]->rp_conn != in->cur_id)
			continue;
		if (cut)
			replay_cut(in, in->ch[i]);
		else
			replay_end(in, in->ch[i], in->finished ? "journal ended" : "connection ended");
	}
	if (in->ping_pending && in->ping_conn == in->cur_id && cut) {
		in->ping_pending = 0;
		in->cut_pings++;                /* its pong would come after --to */
	} else if (in->ping_pending && in->ping_conn == in->cur_id) {
		in->ping_pending = 0;
		finding_add(in, F_PING_UNANSWERED, in->ping_recno, in->ping_ns, in->ping_conn, NULL, 0,
			    "ping at #%" PRIu64 " on conn %" PRIu32 " got no pong before the connection ended",
			    in->ping_recno, in->ping_conn);
	}
	downtime_check(in, c);
	if (in->nconns < INSPECT_MAX_CONNS) {
		idx = in->nconns++;
		in->conns[idx] = *c;
	} else {
		in->conns_dropped++;
	}
	if (c->ok) {
		in->have_prev_ok = 1;
		in->prev_ok_idx = idx;
		in->prev_ok_end_ns = c->close_ns ? c->close_ns : c->last_ns;
		in->prev_ok_last_recno = c->last_recno;
	}
}

static void
conn_switch(struct inspect *in, const struct journal_record *rec)
{
	int had = in->have_cur;
	uint32_t prev_id = in->cur_id;

	if (had) {
		conn_end(in);
		in->attempts_since_ok = in->cur_ok ? 0 : in->attempts_since_ok + 1;
	}
	in->have_cur = 1;
	in->cur_id = rec->conn;
	in->cur_ok = 0;
	in->conns_total++;
	{
		struct conn *c = &in->cur_conn;

		memset(c, 0, sizeof(*c));
		c->id = rec->conn;
		c->first_recno = rec->recno;
		c->first_ns = rec->wall_ns;
		c->close_code = -1;
		c->downtime_after_ns = -1;
		in->cur = c;
	}
	if (had) {
		struct reconnect r;
		int given = 0;                  /* the recorder said which attempt this is */

		memset(&r, 0, sizeof(r));
		r.from_conn = prev_id;
		r.to_conn = rec->conn;
		r.recno = rec->recno;
		r.ns = rec->wall_ns;
		r.stated_ms = r.expected_ms = -1;
		r.actual_ms = (rec->wall_ns - in->cur_last_ns) / 1000000;
		r.attempt = in->attempts_since_ok + 1;
		if (in->rc_pending) {
			r.attempt = in->rc_attempt > 0 ? in->rc_attempt : r.attempt;
			given = in->rc_attempt > 0;
			r.stated_ms = in->rc_delay_ms;
			r.actual_ms = (rec->wall_ns - in->rc_ns) / 1000000;
			in->rc_pending = 0;
		}
		if (in->opt.feed == FEED_LASERSELL && !(given || in->have_prev_ok) &&
		    in->cut_before) {
			/* failed attempts since the last established connection, before --from:
			   the attempt number, so the documented delay, is not known */
			in->cut_reconnects++;
		} else if (in->opt.feed == FEED_LASERSELL) {
			int64_t e = r.expected_ms = feed_backoff_ms(FEED_LASERSELL, (unsigned)r.attempt);

			if ((r.stated_ms >= 0 && (r.stated_ms * 10 < e * 9 || r.stated_ms * 10 > e * 11)) ||
			    r.actual_ms * 10 < e * 9 || r.actual_ms > 2 * e + 1000)
				r.off = 1;
		}
		in->rcs_total++;
		if (in->nrcs < INSPECT_MAX_CONNS)
			in->rcs[in->nrcs++] = r;
		if (r.off)
			finding_add(in, F_BACKOFF, rec->recno, rec->wall_ns, rec->conn, NULL, 0,
				    "reconnect attempt %d (conn %" PRIu32 ") came %" PRId64
				    " ms after the disconnect%s; the documented backoff is %" PRId64 " ms",
				    r.attempt, rec->conn, r.actual_ms,
				    r.stated_ms >= 0 ? " (scheduled delay given)" : "", r.expected_ms);
	}
}

/* Payloads of open/close/error records are JSON objects written by the recorder. */
static void
conn_event(struct inspect *in, const struct journal_record *rec)
{
	struct conn *c = in->cur;
	json_t *o = json_loadb((const char *)rec->payload, rec->payload_len, 0, NULL);
	const char *s;
	json_int_t v;

	if (!o || !json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	if (rec->kind == JOURNAL_OPEN) {
		in->cur_ok = 1;
		if (c) {
			c->ok = 1;
			c->open_recno = rec->recno;
			c->open_ns = rec->wall_ns;
			c->status = (int)json_integer_value(json_object_get(o, "status"));
			c->attempt = (int)json_integer_value(json_object_get(o, "attempt"));
		}
	} else if (rec->kind == JOURNAL_CLOSE) {
		const char *by = json_string_value(json_object_get(o, "by"));
		const char *reason = json_string_value(json_object_get(o, "reason"));
		json_t *jc = json_object_get(o, "code");
		int code = jc ? (int)json_integer_value(jc) : 0;
		char dur[32] = "";

		if (c) {
			c->close_recno = rec->recno;
			c->close_ns = rec->wall_ns;
			c->close_code = code;
			copy_str(c->close_reason, sizeof(c->close_reason), reason);
			copy_str(c->close_by, sizeof(c->close_by), by ? by : "unknown");
			inspect_fmt_dur(rec->wall_ns - (c->open_ns ? c->open_ns : c->first_ns), dur, sizeof(dur));
		}
		if (!by || strcmp(by, "client") != 0)
			finding_add(in, F_DISCONNECT, rec->recno, rec->wall_ns, rec->conn, NULL, 0,
				    "conn %" PRIu32 " closed by %s: code %d \"%s\"%s%s", rec->conn,
				    by ? by : "unknown", code, reason ? reason : "", *dur ? " after " : "", dur);
	} else {
		s = json_string_value(json_object_get(o, "event"));
		if (s && !strcmp(s, "reconnect")) {
			in->rc_pending = 1;
			in->rc_attempt = (int)json_integer_value(json_object_get(o, "attempt"));
			v = json_integer_value(json_object_get(o, "delay_ms"));
			in->rc_delay_ms = v;
			in->rc_ns = rec->wall_ns;
		} else {
			const char *err = json_string_value(json_object_get(o, "error"));
			const char *phase = json_string_value(json_object_get(o, "phase"));
			int status = (int)json_integer_value(json_object_get(o, "status"));
			int attempt = (int)json_integer_value(json_object_get(o, "attempt"));

			if (c) {
				copy_str(c->error, sizeof(c->error), err ? err : "error");
				copy_str(c->phase, sizeof(c->phase), phase);
				if (attempt)
					c->attempt = attempt;
			}
			char st[24] = "", at[24] = "";

			if (status)
				snprintf(st, sizeof(st), " (HTTP %d)", status);
			if (attempt)
				snprintf(at, sizeof(at), " attempt %d", attempt);
			finding_add(in, F_CONNECT_FAILED, rec->recno, rec->wall_ns, rec->conn, NULL, 0,
				    "conn %" PRIu32 "%s failed%s%s: %s%s", rec->conn, at,
				    phase ? " in " : "", phase ? phase : "", err ? err : "error", st);
		}
	}
	json_decref(o);
}

/* Buckets i and i + 1 become bucket i / 2 (the width doubles). */
static void
timeline_halve(uint64_t *v)
{
	for (int i = 0; i < INSPECT_TIMELINE / 2; i++)
		v[i] = v[2 * i] + v[2 * i + 1];
	memset(v + INSPECT_TIMELINE / 2, 0, sizeof(v[0]) * INSPECT_TIMELINE / 2);
}

/* Count messages and events at time ns, in all and in channel c (when known). Every
 * channel shares the buckets, so when the timeline widens they all do. */
static void
timeline_add(struct inspect *in, struct channel *c, int64_t ns, uint64_t msgs, uint64_t events)
{
	int64_t idx;

	if (!in->tl_start)
		in->tl_start = ns;
	if (ns < in->tl_start)
		ns = in->tl_start;
	while ((idx = (ns - in->tl_start) / in->tl_width) >= INSPECT_TIMELINE) {
		timeline_halve(in->tl_msgs);
		timeline_halve(in->tl_events);
		for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
			if (in->ch[i]) {
				timeline_halve(in->ch[i]->tl_msgs);
				timeline_halve(in->ch[i]->tl_events);
			}
		}
		in->tl_width *= 2;
	}
	in->tl_msgs[idx] += msgs;
	in->tl_events[idx] += events;
	if (c) {
		c->tl_msgs[idx] += msgs;
		c->tl_events[idx] += events;
	}
}

static void
stall_check(struct inspect *in, const struct journal_record *rec)
{
	if (in->has_last_in && in->last_in_conn == rec->conn) {
		int64_t d = rec->wall_ns - in->last_in_ns;

		if (d > in->opt.stall_ns) {
			char dur[32];
			int i;

			inspect_fmt_dur(d, dur, sizeof(dur));
			finding_add(in, F_STALL, rec->recno, rec->wall_ns, rec->conn, NULL, 0,
				    "no message for %s on conn %" PRIu32 " (#%" PRIu64 " to #%" PRIu64 ")",
				    dur, rec->conn, in->last_in_recno, rec->recno);
			if (in->nfindings && in->findings[in->nfindings - 1].type == F_STALL &&
			    in->findings[in->nfindings - 1].recno == rec->recno) {
				in->findings[in->nfindings - 1].recno_before = in->last_in_recno;
				in->findings[in->nfindings - 1].dur_ns = d;
			}
			/* keep the largest, sorted by duration */
			for (i = in->nstalls; i > 0 && in->stalls[i - 1].dur_ns < d; i--)
				if (i < INSPECT_TOP_STALLS)
					in->stalls[i] = in->stalls[i - 1];
			if (i < INSPECT_TOP_STALLS) {
				in->stalls[i] = (struct stall){ rec->recno, in->last_in_recno, rec->wall_ns, d, rec->conn };
				if (in->nstalls < INSPECT_TOP_STALLS)
					in->nstalls++;
			}
		}
	}
	in->has_last_in = 1;
	in->last_in_ns = rec->wall_ns;
	in->last_in_recno = rec->recno;
	in->last_in_conn = rec->conn;
}

/* --- events and duplicates --- */

struct ev_ctx {
	struct inspect *in;
	struct channel *c;
	const struct journal_record *rec;
	int replay;
	uint64_t dups, overlaps, first_dup_orig, first_overlap_orig;
};

/* 1 when role hash rh is in roles (the roles seen at one (time, txIndex)); else remembers
 * it (up to KEY_ROLES; beyond, a role counts as seen) and returns 0. */
static int
key_role_seen(uint64_t *roles, int *n, uint64_t rh)
{
	for (int i = 0; i < *n; i++)
		if (roles[i] == rh)
			return 1;
	if (*n == KEY_ROLES)
		return 1;
	roles[(*n)++] = rh;
	return 0;
}

static int
on_event(const struct feed_event *ev, void *ud)
{
	struct ev_ctx *x = ud;
	struct channel *c = x->c;
	int keyed = ev->key_time >= 0;
	int at_or_before;
	/* channels whose key has no role all have the empty one, 0 */
	uint64_t val, rh = ev->key_role.len ? feed_hash(ev->key_role.p, ev->key_role.len) : 0;

	c->events++;
	if (x->replay)
		c->replay_events++;
	if (!c->seen && !(c->seen = inspect_seen_new(INSPECT_EVENT_WINDOW)))
		return 0;
	at_or_before = keyed && (ev->key_time < c->max_time ||
				 (ev->key_time == c->max_time && ev->key_tx <= c->max_tx));
	if ((!keyed || at_or_before) &&
	    inspect_seen_find_or_put(c->seen, ev->hash, x->rec->recno << 1 | (uint64_t)x->replay, &val)) {
		/* the same event again: the same bytes, within the window */
		if ((int)(val & 1) != x->replay) {
			if (!x->overlaps++)
				x->first_overlap_orig = val >> 1;
			c->overlap_events++;
		} else {
			if (!x->dups++)
				x->first_dup_orig = val >> 1;
			c->dup_events++;
		}
		return 0;
	}
	/* not seen before: a distinct event (identity is the event's bytes, role included) */
	if (at_or_before) {
		int same_prev = ev->key_time == c->prev_time && ev->key_tx == c->prev_tx;
		int same_max = ev->key_time == c->max_time && ev->key_tx == c->max_tx;

		if (same_prev || same_max) {
			/* the same transaction as the previous event or as the newest one: the
			   same full key (role included) is shared; a role not seen yet in it is
			   a key of its own, neither shared nor late */
			int seen = 0;
			if (same_prev)
				seen |= key_role_seen(c->prev_roles, &c->nprev_roles, rh);
			if (same_max)
				seen |= key_role_seen(c->max_roles, &c->nmax_roles, rh);
			if (seen)
				c->shared_key_events++;
		} else {
			c->late_events++;
		}
	}
	if (keyed && !at_or_before) {
		/* a key past every key seen: a new event, nothing to look up */
		inspect_seen_put(c->seen, ev->hash, x->rec->recno << 1 | (uint64_t)x->replay);
		c->max_time = ev->key_time;
		c->max_tx = ev->key_tx;
		c->max_roles[0] = rh;
		c->nmax_roles = 1;
	}
	if (keyed && (ev->key_time != c->prev_time || ev->key_tx != c->prev_tx)) {
		c->prev_time = ev->key_time;
		c->prev_tx = ev->key_tx;
		c->prev_roles[0] = rh;
		c->nprev_roles = 1;
	}
	return 0;
}

static void
events_scan(struct inspect *in, struct channel *c, const struct journal_record *rec,
	    const struct feed_msg *m, int replay)
{
	struct ev_ctx x = { in, c, rec, replay, 0, 0, 0, 0 };
	uint64_t before = c->events;

	/* the message parsed as an object (brackets balance), but its events array does not:
	   the payload is not JSON, a finding like any other (events before the fault count) */
	if (feed_events_foreach(in->opt.feed, m, on_event, &x) < 0) {
		in->not_json++;
		c->not_json++;
		finding_add(in, F_NOT_JSON, rec->recno, rec->wall_ns, rec->conn, c->name, c->name_len,
			    "payload of %zu bytes is not JSON: its %s array is malformed (%" PRIu64
			    " event%s read before the fault)", rec->payload_len, replay ? "replay data" : "events",
			    c->events - before, c->events - before == 1 ? "" : "s");
	}
	if (x.overlaps)
		finding_add(in, F_OVERLAP, rec->recno, rec->wall_ns, rec->conn, c->name, c->name_len,
			    "%" PRIu64 " event%s of this %s %s already received %s (first at #%" PRIu64 ")",
			    x.overlaps, x.overlaps > 1 ? "s" : "", replay ? "replay chunk" : "live message",
			    x.overlaps > 1 ? "were" : "was", replay ? "live" : "in a replay",
			    x.first_overlap_orig);
	if (x.dups)
		finding_add(in, F_DUP_EVENT, rec->recno, rec->wall_ns, rec->conn, c->name, c->name_len,
			    "%" PRIu64 " event%s of this %s %s already received (first at #%" PRIu64 ")",
			    x.dups, x.dups > 1 ? "s" : "", replay ? "replay chunk" : "live message",
			    x.dups > 1 ? "were" : "was", x.first_dup_orig);
	timeline_add(in, c, rec->wall_ns, 0, c->events - before);
}

/* --- hydromancer --- */

static void
hydro_data(struct inspect *in, struct channel *c, const struct journal_record *rec,
	   const struct feed_msg *m)
{
	if (m->seq >= 0) {
		if (!c->seq_valid || c->seq_conn != rec->conn) {
			if (m->seq != 1 && !(in->cut_before && in->conns_total <= 1)) {
				uint64_t missing = m->seq > 1 ? (uint64_t)(m->seq - 1) : 0;
				struct finding *f = finding_add(in, F_SEQ_START, rec->recno, rec->wall_ns,
					rec->conn, c->name, c->name_len, "seq starts at %" PRId64 " on conn %" PRIu32
					" (expected 1): %" PRIu64 " message%s missing before #%" PRIu64,
					m->seq, rec->conn, missing, missing == 1 ? "" : "s", rec->recno);
				if (f)
					f->missing = missing;
				c->seq_missing += missing;
				in->seq_missing += missing;
			}
		} else if (m->seq > c->last_seq + 1) {
			uint64_t missing = (uint64_t)(m->seq - c->last_seq - 1);
			struct finding *f = finding_add(in, F_SEQ_GAP, rec->recno, rec->wall_ns, rec->conn,
				c->name, c->name_len, "seq gap on conn %" PRIu32 ": %" PRIu64
				" missing (seq %" PRId64 "..%" PRId64 ") between #%" PRIu64 " and #%" PRIu64,
				rec->conn, missing, c->last_seq + 1, m->seq - 1,
				c->last_seq_recno, rec->recno);
			if (f) {
				f->recno_before = c->last_seq_recno;
				f->missing = missing;
			}
			c->seq_missing += missing;
			in->seq_missing += missing;
		} else if (m->seq <= c->last_seq) {
			struct finding *f = finding_add(in, F_SEQ_BACK, rec->recno, rec->wall_ns, rec->conn,
				c->name, c->name_len, "seq went back from %" PRId64 " (#%" PRIu64 ") to %" PRId64
				" on conn %" PRIu32, c->last_seq, c->last_seq_recno, m->seq, rec->conn);
			if (f)
				f->recno_before = c->last_seq_recno;
		}
		c->seq_valid = 1;
		c->seq_conn = rec->conn;
		c->last_seq = m->seq;
		c->last_seq_recno = rec->recno;
	}
	if (m->cursor.len && m->cursor.len <= CURSOR_KEEP) {
		if (c->cursor_len &&
		    journal_cursor_cmp(m->cursor.p, m->cursor.len, c->cursor, c->cursor_len) < 0) {
			struct finding *f = finding_add(in, F_CURSOR_BACK, rec->recno, rec->wall_ns,
				rec->conn, c->name, c->name_len, "cursor went back from %.*s (#%" PRIu64
				") to %.*s", (int)(c->cursor_len > 64 ? 64 : c->cursor_len),
				(const char *)c->cursor, c->cursor_recno,
				(int)(m->cursor.len > 64 ? 64 : m->cursor.len), m->cursor.p);
			if (f)
				f->recno_before = c->cursor_recno;
		}
		memcpy(c->cursor, m->cursor.p, m->cursor.len);
		c->cursor_len = m->cursor.len;
		c->cursor_recno = rec->recno;
	}
	events_scan(in, c, rec, m, 0);
}

static void
hydro_replay(struct inspect *in, struct channel *c, const struct journal_record *rec,
	     const struct feed_msg *m)
{
	int64_t chunk = m->chunk > 0 ? m->chunk : 1;
	int64_t total = m->total_chunks > 0 ? m->total_chunks : chunk;

	c->replay_chunks++;
	if (c->rp_active && (c->rp_conn != rec->conn || chunk == 1))
		replay_end(in, c, "a new replay started");
	if (!c->rp_active) {
		c->rp_active = 1;
		c->rp_conn = rec->conn;
		c->rp_next = 1;
		c->rp_total = total;
		c->rp_has_gap = 0;
		c->rp_cut = 0;
		c->rp_first_recno = rec->recno;
		c->rp_first_ns = rec->wall_ns;
		if (chunk > 1 && in->cut_before && in->conns_total <= 1) {
			/* the selection starts within this replay: its first chunks came before
			   --from, so they are not missing; it says nothing of its connection */
			c->rp_cut = 1;
			c->rp_next = chunk;
			in->cut_replays++;
		} else if (in->cur) {
			in->cur->replays++;
		}
	}
	c->rp_last_recno = rec->recno;
	if (m->has_gap) {
		c->rp_has_gap = 1;
		if (in->cur)
			in->cur->replays_gap++;
		finding_add(in, F_REPLAY_HASGAP, rec->recno, rec->wall_ns, rec->conn, c->name, c->name_len,
			    "replay of %s on conn %" PRIu32 " has hasGap: the server's cache did not cover"
			    " the whole disconnect (%" PRId64 " events in chunk %" PRId64 ")", c->name,
			    rec->conn, m->count, chunk);
	}
	if (chunk != c->rp_next) {
		finding_add(in, F_REPLAY_INCOMPLETE, rec->recno, rec->wall_ns, rec->conn, c->name,
			    c->name_len, "replay of %s on conn %" PRIu32 ": chunk %" PRId64 " of %" PRId64
			    " arrived when chunk %" PRId64 " was expected", c->name, rec->conn, chunk, total,
			    c->rp_next);
		if (chunk > c->rp_next)
			c->rp_has_gap = 2;      /* chunks missing: never complete */
	}
	c->rp_next = chunk + 1;
	events_scan(in, c, rec, m, 1);
	if (chunk >= c->rp_total) {
		c->rp_active = 0;
		if (in->cur && c->rp_has_gap != 2 && !c->rp_cut)
			in->cur->replays_complete++;
	}
}

/* --- lasersell --- */

static struct position *pos_probe(struct inspect *in, int64_t id, int insert);

/* The table is full enough to slow probing down: keep the open positions, forget the closed
 * ones (an event for a position closed long ago is still reported, without its close). Only
 * when open positions alone fill it are new ones dropped, and counted. */
static void
pos_sweep(struct inspect *in)
{
	struct position *old = in->pos;

	in->pos = in->pos_spare;
	in->pos_spare = old;
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++)
		in->pos[i].id = -1;
	in->pos_used = 0;
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++) {
		if (old[i].id >= 0 && !old[i].closed) {
			struct position *p = pos_probe(in, old[i].id, 1);
			*p = old[i];
		}
	}
}

static struct position *
pos_probe(struct inspect *in, int64_t id, int insert)
{
	uint32_t i = (uint32_t)((uint64_t)id * 0x9e3779b97f4a7c15ULL >> 52) & (INSPECT_MAX_POSITIONS - 1);

	for (uint32_t n = 0; n < INSPECT_MAX_POSITIONS; n++, i = (i + 1) & (INSPECT_MAX_POSITIONS - 1)) {
		if (in->pos[i].id == id)
			return &in->pos[i];
		if (in->pos[i].id == -1) {
			if (!insert)
				return NULL;
			memset(&in->pos[i], 0, sizeof(in->pos[i]));
			in->pos[i].id = id;
			in->pos_used++;
			return &in->pos[i];
		}
	}
	return NULL;
}

static struct position *
pos_find(struct inspect *in, int64_t id, int insert)
{
	struct position *p = pos_probe(in, id, 0);

	if (p || !insert)
		return p;
	if (in->pos_used >= INSPECT_MAX_POSITIONS * 3 / 4)
		pos_sweep(in);
	if (in->pos_used >= INSPECT_MAX_POSITIONS * 3 / 4) {
		in->pos_dropped++;
		return NULL;
	}
	return pos_probe(in, id, 1);
}

static void
ping_sent(struct inspect *in, const struct journal_record *rec)
{
	in->pings++;
	if (in->ping_pending)
		finding_add(in, F_PING_UNANSWERED, in->ping_recno, in->ping_ns, in->ping_conn, NULL, 0,
			    "ping at #%" PRIu64 " got no pong before the next ping (#%" PRIu64 ")",
			    in->ping_recno, rec->recno);
	in->ping_pending = 1;
	in->ping_ns = rec->wall_ns;
	in->ping_recno = rec->recno;
	in->ping_conn = rec->conn;
}

static void
pong_received(struct inspect *in, const struct journal_record *rec)
{
	in->pongs++;
	if (in->ping_pending && in->ping_conn == rec->conn && rec->wall_ns >= in->ping_ns)
		inspect_hist_add(&in->rtt, (uint64_t)(rec->wall_ns - in->ping_ns));
	in->ping_pending = 0;
}

/* position_opened: a position not open yet (or closed before) opens. Returns 1 when it did. */
static int
pos_open(struct inspect *in, int64_t id, const struct journal_record *rec, int unselected)
{
	struct position *p = pos_find(in, id, 1);

	if (!p || (p->open_recno && !p->closed))
		return 0;
	p->open_recno = rec->recno;
	p->open_ns = rec->wall_ns;
	p->closed = 0;
	p->last_pnl_ns = 0;
	p->unselected = unselected;
	return 1;
}

/* A position opened or closed on a channel that --channel leaves out: followed, so that
 * the selected messages are judged against it, never reported nor counted. */
static void
lasersell_follow(struct inspect *in, const struct journal_record *rec, const struct feed_msg *m)
{
	struct position *p;

	if (m->position_id < 0)
		return;
	if (streq(m->type, "position_opened")) {
		pos_open(in, m->position_id, rec, 1);
	} else if (streq(m->type, "position_closed")) {
		p = pos_find(in, m->position_id, 0);
		if (p && !p->closed) {
			p->closed = 1;
			p->close_recno = rec->recno;
		}
	}
}

static void
lasersell_data(struct inspect *in, struct channel *c, const struct journal_record *rec,
	       const struct feed_msg *m)
{
	struct position *p;

	if (m->position_id < 0)
		return;
	if (streq(m->type, "position_opened")) {
		if (pos_open(in, m->position_id, rec, 0))
			in->pos_opened++;
		return;
	}
	p = pos_find(in, m->position_id, 0);
	if (!p && in->cut_before && in->conns_total <= 1) {
		/* opened before --from, most likely: the server announces open positions again
		   only on a new connection (position_opened after configure) */
		in->cut_position_events++;
		return;
	}
	if (!p || p->closed) {
		char closed[48] = "";

		if (p)
			snprintf(closed, sizeof(closed), " (closed at #%" PRIu64 ")", p->close_recno);
		in->pos_unknown_events++;
		finding_add(in, F_POSITION_UNKNOWN, rec->recno, rec->wall_ns, rec->conn, c->name,
			    c->name_len, "%.*s for unknown position %" PRId64 "%s", (int)m->type.len,
			    m->type.p, m->position_id, closed);
		return;
	}
	if (streq(m->type, "position_closed")) {
		p->closed = 1;
		p->close_recno = rec->recno;
		in->pos_closed++;
	} else if (streq(m->type, "pnl_update")) {
		if (p->last_pnl_ns && p->last_pnl_conn == rec->conn && rec->wall_ns >= p->last_pnl_ns) {
			int64_t d = rec->wall_ns - p->last_pnl_ns;

			inspect_hist_add(&in->pnl_gap, (uint64_t)d);
			if (in->pnl_flush_ms > 0 && d > 2 * in->pnl_flush_ms * 1000000) {
				char dur[32];

				inspect_fmt_dur(d, dur, sizeof(dur));
				struct finding *f = finding_add(in, F_PNL_LATE, rec->recno, rec->wall_ns,
					rec->conn, c->name, c->name_len, "pnl_update for position %" PRId64
					" came %s after the previous one (#%" PRIu64 "); pnl_flush_ms is %" PRId64,
					m->position_id, dur, p->last_pnl_recno, in->pnl_flush_ms);
				if (f) {
					f->recno_before = p->last_pnl_recno;
					f->dur_ns = d;
				}
			}
		}
		p->last_pnl_ns = rec->wall_ns;
		p->last_pnl_recno = rec->recno;
		p->last_pnl_conn = rec->conn;
	}
}

/* --- frames --- */


/* A control message, in either direction. */
static void
control_msg(struct inspect *in, const struct journal_record *rec, const struct feed_msg *m)
{
	if (rec->dir == JOURNAL_OUT) {
		if (in->opt.feed == FEED_LASERSELL && streq(m->type, "ping"))
			ping_sent(in, rec);
		return;
	}
	if (in->opt.feed == FEED_HYDROMANCER && (streq(m->type, "connected") || streq(m->type, "reconnected"))) {
		if (in->cur)
			copy_str(in->cur->session, sizeof(in->cur->session),
				 streq(m->type, "connected") ? "connected" : "reconnected");
	} else if (in->opt.feed == FEED_LASERSELL && streq(m->type, "hello_ok")) {
		if (in->cur)
			copy_str(in->cur->session, sizeof(in->cur->session), "hello_ok");
		if (m->pnl_flush_ms > 0)
			in->pnl_flush_ms = m->pnl_flush_ms;
	} else if (in->opt.feed == FEED_LASERSELL && streq(m->type, "pong")) {
		pong_received(in, rec);
	}
}

static void
frame(struct inspect *in, const struct journal_record *rec)
{
	struct feed_msg m;
	struct channel *c;
	const char *name;
	size_t name_len;
	uint64_t h, val;

	if (rec->kind == JOURNAL_TEXT)
		feed_classify(in->opt.feed, rec->payload, rec->payload_len, &m);
	else {
		memset(&m, 0, sizeof(m));
		m.cls = FEED_MSG_OTHER;
		m.seq = m.chunk = m.total_chunks = m.count = m.position_id = -1;
	}
	name = rec->channel_len ? rec->channel : m.channel.p;
	name_len = rec->channel_len ? rec->channel_len : m.channel.len;
	/* The session's control messages carry no channel but say what the connection is
	 * (connected or resumed, the limits, round trips): read whatever channel is selected. */
	if (m.cls == FEED_MSG_CONTROL)
		control_msg(in, rec, &m);
	if (in->opt.channel && (strlen(in->opt.channel) != name_len ||
				memcmp(in->opt.channel, name, name_len))) {
		/* lasersell channels are message types, and positions span them */
		if (in->opt.feed == FEED_LASERSELL && rec->dir == JOURNAL_IN && m.cls == FEED_MSG_DATA)
			lasersell_follow(in, rec, &m);
		return;
	}
	if (rec->dir == JOURNAL_OUT) {
		in->out_frames++;
		return;
	}
	in->in_frames++;
	/* a stall is the feed going quiet: heartbeats and other control frames do not end it */
	if (m.cls != FEED_MSG_CONTROL)
		stall_check(in, rec);
	c = channel_get(in, name ? name : "", name ? name_len : 0);
	timeline_add(in, c, rec->wall_ns, 1, 0);
	if (m.cls == FEED_MSG_NOT_JSON) {
		in->not_json++;
		if (in->opt.feed != FEED_RAW)
			finding_add(in, F_NOT_JSON, rec->recno, rec->wall_ns, rec->conn, name, name_len,
				    "payload of %zu bytes is not a JSON object", rec->payload_len);
		else
			in->count[F_NOT_JSON]++;
	} else if (m.cls == FEED_MSG_CONTROL) {
		in->control++;
	} else if (m.cls == FEED_MSG_OTHER) {
		in->other++;
	}
	if (!c)
		return;
	c->messages++;
	c->bytes += rec->payload_len;
	if (!c->first_recno) {
		c->first_recno = rec->recno;
		c->first_ns = rec->wall_ns;
	}
	if (m.cls == FEED_MSG_NOT_JSON)
		c->not_json++;
	if (c->has_last && c->last_conn == rec->conn && rec->wall_ns >= c->last_ns)
		inspect_hist_add(&c->gaps, (uint64_t)(rec->wall_ns - c->last_ns));
	c->has_last = 1;
	c->last_conn = rec->conn;
	c->last_ns = rec->wall_ns;
	c->last_recno = rec->recno;
	if (rec->wall_ns / 1000000000 != c->sec || c->sec_count == 0) {
		c->sec = rec->wall_ns / 1000000000;
		c->sec_count = 0;
	}
	if (++c->sec_count > c->peak_per_sec)
		c->peak_per_sec = c->sec_count;

	/* an exact duplicate frame is counted once, and nothing else is read from it */
	if (m.cls != FEED_MSG_CONTROL && rec->payload_len) {
		/* within one connection: lasersell re-emits position_opened after a reconnect,
		   and hydromancer's seq restarts, so repeats across connections are not frames
		   sent twice (repeated events are found by the event rules) */
		h = feed_hash(rec->payload, rec->payload_len) ^ ((uint64_t)rec->conn << 8 | rec->kind) *
			0x9e3779b97f4a7c15ULL;
		if (inspect_seen_find_or_put(in->frames, h, rec->recno, &val)) {
			c->dup_frames++;
			struct finding *f = finding_add(in, F_DUP_FRAME, rec->recno, rec->wall_ns, rec->conn,
				name, name_len, "exact duplicate of frame #%" PRIu64 " (%zu bytes)", val,
				rec->payload_len);
			if (f)
				f->recno_before = val;
			return;
		}
	}
	if (in->opt.feed == FEED_HYDROMANCER) {
		if (m.cls == FEED_MSG_DATA)
			hydro_data(in, c, rec, &m);
		else if (m.cls == FEED_MSG_REPLAY)
			hydro_replay(in, c, rec, &m);
	} else if (in->opt.feed == FEED_LASERSELL && m.cls == FEED_MSG_DATA) {
		lasersell_data(in, c, rec, &m);
	}
}

void
inspect_record(struct inspect *in, const struct journal_record *rec)
{
	if (!in->records) {
		in->first_recno = rec->recno;
		in->first_ns = rec->wall_ns;
	}
	in->records++;
	in->last_recno = rec->recno;
	in->last_ns = rec->wall_ns;
	in->bytes += rec->payload_len;
	if (rec->kind <= JOURNAL_KIND_MAX)
		in->by_kind[rec->kind]++;
	if (!in->have_cur || rec->conn != in->cur_id)
		conn_switch(in, rec);
	if (in->cur) {
		in->cur->last_recno = rec->recno;
		in->cur->last_ns = rec->wall_ns;
		in->cur->records++;
	}
	in->cur_last_ns = rec->wall_ns;
	in->cur_last_recno = rec->recno;

	switch (rec->kind) {
	case JOURNAL_OPEN:
	case JOURNAL_CLOSE:
	case JOURNAL_ERROR:
		conn_event(in, rec);
		break;
	case JOURNAL_PING:
		if (rec->dir == JOURNAL_OUT)
			ping_sent(in, rec);
		else
			in->server_pings++;
		break;
	case JOURNAL_PONG:
		if (rec->dir == JOURNAL_IN)
			pong_received(in, rec);
		break;
	default:
		in->cur_ok = 1;
		if (in->cur)
			in->cur->ok = 1;
		frame(in, rec);
		break;
	}
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->recno != y->recno)
		return x->recno < y->recno ? -1 : 1;
	return x->type - y->type;
}

/* Forget the findings of one type (and their count). */
static void
findings_drop(struct inspect *in, int type)
{
	int n = 0;

	for (int i = 0; i < in->nfindings; i++)
		if (in->findings[i].type != type)
			in->findings[n++] = in->findings[i];
	in->nfindings = n;
	in->count[type] = in->kept[type] = 0;
}

void
inspect_finish(struct inspect *in)
{
	if (in->finished)
		return;
	in->finished = 1;
	if (in->have_cur)
		conn_end(in);
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		if (in->ch[i] && in->ch[i]->rp_active) {
			if (in->cut_after)
				replay_cut(in, in->ch[i]);
			else
				replay_end(in, in->ch[i], "journal ended");
		}
	}
	/* a selected channel that never had a message: its downtime says nothing about it */
	if (in->opt.channel && !in->in_frames)
		findings_drop(in, F_DOWNTIME);
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++) {
		struct position *p = &in->pos[i];

		if (p->id >= 0 && p->open_recno && !p->closed && !p->unselected) {
			char t[40];

			/* its close may lie after --to, or on another connection than --conn */
			if (in->cut_after || in->cut_conns) {
				in->cut_positions_open++;
				continue;
			}

			text_format_time(p->open_ns, t, sizeof(t));
			finding_add(in, F_POSITION_OPEN, p->open_recno, p->open_ns, 0, NULL, 0,
				    "position %" PRId64 " opened at #%" PRIu64 " (%s) was never closed",
				    p->id, p->open_recno, t);
		}
	}
	qsort(in->findings, (size_t)in->nfindings, sizeof(in->findings[0]), finding_cmp);
}

unsigned
inspect_classes(const struct inspect *in)
{
	unsigned m = 0;

	for (int t = 0; t < F_COUNT; t++) {
		if (!in->count[t])
			continue;
		if (t == F_NOT_JSON && in->opt.feed == FEED_RAW)
			continue;
		m |= inspect_finding_info[t].cls;
	}
	return m;
}

void
inspect_set_corruption(struct inspect *in, int err, uint32_t segment, uint64_t offset,
		       const char *detail)
{
	in->corrupt = 1;
	in->corrupt_err = err;
	in->corrupt_segment = segment;
	in->corrupt_offset = offset;
	copy_str(in->corrupt_detail, sizeof(in->corrupt_detail), detail);
}

/* 1 when record 'recno' can be read (the reader is left anywhere). */
static int
readable(struct journal_reader *r, uint64_t recno)
{
	struct journal_record rec;

	return journal_reader_seek_recno(r, recno) == 0 && journal_reader_next(r, &rec) == 0 &&
	       rec.recno == recno;
}

/* After a corrupt block at record 'bad': the first readable record past it, found by
 * doubling steps then bisection (each probe reads one block through the index), or 0. */
static uint64_t
next_readable(struct journal_reader *r, uint64_t bad, uint64_t last)
{
	uint64_t lo = bad, hi = 0, step = 1;

	while (bad + step <= last) {
		if (readable(r, bad + step)) {
			hi = bad + step;
			break;
		}
		lo = bad + step;
		step *= 2;
	}
	if (!hi) {
		if (lo < last && readable(r, last))
			hi = last;
		else
			return 0;
	}
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;

		if (readable(r, mid))
			hi = mid;
		else
			lo = mid;
	}
	return hi;
}

/* The reader met the end of the segments at record 'first' - 1. The journal may hold more:
 * records its statistics count (taken before reading), or that its index lists but the
 * segments do not hold (a segment cut short: an interrupted copy, a full disk; the
 * statistics then say index_stale and stale_detail where the index points). Then the end is
 * a corruption: its records are named (the last one when the statistics know it), and 1 is
 * returned. */
static int
tail_check(struct inspect *in, struct journal *j, struct journal_reader *r,
	   const struct journal_stats *st, const char *stale_detail, uint64_t first)
{
	uint64_t last = 0;
	const char *jd = stale_detail;
	char d[sizeof(in->corrupt_detail)], upto[48] = "";
	int rc;

	if (st && st->last_recno >= first) {
		last = st->last_recno;
		snprintf(upto, sizeof(upto), " up to #%" PRIu64, last);
	} else if (!st || !st->index_stale) {
		/* no statistics to go by: ask the index whether it lists the next record */
		rc = journal_reader_seek_recno(r, first);
		if (rc == 0 || rc == JOURNAL_ENOTFOUND)
			return 0;       /* readable now (a writer appends), or nothing more */
		jd = journal_last_detail(j);
	}
	snprintf(d, sizeof(d), "the segments end after record #%" PRIu64 ", but the journal lists records%s"
		 " past it: they cannot be read (a segment cut short?)%s%s", first - 1, upto,
		 *jd ? "; " : "", jd);
	if (!in->corrupt)
		inspect_set_corruption(in, JOURNAL_ECORRUPT, 0, 0, d);
	if (!in->corrupt_ranges) {
		in->corrupt_first = first;
		in->corrupt_last = last;
	}
	in->corrupt_ranges++;
	if (last)
		in->corrupt_records += last - first + 1;
	else
		in->corrupt_tail_from = first;
	return 1;
}

int
inspect_run(struct inspect *in, struct journal *j)
{
	struct journal_reader *r;
	struct journal_record rec;
	struct journal_stats st;
	uint64_t last_read = 0;
	int err, first_err = 0, have_st, reached_to = 0, skipped_before = 0, skipped_after = 0;
	char stale_detail[256] = "";

	/* before reading: a writer may append meanwhile, and what it adds is not missing */
	have_st = journal_stats(j, &st) == 0;
	if (have_st && st.index_stale)
		copy_str(stale_detail, sizeof(stale_detail), journal_last_detail(j));
	if ((err = journal_reader_open(j, &r)))
		return err;
	if (in->opt.from_ns) {
		err = journal_reader_seek_time(r, in->opt.from_ns);
		if (err == JOURNAL_ENOTFOUND) {
			journal_reader_close(r);
			inspect_finish(in);
			return 0;
		}
	}
	for (;;) {
		while (!err && (err = journal_reader_next(r, &rec)) == 0) {
			/* a --from at or before the first record cuts nothing */
			if (!last_read && in->opt.from_ns && have_st && rec.recno <= st.first_recno)
				in->cut_before = 0;
			last_read = rec.recno;
			if (in->opt.to_ns && rec.wall_ns >= in->opt.to_ns) {
				reached_to = 1;
				break;
			}
			if (in->opt.conn_set && rec.conn != in->opt.conn) {
				if (in->records)
					skipped_after = 1;
				else
					skipped_before = 1;
				continue;
			}
			inspect_record(in, &rec);
		}
		if (err == JOURNAL_EOF || err == 0)
			break;
		/* a corrupt block: name it, then go on with what can still be read after it */
		if (!first_err) {
			uint32_t seg = 0;
			uint64_t off = 0;

			first_err = err;
			journal_reader_error_offset(r, &seg, &off);
			inspect_set_corruption(in, err, seg, off, journal_last_detail(j));
		}
		if (err != JOURNAL_ECORRUPT || !have_st || !st.last_recno)
			break;
		{
			uint64_t bad = last_read ? last_read + 1 : st.first_recno;
			uint64_t next = next_readable(r, bad, st.last_recno);
			uint64_t upto = next ? next - 1 : st.last_recno;

			if (bad > upto)
				break;
			in->corrupt_ranges++;
			in->corrupt_records += upto - bad + 1;
			if (in->corrupt_ranges == 1) {
				in->corrupt_first = bad;
				in->corrupt_last = upto;
			}
			if (!next || journal_reader_seek_recno(r, next))
				break;
			last_read = next - 1;
			err = 0;
		}
	}
	/* the end of the segments is not always the end of the journal (not looked for when
	   --to stopped the pass before it) */
	if (err == JOURNAL_EOF && !reached_to &&
	    tail_check(in, j, r, have_st ? &st : NULL, stale_detail,
		       last_read ? last_read + 1 : have_st && st.first_recno ? st.first_recno : 1) &&
	    !first_err)
		/* the index lists blocks the segments lack: JOURNAL_EINDEX, as for the other readers */
		first_err = have_st && st.index_stale ? JOURNAL_EINDEX : JOURNAL_ECORRUPT;
	journal_reader_close(r);
	/* a --to past the last record, a --conn alone in the journal: nothing cut */
	if (!reached_to && !first_err)
		in->cut_after = 0;
	if (!first_err) {
		in->cut_conns = skipped_after;
		in->cut_conns_before = skipped_before;
	}
	inspect_finish(in);
	return first_err;
}
