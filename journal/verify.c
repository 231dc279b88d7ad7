/* verify.c - verification of every block of every segment and of the index against them,
 * and the repair that cuts the last segment at its first bad block */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block.h"
#include "index.h"
#include "pruned.h"
#include "view.h"

struct seen_block {
	uint32_t segment;
	uint64_t offset, first_recno;
	uint32_t count;
};

struct verify_ctx {
	struct seen_block *v;
	size_t n, i, cap;
	uint64_t indexed_before; /* the index's next record number before the scan began */
	uint64_t floor; /* the first record a prune kept: blocks before it are not compared */
	int bad, newer;
	struct idx_block badb;
};

/* One scan over the segments. */
struct scan {
	struct journal *j;
	struct verify_ctx *c; /* NULL: nothing is kept */
	struct journal_verify *v;
	struct blk_reader br;
	uint64_t expect; /* the next record number; 0 before the first block */
};

static int
check_indexed(const struct idx_block *b, void *ud)
{
	struct verify_ctx *c = ud;
	if (b->first_recno < c->floor)
		return 0; /* pruned; an interrupted prune left its entry */
	while (c->i < c->n && c->v[c->i].first_recno < c->floor)
		c->i++;
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

static int
scan_detail(struct scan *s, int rc)
{
	s->v->detail = s->j->detail;
	return rc;
}

/* Open segment n (at path) and check its header and that it starts where the one before
 * ended. 0 with *fd and *size; 0 with *fd -1 when it is the last one and ends before its
 * header is whole (a torn tail); or an error with v->detail set. A segment that cannot be
 * read, or that a newer wstape wrote, is no corruption: say why (an errno or
 * JOURNAL_EVERSION). */
static int
scan_segment_open(struct scan *s, const char *path, uint32_t n, uint32_t prev, int last, int *fd,
		  uint64_t *size)
{
	struct journal *j = s->j;
	uint8_t sh[SEG_HEADER_SIZE];
	struct stat sb;
	ssize_t got = 0;
	int rc = 0;

	if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(*fd, &sb) != 0) {
		rc = errno;
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		journal_set_detail(j, "cannot open segment '%s': %s", path, strerror(rc));
		return scan_detail(s, rc);
	}
	*size = (uint64_t)sb.st_size;
	if (sb.st_size >= SEG_HEADER_SIZE && (got = pread(*fd, sh, sizeof(sh), 0)) < 0) {
		rc = errno;
		close(*fd);
		*fd = -1;
		journal_set_detail(j, "cannot read segment '%s': %s", path, strerror(rc));
		return scan_detail(s, rc);
	}
	if (sb.st_size < SEG_HEADER_SIZE || got != (ssize_t)sizeof(sh) ||
	    (rc = seg_header_check(sh, n)) != 0) {
		close(*fd);
		*fd = -1;
		if (last && sb.st_size <= SEG_HEADER_SIZE && rc != JOURNAL_EVERSION) {
			s->v->torn_bytes = (uint64_t)sb.st_size;
			return 0;
		}
		if (rc == JOURNAL_EVERSION) {
			journal_set_detail(
				j,
				"segment '%s' was written by a newer wstape (format %u); this one reads up to %d",
				path, get_u32(sh + 8), JOURNAL_FORMAT_VERSION);
			return scan_detail(s, rc);
		}
		s->v->detail = "bad segment header";
		return JOURNAL_ECORRUPT;
	}
	uint64_t seg_first = get_u64(sh + 16) ? get_u64(sh + 16) : 1;
	if (s->expect && seg_first != s->expect) {
		close(*fd);
		*fd = -1;
		char prevp[4200];
		seg_path(prevp, sizeof(prevp), j->dir, prev);
		if (seg_first > s->expect) {
			journal_set_detail(
				j,
				"records are missing from the journal: %llu..%llu (segment '%s' ends before record %llu, segment '%s' starts at record %llu)",
				(unsigned long long)s->expect, (unsigned long long)(seg_first - 1), prevp,
				(unsigned long long)s->expect, path, (unsigned long long)seg_first);
			return scan_detail(s, JOURNAL_EGAP);
		}
		journal_set_detail(
			j,
			"segment '%s' starts at record %llu, which segment '%s' already holds (out of sequence)",
			path, (unsigned long long)seg_first, prevp);
		return scan_detail(s, JOURNAL_ECORRUPT);
	}
	return 0;
}

/* Note a verified block for the comparison with the index. 0 or ENOMEM. */
static int
scan_keep(struct verify_ctx *c, uint32_t n, uint64_t off, const struct blk_header *h)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 1024;
		struct seen_block *nv = realloc(c->v, cap * sizeof(*nv));
		if (!nv)
			return ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	c->v[c->n++] = (struct seen_block){ n, off, h->first_recno, h->count };
	return 0;
}

/* Read and check every block of segment n (open as fd, of the given size). */
static int
scan_segment_blocks(struct scan *s, const char *path, uint32_t n, int fd, uint64_t size, int last)
{
	struct journal_verify *v = s->v;
	struct blk_reader *br = &s->br;
	uint64_t off = SEG_HEADER_SIZE;
	int rc;

	for (;;) {
		v->bad_offset = off;
		int b = blk_read(br, fd, off, size, 1);
		if (b == BLK_END)
			return 0;
		if (b == BLK_TORN && last) {
			v->torn_bytes = size - off;
			return 0;
		}
		if (b > BLK_BAD) {
			journal_set_detail(s->j, "cannot read segment '%s' at offset %llu: %s", path,
					   (unsigned long long)off, strerror(b));
			return scan_detail(s, b);
		}
		if (b != BLK_OK) {
			v->detail = br->why ? br->why : "bad block";
			return JOURNAL_ECORRUPT;
		}
		if (s->expect && br->h.first_recno != s->expect) {
			v->detail = "block does not continue the record numbers";
			return JOURNAL_ECORRUPT;
		}
		struct blk_iter it;
		struct journal_record rec;
		blk_iter_init(&it, &br->h, br->raw);
		while ((rc = blk_iter_next(&it, &rec)) == 0)
			;
		if (rc != JOURNAL_EOF) {
			v->detail = "bad record framing in block";
			return JOURNAL_ECORRUPT;
		}
		s->expect = br->h.first_recno + br->h.count;
		if (s->c && (rc = scan_keep(s->c, n, off, &br->h)) != 0)
			return rc;
		v->blocks++;
		v->records += br->h.count;
		off += BLK_HEADER_SIZE + br->h.comp_len;
		v->good_bytes += BLK_HEADER_SIZE + br->h.comp_len;
	}
}

/* Read every block; stops at the first problem and reports it in v. */
static int
scan_all(struct journal *j, struct verify_ctx *c, struct journal_verify *v)
{
	struct scan s = { .j = j, .c = c, .v = v };
	uint32_t *segs = NULL;
	size_t nseg = 0;
	int rc;

	if ((rc = seg_list(j->dir, &segs, &nseg)) != 0)
		return rc;
	blk_reader_init(&s.br);
	for (size_t i = 0; i < nseg && rc == 0; i++) {
		char path[4200];
		uint64_t size = 0;
		int fd, last = i + 1 == nseg;

		seg_path(path, sizeof(path), j->dir, segs[i]);
		v->bad_segment = segs[i];
		v->bad_offset = 0;
		if ((rc = scan_segment_open(&s, path, segs[i], i ? segs[i - 1] : 0, last, &fd, &size)) != 0 ||
		    fd < 0)
			break;
		rc = scan_segment_blocks(&s, path, segs[i], fd, size, last);
		v->good_bytes += SEG_HEADER_SIZE;
		close(fd);
	}
	blk_reader_free(&s.br);
	free(segs);
	return rc;
}

/* Compare the index with the blocks the scan saw, or say why there is no index to
 * compare. */
static int
verify_index(struct journal *j, struct verify_ctx *c, struct journal_verify *v)
{
	const struct journal_view *jv = j->view;
	int rc;

	if (j->idx) {
		rc = idx_block_foreach(j->idx, check_indexed, c);
		if (c->newer)
			rc = 0;
		if (c->bad) {
			v->bad_segment = c->badb.segment;
			v->bad_offset = c->badb.offset;
			v->detail = "the index does not match the segments (run 'wstape verify --reindex')";
			return JOURNAL_EINDEX;
		}
		if (rc) {
			v->detail = "the index cannot be read (run 'wstape verify --reindex')";
			return JOURNAL_EINDEX;
		}
		v->unindexed_blocks = c->n - c->i;
		return 0;
	}
	if (!jv || !(jv->idx_open_err || jv->idx_stale || jv->idx_unreadable)) {
		v->unindexed_blocks = c->n;
		return 0;
	}
	if (jv->idx_open_err) {
		journal_set_detail(
			j, "the index is damaged (%s); 'wstape verify --repair' or --reindex rebuilds it",
			jv->idx_detail);
		rc = JOURNAL_EINDEX;
	} else if (jv->idx_stale) {
		journal_set_detail(
			j,
			"the index does not match the segments (%s); 'wstape verify --repair' or --reindex rebuilds it",
			jv->idx_detail);
		rc = JOURNAL_EINDEX;
	} else {
		/* not verified: say so, and fail */
		journal_set_detail(j, "the index cannot be checked: %s", jv->idx_detail);
		rc = jv->idx_unreadable;
	}
	v->detail = j->detail;
	v->bad_segment = 0;
	v->bad_offset = 0;
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
	if ((rc = scan_all(j, &c, v)) == 0) {
		c.floor = pruned_first_recno(j->dir);
		v->detail = NULL;
		rc = verify_index(j, &c, v);
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
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0 ||
	    flock(lfd, LOCK_EX | LOCK_NB) != 0) {
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
	if (rc == JOURNAL_ECORRUPT && seg_list(path, &segs, &nseg) == 0 && nseg &&
	    segs[nseg - 1] == v.bad_segment) {
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
