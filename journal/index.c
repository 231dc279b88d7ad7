/* index.c - the LMDB index of a journal: blocks by record number and time, connections,
 * channels with their cursor ranges, and the indexed state
 *
 * Everything here is derived from the segments and can be rebuilt from them, so the
 * environment runs with MDB_NOSYNC: a commit costs a few page writes, and durability
 * comes from the segments plus the recovery scan on open. */
#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

struct idx {
	MDB_env *env;
	MDB_dbi blocks, time, conns, chans, chanblk, state;
	int writer;
	char path[4096];
};

/* LMDB's words for a file it cannot make sense of. The index is derived from the
 * segments, so a writer that meets one of these throws the index away and rebuilds it. */
static int
mdb_damaged(int rc)
{
	return rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_VERSION_MISMATCH ||
	       rc == MDB_INCOMPATIBLE || rc == MDB_PANIC || rc == MDB_BAD_DBI || rc == MDB_BAD_VALSIZE;
}

/* LMDB maps data.mdb and trusts its meta page: a file cut shorter than the pages the meta
 * page names would be read past its end (SIGBUS). Check before anything is read. */
static int
env_truncated(MDB_env *env, const char *dir, char *detail, size_t dsize)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;
	char data[4300];

	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &ms) != 0 || stat(data, &sb) != 0)
		return 0;
	if ((uint64_t)sb.st_size >= ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize)
		return 0;
	snprintf(detail, dsize, "index '%s': data.mdb has %llu bytes but its pages reach %llu (the file was cut)", dir,
		 (unsigned long long)sb.st_size, ((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize);
	return 1;
}

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
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS, SIGALRM,
				    SIGXCPU, SIGXFSZ, SIGUSR1, SIGUSR2, SIGINT, SIGTERM, SIGPIPE };
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

static int
mdb_err(int rc)
{
	if (rc == 0)
		return 0;
	if (rc == MDB_NOTFOUND)
		return JOURNAL_ENOTFOUND;
	if (rc > 0)
		return rc; /* errno */
	return JOURNAL_EINDEX;
}

int
idx_open(const char *dir, int writer, struct idx **out, char *detail, size_t dsize, int *damaged)
{
	struct idx *x = calloc(1, sizeof(*x));
	MDB_txn *txn = NULL;
	int rc;
	unsigned dbflags = writer ? MDB_CREATE : 0;

	*out = NULL;
	*damaged = 0;
	if (!x)
		return ENOMEM;
	x->writer = writer;
	snprintf(x->path, sizeof(x->path), "%s/" INDEX_DIR, dir);
	if (writer) {
		if (mkdir(x->path, 0755) != 0 && errno != EEXIST) {
			rc = errno;
			snprintf(detail, dsize, "cannot create '%s': %s", x->path, strerror(rc));
			free(x);
			return rc;
		}
	} else {
		struct stat sb;
		char data[4300];
		snprintf(data, sizeof(data), "%s/data.mdb", x->path);
		if (stat(data, &sb) != 0) {
			free(x);
			return JOURNAL_ENOTFOUND;
		}
	}
	if ((rc = mdb_env_create(&x->env)) != 0)
		goto fail;
	mdb_env_set_maxdbs(x->env, 8);
	mdb_env_set_mapsize(x->env, (size_t)1 << 36);
	rc = mdb_env_open(x->env, x->path,
			  MDB_NOTLS | (writer ? MDB_NOSYNC : MDB_RDONLY), 0644);
	if (rc != 0)
		goto fail;
	if (env_truncated(x->env, x->path, detail, dsize)) {
		mdb_env_close(x->env);
		free(x);
		*damaged = 1;
		return JOURNAL_EINDEX;
	}
	if ((rc = mdb_txn_begin(x->env, NULL, writer ? 0 : MDB_RDONLY, &txn)) != 0)
		goto fail;
	if ((rc = mdb_dbi_open(txn, "blocks", dbflags, &x->blocks)) ||
	    (rc = mdb_dbi_open(txn, "time", dbflags, &x->time)) ||
	    (rc = mdb_dbi_open(txn, "conns", dbflags, &x->conns)) ||
	    (rc = mdb_dbi_open(txn, "chans", dbflags, &x->chans)) ||
	    (rc = mdb_dbi_open(txn, "chanblk", dbflags, &x->chanblk)) ||
	    (rc = mdb_dbi_open(txn, "state", dbflags, &x->state)))
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != 0) {
		txn = NULL;
		goto fail;
	}
	*out = x;
	return 0;
fail:
	snprintf(detail, dsize, "index '%s': %s", x->path, mdb_strerror(rc));
	if (txn)
		mdb_txn_abort(txn);
	if (x->env)
		mdb_env_close(x->env);
	free(x);
	*damaged = mdb_damaged(rc);
	return rc == MDB_NOTFOUND && !writer ? JOURNAL_ENOTFOUND : (rc > 0 ? rc : JOURNAL_EINDEX);
}

int
idx_remove(const char *dir)
{
	static const char *const files[] = { "data.mdb", "lock.mdb" };
	char p[4200];

	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(p, sizeof(p), "%s/" INDEX_DIR "/%s", dir, files[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			return errno;
	}
	return 0;
}

void
idx_close(struct idx *x)
{
	if (!x)
		return;
	if (x->writer)
		mdb_env_sync(x->env, 1);
	mdb_env_close(x->env);
	free(x);
}

int
idx_sync(struct idx *x)
{
	return mdb_err(mdb_env_sync(x->env, 1));
}

uint64_t
idx_disk_bytes(struct idx *x)
{
	char p[4200];
	struct stat sb;
	snprintf(p, sizeof(p), "%s/data.mdb", x->path);
	return stat(p, &sb) == 0 ? (uint64_t)sb.st_blocks * 512 : 0;
}

int
idx_clear(struct idx *x)
{
	MDB_txn *txn;
	int rc = mdb_txn_begin(x->env, NULL, 0, &txn);
	if (rc)
		return mdb_err(rc);
	if ((rc = mdb_drop(txn, x->blocks, 0)) || (rc = mdb_drop(txn, x->time, 0)) ||
	    (rc = mdb_drop(txn, x->conns, 0)) || (rc = mdb_drop(txn, x->chans, 0)) ||
	    (rc = mdb_drop(txn, x->chanblk, 0)) || (rc = mdb_drop(txn, x->state, 0))) {
		mdb_txn_abort(txn);
		return mdb_err(rc);
	}
	return mdb_err(mdb_txn_commit(txn));
}

/* ---- value codecs (little-endian, fixed layouts; keys big-endian so they sort) ---- */

static void
be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t
rd_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Signed time as an order-preserving unsigned key. */
static uint64_t
time_key(int64_t t)
{
	return (uint64_t)t ^ (1ULL << 63);
}

#define BLOCKV_SIZE 56
static void
blockv_encode(uint8_t *v, const struct idx_block *b)
{
	put_u32(v, b->segment);
	put_u32(v + 4, b->count);
	put_u64(v + 8, b->offset);
	put_u32(v + 16, b->comp_len);
	put_u32(v + 20, b->raw_len);
	put_u64(v + 24, (uint64_t)b->first_wall);
	put_u64(v + 32, (uint64_t)b->max_wall);
	put_u64(v + 40, b->payload_bytes);
	put_u64(v + 48, b->first_recno);
}

static int
blockv_decode(const MDB_val *v, struct idx_block *b)
{
	const uint8_t *p = v->mv_data;
	if (v->mv_size != BLOCKV_SIZE)
		return JOURNAL_EINDEX;
	b->segment = get_u32(p);
	b->count = get_u32(p + 4);
	b->offset = get_u64(p + 8);
	b->comp_len = get_u32(p + 16);
	b->raw_len = get_u32(p + 20);
	b->first_wall = (int64_t)get_u64(p + 24);
	b->max_wall = (int64_t)get_u64(p + 32);
	b->payload_bytes = get_u64(p + 40);
	b->first_recno = get_u64(p + 48);
	return 0;
}

/* ---- read snapshots: one read transaction for several reads ---- */

int
idx_snap_begin(struct idx *x, struct idx_snap *s)
{
	MDB_txn *txn = NULL;
	int rc = mdb_txn_begin(x->env, NULL, MDB_RDONLY, &txn);
	s->x = x;
	s->txn = rc ? NULL : txn;
	return mdb_err(rc);
}

void
idx_snap_end(struct idx_snap *s)
{
	if (s->txn)
		mdb_txn_abort(s->txn);
	s->txn = NULL;
}

/* A read transaction: the snapshot's when one is given, else a new one (rd_end ends it). */
static int
rd_begin(struct idx *x, const struct idx_snap *s, MDB_txn **txn)
{
	if (s) {
		*txn = s->txn;
		return 0;
	}
	return mdb_txn_begin(x->env, NULL, MDB_RDONLY, txn);
}

static void
rd_end(const struct idx_snap *s, MDB_txn *txn)
{
	if (!s)
		mdb_txn_abort(txn);
}

#define STATEV_SIZE 80
static int
state_read_txn(MDB_txn *txn, MDB_dbi dbi, struct idx_state *st)
{
	MDB_val k = { 5, "state" }, v;
	int rc;

	memset(st, 0, sizeof(*st));
	rc = mdb_get(txn, dbi, &k, &v);
	if (rc == 0 && v.mv_size == STATEV_SIZE) {
		const uint8_t *p = v.mv_data;
		st->segment = get_u32(p);
		st->max_conn = get_u32(p + 4);
		st->offset = get_u64(p + 8);
		st->next_recno = get_u64(p + 16);
		st->records = get_u64(p + 24);
		st->payload_bytes = get_u64(p + 32);
		st->raw_bytes = get_u64(p + 40);
		st->blocks = get_u64(p + 48);
		st->first_wall = (int64_t)get_u64(p + 56);
		st->max_wall = (int64_t)get_u64(p + 64);
	} else if (rc == 0) {
		rc = JOURNAL_EINDEX;
	} else if (rc == MDB_NOTFOUND) {
		rc = 0;
	}
	return rc;
}

static int
state_read(struct idx *x, const struct idx_snap *s, struct idx_state *st)
{
	MDB_txn *txn;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = rd_begin(x, s, &txn)) != 0)
		return mdb_err(rc);
	rc = state_read_txn(txn, x->state, st);
	rd_end(s, txn);
	return rc > 0 || rc < 0 ? mdb_err(rc) : 0;
}

int
idx_state_get(struct idx *x, struct idx_state *st)
{
	return state_read(x, NULL, st);
}

int
idx_snap_state(struct idx_snap *s, struct idx_state *st)
{
	return state_read(s->x, s, st);
}

static int
state_put(struct idx *x, MDB_txn *txn, const struct idx_state *st)
{
	uint8_t v[STATEV_SIZE] = { 0 };
	MDB_val k = { 5, "state" }, val = { sizeof(v), v };

	put_u32(v, st->segment);
	put_u32(v + 4, st->max_conn);
	put_u64(v + 8, st->offset);
	put_u64(v + 16, st->next_recno);
	put_u64(v + 24, st->records);
	put_u64(v + 32, st->payload_bytes);
	put_u64(v + 40, st->raw_bytes);
	put_u64(v + 48, st->blocks);
	put_u64(v + 56, (uint64_t)st->first_wall);
	put_u64(v + 64, (uint64_t)st->max_wall);
	return mdb_put(txn, x->state, &k, &val, 0);
}

/* conns value: first_recno, last_recno, records, first_wall, last_wall */
#define CONNV_SIZE 40
/* chans value: first_recno, last_recno, records, first_wall, last_wall, u16 flen, u16 llen, cursors */
#define CHANV_FIXED 44

struct agg {
	const char *name;
	size_t name_len;
	uint32_t conn;
	uint64_t first_recno, last_recno, records;
	int64_t first_wall, last_wall;
	const uint8_t *first_cur, *last_cur, *max_cur;
	size_t first_cur_len, last_cur_len, max_cur_len;
};

static struct agg *
agg_find_chan(struct agg *a, size_t *n, size_t cap, const struct journal_record *r)
{
	for (size_t i = *n; i-- > 0;)
		if (a[i].name_len == r->channel_len && memcmp(a[i].name, r->channel, r->channel_len) == 0)
			return &a[i];
	if (*n == cap)
		return NULL;
	struct agg *g = &a[(*n)++];
	memset(g, 0, sizeof(*g));
	g->name = r->channel;
	g->name_len = r->channel_len;
	g->first_recno = r->recno;
	g->first_wall = r->wall_ns;
	return g;
}

static struct agg *
agg_find_conn(struct agg *a, size_t *n, size_t cap, uint32_t conn, const struct journal_record *r)
{
	for (size_t i = *n; i-- > 0;)
		if (a[i].conn == conn)
			return &a[i];
	if (*n == cap)
		return NULL;
	struct agg *g = &a[(*n)++];
	memset(g, 0, sizeof(*g));
	g->conn = conn;
	g->first_recno = r->recno;
	g->first_wall = r->wall_ns;
	return g;
}

static int
flush_conn(struct idx *x, MDB_txn *txn, const struct agg *g)
{
	uint8_t kb[4], v[CONNV_SIZE];
	MDB_val k = { 4, kb }, old;
	uint64_t first = g->first_recno, records = g->records;
	int64_t first_wall = g->first_wall;

	kb[0] = (uint8_t)(g->conn >> 24);
	kb[1] = (uint8_t)(g->conn >> 16);
	kb[2] = (uint8_t)(g->conn >> 8);
	kb[3] = (uint8_t)g->conn;
	if (mdb_get(txn, x->conns, &k, &old) == 0 && old.mv_size == CONNV_SIZE) {
		const uint8_t *o = old.mv_data;
		first = get_u64(o);
		records += get_u64(o + 16);
		first_wall = (int64_t)get_u64(o + 24);
	}
	put_u64(v, first);
	put_u64(v + 8, g->last_recno);
	put_u64(v + 16, records);
	put_u64(v + 24, (uint64_t)first_wall);
	put_u64(v + 32, (uint64_t)g->last_wall);
	MDB_val val = { sizeof(v), v };
	return mdb_put(txn, x->conns, &k, &val, 0);
}

static int
flush_chan(struct idx *x, MDB_txn *txn, const struct agg *g, uint64_t block_recno)
{
	uint8_t v[CHANV_FIXED + 2 * JOURNAL_MAX_CURSOR], kb[1 + JOURNAL_MAX_CHANNEL + 8];
	MDB_val k = { g->name_len, (void *)g->name }, old;
	uint64_t first = g->first_recno, records = g->records;
	int64_t first_wall = g->first_wall;
	const uint8_t *fc = g->first_cur;
	size_t fcl = g->first_cur_len;
	int rc;

	if (mdb_get(txn, x->chans, &k, &old) == 0 && old.mv_size >= CHANV_FIXED) {
		const uint8_t *o = old.mv_data;
		first = get_u64(o);
		records += get_u64(o + 16);
		first_wall = (int64_t)get_u64(o + 24);
		if (CHANV_FIXED + (size_t)get_u16(o + 40) > old.mv_size)
			return MDB_CORRUPTED;
		if (get_u16(o + 40)) {
			fcl = get_u16(o + 40);
			fc = o + CHANV_FIXED;
		}
	}
	/* fc may point into the LMDB map: copy it before the put invalidates it */
	put_u64(v, first);
	put_u64(v + 8, g->last_recno);
	put_u64(v + 16, records);
	put_u64(v + 24, (uint64_t)first_wall);
	put_u64(v + 32, (uint64_t)g->last_wall);
	put_u16(v + 40, (uint16_t)fcl);
	put_u16(v + 42, (uint16_t)g->last_cur_len);
	if (fcl)
		memcpy(v + CHANV_FIXED, fc, fcl);
	if (g->last_cur_len)
		memcpy(v + CHANV_FIXED + fcl, g->last_cur, g->last_cur_len);
	MDB_val val = { CHANV_FIXED + fcl + g->last_cur_len, v };
	if ((rc = mdb_put(txn, x->chans, &k, &val, 0)) != 0)
		return rc;
	/* chanblk: (len, channel, block first recno) -> max cursor of the channel in the block */
	if (g->max_cur_len == 0)
		return 0;
	kb[0] = (uint8_t)g->name_len;
	memcpy(kb + 1, g->name, g->name_len);
	be64(kb + 1 + g->name_len, block_recno);
	MDB_val ck = { 1 + g->name_len + 8, kb }, cv = { g->max_cur_len, (void *)g->max_cur };
	return mdb_put(txn, x->chanblk, &ck, &cv, 0);
}

#define MAX_AGG 256

int
idx_add_block(struct idx *x, const struct idx_block *b, const uint8_t *raw, const struct blk_header *h,
	      const struct idx_state *st)
{
	struct agg chans[MAX_AGG], conns[MAX_AGG];
	size_t nch = 0, nco = 0;
	struct blk_iter it;
	struct journal_record r;
	MDB_txn *txn;
	uint8_t kb[16], vb[BLOCKV_SIZE], rb[8];
	int rc, more = 0;

	if ((rc = mdb_txn_begin(x->env, NULL, 0, &txn)) != 0)
		return mdb_err(rc);
	be64(kb, b->first_recno);
	blockv_encode(vb, b);
	MDB_val k = { 8, kb }, v = { BLOCKV_SIZE, vb };
	if ((rc = mdb_put(txn, x->blocks, &k, &v, 0)) != 0)
		goto fail;
	be64(kb, time_key(b->max_wall));
	be64(kb + 8, b->first_recno);
	be64(rb, b->first_recno);
	MDB_val tk = { 16, kb }, tv = { 8, rb };
	if ((rc = mdb_put(txn, x->time, &tk, &tv, 0)) != 0)
		goto fail;

	/* Aggregate the block's records per channel and per connection; a block with more
	 * distinct channels or connections than MAX_AGG is aggregated in several passes. */
	uint64_t done_upto = 0; /* records handled in earlier passes are skipped */
	do {
		more = 0;
		nch = nco = 0;
		uint64_t i = 0;
		blk_iter_init(&it, h, raw);
		while ((rc = blk_iter_next(&it, &r)) == 0) {
			if (i++ < done_upto)
				continue;
			struct agg *c = agg_find_conn(conns, &nco, MAX_AGG, r.conn, &r);
			struct agg *g = r.channel_len ? agg_find_chan(chans, &nch, MAX_AGG, &r) : NULL;
			if (!c || (r.channel_len && !g)) {
				more = 1;
				break;
			}
			c->last_recno = r.recno;
			c->last_wall = r.wall_ns;
			c->records++;
			done_upto = i;
			if (!g)
				continue;
			g->last_recno = r.recno;
			g->last_wall = r.wall_ns;
			g->records++;
			if (r.cursor_len) {
				if (!g->first_cur_len) {
					g->first_cur = r.cursor;
					g->first_cur_len = r.cursor_len;
				}
				g->last_cur = r.cursor;
				g->last_cur_len = r.cursor_len;
				if (!g->max_cur_len ||
				    journal_cursor_cmp(r.cursor, r.cursor_len, g->max_cur, g->max_cur_len) > 0) {
					g->max_cur = r.cursor;
					g->max_cur_len = r.cursor_len;
				}
			}
		}
		if (rc != 0 && rc != JOURNAL_EOF && !more) {
			mdb_txn_abort(txn);
			return rc;
		}
		for (size_t n = 0; n < nco; n++)
			if (conns[n].records && (rc = flush_conn(x, txn, &conns[n])) != 0)
				goto fail;
		for (size_t n = 0; n < nch; n++)
			if (chans[n].records && (rc = flush_chan(x, txn, &chans[n], b->first_recno)) != 0)
				goto fail;
	} while (more);
	if ((rc = state_put(x, txn, st)) != 0)
		goto fail;
	return mdb_err(mdb_txn_commit(txn));
fail:
	mdb_txn_abort(txn);
	return mdb_err(rc);
}

/* Position a cursor with MDB_SET_RANGE on key, or MDB_LAST when nothing is >= key. */
static int
block_at(MDB_txn *txn, MDB_dbi dbi, MDB_val *k, MDB_val *v, int want_le)
{
	MDB_cursor *c;
	int rc = mdb_cursor_open(txn, dbi, &c);
	if (rc)
		return rc;
	MDB_val key = *k;
	rc = mdb_cursor_get(c, &key, v, MDB_SET_RANGE);
	if (want_le) {
		/* the largest key <= k */
		if (rc == MDB_NOTFOUND)
			rc = mdb_cursor_get(c, &key, v, MDB_LAST);
		else if (rc == 0 && (key.mv_size != k->mv_size || memcmp(key.mv_data, k->mv_data, k->mv_size) != 0))
			rc = mdb_cursor_get(c, &key, v, MDB_PREV);
	}
	*k = key;
	mdb_cursor_close(c);
	return rc;
}

static int
get_block(MDB_txn *txn, struct idx *x, uint64_t recno, struct idx_block *b)
{
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	be64(kb, recno);
	int rc = mdb_get(txn, x->blocks, &k, &v);
	return rc ? rc : blockv_decode(&v, b);
}

static int
find_recno(struct idx *x, const struct idx_snap *s, uint64_t recno, struct idx_block *b)
{
	MDB_txn *txn;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if ((rc = rd_begin(x, s, &txn)) != 0)
		return mdb_err(rc);
	be64(kb, recno);
	rc = block_at(txn, x->blocks, &k, &v, 1);
	if (rc == 0)
		rc = blockv_decode(&v, b);
	rd_end(s, txn);
	return mdb_err(rc);
}

int
idx_find_recno(struct idx *x, uint64_t recno, struct idx_block *b)
{
	return find_recno(x, NULL, recno, b);
}

int
idx_last_block(struct idx *x, struct idx_block *b)
{
	return find_recno(x, NULL, UINT64_MAX, b);
}

int
idx_snap_last_block(struct idx_snap *s, struct idx_block *b)
{
	return find_recno(s->x, s, UINT64_MAX, b);
}

int
idx_find_time(struct idx *x, int64_t wall, struct idx_block *b)
{
	MDB_txn *txn;
	uint8_t kb[16];
	MDB_val k = { 16, kb }, v;
	int rc;

	if ((rc = mdb_txn_begin(x->env, NULL, MDB_RDONLY, &txn)) != 0)
		return mdb_err(rc);
	be64(kb, time_key(wall));
	be64(kb + 8, 0);
	rc = block_at(txn, x->time, &k, &v, 0);
	if (rc == 0)
		rc = v.mv_size == 8 ? get_block(txn, x, rd_be64(v.mv_data), b) : MDB_CORRUPTED;
	mdb_txn_abort(txn);
	return mdb_err(rc);
}

int
idx_find_cursor(struct idx *x, const char *ch, size_t chlen, const void *cur, size_t curlen,
		struct idx_block *b)
{
	MDB_txn *txn;
	MDB_cursor *c;
	uint8_t kb[1 + JOURNAL_MAX_CHANNEL + 8];
	MDB_val k, v;
	int rc;

	if (chlen > JOURNAL_MAX_CHANNEL)
		return JOURNAL_ENOTFOUND;
	if ((rc = mdb_txn_begin(x->env, NULL, MDB_RDONLY, &txn)) != 0)
		return mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, x->chanblk, &c)) != 0) {
		mdb_txn_abort(txn);
		return mdb_err(rc);
	}
	kb[0] = (uint8_t)chlen;
	memcpy(kb + 1, ch, chlen);
	memset(kb + 1 + chlen, 0, 8);
	k.mv_size = 1 + chlen + 8;
	k.mv_data = kb;
	/* one entry per block that holds the channel: walk them in order until one whose
	 * max cursor reaches the target (a few thousand entries for a large journal) */
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		const uint8_t *kp = k.mv_data;
		if (k.mv_size != 1 + chlen + 8 || kp[0] != chlen || memcmp(kp + 1, ch, chlen) != 0) {
			rc = MDB_NOTFOUND;
			break;
		}
		if (journal_cursor_cmp(v.mv_data, v.mv_size, cur, curlen) >= 0) {
			rc = get_block(txn, x, rd_be64(kp + 1 + chlen), b);
			break;
		}
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return mdb_err(rc);
}

/* Walk every entry of dbi in key order; 'row' decodes one and calls the user's function.
 * A non-zero return from row stops the walk and is returned; MDB_CORRUPTED from it means
 * the entry did not decode. */
static int
walk(struct idx *x, const struct idx_snap *s, MDB_dbi dbi, int (*row)(const MDB_val *k, const MDB_val *v, void *ud),
     void *ud)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, stop = 0;

	if ((rc = rd_begin(x, s, &txn)) != 0)
		return mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0) {
		rd_end(s, txn);
		return mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((stop = row(&k, &v, ud)) != 0)
			break;
	mdb_cursor_close(c);
	rd_end(s, txn);
	if (stop == MDB_CORRUPTED)
		return JOURNAL_EINDEX;
	if (stop)
		return stop;
	return rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
}

struct walk_fn {
	void *fn;
	void *ud;
};

static int
block_row(const MDB_val *k, const MDB_val *v, void *ud)
{
	struct walk_fn *w = ud;
	struct idx_block b;
	if (blockv_decode(v, &b) != 0)
		return MDB_CORRUPTED;
	return ((int (*)(const struct idx_block *, void *))w->fn)(&b, w->ud);
}

int
idx_block_foreach(struct idx *x, int (*fn)(const struct idx_block *, void *), void *ud)
{
	struct walk_fn w = { (void *)fn, ud };
	return walk(x, NULL, x->blocks, block_row, &w);
}

static int
conn_row(const MDB_val *k, const MDB_val *v, void *ud)
{
	struct walk_fn *w = ud;
	const uint8_t *kp = k->mv_data, *p = v->mv_data;
	if (k->mv_size != 4 || v->mv_size != CONNV_SIZE)
		return MDB_CORRUPTED;
	struct journal_conn_info ci = {
		.conn = (uint32_t)kp[0] << 24 | (uint32_t)kp[1] << 16 | (uint32_t)kp[2] << 8 | kp[3],
		.first_recno = get_u64(p),
		.last_recno = get_u64(p + 8),
		.records = get_u64(p + 16),
		.first_wall_ns = (int64_t)get_u64(p + 24),
		.last_wall_ns = (int64_t)get_u64(p + 32),
	};
	return ((int (*)(const struct journal_conn_info *, void *))w->fn)(&ci, w->ud);
}

int
idx_conn_foreach(struct idx *x, int (*fn)(const struct journal_conn_info *, void *), void *ud)
{
	struct walk_fn w = { (void *)fn, ud };
	return walk(x, NULL, x->conns, conn_row, &w);
}

int
idx_snap_conn_foreach(struct idx_snap *s, int (*fn)(const struct journal_conn_info *, void *), void *ud)
{
	struct walk_fn w = { (void *)fn, ud };
	return walk(s->x, s, s->x->conns, conn_row, &w);
}

static int
channel_row(const MDB_val *k, const MDB_val *v, void *ud)
{
	struct walk_fn *w = ud;
	const uint8_t *p = v->mv_data;
	if (v->mv_size < CHANV_FIXED || CHANV_FIXED + (size_t)get_u16(p + 40) + get_u16(p + 42) != v->mv_size)
		return MDB_CORRUPTED;
	struct journal_channel_info ci = {
		.name = k->mv_data,
		.name_len = k->mv_size,
		.first_recno = get_u64(p),
		.last_recno = get_u64(p + 8),
		.records = get_u64(p + 16),
		.first_wall_ns = (int64_t)get_u64(p + 24),
		.last_wall_ns = (int64_t)get_u64(p + 32),
		.first_cursor_len = get_u16(p + 40),
		.last_cursor_len = get_u16(p + 42),
		.first_cursor = p + CHANV_FIXED,
		.last_cursor = p + CHANV_FIXED + get_u16(p + 40),
	};
	return ((int (*)(const struct journal_channel_info *, void *))w->fn)(&ci, w->ud);
}

int
idx_channel_foreach(struct idx *x, int (*fn)(const struct journal_channel_info *, void *), void *ud)
{
	struct walk_fn w = { (void *)fn, ud };
	return walk(x, NULL, x->chans, channel_row, &w);
}

int
idx_snap_channel_foreach(struct idx_snap *s, int (*fn)(const struct journal_channel_info *, void *), void *ud)
{
	struct walk_fn w = { (void *)fn, ud };
	return walk(s->x, s, s->x->chans, channel_row, &w);
}

static uint32_t
count_entries(struct idx *x, const struct idx_snap *snap, MDB_dbi dbi)
{
	MDB_txn *txn;
	MDB_stat s;
	uint32_t n = 0;
	if (rd_begin(x, snap, &txn) != 0)
		return 0;
	if (mdb_stat(txn, dbi, &s) == 0)
		n = (uint32_t)s.ms_entries;
	rd_end(snap, txn);
	return n;
}

uint32_t
idx_channel_count(struct idx *x)
{
	return count_entries(x, NULL, x->chans);
}

uint32_t
idx_conn_count(struct idx *x)
{
	return count_entries(x, NULL, x->conns);
}

uint32_t
idx_snap_channel_count(struct idx_snap *s)
{
	return count_entries(s->x, s, s->x->chans);
}

uint32_t
idx_snap_conn_count(struct idx_snap *s)
{
	return count_entries(s->x, s, s->x->conns);
}

int
idx_snap_has_conn(struct idx_snap *s, uint32_t conn)
{
	uint8_t kb[4] = { (uint8_t)(conn >> 24), (uint8_t)(conn >> 16), (uint8_t)(conn >> 8), (uint8_t)conn };
	MDB_val k = { 4, kb }, v;
	return mdb_get(s->txn, s->x->conns, &k, &v) == 0;
}

int
idx_snap_has_channel(struct idx_snap *s, const char *name, size_t len)
{
	MDB_val k = { len, (void *)name }, v;
	return len > 0 && mdb_get(s->txn, s->x->chans, &k, &v) == 0;
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
	volatile uint8_t touch;
};

static int
chk_fail(struct chk *c, int verdict, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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

static int
chk_block(struct chk *c, const MDB_val *k, const MDB_val *v)
{
	struct idx_block b;

	if (k->mv_size != 8 || blockv_decode(v, &b) != 0)
		return chk_fail(c, IDX_CHECK_DAMAGED, "a 'blocks' entry has a key of %zu bytes and a value of %zu bytes",
				k->mv_size, v->mv_size);
	if (rd_be64(k->mv_data) != b.first_recno || b.count == 0 || b.comp_len == 0 || b.raw_len == 0 ||
	    b.raw_len > BLK_MAX_RAW || b.offset < SEG_HEADER_SIZE || b.segment == 0)
		return chk_fail(c, IDX_CHECK_DAMAGED, "the 'blocks' entry of record %llu does not describe a block",
				(unsigned long long)rd_be64(k->mv_data));
	if (c->blocks) {
		const struct idx_block *p = &c->last;
		int same = b.segment == p->segment;
		if (b.first_recno != p->first_recno + p->count || b.max_wall < p->max_wall ||
		    (same && b.offset != p->offset + BLK_HEADER_SIZE + p->comp_len) ||
		    (!same && (b.segment < p->segment || b.offset != SEG_HEADER_SIZE)))
			return chk_fail(c, IDX_CHECK_DAMAGED,
					"the 'blocks' entry of record %llu does not follow the one of record %llu",
					(unsigned long long)b.first_recno, (unsigned long long)p->first_recno);
	}
	if (c->blocks && b.segment != c->last.segment && c->past.count) {
		char path[4200];
		seg_path(path, sizeof(path), c->jdir, c->past.segment);
		return chk_fail(c, IDX_CHECK_STALE,
				"the index lists records %llu..%llu in segment '%s' past the end of the file (%llu bytes; the block of record %llu ends at offset %llu)",
				(unsigned long long)c->past.first_recno, (unsigned long long)(b.first_recno - 1), path,
				(unsigned long long)c->past_size, (unsigned long long)c->past.first_recno,
				(unsigned long long)(c->past.offset + BLK_HEADER_SIZE + c->past.comp_len));
	}
	if (!c->blocks || b.segment != c->last.segment) {
		/* the first block the index lists in a segment starts where its header says */
		uint64_t first = seg_first_recno(c->jdir, b.segment, &c->seg_size);
		char path[4200];
		seg_path(path, sizeof(path), c->jdir, b.segment);
		if (first == 0)
			return chk_fail(c, IDX_CHECK_STALE, "the index lists blocks in segment '%s', which does not exist",
					path);
		if (first != UINT64_MAX && (b.offset != SEG_HEADER_SIZE || first != b.first_recno))
			return chk_fail(c, IDX_CHECK_STALE,
					"the index says segment '%s' holds record %llu at offset %llu; its header says it starts at record %llu",
					path, (unsigned long long)b.first_recno, (unsigned long long)b.offset,
					(unsigned long long)first);
	}
	/* every indexed block lies inside its segment's file: a segment cut (or replaced by a
	 * shorter one) after it was indexed no longer holds the records the index lists. The
	 * first block past the end is noted, and the index is stale once a later segment
	 * follows (the last segment is index_end_check's: a reader names the block there). */
	if (c->seg_size != UINT64_MAX && !c->past.count && b.offset + BLK_HEADER_SIZE + (uint64_t)b.comp_len > c->seg_size) {
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

static int
chk_row(struct chk *c, const char *db, MDB_dbi dbi, const MDB_val *k, const MDB_val *v)
{
	const uint8_t *kp = k->mv_data, *vp = v->mv_data;
	MDB_val k2 = *k, v2;
	int rc;

	chk_touch(c, k);
	chk_touch(c, v);
	/* look the key up again: the search reads the branch pages that a seek reads */
	if (dbi != 0 && ((rc = mdb_get(c->txn, dbi, &k2, &v2)) != 0 || v2.mv_size != v->mv_size ||
			 v2.mv_data != v->mv_data))
		return chk_fail(c, IDX_CHECK_DAMAGED, "an entry of '%s' cannot be found again by its key (%s)", db,
				rc ? mdb_strerror(rc) : "another value");
	if (!strcmp(db, "blocks"))
		return chk_block(c, k, v);
	if (!strcmp(db, "time")) {
		if (k->mv_size != 16 || v->mv_size != 8 || memcmp(kp + 8, vp, 8) != 0)
			return chk_fail(c, IDX_CHECK_DAMAGED, "a 'time' entry has a key of %zu bytes and a value of %zu bytes",
					k->mv_size, v->mv_size);
	} else if (!strcmp(db, "conns")) {
		if (k->mv_size != 4 || v->mv_size != CONNV_SIZE || get_u64(vp) > get_u64(vp + 8) || get_u64(vp + 16) == 0)
			return chk_fail(c, IDX_CHECK_DAMAGED, "a 'conns' entry is not a connection");
	} else if (!strcmp(db, "chans")) {
		if (k->mv_size == 0 || k->mv_size > JOURNAL_MAX_CHANNEL || v->mv_size < CHANV_FIXED ||
		    get_u16(vp + 40) > JOURNAL_MAX_CURSOR || get_u16(vp + 42) > JOURNAL_MAX_CURSOR ||
		    CHANV_FIXED + (size_t)get_u16(vp + 40) + get_u16(vp + 42) != v->mv_size)
			return chk_fail(c, IDX_CHECK_DAMAGED, "a 'chans' entry is not a channel");
	} else if (!strcmp(db, "chanblk")) {
		if (k->mv_size < 10 || kp[0] == 0 || k->mv_size != 1 + (size_t)kp[0] + 8 || v->mv_size == 0 ||
		    v->mv_size > JOURNAL_MAX_CURSOR)
			return chk_fail(c, IDX_CHECK_DAMAGED, "a 'chanblk' entry is not a channel's block");
	} else if (!strcmp(db, "state")) {
		if (k->mv_size != 5 || memcmp(kp, "state", 5) != 0 || v->mv_size != STATEV_SIZE)
			return chk_fail(c, IDX_CHECK_DAMAGED, "the 'state' entry has a key of %zu bytes and a value of %zu bytes",
					k->mv_size, v->mv_size);
	} else if (dbi == 0) {
		/* the free list: a transaction id, then a page list that starts with its length */
		if (k->mv_size != sizeof(size_t) || v->mv_size < sizeof(size_t) ||
		    v->mv_size != (*(const size_t *)vp + 1) * sizeof(size_t))
			return chk_fail(c, IDX_CHECK_DAMAGED, "the free list holds an entry of %zu bytes that is not a page list",
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
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (++n > c->max_entries) {
			mdb_cursor_close(cur);
			return chk_fail(c, IDX_CHECK_DAMAGED, "database '%s' has more entries than its file can hold (its pages form a cycle)",
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
		return chk_fail(c, IDX_CHECK_DAMAGED, "database '%s' says it has %llu entries; %llu were found", db,
				(unsigned long long)ms.ms_entries, (unsigned long long)n);
	*count = n;
	return 0;
}

/* Runs in the child: the verdict, and why in c->why. */
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
		return chk_fail(&c, IDX_CHECK_DAMAGED, "cannot stat '%s': %s", data, strerror(errno)), c.verdict;
	c.max_entries = (uint64_t)sb.st_size / 8 + 16;
	if ((rc = mdb_env_create(&env)) != 0)
		return chk_fail(&c, IDX_CHECK_DAMAGED, "%s", mdb_strerror(rc)), c.verdict;
	mdb_env_set_maxdbs(env, 8);
	mdb_env_set_mapsize(env, (size_t)1 << 36);
	if ((rc = mdb_env_open(env, idir, MDB_NOTLS | MDB_RDONLY, 0644)) != 0) {
		chk_fail(&c, mdb_damaged(rc) ? IDX_CHECK_DAMAGED : IDX_CHECK_UNREADABLE, "index '%s': %s", idir,
			 mdb_strerror(rc));
		goto out;
	}
	if (env_truncated(env, idir, why, n)) {
		c.verdict = IDX_CHECK_DAMAGED;
		goto out;
	}
	if ((rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &c.txn)) != 0) {
		chk_fail(&c, mdb_damaged(rc) ? IDX_CHECK_DAMAGED : IDX_CHECK_UNREADABLE, "index '%s': %s", idir,
			 mdb_strerror(rc));
		goto out;
	}
	for (int i = 0; i < 6; i++)
		if ((rc = mdb_dbi_open(c.txn, names[i], 0, &dbi[i])) != 0) {
			chk_fail(&c, IDX_CHECK_DAMAGED, "index '%s': database '%s': %s", idir, names[i], mdb_strerror(rc));
			goto out;
		}
	uint64_t nfree;
	if (chk_walk(&c, "free list", 0, &nfree) != 0)
		goto out;
	for (int i = 0; i < 6; i++)
		if (chk_walk(&c, names[i], dbi[i], &count[i]) != 0)
			goto out;
	{
		struct idx_state st;
		if (state_read_txn(c.txn, dbi[5], &st) != 0) {
			chk_fail(&c, IDX_CHECK_DAMAGED, "the index's state cannot be read");
			goto out;
		}
		if (count[1] != c.blocks || (c.blocks == 0) != (count[5] == 0) ||
		    (c.blocks && (st.blocks != c.blocks || st.records != c.records || st.payload_bytes != c.payload ||
				  st.raw_bytes != c.raw || st.next_recno != c.last.first_recno + c.last.count ||
				  st.segment != c.last.segment ||
				  st.offset != c.last.offset + BLK_HEADER_SIZE + c.last.comp_len)))
			chk_fail(&c, IDX_CHECK_DAMAGED,
				 "the index's state (%llu blocks, %llu records) does not sum up its %llu blocks (%llu records, %llu time entries)",
				 (unsigned long long)st.blocks, (unsigned long long)st.records, (unsigned long long)c.blocks,
				 (unsigned long long)c.records, (unsigned long long)count[1]);
	}
out:
	if (c.txn)
		mdb_txn_abort(c.txn);
	if (env)
		mdb_env_close(env);
	return c.verdict;
}

int
idx_check(const char *dir, char *why, size_t n)
{
	char idir[4200], data[4300], msg[600];
	struct stat sb;
	int p[2], rc, status, fd;
	pid_t pid;

	why[0] = 0;
	snprintf(idir, sizeof(idir), "%s/" INDEX_DIR, dir);
	snprintf(data, sizeof(data), "%s/data.mdb", idir);
	if (stat(data, &sb) != 0) {
		if (errno == ENOENT)
			return IDX_CHECK_NONE;
		rc = errno;
		snprintf(why, n, "cannot read the index '%s': %s", data, strerror(rc));
		errno = rc;
		return IDX_CHECK_UNREADABLE;
	}
	if (!S_ISREG(sb.st_mode)) {
		errno = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
		snprintf(why, n, "cannot read the index '%s': %s", data, strerror(errno));
		return IDX_CHECK_UNREADABLE;
	}
	if ((fd = open(data, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno;
		snprintf(why, n, "cannot read the index '%s': %s", data, strerror(rc));
		errno = rc;
		return IDX_CHECK_UNREADABLE;
	}
	close(fd);
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(why, n, "cannot check the index '%s': pipe: %s", idir, strerror(errno));
		return IDX_CHECK_UNREADABLE; /* errno from pipe2 */
	}
	if ((pid = fork()) < 0) {
		rc = errno;
		close(p[0]);
		close(p[1]);
		snprintf(why, n, "cannot check the index '%s': fork: %s", idir, strerror(rc));
		errno = rc;
		return IDX_CHECK_UNREADABLE;
	}
	if (pid == 0) {
		/* the child: silent (a sanitizer's report of a crash in liblmdb is the verdict,
		 * not a message for the user), bounded in time, and gone without atexit work */
		int null = open("/dev/null", O_WRONLY);
		if (null >= 0)
			dup2(null, 2);
		chk_child_signals();
		/* A cycle of pages spins: the bound is on CPU time, which a loaded machine does not
		 * take from the child as it takes wall-clock time (a healthy check of a large index
		 * must not read as a hang because other processes had the CPU); the alarm, ten
		 * times as long, is for a child that waits instead of spinning. */
		unsigned limit = 30 + (unsigned)(sb.st_size >> 24);
		struct rlimit cpu = { limit, limit + 5 };
		setrlimit(RLIMIT_CPU, &cpu);
		signal(SIGXCPU, SIG_DFL);
		signal(SIGALRM, SIG_DFL);
		alarm(10 * limit);
		close(p[0]);
		msg[0] = (char)('0' + chk_run(idir, dir, msg + 1, sizeof(msg) - 1));
		size_t len = 1 + strlen(msg + 1);
		if (write(p[1], msg, len) != (ssize_t)len)
			_exit(3);
		_exit(0);
	}
	close(p[1]);
	size_t got = 0;
	for (;;) {
		ssize_t r = read(p[0], msg + got, sizeof(msg) - 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
		if (got == sizeof(msg) - 1)
			break;
	}
	close(p[0]);
	msg[got] = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		snprintf(why, n, "index '%s': %s while LMDB read it", idir,
			 sig == SIGALRM || sig == SIGXCPU ?
				 "the check did not finish (a cycle of pages?)" :
			 sig == SIGSEGV ? "a crash (SIGSEGV)" : sig == SIGBUS ? "a crash (SIGBUS)" : "a crash");
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
