/* index_check.c - checking an index before it is trusted (in a forked child) and
 * checking that its end agrees with the segments */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "index_lmdb.h"
#include "pruned.h"

/* The sanitizers' hook for what runs when they end a process (libFuzzer writes its crash
 * file there); absent from a build without them. */
void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));

/* The check's child: a crash in it is a verdict on the index, nothing more. Whatever
 * handlers the process had (a sanitizer's report, libFuzzer's crash file, an alarm of its
 * own) are set back to the default action, so that a fault ends the child by its signal.
 * The handlers are reset with the system call itself: a sanitizer intercepts sigaction()
 * and may keep its own handler for SIGSEGV. */
static void
chk_child_signals(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS,  SIGFPE,  SIGILL,  SIGABRT, SIGTRAP, SIGSYS, SIGALRM,
				    SIGXCPU, SIGXFSZ, SIGUSR1, SIGUSR2, SIGINT,  SIGTERM, SIGPIPE };
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		uint64_t mask;
	} ksa = { SIG_DFL, 0, NULL, 0 };
	sigset_t all;

	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(NULL);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(*sigs); i++) {
		if (syscall(SYS_rt_sigaction, sigs[i], &ksa, NULL, sizeof(ksa.mask)) != 0)
			signal(sigs[i], SIG_DFL);
	}
	/* no alternate stack: a fault on a stack that overflowed still ends the child */
	stack_t ss = { .ss_flags = SS_DISABLE };
	sigaltstack(&ss, NULL);
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
}

/* ---- checking an index before it is trusted ----
 *
 * LMDB does not check its pages: a damaged data.mdb (a bit flipped, bytes overwritten)
 * can send mdb_cursor_get() through a wild pointer (SIGSEGV inside liblmdb) or round a
 * cycle of pages for ever. The index is derived from the segments, so nothing is lost by
 * throwing a damaged one away; what must not happen is a crash. So before a journal uses
 * its index, a child process (fork) opens it on its own, walks every entry of every
 * database (the free list too, which a writer's commit reads), looks each key up again
 * (so every branch page that a seek goes through is read), touches every byte of every
 * key and value, checks their sizes and the indexed blocks against each other and
 * against the segment headers, and writes its verdict to a pipe. A crash, a hang (a limit
 * on its CPU time ends it) or a verdict of damage all read as "index damaged" to the parent, which
 * never maps an index that failed the check. The walk costs about as much as reading the
 * index once: far less than reading the segments. */

struct chk {
	MDB_txn *txn;
	uint64_t max_entries; /* more entries than the file can hold: a cycle of pages */
	char *why;
	size_t n;
	int verdict;
	const char *jdir;
	/* blocks */
	uint64_t blocks, records, payload, raw, next_recno;
	struct idx_block last;
	uint32_t seg;
	uint64_t seg_size; /* the size of the file of the segment of the last block */
	struct idx_block past; /* the first block of that segment past the end of its file */
	uint64_t past_size;
	MDB_dbi dbi_blocks, dbi_chans; /* for the entries that name a block or a channel */
	volatile uint8_t touch;
};

static int chk_fail(struct chk *c, int verdict, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
chk_fail(struct chk *c, int verdict, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->why, c->n, fmt, ap);
	va_end(ap);
	c->verdict = verdict;
	return -1;
}

static void
chk_touch(struct chk *c, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	uint8_t x = 0;
	for (size_t i = 0; i < v->mv_size; i++)
		x ^= p[i];
	c->touch ^= x;
}

/* The segment header's first record number, 0 when the segment does not exist, or
 * UINT64_MAX when it cannot be read (the readers report that themselves); *size is the
 * size of its file (UINT64_MAX when it is not known). */
static uint64_t
seg_first_recno(const char *jdir, uint32_t n, uint64_t *size)
{
	char path[4200];
	uint8_t h[SEG_HEADER_SIZE];
	struct stat sb;
	int fd;

	*size = UINT64_MAX;
	seg_path(path, sizeof(path), jdir, n);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : UINT64_MAX;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
		*size = (uint64_t)sb.st_size;
	ssize_t got = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (got != (ssize_t)sizeof(h) || seg_header_check(h, n) != 0)
		return UINT64_MAX;
	return get_u64(h + 16) ? get_u64(h + 16) : 1;
}

/* Segment n is below the first one a prune kept (J/PRUNED, read now: a prune that runs
 * meanwhile writes it before it drops the entries and removes the files): the index may
 * still list its blocks, a prune that was interrupted left them, and the readers skip
 * them. */
static int
chk_pruned(const struct chk *c, uint32_t n)
{
	return n < pruned_first_segment(c->jdir);
}

static int
chk_block(struct chk *c, const MDB_val *k, const MDB_val *v)
{
	struct idx_block b;

	if (k->mv_size != 8 || idx_blockv_decode(v, &b) != 0)
		return chk_fail(c, IDX_CHECK_DAMAGED,
				"a 'blocks' entry has a key of %zu bytes and a value of %zu bytes",
				k->mv_size, v->mv_size);
	if (rd_be64(k->mv_data) != b.first_recno || b.count == 0 || b.comp_len == 0 || b.raw_len == 0 ||
	    b.raw_len > BLK_MAX_RAW || b.offset < SEG_HEADER_SIZE || b.segment == 0)
		return chk_fail(c, IDX_CHECK_DAMAGED,
				"the 'blocks' entry of record %llu does not describe a block",
				(unsigned long long)rd_be64(k->mv_data));
	if (c->blocks) {
		const struct idx_block *p = &c->last;
		int same = b.segment == p->segment;
		if (b.first_recno != p->first_recno + p->count || b.max_wall < p->max_wall ||
		    (same && b.offset != p->offset + BLK_HEADER_SIZE + p->comp_len) ||
		    (!same && (b.segment < p->segment || b.offset != SEG_HEADER_SIZE)))
			return chk_fail(
				c, IDX_CHECK_DAMAGED,
				"the 'blocks' entry of record %llu does not follow the one of record %llu",
				(unsigned long long)b.first_recno, (unsigned long long)p->first_recno);
	}
	if (c->blocks && b.segment != c->last.segment && c->past.count && !chk_pruned(c, c->past.segment)) {
		char path[4200];
		seg_path(path, sizeof(path), c->jdir, c->past.segment);
		return chk_fail(
			c, IDX_CHECK_STALE,
			"the index lists records %llu..%llu in segment '%s' past the end of the file (%llu bytes; the block of record %llu ends at offset %llu)",
			(unsigned long long)c->past.first_recno, (unsigned long long)(b.first_recno - 1),
			path, (unsigned long long)c->past_size, (unsigned long long)c->past.first_recno,
			(unsigned long long)(c->past.offset + BLK_HEADER_SIZE + c->past.comp_len));
	}
	if (!c->blocks || b.segment != c->last.segment) {
		/* the first block the index lists in a segment starts where its header says */
		uint64_t first = seg_first_recno(c->jdir, b.segment, &c->seg_size);
		char path[4200];
		seg_path(path, sizeof(path), c->jdir, b.segment);
		if ((first == 0 || (first != UINT64_MAX && first != b.first_recno)) &&
		    chk_pruned(c, b.segment))
			first = UINT64_MAX; /* pruned: not checked */
		if (first == 0)
			return chk_fail(c, IDX_CHECK_STALE,
					"the index lists blocks in segment '%s', which does not exist", path);
		if (first != UINT64_MAX && (b.offset != SEG_HEADER_SIZE || first != b.first_recno))
			return chk_fail(
				c, IDX_CHECK_STALE,
				"the index says segment '%s' holds record %llu at offset %llu; its header says it starts at record %llu",
				path, (unsigned long long)b.first_recno, (unsigned long long)b.offset,
				(unsigned long long)first);
	}
	/* every indexed block lies inside its segment's file: a segment cut (or replaced by a
	 * shorter one) after it was indexed no longer holds the records the index lists. The
	 * first block past the end is noted, and the index is stale once a later segment
	 * follows (the last segment is index_end_check's: a reader names the block there). */
	if (c->seg_size != UINT64_MAX && !c->past.count &&
	    b.offset + BLK_HEADER_SIZE + (uint64_t)b.comp_len > c->seg_size) {
		c->past = b;
		c->past_size = c->seg_size;
	}
	c->blocks++;
	c->records += b.count;
	c->payload += b.payload_bytes;
	c->raw += b.raw_len;
	c->last = b;
	return 0;
}

/* The block the index lists at first record recno; 0 and *b, or -1 when there is none. */
static int
chk_find_block(struct chk *c, uint64_t recno, struct idx_block *b)
{
	uint8_t key[8];
	MDB_val k = { sizeof(key), key }, v;

	be64(key, recno);
	if (mdb_get(c->txn, c->dbi_blocks, &k, &v) != 0 || idx_blockv_decode(&v, b) != 0)
		return -1;
	return 0;
}

/* A range of records [first, last] with n of them, inside what the blocks hold. */
static int
chk_range(const struct chk *c, uint64_t first, uint64_t last, uint64_t n)
{
	uint64_t next = c->blocks ? c->last.first_recno + c->last.count : 1;
	return first >= 1 && first <= last && last < next && n >= 1 && n <= last - first + 1;
}

/* The entries that repeat what the blocks say (time, conns, chans, chanblk) agree with
 * them (the blocks are walked first): a damaged one would send a seek to the wrong place
 * or show figures no record has. */
static int
chk_agrees(struct chk *c, const char *db, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kp = k->mv_data, *vp = v->mv_data;
	struct idx_block b;

	if (!strcmp(db, "time")) {
		int64_t wall = (int64_t)(rd_be64(kp) ^ (1ULL << 63));
		if (chk_find_block(c, rd_be64(kp + 8), &b) != 0 || b.max_wall != wall)
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"a 'time' entry names no block of its time (record %llu)",
					(unsigned long long)rd_be64(kp + 8));
	} else if (!strcmp(db, "conns")) {
		if (!chk_range(c, get_u64(vp), get_u64(vp + 8), get_u64(vp + 16)))
			return chk_fail(
				c, IDX_CHECK_DAMAGED,
				"the 'conns' entry of connection %u names records the blocks do not hold",
				(unsigned)((uint32_t)kp[0] << 24 | (uint32_t)kp[1] << 16 |
					   (uint32_t)kp[2] << 8 | kp[3]));
	} else if (!strcmp(db, "chans")) {
		if (!chk_range(c, get_u64(vp), get_u64(vp + 8), get_u64(vp + 16)))
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"a 'chans' entry names records the blocks do not hold");
	} else if (!strcmp(db, "chanblk")) {
		MDB_val ck = { kp[0], (void *)(kp + 1) }, cv;
		uint64_t at = rd_be64(kp + 1 + kp[0]);
		if (chk_find_block(c, at, &b) != 0)
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"a 'chanblk' entry names no block (record %llu)",
					(unsigned long long)at);
		if (mdb_get(c->txn, c->dbi_chans, &ck, &cv) != 0)
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"a 'chanblk' entry names a channel that 'chans' does not have");
	}
	return 0;
}

static int
chk_row(struct chk *c, const char *db, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kp = k->mv_data, *vp = v->mv_data;
	MDB_val k2 = *k, v2;
	int rc;

	chk_touch(c, k);
	chk_touch(c, v);
	/* look the key up again: the search reads the branch pages that a seek reads */
	if (dbi != 0 &&
	    ((rc = mdb_get(c->txn, dbi, &k2, &v2)) != 0 || v2.mv_size != v->mv_size ||
	     v2.mv_data != v->mv_data))
		return chk_fail(c, IDX_CHECK_DAMAGED,
				"an entry of '%s' cannot be found again by its key (%s)", db,
				rc ? mdb_strerror(rc) : "another value");
	if (!strcmp(db, "blocks"))
		return chk_block(c, k, v);
	if (!strcmp(db, "time")) {
		if (k->mv_size != 16 || v->mv_size != 8 || memcmp(kp + 8, vp, 8) != 0)
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"a 'time' entry has a key of %zu bytes and a value of %zu bytes",
					k->mv_size, v->mv_size);
		return chk_agrees(c, db, k, v);
	} else if (!strcmp(db, "conns")) {
		if (k->mv_size != 4 || v->mv_size != CONNV_SIZE || get_u64(vp) > get_u64(vp + 8) ||
		    get_u64(vp + 16) == 0)
			return chk_fail(c, IDX_CHECK_DAMAGED, "a 'conns' entry is not a connection");
		return chk_agrees(c, db, k, v);
	} else if (!strcmp(db, "chans")) {
		if (k->mv_size == 0 || k->mv_size > JOURNAL_MAX_CHANNEL || v->mv_size < CHANV_FIXED ||
		    get_u16(vp + 40) > JOURNAL_MAX_CURSOR || get_u16(vp + 42) > JOURNAL_MAX_CURSOR ||
		    CHANV_FIXED + (size_t)get_u16(vp + 40) + get_u16(vp + 42) != v->mv_size)
			return chk_fail(c, IDX_CHECK_DAMAGED, "a 'chans' entry is not a channel");
		return chk_agrees(c, db, k, v);
	} else if (!strcmp(db, "chanblk")) {
		if (k->mv_size < 10 || kp[0] == 0 || k->mv_size != 1 + (size_t)kp[0] + 8 || v->mv_size == 0 ||
		    v->mv_size > JOURNAL_MAX_CURSOR)
			return chk_fail(c, IDX_CHECK_DAMAGED, "a 'chanblk' entry is not a channel's block");
		return chk_agrees(c, db, k, v);
	} else if (!strcmp(db, "state")) {
		if (k->mv_size != 5 || memcmp(kp, "state", 5) != 0 || v->mv_size != STATEV_SIZE)
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"the 'state' entry has a key of %zu bytes and a value of %zu bytes",
					k->mv_size, v->mv_size);
	} else if (dbi == 0) {
		/* the free list: a transaction id, then a page list that starts with its length */
		if (k->mv_size != sizeof(size_t) || v->mv_size < sizeof(size_t) ||
		    v->mv_size != (*(const size_t *)vp + 1) * sizeof(size_t))
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"the free list holds an entry of %zu bytes that is not a page list",
					v->mv_size);
	}
	return 0;
}

static int
chk_walk(struct chk *c, const char *db, MDB_dbi dbi, uint64_t *count)
{
	MDB_cursor *cur;
	MDB_val k, v;
	MDB_stat ms;
	uint64_t n = 0;
	int rc;

	if ((rc = mdb_stat(c->txn, dbi, &ms)) != 0 || (rc = mdb_cursor_open(c->txn, dbi, &cur)) != 0)
		return chk_fail(c, IDX_CHECK_DAMAGED, "database '%s': %s", db, mdb_strerror(rc));
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (++n > c->max_entries) {
			mdb_cursor_close(cur);
			return chk_fail(
				c, IDX_CHECK_DAMAGED,
				"database '%s' has more entries than its file can hold (its pages form a cycle)",
				db);
		}
		if (chk_row(c, db, dbi, &k, &v) != 0) {
			mdb_cursor_close(cur);
			return -1;
		}
	}
	mdb_cursor_close(cur);
	if (rc != MDB_NOTFOUND)
		return chk_fail(c, IDX_CHECK_DAMAGED, "database '%s': %s", db, mdb_strerror(rc));
	if (n != ms.ms_entries)
		return chk_fail(c, IDX_CHECK_DAMAGED,
				"database '%s' says it has %llu entries; %llu were found", db,
				(unsigned long long)ms.ms_entries, (unsigned long long)n);
	*count = n;
	return 0;
}

/* Runs in the child: the verdict, and why in c->why. */
/* An index whose environment was made but whose databases never were (a writer killed while
 * it created the journal) holds nothing at all: it is no index (IDX_CHECK_NONE), which the
 * next writer makes, not a damaged one. 1 when so. */
static int
chk_never_written(struct chk *c, const char *idir)
{
	MDB_dbi main_db;
	MDB_stat ms;

	if (mdb_dbi_open(c->txn, NULL, 0, &main_db) != 0 || mdb_stat(c->txn, main_db, &ms) != 0 ||
	    ms.ms_entries != 0)
		return 0;
	c->verdict = IDX_CHECK_NONE;
	snprintf(c->why, c->n, "index '%s' was created but never written", idir);
	return 1;
}

static int
chk_run(const char *idir, const char *jdir, char *why, size_t n)
{
	static const char *const names[] = { "blocks", "time", "conns", "chans", "chanblk", "state" };
	struct chk c = { .why = why, .n = n, .verdict = IDX_CHECK_OK, .jdir = jdir };
	MDB_env *env = NULL;
	MDB_dbi dbi[6];
	uint64_t count[6];
	struct stat sb;
	char data[4300];
	int rc;

	snprintf(data, sizeof(data), "%s/data.mdb", idir);
	if (stat(data, &sb) != 0)
		return chk_fail(&c, IDX_CHECK_DAMAGED, "cannot stat '%s': %s", data, strerror(errno)),
		       c.verdict;
	c.max_entries = (uint64_t)sb.st_size / 8 + 16;
	if ((rc = mdb_env_create(&env)) != 0)
		return chk_fail(&c, IDX_CHECK_DAMAGED, "%s", mdb_strerror(rc)), c.verdict;
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_mapsize(env, (size_t)1 << 36);
	if ((rc = mdb_env_open(env, idir, MDB_NOTLS | MDB_RDONLY, 0644)) != 0) {
		chk_fail(&c, mdb_damaged(rc) ? IDX_CHECK_DAMAGED : IDX_CHECK_UNREADABLE, "index '%s': %s",
			 idir, mdb_strerror(rc));
		goto out;
	}
	if (idx_env_truncated(env, idir, why, n)) {
		c.verdict = IDX_CHECK_DAMAGED;
		goto out;
	}
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &c.txn)) != 0) {
		chk_fail(&c, mdb_damaged(rc) ? IDX_CHECK_DAMAGED : IDX_CHECK_UNREADABLE, "index '%s': %s",
			 idir, mdb_strerror(rc));
		goto out;
	}
	if (chk_never_written(&c, idir))
		goto out;
	for (int i = 0; i < 6; i++)
		if ((rc = mdb_dbi_open(c.txn, names[i], 0, &dbi[i])) != 0) {
			chk_fail(&c, IDX_CHECK_DAMAGED, "index '%s': database '%s': %s", idir, names[i],
				 mdb_strerror(rc));
			goto out;
		}
	c.dbi_blocks = dbi[0];
	c.dbi_chans = dbi[3];
	uint64_t nfree;
	if (chk_walk(&c, "free list", 0, &nfree) != 0)
		goto out;
	for (int i = 0; i < 6; i++)
		if (chk_walk(&c, names[i], dbi[i], &count[i]) != 0)
			goto out;
	{
		struct idx_state st;
		if (idx_state_read_txn(c.txn, dbi[5], &st) != 0) {
			chk_fail(&c, IDX_CHECK_DAMAGED, "the index's state cannot be read");
			goto out;
		}
		if (count[1] != c.blocks || (c.blocks == 0) != (count[5] == 0) ||
		    (c.blocks &&
		     (st.blocks != c.blocks || st.records != c.records || st.payload_bytes != c.payload ||
		      st.raw_bytes != c.raw || st.next_recno != c.last.first_recno + c.last.count ||
		      st.segment != c.last.segment ||
		      st.offset != c.last.offset + BLK_HEADER_SIZE + c.last.comp_len)))
			chk_fail(
				&c, IDX_CHECK_DAMAGED,
				"the index's state (%llu blocks, %llu records) does not sum up its %llu blocks (%llu records, %llu time entries)",
				(unsigned long long)st.blocks, (unsigned long long)st.records,
				(unsigned long long)c.blocks, (unsigned long long)c.records,
				(unsigned long long)count[1]);
	}
out:
	if (c.txn)
		mdb_txn_abort(c.txn);
	if (env)
		mdb_env_close(env);
	return c.verdict;
}

/* Is dir/index/data.mdb there, a regular file that can be opened? -1 when it is (go on
 * with the check), else the verdict: IDX_CHECK_NONE, or IDX_CHECK_UNREADABLE with errno
 * and why set. */
static int
chk_readable(const char *data, struct stat *sb, char *why, size_t n)
{
	int rc, fd;

	if (stat(data, sb) != 0) {
		if (errno == ENOENT)
			return IDX_CHECK_NONE;
		rc = errno;
		snprintf(why, n, "cannot read the index '%s': %s", data, strerror(rc));
		errno = rc;
		return IDX_CHECK_UNREADABLE;
	}
	if (!S_ISREG(sb->st_mode)) {
		errno = S_ISDIR(sb->st_mode) ? EISDIR : EINVAL;
		snprintf(why, n, "cannot read the index '%s': %s", data, strerror(errno));
		return IDX_CHECK_UNREADABLE;
	}
	if (sb->st_size == 0)
		return IDX_CHECK_NONE; /* a writer killed before LMDB wrote its first page */
	if ((fd = open(data, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno;
		snprintf(why, n, "cannot read the index '%s': %s", data, strerror(rc));
		errno = rc;
		return IDX_CHECK_UNREADABLE;
	}
	close(fd);
	return -1;
}

/* The child: silent (a sanitizer's report of a crash in liblmdb is the verdict, not a
 * message for the user), bounded in time, and gone without atexit work. Writes the
 * verdict (a digit) and why to fd. */
static void __attribute__((noreturn))
chk_child(const char *idir, const char *dir, uint64_t size, int fd, pid_t parent)
{
	char msg[600];
	/* The child dies with its parent, and holds none of the parent's descriptors: a
	 * writer's lock (an flock, shared by a forked copy of its descriptor) held by a
	 * child that outlived a writer killed -9 would refuse the next writer. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(4);
	if (fd != 3) {
		if (dup2(fd, 3) != 3)
			_exit(4);
		fd = 3;
	}
	if (syscall(SYS_close_range, 4U, ~0U, 0U) != 0)
		for (int i = 4; i < 1024; i++)
			close(i);
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0) {
		dup2(null, 2);
		close(null);
	}
	chk_child_signals();
	/* A cycle of pages spins: the bound is on CPU time, which a loaded machine does not
	 * take from the child as it takes wall-clock time (a healthy check of a large index
	 * must not read as a hang because other processes had the CPU); the alarm, ten
	 * times as long, is for a child that waits instead of spinning. A healthy walk reads
	 * far more than 16 MiB a second: 2 s, and 1 s more per 16 MiB of index, is what a
	 * damaged index that spins costs each reader until a writer or --repair rebuilds it. */
	unsigned limit = 2 + (unsigned)(size >> 24);
	struct rlimit cpu = { limit, limit + 5 };
	setrlimit(RLIMIT_CPU, &cpu);
	signal(SIGXCPU, SIG_DFL);
	signal(SIGALRM, SIG_DFL);
	alarm(10 * limit);
	msg[0] = (char)('0' + chk_run(idir, dir, msg + 1, sizeof(msg) - 1));
	size_t len = 1 + strlen(msg + 1);
	if (write(fd, msg, len) != (ssize_t)len)
		_exit(3);
	_exit(0);
}

/* The parent: read the child's verdict from fd and reap it. A crash, a hang or no
 * verdict at all is damage. */
static int
chk_verdict(pid_t pid, int fd, const char *idir, char *why, size_t n)
{
	char msg[600];
	size_t got = 0;
	int rc, status;

	for (;;) {
		ssize_t r = read(fd, msg + got, sizeof(msg) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(msg) - 1)
			break;
	}
	close(fd);
	msg[got] = 0;
	while ((rc = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
		;
	/* No status (ECHILD): the program ignores SIGCHLD, so the kernel reaped the child, or
	 * a handler of its own reaped it first. The verdict is then what the pipe holds: the
	 * child writes it whole in one write just before it exits, so a child that crashed
	 * or was killed left none (got == 0: damage, below). */
	if (rc < 0)
		status = 0;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		snprintf(why, n, "index '%s': %s while LMDB read it", idir,
			 sig == SIGALRM || sig == SIGXCPU ? "the check did not finish (a cycle of pages?)"
				 : sig == SIGSEGV         ? "a crash (SIGSEGV)"
				 : sig == SIGBUS          ? "a crash (SIGBUS)"
							  : "a crash");
		return IDX_CHECK_DAMAGED;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || got == 0 || msg[0] < '0' + IDX_CHECK_OK ||
	    msg[0] > '0' + IDX_CHECK_UNREADABLE) {
		snprintf(why, n, "index '%s': the check stopped (exit %d) while LMDB read it", idir,
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return IDX_CHECK_DAMAGED;
	}
	rc = msg[0] - '0';
	errno = EACCES; /* for IDX_CHECK_UNREADABLE: LMDB could not open it */
	if (rc == IDX_CHECK_DAMAGED && strncmp(msg + 1, "index '", 7) != 0)
		snprintf(why, n, "index '%s': %s", idir, msg + 1);
	else
		snprintf(why, n, "%s", msg + 1);
	return rc;
}

int
idx_check(const char *dir, char *why, size_t n)
{
	char idir[4200], data[4300];
	struct stat sb;
	int p[2], rc;
	pid_t pid;

	why[0] = 0;
	snprintf(idir, sizeof(idir), "%s/" INDEX_DIR, dir);
	snprintf(data, sizeof(data), "%s/data.mdb", idir);
	if ((rc = chk_readable(data, &sb, why, n)) >= 0)
		return rc;
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(why, n, "cannot check the index '%s': pipe: %s", idir, strerror(errno));
		return IDX_CHECK_UNREADABLE; /* errno from pipe2 */
	}
	pid_t parent = getpid();
	if ((pid = fork()) < 0) {
		rc = errno;
		close(p[0]);
		close(p[1]);
		snprintf(why, n, "cannot check the index '%s': fork: %s", idir, strerror(rc));
		errno = rc;
		return IDX_CHECK_UNREADABLE;
	}
	if (pid == 0) {
		close(p[0]);
		chk_child(idir, dir, (uint64_t)sb.st_size, p[1], parent);
	}
	close(p[1]);
	return chk_verdict(pid, p[0], idir, why, n);
}

int
index_end_check(const char *dir, const struct idx_state *st, const struct idx_block *b, char *why, size_t n)
{
	struct blk_reader br;
	char path[4200];
	struct stat sb;
	int fd, rc, res;

	why[0] = 0;
	if (st->blocks == 0)
		return INDEX_END_OK;
	seg_path(path, sizeof(path), dir, b->segment);
	if (st->segment != b->segment || st->offset != b->offset + BLK_HEADER_SIZE + b->comp_len ||
	    st->next_recno != b->first_recno + b->count) {
		snprintf(why, n, "the index's state does not end at its last block (offset %llu of '%s')",
			 (unsigned long long)b->offset, path);
		return INDEX_END_MISMATCH;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno;
		snprintf(why, n, "the index lists blocks in segment '%s': %s", path, strerror(rc));
		return rc == ENOENT ? INDEX_END_MISMATCH : INDEX_END_UNSURE;
	}
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return INDEX_END_UNSURE;
	}
	if ((uint64_t)sb.st_size < st->offset) {
		close(fd);
		snprintf(
			why, n,
			"the index lists records up to %llu, in a block at offset %llu of segment '%s' that ends at offset %llu, past the end of the file (%llu bytes)",
			(unsigned long long)(st->next_recno - 1), (unsigned long long)b->offset, path,
			(unsigned long long)st->offset, (unsigned long long)sb.st_size);
		return INDEX_END_MISMATCH;
	}
	blk_reader_init(&br);
	rc = blk_read(&br, fd, b->offset, (uint64_t)sb.st_size, 1);
	if (rc == BLK_OK &&
	    (br.h.first_recno != b->first_recno || br.h.count != b->count || br.h.comp_len != b->comp_len)) {
		snprintf(why, n, "the block at offset %llu of segment '%s' is not the one the index lists",
			 (unsigned long long)b->offset, path);
		res = INDEX_END_MISMATCH;
	} else if (rc == BLK_TORN) {
		snprintf(why, n,
			 "the block the index lists at offset %llu of segment '%s' is a torn tail (%s)",
			 (unsigned long long)b->offset, path, br.why ? br.why : "incomplete");
		res = INDEX_END_MISMATCH;
	} else {
		res = rc == BLK_OK ? INDEX_END_OK : INDEX_END_UNSURE;
	}
	blk_reader_free(&br);
	close(fd);
	return res;
}
