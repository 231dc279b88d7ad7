/* gaps.c - what a channel lost: its sequence (by the feed's rule: where it starts, whether
 * it starts again per connection, which numbers a message covers), its live cursor going
 * back, and replays (chunks skipped, the server's gap flag, cut short). The state is the
 * record's recorder's (struct chlane). In a merged journal (inspect_merged) each connection
 * has holes that another recorder's copy filled, so the seq numbers that a connection
 * skips, and the replay chunks it lacks, are not losses: only seq going back, the cursor
 * going back and the server's gap flag are judged there. */
#include "inspect/internal.h"

#include <inttypes.h>
#include <string.h>

static struct inspect_at
at_of(const struct channel *c, const struct journal_record *rec, uint64_t before)
{
	return (struct inspect_at){ rec->recno, before, rec->wall_ns, 0, rec->conn, c->name, c->name_len };
}

static void
missing_add(struct inspect *in, struct channel *c, struct finding *f, uint64_t missing)
{
	if (f)
		f->missing = missing;
	if (in->ev_has)
		in->ev.missing = missing; /* the finding just made */
	c->seq_missing += missing;
	in->seq_missing += missing;
}

/* The first message of a channel's sequence (on its connection). */
static void
seq_start(struct inspect *in, struct channel *c, const struct journal_record *rec, const struct feed_seq *s)
{
	int64_t want = in->ops->seq_first;
	struct inspect_at at = at_of(c, rec, 0);
	uint64_t missing;

	if (want < 0 || s->first == want || inspect_cut_start(in))
		return;
	missing = s->first > want ? (uint64_t)(s->first - want) : 0;
	missing_add(in, c,
		    inspect_finding(in, F_SEQ_START, &at,
				    "seq starts at %" PRId64 " on conn %" PRIu32 " (expected %" PRId64
				    "): %" PRIu64 " message%s missing before #%" PRIu64,
				    s->first, rec->conn, want, missing, missing == 1 ? "" : "s", rec->recno),
		    missing);
}

/* A message of a sequence under way: it follows l->last_seq, or skips (not judged in a
 * merged journal), or goes back. */
static void
seq_next(struct inspect *in, struct channel *c, struct chlane *l, const struct journal_record *rec,
	 const struct feed_seq *s)
{
	int64_t after = s->prev >= 0 ? s->prev : s->first - 1; /* what it follows */
	struct inspect_at at = at_of(c, rec, l->last_seq_recno);
	uint64_t missing;

	if (after > l->last_seq && inspect_merged(in)) {
		; /* a hole another recorder's copy filled, or not: see the recorders */
	} else if (after > l->last_seq && s->prev >= 0) {
		/* a link: the numbers between need not be messages; one at least is missing */
		missing_add(in, c,
			    inspect_finding(in, F_SEQ_GAP, &at,
					    "seq gap on conn %" PRIu32 ": the message links to seq %" PRId64
					    ", the last one had %" PRId64 " (between #%" PRIu64
					    " and #%" PRIu64 ")",
					    rec->conn, s->prev, l->last_seq, l->last_seq_recno, rec->recno),
			    1);
	} else if (after > l->last_seq) {
		missing = (uint64_t)(after - l->last_seq);
		missing_add(in, c,
			    inspect_finding(in, F_SEQ_GAP, &at,
					    "seq gap on conn %" PRIu32 ": %" PRIu64 " missing (seq %" PRId64
					    "..%" PRId64 ") between #%" PRIu64 " and #%" PRIu64,
					    rec->conn, missing, l->last_seq + 1, after, l->last_seq_recno,
					    rec->recno),
			    missing);
	} else if (after < l->last_seq) {
		inspect_finding(in, F_SEQ_BACK, &at,
				"seq went back from %" PRId64 " (#%" PRIu64 ") to %" PRId64
				" on conn %" PRIu32,
				l->last_seq, l->last_seq_recno, s->prev >= 0 ? s->prev : s->first, rec->conn);
	}
}

void
inspect_seq_check(struct inspect *in, struct channel *c, const struct journal_record *rec,
		  const struct feed_msg *m)
{
	struct inspect_rec r = inspect_rec_of(rec);
	struct feed_seq s = { 0 };
	struct chlane *l = inspect_chlane(c, in->lane);

	if (!l || !in->ops->seq || !in->ops->seq(in->feed_state, &r, m, &s))
		return;
	if (s.reset)
		; /* a new chain: what it follows is not asked */
	else if (!l->seq_valid || (in->ops->seq_per_conn && l->seq_conn != rec->conn)) {
		if (!inspect_merged(in)) /* its first messages may be another recorder's copies */
			seq_start(in, c, rec, &s);
	} else {
		seq_next(in, c, l, rec, &s);
	}
	l->seq_valid = 1;
	l->seq_conn = rec->conn;
	l->last_seq = s.last;
	l->last_seq_recno = rec->recno;
}

void
inspect_cursor_check(struct inspect *in, struct channel *c, const struct journal_record *rec,
		     const struct feed_msg *m)
{
	struct chlane *l;

	if (!in->ops->cursor_ordered || !m->cursor.len || m->cursor.len > CURSOR_KEEP ||
	    !(l = inspect_chlane(c, in->lane)))
		return;
	if (l->cursor_len && journal_cursor_cmp(m->cursor.p, m->cursor.len, l->cursor, l->cursor_len) < 0) {
		struct inspect_at at = at_of(c, rec, l->cursor_recno);

		inspect_finding(in, F_CURSOR_BACK, &at, "cursor went back from %.*s (#%" PRIu64 ") to %.*s",
				(int)(l->cursor_len > 64 ? 64 : l->cursor_len), (const char *)l->cursor,
				l->cursor_recno, (int)(m->cursor.len > 64 ? 64 : m->cursor.len), m->cursor.p);
	}
	memcpy(l->cursor, m->cursor.p, m->cursor.len);
	l->cursor_len = m->cursor.len;
	l->cursor_recno = rec->recno;
}

/* --- replays --- */

void
inspect_replay_end(struct inspect *in, struct channel *c, struct chlane *l, const char *why)
{
	struct inspect_at at = { l->rp_first_recno, 0, l->rp_first_ns, 0, l->rp_conn, c->name, c->name_len };

	if (!l->rp_active)
		return;
	l->rp_active = 0;
	if (inspect_merged(in)) {
		/* its last chunks may have been dropped as redundant (wstape pull): only the
		   chunks it has say whether it covered the downtime */
		if (in->cur && l->rp_conn == in->ln->cur_id && l->rp_has_gap != 2 && !l->rp_cut)
			in->cur->replays_complete++;
		return;
	}
	inspect_finding(in, F_REPLAY_INCOMPLETE, &at,
			"replay of %s on conn %" PRIu32 " incomplete: %" PRId64 " of %" PRId64
			" chunks received (#%" PRIu64 "..#%" PRIu64 "), %s",
			c->name, l->rp_conn, l->rp_next - 1, l->rp_total, l->rp_first_recno, l->rp_last_recno,
			why);
}

/* A replay still going when the selection ends (--to): its end is not missing, it is not
 * in the selection. One already known to miss chunks stays incomplete. */
void
inspect_replay_cut(struct inspect *in, struct chlane *l)
{
	if (!l->rp_active)
		return;
	l->rp_active = 0;
	if (l->rp_cut || l->rp_has_gap == 2)
		return;
	in->cut_replays++;
	if (in->cur && l->rp_conn == in->ln->cur_id)
		in->cur->replays_cut++;
}

/* The first chunk of a replay (seen). */
static void
replay_begin(struct inspect *in, struct chlane *l, const struct journal_record *rec, int64_t chunk,
	     int64_t total)
{
	l->rp_active = 1;
	l->rp_conn = rec->conn;
	l->rp_next = 1;
	l->rp_total = total;
	l->rp_has_gap = 0;
	l->rp_cut = 0;
	l->rp_first_recno = rec->recno;
	l->rp_first_ns = rec->wall_ns;
	if (chunk > 1 && inspect_cut_start(in)) {
		/* the selection starts within this replay: its first chunks came before --from,
		   so they are not missing; it says nothing of its connection */
		l->rp_cut = 1;
		l->rp_next = chunk;
		in->cut_replays++;
	} else if (in->cur) {
		in->cur->replays++;
	}
}

void
inspect_replay_chunk(struct inspect *in, struct channel *c, const struct journal_record *rec,
		     const struct feed_msg *m)
{
	int64_t chunk = m->chunk > 0 ? m->chunk : 1;
	int64_t total = m->total_chunks > 0 ? m->total_chunks : chunk;
	struct inspect_at at = at_of(c, rec, 0);
	struct chlane *l = inspect_chlane(c, in->lane);

	c->replay_chunks++;
	if (!l) {
		inspect_events_scan(in, c, rec, m, 1);
		return;
	}
	if (l->rp_active &&
	    (l->rp_conn != rec->conn || chunk == 1 || (inspect_merged(in) && chunk < l->rp_next)))
		inspect_replay_end(in, c, l, "a new replay started");
	if (!l->rp_active)
		replay_begin(in, l, rec, chunk, total);
	l->rp_last_recno = rec->recno;
	if (m->has_gap) {
		l->rp_has_gap = 1;
		if (in->cur)
			in->cur->replays_gap++;
		inspect_finding(
			in, F_REPLAY_HASGAP, &at,
			"replay of %s on conn %" PRIu32 " has %s: the server's"
			" cache did not cover the whole disconnect (%" PRId64 " events in chunk %" PRId64 ")",
			c->name, rec->conn, in->ops->replay_gap_name ? in->ops->replay_gap_name : "a gap",
			m->count, chunk);
	}
	if (chunk != l->rp_next && !inspect_merged(in)) {
		/* (a merged journal: the chunks between were dropped as redundant) */
		inspect_finding(in, F_REPLAY_INCOMPLETE, &at,
				"replay of %s on conn %" PRIu32 ": chunk %" PRId64 " of %" PRId64
				" arrived when chunk %" PRId64 " was expected",
				c->name, rec->conn, chunk, total, l->rp_next);
		if (chunk > l->rp_next)
			l->rp_has_gap = 2; /* chunks missing: never complete */
	}
	l->rp_next = chunk + 1;
	inspect_events_scan(in, c, rec, m, 1);
	if (chunk >= l->rp_total) {
		l->rp_active = 0;
		if (in->cur && l->rp_has_gap != 2 && !l->rp_cut)
			in->cur->replays_complete++;
	}
}
