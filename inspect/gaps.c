/* gaps.c - what a channel lost: its sequence (by the feed's rule: where it starts, whether
 * it starts again per connection, which numbers a message covers), its live cursor going
 * back, and replays (chunks skipped, the server's gap flag, cut short) */
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

/* A message of a sequence under way: it follows c->last_seq, or skips, or goes back. */
static void
seq_next(struct inspect *in, struct channel *c, const struct journal_record *rec, const struct feed_seq *s)
{
	int64_t after = s->prev >= 0 ? s->prev : s->first - 1; /* what it follows */
	struct inspect_at at = at_of(c, rec, c->last_seq_recno);
	uint64_t missing;

	if (after > c->last_seq && s->prev >= 0) {
		/* a link: the numbers between need not be messages; one at least is missing */
		missing_add(in, c,
			    inspect_finding(in, F_SEQ_GAP, &at,
					    "seq gap on conn %" PRIu32 ": the message links to seq %" PRId64
					    ", the last one had %" PRId64 " (between #%" PRIu64
					    " and #%" PRIu64 ")",
					    rec->conn, s->prev, c->last_seq, c->last_seq_recno, rec->recno),
			    1);
	} else if (after > c->last_seq) {
		missing = (uint64_t)(after - c->last_seq);
		missing_add(in, c,
			    inspect_finding(in, F_SEQ_GAP, &at,
					    "seq gap on conn %" PRIu32 ": %" PRIu64 " missing (seq %" PRId64
					    "..%" PRId64 ") between #%" PRIu64 " and #%" PRIu64,
					    rec->conn, missing, c->last_seq + 1, after, c->last_seq_recno,
					    rec->recno),
			    missing);
	} else if (after < c->last_seq) {
		inspect_finding(in, F_SEQ_BACK, &at,
				"seq went back from %" PRId64 " (#%" PRIu64 ") to %" PRId64
				" on conn %" PRIu32,
				c->last_seq, c->last_seq_recno, s->prev >= 0 ? s->prev : s->first, rec->conn);
	}
}

void
inspect_seq_check(struct inspect *in, struct channel *c, const struct journal_record *rec,
		  const struct feed_msg *m)
{
	struct inspect_rec r = inspect_rec_of(rec);
	struct feed_seq s = { 0 };

	if (!in->ops->seq || !in->ops->seq(in->feed_state, &r, m, &s))
		return;
	if (s.reset)
		; /* a new chain: what it follows is not asked */
	else if (!c->seq_valid || (in->ops->seq_per_conn && c->seq_conn != rec->conn))
		seq_start(in, c, rec, &s);
	else
		seq_next(in, c, rec, &s);
	c->seq_valid = 1;
	c->seq_conn = rec->conn;
	c->last_seq = s.last;
	c->last_seq_recno = rec->recno;
}

void
inspect_cursor_check(struct inspect *in, struct channel *c, const struct journal_record *rec,
		     const struct feed_msg *m)
{
	if (!in->ops->cursor_ordered || !m->cursor.len || m->cursor.len > CURSOR_KEEP)
		return;
	if (c->cursor_len && journal_cursor_cmp(m->cursor.p, m->cursor.len, c->cursor, c->cursor_len) < 0) {
		struct inspect_at at = at_of(c, rec, c->cursor_recno);

		inspect_finding(in, F_CURSOR_BACK, &at, "cursor went back from %.*s (#%" PRIu64 ") to %.*s",
				(int)(c->cursor_len > 64 ? 64 : c->cursor_len), (const char *)c->cursor,
				c->cursor_recno, (int)(m->cursor.len > 64 ? 64 : m->cursor.len), m->cursor.p);
	}
	memcpy(c->cursor, m->cursor.p, m->cursor.len);
	c->cursor_len = m->cursor.len;
	c->cursor_recno = rec->recno;
}

/* --- replays --- */

void
inspect_replay_end(struct inspect *in, struct channel *c, const char *why)
{
	struct inspect_at at = { c->rp_first_recno, 0, c->rp_first_ns, 0, c->rp_conn, c->name, c->name_len };

	if (!c->rp_active)
		return;
	c->rp_active = 0;
	inspect_finding(in, F_REPLAY_INCOMPLETE, &at,
			"replay of %s on conn %" PRIu32 " incomplete: %" PRId64 " of %" PRId64
			" chunks received (#%" PRIu64 "..#%" PRIu64 "), %s",
			c->name, c->rp_conn, c->rp_next - 1, c->rp_total, c->rp_first_recno, c->rp_last_recno,
			why);
}

/* A replay still going when the selection ends (--to): its end is not missing, it is not
 * in the selection. One already known to miss chunks stays incomplete. */
void
inspect_replay_cut(struct inspect *in, struct channel *c)
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

/* The first chunk of a replay (seen). */
static void
replay_begin(struct inspect *in, struct channel *c, const struct journal_record *rec, int64_t chunk,
	     int64_t total)
{
	c->rp_active = 1;
	c->rp_conn = rec->conn;
	c->rp_next = 1;
	c->rp_total = total;
	c->rp_has_gap = 0;
	c->rp_cut = 0;
	c->rp_first_recno = rec->recno;
	c->rp_first_ns = rec->wall_ns;
	if (chunk > 1 && inspect_cut_start(in)) {
		/* the selection starts within this replay: its first chunks came before --from,
		   so they are not missing; it says nothing of its connection */
		c->rp_cut = 1;
		c->rp_next = chunk;
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

	c->replay_chunks++;
	if (c->rp_active && (c->rp_conn != rec->conn || chunk == 1))
		inspect_replay_end(in, c, "a new replay started");
	if (!c->rp_active)
		replay_begin(in, c, rec, chunk, total);
	c->rp_last_recno = rec->recno;
	if (m->has_gap) {
		c->rp_has_gap = 1;
		if (in->cur)
			in->cur->replays_gap++;
		inspect_finding(
			in, F_REPLAY_HASGAP, &at,
			"replay of %s on conn %" PRIu32 " has %s: the server's"
			" cache did not cover the whole disconnect (%" PRId64 " events in chunk %" PRId64 ")",
			c->name, rec->conn, in->ops->replay_gap_name ? in->ops->replay_gap_name : "a gap",
			m->count, chunk);
	}
	if (chunk != c->rp_next) {
		inspect_finding(in, F_REPLAY_INCOMPLETE, &at,
				"replay of %s on conn %" PRIu32 ": chunk %" PRId64 " of %" PRId64
				" arrived when chunk %" PRId64 " was expected",
				c->name, rec->conn, chunk, total, c->rp_next);
		if (chunk > c->rp_next)
			c->rp_has_gap = 2; /* chunks missing: never complete */
	}
	c->rp_next = chunk + 1;
	inspect_events_scan(in, c, rec, m, 1);
	if (chunk >= c->rp_total) {
		c->rp_active = 0;
		if (in->cur && c->rp_has_gap != 2 && !c->rp_cut)
			in->cur->replays_complete++;
	}
}
