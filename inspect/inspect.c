/* inspect.c - the streaming pass: each record to the concern it belongs to (connections,
 * gaps, duplicates, timing), and to the feed's inspect rules (feeds/feed_inspect.h) through
 * the host API (inspect/inspect_host.h) */
#include "inspect/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- the host: what the feed's rules may ask of the inspection --- */

static void
host_finding(void *ud, int type, const struct inspect_at *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inspect_vfinding(ud, type, at, fmt, ap);
	va_end(ap);
}

static int
host_cut_start(void *ud)
{
	return inspect_cut_start(ud);
}

static int
host_cut_end(void *ud)
{
	const struct inspect *in = ud;

	return in->cut_after || in->cut_conns;
}

static void
host_cut(void *ud, enum inspect_cut what)
{
	struct inspect *in = ud;

	if (what == INSPECT_CUT_POSITIONS_OPEN)
		in->cut_positions_open++;
	else if (what == INSPECT_CUT_POSITION_EVENTS)
		in->cut_position_events++;
}

static uint64_t
host_count(void *ud, int type)
{
	const struct inspect *in = ud;

	return type >= 0 && type < F_COUNT ? in->count[type] : 0;
}

static void
host_pings(void *ud, struct inspect_pings *out)
{
	const struct inspect *in = ud;

	out->pings = in->pings;
	out->pongs = in->pongs;
	out->rtt = &in->rtt;
}

int
inspect_new(const struct inspect_options *opt, struct inspect **out)
{
	const struct feed *feed = opt->feed ? opt->feed : &feed_raw;
	struct inspect *in;

	*out = NULL;
	if (!feed || !feed->inspect)
		return EINVAL;
	if (!(in = calloc(1, sizeof(*in))))
		return ENOMEM;
	in->opt = *opt;
	in->ops = feed->inspect;
	in->host =
		(struct inspect_host){ in,         host_finding, host_cut_start,  host_cut_end,     host_cut,
				       host_count, host_pings,   inspect_fmt_dur, inspect_json_hist };
	if (in->opt.stall_ns <= 0)
		in->opt.stall_ns = 5 * (int64_t)1000000000;
	if (opt->channel) {
		snprintf(in->channel_filter, sizeof(in->channel_filter), "%s", opt->channel);
		in->opt.channel = in->channel_filter;
	}
	in->findings = calloc((size_t)F_COUNT * INSPECT_KEEP_FINDINGS, sizeof(struct finding));
	in->frames = inspect_seen_new(INSPECT_FRAME_WINDOW);
	if (in->ops->state_new)
		in->feed_state = in->ops->state_new(feed);
	if (!in->findings || !in->frames || (in->ops->state_new && !in->feed_state)) {
		inspect_free(in);
		return ENOMEM;
	}
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
			for (int k = 0; k < INSPECT_LANES - 1; k++)
				free(in->ch[i]->lx[k]);
			free(in->ch[i]);
		}
	}
	if (in->ops->state_free)
		in->ops->state_free(in->feed_state);
	inspect_seen_free(in->frames);
	inspect_recorders_free(in);
	free(in->findings);
	free(in);
}

struct inspect_rec
inspect_rec_of(const struct journal_record *rec)
{
	return (struct inspect_rec){ rec->recno,   rec->wall_ns,    rec->conn, rec->dir == JOURNAL_OUT,
				     rec->payload, rec->payload_len };
}

struct chlane *
inspect_chlane(struct channel *c, int lane)
{
	if (lane <= 0 || lane >= INSPECT_LANES)
		return &c->l0;
	if (!c->lx[lane - 1])
		c->lx[lane - 1] = calloc(1, sizeof(struct chlane));
	return c->lx[lane - 1];
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

/* --- frames --- */

/* A control message, in either direction: what the feed says of the session (received)
 * and of JSON pings. */
static void
control_msg(struct inspect *in, const struct journal_record *rec, const struct feed_msg *m)
{
	struct inspect_rec r = inspect_rec_of(rec);
	const char *kind = NULL;
	int ping = in->ops->ping ? in->ops->ping(in->feed_state, &r, m) : FEED_PING_NONE;
	int session;

	if (ping == FEED_PING_SENT && r.out)
		inspect_ping_sent(in, rec);
	else if (ping == FEED_PONG_RECEIVED && !r.out)
		inspect_pong_received(in, rec);
	if (r.out || !in->ops->session)
		return;
	session = in->ops->session(in->feed_state, &r, m, &kind);
	if (session != FEED_SESSION_NONE && in->cur) {
		snprintf(in->cur->session, sizeof(in->cur->session), "%s", kind ? kind : "");
		in->cur->session_kind = session;
	}
}

static void
classify(struct inspect *in, const struct journal_record *rec, struct feed_msg *m)
{
	if (rec->kind == JOURNAL_TEXT) {
		feed_classify(in->opt.feed, rec->payload, rec->payload_len, m);
		return;
	}
	feed_msg_init(m);
	m->cls = FEED_MSG_OTHER;
}

/* The counts of a received message by class. */
static void
class_count_msg(struct inspect *in, struct channel *c, const struct journal_record *rec,
		const struct feed_msg *m, const char *name, size_t name_len)
{
	struct inspect_at at = { rec->recno, 0, rec->wall_ns, 0, rec->conn, name, name_len };

	if (m->cls == FEED_MSG_NOT_JSON) {
		in->not_json++;
		if (c)
			c->not_json++;
		if (in->ops->not_json_is_finding)
			inspect_finding(in, F_NOT_JSON, &at, "payload of %zu bytes is not a JSON object",
					rec->payload_len);
		else
			in->count[F_NOT_JSON]++;
	} else if (m->cls == FEED_MSG_CONTROL) {
		in->control++;
	} else if (m->cls == FEED_MSG_OTHER) {
		in->other++;
	}
}

/* The rules of a received data message or replay chunk. */
static void
data_msg(struct inspect *in, struct channel *c, const struct journal_record *rec, const struct feed_msg *m)
{
	struct inspect_rec r = inspect_rec_of(rec);
	struct feed_str ch = { c->name, c->name_len };

	if (m->cls == FEED_MSG_REPLAY) {
		inspect_replay_chunk(in, c, rec, m);
		return;
	}
	if (m->cls != FEED_MSG_DATA)
		return;
	inspect_seq_check(in, c, rec, m);
	inspect_cursor_check(in, c, rec, m);
	inspect_events_scan(in, c, rec, m, 0);
	if (in->ops->data)
		in->ops->data(in->feed_state, &in->host, &r, ch, m, 1);
}

static int
channel_selected(const struct inspect *in, const char *name, size_t name_len)
{
	return !in->opt.channel ||
		(strlen(in->opt.channel) == name_len && !memcmp(in->opt.channel, name, name_len));
}

static void
frame(struct inspect *in, const struct journal_record *rec)
{
	struct feed_msg m;
	struct channel *c;
	const char *name;
	size_t name_len;

	classify(in, rec, &m);
	name = rec->channel_len ? rec->channel : m.channel.p;
	name_len = rec->channel_len ? rec->channel_len : m.channel.len;
	/* The session's control messages carry no channel but say what the connection is
	 * (new or resumed, the limits, round trips): read whatever channel is selected. */
	if (m.cls == FEED_MSG_CONTROL)
		control_msg(in, rec, &m);
	if (!channel_selected(in, name, name_len)) {
		/* the feed may follow state that spans channels */
		if (in->ops->data && rec->dir == JOURNAL_IN && m.cls == FEED_MSG_DATA) {
			struct inspect_rec r = inspect_rec_of(rec);

			in->ops->data(in->feed_state, &in->host, &r, (struct feed_str){ name, name_len }, &m,
				      0);
		}
		return;
	}
	if (rec->dir == JOURNAL_OUT) {
		in->out_frames++;
		return;
	}
	in->in_frames++;
	/* a data message, for the recorders: not the feed's heartbeats and session messages */
	if ((rec->kind == JOURNAL_TEXT || rec->kind == JOURNAL_BINARY) && m.cls != FEED_MSG_CONTROL)
		in->rec_data = 1;
	/* a stall is the feed going quiet: heartbeats and other control frames do not end it */
	if (m.cls != FEED_MSG_CONTROL)
		inspect_stall_check(in, rec);
	c = channel_get(in, name ? name : "", name ? name_len : 0);
	inspect_timeline_add(in, c, rec->wall_ns, 1, 0);
	class_count_msg(in, c, rec, &m, name, name_len);
	if (!c)
		return;
	inspect_channel_arrival(c, inspect_chlane(c, in->lane), rec);
	/* an exact duplicate frame is counted once, and nothing else is read from it */
	if (m.cls != FEED_MSG_CONTROL && inspect_frame_dup(in, c, rec, name, name_len))
		return;
	data_msg(in, c, rec, &m);
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
	in->rec_data = 0;
	if (rec->kind <= JOURNAL_KIND_MAX)
		in->by_kind[rec->kind]++;
	/* the timeline of the record's recorder */
	inspect_lane_enter(in, inspect_recorder_index(in, rec->conn) + 1);
	if (!in->ln->have_cur || rec->conn != in->ln->cur_id)
		inspect_conn_switch(in, rec);
	if (in->cur) {
		in->cur->last_recno = rec->recno;
		in->cur->last_ns = rec->wall_ns;
		in->cur->records++;
	}
	in->ln->cur_last_ns = rec->wall_ns;
	in->ln->cur_last_recno = rec->recno;
	in->ln->cur_last_others = inspect_others(in);

	switch (rec->kind) {
	case JOURNAL_OPEN:
	case JOURNAL_CLOSE:
	case JOURNAL_ERROR: inspect_conn_event(in, rec); break;
	case JOURNAL_PING:
		if (rec->dir == JOURNAL_OUT)
			inspect_ping_sent(in, rec);
		else
			in->server_pings++;
		break;
	case JOURNAL_PONG:
		if (rec->dir == JOURNAL_IN)
			inspect_pong_received(in, rec);
		break;
	default:
		in->ln->cur_ok = 1;
		if (in->cur)
			in->cur->ok = 1;
		frame(in, rec);
		break;
	}
	if (in->rec_data) {
		in->ln->data++;
		if (in->lane)
			in->data_known++;
	}
	inspect_recorders_record(in, rec, in->rec_data);
	inspect_event_flush(in);
}

static int
conn_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct conn *)a)->first_recno, y = ((const struct conn *)b)->first_recno;

	return x < y ? -1 : x > y;
}

void
inspect_finish(struct inspect *in)
{
	if (in->finished)
		return;
	in->finished = 1;
	inspect_event_flush(in);
	/* each recorder's last connection, and replays still going */
	for (int k = 0; k < INSPECT_LANES; k++) {
		if (!in->lanes[k].have_cur)
			continue;
		inspect_lane_enter(in, k);
		inspect_conn_end(in);
		for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
			struct chlane *l = inspect_chlane_find(in->ch[i], k);

			if (!l || !l->rp_active)
				continue;
			if (in->cut_after)
				inspect_replay_cut(in, l);
			else
				inspect_replay_end(in, in->ch[i], l, "journal ended");
		}
	}
	/* the connections in journal order (those of several recorders end out of it) */
	qsort(in->conns, (size_t)in->nconns, sizeof(in->conns[0]), conn_cmp);
	/* a selected channel that never had a message: its downtime says nothing about it */
	if (in->opt.channel && !in->in_frames)
		inspect_findings_drop(in, F_DOWNTIME);
	if (in->ops->finish)
		in->ops->finish(in->feed_state, &in->host);
	inspect_event_flush(in);
	inspect_recorders_finish(in);
	inspect_event_flush(in);
	inspect_findings_sort(in);
}
