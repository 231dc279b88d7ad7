/* index.c - fuzz the LMDB index as the readers see it: the input is index/data.mdb of a
 * journal whose one segment is valid (made once, at the first input); a reader opens the
 * journal, asks for its summary, connections and channels, seeks by record number, time
 * and cursor, reads, and verifies, as `info`, `cat --from...`, `replay` and `verify` do
 *
 * The records are the ones fuzz/make-corpus.sh imports for the seeds (same formula, same
 * block size), so a seed is the index of exactly this segment. */
#include <stdint.h>

#include "feeds/feed.h"
#include "fuzz/fuzz.h"
#include "journal/journal.h"

static volatile uint64_t fuzz_sink;
static uint8_t *seg;
static size_t seg_len;

/* Record i (from 0) of the journal the index belongs to. make-corpus.sh writes the same. */
#define FUZZ_INDEX_RECORDS 48

static void
make_segment(void)
{
	char dir[FUZZ_PATH], path[FUZZ_PATH];
	struct journal *j;
	struct journal_options opt = { .fsync = JOURNAL_FSYNC_NEVER,
				       .block_bytes = 4096,
				       .flush_ms = 24u * 3600 * 1000 };
	char ch[16], cur[32], payload[256];

	fuzz_dir("template", dir, sizeof(dir));
	if (journal_open(dir, JOURNAL_CREATE, &opt, &j, NULL) != 0)
		abort();
	for (int i = 0; i < FUZZ_INDEX_RECORDS; i++) {
		int chn = snprintf(ch, sizeof(ch), "ch%d", i % 3);
		int curn =
			snprintf(cur, sizeof(cur), "%d:%lld:%d", 1000 + i, 1700000000000LL + 10 * i, i % 4);
		int pn = snprintf(payload, sizeof(payload), "{\"type\":\"data\",\"n\":%d,\"pad\":\"%0*d\"}",
				  i, 100 + i % 7, 0);
		struct journal_record r = {
			.wall_ns = 1700000000000000000LL + 10000000LL * i,
			.mono_ns = 5000000000LL + 10000000LL * i,
			.conn = 1 + (uint32_t)(i / 16),
			.dir = JOURNAL_IN,
			.kind = JOURNAL_TEXT,
			.channel = ch,
			.channel_len = (uint16_t)chn,
			.cursor = (const uint8_t *)cur,
			.cursor_len = (uint16_t)curn,
			.payload = (const uint8_t *)payload,
			.payload_len = (size_t)pn,
		};
		if (journal_append(j, &r) != 0)
			abort();
	}
	if (journal_close(j) != 0)
		abort();
	fuzz_path(path, sizeof(path), "%s/seg-0000000001.wst", dir);
	seg_len = fuzz_read(path, &seg);
}

static int
on_conn(const struct journal_conn_info *c, void *ud)
{
	*(uint64_t *)ud += c->records;
	return 0;
}

static int
on_channel(const struct journal_channel_info *c, void *ud)
{
	*(uint64_t *)ud ^= feed_hash(c->name, c->name_len) ^ feed_hash(c->first_cursor, c->first_cursor_len) ^
		feed_hash(c->last_cursor, c->last_cursor_len);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[FUZZ_PATH], idx[FUZZ_PATH];
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	struct journal_stats st;
	struct journal_verify v;
	uint64_t h = 0, last = 0;

	if (!seg)
		make_segment();
	fuzz_dir("j", dir, sizeof(dir));
	fuzz_write_meta(dir, "hydromancer");
	fuzz_write(dir, "seg-0000000001.wst", seg, seg_len);
	fuzz_path(idx, sizeof(idx), "%s/index", dir);
	if (mkdir(idx, 0755) != 0)
		abort();
	fuzz_write(idx, "data.mdb", data, size);

	if (journal_open(dir, JOURNAL_RDONLY, NULL, &j, NULL) != 0)
		return 0;
	journal_stats(j, &st);
	journal_conn_foreach(j, on_conn, &h);
	journal_channel_foreach(j, on_channel, &h);
	if (journal_reader_open(j, &r) == 0) {
		static const char *const curs[] = { "1010:1700000000100:2", "0", "99999999:1:1", "x" };
		if (journal_reader_seek_recno(r, 1 + size % FUZZ_INDEX_RECORDS) == 0 &&
		    journal_reader_next(r, &rec) == 0)
			h ^= feed_hash(rec.payload, rec.payload_len);
		if (journal_reader_seek_time(r, 1700000000000000000LL + 10000000LL * (int64_t)(size % 64)) ==
			    0 &&
		    journal_reader_next(r, &rec) == 0)
			h ^= feed_hash(rec.payload, rec.payload_len);
		for (int c = 0; c < 3; c++) {
			char ch[8];
			int n = snprintf(ch, sizeof(ch), "ch%d", c);
			const char *cur = curs[(size + (size_t)c) % 4];
			if (journal_reader_seek_cursor(r, ch, (size_t)n, cur, strlen(cur)) == 0 &&
			    journal_reader_next(r, &rec) == 0)
				h ^= feed_hash(rec.cursor, rec.cursor_len);
		}
		/* whatever the index says, the records read are the segment's */
		if (journal_reader_seek_recno(r, 1) == 0) {
			while (journal_reader_next(r, &rec) == 0) {
				FUZZ_CHECK(last == 0 || rec.recno == last + 1);
				FUZZ_CHECK(rec.recno >= 1 && rec.recno <= FUZZ_INDEX_RECORDS);
				last = rec.recno;
				h ^= feed_hash(rec.payload, rec.payload_len);
			}
		}
		journal_reader_close(r);
	}
	journal_verify(j, &v);
	journal_close(j);
	fuzz_sink = h;
	return 0;
}
