/* internal.h - the journal's private structures: on-disk layout, block codec, segments, index */
#ifndef WSTAPE_JOURNAL_INTERNAL_H
#define WSTAPE_JOURNAL_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "journal.h"

/* ---- on-disk constants (docs/FORMAT.md) ---- */
#define SEG_MAGIC "WSTAPESG"
#define SEG_HEADER_SIZE 64
#define BLK_MAGIC 0x42545357u /* "WSTB" little-endian */
#define BLK_HEADER_SIZE 64
#define BLK_FLAG_ZSTD 1u
/* The largest raw_len a reader accepts: a writer's block is at most the block size (at
 * most 1 GiB) or one record larger than it (a payload of at most 1 GiB plus 1.3 KiB of
 * record header), so 1 GiB + 64 KiB covers every block a writer makes (docs/FORMAT.md). */
#define BLK_MAX_RAW ((1u << 30) + (1u << 16))
/* A zstd block of 128 KiB (ZSTD_BLOCKSIZE_MAX) takes at least 4 bytes (an RLE block), so
 * comp_len bytes of zstd data never decompress to more than comp_len * 32768 bytes. */
#define BLK_MAX_RATIO 32768u
#define META_FILE "META"
#define LOCK_FILE "LOCK"
#define INDEX_DIR "index"

static inline void
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void
put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void
put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t
get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}
static inline uint64_t
get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

/* ---- block header ---- */
struct blk_header {
	uint32_t flags;
	uint32_t comp_len, raw_len;
	uint64_t first_recno;
	uint32_t count;
	uint32_t data_crc;
	int64_t first_wall, max_wall, first_mono;
};

void blk_header_encode(const struct blk_header *h, uint8_t out[BLK_HEADER_SIZE]);
/* 0, or JOURNAL_ECORRUPT when the magic or the header checksum is wrong. */
int blk_header_decode(const uint8_t in[BLK_HEADER_SIZE], struct blk_header *h);

/* ---- record codec inside a raw (decompressed) block ---- */

/* Worst-case encoded size of a record. */
size_t rec_encoded_max(const struct journal_record *r);
/* Encode r at out (which has rec_encoded_max bytes) given the previous record's times;
 * returns the bytes written. */
size_t rec_encode(uint8_t *out, const struct journal_record *r, int64_t prev_wall, int64_t prev_mono);

/* Iterates the records of a raw block. */
struct blk_iter {
	const uint8_t *p, *end;
	uint64_t recno;
	uint32_t left;
	int64_t prev_wall, prev_mono;
};
void blk_iter_init(struct blk_iter *it, const struct blk_header *h, const uint8_t *raw);
/* 0 and *r, JOURNAL_EOF after the last, JOURNAL_ECORRUPT on bad framing. */
int blk_iter_next(struct blk_iter *it, struct journal_record *r);

/* ---- segments ---- */

/* Name of segment n inside dir, into buf. */
void seg_path(char *buf, size_t size, const char *dir, uint32_t n);
/* Sorted list of segment numbers present in dir; *out malloc'd (free it). */
int seg_list(const char *dir, uint32_t **out, size_t *count);
/* Check a segment header; JOURNAL_EVERSION for a newer version, JOURNAL_ECORRUPT otherwise. */
int seg_header_check(const uint8_t h[SEG_HEADER_SIZE], uint32_t expect_n);
void seg_header_make(uint8_t h[SEG_HEADER_SIZE], uint32_t n, uint64_t first_recno, int64_t wall);

/* What one block read found. */
enum { BLK_OK = 0, BLK_END = 1, BLK_TORN = 2, BLK_BAD = 3 };

/* Reads blocks from a segment file descriptor; owns its buffers. */
struct blk_reader {
	void *dctx;             /* ZSTD_DCtx */
	uint8_t *comp, *raw;
	size_t comp_cap, raw_cap;
	struct blk_header h;
	const char *why;        /* for BLK_BAD / BLK_TORN */
};
void blk_reader_init(struct blk_reader *br);
void blk_reader_free(struct blk_reader *br);
/* Read the block at 'off' in fd (file size 'size'). With 'decode' set, checks the data
 * checksum and decompresses into br->raw. Returns BLK_OK, BLK_END (off == size),
 * BLK_TORN (the file ends inside the block, zeros where a header should be, or data that
 * fails its checksum because it turns to zeros, from a sector boundary to the end of the file),
 * BLK_BAD (checksum, magic, length or decompression wrong), or an errno (> 3) on I/O error. */
int blk_read(struct blk_reader *br, int fd, uint64_t off, uint64_t size, int decode);

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
	uint32_t segment;         /* indexed up to here: segment and offset of the end */
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
/* Index one block whose raw records are in 'raw' (decoded with blk_iter), then store st. */
int idx_add_block(struct idx *x, const struct idx_block *b, const uint8_t *raw,
		  const struct blk_header *h, const struct idx_state *st);
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
int idx_snap_channel_foreach(struct idx_snap *s, int (*fn)(const struct journal_channel_info *, void *), void *ud);
uint32_t idx_snap_conn_count(struct idx_snap *s);
uint32_t idx_snap_channel_count(struct idx_snap *s);
/* 1 when the index holds that connection / that (non-empty) channel. */
int idx_snap_has_conn(struct idx_snap *s, uint32_t conn);
int idx_snap_has_channel(struct idx_snap *s, const char *name, size_t len);
/* mdb_env_sync(force). */
int idx_sync(struct idx *x);
uint64_t idx_disk_bytes(struct idx *x);

/* ---- the journal handle ---- */
struct blockbuf {
	uint8_t *raw;
	size_t len, cap;
	uint64_t first_recno;
	uint32_t count;
	int64_t first_wall, max_wall, first_mono, last_wall, last_mono;
	int64_t opened_mono; /* CLOCK_MONOTONIC when the first record went in */
	uint64_t payload_bytes;
	uint32_t max_conn;
	/* filled by the compressing thread */
	int state;            /* BB_QUEUED, BB_COMPRESSING, BB_COMPRESSED */
	int cerr;             /* compression error */
	uint8_t *comp;
	size_t comp_cap, comp_len;
	struct blockbuf *next;
};
enum { BB_QUEUED = 0, BB_COMPRESSING, BB_COMPRESSED };
#define JOURNAL_MAX_THREADS 8

struct meta_kv {
	char *key, *value;
};

struct journal {
	char *dir;
	int flags;
	struct journal_options opt;
	int lock_fd;
	struct idx *idx;
	int idx_failed;
	int idx_open_err;               /* readers: the index exists and LMDB finds it damaged */
	int idx_stale;                  /* readers: the index lists blocks that are not there;
					   writers: rebuild it (idx_check found it stale) */
	int idx_unreadable;             /* readers: the index is there and cannot be read (errno) */
	char idx_detail[512];           /* why, for either */
	struct tail *tail;              /* readers: what lies past the index (tail.c); under mu */
	int created_dir, created_meta;  /* this open made the directory / wrote META */
	int discard;                    /* journal_close removes what this open created */
	char detail[512];

	struct meta_kv *meta;
	size_t nmeta;

	/* writer state; protected by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv_writer, cv_done;
	pthread_t threads[JOURNAL_MAX_THREADS];
	void *cctx[JOURNAL_MAX_THREADS];  /* ZSTD_CCtx, one per thread */
	int nthreads, stopping;
	int storing;                    /* a thread is writing the head block */
	int err;                        /* sticky write error */
	struct blockbuf *cur;           /* open block */
	struct blockbuf *pending_head, *pending_tail;
	uint32_t npending;
	struct blockbuf *free_list;
	uint64_t sealed_seq, written_seq; /* blocks handed to the writer / written by it */
	uint64_t next_recno;
	uint32_t next_conn;
	uint64_t append_waits, append_wait_ns;
	int64_t last_fsync_mono;
	int dirty;                      /* written since the last fsync */

	/* the storing thread only (one at a time, see 'storing') */
	int seg_fd;
	uint32_t seg_no;
	uint64_t seg_size;
	struct idx_state st;
};

/* ---- readers (reader.c), for tail.c ---- */
/* journal_reader_next() without the record held back by a seek. */
int reader_read(struct journal_reader *r, struct journal_record *rec);
/* Position at offset in segment, expecting that record number there (0: any).
 * JOURNAL_EINDEX (with the journal's detail set) when the segment does not exist. */
int reader_start_at(struct journal_reader *r, uint32_t segment, uint64_t offset, uint64_t expect_recno);
/* Blocks loaded so far, and the sum of their raw lengths. */
void reader_counts(const struct journal_reader *r, uint64_t *blocks, uint64_t *raw_bytes);
/* At the end: the bytes past the last whole block of the segment being read. */
uint64_t reader_torn_bytes(const struct journal_reader *r);

/* ---- the tail past the index (tail.c), for readers; callers hold j->mu ---- */
struct tail;
/* Bring j's summary of what lies past the index state *is up to date (is NULL: there is
 * no usable index, everything is tail). A summary of the same state is continued, so a
 * second call reads only what was appended since. *out is owned by j. */
int tail_update(struct journal *j, const struct idx_state *is, struct tail **out);
void tail_free(struct tail *t);
/* Add the tail's records, blocks, bytes, times and torn bytes to st. */
void tail_sums(const struct tail *t, struct journal_stats *st);
/* Connections / channels in the tail that the snapshot (NULL: none) does not hold. */
uint32_t tail_new_conns(const struct tail *t, struct idx_snap *s);
uint32_t tail_new_channels(const struct tail *t, struct idx_snap *s);
/* The snapshot's connections / channels, in its key order, with the tail merged in. */
int tail_conn_foreach(const struct tail *t, struct idx_snap *s, int (*fn)(const struct journal_conn_info *, void *),
		      void *ud);
int tail_channel_foreach(const struct tail *t, struct idx_snap *s,
			 int (*fn)(const struct journal_channel_info *, void *), void *ud);

/* Does the end of the index match the segments? st is the index's state, last its last
 * block. INDEX_END_OK; INDEX_END_MISMATCH when the index lists what the segments do not
 * hold (the segment or the block is gone, cut, zeroed, or another block is there), with
 * why; INDEX_END_UNSURE when the block is there but cannot be read or fails its checks
 * (corruption: for the readers to report). */
enum { INDEX_END_OK = 0, INDEX_END_MISMATCH, INDEX_END_UNSURE };
int index_end_check(const char *dir, const struct idx_state *st, const struct idx_block *last, char *why,
		    size_t n);

int64_t journal_now_mono(void);
void journal_set_detail(struct journal *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
