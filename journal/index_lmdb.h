/* index_lmdb.h - what the index's files (index.c, index_add.c, index_query.c,
 * index_check.c) share: the LMDB handle, the value layouts and the error translation */
#ifndef WSTAPE_JOURNAL_INDEX_LMDB_H
#define WSTAPE_JOURNAL_INDEX_LMDB_H

#include <lmdb.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"

struct idx {
	MDB_env *env;
	MDB_dbi blocks, time, conns, chans, chanblk, state;
	int writer;
	char path[4096];
};

/* Value layouts (little-endian, fixed; keys big-endian so they sort). */
#define BLOCKV_SIZE 56
#define STATEV_SIZE 80
/* conns value: first_recno, last_recno, records, first_wall, last_wall */
#define CONNV_SIZE 40
/* chans value: first_recno, last_recno, records, first_wall, last_wall, u16 flen, u16 llen, cursors */
#define CHANV_FIXED 44

/* LMDB's words for a file it cannot make sense of. The index is derived from the
 * segments, so a writer that meets one of these throws the index away and rebuilds it. */
static inline int
mdb_damaged(int rc)
{
	return rc == MDB_INVALID || rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND ||
		rc == MDB_VERSION_MISMATCH || rc == MDB_INCOMPATIBLE || rc == MDB_PANIC ||
		rc == MDB_BAD_DBI || rc == MDB_BAD_VALSIZE;
}

/* An LMDB return code as a journal one: 0, JOURNAL_ENOTFOUND, an errno, or JOURNAL_EINDEX. */
static inline int
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

static inline void
be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline uint64_t
rd_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* Signed time as an order-preserving unsigned key. */
static inline uint64_t
time_key(int64_t t)
{
	return (uint64_t)t ^ (1ULL << 63);
}

void idx_blockv_encode(uint8_t *v, const struct idx_block *b);
/* 0, or JOURNAL_EINDEX when v is not a block value. */
int idx_blockv_decode(const MDB_val *v, struct idx_block *b);
/* The state entry in txn; all zero when there is none. 0, JOURNAL_EINDEX when it does
 * not decode, or an MDB_* code. */
int idx_state_read_txn(MDB_txn *txn, MDB_dbi dbi, struct idx_state *st);
/* Write the "state" entry in txn (index_add.c): 0 or an LMDB error. */
int idx_state_put_txn(struct idx *x, MDB_txn *txn, const struct idx_state *st);
/* LMDB maps data.mdb and trusts its meta page: 1 (with detail) when the file is shorter
 * than the pages the meta page names. */
int idx_env_truncated(MDB_env *env, const char *dir, char *detail, size_t dsize);
/* A read transaction: the snapshot's when s is given, else a new one (idx_rd_end ends it). */
int idx_rd_begin(struct idx *x, const struct idx_snap *s, MDB_txn **txn);
void idx_rd_end(const struct idx_snap *s, MDB_txn *txn);

#endif
