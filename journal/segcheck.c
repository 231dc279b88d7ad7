/* segcheck.c - the check every reader and writer makes of the segment files at open
 *
 * The segments must all be there: numbered from 1 without a hole, regular files whose
 * headers can be read, each starting at a record number above the one before. A missing
 * segment is records missing (JOURNAL_EGAP, the range named); a segment that cannot be
 * read is its errno, with its path. A header that does not check is left to the readers,
 * which name it with its offset; so is the continuity of record numbers from one segment
 * to the next, which the readers check where they cross (and idx_check for the indexed
 * segments). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block.h"
#include "pruned.h"
#include "segcheck.h"

/* The record number after the last whole block of segment n (from its block headers), or
 * first when none can be read. */
static uint64_t
segment_end_recno(const char *dir, uint32_t n, uint64_t first)
{
	struct blk_reader br;
	struct stat sb;
	char path[4200];
	uint64_t off = SEG_HEADER_SIZE, end = first;
	int fd;

	seg_path(path, sizeof(path), dir, n);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return first;
	blk_reader_init(&br);
	if (fstat(fd, &sb) == 0)
		while (blk_read(&br, fd, off, (uint64_t)sb.st_size, 0) == BLK_OK) {
			end = br.h.first_recno + br.h.count;
			off += BLK_HEADER_SIZE + br.h.comp_len;
		}
	blk_reader_free(&br);
	close(fd);
	return end;
}

/* Segment n (at path) follows prev, not prev + 1: name the missing records. */
static int
segment_hole(struct journal *j, const char *path, uint32_t n, uint32_t prev, uint64_t prev_first)
{
	uint8_t h[SEG_HEADER_SIZE];
	char from[4200];
	uint64_t start = prev ? segment_end_recno(j->dir, prev, prev_first) : 1, next_first = 0;
	int fd;

	seg_path(from, sizeof(from), j->dir, prev + 1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
		if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && seg_header_check(h, n) == 0)
			next_first = get_u64(h + 16) ? get_u64(h + 16) : 1;
		close(fd);
	}
	if (next_first > start)
		journal_set_detail(
			j,
			"records are missing from the journal: %llu..%llu (segment '%s'%s; the next is '%s')",
			(unsigned long long)start, (unsigned long long)(next_first - 1), from,
			n - prev > 2 ? " and those after it do not exist" : " does not exist", path);
	else
		journal_set_detail(
			j, "records are missing from the journal, or '%s' is out of sequence: segment '%s'%s",
			path, from, n - prev > 2 ? " and those after it do not exist" : " does not exist");
	return JOURNAL_EGAP;
}

/* Open segment n (at path) and read the first record number its header gives (0 when the
 * header is short or does not check). 0 or an errno, with j's detail set. */
static int
segment_first(struct journal *j, const char *path, uint32_t n, uint64_t *first)
{
	uint8_t h[SEG_HEADER_SIZE];
	struct stat sb;
	int fd, rc;

	*first = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
		rc = errno;
		if (fd >= 0)
			close(fd);
		journal_set_detail(j, "cannot open segment '%s': %s", path, strerror(rc));
		return rc;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		rc = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		journal_set_detail(j, "cannot read segment '%s': %s", path, strerror(rc));
		return rc;
	}
	if (sb.st_size >= SEG_HEADER_SIZE) {
		ssize_t got = pread(fd, h, sizeof(h), 0);
		if (got < 0) {
			rc = errno;
			close(fd);
			journal_set_detail(j, "cannot read segment '%s': %s", path, strerror(rc));
			return rc;
		}
		if (got == (ssize_t)sizeof(h) && seg_header_check(h, n) == 0)
			*first = get_u64(h + 16) ? get_u64(h + 16) : 1;
	}
	close(fd);
	return 0;
}

int
segments_check(struct journal *j)
{
	uint32_t *segs = NULL, prev = 0;
	uint64_t prev_first = 0;
	size_t nseg = 0;
	char path[4200], ppath[4200];
	struct pruned pr;
	int rc;

	if ((rc = pruned_load(j->dir, &pr, j->detail, sizeof(j->detail))) != 0) {
		if (rc > 0)
			journal_set_detail(j, "cannot read '%s/%s': %s", j->dir, PRUNED_FILE, strerror(rc));
		return rc;
	}
	if ((rc = seg_list(j->dir, &segs, &nseg)) != 0) {
		journal_set_detail(j, "cannot list '%s': %s", j->dir, strerror(rc));
		return rc;
	}
	if (pr.first_segment) {
		/* a pruned journal starts at the marker's segment, with the marker's record */
		prev = pr.first_segment - 1;
		seg_path(ppath, sizeof(ppath), j->dir, pr.first_segment);
		if (nseg == 0 || segs[0] != pr.first_segment) {
			journal_set_detail(
				j,
				"records are missing from the journal: from %llu (it was pruned up to segment '%s', which does not exist)",
				(unsigned long long)pr.first_recno, ppath);
			free(segs);
			return JOURNAL_EGAP;
		}
		if ((rc = segment_first(j, ppath, pr.first_segment, &prev_first)) != 0) {
			free(segs);
			return rc;
		}
		if (prev_first && prev_first != pr.first_recno) {
			journal_set_detail(
				j,
				"segment '%s' starts at record %llu, but '%s/%s' says the journal starts at record %llu%s",
				ppath, (unsigned long long)prev_first, j->dir, PRUNED_FILE,
				(unsigned long long)pr.first_recno,
				prev_first > pr.first_recno ? " (records are missing)" : "");
			free(segs);
			return prev_first > pr.first_recno ? JOURNAL_EGAP : JOURNAL_ECORRUPT;
		}
		prev_first = 0;
	}
	for (size_t i = 0; i < nseg; i++) {
		uint32_t n = segs[i];
		uint64_t first;

		seg_path(path, sizeof(path), j->dir, n);
		if (n != prev + 1) {
			rc = segment_hole(j, path, n, prev, prev_first);
			break;
		}
		if ((rc = segment_first(j, path, n, &first)) != 0)
			break;
		if (first && prev_first && first <= prev_first) {
			seg_path(ppath, sizeof(ppath), j->dir, prev);
			journal_set_detail(
				j,
				"segment '%s' starts at record %llu, which segment '%s' already holds (out of sequence)",
				path, (unsigned long long)first, ppath);
			rc = JOURNAL_ECORRUPT;
			break;
		}
		prev = n;
		if (first)
			prev_first = first;
	}
	free(segs);
	return rc;
}
