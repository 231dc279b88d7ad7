/* inspect_host.h - what inspect offers the inspect rules of a feed (feeds/<feed>_inspect.c)
 *
 * A feed's rules (feeds/feed_inspect.h) see records through struct inspect_rec and report
 * through struct inspect_host: findings, the edges of the selection, the figures inspect
 * keeps for every feed, and the formatting helpers of the report. feeds/ includes this
 * header of inspect/ only.
 */
#ifndef WSTAPE_INSPECT_HOST_H
#define WSTAPE_INSPECT_HOST_H

#include <stddef.h>
#include <stdint.h>

#include "util/hist.h"

/* Finding types; each belongs to one class (inspect_finding_info, inspect/findings.c). */
enum finding_type {
	F_SEQ_GAP,
	F_SEQ_START,
	F_SEQ_BACK,
	F_CURSOR_BACK,
	F_REPLAY_HASGAP,
	F_REPLAY_INCOMPLETE,
	F_STALL,
	F_DOWNTIME,
	F_DUP_EVENT,
	F_DUP_FRAME,
	F_OVERLAP,
	F_DISCONNECT,
	F_CONNECT_FAILED,
	F_POSITION_OPEN,
	F_POSITION_UNKNOWN,
	F_PNL_LATE,
	F_BACKOFF,
	F_PING_UNANSWERED,
	F_NOT_JSON,
	F_RECORDER_GAP,
	F_COUNT
};

/* Positions a feed's rules may follow at once (their table has this many slots, 3/4 used) */
#define INSPECT_MAX_POSITIONS 4096

/* One record, as a feed's rules see it. */
struct inspect_rec {
	uint64_t recno;
	int64_t ns; /* wall time */
	uint32_t conn;
	int out; /* 1: sent to the server */
	const uint8_t *payload;
	size_t len;
};

/* Where a finding is: record, time, connection, channel (NULL: none). */
struct inspect_at {
	uint64_t recno, recno_before; /* recno_before: the record before the finding, or 0 */
	int64_t ns, dur_ns; /* dur_ns: the duration the finding measures, or 0 */
	uint32_t conn;
	const char *channel;
	size_t channel_len;
};

/* State the selection cuts, counted apart from findings (report: selection.cut). */
enum inspect_cut { INSPECT_CUT_POSITIONS_OPEN, INSPECT_CUT_POSITION_EVENTS };

/* Round trips of pings, WebSocket or JSON (the feed's ping rule), for a feed's figures. */
struct inspect_pings {
	uint64_t pings, pongs;
	const struct hist *rtt;
};

struct json_t;
struct inspect_host {
	void *ud;
	void (*finding)(void *ud, int type, const struct inspect_at *at, const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));
	/* 1 when the current connection is the first of a selection that starts after the
	   journal does (--from): what it refers to may lie before the selection */
	int (*cut_start)(void *ud);
	/* 1 when records of the journal follow the selection (--to, --conn) */
	int (*cut_end)(void *ud);
	void (*cut)(void *ud, enum inspect_cut what);
	/* findings of a type so far (also beyond those kept in detail) */
	uint64_t (*count)(void *ud, int type);
	void (*pings)(void *ud, struct inspect_pings *out);
	/* report helpers: a duration as the report writes it ("1.500s"), a histogram in JSON
	   (null when empty) */
	void (*fmt_dur)(int64_t ns, char *buf, size_t n);
	struct json_t *(*json_hist)(const struct hist *h);
};

#endif
