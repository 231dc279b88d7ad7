/* index.h - the journal's LMDB index (index.c, index_query.c, index_check.c): what it
 * stores, how it is opened, written, read and checked. Derived from the segments; any of
 * it can be rebuilt from them. */
#ifndef WSTAPE_JOURNAL_INDEX_H
#define WSTAPE_JOURNAL_INDEX_H

#include "block.h"

/* ---- index (LMDB) ---- */
struct idx;

struct idx_block {
	uint32_t segment;
	uint64_t offset;
	uint32_t comp_len, raw_len, count;
	uint64_t first_recno;
	int64_t first_wall, max_wall; /* max_wall: running maximum up to this block */
	uint64_t payload_bytes;
};

struct idx_state {
	uint32_t segment; /* indexed up to here: segment and offset of the end */
	uint64_t offset;
	uint64_t next_recno;
	uint64_t records, payload_bytes, raw_bytes, blocks;
	int64_t first_wall, max_wall;
	uint32_t max_conn;
};

/* Open (writer: create) the index under dir/index. Readers get JOURNAL_ENOTFOUND when
 * there is none. On failure, detail says why and *damaged is set when LMDB found the files
 * damaged (not an LMDB file, corrupted pages, a cut data.mdb, ...), as opposed to a system
 * error such as EACCES. */
int idx_open(const char *dir, int writer, struct idx **out, char *detail, size_t dsize, int *damaged);
/* Check the index under dir/index before it is used, in a child process that walks all
 * of it (LMDB does not check its pages: a damaged file can crash liblmdb): IDX_CHECK_NONE
 * (no data.mdb), IDX_CHECK_OK, IDX_CHECK_DAMAGED (LMDB cannot use it, it crashed or hung
 * reading it, or its entries do not add up), IDX_CHECK_STALE (whole, but it does not agree
 * with the segment headers: a segment it lists is gone or starts elsewhere) or
 * IDX_CHECK_UNREADABLE (it cannot be read: permissions, not a file; errno says why). why
 * says which. */
enum { IDX_CHECK_OK = 0, IDX_CHECK_NONE, IDX_CHECK_DAMAGED, IDX_CHECK_STALE, IDX_CHECK_UNREADABLE };
int idx_check(const char *dir, char *why, size_t n);
/* Remove the index's files under dir/index (the directory stays); the caller holds the
 * writer's lock and has closed the index. */
int idx_remove(const char *dir);
void idx_close(struct idx *x);
/* Drop everything (writers). */
int idx_clear(struct idx *x);
/* The indexed state; all zero for an empty index. */
int idx_state_get(struct idx *x, struct idx_state *st);
/* Index one block whose raw records are in 'raw' (decoded with blk_iter), then store st,
 * st being the state with the block counted in. When the index's sums are not st's less
 * this block (a prune dropped blocks meanwhile), the stored sums are the index's plus the
 * block, and st's sums are set to them. */
int idx_add_block(struct idx *x, const struct idx_block *b, const uint8_t *raw, const struct blk_header *h,
		  struct idx_state *st);
/* What a prune changes in one 'conns' or 'chans' entry: its records in the pruned blocks
 * come off, and its first record (and a channel's first cursor) becomes the first one
 * kept. */
struct idx_prune_fix {
	int chan; /* 1: channel name[name_len]; 0: connection conn */
	uint32_t conn;
	uint16_t name_len, cursor_len;
	uint8_t name[JOURNAL_MAX_CHANNEL];
	uint64_t records; /* in the pruned blocks */
	uint64_t last_recno; /* the entry's, before the prune (0: no entry) */
	int want_cursor; /* the entry has a cursor: look for the first one kept */
	int found, cursor_found; /* the first record kept, its first cursor kept: */
	uint64_t first_recno;
	int64_t first_wall;
	uint8_t cursor[JOURNAL_MAX_CURSOR];
};
/* Fill each fix's last_recno and want_cursor from its entry. 0 or an error. */
int idx_prune_bounds(struct idx *x, struct idx_prune_fix *fix, size_t n);
/* Drop the entries of the blocks before record 'floor' (blocks, time, chanblk), take them
 * off the state's sums, and apply the fixes to conns and chans (an entry with no record
 * kept goes), in one transaction. *blocks_dropped says how many blocks went (0: none
 * were listed, and nothing changed). */
int idx_prune(struct idx *x, uint64_t floor, const struct idx_prune_fix *fix, size_t nfix,
	      uint64_t *blocks_dropped);
/* The last indexed block; JOURNAL_ENOTFOUND when none. */
int idx_last_block(struct idx *x, struct idx_block *b);
/* The block holding recno (largest first_recno <= recno). */
int idx_find_recno(struct idx *x, uint64_t recno, struct idx_block *b);
/* The first block whose running max wall >= wall. */
int idx_find_time(struct idx *x, int64_t wall, struct idx_block *b);
/* The first block where 'channel' has a cursor >= cursor. */
int idx_find_cursor(struct idx *x, const char *ch, size_t chlen, const void *cur, size_t curlen,
		    struct idx_block *b);
/* Walk every indexed block in order. */
int idx_block_foreach(struct idx *x, int (*fn)(const struct idx_block *, void *), void *ud);
int idx_conn_foreach(struct idx *x, int (*fn)(const struct journal_conn_info *, void *), void *ud);
int idx_channel_foreach(struct idx *x, int (*fn)(const struct journal_channel_info *, void *), void *ud);
uint32_t idx_channel_count(struct idx *x);
uint32_t idx_conn_count(struct idx *x);
/* A read snapshot: the reads below see one state of the index, whatever a writer commits
 * meanwhile. Begin, read, end (in the thread that began it). */
struct idx_snap {
	struct idx *x;
	void *txn; /* MDB_txn, read-only */
};
int idx_snap_begin(struct idx *x, struct idx_snap *s);
void idx_snap_end(struct idx_snap *s);
int idx_snap_state(struct idx_snap *s, struct idx_state *st);
int idx_snap_last_block(struct idx_snap *s, struct idx_block *b);
int idx_snap_conn_foreach(struct idx_snap *s, int (*fn)(const struct journal_conn_info *, void *), void *ud);
int idx_snap_channel_foreach(struct idx_snap *s, int (*fn)(const struct journal_channel_info *, void *),
			     void *ud);
/* The sums of the blocks the snapshot lists before record floor (a prune that was
 * interrupted left them), and the first_wall of the first block from floor on (0: none). */
int idx_snap_below(struct idx_snap *s, uint64_t floor, struct idx_state *below, int64_t *first_wall);
uint32_t idx_snap_conn_count(struct idx_snap *s);
uint32_t idx_snap_channel_count(struct idx_snap *s);
/* 1 when the index holds that connection / that (non-empty) channel. */
int idx_snap_has_conn(struct idx_snap *s, uint32_t conn);
int idx_snap_has_channel(struct idx_snap *s, const char *name, size_t len);
/* mdb_env_sync(force). */
int idx_sync(struct idx *x);
uint64_t idx_disk_bytes(struct idx *x);

/* Does the end of the index match the segments? st is the index's state, last its last
 * block. INDEX_END_OK; INDEX_END_MISMATCH when the index lists what the segments do not
 * hold (the segment or the block is gone, cut, zeroed, or another block is there), with
 * why; INDEX_END_UNSURE when the block is there but cannot be read or fails its checks
 * (corruption: for the readers to report). */
enum { INDEX_END_OK = 0, INDEX_END_MISMATCH, INDEX_END_UNSURE };
int index_end_check(const char *dir, const struct idx_state *st, const struct idx_block *last, char *why,
		    size_t n);

#endif
