/* import.c - fuzz `wstape import`'s JSON-lines parser: the input's first byte chooses
 * --feed (none, raw, hydromancer, lasersell), the rest is the file; each line is parsed as
 * import parses it (import_line_parse), the lines up to the first bad one are written to
 * a journal, and the journal is read back
 *
 * Check: what is read back is exactly what was parsed (cat | import | cat is lossless). */
#include "cmd/cmd.h"
#include "fuzz/fuzz.h"
#include "journal/journal.h"

#define MAX_LINES 64

struct kept {
	struct journal_record r;
	uint8_t *buf; /* channel, cursor, payload back to back */
};

static void
keep(struct kept *k, const struct journal_record *r)
{
	k->r = *r;
	k->buf = malloc((size_t)r->channel_len + r->cursor_len + r->payload_len + 1);
	FUZZ_CHECK(k->buf != NULL);
	if (r->channel_len)
		memcpy(k->buf, r->channel, r->channel_len);
	if (r->cursor_len)
		memcpy(k->buf + r->channel_len, r->cursor, r->cursor_len);
	if (r->payload_len)
		memcpy(k->buf + r->channel_len + r->cursor_len, r->payload, r->payload_len);
}

static int
same(const struct kept *k, const struct journal_record *r)
{
	const struct journal_record *a = &k->r;
	return a->wall_ns == r->wall_ns && a->mono_ns == r->mono_ns && a->conn == r->conn &&
		a->dir == r->dir && a->kind == r->kind && a->channel_len == r->channel_len &&
		a->cursor_len == r->cursor_len && a->payload_len == r->payload_len &&
		!memcmp(k->buf, r->channel, r->channel_len) &&
		!memcmp(k->buf + r->channel_len, r->cursor, r->cursor_len) &&
		!memcmp(k->buf + r->channel_len + r->cursor_len, r->payload, r->payload_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct feed *feeds[] = { &feed_raw, &feed_raw, feed_find("hydromancer"),
				       feed_find("lasersell") };
	struct import_line st = { 0 };
	struct kept kept[MAX_LINES];
	struct journal_record rec;
	char err[256], dir[FUZZ_PATH];
	int nkept = 0, bad = 0, nlines = 0;

	if (size < 1)
		return 0;
	int mode = data[0] & 3;
	/* the lines as getline gives them, each in a buffer of its own size (ASan sees overreads) */
	const uint8_t *p = data + 1, *end = data + size;
	while (p < end && nlines < MAX_LINES) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = malloc(len ? len : 1);
		memcpy(line, p, len);
		p += len + (nl != NULL);
		nlines++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0) {
			free(line);
			continue;
		}
		err[0] = 0;
		if (import_line_parse(&st, line, len, mode != 0, feeds[mode], &rec, err, sizeof(err)) != 0) {
			FUZZ_CHECK(err[0] != 0);
			bad = 1;
		} else {
			FUZZ_CHECK(rec.kind <= JOURNAL_KIND_MAX && rec.dir <= JOURNAL_OUT);
			FUZZ_CHECK(rec.channel_len <= JOURNAL_MAX_CHANNEL &&
				   rec.cursor_len <= JOURNAL_MAX_CURSOR);
			if (!bad)
				keep(&kept[nkept++], &rec);
		}
		free(line);
	}
	import_line_free(&st);
	if (!nkept)
		return 0;

	struct journal *j;
	struct journal_options opt = { .fsync = JOURNAL_FSYNC_NEVER,
				       .threads = 1,
				       .flush_ms = 24u * 3600 * 1000 };
	fuzz_dir("j", dir, sizeof(dir));
	FUZZ_CHECK(journal_open(dir, JOURNAL_CREATE, &opt, &j, NULL) == 0);
	for (int i = 0; i < nkept; i++) {
		struct journal_record r = kept[i].r;
		r.channel = (const char *)kept[i].buf;
		r.cursor = kept[i].buf + r.channel_len;
		r.payload = kept[i].buf + r.channel_len + r.cursor_len;
		FUZZ_CHECK(journal_append(j, &r) == 0);
	}
	FUZZ_CHECK(journal_close(j) == 0);

	struct journal_reader *rd;
	FUZZ_CHECK(journal_open(dir, JOURNAL_RDONLY, NULL, &j, NULL) == 0);
	FUZZ_CHECK(journal_reader_open(j, &rd) == 0);
	for (int i = 0; i < nkept; i++) {
		FUZZ_CHECK(journal_reader_next(rd, &rec) == 0);
		FUZZ_CHECK(rec.recno == (uint64_t)i + 1);
		FUZZ_CHECK(same(&kept[i], &rec));
	}
	FUZZ_CHECK(journal_reader_next(rd, &rec) == JOURNAL_EOF);
	journal_reader_close(rd);
	journal_close(j);
	for (int i = 0; i < nkept; i++)
		free(kept[i].buf);
	return 0;
}
