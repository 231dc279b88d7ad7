/* inspect_gen.c - writes a hydromancer journal for the inspect benchmark: allFills live
 * messages of ~1 KB (three fills each, two of them sharing one transaction), with a seq gap
 * every 100,000 messages and a reconnect with a replay (and a replay/live overlap) every
 * 250,000, until BYTES of payload are written.
 * usage: inspect_gen JOURNAL BYTES
 * prints: records=N raw_bytes=N seconds=S */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal/journal.h"
#include "util/text.h"

static int
fill(char *p, size_t n, uint64_t user, int64_t t, int tx, uint64_t tid)
{
	return snprintf(p, n,
			"[\"0x%040" PRIx64 "\",{\"coin\":\"ETH\",\"px\":\"%" PRIu64 ".%02" PRIu64
			"\",\"sz\":\"0.%04" PRIu64 "\",\"side\":\"%c\",\"time\":%" PRId64
			",\"startPosition\":\"12.5\",\"dir\":\"Open Long\","
			"\"closedPnl\":\"0.0\",\"hash\":\"0x%064" PRIx64 "\",\"oid\":%" PRIu64
			",\"crossed\":true,"
			"\"fee\":\"0.0123\",\"tid\":%" PRIu64 ",\"feeToken\":\"USDC\",\"txIndex\":%d}]",
			user * 2654435761u, 2000 + tid % 300, tid % 100, tid % 9973, tid & 1 ? 'B' : 'A', t,
			(uint64_t)(tid * 11400714819323198485ull), (uint64_t)(90000000000ull + tid), tid, tx);
}

int
main(int argc, char **argv)
{
	struct journal_options o = { 0 };
	struct journal *j;
	struct journal_record r;
	uint64_t want, raw = 0, n = 0, tid = 1, seq = 0;
	int64_t t = 1795341600000000000LL, ms = 1795341600000LL;
	uint32_t conn;
	char buf[4096], f[3][1024];
	struct timespec a, b;
	int err;

	if (argc != 3 || text_parse_size(argv[2], &want)) {
		fprintf(stderr, "usage: inspect_gen JOURNAL BYTES\n");
		return 2;
	}
	o.fsync = JOURNAL_FSYNC_NEVER;
	o.zstd_level = 1;
	if ((err = journal_open(argv[1], JOURNAL_CREATE, &o, &j, NULL))) {
		fprintf(stderr, "inspect_gen: cannot create '%s': %s\n", argv[1], journal_strerror(err));
		return 1;
	}
	journal_meta_set(j, "feed", "hydromancer");
	clock_gettime(CLOCK_MONOTONIC, &a);
	conn = journal_next_conn(j);
	while (raw < want) {
		int len, replay = n && n % 250000 == 0;

		memset(&r, 0, sizeof(r));
		t += 700000; /* ~1,400 messages/s */
		ms += 1;
		if (replay) {
			conn = journal_next_conn(j);
			seq = 0;
			/* f[2], the last fill received live, comes again in the replay: an overlap */
			fill(f[1], sizeof(f[1]), tid, ms, 0, tid);
			tid++;
			len = snprintf(buf, sizeof(buf),
				       "{\"type\":\"replay\",\"channel\":\"allFills\","
				       "\"cursor\":\"%" PRIu64 ":%" PRId64
				       ":0\",\"count\":2,\"chunk\":1,\"totalChunks\":1,"
				       "\"data\":[%s,%s]}",
				       n, ms, f[2], f[1]);
		} else {
			seq += n && n % 100000 == 0 ? 2 : 1; /* a seq gap now and then */
			fill(f[0], sizeof(f[0]), tid, ms, 0, tid);
			fill(f[1], sizeof(f[1]), tid + 1, ms, 0, tid + 1); /* same transaction */
			fill(f[2], sizeof(f[2]), tid + 2, ms, 1, tid + 2);
			tid += 3;
			len = snprintf(buf, sizeof(buf),
				       "{\"type\":\"allFills\",\"seq\":%" PRIu64 ","
				       "\"cursor\":\"%" PRIu64 ":%" PRId64 ":1\",\"fills\":[%s,%s,%s]}",
				       seq, n, ms, f[0], f[1], f[2]);
		}
		r.wall_ns = t;
		r.mono_ns = t - 1795341600000000000LL;
		r.conn = conn;
		r.dir = JOURNAL_IN;
		r.kind = JOURNAL_TEXT;
		r.channel = "allFills";
		r.channel_len = 8;
		r.payload = (const uint8_t *)buf;
		r.payload_len = (size_t)len;
		if ((err = journal_append(j, &r))) {
			fprintf(stderr, "inspect_gen: append: %s\n", journal_strerror(err));
			journal_close(j);
			return 1;
		}
		raw += (uint64_t)len;
		n++;
	}
	if ((err = journal_close(j))) {
		fprintf(stderr, "inspect_gen: close: %s\n", journal_strerror(err));
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("records=%" PRIu64 " raw_bytes=%" PRIu64 " seconds=%.2f\n", n, raw,
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9);
	return 0;
}
