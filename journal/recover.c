/* recover.c - recovery of a writer's journal: every block past the index is verified and
 * indexed, a torn tail of the last segment (a crash in the middle of a write) is cut
 * back to the last whole block, and the index can be rebuilt from nothing the same way */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recover.h"
#include "writer_index.h"

/* Check one block read at off (its record numbers continue the store's, its records are
 * framed) and index it. 0 or JOURNAL_ECORRUPT with j's detail set. */
static int
recover_block(struct journal *j, const struct blk_reader *br, const char *path, uint32_t n, uint64_t off,
	      struct journal_recovery *rec)
{
	struct idx_state *st = &j->w->store.st;
	struct blk_iter it;
	struct journal_record r;
	uint64_t payload = 0;
	uint32_t max_conn = 0;
	int rc;

	if (br->h.first_recno != st->next_recno) {
		journal_set_detail(j, "segment '%s' offset %llu: block starts at record %llu, expected %llu",
				   path, (unsigned long long)off, (unsigned long long)br->h.first_recno,
				   (unsigned long long)st->next_recno);
		return JOURNAL_ECORRUPT;
	}
	/* check the record framing and sum the payload bytes */
	blk_iter_init(&it, &br->h, br->raw);
	while ((rc = blk_iter_next(&it, &r)) == 0) {
		payload += r.payload_len;
		if (r.conn > max_conn)
			max_conn = r.conn;
	}
	if (rc != JOURNAL_EOF) {
		journal_set_detail(j, "segment '%s' offset %llu: bad record framing in block", path,
				   (unsigned long long)off);
		return JOURNAL_ECORRUPT;
	}
	if (st->blocks == 0)
		rec->reindexed = 1; /* the index lacked blocks that the segments hold */
	writer_index_block(j, &br->h, br->raw, n, off, payload, max_conn);
	rec->blocks_indexed++;
	return 0;
}

/* Read, check and index the blocks of segment n (open as fd, of size 'size') from *off on;
 * a torn tail of the last segment is cut. *off ends after the last whole block. 0 or an
 * error with j's detail set. */
static int
recover_blocks(struct journal *j, struct blk_reader *br, int fd, const char *path, uint32_t n, uint64_t size,
	       int last, uint64_t *off, struct journal_recovery *rec)
{
	int rc;

	for (;;) {
		int br_rc = blk_read(br, fd, *off, size, 1);
		if (br_rc == BLK_END)
			return 0;
		if (br_rc == BLK_TORN && last) {
			if (ftruncate(fd, (off_t)*off) != 0 || fsync(fd) != 0) {
				rc = errno;
				journal_set_detail(j, "cannot cut the torn tail of '%s' at offset %llu: %s",
						   path, (unsigned long long)*off, strerror(rc));
				return rc;
			}
			rec->torn_bytes = size - *off;
			rec->torn_offset = *off;
			rec->torn_segment = n;
			return 0;
		}
		if (br_rc > BLK_BAD) {
			journal_set_detail(j, "cannot read '%s' at offset %llu: %s", path,
					   (unsigned long long)*off, strerror(br_rc));
			return br_rc;
		}
		if (br_rc != BLK_OK) {
			journal_set_detail(
				j,
				"segment '%s' offset %llu: %s; run 'wstape verify --repair' to cut the journal there",
				path, (unsigned long long)*off, br->why ? br->why : "bad block");
			return JOURNAL_ECORRUPT;
		}
		if ((rc = recover_block(j, br, path, n, *off, rec)) != 0)
			return rc;
		*off += BLK_HEADER_SIZE + br->h.comp_len;
	}
}

/* A segment whose header cannot be read or does not check: a newer format is refused; the
 * last segment cut before its header was whole (a crash while it was being started: it
 * holds no block) is removed, and *gone set; anything else is corruption. Returns 0 when
 * removed, else an error with j's detail set. */
static int
recover_bad_header(struct journal *j, const char *path, uint32_t n, const uint8_t sh[SEG_HEADER_SIZE],
		   uint64_t size, int last, int *gone, struct journal_recovery *rec)
{
	int vrc = size >= SEG_HEADER_SIZE ? seg_header_check(sh, n) : JOURNAL_ECORRUPT;

	if (vrc == JOURNAL_EVERSION) {
		journal_set_detail(j, "segment '%s' has format version %u; this wstape reads up to %d", path,
				   get_u32(sh + 8), JOURNAL_FORMAT_VERSION);
		return JOURNAL_EVERSION;
	}
	if (last && size <= SEG_HEADER_SIZE) {
		unlink(path);
		journal_fsync_dir(j->dir);
		rec->torn_bytes = size;
		rec->torn_offset = 0;
		rec->torn_segment = n;
		*gone = 1;
		return 0;
	}
	journal_set_detail(j, "segment '%s' has a bad header at offset 0", path);
	return JOURNAL_ECORRUPT;
}

/* Recover segment n; the last one stays open in the store for appending. *gone is set
 * when it was an empty last segment and was removed. 0 or an error. */
static int
recover_segment(struct journal *j, struct blk_reader *br, uint32_t n, int last, int *gone,
		struct journal_recovery *rec)
{
	struct writer_store *s = &j->w->store;
	char path[4200];
	uint8_t sh[SEG_HEADER_SIZE];
	struct stat sb;
	uint64_t off;
	int rc;

	seg_path(path, sizeof(path), j->dir, n);
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		rc = errno;
		journal_set_detail(j, "cannot open segment '%s': %s", path, strerror(rc));
		return rc;
	}
	if (fstat(fd, &sb) != 0) {
		rc = errno;
		close(fd);
		return rc;
	}
	if (sb.st_size < SEG_HEADER_SIZE || pread(fd, sh, sizeof(sh), 0) != (ssize_t)sizeof(sh) ||
	    seg_header_check(sh, n) != 0) {
		close(fd);
		return recover_bad_header(j, path, n, sh, (uint64_t)sb.st_size, last, gone, rec);
	}
	if (s->st.next_recno == 0)
		s->st.next_recno = get_u64(sh + 16) ? get_u64(sh + 16) : 1;
	off = (s->st.blocks && n == s->st.segment) ? s->st.offset : SEG_HEADER_SIZE;
	if ((rc = recover_blocks(j, br, fd, path, n, (uint64_t)sb.st_size, last, &off, rec)) != 0) {
		close(fd);
		return rc;
	}
	if (!last) {
		close(fd);
		return 0;
	}
	s->seg_fd = fd;
	s->seg_no = n;
	s->seg_size = off;
	s->seg_created = (int64_t)get_u64(sh + 24);
	return 0;
}

int
recover(struct journal *j, struct journal_recovery *rec)
{
	struct writer_store *s = &j->w->store;
	uint32_t *segs = NULL;
	size_t nseg = 0;
	struct blk_reader br;
	int rc, gone = 0;

	if ((rc = seg_list(j->dir, &segs, &nseg)) != 0) {
		journal_set_detail(j, "cannot list '%s': %s", j->dir, strerror(rc));
		return rc;
	}
	blk_reader_init(&br);
	if ((rc = windex_load(j, segs, nseg, rec)) != 0)
		goto out;
	if (s->st.next_recno == 0)
		s->st.next_recno = nseg ? 0 : 1;
	for (size_t i = 0; i < nseg && !gone; i++) {
		if (s->st.blocks && segs[i] < s->st.segment)
			continue;
		if ((rc = recover_segment(j, &br, segs[i], i + 1 == nseg, &gone, rec)) != 0)
			goto out;
	}
	if (gone)
		nseg--;
	if (s->seg_fd < 0 && nseg > 0)
		s->seg_no = segs[nseg - 1];
out:
	blk_reader_free(&br);
	free(segs);
	return rc;
}

int
journal_reindex(struct journal *j)
{
	struct journal_writer *w = j->w;
	struct journal_recovery rec;
	int rc;

	if (!w)
		return JOURNAL_ERDONLY;
	if ((rc = journal_flush(j)) != 0)
		return rc;
	/* the writer thread is idle after a flush; recovery re-reads every segment */
	pthread_mutex_lock(&w->mu);
	writer_wait_idle_locked(w);
	memset(&rec, 0, sizeof(rec));
	j->detail[0] = 0;
	if ((rc = idx_clear(j->idx)) == JOURNAL_EINDEX)
		rc = windex_replace(j, &rec, "LMDB failed to clear it");
	if (rc == 0) {
		memset(&w->store.st, 0, sizeof(w->store.st));
		if (w->store.seg_fd >= 0)
			close(w->store.seg_fd);
		w->store.seg_fd = -1;
		w->store.idx_failed = 0;
		rc = recover(j, &rec);
	}
	pthread_mutex_unlock(&w->mu);
	return rc;
}
