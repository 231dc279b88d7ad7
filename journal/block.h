/* block.h - the on-disk layout (docs/FORMAT.md): segment and block headers, the record
 * codec inside a block, listing segments and reading one block. No journal handle here:
 * everything below works on a directory, a file descriptor or a buffer. */
#ifndef WSTAPE_JOURNAL_BLOCK_H
#define WSTAPE_JOURNAL_BLOCK_H

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
/* Sorted list of segment numbers present in dir, from the first one a prune kept (J/PRUNED:
 * the segments below it that a prune interrupted left are not listed); *out malloc'd (free
 * it). seg_list_all lists those too. */
int seg_list(const char *dir, uint32_t **out, size_t *count);
int seg_list_all(const char *dir, uint32_t **out, size_t *count);
/* Check a segment header; JOURNAL_EVERSION for a newer version, JOURNAL_ECORRUPT otherwise. */
int seg_header_check(const uint8_t h[SEG_HEADER_SIZE], uint32_t expect_n);
void seg_header_make(uint8_t h[SEG_HEADER_SIZE], uint32_t n, uint64_t first_recno, int64_t wall);

/* What one block read found. */
enum { BLK_OK = 0, BLK_END = 1, BLK_TORN = 2, BLK_BAD = 3 };

/* Reads blocks from a segment file descriptor; owns its buffers. */
struct blk_reader {
	void *dctx; /* ZSTD_DCtx */
	uint8_t *comp, *raw;
	size_t comp_cap, raw_cap;
	struct blk_header h;
	const char *why; /* for BLK_BAD / BLK_TORN */
};
void blk_reader_init(struct blk_reader *br);
void blk_reader_free(struct blk_reader *br);
/* Read the block at 'off' in fd (file size 'size'). With 'decode' set, checks the data
 * checksum and decompresses into br->raw. Returns BLK_OK, BLK_END (off == size),
 * BLK_TORN (the file ends inside the block, zeros where a header should be, or data that
 * fails its checksum because it turns to zeros, from a sector boundary to the end of the file),
 * BLK_BAD (checksum, magic, length or decompression wrong), or an errno (> 3) on I/O error. */
int blk_read(struct blk_reader *br, int fd, uint64_t off, uint64_t size, int decode);

#endif
