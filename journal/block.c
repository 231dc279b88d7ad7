/* block.c - the block and segment byte layout: headers, the record codec, reading a block */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "crc32c.h"
#include "block.h"
#include "pruned.h"

void
blk_header_encode(const struct blk_header *h, uint8_t o[BLK_HEADER_SIZE])
{
	memset(o, 0, BLK_HEADER_SIZE);
	put_u32(o + 0, BLK_MAGIC);
	put_u16(o + 4, (uint16_t)h->flags);
	put_u32(o + 8, h->comp_len);
	put_u32(o + 12, h->raw_len);
	put_u64(o + 16, h->first_recno);
	put_u32(o + 24, h->count);
	put_u32(o + 28, h->data_crc);
	put_u64(o + 32, (uint64_t)h->first_wall);
	put_u64(o + 40, (uint64_t)h->max_wall);
	put_u64(o + 48, (uint64_t)h->first_mono);
	put_u32(o + 60, crc32c(0, o, 60));
}

int
blk_header_decode(const uint8_t o[BLK_HEADER_SIZE], struct blk_header *h)
{
	if (get_u32(o) != BLK_MAGIC || get_u32(o + 60) != crc32c(0, o, 60))
		return JOURNAL_ECORRUPT;
	h->flags = get_u16(o + 4);
	h->comp_len = get_u32(o + 8);
	h->raw_len = get_u32(o + 12);
	h->first_recno = get_u64(o + 16);
	h->count = get_u32(o + 24);
	h->data_crc = get_u32(o + 28);
	h->first_wall = (int64_t)get_u64(o + 32);
	h->max_wall = (int64_t)get_u64(o + 40);
	h->first_mono = (int64_t)get_u64(o + 48);
	if (h->count == 0 || (h->flags & ~BLK_FLAG_ZSTD))
		return JOURNAL_ECORRUPT;
	return 0;
}

/* ---- record codec: LEB128 varints, times as zigzag deltas from the previous record ---- */

static inline uint8_t *
put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static inline int
get_varint(const uint8_t **pp, const uint8_t *end, uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (p >= end)
			return -1;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

static inline uint64_t
zz(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t
unzz(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

size_t
rec_encoded_max(const struct journal_record *r)
{
	return 1 + 6 * 10 + r->channel_len + r->cursor_len + r->payload_len;
}

size_t
rec_encode(uint8_t *out, const struct journal_record *r, int64_t prev_wall, int64_t prev_mono)
{
	uint8_t *p = out;

	*p++ = (uint8_t)((r->kind & 0x0f) | (r->dir & 1) << 4);
	p = put_varint(p, zz((int64_t)((uint64_t)r->wall_ns - (uint64_t)prev_wall)));
	p = put_varint(p, zz((int64_t)((uint64_t)r->mono_ns - (uint64_t)prev_mono)));
	p = put_varint(p, r->conn);
	p = put_varint(p, r->channel_len);
	if (r->channel_len) {
		memcpy(p, r->channel, r->channel_len);
		p += r->channel_len;
	}
	p = put_varint(p, r->cursor_len);
	if (r->cursor_len) {
		memcpy(p, r->cursor, r->cursor_len);
		p += r->cursor_len;
	}
	p = put_varint(p, r->payload_len);
	if (r->payload_len) {
		memcpy(p, r->payload, r->payload_len);
		p += r->payload_len;
	}
	return (size_t)(p - out);
}

void
blk_iter_init(struct blk_iter *it, const struct blk_header *h, const uint8_t *raw)
{
	it->p = raw;
	it->end = raw + h->raw_len;
	it->recno = h->first_recno;
	it->left = h->count;
	it->prev_wall = h->first_wall;
	it->prev_mono = h->first_mono;
}

int
blk_iter_next(struct blk_iter *it, struct journal_record *r)
{
	uint64_t v, dw, dm, conn, chl, cul, pl;
	const uint8_t *p = it->p, *end = it->end;

	if (it->left == 0)
		return p == end ? JOURNAL_EOF : JOURNAL_ECORRUPT;
	if (p >= end)
		return JOURNAL_ECORRUPT;
	v = *p++;
	if ((v & 0x0f) > JOURNAL_KIND_MAX || (v & 0xe0))
		return JOURNAL_ECORRUPT;
	r->kind = v & 0x0f;
	r->dir = (v >> 4) & 1;
	if (get_varint(&p, end, &dw) || get_varint(&p, end, &dm) || get_varint(&p, end, &conn) ||
	    conn > UINT32_MAX)
		return JOURNAL_ECORRUPT;
	if (get_varint(&p, end, &chl) || chl > JOURNAL_MAX_CHANNEL || (uint64_t)(end - p) < chl)
		return JOURNAL_ECORRUPT;
	r->channel = (const char *)p;
	r->channel_len = (uint16_t)chl;
	p += chl;
	if (get_varint(&p, end, &cul) || cul > JOURNAL_MAX_CURSOR || (uint64_t)(end - p) < cul)
		return JOURNAL_ECORRUPT;
	r->cursor = p;
	r->cursor_len = (uint16_t)cul;
	p += cul;
	if (get_varint(&p, end, &pl) || (uint64_t)(end - p) < pl)
		return JOURNAL_ECORRUPT;
	r->payload = p;
	r->payload_len = pl;
	p += pl;
	it->prev_wall = (int64_t)((uint64_t)it->prev_wall + (uint64_t)unzz(dw));
	it->prev_mono = (int64_t)((uint64_t)it->prev_mono + (uint64_t)unzz(dm));
	r->wall_ns = it->prev_wall;
	r->mono_ns = it->prev_mono;
	r->conn = (uint32_t)conn;
	r->recno = it->recno++;
	it->left--;
	it->p = p;
	return 0;
}

/* ---- segments ---- */

void
seg_path(char *buf, size_t size, const char *dir, uint32_t n)
{
	snprintf(buf, size, "%s/seg-%010u.wst", dir, n);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

int
seg_list_all(const char *dir, uint32_t **out, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint32_t *v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return errno;
	while ((e = readdir(d))) {
		unsigned int num;
		char tail[8];
		if (sscanf(e->d_name, "seg-%10u.ws%1s", &num, tail) != 2 || strcmp(tail, "t") != 0 ||
		    strlen(e->d_name) != 18)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			uint32_t *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return ENOMEM;
			}
			v = nv;
		}
		v[n++] = num;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_u32);
	*out = v;
	*count = n;
	return 0;
}

int
seg_list(const char *dir, uint32_t **out, size_t *count)
{
	uint32_t first = pruned_first_segment(dir);
	size_t k = 0;
	int rc = seg_list_all(dir, out, count);

	if (rc || first <= 1)
		return rc;
	while (k < *count && (*out)[k] < first)
		k++;
	memmove(*out, *out + k, (*count - k) * sizeof(**out));
	*count -= k;
	return 0;
}

void
seg_header_make(uint8_t h[SEG_HEADER_SIZE], uint32_t n, uint64_t first_recno, int64_t wall)
{
	memset(h, 0, SEG_HEADER_SIZE);
	memcpy(h, SEG_MAGIC, 8);
	put_u32(h + 8, JOURNAL_FORMAT_VERSION);
	put_u32(h + 12, n);
	put_u64(h + 16, first_recno);
	put_u64(h + 24, (uint64_t)wall);
	put_u32(h + 60, crc32c(0, h, 60));
}

int
seg_header_check(const uint8_t h[SEG_HEADER_SIZE], uint32_t expect_n)
{
	if (memcmp(h, SEG_MAGIC, 8) != 0 || get_u32(h + 60) != crc32c(0, h, 60))
		return JOURNAL_ECORRUPT;
	if (get_u32(h + 8) > JOURNAL_FORMAT_VERSION)
		return JOURNAL_EVERSION;
	if (get_u32(h + 12) != expect_n)
		return JOURNAL_ECORRUPT;
	return 0;
}

void
blk_reader_init(struct blk_reader *br)
{
	memset(br, 0, sizeof(*br));
}

void
blk_reader_free(struct blk_reader *br)
{
	if (br->dctx)
		ZSTD_freeDCtx(br->dctx);
	free(br->comp);
	free(br->raw);
	memset(br, 0, sizeof(*br));
}

static int
grow(uint8_t **buf, size_t *cap, size_t need)
{
	if (*cap >= need)
		return 0;
	size_t c = *cap ? *cap : 65536;
	while (c < need)
		c *= 2;
	uint8_t *p = realloc(*buf, c);
	if (!p)
		return ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}

static int
pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (r == 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

/* Power loss can leave a block whose header reached the disk but whose data did not: the
 * file size covers the block, and the pages that were never written read as zeros. Those
 * pages are whole sectors, so the zeros start at a sector boundary (or cover all the data)
 * and run to the end of the file. A block that fails its checksum that way is a torn tail;
 * anything else that fails it is corruption. Sets *torn; returns 0 or an errno. */
#define ZERO_TAIL_ALIGN 512

static int
zero_tail(struct blk_reader *br, int fd, uint64_t off, uint64_t size, int *torn)
{
	uint64_t data = off + BLK_HEADER_SIZE, end = data + br->h.comp_len, z, at;
	uint8_t buf[65536];
	int rc;

	*torn = 0;
	for (at = end; at < size;) {
		size_t n = size - at < sizeof(buf) ? (size_t)(size - at) : sizeof(buf);
		if ((rc = pread_full(fd, buf, n, at)) != 0)
			return rc < 0 ? 0 : rc; /* the file shrank under us: not this case */
		if (!all_zero(buf, n))
			return 0;
		at += n;
	}
	for (z = end; z > data && br->comp[z - data - 1] == 0; z--)
		;
	if (z > data)
		z = (z + ZERO_TAIL_ALIGN - 1) / ZERO_TAIL_ALIGN * ZERO_TAIL_ALIGN;
	*torn = z < end;
	return 0;
}

/* The same loss can hit the header itself: the write of the last block straddled a sector
 * boundary inside its 64 header bytes, the sectors before it reached the disk and those
 * after did not. Torn when the bytes from the header's start, or from a 512-byte boundary
 * (a file offset) inside the header, to the end of the file are all zero. Anything else
 * that fails the header checks (non-zero bytes after the zeros, zeros that start off a
 * boundary) is corruption. Sets *torn; returns 0 or an errno. */
static int
zero_header_tail(int fd, uint64_t off, uint64_t size, const uint8_t hb[BLK_HEADER_SIZE], int *torn)
{
	uint64_t at, z, first;
	uint8_t buf[65536];
	int rc;

	*torn = 0;
	for (at = off + BLK_HEADER_SIZE; at < size;) {
		size_t n = size - at < sizeof(buf) ? (size_t)(size - at) : sizeof(buf);
		if ((rc = pread_full(fd, buf, n, at)) != 0)
			return rc < 0 ? 0 : rc;
		if (!all_zero(buf, n))
			return 0;
		at += n;
	}
	/* z: the offset after the header's last non-zero byte; the zeros run from z on */
	for (z = off + BLK_HEADER_SIZE; z > off && hb[z - off - 1] == 0; z--)
		;
	first = (z + ZERO_TAIL_ALIGN - 1) / ZERO_TAIL_ALIGN * ZERO_TAIL_ALIGN; /* boundary at or after z */
	*torn = z == off || first < off + BLK_HEADER_SIZE;
	return 0;
}

/* The lengths a header states: raw_len is bounded before anything is allocated for it
 * (docs/FORMAT.md): by the largest block a writer makes, by what comp_len bytes can hold
 * at all, and (blk_decode, once the data is read and checked) by the content size of the
 * zstd frame. BLK_OK or BLK_BAD. */
static int
blk_lengths(struct blk_reader *br)
{
	if (br->h.raw_len == 0 || br->h.comp_len == 0) {
		br->why = "empty block (raw or compressed length 0)";
		return BLK_BAD;
	}
	if (br->h.raw_len > BLK_MAX_RAW) {
		br->why = "block header states a raw length above the largest block (1 GiB + 64 KiB)";
		return BLK_BAD;
	}
	if (!(br->h.flags & BLK_FLAG_ZSTD) && br->h.comp_len != br->h.raw_len) {
		br->why = "stored block length mismatch";
		return BLK_BAD;
	}
	if ((br->h.flags & BLK_FLAG_ZSTD) &&
	    (uint64_t)br->h.raw_len > (uint64_t)br->h.comp_len * BLK_MAX_RATIO) {
		br->why = "block header states a raw length its compressed data cannot hold";
		return BLK_BAD;
	}
	return BLK_OK;
}

/* Read and check the header at off: BLK_OK (br->h filled), BLK_END, BLK_TORN, BLK_BAD or
 * an errno. */
static int
blk_read_header(struct blk_reader *br, int fd, uint64_t off, uint64_t size)
{
	uint8_t hb[BLK_HEADER_SIZE];
	int rc;

	if (off >= size)
		return BLK_END;
	if (size - off < BLK_HEADER_SIZE) {
		br->why = "file ends inside a block header";
		return BLK_TORN;
	}
	if ((rc = pread_full(fd, hb, sizeof(hb), off)) != 0)
		return rc < 0 ? BLK_TORN : (rc > 3 ? rc : EIO);
	if (blk_header_decode(hb, &br->h) != 0) {
		int torn;
		if ((rc = zero_header_tail(fd, off, size, hb, &torn)) != 0)
			return rc > 3 ? rc : EIO;
		if (torn) {
			br->why = all_zero(hb, sizeof(hb))
				? "zeros where a block header should be"
				: "block header cut by zeros from a sector boundary on";
			return BLK_TORN;
		}
		br->why = "bad block header (magic or checksum)";
		return BLK_BAD;
	}
	if (size - off - BLK_HEADER_SIZE < br->h.comp_len) {
		br->why = "file ends inside a block";
		return BLK_TORN;
	}
	return blk_lengths(br);
}

/* Read the block's data into br->comp and check its checksum: BLK_OK, BLK_TORN, BLK_BAD
 * or an errno. */
static int
blk_read_data(struct blk_reader *br, int fd, uint64_t off, uint64_t size)
{
	int rc;

	if (grow(&br->comp, &br->comp_cap, br->h.comp_len))
		return ENOMEM;
	if ((rc = pread_full(fd, br->comp, br->h.comp_len, off + BLK_HEADER_SIZE)) != 0)
		return rc < 0 ? BLK_TORN : (rc > 3 ? rc : EIO);
	if (crc32c(0, br->comp, br->h.comp_len) != br->h.data_crc) {
		int torn;
		if ((rc = zero_tail(br, fd, off, size, &torn)) != 0)
			return rc > 3 ? rc : EIO;
		if (torn) {
			br->why = "zeros where block data should be";
			return BLK_TORN;
		}
		br->why = "block data checksum mismatch";
		return BLK_BAD;
	}
	return BLK_OK;
}

/* Decompress br->comp into br->raw: BLK_OK, BLK_BAD or ENOMEM. */
static int
blk_decode(struct blk_reader *br)
{
	if (br->h.flags & BLK_FLAG_ZSTD) {
		/* one frame, all of the data, whose header states raw_len (a writer's frame
		 * always states its content size) */
		unsigned long long fcs = ZSTD_getFrameContentSize(br->comp, br->h.comp_len);
		size_t fsz = ZSTD_findFrameCompressedSize(br->comp, br->h.comp_len);
		if (fcs == ZSTD_CONTENTSIZE_ERROR || fcs == ZSTD_CONTENTSIZE_UNKNOWN ||
		    fcs != br->h.raw_len || ZSTD_isError(fsz) || fsz != br->h.comp_len) {
			br->why = "block data is not a zstd frame of the stated raw length";
			return BLK_BAD;
		}
	}
	if (grow(&br->raw, &br->raw_cap, (size_t)br->h.raw_len + 1))
		return ENOMEM;
	if (br->h.flags & BLK_FLAG_ZSTD) {
		if (!br->dctx && !(br->dctx = ZSTD_createDCtx()))
			return ENOMEM;
		size_t n = ZSTD_decompressDCtx(br->dctx, br->raw, br->h.raw_len, br->comp, br->h.comp_len);
		if (ZSTD_isError(n) || n != br->h.raw_len) {
			br->why = "block does not decompress to its stated size";
			return BLK_BAD;
		}
	} else {
		memcpy(br->raw, br->comp, br->h.raw_len); /* raw_len == comp_len > 0, checked above */
	}
	return BLK_OK;
}

int
blk_read(struct blk_reader *br, int fd, uint64_t off, uint64_t size, int decode)
{
	int rc;

	br->why = NULL;
	if ((rc = blk_read_header(br, fd, off, size)) != BLK_OK || !decode)
		return rc;
	if ((rc = blk_read_data(br, fd, off, size)) != BLK_OK)
		return rc;
	return blk_decode(br);
}
