/* reader.c - reading a journal: sequential iteration, seeks through the index, statistics,
 * verification and repair
 *
 * A reader walks the segment files block by block; the index only tells it where to
 * start. So a reader also sees the blocks a live writer sealed but has not indexed yet,
 * and works when the index is missing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct journal_reader {
	struct journal *j;
	uint32_t seg;          /* current segment number; 0 = not started */
	int fd;
	uint64_t off;          /* offset of the current (or next) block */
	struct blk_reader br;
	int in_block;
	struct blk_iter it;
	uint64_t expect_recno; /* 0 = unknown */
	int pushback;
	struct journal_record held;
	uint32_t err_seg;
	uint64_t err_off;
	uint64_t blocks_read, raw_read; /* blocks loaded and their raw bytes (for tail.c) */
	uint64_t seg_first;    /* the first record number the current segment's header gives */
};

static uint32_t
first_segment(struct journal *j)
{
	uint32_t *segs = NULL, first = 0;
	size_t n = 0;
	if (seg_list(j->dir, &segs, &n) == 0 && n)
		first = segs[0];
	free(segs);
	return first;
}

static void
reader_reset(struct journal_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->seg = 0;
	r->off = 0;
	r->in_block = 0;
	r->pushback = 0;
	r->expect_recno = 0;
}

int
journal_reader_open(struct journal *j, struct journal_reader **out)
{
	struct journal_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->j = j;
	r->fd = -1;
	blk_reader_init(&r->br);
	*out = r;
	return 0;
}

void
journal_reader_close(struct journal_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	blk_reader_free(&r->br);
	free(r);
}

void
journal_reader_error_offset(const struct journal_reader *r, uint32_t *segment, uint64_t *offset)
{
	*segment = r->err_seg;
	*offset = r->err_off;
}

static int
corrupt(struct journal_reader *r, const char *why)
{
	char path[4200];
	r->err_seg = r->seg;
	r->err_off = r->off;
	seg_path(path, sizeof(path), r->j->dir, r->seg);
	journal_set_detail(r->j, "segment '%s' offset %llu: %s", path, (unsigned long long)r->off, why);
	return JOURNAL_ECORRUPT;
}

/* Open segment n; 1 when it does not exist. */
static int
open_segment(struct journal_reader *r, uint32_t n)
{
	char path[4200];
	uint8_t h[SEG_HEADER_SIZE];
	int rc;

	seg_path(path, sizeof(path), r->j->dir, n);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		rc = errno;
		journal_set_detail(r->j, "cannot open segment '%s': %s", path, strerror(rc));
		return rc;
	}
	ssize_t got = pread(fd, h, sizeof(h), 0);
	if (got < 0) {
		rc = errno;
		close(fd);
		journal_set_detail(r->j, "cannot read segment '%s': %s", path, strerror(rc));
		return rc;
	}
	if (got < (ssize_t)sizeof(h)) {
		/* a writer is starting this segment right now: nothing to read yet */
		close(fd);
		return 1;
	}
	if ((rc = seg_header_check(h, n)) != 0) {
		close(fd);
		r->seg = n;
		r->off = 0;
		if (rc == JOURNAL_EVERSION) {
			journal_set_detail(r->j, "segment '%s' has format version %u; this wstape reads up to %d",
					   path, get_u32(h + 8), JOURNAL_FORMAT_VERSION);
			return rc;
		}
		return corrupt(r, "bad segment header");
	}
	if (r->fd >= 0)
		close(r->fd);
	r->fd = fd;
	r->seg = n;
	r->seg_first = get_u64(h + 16) ? get_u64(h + 16) : 1;
	r->off = SEG_HEADER_SIZE;
	r->in_block = 0;
	return 0;
}

/* The segment just opened does not start where the one before it ended. */
static int
segment_jump(struct journal_reader *r)
{
	char path[4200], prev[4200];
	seg_path(path, sizeof(path), r->j->dir, r->seg);
	seg_path(prev, sizeof(prev), r->j->dir, r->seg - 1);
	r->err_seg = r->seg;
	r->err_off = 0;
	if (r->seg_first > r->expect_recno) {
		journal_set_detail(r->j, "records are missing from the journal: %llu..%llu (segment '%s' ends before record %llu, segment '%s' starts at record %llu)",
				   (unsigned long long)r->expect_recno, (unsigned long long)(r->seg_first - 1), prev,
				   (unsigned long long)r->expect_recno, path, (unsigned long long)r->seg_first);
		return JOURNAL_EGAP;
	}
	journal_set_detail(r->j, "segment '%s' starts at record %llu, which segment '%s' already holds (out of sequence)",
			   path, (unsigned long long)r->seg_first, prev);
	return JOURNAL_ECORRUPT;
}

int
reader_read(struct journal_reader *r, struct journal_record *rec)
{
	int rc, recheck = 0;

	for (;;) {
		if (r->in_block) {
			rc = blk_iter_next(&r->it, rec);
			if (rc == 0)
				return 0;
			if (rc != JOURNAL_EOF)
				return corrupt(r, "bad record framing in block");
			r->in_block = 0;
			r->off += BLK_HEADER_SIZE + r->br.h.comp_len;
		}
		if (r->fd < 0) {
			uint32_t n = r->seg ? r->seg : first_segment(r->j);
			if (n == 0)
				return JOURNAL_EOF;
			uint64_t keep = r->off;
			rc = open_segment(r, n);
			if (rc == 1)
				return JOURNAL_EOF;
			if (rc)
				return rc;
			if (keep > SEG_HEADER_SIZE)
				r->off = keep;
		}
		struct stat sb;
		if (fstat(r->fd, &sb) != 0)
			return errno;
		rc = blk_read(&r->br, r->fd, r->off, (uint64_t)sb.st_size, 1);
		if (rc == BLK_OK) {
			recheck = 0;
			if (r->expect_recno && r->br.h.first_recno != r->expect_recno)
				return corrupt(r, "block does not continue the record numbers");
			r->expect_recno = r->br.h.first_recno + r->br.h.count;
			r->blocks_read++;
			r->raw_read += r->br.h.raw_len;
			blk_iter_init(&r->it, &r->br.h, r->br.raw);
			r->in_block = 1;
			continue;
		}
		if (rc == BLK_END || rc == BLK_TORN) {
			/* the next segment exists only once this one is complete */
			char path[4200];
			struct stat nsb;
			seg_path(path, sizeof(path), r->j->dir, r->seg + 1);
			if (stat(path, &nsb) != 0)
				return JOURNAL_EOF; /* the end, or a block being written right now */
			if (!recheck) {
				/* The writer may have written more to this segment (finishing its
				 * last block) and started the next since this one was measured.
				 * Now that the next exists, this one is complete: measure again. */
				recheck = 1;
				continue;
			}
			if (rc == BLK_TORN)
				return corrupt(r, r->br.why ? r->br.why : "torn block before the last segment");
			uint32_t next = r->seg + 1;
			close(r->fd);
			r->fd = -1;
			rc = open_segment(r, next);
			if (rc == 1)
				return JOURNAL_EOF;
			if (rc)
				return rc;
			if (r->expect_recno && r->seg_first != r->expect_recno)
				return segment_jump(r);
			continue;
		}
		if (rc == BLK_BAD)
			return corrupt(r, r->br.why ? r->br.why : "bad block");
		{
			char path[4200];
			seg_path(path, sizeof(path), r->j->dir, r->seg);
			r->err_seg = r->seg;
			r->err_off = r->off;
			journal_set_detail(r->j, "cannot read segment '%s' at offset %llu: %s", path,
					   (unsigned long long)r->off, strerror(rc));
		}
		return rc; /* errno */
	}
}

int
journal_reader_next(struct journal_reader *r, struct journal_record *rec)
{
	if (r->pushback) {
		r->pushback = 0;
		*rec = r->held;
		return 0;
	}
	return reader_read(r, rec);
}

int
reader_start_at(struct journal_reader *r, uint32_t segment, uint64_t offset, uint64_t expect_recno)
{
	int rc;
	reader_reset(r);
	if ((rc = open_segment(r, segment)) != 0) {
		if (rc == 1) {
			char path[4200];
			seg_path(path, sizeof(path), r->j->dir, segment);
			journal_set_detail(r->j, "the index points to segment '%s', which does not exist; run 'wstape verify --reindex'",
					   path);
			return JOURNAL_EINDEX;
		}
		return rc;
	}
	r->off = offset;
	r->expect_recno = expect_recno;
	return 0;
}

void
reader_counts(const struct journal_reader *r, uint64_t *blocks, uint64_t *raw_bytes)
{
	*blocks = r->blocks_read;
	*raw_bytes = r->raw_read;
}

uint64_t
reader_torn_bytes(const struct journal_reader *r)
{
	struct stat sb;
	if (r->fd >= 0 && !r->in_block && fstat(r->fd, &sb) == 0 && (uint64_t)sb.st_size > r->off)
		return (uint64_t)sb.st_size - r->off;
	return 0;
}

/* Position at an indexed block. The index can name a block that is not there (the
 * segment was cut, or replaced): say where, rather than read on from a wrong place. */
static int
reader_goto(struct journal_reader *r, const struct idx_block *b)
{
	struct stat sb;
	int rc;
	if ((rc = reader_start_at(r, b->segment, b->offset, b->first_recno)) != 0)
		return rc;
	if (fstat(r->fd, &sb) != 0)
		return errno;
	if ((uint64_t)sb.st_size < b->offset + BLK_HEADER_SIZE + b->comp_len) {
		char path[4200];
		seg_path(path, sizeof(path), r->j->dir, b->segment);
		r->err_seg = b->segment;
		r->err_off = b->offset;
		journal_set_detail(r->j, "the index points to a block at offset %llu of segment '%s' (records %llu..%llu), past the end of the file (%llu bytes); run 'wstape verify --reindex'",
				   (unsigned long long)b->offset, path, (unsigned long long)b->first_recno,
				   (unsigned long long)(b->first_recno + b->count - 1), (unsigned long long)sb.st_size);
		return JOURNAL_EINDEX;
	}
	return 0;
}

/* Scan forward from the current position to the first record that 'match' accepts,
 * and hold it for the next journal_reader_next(). */
static int
scan_to(struct journal_reader *r, int (*match)(const struct journal_record *, const void *), const void *arg)
{
	struct journal_record rec;
	int rc;
	while ((rc = reader_read(r, &rec)) == 0) {
		if (match(&rec, arg)) {
			r->held = rec;
			r->pushback = 1;
			return 0;
		}
	}
	return rc == JOURNAL_EOF ? JOURNAL_ENOTFOUND : rc;
}

/* Start from the block the index found, else from the last indexed block (the target
 * may be in the unindexed tail), else from the start. */
static int
start_at(struct journal_reader *r, int found, const struct idx_block *b)
{
	struct idx_block last;
	if (found == 0)
		return reader_goto(r, b);
	if (r->j->idx && idx_last_block(r->j->idx, &last) == 0)
		return reader_goto(r, &last);
	reader_reset(r);
	return 0;
}

static int
match_recno(const struct journal_record *rec, const void *arg)
{
	return rec->recno >= *(const uint64_t *)arg;
}

int
journal_reader_seek_recno(struct journal_reader *r, uint64_t recno)
{
	struct idx_block b;
	int found = -1, rc;
	if (r->j->idx && idx_find_recno(r->j->idx, recno, &b) == 0 && recno < b.first_recno + b.count)
		found = 0;
	if ((rc = start_at(r, found, &b)) != 0)
		return rc;
	return scan_to(r, match_recno, &recno);
}

static int
match_time(const struct journal_record *rec, const void *arg)
{
	return rec->wall_ns >= *(const int64_t *)arg;
}

int
journal_reader_seek_time(struct journal_reader *r, int64_t wall_ns)
{
	struct idx_block b;
	int found = -1, rc;
	if (r->j->idx && idx_find_time(r->j->idx, wall_ns, &b) == 0)
		found = 0;
	if ((rc = start_at(r, found, &b)) != 0)
		return rc;
	return scan_to(r, match_time, &wall_ns);
}

struct cursor_target {
	const char *ch;
	size_t chlen;
	const void *cur;
	size_t curlen;
};

static int
match_cursor(const struct journal_record *rec, const void *arg)
{
	const struct cursor_target *t = arg;
	return rec->channel_len == t->chlen && memcmp(rec->channel, t->ch, t->chlen) == 0 && rec->cursor_len &&
	       journal_cursor_cmp(rec->cursor, rec->cursor_len, t->cur, t->curlen) >= 0;
}

int
journal_reader_seek_cursor(struct journal_reader *r, const char *channel, size_t channel_len,
			   const void *cursor, size_t cursor_len)
{
	struct idx_block b;
	struct cursor_target t = { channel, channel_len, cursor, cursor_len };
	int found = -1, rc;
	if (r->j->idx && idx_find_cursor(r->j->idx, channel, channel_len, cursor, cursor_len, &b) == 0)
		found = 0;
	if ((rc = start_at(r, found, &b)) != 0)
		return rc;
	return scan_to(r, match_cursor, &t);
}

/* ---- statistics ---- */

static uint64_t
dir_segment_bytes(struct journal *j, uint32_t *count)
{
	uint32_t *segs = NULL;
	size_t n = 0;
	uint64_t total = 0;
	char path[4200];
	struct stat sb;

	*count = 0;
	if (seg_list(j->dir, &segs, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		seg_path(path, sizeof(path), j->dir, segs[i]);
		if (stat(path, &sb) == 0)
			total += (uint64_t)sb.st_size;
	}
	*count = (uint32_t)n;
	free(segs);
	return total;
}

/* A reader's view of the index: a snapshot of it and its state, unless there is none, or
 * it lists blocks the segments do not hold (then it is set aside for good, and the
 * figures come from the segments alone). Returns the snapshot to use, or NULL. */
static struct idx_snap *
usable_index(struct journal *j, struct idx_snap *snap, struct idx_state *is)
{
	struct idx_block last;
	char why[512];

	memset(is, 0, sizeof(*is));
	if (!j->idx || j->idx_stale || idx_snap_begin(j->idx, snap) != 0)
		return NULL;
	if (idx_snap_state(snap, is) != 0) {
		memset(is, 0, sizeof(*is));
		idx_snap_end(snap);
		return NULL;
	}
	snprintf(why, sizeof(why), "the index's state lists blocks, but its last block cannot be read");
	if (is->blocks && (idx_snap_last_block(snap, &last) != 0 ||
			   index_end_check(j->dir, is, &last, why, sizeof(why)) == INDEX_END_MISMATCH)) {
		j->idx_stale = 1;
		snprintf(j->idx_detail, sizeof(j->idx_detail), "%s", why);
		memset(is, 0, sizeof(*is));
		idx_snap_end(snap);
		return NULL;
	}
	return snap;
}

int
journal_stats(struct journal *j, struct journal_stats *st)
{
	struct idx_state is;
	struct idx_snap snap, *sp = NULL;
	struct tail *t = NULL;
	int rc = 0;

	memset(st, 0, sizeof(*st));
	if (!(j->flags & JOURNAL_RDONLY)) {
		/* what is written, without forcing a flush (that would change the block sizes
		 * of a recorder that shows its stats once a second) */
		pthread_mutex_lock(&j->mu);
		while (j->storing)
			pthread_cond_wait(&j->cv_done, &j->mu);
		is = j->st;
		st->append_waits = j->append_waits;
		st->append_wait_ns = j->append_wait_ns;
		st->pending_records = (j->next_recno - 1) - (is.next_recno ? is.next_recno - 1 : 0);
		pthread_mutex_unlock(&j->mu);
	} else {
		/* readers: the index, plus what lies past it, summed from the segments */
		pthread_mutex_lock(&j->mu);
		sp = usable_index(j, &snap, &is);
		rc = tail_update(j, sp ? &is : NULL, &t);
	}
	st->records = is.records;
	st->raw_bytes = is.payload_bytes;
	st->block_raw_bytes = is.raw_bytes;
	st->blocks = is.blocks;
	st->first_wall_ns = is.first_wall;
	st->last_wall_ns = is.max_wall;
	if (is.records) {
		st->first_recno = is.next_recno - is.records;
		st->last_recno = is.next_recno - 1;
	}
	if (!(j->flags & JOURNAL_RDONLY)) {
		if (j->idx && !j->idx_failed) {
			st->connections = idx_conn_count(j->idx);
			st->channels = idx_channel_count(j->idx);
		}
	} else {
		if (rc == 0) {
			st->connections = (sp ? idx_snap_conn_count(sp) : 0) + tail_new_conns(t, sp);
			st->channels = (sp ? idx_snap_channel_count(sp) : 0) + tail_new_channels(t, sp);
			tail_sums(t, st);
		}
		st->index_stale = j->idx_stale;
		st->index_damaged = j->idx_open_err != 0;
		st->index_unreadable = j->idx_unreadable != 0;
		if (sp)
			idx_snap_end(sp);
		if (j->idx_stale && rc == 0) /* a gap's detail (rc) names the missing records */
			journal_set_detail(j, "%s", j->idx_detail);
		pthread_mutex_unlock(&j->mu);
		if (rc)
			return rc;
	}
	st->segment_bytes = dir_segment_bytes(j, &st->segments);
	st->disk_bytes = st->segment_bytes + (j->idx ? idx_disk_bytes(j->idx) : 0);
	return 0;
}

int
journal_conn_foreach(struct journal *j, int (*fn)(const struct journal_conn_info *, void *), void *ud)
{
	struct idx_state is;
	struct idx_snap snap, *sp;
	struct tail *t;
	int rc;

	if (!(j->flags & JOURNAL_RDONLY))
		return j->idx ? idx_conn_foreach(j->idx, fn, ud) : JOURNAL_EINDEX;
	pthread_mutex_lock(&j->mu);
	sp = usable_index(j, &snap, &is);
	if ((rc = tail_update(j, sp ? &is : NULL, &t)) == 0)
		rc = tail_conn_foreach(t, sp, fn, ud);
	if (sp)
		idx_snap_end(sp);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
journal_channel_foreach(struct journal *j, int (*fn)(const struct journal_channel_info *, void *), void *ud)
{
	struct idx_state is;
	struct idx_snap snap, *sp;
	struct tail *t;
	int rc;

	if (!(j->flags & JOURNAL_RDONLY))
		return j->idx ? idx_channel_foreach(j->idx, fn, ud) : JOURNAL_EINDEX;
	pthread_mutex_lock(&j->mu);
	sp = usable_index(j, &snap, &is);
	if ((rc = tail_update(j, sp ? &is : NULL, &t)) == 0)
		rc = tail_channel_foreach(t, sp, fn, ud);
	if (sp)
		idx_snap_end(sp);
	pthread_mutex_unlock(&j->mu);
	return rc;
}

/* ---- verification ---- */

struct seen_block {
	uint32_t segment;
	uint64_t offset, first_recno;
	uint32_t count;
};

struct verify_ctx {
	struct seen_block *v;
	size_t n, i;
	uint64_t indexed_before;  /* the index's next record number before the scan began */
	int bad, newer;
	struct idx_block badb;
};

static int
check_indexed(const struct idx_block *b, void *ud)
{
	struct verify_ctx *c = ud;
	if (b->first_recno >= c->indexed_before) {
		/* indexed after the scan began: a writer appends; the scan may not have seen it */
		c->newer = 1;
		return 1;
	}
	if (c->i >= c->n) {
		c->bad = 1;
		c->badb = *b;
		return 1;
	}
	const struct seen_block *s = &c->v[c->i++];
	if (s->segment != b->segment || s->offset != b->offset || s->first_recno != b->first_recno ||
	    s->count != b->count) {
		c->bad = 1;
		c->badb = *b;
		return 1;
	}
	return 0;
}

/* Read every block; stops at the first problem and reports it in v. */
static int
scan_all(struct journal *j, struct verify_ctx *c, struct journal_verify *v)
{
	uint32_t *segs = NULL;
	size_t nseg = 0, cap = 0;
	struct blk_reader br;
	int rc;
	uint64_t expect = 0;

	if ((rc = seg_list(j->dir, &segs, &nseg)) != 0)
		return rc;
	blk_reader_init(&br);
	for (size_t i = 0; i < nseg && rc == 0; i++) {
		char path[4200];
		uint8_t sh[SEG_HEADER_SIZE];
		struct stat sb;
		int last = i + 1 == nseg;
		seg_path(path, sizeof(path), j->dir, segs[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t got = 0;
		v->bad_segment = segs[i];
		v->bad_offset = 0;
		/* a segment that cannot be read, or that a newer wstape wrote, is no corruption:
		 * say why (an errno or JOURNAL_EVERSION) */
		if (fd < 0 || fstat(fd, &sb) != 0) {
			rc = errno;
			if (fd >= 0)
				close(fd);
			journal_set_detail(j, "cannot open segment '%s': %s", path, strerror(rc));
			v->detail = j->detail;
			break;
		}
		if (sb.st_size >= SEG_HEADER_SIZE && (got = pread(fd, sh, sizeof(sh), 0)) < 0) {
			rc = errno;
			close(fd);
			journal_set_detail(j, "cannot read segment '%s': %s", path, strerror(rc));
			v->detail = j->detail;
			break;
		}
		if (sb.st_size < SEG_HEADER_SIZE || got != (ssize_t)sizeof(sh) || (rc = seg_header_check(sh, segs[i])) != 0) {
			close(fd);
			if (last && sb.st_size <= SEG_HEADER_SIZE && rc != JOURNAL_EVERSION) {
				v->torn_bytes = (uint64_t)sb.st_size;
				rc = 0;
				break;
			}
			if (rc == JOURNAL_EVERSION) {
				journal_set_detail(j, "segment '%s' was written by a newer wstape (format %u); this one reads up to %d",
						   path, get_u32(sh + 8), JOURNAL_FORMAT_VERSION);
				v->detail = j->detail;
			} else {
				v->detail = "bad segment header";
				rc = JOURNAL_ECORRUPT;
			}
			break;
		}
		uint64_t seg_first = get_u64(sh + 16) ? get_u64(sh + 16) : 1;
		if (expect && seg_first != expect) {
			close(fd);
			char prev[4200];
			seg_path(prev, sizeof(prev), j->dir, segs[i - 1]);
			if (seg_first > expect) {
				journal_set_detail(j, "records are missing from the journal: %llu..%llu (segment '%s' ends before record %llu, segment '%s' starts at record %llu)",
						   (unsigned long long)expect, (unsigned long long)(seg_first - 1), prev,
						   (unsigned long long)expect, path, (unsigned long long)seg_first);
				rc = JOURNAL_EGAP;
			} else {
				journal_set_detail(j, "segment '%s' starts at record %llu, which segment '%s' already holds (out of sequence)",
						   path, (unsigned long long)seg_first, prev);
				rc = JOURNAL_ECORRUPT;
			}
			v->detail = j->detail;
			break;
		}
		uint64_t off = SEG_HEADER_SIZE;
		for (;;) {
			v->bad_offset = off;
			int b = blk_read(&br, fd, off, (uint64_t)sb.st_size, 1);
			if (b == BLK_END)
				break;
			if (b == BLK_TORN && last) {
				v->torn_bytes = (uint64_t)sb.st_size - off;
				break;
			}
			if (b > BLK_BAD) {
				journal_set_detail(j, "cannot read segment '%s' at offset %llu: %s", path,
						   (unsigned long long)off, strerror(b));
				v->detail = j->detail;
				rc = b;
				break;
			}
			if (b != BLK_OK) {
				v->detail = br.why ? br.why : "bad block";
				rc = JOURNAL_ECORRUPT;
				break;
			}
			if (expect && br.h.first_recno != expect) {
				v->detail = "block does not continue the record numbers";
				rc = JOURNAL_ECORRUPT;
				break;
			}
			struct blk_iter it;
			struct journal_record rec;
			blk_iter_init(&it, &br.h, br.raw);
			while ((rc = blk_iter_next(&it, &rec)) == 0)
				;
			if (rc != JOURNAL_EOF) {
				v->detail = "bad record framing in block";
				rc = JOURNAL_ECORRUPT;
				break;
			}
			rc = 0;
			expect = br.h.first_recno + br.h.count;
			if (c) {
				if (c->n == cap) {
					cap = cap ? cap * 2 : 1024;
					struct seen_block *nv = realloc(c->v, cap * sizeof(*nv));
					if (!nv) {
						rc = ENOMEM;
						break;
					}
					c->v = nv;
				}
				c->v[c->n++] = (struct seen_block){ segs[i], off, br.h.first_recno, br.h.count };
			}
			v->blocks++;
			v->records += br.h.count;
			off += BLK_HEADER_SIZE + br.h.comp_len;
			v->good_bytes += BLK_HEADER_SIZE + br.h.comp_len;
		}
		v->good_bytes += SEG_HEADER_SIZE;
		close(fd);
	}
	blk_reader_free(&br);
	free(segs);
	return rc;
}

/* The segments are read first and the index after, while a writer may go on appending
 * and indexing. A block is written before it is indexed, so every block the index held
 * before the scan began is one the scan must have seen; blocks indexed later are not
 * compared. */
int
journal_verify(struct journal *j, struct journal_verify *v)
{
	struct verify_ctx c = { 0 };
	struct idx_state before;
	int rc;

	memset(v, 0, sizeof(*v));
	c.indexed_before = UINT64_MAX;
	if (j->idx && idx_state_get(j->idx, &before) == 0)
		c.indexed_before = before.next_recno; /* 0 for an empty index */
	if ((rc = scan_all(j, &c, v)) != 0) {
		free(c.v);
		return rc;
	}
	v->detail = NULL;
	if (j->idx) {
		rc = idx_block_foreach(j->idx, check_indexed, &c);
		if (c.newer)
			rc = 0;
		if (c.bad) {
			v->bad_segment = c.badb.segment;
			v->bad_offset = c.badb.offset;
			v->detail = "the index does not match the segments (run 'wstape verify --reindex')";
			rc = JOURNAL_EINDEX;
		} else if (rc) {
			v->detail = "the index cannot be read (run 'wstape verify --reindex')";
			rc = JOURNAL_EINDEX;
		} else {
			v->unindexed_blocks = c.n - c.i;
		}
	} else if (j->idx_open_err) {
		journal_set_detail(j, "the index is damaged (%s); 'wstape verify --repair' or --reindex rebuilds it",
				   j->idx_detail);
		v->detail = j->detail;
		v->bad_segment = 0;
		v->bad_offset = 0;
		rc = JOURNAL_EINDEX;
	} else if (j->idx_stale) {
		journal_set_detail(j, "the index does not match the segments (%s); 'wstape verify --repair' or --reindex rebuilds it",
				   j->idx_detail);
		v->detail = j->detail;
		v->bad_segment = 0;
		v->bad_offset = 0;
		rc = JOURNAL_EINDEX;
	} else if (j->idx_unreadable) {
		/* not verified: say so, and fail */
		journal_set_detail(j, "the index cannot be checked: %s", j->idx_detail);
		v->detail = j->detail;
		v->bad_segment = 0;
		v->bad_offset = 0;
		rc = j->idx_unreadable;
	} else {
		v->unindexed_blocks = c.n;
	}
	free(c.v);
	return rc;
}

int
journal_repair(const char *path, uint32_t *segment, uint64_t *offset, uint64_t *cut_bytes)
{
	struct journal *j;
	struct journal_verify v;
	char seg[4200], lock[4200];
	uint32_t *segs = NULL;
	size_t nseg = 0;
	int rc, lfd;

	*cut_bytes = 0;
	if ((rc = journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL)) != 0)
		return rc;
	snprintf(lock, sizeof(lock), "%s/" LOCK_FILE, path);
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 || flock(lfd, LOCK_EX | LOCK_NB) != 0) {
		rc = lfd < 0 ? errno : JOURNAL_ELOCKED;
		if (lfd >= 0)
			close(lfd);
		journal_close(j);
		return rc;
	}
	memset(&v, 0, sizeof(v));
	rc = scan_all(j, NULL, &v);
	*segment = v.bad_segment;
	*offset = v.bad_offset;
	if (rc == JOURNAL_ECORRUPT && seg_list(path, &segs, &nseg) == 0 && nseg && segs[nseg - 1] == v.bad_segment) {
		struct stat sb;
		seg_path(seg, sizeof(seg), path, v.bad_segment);
		if (stat(seg, &sb) == 0 && truncate(seg, (off_t)v.bad_offset) == 0) {
			*cut_bytes = (uint64_t)sb.st_size - v.bad_offset;
			rc = 0;
			/* the index may describe what was cut: drop it, the next writer rebuilds it */
			char idx[4300];
			snprintf(idx, sizeof(idx), "%s/" INDEX_DIR "/data.mdb", path);
			unlink(idx);
			snprintf(idx, sizeof(idx), "%s/" INDEX_DIR "/lock.mdb", path);
			unlink(idx);
		} else {
			rc = errno;
		}
	}
	free(segs);
	close(lfd);
	journal_close(j);
	return rc;
}
