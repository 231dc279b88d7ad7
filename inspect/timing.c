/* timing.c - when things came: the timeline (buckets whose width doubles), stalls (the
 * feed going quiet on a connection), a channel's inter-arrival and rate, and the round
 * trips of pings (WebSocket pings, or JSON ones by the feed's rule; per recorder) */
#include "inspect/internal.h"

#include <inttypes.h>
#include <string.h>

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
void
inspect_timeline_add(struct inspect *in, struct channel *c, int64_t ns, uint64_t msgs, uint64_t events)
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

/* Keep the largest stalls, sorted by duration. */
static void
stall_keep(struct inspect *in, const struct journal_record *rec, int64_t d)
{
	int i;

	for (i = in->nstalls; i > 0 && in->stalls[i - 1].dur_ns < d; i--)
		if (i < INSPECT_TOP_STALLS)
			in->stalls[i] = in->stalls[i - 1];
	if (i < INSPECT_TOP_STALLS) {
		in->stalls[i] = (struct stall){ rec->recno, in->last_in_recno, rec->wall_ns, d, rec->conn };
		if (in->nstalls < INSPECT_TOP_STALLS)
			in->nstalls++;
	}
}

/* A stall: no frame for longer than the threshold while one connection lasted. In a merged
 * journal the frames of any recorder's connection count (a connection's holes are the
 * copies another recorder's connection brought): the selection went quiet while rec's
 * connection was up since before the last frame. */
void
inspect_stall_check(struct inspect *in, const struct journal_record *rec)
{
	if (in->has_last_in &&
	    (in->last_in_conn == rec->conn ||
	     (inspect_merged(in) && in->cur && in->cur->first_recno <= in->last_in_recno))) {
		int64_t d = rec->wall_ns - in->last_in_ns;

		if (d > in->opt.stall_ns) {
			char dur[32];
			struct inspect_at at = { rec->recno, in->last_in_recno, rec->wall_ns,
						 d,          rec->conn,         NULL,
						 0 };

			inspect_fmt_dur(d, dur, sizeof(dur));
			inspect_finding(in, F_STALL, &at,
					"no message for %s on conn %" PRIu32 " (#%" PRIu64 " to #%" PRIu64
					")",
					dur, rec->conn, in->last_in_recno, rec->recno);
			stall_keep(in, rec, d);
		}
	}
	in->has_last_in = 1;
	in->last_in_ns = rec->wall_ns;
	in->last_in_recno = rec->recno;
	in->last_in_conn = rec->conn;
}

/* A received message of channel c: its counts, inter-arrival (within one connection: l, the
 * state of its recorder) and rate per second. */
void
inspect_channel_arrival(struct channel *c, struct chlane *l, const struct journal_record *rec)
{
	c->messages++;
	c->bytes += rec->payload_len;
	if (!c->first_recno) {
		c->first_recno = rec->recno;
		c->first_ns = rec->wall_ns;
	}
	if (l) {
		if (l->has_last && l->last_conn == rec->conn && rec->wall_ns >= l->last_ns)
			hist_add(&c->gaps, (uint64_t)(rec->wall_ns - l->last_ns));
		l->has_last = 1;
		l->last_conn = rec->conn;
		l->last_ns = rec->wall_ns;
	}
	c->last_ns = rec->wall_ns;
	c->last_recno = rec->recno;
	if (rec->wall_ns / 1000000000 != c->sec || c->sec_count == 0) {
		c->sec = rec->wall_ns / 1000000000;
		c->sec_count = 0;
	}
	if (++c->sec_count > c->peak_per_sec)
		c->peak_per_sec = c->sec_count;
}

/* --- pings --- */

void
inspect_ping_sent(struct inspect *in, const struct journal_record *rec)
{
	struct lane *ln = in->ln;

	in->pings++;
	if (ln->ping_pending) {
		struct inspect_at at = { ln->ping_recno, 0, ln->ping_ns, 0, ln->ping_conn, NULL, 0 };

		inspect_finding(in, F_PING_UNANSWERED, &at,
				"ping at #%" PRIu64 " got no pong before the next"
				" ping (#%" PRIu64 ")",
				ln->ping_recno, rec->recno);
	}
	ln->ping_pending = 1;
	ln->ping_ns = rec->wall_ns;
	ln->ping_recno = rec->recno;
	ln->ping_conn = rec->conn;
}

void
inspect_pong_received(struct inspect *in, const struct journal_record *rec)
{
	struct lane *ln = in->ln;

	in->pongs++;
	if (ln->ping_pending && ln->ping_conn == rec->conn && rec->wall_ns >= ln->ping_ns)
		hist_add(&in->rtt, (uint64_t)(rec->wall_ns - ln->ping_ns));
	ln->ping_pending = 0;
}

/* The current connection of the current lane ends: its ping, if unanswered, is a finding,
 * or cut (its pong would come after --to). */
void
inspect_pings_end(struct inspect *in)
{
	struct lane *ln = in->ln;
	struct inspect_at at = { ln->ping_recno, 0, ln->ping_ns, 0, ln->ping_conn, NULL, 0 };

	if (!ln->ping_pending || ln->ping_conn != ln->cur_id)
		return;
	ln->ping_pending = 0;
	if (in->finished && in->cut_after) {
		in->cut_pings++;
		return;
	}
	inspect_finding(in, F_PING_UNANSWERED, &at,
			"ping at #%" PRIu64 " on conn %" PRIu32 " got no pong"
			" before the connection ended",
			ln->ping_recno, ln->ping_conn);
}
