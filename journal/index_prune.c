/* index_prune.c - dropping the index entries of pruned blocks, and the state's sums with
 * them, in one LMDB transaction (a writer adding a block meanwhile waits for LMDB's write
 * lock, and adds to the sums it finds: index_add.c) */
#include <string.h>

#include "index_lmdb.h"

/* Delete the entries of dbi that drop() accepts, walking from the first key (and, with
 * stop_at_first_kept, stopping at the first it does not). */
static int
drop_where(MDB_txn *txn, MDB_dbi dbi, int (*drop)(const MDB_val *, const MDB_val *, uint64_t), uint64_t floor,
	   int stop_at_first_kept)
{
	MDB_cursor *c;
	MDB_val k, v;
	int rc = mdb_cursor_open(txn, dbi, &c);

	if (rc)
		return rc;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if (!drop(&k, &v, floor)) {
			if (stop_at_first_kept)
				break;
			continue;
		}
		if ((rc = mdb_cursor_del(c, 0)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return rc == MDB_NOTFOUND ? 0 : rc;
}

static int
drop_block(const MDB_val *k, const MDB_val *v, uint64_t floor)
{
	(void)v;
	return k->mv_size == 8 && rd_be64(k->mv_data) < floor;
}

static int
drop_time(const MDB_val *k, const MDB_val *v, uint64_t floor)
{
	(void)k;
	return v->mv_size == 8 && rd_be64(v->mv_data) < floor;
}

static int
drop_chanblk(const MDB_val *k, const MDB_val *v, uint64_t floor)
{
	const uint8_t *p = k->mv_data;
	(void)v;
	return k->mv_size >= 9 && rd_be64(p + k->mv_size - 8) < floor;
}

/* The key of a fix's entry in conns or chans. */
static void
fix_key(const struct idx_prune_fix *f, uint8_t kb[4], MDB_val *k)
{
	if (f->chan) {
		k->mv_size = f->name_len;
		k->mv_data = (void *)f->name;
		return;
	}
	kb[0] = (uint8_t)(f->conn >> 24);
	kb[1] = (uint8_t)(f->conn >> 16);
	kb[2] = (uint8_t)(f->conn >> 8);
	kb[3] = (uint8_t)f->conn;
	k->mv_size = 4;
	k->mv_data = kb;
}

int
idx_prune_bounds(struct idx *x, struct idx_prune_fix *fix, size_t n)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(x->env, NULL, MDB_RDONLY, &txn)) != 0)
		return mdb_err(rc);
	for (size_t i = 0; i < n; i++) {
		struct idx_prune_fix *f = &fix[i];
		uint8_t kb[4];
		MDB_val k, v;
		fix_key(f, kb, &k);
		f->last_recno = 0;
		f->want_cursor = 0;
		if (mdb_get(txn, f->chan ? x->chans : x->conns, &k, &v) != 0 ||
		    v.mv_size < (f->chan ? CHANV_FIXED : CONNV_SIZE))
			continue;
		f->last_recno = get_u64((const uint8_t *)v.mv_data + 8);
		f->want_cursor = f->chan && get_u16((const uint8_t *)v.mv_data + 42) != 0;
	}
	mdb_txn_abort(txn);
	return 0;
}

/* One fix on its entry (the entry is as the writer left it, who may have added records
 * since the fix was made: the records come off as a difference). */
static int
fix_apply(struct idx *x, MDB_txn *txn, const struct idx_prune_fix *f, uint64_t floor)
{
	uint8_t kb[4], v[CHANV_FIXED + 2 * JOURNAL_MAX_CURSOR];
	MDB_val k, old;
	MDB_dbi dbi = f->chan ? x->chans : x->conns;
	int rc;

	fix_key(f, kb, &k);
	if ((rc = mdb_get(txn, dbi, &k, &old)) != 0)
		return rc == MDB_NOTFOUND ? 0 : rc;
	const uint8_t *o = old.mv_data;
	size_t fixed = f->chan ? CHANV_FIXED : CONNV_SIZE;
	if (old.mv_size < fixed || get_u64(o) >= floor)
		return 0;
	if (get_u64(o + 8) < floor) /* every record of it was pruned */
		return mdb_del(txn, dbi, &k, NULL);
	uint64_t records = get_u64(o + 16), last = get_u64(o + 8);
	int64_t last_wall = (int64_t)get_u64(o + 32);
	size_t flen = 0, llen = 0;
	const uint8_t *lcur = NULL;
	if (f->chan) {
		flen = get_u16(o + 40);
		llen = get_u16(o + 42);
		if (CHANV_FIXED + flen + llen != old.mv_size)
			return MDB_CORRUPTED;
		lcur = o + CHANV_FIXED + flen;
	}
	memcpy(v, o, fixed);
	put_u64(v, f->found ? f->first_recno : last);
	put_u64(v + 16, records > f->records ? records - f->records : 1);
	put_u64(v + 24, (uint64_t)(f->found ? f->first_wall : last_wall));
	size_t len = fixed;
	if (f->chan) {
		/* the first cursor kept; the last one when the scan did not reach it */
		const uint8_t *fc = f->cursor_found ? f->cursor : lcur;
		size_t fcl = f->cursor_found ? f->cursor_len : llen;
		put_u16(v + 40, (uint16_t)fcl);
		memmove(v + CHANV_FIXED + fcl, lcur, llen); /* lcur points into the map, not v */
		memcpy(v + CHANV_FIXED, fc, fcl);
		len = CHANV_FIXED + fcl + llen;
	}
	MDB_val val = { len, v };
	return mdb_put(txn, dbi, &k, &val, 0);
}

int
idx_prune(struct idx *x, uint64_t floor, const struct idx_prune_fix *fix, size_t nfix,
	  uint64_t *blocks_dropped)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct idx_state st;
	struct idx_block b;
	uint64_t n = 0, records = 0, payload = 0, raw = 0;
	int rc;

	*blocks_dropped = 0;
	if ((rc = mdb_txn_begin(x->env, NULL, 0, &txn)) != 0)
		return mdb_err(rc);
	if ((rc = idx_state_read_txn(txn, x->state, &st)) != 0)
		goto fail;
	/* the sums of the blocks that go */
	if ((rc = mdb_cursor_open(txn, x->blocks, &c)) != 0)
		goto fail;
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
		if ((rc = idx_blockv_decode(&v, &b)) != 0)
			break;
		if (b.first_recno >= floor)
			break;
		n++;
		records += b.count;
		payload += b.payload_bytes;
		raw += b.raw_len;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		goto fail;
	if (n == 0) {
		mdb_txn_abort(txn);
		return 0;
	}
	for (size_t i = 0; i < nfix; i++)
		if ((rc = fix_apply(x, txn, &fix[i], floor)) != 0)
			goto fail;
	if ((rc = drop_where(txn, x->blocks, drop_block, floor, 1)) != 0 ||
	    (rc = drop_where(txn, x->time, drop_time, floor, 0)) != 0 ||
	    (rc = drop_where(txn, x->chanblk, drop_chanblk, floor, 0)) != 0)
		goto fail;
	if (n >= st.blocks) {
		/* nothing indexed is left: an empty index has no state */
		MDB_val sk = { 5, "state" };
		if (((rc = mdb_del(txn, x->state, &sk, NULL)) != 0 && rc != MDB_NOTFOUND) ||
		    (rc = mdb_drop(txn, x->conns, 0)) != 0 || (rc = mdb_drop(txn, x->chans, 0)) != 0)
			goto fail;
	} else {
		st.blocks -= n;
		st.records -= records < st.records ? records : st.records;
		st.payload_bytes -= payload < st.payload_bytes ? payload : st.payload_bytes;
		st.raw_bytes -= raw < st.raw_bytes ? raw : st.raw_bytes;
		if ((rc = mdb_cursor_open(txn, x->blocks, &c)) != 0)
			goto fail;
		rc = mdb_cursor_get(c, &k, &v, MDB_FIRST);
		if (rc == 0)
			rc = idx_blockv_decode(&v, &b);
		mdb_cursor_close(c);
		if (rc != 0)
			goto fail;
		st.first_wall = b.first_wall;
		if ((rc = idx_state_put_txn(x, txn, &st)) != 0)
			goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != 0)
		return mdb_err(rc);
	*blocks_dropped = n;
	return 0;
fail:
	mdb_txn_abort(txn);
	return mdb_err(rc);
}
