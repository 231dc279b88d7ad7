/* zstd_bench.c - the journal's compression levers measured on a journal's own records: zstd
 * level, block size, and a dictionary trained on the first blocks (ZDICT_trainFromBuffer),
 * with libzstd used directly. The journal format is not changed: the records are encoded
 * into raw blocks exactly as the writer encodes them (rec_encode, sealed at the block size
 * the way journal/append.c seals), and each block is compressed the way journal/writer.c
 * compresses it (one zstd frame per block, ZSTD_compressCCtx), or with a dictionary.
 *
 * usage: zstd_bench JOURNAL BYTES JSONL_OUT [REPEAT]
 * Reads JOURNAL's records until BYTES of payload, writes their payloads to JSONL_OUT (one a
 * line, for `zstd -3` beside), then prints one line per choice:
 *   row NAME LEVEL BLOCK_BYTES DICT_BYTES PAYLOAD_BYTES STORED_BYTES CPU_S DCPU_S BLOCKS RECORDS
 * (the row lines_level3: libzstd level 3 over the JSON lines in one frame, as `zstd -3` does).
 * STORED_BYTES: the compressed blocks, their 64-byte headers and the dictionary (stored once);
 * CPU_S / DCPU_S: this thread's CPU compressing / decompressing every block (the least of
 * REPEAT passes, default 2); a dictionary's training is a line of its own:
 *   train DICT_BYTES SAMPLE_BYTES CPU_S
 * ZSTD_BENCH_DICT_KIB sets the dictionary's size (default 64). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zdict.h>
#include <zstd.h>

#include "journal/block.h"
#include "journal/journal.h"

struct rec {
	struct journal_record r;
	uint8_t *mem; /* channel, cursor and payload, one allocation */
};

/* The records encoded into raw blocks of one size. */
struct blocks {
	uint8_t **raw;
	size_t *len;
	size_t n;
};

static double
thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "zstd_bench: out of memory\n");
		exit(1);
	}
	return p;
}

static struct rec *
load(const char *path, uint64_t want, size_t *nrec, uint64_t *payload, const char *jsonl)
{
	struct journal *j;
	struct journal_reader *rd;
	struct journal_record r;
	size_t cap = 1 << 16, n = 0;
	struct rec *v = xmalloc(cap * sizeof(*v));
	FILE *out = fopen(jsonl, "w");
	int rc;

	if (!out) {
		perror(jsonl);
		exit(1);
	}
	if ((rc = journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL)) || (rc = journal_reader_open(j, &rd))) {
		fprintf(stderr, "zstd_bench: %s: %s\n", path, journal_strerror(rc));
		exit(1);
	}
	*payload = 0;
	while (*payload < want && (rc = journal_reader_next(rd, &r)) == 0) {
		if (n == cap)
			v = realloc(v, (cap *= 2) * sizeof(*v));
		if (!v) {
			fprintf(stderr, "zstd_bench: out of memory\n");
			exit(1);
		}
		uint8_t *m = xmalloc((size_t)r.channel_len + r.cursor_len + r.payload_len);
		memcpy(m, r.channel, r.channel_len);
		memcpy(m + r.channel_len, r.cursor, r.cursor_len);
		memcpy(m + r.channel_len + r.cursor_len, r.payload, r.payload_len);
		v[n].r = r;
		v[n].r.channel = (const char *)m;
		v[n].r.cursor = m + r.channel_len;
		v[n].r.payload = m + r.channel_len + r.cursor_len;
		v[n].mem = m;
		fwrite(r.payload, 1, r.payload_len, out);
		fputc('\n', out);
		*payload += r.payload_len;
		n++;
	}
	if (rc && rc != JOURNAL_EOF) {
		fprintf(stderr, "zstd_bench: %s: %s\n", path, journal_strerror(rc));
		exit(1);
	}
	journal_reader_close(rd);
	journal_close(j);
	if (fclose(out)) {
		perror(jsonl);
		exit(1);
	}
	*nrec = n;
	return v;
}

/* Seals where the writer seals: before a record that would overfill a non-empty block, and
 * once a block reaches the size. */
static void
encode(const struct rec *v, size_t n, size_t bb, struct blocks *b)
{
	size_t cap = 64, len = 0;
	uint8_t *cur = NULL;
	int64_t pw = 0, pm = 0;
	uint32_t count = 0;

	b->raw = xmalloc(cap * sizeof(*b->raw));
	b->len = xmalloc(cap * sizeof(*b->len));
	b->n = 0;
	for (size_t i = 0; i <= n; i++) {
		size_t need = i < n ? rec_encoded_max(&v[i].r) : 0;
		if (cur && (i == n || (count && len + need > bb) || len >= bb)) {
			if (b->n == cap) {
				b->raw = realloc(b->raw, (cap *= 2) * sizeof(*b->raw));
				b->len = realloc(b->len, cap * sizeof(*b->len));
				if (!b->raw || !b->len)
					exit(1);
			}
			b->raw[b->n] = cur;
			b->len[b->n++] = len;
			cur = NULL;
		}
		if (i == n)
			break;
		if (!cur) {
			cur = xmalloc(bb + need + 4096);
			len = 0;
			count = 0;
			pw = v[i].r.wall_ns;
			pm = v[i].r.mono_ns;
		}
		len += rec_encode(cur + len, &v[i].r, pw, pm);
		pw = v[i].r.wall_ns;
		pm = v[i].r.mono_ns;
		count++;
	}
}

static void
blocks_free(struct blocks *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->raw[i]);
	free(b->raw);
	free(b->len);
}

/* Compress then decompress every block (checking the round trip); the least CPU of 'repeat'
 * passes. dict may be NULL. */
static void
measure(const char *name, int level, size_t bb, const struct blocks *b, const void *dict, size_t dsize,
	uint64_t payload, size_t nrec, int repeat)
{
	ZSTD_CCtx *cc = ZSTD_createCCtx();
	ZSTD_DCtx *dc = ZSTD_createDCtx();
	ZSTD_CDict *cd = dict ? ZSTD_createCDict(dict, dsize, level) : NULL;
	ZSTD_DDict *dd = dict ? ZSTD_createDDict(dict, dsize) : NULL;
	size_t maxlen = 0;
	for (size_t i = 0; i < b->n; i++)
		if (b->len[i] > maxlen)
			maxlen = b->len[i];
	size_t bound = ZSTD_compressBound(maxlen);
	uint8_t **comp = xmalloc(b->n * sizeof(*comp));
	size_t *clen = xmalloc(b->n * sizeof(*clen));
	uint8_t *back = xmalloc(maxlen);
	double best_c = 1e30, best_d = 1e30;
	uint64_t stored = 0;

	for (size_t i = 0; i < b->n; i++)
		comp[i] = xmalloc(bound);
	for (int pass = 0; pass < repeat; pass++) {
		double t0 = thread_cpu();
		stored = dict ? dsize : 0;
		for (size_t i = 0; i < b->n; i++) {
			size_t k = cd ? ZSTD_compress_usingCDict(cc, comp[i], bound, b->raw[i], b->len[i], cd)
				      : ZSTD_compressCCtx(cc, comp[i], bound, b->raw[i], b->len[i], level);
			if (ZSTD_isError(k)) {
				fprintf(stderr, "zstd_bench: %s: %s\n", name, ZSTD_getErrorName(k));
				exit(1);
			}
			clen[i] = k;
			stored += k + BLK_HEADER_SIZE;
		}
		double t1 = thread_cpu();
		for (size_t i = 0; i < b->n; i++) {
			size_t k = dd ? ZSTD_decompress_usingDDict(dc, back, maxlen, comp[i], clen[i], dd)
				      : ZSTD_decompressDCtx(dc, back, maxlen, comp[i], clen[i]);
			if (ZSTD_isError(k) || k != b->len[i]) {
				fprintf(stderr, "zstd_bench: %s: block %zu does not come back\n", name, i);
				exit(1);
			}
		}
		double t2 = thread_cpu();
		if (memcmp(back, b->raw[b->n - 1], b->len[b->n - 1])) {
			fprintf(stderr, "zstd_bench: %s: the last block comes back different\n", name);
			exit(1);
		}
		if (t1 - t0 < best_c)
			best_c = t1 - t0;
		if (t2 - t1 < best_d)
			best_d = t2 - t1;
	}
	printf("row %s %d %zu %zu %llu %llu %.6f %.6f %zu %zu\n", name, level, bb, dsize,
	       (unsigned long long)payload, (unsigned long long)stored, best_c, best_d, b->n, nrec);
	fflush(stdout);
	for (size_t i = 0; i < b->n; i++)
		free(comp[i]);
	free(comp);
	free(clen);
	free(back);
	ZSTD_freeCDict(cd);
	ZSTD_freeDDict(dd);
	ZSTD_freeCCtx(cc);
	ZSTD_freeDCtx(dc);
}

/* A dictionary of up to 'cap' bytes trained on the encoded records of the first 'sample'
 * bytes of blocks (each record one sample), as a journal would train on its first blocks;
 * *size its length, 0 when training fails. */
static void *
train(const struct rec *v, size_t n, size_t sample, size_t cap, size_t *size)
{
	uint8_t *buf = xmalloc(sample + 65536), *dict = xmalloc(cap);
	size_t *sizes = xmalloc(n * sizeof(*sizes)), len = 0, k = 0;
	int64_t pw = v[0].r.wall_ns, pm = v[0].r.mono_ns;

	for (size_t i = 0; i < n && len + rec_encoded_max(&v[i].r) <= sample + 65536 && len < sample; i++) {
		sizes[k] = rec_encode(buf + len, &v[i].r, pw, pm);
		len += sizes[k++];
		pw = v[i].r.wall_ns;
		pm = v[i].r.mono_ns;
	}
	double t0 = thread_cpu();
	size_t d = ZDICT_trainFromBuffer(dict, cap, buf, sizes, (unsigned)k);
	double t1 = thread_cpu();
	free(buf);
	free(sizes);
	if (ZDICT_isError(d)) {
		fprintf(stderr, "zstd_bench: training a dictionary of %zu bytes: %s\n", cap,
			ZDICT_getErrorName(d));
		free(dict);
		*size = 0;
		return NULL;
	}
	printf("train %zu %zu %.6f\n", d, len, t1 - t0);
	*size = d;
	return dict;
}

int
main(int argc, char **argv)
{
	uint64_t want, payload;
	size_t nrec;

	if (argc < 4 || !(want = strtoull(argv[2], NULL, 10))) {
		fprintf(stderr, "usage: zstd_bench JOURNAL BYTES JSONL_OUT [REPEAT]\n");
		return 2;
	}
	int repeat = argc > 4 ? atoi(argv[4]) : 2;
	if (repeat < 1)
		repeat = 1;
	struct rec *v = load(argv[1], want, &nrec, &payload, argv[3]);
	if (!nrec) {
		fprintf(stderr, "zstd_bench: %s holds no records\n", argv[1]);
		return 1;
	}

	/* the dictionary: trained once on the first 4 MiB of records, 64 KiB (ZSTD_BENCH_DICT_KIB) */
	size_t dsize = 0;
	size_t dcap =
		getenv("ZSTD_BENCH_DICT_KIB") ? (size_t)atoi(getenv("ZSTD_BENCH_DICT_KIB")) << 10 : 64u << 10;
	void *dict = train(v, nrec, 4u << 20, dcap, &dsize);

	static const struct {
		const char *name;
		int level;
		size_t bb;
		int dict;
	} ch[] = {
		{ "level1_1MiB", 1, 1u << 20, 0 }, /* today's default */
		{ "level2_1MiB", 2, 1u << 20, 0 },
		{ "level3_1MiB", 3, 1u << 20, 0 },
		{ "level-1_1MiB", -1, 1u << 20, 0 }, /* zstd --fast=1 */
		{ "level-3_1MiB", -3, 1u << 20, 0 },
		{ "level1_256KiB", 1, 256u << 10, 0 },
		{ "level1_4MiB", 1, 4u << 20, 0 },
		{ "level3_4MiB", 3, 4u << 20, 0 },
		/* what flush_ms (100 ms) seals on a feed of ~1.3 MB/s or ~650 kB/s */
		{ "level1_128KiB", 1, 128u << 10, 0 },
		{ "level1_64KiB", 1, 64u << 10, 0 },
		{ "level1_dict_64KiB", 1, 64u << 10, 1 },
		{ "level1_dict_128KiB", 1, 128u << 10, 1 },
		{ "level1_dict_256KiB", 1, 256u << 10, 1 },
		{ "level1_dict_1MiB", 1, 1u << 20, 1 },
		{ "level3_dict_1MiB", 3, 1u << 20, 1 },
	};
	/* libzstd level 3 over the JSON lines in one frame: what `zstd -3` does, without the
	 * command's own reading and writing */
	{
		struct blocks b = { xmalloc(sizeof(uint8_t *)), xmalloc(sizeof(size_t)), 1 };
		size_t len = 0;
		b.raw[0] = xmalloc(payload + nrec);
		for (size_t i = 0; i < nrec; i++) {
			memcpy(b.raw[0] + len, v[i].r.payload, v[i].r.payload_len);
			len += v[i].r.payload_len;
			b.raw[0][len++] = '\n';
		}
		b.len[0] = len;
		measure("lines_level3", 3, len, &b, NULL, 0, payload, nrec, repeat);
		blocks_free(&b);
	}
	for (size_t i = 0; i < sizeof(ch) / sizeof(ch[0]); i++) {
		if (ch[i].dict && !dict)
			continue;
		struct blocks b;
		encode(v, nrec, ch[i].bb, &b);
		measure(ch[i].name, ch[i].level, ch[i].bb, &b, ch[i].dict ? dict : NULL,
			ch[i].dict ? dsize : 0, payload, nrec, repeat);
		blocks_free(&b);
	}
	free(dict);
	for (size_t i = 0; i < nrec; i++)
		free(v[i].mem);
	free(v);
	return 0;
}
