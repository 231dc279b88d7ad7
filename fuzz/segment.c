/* segment.c - fuzz the segment reader: the input is the one segment file of a journal; a
 * reader reads and verifies it, then a writer opens it (recovery: checks the blocks past
 * the index, cuts a torn tail, indexes), appends one record and closes, and a reader
 * reads the result again */
#include "feeds/feed.h"
#include "fuzz/fuzz.h"
#include "journal/journal.h"

static volatile uint64_t fuzz_sink;

/* Read every record, seek, and verify, as `cat`, `info` and `verify` do. Returns the
 * verify result, or 1 when the journal did not open. */
static int
read_all(const char *dir, uint64_t *nrec)
{
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	struct journal_stats st;
	struct journal_verify v;
	uint64_t last = 0, n = 0, h = 0;
	int rc;

	*nrec = 0;
	if (journal_open(dir, JOURNAL_RDONLY, NULL, &j, NULL) != 0)
		return 1;
	journal_stats(j, &st);
	if (journal_reader_open(j, &r) == 0) {
		while ((rc = journal_reader_next(r, &rec)) == 0) {
			FUZZ_CHECK(last == 0 || rec.recno == last + 1);
			FUZZ_CHECK(rec.channel_len <= JOURNAL_MAX_CHANNEL &&
				   rec.cursor_len <= JOURNAL_MAX_CURSOR);
			FUZZ_CHECK(rec.kind <= JOURNAL_KIND_MAX && rec.dir <= JOURNAL_OUT);
			/* every byte handed out must be readable */
			h ^= feed_hash(rec.payload, rec.payload_len) ^
				feed_hash(rec.channel, rec.channel_len) ^
				feed_hash(rec.cursor, rec.cursor_len);
			last = rec.recno;
			n++;
		}
		if (journal_reader_seek_recno(r, 2) == 0)
			journal_reader_next(r, &rec);
		if (journal_reader_seek_time(r, st.last_wall_ns) == 0)
			journal_reader_next(r, &rec);
		journal_reader_close(r);
	}
	rc = journal_verify(j, &v);
	journal_close(j);
	fuzz_sink = h;
	*nrec = n;
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char dir[FUZZ_PATH];
	struct journal *j;
	struct journal_recovery rec;
	struct journal_options opt = { .fsync = JOURNAL_FSYNC_NEVER, .threads = 1 };
	uint64_t n;

	fuzz_dir("j", dir, sizeof(dir));
	fuzz_write_meta(dir, "raw");
	fuzz_write(dir, "seg-0000000001.wst", data, size);
	read_all(dir, &n);

	if (journal_open(dir, JOURNAL_APPEND, &opt, &j, &rec) == 0) {
		struct journal_record r = { .wall_ns = 1,
					    .mono_ns = 1,
					    .kind = JOURNAL_TEXT,
					    .payload = (const uint8_t *)"{}",
					    .payload_len = 2 };
		journal_append(j, &r);
		journal_close(j);
		read_all(dir, &n);
	}
	return 0;
}
