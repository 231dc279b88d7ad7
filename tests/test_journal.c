/* test_journal.c - the journal: round trips, seeks, recovery, corruption, locking, crashes */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal/journal.h"
#include "journal/crc32c.h"
#include "journal/block.h"
#include "journal/index.h"
#include <zstd.h>
#include <lmdb.h>

static char tmproot[256];

static void
mkpath(char *buf, size_t n, const char *name)
{
	snprintf(buf, n, "%s/%s", tmproot, name);
}

/* deterministic PRNG (xorshift64*) */
static uint64_t rng = 88172645463325252ULL;
static uint64_t
rnd(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ULL;
}

/* Record i is fully determined by (seed, i) so that readers can check it. */
struct gen {
	uint8_t *payload;
	size_t len;
	char channel[16];
	char cursor[48];
	struct journal_record r;
};

static void
gen_record(struct gen *g, uint64_t seed, uint64_t i, size_t maxlen)
{
	uint64_t s = seed * 1000003 + i;
	rng = s ? s : 1;
	size_t len = maxlen ? (size_t)(rnd() % (maxlen + 1)) : 0;
	if (i % 17 == 0)
		len = 0;
	g->payload = realloc(g->payload, len + 1);
	for (size_t k = 0; k < len; k++)
		g->payload[k] = (uint8_t)rnd();
	g->len = len;
	snprintf(g->channel, sizeof(g->channel), "ch%d", (int)(i % 3));
	snprintf(g->cursor, sizeof(g->cursor), "%llu:%llu:%llu", (unsigned long long)(500 + i / 10),
		 (unsigned long long)(1706123456789ULL + i), (unsigned long long)(i % 10));
	memset(&g->r, 0, sizeof(g->r));
	g->r.wall_ns = 1795341600000000000LL + (int64_t)i * 1000000;
	g->r.mono_ns = 1000 + (int64_t)i * 999;
	g->r.conn = (uint32_t)(1 + i / 100);
	g->r.dir = i % 5 == 0 ? JOURNAL_OUT : JOURNAL_IN;
	g->r.kind = (uint8_t)(i % 7 == 0 ? JOURNAL_BINARY : JOURNAL_TEXT);
	g->r.channel = g->channel;
	g->r.channel_len = (uint16_t)strlen(g->channel);
	g->r.cursor = (const uint8_t *)g->cursor;
	g->r.cursor_len = (uint16_t)strlen(g->cursor);
	g->r.payload = g->payload;
	g->r.payload_len = len;
}

static void
check_record(const struct journal_record *got, uint64_t seed, uint64_t i, size_t maxlen)
{
	struct gen g = { 0 };
	gen_record(&g, seed, i, maxlen);
	assert_int_equal(got->recno, i);
	assert_int_equal(got->wall_ns, g.r.wall_ns);
	assert_int_equal(got->mono_ns, g.r.mono_ns);
	assert_int_equal(got->conn, g.r.conn);
	assert_int_equal(got->dir, g.r.dir);
	assert_int_equal(got->kind, g.r.kind);
	assert_int_equal(got->channel_len, g.r.channel_len);
	assert_memory_equal(got->channel, g.r.channel, g.r.channel_len);
	assert_int_equal(got->cursor_len, g.r.cursor_len);
	assert_memory_equal(got->cursor, g.r.cursor, g.r.cursor_len);
	assert_int_equal(got->payload_len, g.len);
	if (g.len)
		assert_memory_equal(got->payload, g.payload, g.len);
	free(g.payload);
}

static void
write_records(struct journal *j, uint64_t seed, uint64_t from, uint64_t to, size_t maxlen)
{
	struct gen g = { 0 };
	for (uint64_t i = from; i <= to; i++) {
		gen_record(&g, seed, i, maxlen);
		assert_int_equal(journal_append(j, &g.r), 0);
		assert_int_equal(g.r.recno, i);
	}
	free(g.payload);
}

static uint64_t
read_all(struct journal *j, uint64_t seed, size_t maxlen)
{
	struct journal_reader *r;
	struct journal_record rec;
	uint64_t n = 0;
	int rc;
	assert_int_equal(journal_reader_open(j, &r), 0);
	while ((rc = journal_reader_next(r, &rec)) == 0) {
		n++;
		check_record(&rec, seed, n, maxlen);
	}
	assert_int_equal(rc, JOURNAL_EOF);
	journal_reader_close(r);
	return n;
}

/* Create (or open, empty) the journal at path and append records 1..n of seed to it. */
static void
write_path(const char *path, uint64_t seed, uint64_t n, size_t maxlen)
{
	struct journal *j;
	struct journal_options o = { .block_bytes = 16384 };
	assert_int_equal(journal_open(path, JOURNAL_CREATE | JOURNAL_APPEND, &o, &j, NULL), 0);
	write_records(j, seed, 1, n, maxlen);
	assert_int_equal(journal_close(j), 0);
}

static uint64_t
count_path(const char *path)
{
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	uint64_t n = 0;
	int rc;
	assert_int_equal(journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_reader_open(j, &r), 0);
	while ((rc = journal_reader_next(r, &rec)) == 0) {
		assert_int_equal(rec.recno, n + 1);
		n++;
	}
	assert_int_equal(rc, JOURNAL_EOF);
	journal_reader_close(r);
	journal_close(j);
	return n;
}

static const struct journal_options small = {
	.block_bytes = 64 * 1024,
	.segment_bytes = 512 * 1024,
	.fsync = JOURNAL_FSYNC_NEVER,
};

static void
test_journal__roundtrip_random_binary(void **state)
{
	char p[300];
	struct journal *j;
	mkpath(p, sizeof(p), "rt");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	/* sizes 0 to 1 MiB; several segments and many blocks */
	write_records(j, 1, 1, 60, 1 << 20);
	write_records(j, 1, 61, 3000, 2000);
	assert_int_equal(journal_close(j), 0);

	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	/* records 1..60 have up to 1 MiB, the rest up to 2000 bytes */
	struct journal_reader *r;
	struct journal_record rec;
	assert_int_equal(journal_reader_open(j, &r), 0);
	for (uint64_t i = 1; i <= 3000; i++) {
		assert_int_equal(journal_reader_next(r, &rec), 0);
		check_record(&rec, 1, i, i <= 60 ? 1 << 20 : 2000);
	}
	assert_int_equal(journal_reader_next(r, &rec), JOURNAL_EOF);
	journal_reader_close(r);

	struct journal_stats st;
	assert_int_equal(journal_stats(j, &st), 0);
	assert_int_equal(st.records, 3000);
	assert_int_equal(st.first_recno, 1);
	assert_int_equal(st.last_recno, 3000);
	assert_true(st.segments > 1);
	assert_int_equal(st.channels, 3);
	assert_int_equal(st.connections, 31); /* conn = 1 + i / 100 for i in 1..3000 */
	struct journal_verify v;
	assert_int_equal(journal_verify(j, &v), 0);
	assert_int_equal(v.records, 3000);
	assert_int_equal(v.unindexed_blocks, 0);
	journal_close(j);
}

static void
test_journal__large_payload(void **state)
{
	char p[300];
	struct journal *j;
	size_t n = 64u << 20;
	uint8_t *big = malloc(n);
	for (size_t i = 0; i < n; i++)
		big[i] = (uint8_t)(i * 2654435761u >> 13);
	mkpath(p, sizeof(p), "big");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	struct journal_record r = {
		.wall_ns = 1, .mono_ns = 1, .kind = JOURNAL_BINARY, .payload = big, .payload_len = n
	};
	assert_int_equal(journal_append(j, &r), 0);
	struct journal_record r2 = {
		.wall_ns = 2, .mono_ns = 2, .payload = (const uint8_t *)"x", .payload_len = 1
	};
	assert_int_equal(journal_append(j, &r2), 0);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	struct journal_reader *rd;
	struct journal_record got;
	assert_int_equal(journal_reader_open(j, &rd), 0);
	assert_int_equal(journal_reader_next(rd, &got), 0);
	assert_int_equal(got.payload_len, n);
	assert_memory_equal(got.payload, big, n);
	assert_int_equal(journal_reader_next(rd, &got), 0);
	assert_int_equal(got.recno, 2);
	journal_reader_close(rd);
	journal_close(j);
	free(big);
}

/* A channel that mixes numeric and other cursors, over blocks: a seek by cursor lands on
 * the same record through the index (the largest cursor per block) and by a scan. */
static void
test_journal__seek_mixed_cursors(void **state)
{
	static const char *const cursors[] = { "1x", "10", "95", "96", "3", "zz", "200:5", "7" };
	static const char *const seeks[] = { "9", "10", "11", "1x", "2", "96", "97", "200:5", "zz", "zzz" };
	char p[300], pad[4000];
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	uint64_t with_index[10];
	struct journal_options o = small;

	o.block_bytes = 4096; /* one block per record or two */
	memset(pad, 'p', sizeof(pad));
	mkpath(p, sizeof(p), "mixed");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
	for (size_t i = 0; i < sizeof(cursors) / sizeof(*cursors); i++) {
		struct journal_record w = { .wall_ns = 1795341600000000000LL + (int64_t)i,
					    .conn = 1,
					    .kind = JOURNAL_TEXT,
					    .channel = "c",
					    .channel_len = 1,
					    .cursor = (const uint8_t *)cursors[i],
					    .cursor_len = (uint16_t)strlen(cursors[i]),
					    .payload = (const uint8_t *)pad,
					    .payload_len = 3000 };
		assert_int_equal(journal_append(j, &w), 0);
	}
	assert_int_equal(journal_close(j), 0);
	for (int pass = 0; pass < 2; pass++) {
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		assert_int_equal(journal_reader_open(j, &r), 0);
		for (size_t k = 0; k < sizeof(seeks) / sizeof(*seeks); k++) {
			uint64_t at = 0;
			if (journal_reader_seek_cursor(r, "c", 1, seeks[k], strlen(seeks[k])) == 0 &&
			    journal_reader_next(r, &rec) == 0)
				at = rec.recno;
			if (pass == 0)
				with_index[k] = at;
			else
				assert_int_equal(at, with_index[k]); /* the scan agrees with the index */
		}
		journal_reader_close(r);
		journal_close(j);
		if (pass == 0) {
			char idx[400];
			snprintf(idx, sizeof(idx), "%s/index/data.mdb", p);
			assert_int_equal(unlink(idx), 0);
		}
	}
	/* the first record at or after "9" in the order: "1x" (a non-numeric cursor is after
	 * every numeric one), record 1; after "96": "1x" again; past "zz": none */
	assert_int_equal(with_index[0], 1);
	assert_int_equal(with_index[6], 1);
	assert_int_equal(with_index[8], 6);
	assert_int_equal(with_index[9], 0);
}

static void
test_journal__seeks(void **state)
{
	char p[300];
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	mkpath(p, sizeof(p), "seek");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	write_records(j, 2, 1, 20000, 300);
	assert_int_equal(journal_flush(j), 0);

	assert_int_equal(journal_reader_open(j, &r), 0);
	/* by record number, through the writer's handle */
	uint64_t targets[] = { 1, 2, 777, 10000, 19999, 20000 };
	for (size_t k = 0; k < sizeof(targets) / sizeof(*targets); k++) {
		assert_int_equal(journal_reader_seek_recno(r, targets[k]), 0);
		assert_int_equal(journal_reader_next(r, &rec), 0);
		check_record(&rec, 2, targets[k], 300);
	}
	assert_int_equal(journal_reader_seek_recno(r, 20001), JOURNAL_ENOTFOUND);
	/* by time: record i is at base + i ms */
	assert_int_equal(journal_reader_seek_time(r, 1795341600000000000LL + 12345 * 1000000LL), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 12345);
	assert_int_equal(journal_reader_seek_time(r, 1795341600000000000LL + 12345 * 1000000LL + 1), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 12346);
	assert_int_equal(journal_reader_seek_time(r, 0), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 1);
	assert_int_equal(journal_reader_seek_time(r, INT64_MAX), JOURNAL_ENOTFOUND);
	/* by cursor: record 15001 is on ch{15001%3}=ch1 with cursor 2000:1706123471790:1 */
	const char *cur = "2000:1706123471790:1";
	assert_int_equal(journal_reader_seek_cursor(r, "ch1", 3, cur, strlen(cur)), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 15001);
	/* a cursor between records lands on the next one of that channel */
	cur = "2000:1706123471790:0";
	assert_int_equal(journal_reader_seek_cursor(r, "ch2", 3, cur, strlen(cur)), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 15002);
	cur = "99999:1:1";
	assert_int_equal(journal_reader_seek_cursor(r, "ch0", 3, cur, strlen(cur)), JOURNAL_ENOTFOUND);
	assert_int_equal(journal_reader_seek_cursor(r, "nope", 4, "1", 1), JOURNAL_ENOTFOUND);
	/* reading on after a seek continues in order across blocks and segments */
	assert_int_equal(journal_reader_seek_recno(r, 5000), 0);
	for (uint64_t i = 5000; i <= 20000; i++) {
		assert_int_equal(journal_reader_next(r, &rec), 0);
		assert_int_equal(rec.recno, i);
	}
	journal_reader_close(r);
	assert_int_equal(journal_close(j), 0);

	/* the same seeks without an index: the reader scans */
	char idx[400];
	snprintf(idx, sizeof(idx), "%s/index/data.mdb", p);
	assert_int_equal(unlink(idx), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_reader_open(j, &r), 0);
	assert_int_equal(journal_reader_seek_recno(r, 777), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 777);
	cur = "2000:1706123471790:1";
	assert_int_equal(journal_reader_seek_cursor(r, "ch1", 3, cur, strlen(cur)), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 15001);
	journal_reader_close(r);
	journal_close(j);
	/* a writer rebuilds it */
	struct journal_recovery rec2;
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &j, &rec2), 0);
	assert_true(rec2.reindexed);
	journal_close(j);
}

static void
test_journal__reopen_and_append(void **state)
{
	char p[300];
	struct journal *j;
	mkpath(p, sizeof(p), "reopen");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	assert_int_equal(journal_next_conn(j), 1);
	write_records(j, 3, 1, 1000, 500);
	assert_int_equal(journal_meta_set(j, "feed", "hydromancer"), 0);
	assert_int_equal(journal_close(j), 0);
	/* CREATE on an existing journal refuses; APPEND continues */
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), JOURNAL_EEXIST);
	assert_null(j);
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &j, NULL), 0);
	assert_string_equal(journal_meta_get(j, "feed"), "hydromancer");
	assert_true(journal_next_conn(j) > 10); /* records used connections 1..10 */
	write_records(j, 3, 1001, 2500, 500);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(read_all(j, 3, 500), 2500);
	journal_close(j);
}

static void
test_journal__cursor_order(void **state)
{
	assert_true(journal_cursor_cmp("500:17:3", 8, "500:17:10", 9) < 0);
	assert_true(journal_cursor_cmp("99:1", 4, "100:0", 5) < 0);
	assert_true(journal_cursor_cmp("500:17", 6, "500:17:0", 8) < 0);
	assert_int_equal(journal_cursor_cmp("007", 3, "7", 1), 0);
	assert_true(journal_cursor_cmp("1706123456789", 13, "1706123456790", 13) < 0);
	assert_true(journal_cursor_cmp("abc", 3, "abd", 3) < 0);
	assert_true(journal_cursor_cmp("abc", 3, "ab", 2) > 0);
	/* a total order: every numeric cursor before every other, so 9 < 10 < 1x and 9 < 1x */
	assert_true(journal_cursor_cmp("9", 1, "10", 2) < 0);
	assert_true(journal_cursor_cmp("10", 2, "1x", 2) < 0);
	assert_true(journal_cursor_cmp("9", 1, "1x", 2) < 0);
	assert_true(journal_cursor_cmp("99999", 5, "1x", 2) < 0);
	assert_true(journal_cursor_cmp("", 0, "1", 1) > 0);
	assert_true(journal_cursor_cmp("", 0, "a", 1) < 0);
	/* an empty component is below any digits, 0 included */
	assert_true(journal_cursor_cmp("1::5", 4, "1:0:2", 5) < 0);
	assert_true(journal_cursor_cmp("1::2", 4, "1:0:2", 5) < 0);
	assert_true(journal_cursor_cmp("1:", 2, "1:0", 3) > 0); /* "1:" is not numeric */
}

/* Write a journal, then cut its segment at every offset inside the last block: each
 * time, a writer opens it, cuts the torn tail, keeps every earlier block, and the
 * journal verifies after more appends. */
static void
test_journal__torn_tail_every_offset(void **state)
{
	char p[300], seg[400], cp[300], cpseg[400], meta[400], cpmeta[400];
	struct journal *j;
	struct journal_options o = small;
	o.block_bytes = 4096;
	mkpath(p, sizeof(p), "torn");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
	write_records(j, 4, 1, 50, 200);
	assert_int_equal(journal_flush(j), 0);
	struct journal_stats st;
	assert_int_equal(journal_stats(j, &st), 0);
	uint64_t size_before = st.segment_bytes, blocks_before = st.blocks;
	write_records(j, 4, 51, 53, 120); /* the last block: 3 records */
	assert_int_equal(journal_close(j), 0);

	snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", p);
	snprintf(meta, sizeof(meta), "%s/META", p);
	struct stat sb;
	assert_int_equal(stat(seg, &sb), 0);
	uint64_t end = (uint64_t)sb.st_size;
	assert_true(end > size_before);
	FILE *f = fopen(seg, "rb");
	uint8_t *bytes = malloc(end);
	assert_int_equal(fread(bytes, 1, end, f), end);
	fclose(f);
	char metabuf[4096];
	f = fopen(meta, "rb");
	size_t metalen = fread(metabuf, 1, sizeof(metabuf), f);
	fclose(f);

	mkpath(cp, sizeof(cp), "torn-copy");
	snprintf(cpseg, sizeof(cpseg), "%s/seg-0000000001.wst", cp);
	snprintf(cpmeta, sizeof(cpmeta), "%s/META", cp);
	for (uint64_t cut = size_before; cut < end; cut++) {
		char cmd[700];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cp);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(mkdir(cp, 0755), 0);
		f = fopen(cpmeta, "wb");
		fwrite(metabuf, 1, metalen, f);
		fclose(f);
		f = fopen(cpseg, "wb");
		assert_int_equal(fwrite(bytes, 1, cut, f), cut);
		fclose(f);
		/* a reader sees the whole blocks and stops at the torn one */
		assert_int_equal(count_path(cp), 50);
		struct journal_recovery rec;
		assert_int_equal(journal_open(cp, JOURNAL_APPEND, &o, &j, &rec), 0);
		assert_int_equal(rec.torn_bytes, cut - size_before);
		if (cut > size_before)
			assert_int_equal(rec.torn_offset, size_before);
		assert_int_equal(rec.blocks_indexed, blocks_before);
		write_records(j, 4, 51, 52, 120);
		assert_int_equal(journal_close(j), 0);
		assert_int_equal(journal_open(cp, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		struct journal_verify v;
		assert_int_equal(journal_verify(j, &v), 0);
		assert_int_equal(v.records, 52);
		assert_int_equal(v.torn_bytes, 0);
		journal_close(j);
		assert_int_equal(count_path(cp), 52);
	}
	free(bytes);
}

/* Overwrite [from, to) of a file with zeros, extending it when to is past its end. */
static void
zero_range(const char *path, uint64_t from, uint64_t to)
{
	int fd = open(path, O_RDWR);
	uint8_t z[4096] = { 0 };
	assert_true(fd >= 0);
	while (from < to) {
		size_t n = to - from < sizeof(z) ? (size_t)(to - from) : sizeof(z);
		assert_int_equal(pwrite(fd, z, n, (off_t)from), (ssize_t)n);
		from += n;
	}
	close(fd);
}

static void
append_bytes(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

/* After a power loss the last block's header can be on disk while its data reads as
 * zeros (all of it, or from a sector on): a torn tail that the next writer cuts, not
 * corruption. The same zeros before another block, or followed by other bytes, are
 * corruption. */
static void
test_journal__zero_data_tail(void **state)
{
	char p[300], seg[400], cmd[1600];
	struct journal *j;
	struct journal_options o = small;
	o.block_bytes = 8192;
	mkpath(p, sizeof(p), "zerotail");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
	write_records(j, 11, 1, 200, 300);
	assert_int_equal(journal_flush(j), 0);
	struct journal_stats st;
	assert_int_equal(journal_stats(j, &st), 0);
	uint64_t last = st.segment_bytes, records_before = st.records;
	write_records(j, 11, 201, 230, 300); /* the last block, about 9 KiB of random bytes */
	assert_int_equal(journal_close(j), 0);
	snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", p);
	struct stat sb;
	assert_int_equal(stat(seg, &sb), 0);
	uint64_t end = (uint64_t)sb.st_size, data = last + 64;
	assert_true(end - data > 2048);
	uint64_t sector = (data / 512 + 2) * 512; /* a sector boundary inside the data */

	/* whole data zero; data zero from a sector on; both are cut by the next writer */
	uint64_t from[] = { data, sector };
	for (size_t k = 0; k < 2; k++) {
		char cp[300];
		mkpath(cp, sizeof(cp), "zerotail-copy");
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s' '%s'", cp, p, cp);
		assert_int_equal(system(cmd), 0);
		snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", cp);
		zero_range(seg, from[k], end);
		assert_int_equal(count_path(cp), records_before);
		/* verify, once without the index (which still lists the lost block) */
		snprintf(cmd, sizeof(cmd),
			 "rm -rf '%s.noidx' && cp -r '%s' '%s.noidx' && rm -r '%s.noidx/index'", cp, cp, cp,
			 cp);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s.noidx", cp);
		assert_int_equal(journal_open(cmd, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		struct journal_verify v;
		assert_int_equal(journal_verify(j, &v), 0);
		assert_int_equal(v.torn_bytes, end - last);
		journal_close(j);
		/* a writer finds the indexed last block torn, cuts it and reindexes */
		struct journal_recovery rec;
		assert_int_equal(journal_open(cp, JOURNAL_APPEND, &o, &j, &rec), 0);
		assert_true(rec.reindexed);
		assert_int_equal(rec.torn_offset, last);
		assert_int_equal(rec.torn_bytes, end - last);
		write_records(j, 11, records_before + 1, records_before + 5, 300);
		assert_int_equal(journal_close(j), 0);
		assert_int_equal(count_path(cp), records_before + 5);
		assert_int_equal(journal_open(cp, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		assert_int_equal(journal_verify(j, &v), 0);
		assert_int_equal(v.torn_bytes, 0);
		assert_int_equal(v.unindexed_blocks, 0);
		journal_close(j);
	}

	/* zeros that are followed by other bytes, or that start off a sector boundary
	 * inside the data and stop short of it, are corruption */
	for (int k = 0; k < 2; k++) {
		char cp[300];
		mkpath(cp, sizeof(cp), "zerotail-bad");
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s' '%s'", cp, p, cp);
		assert_int_equal(system(cmd), 0);
		snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", cp);
		if (k == 0) {
			zero_range(seg, data, end);
			append_bytes(seg, "junk", 4);
		} else {
			zero_range(seg, data + 1, end - 1); /* the last data byte is not zero */
		}
		assert_int_equal(journal_open(cp, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		struct journal_verify v;
		assert_int_equal(journal_verify(j, &v), JOURNAL_ECORRUPT);
		assert_int_equal(v.bad_offset, last);
		journal_close(j);
		assert_int_equal(journal_open(cp, JOURNAL_APPEND, &o, &j, NULL), JOURNAL_ECORRUPT);
		assert_non_null(strstr(journal_last_detail(NULL), "offset"));
	}
}

/* Append one record of n random (incompressible) payload bytes as a block of its own. */
static void
append_block(struct journal *j, uint64_t recno, size_t n)
{
	uint8_t *pl = malloc(n + 1);
	struct journal_record r = { 0 };
	rng = recno * 7919 + 1;
	for (size_t i = 0; i < n; i++)
		pl[i] = (uint8_t)rnd();
	r.wall_ns = 1795341600000000000LL + (int64_t)recno * 1000000;
	r.mono_ns = (int64_t)recno * 1000;
	r.conn = 1;
	r.kind = JOURNAL_BINARY;
	r.payload = pl;
	r.payload_len = n;
	assert_int_equal(journal_append(j, &r), 0);
	assert_int_equal(r.recno, recno);
	assert_int_equal(journal_flush(j), 0);
	free(pl);
}

static uint64_t
segment_size(struct journal *j)
{
	struct journal_stats st;
	assert_int_equal(journal_stats(j, &st), 0);
	return st.segment_bytes;
}

/* After a power loss the last block's header can be cut by a sector that never reached
 * the disk: its bytes from a 512-byte boundary inside the header to the end of the file
 * read as zeros. For every position of that boundary inside the 64 header bytes, the
 * block is a torn tail (readers stop before it, verify reports it, the next writer cuts
 * it and says so), not corruption. Zeros that start off the boundary, or that are
 * followed by another byte, are corruption. */
static void
test_journal__zero_header_tail_every_sector_offset(void **state)
{
	char p[300], seg[400];
	struct journal *j;
	struct journal_options o = small;

	for (uint64_t k = 0; k < 64; k++) {
		/* place the last block's header so that a sector boundary is k bytes into it */
		mkpath(p, sizeof(p), "zerohdr");
		char cmd[1600];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
		uint64_t recno = 1, overhead = 100;
		append_block(j, recno++, 300);
		for (int tries = 0;; tries++) {
			assert_true(tries < 20);
			uint64_t size = segment_size(j);
			uint64_t need = (512 - (size + k) % 512) % 512; /* bytes to add */
			if (need == 0)
				break;
			while (need < overhead + 16)
				need += 512;
			append_block(j, recno++, (size_t)(need - overhead));
			overhead = segment_size(j) - size - (need - overhead);
		}
		uint64_t last = segment_size(j), records_before = recno - 1;
		assert_int_equal((last + k) % 512, 0);
		append_block(j, recno++, 700);
		assert_int_equal(journal_close(j), 0);
		snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", p);
		struct stat sb;
		assert_int_equal(stat(seg, &sb), 0);
		uint64_t end = (uint64_t)sb.st_size;
		assert_int_equal(end, last + 64 + (end - last - 64));
		char good[300], bad[300];
		mkpath(good, sizeof(good), "zerohdr-torn");
		mkpath(bad, sizeof(bad), "zerohdr-bad");

		/* zeros from the boundary to the end of the file: a torn tail */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s' '%s'", good, p, good);
		assert_int_equal(system(cmd), 0);
		snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", good);
		zero_range(seg, last + k, end);
		assert_int_equal(count_path(good), records_before);
		struct journal_verify v;
		snprintf(cmd, sizeof(cmd),
			 "rm -rf '%s.noidx' && cp -r '%s' '%s.noidx' && rm -r '%s.noidx/index'", good, good,
			 good, good);
		assert_int_equal(system(cmd), 0);
		snprintf(cmd, sizeof(cmd), "%s.noidx", good);
		assert_int_equal(journal_open(cmd, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		assert_int_equal(journal_verify(j, &v), 0);
		assert_int_equal(v.records, records_before);
		assert_int_equal(v.torn_bytes, end - last);
		journal_close(j);
		struct journal_recovery rec;
		assert_int_equal(journal_open(good, JOURNAL_APPEND, &o, &j, &rec), 0);
		assert_int_equal(rec.torn_segment, 1);
		assert_int_equal(rec.torn_offset, last);
		assert_int_equal(rec.torn_bytes, end - last);
		append_block(j, records_before + 1, 50);
		assert_int_equal(journal_close(j), 0);
		assert_int_equal(count_path(good), records_before + 1);
		assert_int_equal(journal_open(good, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		assert_int_equal(journal_verify(j, &v), 0);
		assert_int_equal(v.torn_bytes, 0);
		journal_close(j);

		/* the same zeros followed by one more byte, or starting a byte past the boundary
		 * (inside the header): corruption, which writers refuse */
		for (int b = 0; b < 2; b++) {
			if (b == 1 && k == 63)
				continue; /* a byte past the boundary is no longer inside the header */
			snprintf(cmd, sizeof(cmd), "rm -rf '%s' && cp -r '%s' '%s'", bad, p, bad);
			assert_int_equal(system(cmd), 0);
			snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", bad);
			if (b == 0) {
				zero_range(seg, last + k, end);
				append_bytes(seg, "x", 1);
			} else {
				/* a non-zero byte at the boundary; the rest of the file zero */
				zero_range(seg, last + k + 1, end);
				int fd = open(seg, O_RDWR);
				uint8_t one = 1;
				assert_int_equal(pwrite(fd, &one, 1, (off_t)(last + k)), 1);
				close(fd);
			}
			assert_int_equal(journal_open(bad, JOURNAL_RDONLY, NULL, &j, NULL), 0);
			assert_int_equal(journal_verify(j, &v), JOURNAL_ECORRUPT);
			assert_int_equal(v.bad_offset, last);
			journal_close(j);
			assert_int_equal(journal_open(bad, JOURNAL_APPEND, &o, &j, NULL), JOURNAL_ECORRUPT);
		}
	}
}

static void
flip_bit(const char *path, uint64_t off, int bit)
{
	int fd = open(path, O_RDWR);
	uint8_t b;
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
	b ^= (uint8_t)(1 << bit);
	assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
	close(fd);
}

static void
test_journal__flipped_bit_detected(void **state)
{
	char p[300], seg[400];
	struct journal *j;
	struct journal_options o = small;
	o.block_bytes = 8192;
	mkpath(p, sizeof(p), "flip");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
	write_records(j, 5, 1, 400, 200);
	assert_int_equal(journal_close(j), 0);
	snprintf(seg, sizeof(seg), "%s/seg-0000000001.wst", p);
	struct stat sb;
	assert_int_equal(stat(seg, &sb), 0);

	/* flip bits at several places: block headers and data; each is found */
	uint64_t places[] = { 64 + 3, 64 + 20, 64 + 100, (uint64_t)sb.st_size / 2, (uint64_t)sb.st_size - 5 };
	for (size_t k = 0; k < sizeof(places) / sizeof(*places); k++) {
		flip_bit(seg, places[k], (int)(k % 8));
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		struct journal_verify v;
		int rc = journal_verify(j, &v);
		assert_int_equal(rc, JOURNAL_ECORRUPT);
		assert_true(v.bad_offset <= places[k]);
		assert_int_equal(v.bad_segment, 1);
		assert_non_null(v.detail);
		/* a reader stops with an error, never returns damaged records */
		struct journal_reader *r;
		struct journal_record rec;
		assert_int_equal(journal_reader_open(j, &r), 0);
		uint64_t n = 0;
		while ((rc = journal_reader_next(r, &rec)) == 0)
			check_record(&rec, 5, ++n, 200);
		assert_int_equal(rc, JOURNAL_ECORRUPT);
		journal_reader_close(r);
		journal_close(j);
		/* a writer that must rebuild the index refuses to append behind a corrupt block */
		char idx[400];
		snprintf(idx, sizeof(idx), "%s/index/data.mdb", p);
		unlink(idx);
		assert_int_equal(journal_open(p, JOURNAL_APPEND, &o, &j, NULL), JOURNAL_ECORRUPT);
		assert_true(strstr(journal_last_detail(NULL), "offset") != NULL);
		flip_bit(seg, places[k], (int)(k % 8));
	}
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	struct journal_verify v;
	assert_int_equal(journal_verify(j, &v), 0);
	journal_close(j);
}

/* Overwrite a file with pseudo-random bytes (keeping its size), or cut it to 'cut' bytes. */
static void
damage_file(const char *path, int64_t cut)
{
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	if (cut >= 0) {
		assert_int_equal(truncate(path, cut), 0);
		return;
	}
	FILE *f = fopen(path, "r+b");
	assert_non_null(f);
	for (off_t i = 0; i < sb.st_size; i++)
		fputc((int)(rnd() >> 24), f);
	fclose(f);
}

/* The index is derived: one that LMDB cannot use (random bytes, a cut file) is reported
 * by verify, does not stop readers, and is rebuilt by the next writer. A damaged lock file
 * stops nothing. */
static void
test_journal__damaged_index_rebuilt(void **state)
{
	char p[300], f[400];
	struct journal *j;
	const char *file[] = { "data.mdb", "lock.mdb", "data.mdb" };
	int64_t cut[] = { -1, -1, 8192 };
	mkpath(p, sizeof(p), "damidx");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	write_records(j, 12, 1, 5000, 300);
	struct journal_stats st;
	assert_int_equal(journal_flush(j), 0);
	assert_int_equal(journal_stats(j, &st), 0);
	assert_int_equal(journal_close(j), 0);
	assert_true(st.blocks > 10);

	for (int k = 0; k < 3; k++) {
		snprintf(f, sizeof(f), "%s/index/%s", p, file[k]);
		damage_file(f, cut[k]);
		/* readers scan */
		assert_int_equal(count_path(p), 5000);
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		struct journal_reader *r;
		struct journal_record rec;
		assert_int_equal(journal_reader_open(j, &r), 0);
		assert_int_equal(journal_reader_seek_recno(r, 4321), 0);
		assert_int_equal(journal_reader_next(r, &rec), 0);
		check_record(&rec, 12, 4321, 300);
		journal_reader_close(r);
		struct journal_verify v;
		if (k == 1) {
			/* LMDB itself re-creates a lock file nobody holds: nothing to rebuild */
			assert_int_equal(journal_verify(j, &v), 0);
			journal_close(j);
			struct journal_recovery rc;
			assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &j, &rc), 0);
			assert_false(rc.index_damaged);
			assert_int_equal(rc.blocks_indexed, 0);
			assert_int_equal(journal_close(j), 0);
			continue;
		}
		assert_int_equal(journal_verify(j, &v), JOURNAL_EINDEX);
		assert_non_null(strstr(v.detail, "--reindex"));
		assert_int_equal(v.bad_segment, 0);
		journal_close(j);
		/* a writer rebuilds it */
		struct journal_recovery rc;
		assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &j, &rc), 0);
		assert_true(rc.index_damaged);
		assert_true(rc.reindexed);
		assert_non_null(strstr(rc.index_detail, "index"));
		assert_int_equal(rc.blocks_indexed, st.blocks);
		assert_int_equal(journal_close(j), 0);
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		assert_int_equal(journal_verify(j, &v), 0);
		assert_int_equal(v.unindexed_blocks, 0);
		assert_int_equal(v.records, 5000);
		journal_close(j);
	}
}

/* What a reader's stats and lists say, flattened to text for comparison. */
static int
conn_line(const struct journal_conn_info *c, void *ud)
{
	char line[200];
	snprintf(line, sizeof(line), "conn %u %llu..%llu %llu %lld..%lld\n", c->conn,
		 (unsigned long long)c->first_recno, (unsigned long long)c->last_recno,
		 (unsigned long long)c->records, (long long)c->first_wall_ns, (long long)c->last_wall_ns);
	strcat(ud, line);
	return 0;
}

static int
channel_line(const struct journal_channel_info *c, void *ud)
{
	char line[3000];
	snprintf(line, sizeof(line), "chan %.*s %llu..%llu %llu %lld..%lld %.*s..%.*s\n", (int)c->name_len,
		 c->name, (unsigned long long)c->first_recno, (unsigned long long)c->last_recno,
		 (unsigned long long)c->records, (long long)c->first_wall_ns, (long long)c->last_wall_ns,
		 (int)c->first_cursor_len, (const char *)c->first_cursor, (int)c->last_cursor_len,
		 (const char *)c->last_cursor);
	strcat(ud, line);
	return 0;
}

static char *
summary(const char *path, struct journal_stats *st)
{
	struct journal *j;
	char *out = calloc(1, 1 << 20);
	assert_int_equal(journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_stats(j, st), 0);
	sprintf(out,
		"records %llu %llu..%llu blocks %llu raw %llu payload %llu conns %u chans %u time %lld..%lld\n",
		(unsigned long long)st->records, (unsigned long long)st->first_recno,
		(unsigned long long)st->last_recno, (unsigned long long)st->blocks,
		(unsigned long long)st->block_raw_bytes, (unsigned long long)st->raw_bytes, st->connections,
		st->channels, (long long)st->first_wall_ns, (long long)st->last_wall_ns);
	assert_int_equal(journal_conn_foreach(j, conn_line, out), 0);
	assert_int_equal(journal_channel_foreach(j, channel_line, out), 0);
	journal_close(j);
	return out;
}

/* A reader's summary (records, blocks, connections, channels with their ranges and
 * cursors) is the same whether the index holds every block, only the first ones, or
 * nothing; an index that lists blocks the segments lost is set aside and said so, and a
 * seek that it would send past the end of a segment fails with the place. */
static void
test_journal__stats_past_the_index(void **state)
{
	char p[300], idx[400], cmd[1200];
	struct journal *j;
	struct journal_stats st, st2;
	mkpath(p, sizeof(p), "tailstats");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	write_records(j, 14, 1, 2500, 300);
	assert_int_equal(journal_close(j), 0);
	/* keep the index of the first 2500 records */
	snprintf(cmd, sizeof(cmd), "cp -r '%s/index' '%s.idx-early'", p, p);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &j, NULL), 0);
	write_records(j, 14, 2501, 6000, 300);
	struct journal_record late = { .wall_ns = 1795341700000000000LL,
				       .mono_ns = 1,
				       .conn = 999,
				       .channel = "zz-late",
				       .channel_len = 7,
				       .cursor = (const uint8_t *)"7:1",
				       .cursor_len = 3,
				       .payload = (const uint8_t *)"x",
				       .payload_len = 1 };
	assert_int_equal(journal_append(j, &late), 0);
	assert_int_equal(journal_close(j), 0);

	char *full = summary(p, &st);
	assert_int_equal(st.records, 6001);
	assert_int_equal(st.channels, 4);
	assert_int_equal(st.connections, 61 + 1);
	assert_false(st.index_stale);
	/* an index that lags behind the segments */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/index' && cp -r '%s.idx-early' '%s/index'", p, p, p);
	assert_int_equal(system(cmd), 0);
	char *lag = summary(p, &st2);
	assert_string_equal(lag, full);
	/* no index */
	snprintf(idx, sizeof(idx), "%s/index", p);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", idx);
	assert_int_equal(system(cmd), 0);
	char *none = summary(p, &st2);
	assert_string_equal(none, full);
	free(lag);
	free(none);

	/* the segment loses its end while the index still lists it */
	struct journal_recovery rec;
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &j, &rec), 0); /* rebuilds the index */
	assert_int_equal(journal_close(j), 0);
	uint32_t last_seg = (uint32_t)st.segments;
	char seg[400];
	snprintf(seg, sizeof(seg), "%s/seg-%010u.wst", p, last_seg);
	struct stat sb;
	assert_int_equal(stat(seg, &sb), 0);
	assert_int_equal(truncate(seg, sb.st_size - 500), 0);
	uint64_t left = count_path(p);
	assert_true(left < 6001);
	char *cut = summary(p, &st2);
	assert_true(st2.index_stale);
	assert_int_equal(st2.records, left);
	assert_int_equal(st2.last_recno, left);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_stats(j, &st2), 0);
	assert_non_null(strstr(journal_last_detail(j), "past the end"));
	struct journal_reader *r;
	struct journal_record got;
	assert_int_equal(journal_reader_open(j, &r), 0);
	assert_int_equal(journal_reader_seek_recno(r, 6001), JOURNAL_EINDEX);
	assert_non_null(strstr(journal_last_detail(j), "offset"));
	assert_non_null(strstr(journal_last_detail(j), seg));
	assert_int_equal(journal_reader_seek_recno(r, 10), 0);
	assert_int_equal(journal_reader_next(r, &got), 0);
	assert_int_equal(got.recno, 10);
	journal_reader_close(r);
	struct journal_verify v;
	assert_int_equal(journal_verify(j, &v), JOURNAL_EINDEX);
	journal_close(j);
	free(cut);
	free(full);
}

static void
test_journal__two_writers(void **state)
{
	char p[300];
	struct journal *a, *b;
	mkpath(p, sizeof(p), "two");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &a, NULL), 0);
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &b, NULL), JOURNAL_ELOCKED);
	assert_null(b);
	assert_non_null(strstr(journal_last_detail(NULL), "another process"));
	/* a second process is refused too */
	pid_t pid = fork();
	if (pid == 0) {
		struct journal *c;
		_exit(journal_open(p, JOURNAL_APPEND, &small, &c, NULL) == JOURNAL_ELOCKED ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	write_records(a, 6, 1, 10, 10);
	assert_int_equal(journal_close(a), 0);
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &b, NULL), 0);
	journal_close(b);
}

static void
test_journal__reader_while_writing(void **state)
{
	char p[300];
	struct journal *j;
	mkpath(p, sizeof(p), "live");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	assert_int_equal(journal_close(j), 0);
	/* the writer stops halfway, flushed, until the reader has read that far: the reader
	 * reads a journal that is being written, whatever the machine's load */
	int halfway[2], ack[2];
	assert_int_equal(pipe(halfway), 0);
	assert_int_equal(pipe(ack), 0);
	pid_t pid = fork();
	if (pid == 0) {
		struct journal *w;
		struct journal_options o = small;
		char c = 0;
		o.flush_ms = 5;
		if (journal_open(p, JOURNAL_APPEND, &o, &w, NULL))
			_exit(1);
		struct gen g = { 0 };
		for (uint64_t i = 1; i <= 30000; i++) {
			gen_record(&g, 7, i, 300);
			if (journal_append(w, &g.r))
				_exit(2);
			if (i == 15000 &&
			    (journal_flush(w) || write(halfway[1], &c, 1) != 1 || read(ack[0], &c, 1) != 1))
				_exit(4);
			if (i % 1000 == 0)
				usleep(2000);
		}
		_exit(journal_close(w) ? 3 : 0);
	}
	close(halfway[1]);
	close(ack[0]);
	/* read while the child writes: records come in order, complete, and keep coming */
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	struct journal_reader *r;
	struct journal_record rec;
	assert_int_equal(journal_reader_open(j, &r), 0);
	uint64_t n = 0;
	int rc, acked = 0;
	time_t deadline = time(NULL) + 300;
	while (n < 30000 && time(NULL) < deadline) {
		while ((rc = journal_reader_next(r, &rec)) == 0)
			check_record(&rec, 7, ++n, 300);
		assert_int_equal(rc, JOURNAL_EOF);
		if (!acked && n >= 15000) {
			char c = 0;
			assert_int_equal(read(halfway[0], &c, 1), 1); /* the writer did stop there */
			assert_int_equal(write(ack[1], &c, 1), 1);
			acked = 1;
		}
		usleep(1000);
	}
	assert_int_equal(n, 30000);
	assert_true(acked); /* it read 15000 records while the writer waited, before it finished */
	close(halfway[0]);
	close(ack[1]);
	journal_reader_close(r);
	journal_close(j);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A reader that follows a writer across many segment changes: each time the writer
 * finishes a segment and starts the next, the reader must read the end of the old one
 * before it moves on, whatever it measured before the next one appeared. */
static void
test_journal__reader_across_segments(void **state)
{
	char p[300];
	struct journal *j;
	struct journal_options o = {
		.block_bytes = 4096, .segment_bytes = 8192, .fsync = JOURNAL_FSYNC_NEVER, .flush_ms = 5
	};
	mkpath(p, sizeof(p), "rolls");
	for (int round = 0; round < 5; round++) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
		assert_int_equal(system(cmd), 0);
		assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
		assert_int_equal(journal_close(j), 0);
		pid_t pid = fork();
		if (pid == 0) {
			struct journal *w;
			if (journal_open(p, JOURNAL_APPEND, &o, &w, NULL))
				_exit(1);
			struct gen g = { 0 };
			for (uint64_t i = 1; i <= 20000; i++) {
				gen_record(&g, 13, i, 100);
				if (journal_append(w, &g.r))
					_exit(2);
			}
			_exit(journal_close(w) ? 3 : 0);
		}
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		struct journal_reader *r;
		struct journal_record rec;
		assert_int_equal(journal_reader_open(j, &r), 0);
		uint64_t n = 0;
		int rc, status;
		for (int spins = 0; n < 20000 && spins < 2000000; spins++) {
			while ((rc = journal_reader_next(r, &rec)) == 0)
				check_record(&rec, 13, ++n, 100);
			if (rc != JOURNAL_EOF)
				kill(pid, SIGKILL);
			assert_int_equal(rc, JOURNAL_EOF);
		}
		assert_int_equal(n, 20000);
		journal_reader_close(r);
		journal_close(j);
		waitpid(pid, &status, 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
}

/* kill -9 a writer at random instants: the journal opens, verifies, and holds every
 * record the writer had flushed before the kill. */
static void
test_journal__kill9_writer(void **state)
{
	char p[300];
	mkpath(p, sizeof(p), "kill9");
	uint64_t flushed_total = 0;
	for (int round = 0; round < 25; round++) {
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		if (pid == 0) {
			close(fds[0]);
			struct journal *w;
			struct journal_options o = { .block_bytes = 16384,
						     .segment_bytes = 256 * 1024,
						     .flush_ms = 3 };
			if (journal_open(p, JOURNAL_CREATE | JOURNAL_APPEND, &o, &w, NULL))
				_exit(1);
			struct journal_stats st;
			journal_stats(w, &st);
			uint64_t i = st.records;
			struct gen g = { 0 };
			for (;;) {
				i++;
				gen_record(&g, 8, i, 400);
				if (journal_append(w, &g.r))
					_exit(2);
				if (i % 97 == 0) {
					if (journal_flush(w))
						_exit(3);
					if (write(fds[1], &i, sizeof(i)) != sizeof(i))
						_exit(4);
				}
			}
		}
		close(fds[1]);
		usleep((useconds_t)(2000 + (round * 7919) % 40000));
		kill(pid, SIGKILL);
		int status;
		waitpid(pid, &status, 0);
		assert_true(WIFSIGNALED(status));
		uint64_t v, last = 0;
		while (read(fds[0], &v, sizeof(v)) == sizeof(v))
			last = v;
		close(fds[0]);
		if (last > flushed_total)
			flushed_total = last;

		struct journal *j;
		int orc = journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL);
		if (orc != 0 && flushed_total == 0) {
			/* killed while creating the journal, before anything was written */
			assert_true(orc == ENOENT || orc == JOURNAL_ENOTJOURNAL);
			continue;
		}
		if (orc != 0)
			print_message("round %d: open: %s: %s\n", round, journal_strerror(orc),
				      journal_last_detail(NULL));
		assert_int_equal(orc, 0);
		struct journal_verify vf;
		int vrc = journal_verify(j, &vf);
		if (vrc != 0 || vf.records < flushed_total)
			print_message("round %d: verify: %s (%s); %llu records, %llu flushed\n", round,
				      vrc ? journal_strerror(vrc) : "ok", vf.detail ? vf.detail : "-",
				      (unsigned long long)vf.records, (unsigned long long)flushed_total);
		assert_int_equal(vrc, 0);
		assert_true(vf.records >= flushed_total);
		uint64_t n = read_all(j, 8, 400);
		assert_true(n >= flushed_total);
		journal_close(j);
	}
	struct journal *j;
	struct journal_recovery rec;
	assert_int_equal(journal_open(p, JOURNAL_APPEND, NULL, &j, &rec), 0);
	journal_close(j);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	struct journal_verify vf;
	assert_int_equal(journal_verify(j, &vf), 0);
	assert_int_equal(vf.torn_bytes, 0);
	assert_int_equal(vf.unindexed_blocks, 0);
	journal_close(j);
}

/* kill -9 a writer while it creates the journal: whatever it left (no journal, a META
 * without an index, an index whose file is empty or whose databases were never made)
 * opens as no journal or as an empty one that verifies, and the next writer goes on. */
static void
test_journal__kill9_while_creating(void **state)
{
	for (int round = 0; round < 40; round++) {
		char p[300], name[32];
		snprintf(name, sizeof(name), "kill9c-%d", round);
		mkpath(p, sizeof(p), name);
		pid_t pid = fork();
		if (pid == 0) {
			struct journal *w;
			if (journal_open(p, JOURNAL_CREATE, NULL, &w, NULL))
				_exit(1);
			for (;;)
				pause();
		}
		usleep((useconds_t)((round * 631) % 6000));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		struct journal *j;
		struct journal_verify vf;
		int orc = journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL);
		if (orc == 0) {
			int vrc = journal_verify(j, &vf);
			if (vrc)
				print_message("round %d: verify: %s (%s)\n", round, journal_strerror(vrc),
					      vf.detail ? vf.detail : "-");
			assert_int_equal(vrc, 0);
			assert_int_equal(vf.records, 0);
			journal_close(j);
		} else {
			assert_true(orc == ENOENT || orc == JOURNAL_ENOTJOURNAL);
		}
		write_path(p, 1, 5, 100);
		assert_int_equal(count_path(p), 5);
	}
}

/* An index the writer made but never wrote (an empty data.mdb; an environment without its
 * databases) is no index, not a damaged one: readers read the segments, verify passes,
 * and the next writer indexes every block. */
static void
test_journal__index_never_written(void **state)
{
	for (int how = 0; how < 2; how++) {
		char p[300], idir[400], data[450];
		mkpath(p, sizeof(p), how ? "never-written-env" : "never-written-empty");
		write_path(p, 1, 300, 200);
		snprintf(idir, sizeof(idir), "%s/index", p);
		snprintf(data, sizeof(data), "%s/data.mdb", idir);
		assert_int_equal(unlink(data), 0);
		char lock[450];
		snprintf(lock, sizeof(lock), "%s/lock.mdb", idir);
		unlink(lock);
		if (how == 0) {
			int fd = open(data, O_CREAT | O_WRONLY, 0644);
			assert_true(fd >= 0);
			close(fd);
		} else {
			MDB_env *env;
			assert_int_equal(mdb_env_create(&env), 0);
			assert_int_equal(mdb_env_open(env, idir, 0, 0644), 0);
			mdb_env_close(env);
		}
		struct journal *j;
		struct journal_verify vf;
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		assert_int_equal(journal_verify(j, &vf), 0);
		assert_int_equal(vf.records, 300);
		assert_true(vf.unindexed_blocks > 0);
		assert_int_equal(read_all(j, 1, 200), 300);
		journal_close(j);
		assert_int_equal(journal_open(p, JOURNAL_APPEND, NULL, &j, NULL), 0);
		journal_close(j);
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
		assert_int_equal(journal_verify(j, &vf), 0);
		assert_int_equal(vf.unindexed_blocks, 0);
		journal_close(j);
	}
}

/* A write that fails (here: the file size limit, as a full disk would) is reported, the
 * journal accepts nothing more, and what was written before stays valid. */
static void
test_journal__write_failure_keeps_journal_valid(void **state)
{
	char p[300];
	mkpath(p, sizeof(p), "full");
	pid_t pid = fork();
	if (pid == 0) {
		signal(SIGXFSZ, SIG_IGN);
		struct rlimit rl = { 300 * 1024, 300 * 1024 };
		setrlimit(RLIMIT_FSIZE, &rl);
		struct journal *w;
		struct journal_options o = { .block_bytes = 16384, .fsync = JOURNAL_FSYNC_NEVER };
		if (journal_open(p, JOURNAL_CREATE, &o, &w, NULL))
			_exit(10);
		struct gen g = { 0 };
		int rc = 0;
		uint64_t i;
		for (i = 1; i < 100000 && rc == 0; i++) {
			gen_record(&g, 9, i, 300);
			rc = journal_append(w, &g.r);
		}
		if (rc == 0)
			_exit(11);
		if (rc != EFBIG)
			_exit(12);
		if (journal_append(w, &g.r) != EFBIG) /* sticky */
			_exit(13);
		if (strstr(journal_last_detail(w), "offset") == NULL)
			_exit(14);
		journal_close(w);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	struct journal *j;
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	struct journal_verify v;
	assert_int_equal(journal_verify(j, &v), 0);
	assert_true(v.records > 100);
	assert_int_equal(v.torn_bytes, 0);
	assert_int_equal(read_all(j, 9, 300), v.records);
	journal_close(j);
}

/* journal_discard removes what journal_open created, and nothing else. */
static void
test_journal__discard_created(void **state)
{
	char p[300], q[400];
	struct journal *j;
	struct stat sb;
	mkpath(p, sizeof(p), "discard");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	assert_int_equal(journal_created(j), 2);
	write_records(j, 15, 1, 3000, 300);
	assert_int_equal(journal_flush(j), 0);
	write_records(j, 15, 3001, 3010, 300);
	assert_int_equal(journal_discard(j), 0);
	assert_int_equal(stat(p, &sb), -1);
	assert_int_equal(errno, ENOENT);

	/* in a directory that was there: the directory stays, and so does a foreign file */
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	assert_int_equal(journal_created(j), 1);
	write_records(j, 15, 1, 100, 300);
	snprintf(q, sizeof(q), "%s/notes.txt", p);
	FILE *f = fopen(q, "w");
	fputs("mine", f);
	fclose(f);
	assert_int_equal(journal_discard(j), 0);
	assert_int_equal(stat(q, &sb), 0);
	assert_int_equal(unlink(q), 0);
	assert_int_equal(rmdir(p), 0); /* empty: nothing else was left */

	/* a journal that was there is not this handle's to remove */
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(journal_open(p, JOURNAL_CREATE | JOURNAL_APPEND, &small, &j, NULL), 0);
	assert_int_equal(journal_created(j), 0);
	assert_int_equal(journal_discard(j), JOURNAL_EINVAL);
	write_records(j, 15, 1, 10, 300);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(count_path(p), 10);
}

static void
test_journal__bad_paths_and_versions(void **state)
{
	char p[300], q[400];
	struct journal *j;
	mkpath(p, sizeof(p), "does-not-exist");
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), ENOENT);
	assert_non_null(strstr(journal_last_detail(NULL), p));
	mkpath(p, sizeof(p), "plain-dir");
	mkdir(p, 0755);
	snprintf(q, sizeof(q), "%s/something", p);
	FILE *f = fopen(q, "w");
	fputs("x", f);
	fclose(f);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), JOURNAL_ENOTJOURNAL);
	assert_int_equal(journal_open(p, JOURNAL_CREATE, NULL, &j, NULL), JOURNAL_ENOTJOURNAL);
	assert_int_equal(journal_open(q, JOURNAL_RDONLY, NULL, &j, NULL), JOURNAL_ENOTJOURNAL);

	/* a newer format version is refused with a clear message */
	mkpath(p, sizeof(p), "newer");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	write_records(j, 10, 1, 10, 10);
	journal_close(j);
	snprintf(q, sizeof(q), "%s/META", p);
	f = fopen(q, "w");
	fputs("format=2\n", f);
	fclose(f);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), JOURNAL_EVERSION);
	assert_non_null(strstr(journal_last_detail(NULL), "version 2"));
	assert_int_equal(journal_open(p, JOURNAL_APPEND, NULL, &j, NULL), JOURNAL_EVERSION);
	assert_non_null(strstr(journal_strerror(JOURNAL_EVERSION), "newer"));
	/* a format that is not a number is refused, not read as 0 */
	const char *bad[] = { "format=abc\n", "format=1x\n", "format=\n", "format= 1\n", "format=-1\n" };
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++) {
		f = fopen(q, "w");
		fputs(bad[k], f);
		fclose(f);
		assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), JOURNAL_ENOTJOURNAL);
		assert_non_null(strstr(journal_last_detail(NULL), "not a format version"));
		assert_int_equal(journal_open(p, JOURNAL_APPEND, NULL, &j, NULL), JOURNAL_ENOTJOURNAL);
	}
	f = fopen(q, "w");
	fputs("format=1\n", f);
	fclose(f);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	journal_close(j);
}

/* A journal of one segment holding one block whose header the test writes: flags, the
 * lengths and the data as given, every checksum right. */
static void
crafted_journal(const char *name, char *p, size_t n, uint32_t flags, uint32_t comp_len, uint32_t raw_len,
		const void *data, size_t data_len)
{
	char q[512];
	uint8_t sh[SEG_HEADER_SIZE], hb[BLK_HEADER_SIZE];
	struct blk_header h = { 0 };
	FILE *f;

	mkpath(p, n, name);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(q, sizeof(q), "%s/META", p);
	assert_non_null(f = fopen(q, "w"));
	fputs("format=1\n", f);
	fclose(f);
	seg_header_make(sh, 1, 1, 1795341600000000000LL);
	h.flags = flags;
	h.comp_len = comp_len;
	h.raw_len = raw_len;
	h.first_recno = 1;
	h.count = 1;
	h.data_crc = crc32c(0, data, data_len);
	h.first_wall = h.max_wall = 1795341600000000000LL;
	blk_header_encode(&h, hb);
	snprintf(q, sizeof(q), "%s/seg-0000000001.wst", p);
	assert_non_null(f = fopen(q, "w"));
	assert_int_equal(fwrite(sh, 1, sizeof(sh), f), sizeof(sh));
	assert_int_equal(fwrite(hb, 1, sizeof(hb), f), sizeof(hb));
	if (data_len)
		assert_int_equal(fwrite(data, 1, data_len, f), data_len);
	fclose(f);
}

/* Read the crafted journal in a child whose address space is limited to 512 MiB (not under
 * ASan, which reserves far more): an allocation of the stated raw_len fails there, so a
 * reader that trusted it returns ENOMEM instead of naming the bad block. Returns what
 * journal_reader_next() returned. */
static int
read_crafted(const char *p)
{
	int fds[2], rc = 0;
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	assert_true((pid = fork()) >= 0);
	if (pid == 0) {
		struct journal *j;
		struct journal_reader *r;
		struct journal_record rec;
#if !defined(__SANITIZE_ADDRESS__)
		struct rlimit rl = { (rlim_t)512 << 20, (rlim_t)512 << 20 };
		setrlimit(RLIMIT_AS, &rl);
#endif
		int e = journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL);
		if (e == 0 && (e = journal_reader_open(j, &r)) == 0) {
			e = journal_reader_next(r, &rec);
			journal_reader_close(r);
		}
		if (write(fds[1], &e, sizeof(e)) != sizeof(e))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &rc, sizeof(rc)), sizeof(rc));
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return rc;
}

static void
test_journal__bounded_raw_len(void **state)
{
	char p[512], plain[100], comp[512];
	struct journal *j;
	struct journal_verify v;
	size_t clen;

	(void)state;
	memset(plain, 'x', sizeof(plain));
	clen = ZSTD_compress(comp, sizeof(comp), plain, sizeof(plain), 1);
	assert_false(ZSTD_isError(clen));

	/* raw_len 4 GiB - 256 behind a frame of 100 bytes: no 4 GiB allocation, a named bad block */
	crafted_journal("raw4g", p, sizeof(p), BLK_FLAG_ZSTD, (uint32_t)clen, 0xFFFFFF00u, comp, clen);
	assert_int_equal(read_crafted(p), JOURNAL_ECORRUPT);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_verify(j, &v), JOURNAL_ECORRUPT);
	assert_int_equal(v.bad_offset, SEG_HEADER_SIZE);
	assert_non_null(strstr(v.detail, "raw length"));
	journal_close(j);

	/* 1 GiB (a size a writer can make) in a file of 298 bytes: more than its data can hold */
	char pad[298 - 2 * 64];
	memset(pad, 0, sizeof(pad));
	memcpy(pad, comp, clen);
	crafted_journal("raw1g", p, sizeof(p), BLK_FLAG_ZSTD, (uint32_t)sizeof(pad), 1u << 30, pad,
			sizeof(pad));
	assert_int_equal(read_crafted(p), JOURNAL_ECORRUPT);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_verify(j, &v), JOURNAL_ECORRUPT);
	assert_non_null(strstr(v.detail, "raw length its compressed data cannot hold"));
	journal_close(j);

	/* within the ratio, but not what the frame header says it holds (100 bytes) */
	crafted_journal("rawfcs", p, sizeof(p), BLK_FLAG_ZSTD, (uint32_t)clen, 4096, comp, clen);
	assert_int_equal(read_crafted(p), JOURNAL_ECORRUPT);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_verify(j, &v), JOURNAL_ECORRUPT);
	assert_non_null(strstr(v.detail, "zstd frame of the stated raw length"));
	journal_close(j);

	/* a stored block of no bytes: a bad block (never memcpy from a NULL buffer) */
	crafted_journal("raw0", p, sizeof(p), 0, 0, 0, NULL, 0);
	assert_int_equal(read_crafted(p), JOURNAL_ECORRUPT);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_verify(j, &v), JOURNAL_ECORRUPT);
	assert_non_null(strstr(v.detail, "empty block"));
	journal_close(j);

	/* the 100 bytes, stated right: read */
	crafted_journal("rawok", p, sizeof(p), BLK_FLAG_ZSTD, (uint32_t)clen, sizeof(plain), comp, clen);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_verify(j, &v), JOURNAL_ECORRUPT); /* 100 'x' are no record */
	assert_non_null(strstr(v.detail, "record framing"));
	journal_close(j);
}

/* The index check's child inherits the process's handlers (a test framework's, a
 * sanitizer's, libFuzzer's, which writes a crash file): a crash of LMDB in the child must
 * end it by its signal, a verdict on the index, and never run a handler of the parent. */
static volatile sig_atomic_t parent_handler_fd = -1;

static void
parent_segv_handler(int sig)
{
	(void)sig;
	if (parent_handler_fd >= 0 && write(parent_handler_fd, "handler ran\n", 12) < 0)
		_exit(8);
	_exit(7);
}

static void
test_journal__index_check_child_crash(void **state)
{
	char p[512], cmd[1400], why[600], mark[600];
	const char *tests = getenv("WSTAPE_TESTS_DIR") ? getenv("WSTAPE_TESTS_DIR") : "tests";
	struct sigaction sa, old_segv, old_bus;
	struct stat sb;

	(void)state;
	snprintf(p, sizeof(p), "%s/childcrash", tmproot);
	snprintf(cmd, sizeof(cmd), "cp -r '%s/fixtures/damaged/j342' '%s'", tests, p);
	assert_int_equal(system(cmd), 0);
	snprintf(mark, sizeof(mark), "%s/childcrash.handler", tmproot);
	parent_handler_fd = open(mark, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	assert_true(parent_handler_fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = parent_segv_handler;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGSEGV, &sa, &old_segv), 0);
	assert_int_equal(sigaction(SIGBUS, &sa, &old_bus), 0);
	int verdict = idx_check(p, why, sizeof(why));
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	close(parent_handler_fd);
	parent_handler_fd = -1;
	assert_int_equal(verdict, IDX_CHECK_DAMAGED);
	assert_non_null(strstr(why, "a crash (SIGSEGV) while LMDB read it"));
	assert_int_equal(stat(mark, &sb), 0);
	assert_int_equal(sb.st_size, 0); /* the parent's handler never ran in the child */
}

/* ---- pruning ---- */

static int
seg_exists(const char *dir, uint32_t n)
{
	char p[4200];
	struct stat sb;
	seg_path(p, sizeof(p), dir, n);
	return stat(p, &sb) == 0;
}

/* 3000 records (1 ms apart) in several segments; prune the first ones by time; read,
 * seek, stats and verify on what is left, through the API. */
/* marks: J/MARK.<name>, kept by any handle, replaced atomically, checked names */
static void
test_journal__marks(void **state)
{
	char p[300], f[400];
	struct journal *j, *r;
	uint64_t v = 7;
	FILE *fp;

	mkpath(p, sizeof(p), "marks");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &small, &j, NULL), 0);
	write_records(j, 1, 1, 10, 50);
	assert_int_equal(journal_mark_get(j, "nats.S", &v), JOURNAL_ENOTFOUND);
	assert_int_equal(v, 7);
	assert_int_equal(journal_mark_set(j, "nats.S", 0), 0);
	assert_int_equal(journal_mark_get(j, "nats.S", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(journal_mark_set(j, "nats.S", UINT64_MAX), 0);
	/* a reader sees it, and sets its own */
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &r, NULL), 0);
	assert_int_equal(journal_mark_get(r, "nats.S", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(journal_mark_set(r, "nats.T-2_x", 42), 0);
	assert_int_equal(journal_mark_get(j, "nats.T-2_x", &v), 0);
	assert_int_equal(v, 42);
	journal_close(r);
	/* bad names */
	assert_int_equal(journal_mark_set(j, "", 1), JOURNAL_EINVAL);
	assert_int_equal(journal_mark_set(j, "../x", 1), JOURNAL_EINVAL);
	assert_int_equal(journal_mark_set(j, ".hidden", 1), JOURNAL_EINVAL);
	assert_int_equal(journal_mark_set(j, "a b", 1), JOURNAL_EINVAL);
	assert_int_equal(journal_mark_get(j, NULL, &v), JOURNAL_EINVAL);
	char longname[90];
	memset(longname, 'a', 81);
	longname[81] = 0;
	assert_int_equal(journal_mark_set(j, longname, 1), JOURNAL_EINVAL);
	longname[80] = 0;
	assert_int_equal(journal_mark_set(j, longname, 1), 0);
	/* a damaged file is an error, not a number */
	snprintf(f, sizeof(f), "%s/MARK.bad", p);
	assert_non_null(fp = fopen(f, "w"));
	fputs("12x\n", fp);
	fclose(fp);
	assert_int_equal(journal_mark_get(j, "bad", &v), JOURNAL_ECORRUPT);
	assert_non_null(fp = fopen(f, "w"));
	fclose(fp);
	assert_int_equal(journal_mark_get(j, "bad", &v), JOURNAL_ECORRUPT);
	assert_non_null(fp = fopen(f, "w"));
	fputs("99999999999999999999999\n", fp);
	fclose(fp);
	assert_int_equal(journal_mark_get(j, "bad", &v), JOURNAL_ECORRUPT);
	/* no temporary file is left */
	snprintf(f, sizeof(f), "%s/MARK.nats.S.%ld.tmp", p, (long)getpid());
	assert_int_equal(access(f, F_OK), -1);
	/* the journal still opens, verifies and closes with marks beside it */
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &small, &j, NULL), 0);
	assert_int_equal(journal_mark_get(j, "nats.S", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(journal_close(j), 0);
}

static void
test_journal__prune_api(void **state)
{
	char p[300];
	struct journal *j;
	struct journal_pruned pr, info;
	struct journal_stats st;
	struct journal_verify v;
	struct journal_reader *r;
	struct journal_record rec;
	struct journal_options o = small;
	o.segment_bytes = 128 * 1024;
	o.block_bytes = 8192;

	mkpath(p, sizeof(p), "prune_api");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
	write_records(j, 31, 1, 3000, 300);
	assert_int_equal(journal_close(j), 0);
	assert_true(seg_exists(p, 4));
	/* before the first record: nothing */
	assert_int_equal(journal_prune(p, 1795341600000000000LL, 0, &pr), 0);
	assert_int_equal(pr.segments, 0);
	assert_int_equal(pr.first_recno, 1);
	/* a dry run changes nothing */
	assert_int_equal(
		journal_prune(p, 1795341600000000000LL + 1500LL * 1000000, JOURNAL_PRUNE_DRY_RUN, &pr), 0);
	assert_true(pr.segments >= 1);
	assert_true(seg_exists(p, 1));
	assert_int_equal(journal_prune(p, 1795341600000000000LL + 1500LL * 1000000, 0, &info), 0);
	assert_int_equal(info.segments, pr.segments);
	assert_int_equal(info.records, pr.records);
	assert_int_equal(info.first_recno, pr.records + 1);
	assert_true(info.first_recno <= 1501);
	assert_true(info.until_wall_ns < 1795341600000000000LL + 1500LL * 1000000);
	assert_false(seg_exists(p, 1));
	assert_true(seg_exists(p, info.first_segment));

	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_pruned_info(j, &pr), 0);
	assert_int_equal(pr.first_segment, info.first_segment);
	assert_int_equal(pr.first_recno, info.first_recno);
	assert_int_equal(pr.segments, info.segments);
	assert_int_equal(journal_stats(j, &st), 0);
	assert_int_equal(st.first_recno, info.first_recno);
	assert_int_equal(st.last_recno, 3000);
	assert_int_equal(st.records, 3000 - info.first_recno + 1);
	assert_int_equal(journal_verify(j, &v), 0);
	assert_int_equal(v.records, st.records);
	assert_int_equal(journal_reader_open(j, &r), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	check_record(&rec, 31, info.first_recno, 300);
	/* seeks before the start land on it */
	assert_int_equal(journal_reader_seek_recno(r, 1), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, info.first_recno);
	assert_int_equal(journal_reader_seek_time(r, 0), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, info.first_recno);
	assert_int_equal(journal_reader_seek_recno(r, 2500), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	check_record(&rec, 31, 2500, 300);
	assert_int_equal(journal_reader_seek_cursor(r, "ch1", 3, "0", 1), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_true(rec.recno >= info.first_recno && rec.recno < info.first_recno + 3);
	journal_reader_close(r);
	journal_close(j);
	/* a writer reopens it and goes on numbering */
	assert_int_equal(journal_open(p, JOURNAL_APPEND, &o, &j, NULL), 0);
	write_records(j, 31, 3001, 3010, 300);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_verify(j, &v), 0);
	assert_int_equal(v.records, 3010 - info.first_recno + 1);
	journal_close(j);
}

/* A reader inside segment 1 while a writer's handle prunes it reads on from the first
 * segment kept; a segment removed in the middle is a gap. */
static void
test_journal__prune_under_reader(void **state)
{
	char p[300], q[4200];
	struct journal *w, *j;
	struct journal_pruned pr;
	struct journal_reader *r;
	struct journal_record rec;
	struct journal_options o = small;
	uint64_t n = 1, prev;
	int rc;
	o.segment_bytes = 64 * 1024;
	o.block_bytes = 4096;

	mkpath(p, sizeof(p), "prune_reader");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &w, NULL), 0);
	write_records(w, 32, 1, 2000, 300);
	assert_int_equal(journal_flush(w), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(journal_reader_open(j, &r), 0);
	assert_int_equal(journal_reader_next(r, &rec), 0);
	assert_int_equal(rec.recno, 1);
	assert_int_equal(journal_prune_writer(w, 1795341600000000000LL + 1200LL * 1000000, 0, &pr), 0);
	assert_true(pr.segments >= 2);
	assert_false(seg_exists(p, 2));
	struct journal_stats ws;
	assert_int_equal(journal_stats(w, &ws), 0);
	assert_int_equal(ws.first_recno, pr.first_recno);
	assert_int_equal(ws.records, 2000 - pr.first_recno + 1);
	prev = 1;
	while ((rc = journal_reader_next(r, &rec)) == 0) {
		if (rec.recno != prev + 1) {
			assert_int_equal(rec.recno, pr.first_recno); /* the one jump: to the first kept */
			assert_true(n > 1);
		}
		check_record(&rec, 32, rec.recno, 300);
		prev = rec.recno;
		n++;
	}
	assert_int_equal(rc, JOURNAL_EOF);
	assert_int_equal(prev, 2000);
	journal_reader_close(r);
	journal_close(j);
	/* the writer goes on after its prune */
	write_records(w, 32, 2001, 2100, 300);
	assert_int_equal(journal_close(w), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	struct journal_stats st;
	assert_int_equal(journal_stats(j, &st), 0);
	assert_int_equal(st.first_recno, pr.first_recno);
	assert_int_equal(st.records, 2100 - pr.first_recno + 1);
	journal_close(j);
	/* a hole after the marker's segment: the journal does not open */
	seg_path(q, sizeof(q), p, pr.first_segment + 1);
	assert_int_equal(unlink(q), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), JOURNAL_EGAP);
}

/* --segment-age: an idle writer seals an aged segment by starting the next one. */
static void
test_journal__segment_age_idle(void **state)
{
	char p[300];
	struct journal *j;
	struct journal_options o = small;
	o.segment_age_ms = 100;
	o.flush_ms = 5;

	mkpath(p, sizeof(p), "segage");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
	write_records(j, 33, 1, 5, 100);
	assert_int_equal(journal_flush(j), 0);
	assert_true(seg_exists(p, 1));
	for (int i = 0; i < 1000 && !seg_exists(p, 2); i++)
		usleep(10000);
	assert_true(seg_exists(p, 2));
	write_records(j, 33, 6, 8, 100);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(count_path(p), 8);
}

/* A segment's creation time, from its header (bytes 24..31). */
static int64_t
seg_created_ns(const char *dir, uint32_t n)
{
	char q[4200];
	uint8_t h[64];
	int64_t v = 0;
	FILE *f;

	seg_path(q, sizeof(q), dir, n);
	assert_non_null(f = fopen(q, "rb"));
	assert_int_equal(fread(h, 1, sizeof(h), f), sizeof(h));
	fclose(f);
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | h[24 + i];
	return v;
}

/* --segment-age follows the clock: a segment is sealed at the first multiple of the age
 * (since the epoch) after its creation, not an age after it. */
static void
test_journal__segment_age_on_the_clock(void **state)
{
	char p[300];
	struct journal *j;
	struct journal_options o = small;
	const int64_t age = 1000000000;
	o.segment_age_ms = 1000;
	o.flush_ms = 5;

	mkpath(p, sizeof(p), "segclock");
	assert_int_equal(journal_open(p, JOURNAL_CREATE, &o, &j, NULL), 0);
	write_records(j, 33, 1, 5, 100);
	assert_int_equal(journal_flush(j), 0);
	for (int i = 0; i < 3000 && !seg_exists(p, 2); i++)
		usleep(10000);
	assert_true(seg_exists(p, 2));
	int64_t c1 = seg_created_ns(p, 1), c2 = seg_created_ns(p, 2);
	int64_t due = (c1 / age + 1) * age;
	/* started at the boundary, not before it, and not a whole age after it */
	assert_true(c2 >= due);
	assert_true(c2 < due + age);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(count_path(p), 5);
}

int
main(void)
{
	snprintf(tmproot, sizeof(tmproot), "%s/wstape-journal-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmproot))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal__roundtrip_random_binary),
		cmocka_unit_test(test_journal__large_payload),
		cmocka_unit_test(test_journal__seeks),
		cmocka_unit_test(test_journal__seek_mixed_cursors),
		cmocka_unit_test(test_journal__reopen_and_append),
		cmocka_unit_test(test_journal__cursor_order),
		cmocka_unit_test(test_journal__torn_tail_every_offset),
		cmocka_unit_test(test_journal__zero_data_tail),
		cmocka_unit_test(test_journal__zero_header_tail_every_sector_offset),
		cmocka_unit_test(test_journal__flipped_bit_detected),
		cmocka_unit_test(test_journal__damaged_index_rebuilt),
		cmocka_unit_test(test_journal__stats_past_the_index),
		cmocka_unit_test(test_journal__two_writers),
		cmocka_unit_test(test_journal__reader_while_writing),
		cmocka_unit_test(test_journal__reader_across_segments),
		cmocka_unit_test(test_journal__kill9_writer),
		cmocka_unit_test(test_journal__kill9_while_creating),
		cmocka_unit_test(test_journal__index_never_written),
		cmocka_unit_test(test_journal__write_failure_keeps_journal_valid),
		cmocka_unit_test(test_journal__discard_created),
		cmocka_unit_test(test_journal__bad_paths_and_versions),
		cmocka_unit_test(test_journal__bounded_raw_len),
		cmocka_unit_test(test_journal__index_check_child_crash),
		cmocka_unit_test(test_journal__marks),
		cmocka_unit_test(test_journal__prune_api),
		cmocka_unit_test(test_journal__prune_under_reader),
		cmocka_unit_test(test_journal__segment_age_idle),
		cmocka_unit_test(test_journal__segment_age_on_the_clock),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (!failed) {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);
		if (system(cmd) != 0)
			return 1;
	}
	return failed;
}
