/* internal.h - the state of one inspection, shared by inspect.c and report.c */
#ifndef WSTAPE_INSPECT_INTERNAL_H
#define WSTAPE_INSPECT_INTERNAL_H

#include "inspect/hist.h"
#include "inspect/inspect.h"
#include "inspect/seen.h"

/* Finding types; each belongs to one class. */
enum finding_type {
	F_SEQ_GAP, F_SEQ_START, F_SEQ_BACK, F_CURSOR_BACK, F_REPLAY_HASGAP, F_REPLAY_INCOMPLETE,
	F_STALL, F_DOWNTIME, F_DUP_EVENT, F_DUP_FRAME, F_OVERLAP, F_DISCONNECT, F_CONNECT_FAILED,
	F_POSITION_OPEN, F_POSITION_UNKNOWN, F_PNL_LATE, F_BACKOFF, F_PING_UNANSWERED, F_NOT_JSON,
	F_COUNT
};

struct finding_info {
	const char *name;
	unsigned cls;
};
extern const struct finding_info inspect_finding_info[F_COUNT];

struct finding {
	int type;
	uint64_t recno, recno_before;   /* recno_before: the record before the finding, or 0 */
	int64_t ns;
	int64_t dur_ns;                 /* stalls, downtime, late intervals; 0 otherwise */
	uint32_t conn;
	char channel[48];
	uint64_t missing;               /* seq_gap, seq_start: messages the seq numbers skip */
	char msg[200];
};

#define CH_NAME 64
#define INSPECT_TIMELINE 60             /* buckets of the timeline */
#define KEY_ROLES 4
#define CURSOR_KEEP JOURNAL_MAX_CURSOR

struct channel {
	char name[CH_NAME];
	size_t name_len;
	uint64_t messages, events, replay_chunks, replay_events, bytes, dup_events, overlap_events,
		dup_frames, shared_key_events, late_events, not_json;
	uint64_t seq_missing;           /* messages skipped by seq (seq_gap and seq_start) */
	uint64_t first_recno, last_recno;
	int64_t first_ns, last_ns;
	/* rate: messages in the current whole second, the peak */
	int64_t sec;
	uint64_t sec_count, peak_per_sec;
	struct inspect_hist gaps;       /* inter-arrival within one connection */
	/* this channel's part of the timeline (same buckets as the inspection's) */
	uint64_t tl_msgs[INSPECT_TIMELINE], tl_events[INSPECT_TIMELINE];
	uint32_t last_conn;             /* conn of last_ns; for inter-arrival */
	int has_last;
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
	int rp_cut;                     /* begun before --from: not counted as a replay of its conn */
	int64_t rp_next, rp_total;
	uint64_t rp_first_recno, rp_last_recno;
	int64_t rp_first_ns;
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

struct conn {
	uint32_t id;
	uint64_t first_recno, last_recno, records;
	int64_t first_ns, last_ns;
	uint64_t open_recno, close_recno;
	int64_t open_ns, close_ns;
	int status;                     /* HTTP status of the open, 0 when unknown */
	int close_code;                 /* -1 when no close record */
	char close_reason[64];
	char close_by[12];
	char error[80];                 /* the last error record of this attempt */
	char phase[16];
	int attempt;                    /* from open/error payloads; 0 unknown */
	char session[16];               /* hydromancer connected|reconnected; lasersell hello_ok */
	int replays, replays_complete, replays_gap;
	int replays_cut;                /* still going at --to: their end is not in the selection */
	int64_t downtime_after_ns;      /* -1: none (last connection) */
	int ok;                         /* an open record or any frame: a session */
};

struct reconnect {
	uint32_t from_conn, to_conn;
	uint64_t recno;                 /* first record of the new attempt */
	int64_t ns;
	int attempt;
	int64_t stated_ms, expected_ms, actual_ms;
	int off;                        /* lasersell: not within the documented backoff */
};

struct position {
	int64_t id;                     /* -1: empty slot */
	uint64_t open_recno, close_recno;
	int64_t open_ns;
	int64_t last_pnl_ns;
	uint64_t last_pnl_recno;
	uint32_t last_pnl_conn;
	int closed;
	int unselected;                 /* opened on a channel outside --channel: followed only */
};

struct stall {
	uint64_t recno, recno_before;
	int64_t ns, dur_ns;
	uint32_t conn;
};

struct inspect {
	struct inspect_options opt;
	char channel_filter[CH_NAME];

	uint64_t records, first_recno, last_recno, bytes, in_frames, out_frames;
	uint64_t by_kind[JOURNAL_KIND_MAX + 1];
	uint64_t not_json, control, other;
	int64_t first_ns, last_ns;

	struct channel *ch[INSPECT_MAX_CHANNELS + 1];  /* the last one: "(other)" */
	int nch;

	struct conn conns[INSPECT_MAX_CONNS];  /* the first ones, in detail, once they ended */
	int nconns;
	uint64_t conns_total, conns_dropped;
	struct conn cur_conn;           /* the connection of the last record, while it lasts */
	struct conn *cur;               /* &cur_conn once a record was read, else NULL */
	/* the last connection that was established: downtime is checked when the next one
	   ends (then its session and replays are known), whatever the number of attempts */
	int have_prev_ok;
	int prev_ok_idx;                /* its index in conns[], or -1 when not kept in detail */
	int64_t prev_ok_end_ns;
	uint64_t prev_ok_last_recno;
	uint32_t cur_id;
	int have_cur;
	int64_t cur_last_ns;
	uint64_t cur_last_recno;
	int cur_ok;
	int attempts_since_ok;
	/* the last "reconnect scheduled" event */
	int rc_pending, rc_attempt;
	int64_t rc_delay_ms, rc_ns;
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
	uint64_t seq_missing;           /* the channels' seq_missing, summed */

	/* lasersell */
	int64_t pnl_flush_ms;
	struct inspect_hist rtt, pnl_gap;
	int ping_pending;
	int64_t ping_ns;
	uint64_t ping_recno;
	uint32_t ping_conn;
	uint64_t pings, pongs, server_pings;
	struct position *pos, *pos_spare; /* open addressing; the spare for sweeps */
	uint32_t pos_used;
	uint64_t pos_opened, pos_closed, pos_unknown_events, pos_dropped;

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
	uint64_t corrupt_tail_from;     /* records from this one on are missing, how many is
					   unknown (a segment cut short, no count of its records) */
	int finished;

	/* Selection edges. Open state that a selection cuts (a position opened before --from,
	   a replay still going at --to, ...) is not a finding: its other end is outside, not
	   missing. Set from the options by inspect_new(), refined by inspect_run() (a --from
	   before the first record cuts nothing). */
	int cut_before;                 /* --from: records before the selection exist */
	int cut_after;                  /* --to: records at or after --to exist */
	int cut_conns;                  /* --conn: records of other connections follow */
	int cut_conns_before;           /* --conn: records of other connections come before */
	uint64_t cut_positions_open;    /* positions still open at the end of the selection */
	uint64_t cut_position_events;   /* events for positions opened before the selection */
	uint64_t cut_replays;           /* replays begun before --from or going on at --to */
	uint64_t cut_downtime;          /* downtime whose replay the selection cut */
	uint64_t cut_pings;             /* pings whose pong would come after --to */
	uint64_t cut_reconnects;        /* attempts counted from before --from: backoff not judged */
};

/* Text helpers shared with report.c */
void inspect_fmt_dur(int64_t ns, char *buf, size_t n);

#endif
