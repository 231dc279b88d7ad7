/* index_query.c - reading the index: the block holding a record, a time or a channel's
 * cursor, and walks over blocks, connections and channels */
#include <string.h>

#include "index_lmdb.h"

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
		else if (rc == 0 &&
			 (key.mv_size != k->mv_size || memcmp(key.mv_data, k->mv_data, k->mv_size) != 0))
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
	return rc ? rc : idx_blockv_decode(&v, b);
}

static int
find_recno(struct idx *x, const struct idx_snap *s, uint64_t recno, struct idx_block *b)
{
	MDB_txn *txn;
	uint8_t kb[8];
	MDB_val k = { 8, kb }, v;
	int rc;

	if ((rc = idx_rd_begin(x, s, &txn)) != 0)
		return mdb_err(rc);
	be64(kb, recno);
	rc = block_at(txn, x->blocks, &k, &v, 1);
	if (rc == 0)
		rc = idx_blockv_decode(&v, b);
	idx_rd_end(s, txn);
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
idx_snap_below(struct idx_snap *s, uint64_t floor, struct idx_state *below, int64_t *first_wall)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	struct idx_block b;
	int rc;

	memset(below, 0, sizeof(*below));
	*first_wall = 0;
	if ((rc = idx_rd_begin(s->x, s, &txn)) != 0)
		return mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, s->x->blocks, &c)) == 0) {
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if ((rc = idx_blockv_decode(&v, &b)) != 0)
				break;
			if (b.first_recno >= floor) {
				*first_wall = b.first_wall;
				break;
			}
			below->blocks++;
			below->records += b.count;
			below->payload_bytes += b.payload_bytes;
			below->raw_bytes += b.raw_len;
		}
		mdb_cursor_close(c);
	}
	idx_rd_end(s, txn);
	return rc == MDB_NOTFOUND ? 0 : mdb_err(rc);
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
	for (rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE); rc == 0;
	     rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
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
walk(struct idx *x, const struct idx_snap *s, MDB_dbi dbi,
     int (*row)(const MDB_val *k, const MDB_val *v, void *ud), void *ud)
{
	MDB_txn *txn;
	MDB_cursor *c;
	MDB_val k, v;
	int rc, stop = 0;

	if ((rc = idx_rd_begin(x, s, &txn)) != 0)
		return mdb_err(rc);
	if ((rc = mdb_cursor_open(txn, dbi, &c)) != 0) {
		idx_rd_end(s, txn);
		return mdb_err(rc);
	}
	for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT))
		if ((stop = row(&k, &v, ud)) != 0)
			break;
	mdb_cursor_close(c);
	idx_rd_end(s, txn);
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
	if (idx_blockv_decode(v, &b) != 0)
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
	if (idx_rd_begin(x, snap, &txn) != 0)
		return 0;
	if (mdb_stat(txn, dbi, &s) == 0)
		n = (uint32_t)s.ms_entries;
	idx_rd_end(snap, txn);
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
