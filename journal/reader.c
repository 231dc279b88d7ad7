/* reader.c - reading a journal: sequential iteration across segments, and seeks through
 * the index
 *
 * A reader walks the segment files block by block; the index only tells it where to
 * start. So a reader also sees the blocks a live writer sealed but has not indexed yet,
 * and works when the index is missing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block.h"
#include "index.h"
#include "pruned.h"
#include "reader.h"

struct journal_reader {
	struct journal *j;
	uint32_t seg; /* current segment number; 0 = not started */
	int fd;
	uint64_t off; /* offset of the current (or next) block */
	struct blk_reader br;
	int in_block;
	struct blk_iter it;
	uint64_t expect_recno; /* 0 = unknown */
	int pushback;
	struct journal_record held;
	uint32_t err_seg;
	uint64_t err_off;
	uint64_t blocks_read, raw_read; /* blocks loaded and their raw bytes (for tail.c) */
	uint64_t seg_first; /* the first record number the current segment's header gives */
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
			journal_set_detail(r->j,
					   "segment '%s' has format version %u; this wstape reads up to %d",
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
		journal_set_detail(
			r->j,
			"records are missing from the journal: %llu..%llu (segment '%s' ends before record %llu, segment '%s' starts at record %llu)",
			(unsigned long long)r->expect_recno, (unsigned long long)(r->seg_first - 1), prev,
			(unsigned long long)r->expect_recno, path, (unsigned long long)r->seg_first);
		return JOURNAL_EGAP;
	}
	journal_set_detail(
		r->j,
		"segment '%s' starts at record %llu, which segment '%s' already holds (out of sequence)",
		path, (unsigned long long)r->seg_first, prev);
	return JOURNAL_ECORRUPT;
}

/* Open the first segment, or the one a seek chose, when none is open. 0, JOURNAL_EOF
 * (nothing to read yet) or an error. */
static int
reader_ensure_open(struct journal_reader *r)
{
	if (r->fd >= 0)
		return 0;
	uint32_t n = r->seg ? r->seg : first_segment(r->j);
	if (n == 0)
		return JOURNAL_EOF;
	uint64_t keep = r->off;
	int rc = open_segment(r, n);
	if (rc == 1)
		return JOURNAL_EOF;
	if (rc)
		return rc;
	if (keep > SEG_HEADER_SIZE)
		r->off = keep;
	return 0;
}

/* At the end of segment r->seg, whose next one is not there: a prune may have removed it
 * (and this one, which the reader still has open) meanwhile. Then read on from the first
 * segment the prune kept: the records between were pruned, not lost. JOURNAL_EOF when
 * nothing was pruned past this one (the end, or a segment being started), else 0 or what
 * opening the kept segment met. */
static int
reader_pruned_past(struct journal_reader *r)
{
	uint32_t first = pruned_first_segment(r->j->dir);
	int rc;

	if (first <= r->seg + 1)
		return JOURNAL_EOF;
	if ((rc = open_segment(r, first)) == 1)
		return JOURNAL_EOF;
	if (rc)
		return rc;
	r->expect_recno = r->seg_first;
	return 0;
}

/* At the end of the current segment (BLK_END, or a torn block: 'torn'): the next segment
 * exists only once this one is complete. 0 to read on (in the next segment, or in this
 * one measured again), JOURNAL_EOF, or an error. */
static int
reader_cross(struct journal_reader *r, int torn, int *recheck)
{
	char path[4200];
	struct stat nsb;
	int rc;

	seg_path(path, sizeof(path), r->j->dir, r->seg + 1);
	if (stat(path, &nsb) != 0)
		return reader_pruned_past(r); /* the end, a block being written right now, or a prune */
	if (!*recheck) {
		/* The writer may have written more to this segment (finishing its last block)
		 * and started the next since this one was measured. Now that the next exists,
		 * this one is complete: measure again. */
		*recheck = 1;
		return 0;
	}
	if (torn)
		return corrupt(r, r->br.why ? r->br.why : "torn block before the last segment");
	uint32_t next = r->seg + 1;
	rc = open_segment(r, next);
	if (rc == 1)
		return reader_pruned_past(r);
	if (rc) {
		close(r->fd);
		r->fd = -1;
		return rc;
	}
	if (r->expect_recno && r->seg_first != r->expect_recno)
		return segment_jump(r);
	return 0;
}

/* The block just read is whole: check that it continues the record numbers and start
 * iterating its records. */
static int
reader_enter_block(struct journal_reader *r)
{
	if (r->expect_recno && r->br.h.first_recno != r->expect_recno)
		return corrupt(r, "block does not continue the record numbers");
	r->expect_recno = r->br.h.first_recno + r->br.h.count;
	r->blocks_read++;
	r->raw_read += r->br.h.raw_len;
	blk_iter_init(&r->it, &r->br.h, r->br.raw);
	r->in_block = 1;
	return 0;
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
		if ((rc = reader_ensure_open(r)) != 0)
			return rc;
		struct stat sb;
		if (fstat(r->fd, &sb) != 0)
			return errno;
		rc = blk_read(&r->br, r->fd, r->off, (uint64_t)sb.st_size, 1);
		if (rc == BLK_OK) {
			recheck = 0;
			if ((rc = reader_enter_block(r)) != 0)
				return rc;
			continue;
		}
		if (rc == BLK_END || rc == BLK_TORN) {
			if ((rc = reader_cross(r, rc == BLK_TORN, &recheck)) != 0)
				return rc;
			continue;
		}
		if (rc == BLK_BAD)
			return corrupt(r, r->br.why ? r->br.why : "bad block");
		char path[4200];
		seg_path(path, sizeof(path), r->j->dir, r->seg);
		r->err_seg = r->seg;
		r->err_off = r->off;
		journal_set_detail(r->j, "cannot read segment '%s' at offset %llu: %s", path,
				   (unsigned long long)r->off, strerror(rc));
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
			journal_set_detail(
				r->j,
				"the index points to segment '%s', which does not exist; run 'wstape verify --reindex'",
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
		journal_set_detail(
			r->j,
			"the index points to a block at offset %llu of segment '%s' (records %llu..%llu), past the end of the file (%llu bytes); run 'wstape verify --reindex'",
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
	struct idx_block last, kept;
	int rc;
	if (found == 0) {
		/* an index a prune has not finished with (or is finishing now) may still list
		 * blocks before the first record kept: start at that record's block */
		uint64_t floor = pruned_first_recno(r->j->dir);
		if (b->first_recno < floor) {
			if (idx_find_recno(r->j->idx, floor, &kept) != 0 || kept.first_recno < floor) {
				reader_reset(r);
				return 0;
			}
			b = &kept;
		}
		rc = reader_goto(r, b);
		if (rc == JOURNAL_EINDEX && b->segment < pruned_first_segment(r->j->dir)) {
			reader_reset(r); /* pruned under the seek: read from the first kept */
			return 0;
		}
		return rc;
	}
	if (found == -2) {
		reader_reset(r);
		return 0;
	}
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
	int found = -1, rc = 0;
	if (r->j->idx && (rc = idx_find_recno(r->j->idx, recno, &b)) == 0 && recno < b.first_recno + b.count)
		found = 0;
	else if (r->j->idx && rc == JOURNAL_ENOTFOUND)
		found = -2; /* before the first indexed block (a pruned journal): from the start */
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
	return rec->channel_len == t->chlen && memcmp(rec->channel, t->ch, t->chlen) == 0 &&
		rec->cursor_len && journal_cursor_cmp(rec->cursor, rec->cursor_len, t->cur, t->curlen) >= 0;
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
