/* index.c - the LMDB index of a journal: opening and closing it, its value codecs, read
 * snapshots and the indexed state
 *
 * The index holds blocks by record number and time, connections, channels with their
 * cursor ranges, and the indexed state. Everything here is derived from the segments and
 * can be rebuilt from them, so the environment runs with MDB_NOSYNC: a commit costs a few
 * page writes, and durability comes from the segments plus the recovery scan on open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "index_lmdb.h"

/* LMDB maps data.mdb and trusts its meta page: a file cut shorter than the pages the meta
 * page names would be read past its end (SIGBUS). Check before anything is read. */
int
idx_env_truncated(MDB_env *env, const char *dir, char *detail, size_t dsize)
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
	snprintf(detail, dsize,
		 "index '%s': data.mdb has %llu bytes but its pages reach %llu (the file was cut)", dir,
		 (unsigned long long)sb.st_size, ((unsigned long long)info.me_last_pgno + 1) * ms.ms_psize);
	return 1;
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
	rc = mdb_env_open(x->env, x->path, MDB_NOTLS | (writer ? MDB_NOSYNC : MDB_RDONLY), 0644);
	if (rc != 0)
		goto fail;
	if (idx_env_truncated(x->env, x->path, detail, dsize)) {
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

void
idx_blockv_encode(uint8_t *v, const struct idx_block *b)
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

int
idx_blockv_decode(const MDB_val *v, struct idx_block *b)
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

/* A read transaction: the snapshot's when one is given, else a new one (idx_rd_end ends it). */
int
idx_rd_begin(struct idx *x, const struct idx_snap *s, MDB_txn **txn)
{
	if (s) {
		*txn = s->txn;
		return 0;
	}
	return mdb_txn_begin(x->env, NULL, MDB_RDONLY, txn);
}

void
idx_rd_end(const struct idx_snap *s, MDB_txn *txn)
{
	if (!s)
		mdb_txn_abort(txn);
}

int
idx_state_read_txn(MDB_txn *txn, MDB_dbi dbi, struct idx_state *st)
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
	if ((rc = idx_rd_begin(x, s, &txn)) != 0)
		return mdb_err(rc);
	rc = idx_state_read_txn(txn, x->state, st);
	idx_rd_end(s, txn);
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
