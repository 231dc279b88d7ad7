/* prune.c - removing whole sealed segments from the start of a journal: the marker first,
 * then the index entries, then the files (docs/FORMAT.md, "Pruning")
 *
 * Who writes what: the writer holds J/LOCK and writes segments, META and the index; a
 * prune holds J/PRUNE.LOCK and writes J/PRUNED, deletes index entries and unlinks
 * segments that no writer writes again (never the last). The two never write the same
 * file; their index writes are LMDB transactions, serialized by LMDB's lock file, and a
 * writer adds each block to the sums it finds in the index (index_add.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "prune.h"
#include "pruned.h"
#include "writer.h"

static void say(char *d, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
say(char *d, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d, n, fmt, ap);
	va_end(ap);
}

/* Tests stop a prune between its steps to kill it there (tests/t3e_retention.sh). */
static void
step_pause(void)
{
	const char *s = getenv("WSTAPE_TEST_PRUNE_PAUSE_US");
	long us = s ? strtol(s, NULL, 10) : 0;
	if (us > 0) {
		struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* J/PRUNE.LOCK, without waiting: the fd, or -1 with *rc (JOURNAL_ELOCKED, an errno). */
static int
prune_lock(const char *dir, char *detail, size_t n, int *rc)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "%s/" PRUNE_LOCK_FILE, dir);
	/* read-only: flock needs no more, and a lock file that another user made (a prune
	 * by root from cron beside a recorder that runs as a service user) is still taken */
	if ((fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644)) < 0) {
		*rc = errno;
		say(detail, n, "cannot open '%s': %s", path, strerror(*rc));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		*rc = errno == EWOULDBLOCK ? JOURNAL_ELOCKED : errno;
		say(detail, n, "another prune of '%s' is running (it holds '%s')", dir, path);
		close(fd);
		return -1;
	}
	return fd;
}

/* What the block headers of segment n say: its records, the largest receive time, the
 * first record's time, the file size. 0, or 1 when a block does not read whole (not a
 * segment to prune), or an errno. */
struct seg_sum {
	uint64_t first_recno, end_recno, records, size;
	int64_t max_wall, first_wall;
	int blocks;
};

static int
seg_summary(const char *dir, uint32_t n, struct seg_sum *s)
{
	struct blk_reader br;
	uint8_t h[SEG_HEADER_SIZE];
	struct stat sb;
	char path[4200];
	uint64_t off = SEG_HEADER_SIZE;
	int fd, rc = 0;

	memset(s, 0, sizeof(*s));
	s->max_wall = INT64_MIN;
	seg_path(path, sizeof(path), dir, n);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	if (fstat(fd, &sb) != 0 || pread(fd, h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    seg_header_check(h, n)) {
		close(fd);
		return 1;
	}
	s->size = (uint64_t)sb.st_size;
	s->first_recno = s->end_recno = get_u64(h + 16) ? get_u64(h + 16) : 1;
	blk_reader_init(&br);
	for (;;) {
		int b = blk_read(&br, fd, off, s->size, 0);
		if (b == BLK_END)
			break;
		if (b != BLK_OK) {
			rc = b > BLK_BAD ? b : 1;
			break;
		}
		if (!s->blocks++)
			s->first_wall = br.h.first_wall;
		if (br.h.max_wall > s->max_wall)
			s->max_wall = br.h.max_wall;
		s->records += br.h.count;
		s->end_recno = br.h.first_recno + br.h.count;
		off += BLK_HEADER_SIZE + br.h.comp_len;
	}
	blk_reader_free(&br);
	close(fd);
	return rc;
}

/* ---- what the pruned records were per connection and channel (struct idx_prune_fix) ---- */

struct fixes {
	struct idx_prune_fix *v;
	size_t n, cap;
	uint32_t *slot; /* open addressing: index + 1 into v, 0 empty */
	size_t nslot;
	uint64_t max_last; /* the largest last_recno of a fix */
	size_t open; /* fixes whose first record kept is still to be found */
};

static uint64_t
fix_hash(int chan, uint32_t conn, const void *name, size_t len)
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)chan;
	const uint8_t *p = name;
	if (!chan)
		return (h ^ conn) * 1099511628211ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

/* The fix of a connection or channel; created when 'add', else NULL when there is none
 * (and with add, NULL when out of memory). */
static struct idx_prune_fix *
fix_get(struct fixes *f, int chan, uint32_t conn, const void *name, size_t len, int add)
{
	if (add && (f->n + 1) * 2 > f->nslot) {
		size_t ns = f->nslot ? f->nslot * 2 : 64;
		uint32_t *sl = calloc(ns, sizeof(*sl));
		if (!sl)
			return NULL;
		for (size_t i = 0; i < f->n; i++) {
			const struct idx_prune_fix *e = &f->v[i];
			size_t h = (size_t)fix_hash(e->chan, e->conn, e->name, e->name_len) & (ns - 1);
			while (sl[h])
				h = (h + 1) & (ns - 1);
			sl[h] = (uint32_t)i + 1;
		}
		free(f->slot);
		f->slot = sl;
		f->nslot = ns;
	}
	if (!f->nslot)
		return NULL;
	size_t h = (size_t)fix_hash(chan, conn, name, len) & (f->nslot - 1);
	for (; f->slot[h]; h = (h + 1) & (f->nslot - 1)) {
		struct idx_prune_fix *e = &f->v[f->slot[h] - 1];
		if (e->chan == chan &&
		    (chan ? e->name_len == len && memcmp(e->name, name, len) == 0 : e->conn == conn))
			return e;
	}
	if (!add)
		return NULL;
	if (f->n == f->cap) {
		size_t nc = f->cap ? f->cap * 2 : 32;
		struct idx_prune_fix *nv = realloc(f->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		f->v = nv;
		f->cap = nc;
	}
	struct idx_prune_fix *e = &f->v[f->n];
	memset(e, 0, offsetof(struct idx_prune_fix, name));
	e->chan = chan;
	e->conn = conn;
	e->name_len = (uint16_t)len;
	if (chan)
		memcpy(e->name, name, len);
	e->found = e->cursor_found = 0;
	e->records = e->last_recno = 0;
	f->slot[h] = (uint32_t)++f->n;
	return e;
}

static void
fixes_free(struct fixes *f)
{
	free(f->v);
	free(f->slot);
}

/* Call fn for each record of segment n (decoded), until it returns non-zero (1: stop, or
 * an error). 0 at the end; a block that does not read whole ends the walk too. */
static int
seg_records(const char *dir, uint32_t n, int (*fn)(const struct journal_record *, void *), void *ud)
{
	struct blk_reader br;
	struct stat sb;
	char path[4200];
	uint64_t off = SEG_HEADER_SIZE;
	int fd, rc = 0;

	seg_path(path, sizeof(path), dir, n);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : errno;
	if (fstat(fd, &sb) != 0) {
		rc = errno;
		close(fd);
		return rc;
	}
	blk_reader_init(&br);
	while (rc == 0 && blk_read(&br, fd, off, (uint64_t)sb.st_size, 1) == BLK_OK) {
		struct blk_iter it;
		struct journal_record r;
		blk_iter_init(&it, &br.h, br.raw);
		while (rc == 0 && blk_iter_next(&it, &r) == 0)
			rc = fn(&r, ud);
		off += BLK_HEADER_SIZE + br.h.comp_len;
	}
	blk_reader_free(&br);
	close(fd);
	return rc;
}

static int
count_pruned(const struct journal_record *r, void *ud)
{
	struct fixes *f = ud;
	struct idx_prune_fix *e = fix_get(f, 0, r->conn, NULL, 0, 1);
	if (!e)
		return ENOMEM;
	e->records++;
	if (r->channel_len) {
		if (!(e = fix_get(f, 1, 0, r->channel, r->channel_len, 1)))
			return ENOMEM;
		e->records++;
	}
	return 0;
}

static void
note_kept(struct fixes *f, struct idx_prune_fix *e, const struct journal_record *r)
{
	int was_open = e->last_recno && (!e->found || (e->want_cursor && !e->cursor_found));
	if (!e->found) {
		e->found = 1;
		e->first_recno = r->recno;
		e->first_wall = r->wall_ns;
	}
	if (e->want_cursor && !e->cursor_found && r->cursor_len) {
		e->cursor_found = 1;
		e->cursor_len = r->cursor_len;
		memcpy(e->cursor, r->cursor, r->cursor_len);
	}
	if (was_open && (!e->want_cursor || e->cursor_found))
		f->open--;
}

static int
find_kept(const struct journal_record *r, void *ud)
{
	struct fixes *f = ud;
	struct idx_prune_fix *e;

	if (!f->open || r->recno > f->max_last)
		return 1;
	if ((e = fix_get(f, 0, r->conn, NULL, 0, 0)) != NULL)
		note_kept(f, e, r);
	if (r->channel_len && (e = fix_get(f, 1, 0, r->channel, r->channel_len, 0)) != NULL)
		note_kept(f, e, r);
	return 0;
}

/* The fixes of pruning segments pruned[0..np) when the journal goes on at segment
 * 'kept': the records of each connection and channel in the pruned ones, and where each
 * starts in the kept ones (read up to the last record the index lists of each). */
static int
make_fixes(const char *dir, struct idx *idx, const uint32_t *pruned, size_t np, uint32_t kept,
	   struct fixes *f)
{
	uint32_t *all = NULL;
	size_t nall = 0;
	int rc = 0;

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < np && !rc; i++)
		rc = seg_records(dir, pruned[i], count_pruned, f);
	if (rc || (rc = idx_prune_bounds(idx, f->v, f->n)) != 0)
		return rc;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].last_recno > f->max_last)
			f->max_last = f->v[i].last_recno;
		f->open += f->v[i].last_recno != 0;
	}
	if (!f->open || (rc = seg_list_all(dir, &all, &nall)) != 0)
		return rc;
	for (size_t i = 0; i < nall && f->open && rc == 0; i++)
		if (all[i] >= kept)
			rc = seg_records(dir, all[i], find_kept, f);
	free(all);
	return rc == 1 ? 0 : rc;
}

/* Drop the index entries of the blocks before the marker's record, with the fixes of
 * conns and chans made from the segments pruned[0..np), which are still there. */
static int
index_drop(const char *dir, struct idx *idx, const uint32_t *pruned, size_t np, uint32_t kept, uint64_t floor,
	   char *detail, size_t dn)
{
	struct fixes f;
	uint64_t dropped;
	int rc;

	if (!idx)
		return 0;
	if ((rc = make_fixes(dir, idx, pruned, np, kept, &f)) == 0)
		rc = idx_prune(idx, floor, f.v, f.n, &dropped);
	fixes_free(&f);
	if (rc)
		say(detail, dn, "cannot drop the pruned blocks from the index of '%s': %s", dir,
		    journal_strerror(rc));
	return rc;
}

/* Remove what an interrupted prune left: the segment files below the marker, the index
 * entries of their blocks. With the prune lock held. */
static int
finish_previous(const char *dir, struct idx *idx, const struct pruned *pr, char *detail, size_t n)
{
	uint32_t *all = NULL;
	size_t nall = 0, below = 0;
	char path[4200];
	int rc, removed = 0;

	if (!pr->first_segment)
		return 0;
	if ((rc = seg_list_all(dir, &all, &nall)) != 0) {
		say(detail, n, "cannot list '%s': %s", dir, strerror(rc));
		return rc;
	}
	while (below < nall && all[below] < pr->first_segment)
		below++;
	if ((rc = index_drop(dir, idx, all, below, pr->first_segment, pr->first_recno, detail, n)) != 0) {
		free(all);
		return rc;
	}
	for (size_t i = 0; i < below; i++) {
		seg_path(path, sizeof(path), dir, all[i]);
		if (unlink(path) != 0 && errno != ENOENT) {
			rc = errno;
			say(detail, n, "cannot remove '%s': %s", path, strerror(rc));
			break;
		}
		removed = 1;
	}
	free(all);
	if (!rc && removed)
		rc = journal_fsync_dir(dir);
	return rc;
}

int
prune_leftovers(const char *dir, struct idx *idx, char *detail, size_t n)
{
	struct pruned pr;
	int rc, fd;

	/* a journal never pruned has nothing to finish (and gets no lock file) */
	if ((rc = pruned_load(dir, &pr, detail, n)) != 0 || !pr.first_segment)
		return rc;
	if ((fd = prune_lock(dir, detail, n, &rc)) < 0)
		return rc == JOURNAL_ELOCKED ? 0 : rc; /* that prune finishes it */
	if ((rc = pruned_load(dir, &pr, detail, n)) == 0)
		rc = finish_previous(dir, idx, &pr, detail, n);
	close(fd);
	return rc;
}

static int
prune_run(const char *dir, struct idx *idx, int64_t before, int flags, struct journal_pruned *res,
	  char *detail, size_t dn)
{
	struct pruned pr;
	struct seg_sum s, keep;
	uint32_t *segs = NULL;
	size_t nseg = 0, k = 0;
	uint64_t records = 0, bytes = 0;
	int64_t until = INT64_MIN;
	char path[4200];
	int rc, fd;

	memset(res, 0, sizeof(*res));
	if ((fd = prune_lock(dir, detail, dn, &rc)) < 0)
		return rc;
	if ((rc = pruned_load(dir, &pr, detail, dn)) != 0)
		goto out;
	if (!(flags & JOURNAL_PRUNE_DRY_RUN) && (rc = finish_previous(dir, idx, &pr, detail, dn)) != 0)
		goto out;
	if ((rc = seg_list(dir, &segs, &nseg)) != 0) {
		say(detail, dn, "cannot list '%s': %s", dir, strerror(rc));
		goto out;
	}
	/* the segments from the first, all but the last, whose records are all older */
	for (; k + 1 < nseg; k++) {
		if ((rc = seg_summary(dir, segs[k], &s)) == 1)
			break;
		if (rc) {
			seg_path(path, sizeof(path), dir, segs[k]);
			say(detail, dn, "cannot read '%s': %s", path, strerror(rc));
			goto out;
		}
		if (s.blocks && s.max_wall >= before)
			break;
		records += s.records;
		bytes += s.size;
		if (s.blocks && s.max_wall > until)
			until = s.max_wall;
	}
	rc = 0;
	/* the first segment kept must say where it starts (a last one being created may not) */
	while (k > 0 && (seg_summary(dir, segs[k], &keep) == 1 || keep.first_recno == 0)) {
		k--;
		if (seg_summary(dir, segs[k], &s) == 0) {
			records -= s.records;
			bytes -= s.size;
		}
	}
	res->first_segment = nseg ? segs[k] : pr.first_segment;
	if (nseg && seg_summary(dir, segs[k], &keep) != 1) {
		res->first_recno = keep.first_recno;
		res->first_wall_ns = keep.first_wall;
	}
	if (k == 0)
		goto out;
	res->segments = k;
	res->records = records;
	res->bytes = bytes;
	res->until_wall_ns = until == INT64_MIN ? 0 : until;
	if (flags & JOURNAL_PRUNE_DRY_RUN)
		goto out;

	/* 1. the marker: from now on the journal starts at segs[k] */
	struct pruned np = {
		.first_segment = segs[k],
		.first_recno = keep.first_recno,
		.first_wall = keep.first_wall,
		.segments = pr.segments + k,
		.records = pr.records + records,
		.bytes = pr.bytes + bytes,
		.until_wall = res->until_wall_ns > pr.until_wall ? res->until_wall_ns : pr.until_wall,
	};
	step_pause();
	if ((rc = pruned_store(dir, &np)) != 0) {
		say(detail, dn, "cannot write '%s/%s': %s", dir, PRUNED_FILE, strerror(rc));
		goto out;
	}
	step_pause();
	/* 2. the index entries of the pruned blocks, in one transaction */
	if ((rc = index_drop(dir, idx, segs, k, segs[k], np.first_recno, detail, dn)) != 0)
		goto out;
	/* 3. the files, then the directory */
	for (size_t i = 0; i < k; i++) {
		step_pause();
		seg_path(path, sizeof(path), dir, segs[i]);
		if (unlink(path) != 0 && errno != ENOENT) {
			rc = errno;
			say(detail, dn, "cannot remove '%s': %s", path, strerror(rc));
			goto out;
		}
	}
	rc = journal_fsync_dir(dir);
out:
	free(segs);
	close(fd);
	return rc;
}

int
journal_prune(const char *path, int64_t before_ns, int flags, struct journal_pruned *res)
{
	struct journal *j;
	struct idx *idx = NULL;
	char detail[512] = "";
	int rc, has_index, damaged;

	memset(res, 0, sizeof(*res));
	/* the open checks what every reader checks (META, the format, the segments) and
	 * the index (in a child process); the index is then opened for writing alone: LMDB
	 * wants one environment per file in a process */
	if ((rc = journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL)) != 0)
		return rc;
	has_index = j->idx != NULL;
	journal_close(j);
	journal_open_detail_clear();
	if (has_index && (rc = idx_open(path, 1, &idx, detail, sizeof(detail), &damaged)) != 0) {
		journal_open_detail_set("cannot open the index of '%s' to write: %s", path, detail);
		return rc;
	}
	rc = prune_run(path, idx, before_ns, flags, res, detail, sizeof(detail));
	idx_close(idx);
	if (rc)
		journal_open_detail_set("%s", detail);
	return rc;
}

int
journal_prune_writer(struct journal *j, int64_t before_ns, int flags, struct journal_pruned *res)
{
	char detail[512] = "";
	int rc;

	memset(res, 0, sizeof(*res));
	if (!j->w)
		return JOURNAL_ERDONLY;
	struct journal_writer *w = j->w;
	/* (set by the storing thread as it indexes; read once here) */
	int idx_failed = __atomic_load_n(&w->store.idx_failed, __ATOMIC_ACQUIRE);
	rc = prune_run(j->dir, idx_failed ? NULL : j->idx, before_ns, flags, res, detail, sizeof(detail));
	if (rc)
		journal_set_detail(j, "%s", detail);
	if (rc || !res->segments || (flags & JOURNAL_PRUNE_DRY_RUN))
		return rc;
	/* the writer's sums (journal_stats) are the index's now: the storing thread waits */
	pthread_mutex_lock(&w->mu);
	writer_wait_idle_locked(w);
	struct idx_state st;
	if (j->idx && !w->store.idx_failed && idx_state_get(j->idx, &st) == 0 && st.blocks) {
		w->store.st.records = st.records;
		w->store.st.payload_bytes = st.payload_bytes;
		w->store.st.raw_bytes = st.raw_bytes;
		w->store.st.blocks = st.blocks;
		w->store.st.first_wall = st.first_wall;
	}
	pthread_mutex_unlock(&w->mu);
	return 0;
}

int
journal_pruned_info(struct journal *j, struct journal_pruned *p)
{
	struct pruned pr;
	int rc = pruned_load(j->dir, &pr, j->detail, sizeof(j->detail));

	memset(p, 0, sizeof(*p));
	if (rc)
		return rc;
	p->first_segment = pr.first_segment;
	p->first_recno = pr.first_recno;
	p->first_wall_ns = pr.first_wall;
	p->segments = pr.segments;
	p->records = pr.records;
	p->bytes = pr.bytes;
	p->until_wall_ns = pr.until_wall;
	return 0;
}
