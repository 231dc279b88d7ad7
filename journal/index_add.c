/* index_add.c - indexing one block: its entry by record number and by time, and the
 * per-connection and per-channel sums of its records, in one LMDB transaction */
#include <string.h>

#include "index_lmdb.h"

int
idx_state_put_txn(struct idx *x, MDB_txn *txn, const struct idx_state *st)
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

/* One more record of channel g. */
static void
agg_add_chan(struct agg *g, const struct journal_record *r)
{
	g->last_recno = r->recno;
	g->last_wall = r->wall_ns;
	g->records++;
	if (!r->cursor_len)
		return;
	if (!g->first_cur_len) {
		g->first_cur = r->cursor;
		g->first_cur_len = r->cursor_len;
	}
	g->last_cur = r->cursor;
	g->last_cur_len = r->cursor_len;
	if (!g->max_cur_len || journal_cursor_cmp(r->cursor, r->cursor_len, g->max_cur, g->max_cur_len) > 0) {
		g->max_cur = r->cursor;
		g->max_cur_len = r->cursor_len;
	}
}

#define MAX_AGG 256

/* One pass over the block's records, from record done_upto on: aggregate them per
 * connection and per channel until MAX_AGG of either are held (then *more is set and
 * *done_upto says where the next pass starts), and store the sums. 0, JOURNAL_ECORRUPT
 * (the record framing), or an MDB_* code. */
static int
add_pass(struct idx *x, MDB_txn *txn, const struct idx_block *b, const struct blk_header *h,
	 const uint8_t *raw, uint64_t *done_upto, int *more)
{
	struct agg chans[MAX_AGG], conns[MAX_AGG];
	size_t nch = 0, nco = 0;
	struct blk_iter it;
	struct journal_record r;
	uint64_t i = 0;
	int rc;

	*more = 0;
	blk_iter_init(&it, h, raw);
	while ((rc = blk_iter_next(&it, &r)) == 0) {
		if (i++ < *done_upto)
			continue;
		struct agg *c = agg_find_conn(conns, &nco, MAX_AGG, r.conn, &r);
		struct agg *g = r.channel_len ? agg_find_chan(chans, &nch, MAX_AGG, &r) : NULL;
		if (!c || (r.channel_len && !g)) {
			*more = 1;
			break;
		}
		c->last_recno = r.recno;
		c->last_wall = r.wall_ns;
		c->records++;
		*done_upto = i;
		if (g)
			agg_add_chan(g, &r);
	}
	if (rc != 0 && rc != JOURNAL_EOF && !*more)
		return rc;
	for (size_t n = 0; n < nco; n++)
		if (conns[n].records && (rc = flush_conn(x, txn, &conns[n])) != 0)
			return rc;
	for (size_t n = 0; n < nch; n++)
		if (chans[n].records && (rc = flush_chan(x, txn, &chans[n], b->first_recno)) != 0)
			return rc;
	return 0;
}

int
idx_add_block(struct idx *x, const struct idx_block *b, const uint8_t *raw, const struct blk_header *h,
	      struct idx_state *st)
{
	struct idx_state old;
	MDB_txn *txn;
	uint8_t kb[16], vb[BLOCKV_SIZE], rb[8];
	uint64_t done_upto = 0; /* records handled in earlier passes are skipped */
	int rc, more = 0;

	if ((rc = mdb_txn_begin(x->env, NULL, 0, &txn)) != 0)
		return mdb_err(rc);
	be64(kb, b->first_recno);
	idx_blockv_encode(vb, b);
	MDB_val k = { 8, kb }, v = { BLOCKV_SIZE, vb };
	if ((rc = mdb_put(txn, x->blocks, &k, &v, 0)) != 0)
		goto fail;
	be64(kb, time_key(b->max_wall));
	be64(kb + 8, b->first_recno);
	be64(rb, b->first_recno);
	MDB_val tk = { 16, kb }, tv = { 8, rb };
	if ((rc = mdb_put(txn, x->time, &tk, &tv, 0)) != 0)
		goto fail;
	/* a block with more distinct channels or connections than MAX_AGG is aggregated in
	 * several passes */
	do {
		if ((rc = add_pass(x, txn, b, h, raw, &done_upto, &more)) == JOURNAL_ECORRUPT) {
			mdb_txn_abort(txn);
			return rc; /* the block's framing, not LMDB */
		}
		if (rc != 0)
			goto fail;
	} while (more);
	/* The sums are the index's own plus this block: a prune (index_prune.c) may have
	 * taken blocks off them since the caller counted; st gets them back. */
	if ((rc = idx_state_read_txn(txn, x->state, &old)) != 0)
		goto fail;
	if (old.blocks + 1 != st->blocks || old.records + b->count != st->records) {
		st->blocks = old.blocks + 1;
		st->records = old.records + b->count;
		st->payload_bytes = old.payload_bytes + b->payload_bytes;
		st->raw_bytes = old.raw_bytes + b->raw_len;
		st->first_wall = old.blocks ? old.first_wall : b->first_wall;
	}
	if ((rc = idx_state_put_txn(x, txn, st)) != 0)
		goto fail;
	return mdb_err(mdb_txn_commit(txn));
fail:
	mdb_txn_abort(txn);
	return mdb_err(rc);
}
