/* journal_bench.c - journal append, scan and seek figures on Hydromancer-like allFills records
 *
 * usage: journal_bench DIR RECORDS [ZSTD_LEVEL]
 * Writes DIR/j (the journal) and DIR/records.jsonl (the same payloads, one per line, for
 * the zstd -3 / gzip -6 comparison made by bench/20_journal.sh), then prints key=value
 * lines: append rate and CPU, scan rate, seek latencies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "journal/journal.h"

static uint64_t rs = 0x9E3779B97F4A7C15ULL;
static uint64_t
rnd(void)
{
	rs ^= rs >> 12;
	rs ^= rs << 25;
	rs ^= rs >> 27;
	return rs * 2685821657736338717ULL;
}

static double
now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		ru.ru_stime.tv_usec / 1e6;
}

static double
thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
hex(char *out, int n)
{
	static const char h[] = "0123456789abcdef";
	for (int i = 0; i < n; i++)
		out[i] = h[rnd() & 15];
	out[n] = 0;
}

static char users[1000][43];
static const char *coins[] = { "BTC", "ETH", "SOL", "HYPE", "ARB", "DOGE", "AVAX", "LINK" };
static const char *dirs[] = { "Open Long", "Close Long", "Open Short", "Close Short" };

/* One allFills message of about 1 KB: two fills of one block. */
static int
make_msg(char *buf, size_t size, uint64_t seq, int64_t t_ms, uint64_t block, int tx, char *cursor,
	 size_t csize)
{
	char hash[65];
	int n = snprintf(buf, size,
			 "{\"type\":\"allFills\",\"seq\":%llu,\"cursor\":\"%llu:%lld:%d\",\"fills\":[",
			 (unsigned long long)seq, (unsigned long long)block, (long long)t_ms, tx + 1);
	snprintf(cursor, csize, "%llu:%lld:%d", (unsigned long long)block, (long long)t_ms, tx + 1);
	for (int f = 0; f < 2; f++) {
		hex(hash, 64);
		const char *coin = coins[rnd() % 8];
		double px = 100 + (double)(rnd() % 500000) / 100.0;
		n += snprintf(
			buf + n, size - (size_t)n,
			"%s[\"0x%s\",{\"coin\":\"%s\",\"px\":\"%.2f\",\"sz\":\"%.4f\",\"side\":\"%s\","
			"\"time\":%lld,\"startPosition\":\"%.4f\",\"dir\":\"%s\",\"closedPnl\":\"%.5f\","
			"\"hash\":\"0x%s\",\"oid\":%llu,\"crossed\":%s,\"fee\":\"%.6f\",\"tid\":%llu,"
			"\"feeToken\":\"USDC\",\"builderFee\":\"0.0\",\"txIndex\":%d}]",
			f ? "," : "", users[rnd() % 1000], coin, px, (double)(rnd() % 100000) / 1000.0,
			rnd() & 1 ? "B" : "A", (long long)t_ms, (double)(rnd() % 1000000) / 100.0,
			dirs[rnd() % 4], (double)(rnd() % 100000) / 1000.0 - 50.0, hash,
			(unsigned long long)(40000000000ULL + rnd() % 1000000000ULL),
			rnd() & 1 ? "true" : "false", (double)(rnd() % 100000) / 1e6,
			(unsigned long long)(rnd() % 1000000000000000ULL), tx);
	}
	n += snprintf(buf + n, size - (size_t)n, "]}");
	return n;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* A pool of distinct messages, made before the clock starts so that making them is not
 * timed, with each one's cursor. */
enum { POOL = 65536 };
struct pool {
	char **msg;
	size_t *len;
	char (*curs)[48];
};

static void
pool_make(struct pool *pl)
{
	char buf[4096];
	int64_t t_ms = 1795341600000LL;
	uint64_t block = 500000;
	int tx = 0;

	pl->msg = malloc(POOL * sizeof(*pl->msg));
	pl->len = malloc(POOL * sizeof(*pl->len));
	pl->curs = malloc(POOL * sizeof(*pl->curs));
	for (int i = 0; i < POOL; i++) {
		if (rnd() % 4 == 0) {
			block++;
			t_ms += 70;
			tx = 0;
		} else {
			tx += 2;
		}
		pl->len[i] = (size_t)make_msg(buf, sizeof(buf), (uint64_t)i + 1, t_ms, block, tx, pl->curs[i],
					      sizeof(pl->curs[i]));
		pl->msg[i] = malloc(pl->len[i]);
		memcpy(pl->msg[i], buf, pl->len[i]);
	}
}

/* The same payloads as JSON lines, what a user's client would write. */
static int
write_lines(const char *lpath, const struct pool *pl, uint64_t n)
{
	FILE *lf = fopen(lpath, "w");

	if (!lf) {
		perror(lpath);
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		fwrite(pl->msg[i % POOL], 1, pl->len[i % POOL], lf);
		fputc('\n', lf);
	}
	fclose(lf);
	return 0;
}

static const int64_t wall0 = 1795341600000000000LL;

/* n records into a new journal at jpath: the append and close rates. */
static int
bench_append(const char *jpath, int level, const struct pool *pl, uint64_t n)
{
	struct journal *j;
	struct journal_options o = { .fsync = JOURNAL_FSYNC_INTERVAL, .zstd_level = level };
	int rc = journal_open(jpath, JOURNAL_CREATE, &o, &j, NULL);
	if (rc) {
		fprintf(stderr, "open: %s: %s\n", journal_strerror(rc), journal_last_detail(NULL));
		return 1;
	}
	uint64_t raw = 0;
	double t0 = now(), c0 = cpu(), tc0 = thread_cpu();
	for (uint64_t i = 0; i < n; i++) {
		size_t k = i % POOL;
		struct journal_record r = {
			.wall_ns = wall0 + (int64_t)i * 2000,
			.mono_ns = (int64_t)i * 2000,
			.conn = 1,
			.kind = JOURNAL_TEXT,
			.channel = "allFills",
			.channel_len = 8,
			.cursor = (const uint8_t *)pl->curs[k],
			.cursor_len = (uint16_t)strlen(pl->curs[k]),
			.payload = (const uint8_t *)pl->msg[k],
			.payload_len = pl->len[k],
		};
		if ((rc = journal_append(j, &r)) != 0) {
			fprintf(stderr, "append: %s\n", journal_strerror(rc));
			return 1;
		}
		raw += pl->len[k];
	}
	double t_app = now() - t0, tc_app = thread_cpu() - tc0;
	rc = journal_close(j);
	double t1 = now() - t0, c1 = cpu() - c0;
	if (rc) {
		fprintf(stderr, "close: %s\n", journal_strerror(rc));
		return 1;
	}
	printf("records=%llu\nraw_bytes=%llu\n", (unsigned long long)n, (unsigned long long)raw);
	printf("append_caller_rate=%.0f\n", n / t_app);
	printf("append_caller_cpu_us=%.3f\n", tc_app * 1e6 / n);
	printf("append_durable_rate=%.0f\n", n / t1);
	printf("append_durable_mbps=%.1f\n", raw / t1 / 1e6);
	printf("append_total_cpu_us=%.3f\n", c1 * 1e6 / n);
	return 0;
}

/* Every record read in order: the scan rate. */
static void
bench_scan(struct journal_reader *rd)
{
	struct journal_record rec;
	uint64_t sum = 0, cnt = 0, x = 0;
	double t0 = now(), tc0 = thread_cpu();

	while (journal_reader_next(rd, &rec) == 0) {
		sum += rec.payload_len;
		x += rec.payload_len ? rec.payload[rec.payload_len / 2] : 0;
		cnt++;
	}
	double t_scan = now() - t0, tc_scan = thread_cpu() - tc0;
	printf("scan_records=%llu\nscan_mbps=%.1f\nscan_cpu_mbps=%.1f\n", (unsigned long long)cnt,
	       sum / t_scan / 1e6, sum / tc_scan / 1e6);
	if (x == 42)
		printf("#\n");
}

/* Seeks by time to random targets across the span of n records: their latency. */
static int
bench_seek(struct journal_reader *rd, uint64_t n)
{
	enum { SEEKS = 400 };
	double lat[SEEKS];
	struct journal_record rec;

	for (int i = 0; i < SEEKS; i++) {
		int64_t target =
			wall0 + (int64_t)(rnd() % (n > 1 ? n - 1 : 1)) * 2000 + 1; /* before the last */
		double t0 = now();
		int rc = journal_reader_seek_time(rd, target);
		if (rc == 0)
			rc = journal_reader_next(rd, &rec);
		lat[i] = (now() - t0) * 1e3;
		if (rc || rec.wall_ns < target || rec.wall_ns - target > 2000) {
			fprintf(stderr, "seek to %lld landed wrong (rc %d)\n", (long long)target, rc);
			return 1;
		}
	}
	qsort(lat, SEEKS, sizeof(*lat), cmp_d);
	printf("seek_time_ms_p50=%.3f\nseek_time_ms_p99=%.3f\nseek_time_ms_max=%.3f\n", lat[SEEKS / 2],
	       lat[SEEKS * 99 / 100], lat[SEEKS - 1]);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: journal_bench DIR RECORDS [ZSTD_LEVEL]\n");
		return 2;
	}
	char jpath[4096], lpath[4096];
	uint64_t n = strtoull(argv[2], NULL, 10);
	int level = argc > 3 ? atoi(argv[3]) : 0;
	snprintf(jpath, sizeof(jpath), "%s/j", argv[1]);
	snprintf(lpath, sizeof(lpath), "%s/records.jsonl", argv[1]);
	for (int i = 0; i < 1000; i++) {
		users[i][0] = 0;
		hex(users[i], 40);
	}
	struct pool pl;
	pool_make(&pl);
	if (write_lines(lpath, &pl, n) || bench_append(jpath, level, &pl, n))
		return 1;

	struct journal *j;
	if (journal_open(jpath, JOURNAL_RDONLY, NULL, &j, NULL) != 0)
		return 1;
	struct journal_stats st;
	journal_stats(j, &st);
	printf("segment_bytes=%llu\ndisk_bytes=%llu\n", (unsigned long long)st.segment_bytes,
	       (unsigned long long)st.disk_bytes);
	struct journal_reader *rd;
	journal_reader_open(j, &rd);
	bench_scan(rd);
	int rc = bench_seek(rd, n);
	journal_reader_close(rd);
	journal_close(j);
	return rc;
}
