/* internal.h - the state of one inspection, shared by the files of inspect/: the pass
 * (inspect.c), its concerns (conns.c, gaps.c, dups.c, timing.c, findings.c), the reading of
 * the journal (run.c) and the report (report_text.c, report_json.c). What depends on the
 * feed is asked of its inspect half (feeds/feed_inspect.h, in->ops). */
#ifndef WSTAPE_INSPECT_INTERNAL_H
#define WSTAPE_INSPECT_INTERNAL_H

#include "feeds/feed_inspect.h"
#include "util/hist.h"
#include "inspect/inspect.h"
#include "inspect/inspect_host.h"
#include "inspect/seen.h"

#include <stdarg.h>

struct finding_info {
	const char *name;
	unsigned cls;
};
extern const struct finding_info inspect_finding_info[F_COUNT];

struct finding {
	int type;
	uint64_t recno, recno_before; /* recno_before: the record before the finding, or 0 */
	int64_t ns;
	int64_t dur_ns; /* stalls, downtime, late intervals; 0 otherwise */
	uint32_t conn;
	char channel[48];
	uint64_t missing; /* seq_gap, seq_start: messages the seq numbers skip */
	char msg[200];
};

#define CH_NAME 64
#define INSPECT_TIMELINE 60 /* buckets of the timeline */
#define KEY_ROLES 4
#define CURSOR_KEEP JOURNAL_MAX_CURSOR

#define INSPECT_MAX_RECORDERS 64 /* more are not told apart: their connections are unknown */
#define INSPECT_LANES (INSPECT_MAX_RECORDERS + 1) /* lane 0: connections of no known recorder */

/* The state of a channel that belongs to one connection, kept per recorder (a recorder's
 * connections follow one another; in a merged journal they interleave with the others'). */
struct chlane {
	/* inter-arrival */
	uint32_t last_conn; /* conn of last_ns */
	int has_last;
	int64_t last_ns;
	/* seq, per connection */
	uint32_t seq_conn;
	int seq_valid;
	int64_t last_seq;
	uint64_t last_seq_recno;
	/* live cursor */
	uint8_t cursor[CURSOR_KEEP];
	size_t cursor_len;
	uint64_t cursor_recno;
	/* replay in the current connection */
	uint32_t rp_conn;
	int rp_active, rp_has_gap;
	int rp_cut; /* begun before --from: not counted as a replay of its conn */
	int64_t rp_next, rp_total;
	uint64_t rp_first_recno, rp_last_recno;
	int64_t rp_first_ns;
};

struct channel {
	char name[CH_NAME];
	size_t name_len;
	uint64_t messages, events, replay_chunks, replay_events, bytes, dup_events, overlap_events,
		dup_frames, shared_key_events, late_events, not_json;
	uint64_t seq_missing; /* messages skipped by seq (seq_gap and seq_start) */
	uint64_t first_recno, last_recno;
	int64_t first_ns, last_ns;
	/* rate: messages in the current whole second, the peak */
	int64_t sec;
	uint64_t sec_count, peak_per_sec;
	struct hist gaps; /* inter-arrival within one connection */
	/* this channel's part of the timeline (same buckets as the inspection's) */
	uint64_t tl_msgs[INSPECT_TIMELINE], tl_events[INSPECT_TIMELINE];
	/* what follows the current connection, per recorder (struct lane): l0 for lane 0,
	   lx[i - 1] for lane i, made when the lane first has a message of the channel */
	struct chlane l0;
	struct chlane *lx[INSPECT_LANES - 1];
	/* dedup */
	struct inspect_seen *seen;
	int64_t max_time, max_tx;
	uint64_t prev_hash;
	int64_t prev_time, prev_tx;
	/* roles seen at (prev_time, prev_tx): ledger events key on (time, txIndex, role), so
	   two roles of one transaction are two keys, not one key shared */
	uint64_t prev_roles[KEY_ROLES];
	int nprev_roles;
	/* the same for (max_time, max_tx), the newest transaction: an event of it can follow
	   one of an older transaction */
	uint64_t max_roles[KEY_ROLES];
	int nmax_roles;
};

#define RECORDER_ID_MAX 64 /* JS_MAX_RECORDER (jetstream/jetstream.h) */

struct conn {
	uint32_t id;
	uint64_t first_recno, last_recno, records;
	int64_t first_ns, last_ns;
	uint64_t open_recno, close_recno;
	int64_t open_ns, close_ns;
	int status; /* HTTP status of the open, 0 when unknown */
	int close_code; /* -1 when no close record */
	char close_reason[64];
	char close_by[12];
	char error[80]; /* the last error record of this attempt */
	char phase[16];
	char recorder[RECORDER_ID_MAX + 1]; /* who received it (META recorder.<conn>); "" unknown */
	int attempt; /* from open/error payloads; 0 unknown */
	char session[16]; /* the feed's name of the session's kind */
	int session_kind; /* enum feed_session_kind */
	int replays, replays_complete, replays_gap;
	int replays_cut; /* still going at --to: their end is not in the selection */
	int64_t downtime_after_ns; /* -1: none (last connection) */
	int ok; /* an open record or any frame: a session */
	uint64_t others_at_start; /* data messages of other recorders before it (lane.others) */
};

struct reconnect {
	uint32_t from_conn, to_conn;
	uint64_t recno; /* first record of the new attempt */
	int64_t ns;
	int attempt;
	int64_t stated_ms, expected_ms, actual_ms;
	int off; /* not within the feed's documented backoff */
};

struct stall {
	uint64_t recno, recno_before;
	int64_t ns, dur_ns;
	uint32_t conn;
};

/* The connection timeline of one recorder: its connections follow one another (in its own
 * journal; in a merged one they interleave with the other recorders'), so the current
 * connection, the last established one, the attempts since, the reconnect scheduled and the
 * ping awaiting its pong are kept per recorder. Lane i + 1: recorder i of the recorders
 * (struct inspect_recorders); lane 0: connections of no known recorder, so every
 * connection of a journal without recorders. */
struct lane {
	struct conn cur_conn; /* its connection of the last record, while it lasts */
	int have_cur;
	uint32_t cur_id;
	int cur_ok;
	uint64_t conns; /* its connections so far */
	int attempts_since_ok;
	/* the last connection that was established: downtime is checked when the next one
	   ends (then its session and replays are known), whatever the number of attempts */
	int have_prev_ok;
	int prev_ok_idx; /* its index in conns[], or -1 when not kept in detail */
	int64_t prev_ok_end_ns;
	uint64_t prev_ok_last_recno;
	uint64_t prev_ok_others; /* others' data messages at its last record */
	int64_t cur_last_ns;
	uint64_t cur_last_recno;
	uint64_t cur_last_others; /* others' data messages at its last record */
	/* the last "reconnect scheduled" event */
	int rc_pending, rc_attempt;
	int64_t rc_delay_ms, rc_ns;
	/* the last ping sent, until its pong */
	int ping_pending;
	int64_t ping_ns;
	uint64_t ping_recno;
	uint32_t ping_conn;
	uint64_t data; /* its data messages (of lanes > 0: counted in data_known) */
};

/* --- the recorders of a merged journal (recorders.c) --- */
#define RECORDER_CONNS 4096 /* connections followed; later ones have no recorder */
#define RECORDER_SPANS 100 /* uncovered spans kept per recorder (all are counted) */
#define RECORDER_FILLERS 16 /* connections kept per span; more are summed apart */

/* a connection of another recorder that delivered data messages in a span */
struct rc_fill {
	uint32_t conn;
	int rec; /* its recorder */
	uint64_t messages;
};

/* a span in which a recorder had no connection, and who filled it */
struct rc_span {
	int64_t from_ns, to_ns;
	uint64_t recno_before, recno; /* its recorder's last record before it (0: none), the
					 record that ends it */
	uint32_t conn; /* the connection whose first data message ends it (0: the journal's end) */
	struct rc_fill fill[RECORDER_FILLERS];
	int nfill;
	uint64_t more_messages; /* of connections beyond RECORDER_FILLERS */
};

struct recorder {
	char id[RECORDER_ID_MAX + 1];
	uint64_t conns, messages;
	/* covered until cov_ns (its record cov_recno): the end of the last of its
	   connections that delivered a data message, as far as read */
	int has_cov;
	int64_t cov_ns;
	uint64_t cov_recno;
	/* data messages of other recorders' connections since cov_ns (a span, if one of its
	   connections delivers its first data message next or the journal ends) */
	struct rc_span pend;
	struct rc_span spans[RECORDER_SPANS];
	int nspans;
	uint64_t spans_total, unfilled_total;
};

/* a connection as the recorders see it */
struct rc_conn {
	uint32_t id;
	int rec; /* index in recorders[], -1 unknown */
	int has_data;
	uint64_t messages;
};

struct inspect_recorders {
	struct recorder *r[INSPECT_MAX_RECORDERS];
	int n;
	uint64_t recorders_dropped; /* ids beyond INSPECT_MAX_RECORDERS */
	struct rc_conn conns[RECORDER_CONNS]; /* in order of appearance */
	int nconns;
	uint64_t conns_dropped;
	uint16_t slot[2 * RECORDER_CONNS]; /* hash of conn ids: index + 1, 0 free */
	int last; /* the connection of the last record, -1 none */
	int64_t min_span_ns; /* spans shorter than this are ignored */
	int have_data;
	int64_t first_data_ns, last_data_ns;
	uint64_t last_data_recno;
	char tmp[RECORDER_ID_MAX + 1];
	/* inspect_recorder_index of a connection not followed: the last one asked */
	int idx_valid, idx_rec;
	uint32_t idx_conn;
};

struct inspect {
	struct inspect_options opt;
	char channel_filter[CH_NAME];
	/* the feed's inspect rules, their state, and what inspect offers them */
	const struct feed_inspect_ops *ops;
	void *feed_state;
	struct inspect_host host;

	uint64_t records, first_recno, last_recno, bytes, in_frames, out_frames;
	uint64_t by_kind[JOURNAL_KIND_MAX + 1];
	uint64_t not_json, control, other;
	int64_t first_ns, last_ns;

	struct channel *ch[INSPECT_MAX_CHANNELS + 1]; /* the last one: "(other)" */
	int nch;

	struct conn conns[INSPECT_MAX_CONNS]; /* the first ones to end, in detail; sorted by
						 their first record at the end */
	int nconns;
	uint64_t conns_total, conns_dropped;
	/* the connection timelines, one per recorder; the current record's */
	struct lane lanes[INSPECT_LANES];
	struct lane *ln; /* &lanes[lane] once a record was read, else NULL */
	int lane;
	struct conn *cur; /* &ln->cur_conn once a record was read, else NULL */
	uint64_t data_known; /* data messages of the connections of known recorders */
	int merged; /* the recorders META names (2 or more), else 0: inspect_merged() */
	struct reconnect rcs[INSPECT_MAX_CONNS];
	int nrcs;
	uint64_t rcs_total;

	/* selection-wide inter-arrival of received frames, for stalls */
	int64_t last_in_ns;
	uint64_t last_in_recno;
	uint32_t last_in_conn;
	int has_last_in;
	struct stall stalls[INSPECT_TOP_STALLS];
	int nstalls;

	struct inspect_seen *frames;

	struct finding *findings;
	int nfindings;
	uint64_t count[F_COUNT];
	uint64_t kept[F_COUNT];
	uint64_t seq_missing; /* the channels' seq_missing, summed */
	/* the last finding, until opt.on_finding hears of it (its missing is set after it) */
	int ev_has;
	struct inspect_event ev;
	char ev_channel[CH_NAME], ev_msg[200];

	/* pings (WebSocket, or JSON by the feed's rule) and their pongs (the ping awaiting
	   its pong: per lane) */
	struct hist rtt;
	uint64_t pings, pongs, server_pings;

	/* timeline of received messages: INSPECT_TIMELINE buckets, width doubled as needed */
	int64_t tl_start, tl_width;
	uint64_t tl_msgs[INSPECT_TIMELINE], tl_events[INSPECT_TIMELINE];

	/* corruption */
	int corrupt;
	int corrupt_err;
	uint32_t corrupt_segment;
	uint64_t corrupt_offset;
	char corrupt_detail[512];
	uint64_t corrupt_ranges, corrupt_records, corrupt_first, corrupt_last;
	uint64_t corrupt_tail_from; /* records from this one on are missing, how many is
					   unknown (a segment cut short, no count of its records) */
	int finished;

	/* the journal during inspect_run (its META names the recorders), else NULL */
	struct journal *journal;
	struct inspect_recorders *rc; /* NULL until a journal is read */
	int rec_data; /* the current record is a selected received text/binary frame, not a
			  control message of the feed (a data message, for the recorders) */

	/* Selection edges. Open state that a selection cuts (a position opened before --from,
	   a replay still going at --to, ...) is not a finding: its other end is outside, not
	   missing. Set from the options by inspect_new(), refined by inspect_run() (a --from
	   before the first record cuts nothing). */
	int cut_before; /* --from: records before the selection exist */
	int cut_after; /* --to: records at or after --to exist */
	int cut_conns; /* --conn: records of other connections follow */
	int cut_conns_before; /* --conn: records of other connections come before */
	uint64_t cut_positions_open; /* positions still open at the end of the selection */
	uint64_t cut_position_events; /* events for positions opened before the selection */
	/* (both counted by the feed's rules, through the host) */
	uint64_t cut_replays; /* replays begun before --from or going on at --to */
	uint64_t cut_downtime; /* downtime whose replay the selection cut */
	uint64_t cut_pings; /* pings whose pong would come after --to */
	uint64_t cut_reconnects; /* attempts counted from before --from: backoff not judged */
};

/* The current record, as the feed's rules see it. */
struct inspect_rec inspect_rec_of(const struct journal_record *rec);

/* findings.c: findings, classes, durations */
struct finding *inspect_finding(struct inspect *in, int type, const struct inspect_at *at, const char *fmt,
				...) __attribute__((format(printf, 4, 5)));
struct finding *
inspect_vfinding(struct inspect *in, int type, const struct inspect_at *at, const char *fmt, va_list ap);
void inspect_findings_drop(struct inspect *in, int type);
/* Hand the last finding to opt.on_finding (once). */
void inspect_event_flush(struct inspect *in);
void inspect_findings_sort(struct inspect *in);
/* Findings of class cls that count (not-JSON payloads only where the feed says so). */
uint64_t inspect_class_count(const struct inspect *in, unsigned cls);
extern const unsigned inspect_class_order[];
extern const size_t inspect_nclasses;
void inspect_fmt_dur(int64_t ns, char *buf, size_t n);

/* inspect.c: a channel's state of one lane (made when new; NULL when out of memory) */
struct chlane *inspect_chlane(struct channel *c, int lane);
/* The same, or NULL when the lane had no message of the channel. */
static inline struct chlane *
inspect_chlane_find(struct channel *c, int lane)
{
	return !c ? NULL : lane > 0 && lane < INSPECT_LANES ? c->lx[lane - 1] : &c->l0;
}

/* conns.c: connections, reconnects, downtime */
/* The lane of the current record (in->ln, in->cur). */
void inspect_lane_enter(struct inspect *in, int lane);
/* Data messages of the other recorders' connections so far (of the current lane's). */
uint64_t inspect_others(const struct inspect *in);
void inspect_conn_switch(struct inspect *in, const struct journal_record *rec);
void inspect_conn_event(struct inspect *in, const struct journal_record *rec);
void inspect_conn_end(struct inspect *in);
/* The selection starts within the current connection (--from, its first connection). */
int inspect_cut_start(const struct inspect *in);

/* gaps.c: sequences, cursors, replays */
void inspect_seq_check(struct inspect *in, struct channel *c, const struct journal_record *rec,
		       const struct feed_msg *m);
void inspect_cursor_check(struct inspect *in, struct channel *c, const struct journal_record *rec,
			  const struct feed_msg *m);
void inspect_replay_chunk(struct inspect *in, struct channel *c, const struct journal_record *rec,
			  const struct feed_msg *m);
void inspect_replay_end(struct inspect *in, struct channel *c, struct chlane *l, const char *why);
void inspect_replay_cut(struct inspect *in, struct chlane *l);

/* dups.c: exact duplicate frames, repeated events */
int inspect_frame_dup(struct inspect *in, struct channel *c, const struct journal_record *rec,
		      const char *name, size_t name_len);
void inspect_events_scan(struct inspect *in, struct channel *c, const struct journal_record *rec,
			 const struct feed_msg *m, int replay);

/* timing.c: the timeline, stalls, inter-arrival, pings */
void inspect_timeline_add(struct inspect *in, struct channel *c, int64_t ns, uint64_t msgs, uint64_t events);
void inspect_stall_check(struct inspect *in, const struct journal_record *rec);
void inspect_channel_arrival(struct channel *c, struct chlane *l, const struct journal_record *rec);
void inspect_ping_sent(struct inspect *in, const struct journal_record *rec);
void inspect_pong_received(struct inspect *in, const struct journal_record *rec);
void inspect_pings_end(struct inspect *in);

/* recorders.c: which recorder received each connection (META recorder.<conn>, else
 * recorder) and, when the journal has two or more, the spans in which each had no connection
 * and which other recorder's connections delivered data messages in them */
/* The recorder of a connection, or NULL when unknown (no journal, no META, an id that is not
 * 1..64 of [A-Za-z0-9_.-]). */
const char *inspect_recorder_of(struct inspect *in, uint32_t conn);
/* The index of conn's recorder (its lane - 1), or -1 when unknown. */
int inspect_recorder_index(struct inspect *in, uint32_t conn);
/* Before reading: how many recorders META names for the journal's connections (the first
 * RECORDER_CONNS of them, in id order; in->merged, when two or more), so that the whole
 * journal, not only the selection, says whether it is merged. */
void inspect_recorders_scan(struct inspect *in);
/* The number of recorders of a merged journal (two or more), else 0: then the rules that
 * a merged journal breaks (seq continuity, a replay's chunks, downtime another recorder
 * filled) are not judged (docs/INSPECT.md, "Recorders"). */
int inspect_merged(const struct inspect *in);
/* Every record, after the concerns above; data: a selected received text/binary frame. */
void inspect_recorders_record(struct inspect *in, const struct journal_record *rec, int data);
/* The spans at the journal's end; findings for the spans nobody filled. */
void inspect_recorders_finish(struct inspect *in);
void inspect_recorders_free(struct inspect *in);
/* 1 when the report has a recorders section (two or more recorders). */
int inspect_recorders_shown(const struct inspect *in);
/* The threshold of spans (the feed's reconnect backoff cap or 1 s, whichever is more). */
int64_t inspect_recorders_min_span(const struct inspect *in);

/* report_json.c: a histogram in JSON, null when empty (also for the feed's figures) */
struct json_t *inspect_json_hist(const struct hist *h);

#endif
