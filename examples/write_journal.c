/* write_journal.c - an example of libwstape: create a journal and append records to it.
 *
 *     cc write_journal.c $(pkg-config --cflags --libs wstape) -o write_journal
 *     ./write_journal JOURNAL [N]
 *
 * Creates JOURNAL (which must not hold a journal yet) and appends N text records (default
 * 1000), {"n":I} on channel "demo" with cursor I, then closes it: `wstape cat JOURNAL`
 * prints them, `wstape verify JOURNAL` checks them. Exit status: 0; 2 bad usage; 3 the
 * journal cannot be created or written (a journal this run created is removed again). */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <wstape/journal.h>

static int64_t
now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
report(struct journal *j, const char *what, const char *path, int err)
{
	const char *detail = journal_last_detail(j);

	fprintf(stderr, "write_journal: %s '%s': %s%s%s%s\n", what, path, journal_strerror(err),
		*detail ? " (" : "", detail, *detail ? ")" : "");
}

int
main(int argc, char **argv)
{
	struct journal *j = NULL;
	unsigned long n = 1000;
	char *end, payload[64], cursor[32];
	int err;

	if (argc < 2 || argc > 3 || argv[1][0] == '-' ||
	    (argc == 3 && ((n = strtoul(argv[2], &end, 10)) == 0 || *end))) {
		fprintf(stderr, "usage: write_journal JOURNAL [N] (N records, N >= 1; default 1000)\n");
		return 2;
	}
	if ((err = journal_open(argv[1], JOURNAL_CREATE, NULL, &j, NULL)) != 0) {
		report(NULL, "cannot create journal", argv[1], err);
		return 3;
	}
	uint32_t conn = journal_next_conn(j);
	for (unsigned long i = 1; i <= n; i++) {
		struct journal_record rec;

		memset(&rec, 0, sizeof(rec));
		rec.wall_ns = now_ns(CLOCK_REALTIME);
		rec.mono_ns = now_ns(CLOCK_MONOTONIC);
		rec.conn = conn;
		rec.dir = JOURNAL_IN;
		rec.kind = JOURNAL_TEXT;
		rec.channel = "demo";
		rec.channel_len = 4;
		rec.cursor = (const uint8_t *)cursor;
		rec.cursor_len = (uint16_t)snprintf(cursor, sizeof(cursor), "%lu", i);
		rec.payload = (const uint8_t *)payload;
		rec.payload_len = (size_t)snprintf(payload, sizeof(payload), "{\"n\":%lu}", i);
		if ((err = journal_append(j, &rec)) != 0) {
			report(j, "cannot append to journal", argv[1], err);
			journal_discard(j);
			return 3;
		}
	}
	if ((err = journal_close(j)) != 0) {
		/* j is gone: what was sealed before the error stays on disk */
		fprintf(stderr, "write_journal: cannot write journal '%s': %s\n", argv[1],
			journal_strerror(err));
		return 3;
	}
	printf("wrote %lu records to %s\n", n, argv[1]);
	return 0;
}
