/* run.c - the pass over a journal: records read in order through the journal's reader,
 * filters of the selection applied, corrupt blocks named and skipped (the first readable
 * record after them found through the index), a journal whose segments end early told apart
 * from one read to its end */
#include "inspect/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void
copy_str(char *dst, size_t n, const char *s)
{
	snprintf(dst, n, "%s", s ? s : "");
}

void
inspect_set_corruption(struct inspect *in, int err, uint32_t segment, uint64_t offset, const char *detail)
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
tail_check(struct inspect *in, struct journal *j, struct journal_reader *r, const struct journal_stats *st,
	   const char *stale_detail, uint64_t first)
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
			return 0; /* readable now (a writer appends), or nothing more */
		jd = journal_last_detail(j);
	}
	snprintf(d, sizeof(d),
		 "the segments end after record #%" PRIu64 ", but the journal lists records%s"
		 " past it: they cannot be read (a segment cut short?)%s%s",
		 first - 1, upto, *jd ? "; " : "", jd);
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

/* The state of one pass. */
struct pass {
	struct journal *j;
	struct journal_reader *r;
	struct journal_stats st;
	int have_st;
	char stale_detail[256];
	uint64_t last_read;
	int first_err, reached_to, skipped_before, skipped_after;
};

/* Read records until an error, the end or --to. Returns the reader's error (0 at --to). */
static int
read_records(struct inspect *in, struct pass *p)
{
	struct journal_record rec;
	int err;

	while ((err = journal_reader_next(p->r, &rec)) == 0) {
		/* a --from at or before the first record cuts nothing */
		if (!p->last_read && in->opt.from_ns && p->have_st && rec.recno <= p->st.first_recno)
			in->cut_before = 0;
		p->last_read = rec.recno;
		if (in->opt.to_ns && rec.wall_ns >= in->opt.to_ns) {
			p->reached_to = 1;
			return 0;
		}
		if (in->opt.conn_set && rec.conn != in->opt.conn) {
			if (in->records)
				p->skipped_after = 1;
			else
				p->skipped_before = 1;
			continue;
		}
		inspect_record(in, &rec);
	}
	return err;
}

/* A corrupt block stopped the reader (err): name it, then seek the first readable record
 * after it. Returns 1 when reading can go on. */
static int
corrupt_skip(struct inspect *in, struct pass *p, int err)
{
	uint64_t bad, next, upto;

	if (!p->first_err) {
		uint32_t seg = 0;
		uint64_t off = 0;

		p->first_err = err;
		journal_reader_error_offset(p->r, &seg, &off);
		inspect_set_corruption(in, err, seg, off, journal_last_detail(p->j));
	}
	if (err != JOURNAL_ECORRUPT || !p->have_st || !p->st.last_recno)
		return 0;
	bad = p->last_read ? p->last_read + 1 : p->st.first_recno;
	next = next_readable(p->r, bad, p->st.last_recno);
	upto = next ? next - 1 : p->st.last_recno;
	if (bad > upto)
		return 0;
	in->corrupt_ranges++;
	in->corrupt_records += upto - bad + 1;
	if (in->corrupt_ranges == 1) {
		in->corrupt_first = bad;
		in->corrupt_last = upto;
	}
	if (!next || journal_reader_seek_recno(p->r, next))
		return 0;
	p->last_read = next - 1;
	return 1;
}

int
inspect_run(struct inspect *in, struct journal *j)
{
	struct pass p;
	int err;

	memset(&p, 0, sizeof(p));
	p.j = j;
	in->journal = j; /* META: the recorders of the connections */
	inspect_recorders_scan(in);
	/* before reading: a writer may append meanwhile, and what it adds is not missing */
	p.have_st = journal_stats(j, &p.st) == 0;
	if (p.have_st && p.st.index_stale)
		copy_str(p.stale_detail, sizeof(p.stale_detail), journal_last_detail(j));
	if ((err = journal_reader_open(j, &p.r))) {
		in->journal = NULL;
		return err;
	}
	if (in->opt.from_ns && (err = journal_reader_seek_time(p.r, in->opt.from_ns)) == JOURNAL_ENOTFOUND) {
		journal_reader_close(p.r);
		in->journal = NULL;
		inspect_finish(in);
		return 0;
	}
	for (;;) {
		if (!err)
			err = read_records(in, &p);
		if (err == 0 || err == JOURNAL_EOF || !corrupt_skip(in, &p, err))
			break;
		/* a corrupt block: named; go on with what can still be read after it */
		err = 0;
	}
	/* the end of the segments is not always the end of the journal (not looked for when
	   --to stopped the pass before it) */
	if (err == JOURNAL_EOF && !p.reached_to &&
	    tail_check(in, j, p.r, p.have_st ? &p.st : NULL, p.stale_detail,
		       p.last_read                             ? p.last_read + 1
			       : p.have_st && p.st.first_recno ? p.st.first_recno
							       : 1) &&
	    !p.first_err)
		/* the index lists blocks the segments lack: JOURNAL_EINDEX, as for the other readers */
		p.first_err = p.have_st && p.st.index_stale ? JOURNAL_EINDEX : JOURNAL_ECORRUPT;
	journal_reader_close(p.r);
	in->journal = NULL;
	/* a --to past the last record, a --conn alone in the journal: nothing cut */
	if (!p.reached_to && !p.first_err)
		in->cut_after = 0;
	if (!p.first_err) {
		in->cut_conns = p.skipped_after;
		in->cut_conns_before = p.skipped_before;
	}
	inspect_finish(in);
	return p.first_err;
}
