/* test_replay.c - pacing, the lateness histogram, replay chunks, the server messages of the
 * feeds and the seeded fault generator */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed.h"
#include "feeds/feed_server.h"
#include "replay/fault.h"
#include "replay/pace.h"
#include "util/text.h"

#define T0 1795341600000000000LL

static void
test_replay__pace_due_at_speeds(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 1.0, T0, 1000);
	assert_int_equal(pace_due(&p, T0), 1000);
	assert_int_equal(pace_due(&p, T0 + 5000000), 1000 + 5000000);
	pace_init(&p, 10.0, T0, 1000);
	assert_int_equal(pace_due(&p, T0 + 5000000), 1000 + 500000);
	pace_init(&p, 0.5, T0, 1000);
	assert_int_equal(pace_due(&p, T0 + 5000000), 1000 + 10000000);
	/* frames recorded before t0 are due at the start, never before it */
	assert_int_equal(pace_due(&p, T0 - 1000000), 1000);
	/* max speed: everything is due, the whole recording is at the edge */
	pace_init(&p, 0, T0, 1000);
	assert_true(pace_due(&p, T0 + 1) == INT64_MIN);
	assert_true(pace_edge(&p, 12345) == INT64_MAX);
}

static void
test_replay__pace_no_drift(void **state)
{
	struct pace p;

	(void)state;
	/* a day of frames 1 ms apart at 100x: each due time comes from t0, so the last is
	 * exactly where it belongs (no sum of rounded steps) */
	pace_init(&p, 100.0, T0, 7);
	int64_t last = 0;
	for (int64_t i = 0; i <= 86400000; i += 997) {
		int64_t due = pace_due(&p, T0 + i * 1000000);
		assert_true(due >= last);
		last = due;
	}
	assert_int_equal(pace_due(&p, T0 + 86400000LL * 1000000), 7 + 864000000000LL);
	/* speed 3: at most a nanosecond of rounding, wherever the frame is */
	pace_init(&p, 3.0, T0, 0x1000);
	int64_t d = pace_due(&p, T0 + 3000000000000LL) - (0x1000 + 1000000000000LL);
	assert_true(d >= -1 && d <= 1);
}

static void
test_replay__pace_edge_inverts_due(void **state)
{
	struct pace p;

	(void)state;
	pace_init(&p, 4.0, T0, 1000000);
	for (int64_t w = T0; w < T0 + 10000000000LL; w += 123456789) {
		int64_t due = pace_due(&p, w), edge = pace_edge(&p, due);
		assert_true(edge - w >= -4 && edge - w <= 4);
	}
	/* before the start, the edge is before t0: nothing is due yet */
	assert_true(pace_edge(&p, 0) < T0);
	/* pace_init with no start takes the monotonic clock now */
	int64_t before = pace_now();
	pace_init(&p, 1.0, T0, 0);
	assert_true(p.start_mono >= before && p.start_mono <= pace_now());
}

static void
test_replay__pace_loop_wraps_the_edge(void **state)
{
	struct pace p;

	(void)state;
	/* a 1 s recording at 2x: a pass lasts 0.5 s plus the gap */
	pace_init(&p, 2.0, T0, 1000);
	int64_t period = pace_loop_period(&p, 1000000000);
	assert_int_equal(period, 500000000 + PACE_LOOP_GAP_NS);
	/* 2.3 passes in: the edge is 0.3 of a pass into the recording, not past its end */
	int64_t mono = 1000 + 2 * period + 150000000;
	pace_loop_align(&p, period, mono);
	assert_int_equal(p.start_mono, 1000 + 2 * period);
	assert_int_equal(pace_edge(&p, mono), T0 + 300000000);
	/* within the first pass, or before the start, nothing moves */
	pace_init(&p, 2.0, T0, 1000);
	pace_loop_align(&p, period, 1000 + period - 1);
	assert_int_equal(p.start_mono, 1000);
	pace_loop_align(&p, period, 0);
	assert_int_equal(p.start_mono, 1000);
	/* max speed has no passes in time */
	pace_init(&p, 0, T0, 1000);
	assert_int_equal(pace_loop_period(&p, 1000000000), 0);
	pace_loop_align(&p, 0, 1 << 30);
	assert_int_equal(p.start_mono, 1000);
}

static void
test_replay__hist_quantiles(void **state)
{
	struct hist *h = calloc(1, sizeof(*h));

	(void)state;
	assert_non_null(h);
	assert_int_equal(hist_quantile(h, 0.5), 0);
	for (uint64_t v = 1; v <= 100000; v++)
		hist_add(h, v * 1000); /* 1 us .. 100 ms */
	assert_int_equal(h->count, 100000);
	assert_int_equal(h->max, 100000000);
	uint64_t p50 = hist_quantile(h, 0.5), p99 = hist_quantile(h, 0.99);
	/* 16 buckets per power of two, the middle of the bucket: within 1/32 of the true value */
	assert_true(p50 >= 50000000 - 50000000 / 32 && p50 <= 50000000 + 50000000 / 32);
	assert_true(p99 >= 99000000 - 99000000 / 32 && p99 <= 99000000 + 99000000 / 32);
	assert_int_equal(hist_quantile(h, 1.0), 100000000);
	/* small values are exact; huge ones land in the last bucket and report the max */
	memset(h, 0, sizeof(*h));
	for (int i = 0; i < 10; i++)
		hist_add(h, 3);
	hist_add(h, UINT64_MAX / 2);
	assert_int_equal(hist_quantile(h, 0.5), 3);
	assert_true(hist_quantile(h, 1.0) == UINT64_MAX / 2);
	free(h);
}

/* ---- replay chunks ---- */

struct got {
	int n;
	char *msgs[64];
};

/* Keep a copy of a message (NUL-terminated). */
static int
keep_bytes(const uint8_t *p, size_t n, void *ud)
{
	struct got *g = ud;
	assert_true(g->n < 64);
	g->msgs[g->n] = malloc(n + 1);
	memcpy(g->msgs[g->n], p, n);
	g->msgs[g->n][n] = 0;
	g->n++;
	return 0;
}

static int
keep(const struct text_buf *msg, const char *cursor, size_t curlen, void *ud)
{
	(void)cursor;
	(void)curlen;
	return keep_bytes((const uint8_t *)msg->p, msg->len, ud);
}

static void
got_free(struct got *g)
{
	for (int i = 0; i < g->n; i++)
		free(g->msgs[i]);
	g->n = 0;
}

/* The chunk as the hydromancer classifier reads it, and its events. */
static int
count_ev(const struct feed_event *ev, void *ud)
{
	(void)ev;
	(*(int *)ud)++;
	return 0;
}

static void
check_chunk(const char *msg, int chunk, int total, int count, const char *cursor, int gap)
{
	struct feed_msg m;
	char want[128];
	int n = 0;

	assert_int_equal(feed_classify(feed_find("hydromancer"), (const uint8_t *)msg, strlen(msg), &m), 0);
	assert_int_equal(m.cls, FEED_MSG_REPLAY);
	assert_int_equal(m.cursor.len, strlen(cursor));
	assert_memory_equal(m.cursor.p, cursor, m.cursor.len);
	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, count_ev, &n), 0);
	assert_int_equal(n, count);
	snprintf(want, sizeof(want), "\"count\":%d,\"chunk\":%d,\"totalChunks\":%d", count, chunk, total);
	assert_non_null(strstr(msg, want));
	assert_int_equal(strstr(msg, "\"hasGap\":true") != NULL, gap);
	assert_non_null(strstr(msg, "\"channel\":\"allFills\""));
}

static void
test_replay__chunks_by_count(void **state)
{
	struct hm_chunker k;
	struct got g = { 0 };
	char ev[64], cur[32];

	(void)state;
	hm_chunker_init(&k, "100:0:0", 7);
	/* 1500 messages of 3 events: 4500 events, chunks of 2000, 2000, 500 */
	for (int i = 1; i <= 1500; i++) {
		for (int e = 0; e < 3; e++) {
			int n = snprintf(ev, sizeof(ev), "{\"time\":%d,\"tid\":%d}", i, e);
			hm_chunker_add(&k, ev, (size_t)n);
		}
		int n = snprintf(cur, sizeof(cur), "%d:0:0", 100 + i);
		hm_chunker_cursor(&k, cur, (size_t)n);
	}
	assert_int_equal(hm_chunker_finish(&k, "allFills", 8, 1, keep, &g), 0);
	assert_int_equal(g.n, 3);
	/* the first chunk ends inside message 667 (events 1999..2001): its cursor is that of
	 * 666, the last message it holds whole, so a resume from it loses nothing */
	check_chunk(g.msgs[0], 1, 3, 2000, "766:0:0", 1);
	check_chunk(g.msgs[1], 2, 3, 2000, "1433:0:0", 0);
	check_chunk(g.msgs[2], 3, 3, 500, "1600:0:0", 0);
	got_free(&g);
	hm_chunker_free(&k);
}

static void
test_replay__chunks_by_bytes(void **state)
{
	struct hm_chunker k;
	struct got g = { 0 };
	size_t big = 300 * 1024;
	char *ev = malloc(big + 1);

	(void)state;
	/* events of 300 KB: three fit in 1 MB, the fourth opens a new chunk */
	memset(ev, 'x', big);
	memcpy(ev, "{\"d\":\"", 6);
	memcpy(ev + big - 2, "\"}", 2);
	hm_chunker_init(&k, NULL, 0);
	for (int i = 0; i < 7; i++) {
		hm_chunker_add(&k, ev, big);
		hm_chunker_cursor(&k, i < 4 ? "5:0:0" : "9:0:0", 5);
	}
	assert_int_equal(hm_chunker_finish(&k, "allFills", 8, 0, keep, &g), 0);
	assert_int_equal(g.n, 3);
	check_chunk(g.msgs[0], 1, 3, 3, "5:0:0", 0);
	check_chunk(g.msgs[1], 2, 3, 3, "9:0:0", 0);
	check_chunk(g.msgs[2], 3, 3, 1, "9:0:0", 0);
	for (int i = 0; i < 3; i++)
		assert_true(strlen(g.msgs[i]) < HM_CHUNK_MAX_BYTES + 512);
	got_free(&g);
	hm_chunker_free(&k);
	/* one event larger than the limit goes alone */
	char *huge = malloc(HM_CHUNK_MAX_BYTES + 100);
	memset(huge, '1', HM_CHUNK_MAX_BYTES + 100);
	hm_chunker_init(&k, "1:0:0", 5);
	hm_chunker_add(&k, "2", 1);
	hm_chunker_add(&k, huge, HM_CHUNK_MAX_BYTES + 100);
	hm_chunker_add(&k, "3", 1);
	assert_int_equal(hm_chunker_finish(&k, "allFills", 8, 0, keep, &g), 0);
	assert_int_equal(g.n, 3);
	check_chunk(g.msgs[1], 2, 3, 1, "1:0:0", 0);
	got_free(&g);
	hm_chunker_free(&k);
	free(huge);
	free(ev);
}

static void
test_replay__chunks_empty(void **state)
{
	struct hm_chunker k;
	struct got g = { 0 };

	(void)state;
	/* nothing after the client's cursor: one empty chunk with that cursor, and the gap */
	hm_chunker_init(&k, "42:1:2", 6);
	assert_int_equal(hm_chunker_finish(&k, "allFills", 8, 1, keep, &g), 0);
	assert_int_equal(g.n, 1);
	check_chunk(g.msgs[0], 1, 1, 0, "42:1:2", 1);
	got_free(&g);
	hm_chunker_free(&k);
}

/* ---- server messages ---- */

static void
test_replay__hydromancer_seq_rewrite(void **state)
{
	struct text_buf b = { 0 };
	const char *with = "{\"type\":\"allFills\",\"seq\":987654,\"cursor\":\"1:2:3\",\"data\":[]}";
	const char *without = "{\"type\":\"allFills\",\"cursor\":\"1:2:3\",\"data\":[]}";

	(void)state;
	assert_int_equal(hm_msg_with_seq(&b, (const uint8_t *)with, strlen(with), 1), 0);
	assert_int_equal(b.len, strlen("{\"type\":\"allFills\",\"seq\":1,\"cursor\":\"1:2:3\",\"data\":[]}"));
	assert_memory_equal(b.p, "{\"type\":\"allFills\",\"seq\":1,\"cursor\":\"1:2:3\",\"data\":[]}", b.len);
	b.len = 0;
	assert_int_equal(hm_msg_with_seq(&b, (const uint8_t *)without, strlen(without), 12), 0);
	assert_memory_equal(b.p, "{\"type\":\"allFills\",\"seq\":12,\"cursor\":\"1:2:3\",\"data\":[]}",
			    b.len);
	b.len = 0;
	assert_int_equal(hm_msg_with_seq(&b, (const uint8_t *)"[1,2]", 5, 1), -1);
	assert_int_equal(hm_msg_with_seq(&b, (const uint8_t *)"{\"type\":", 8, 1), -1);
	text_buf_free(&b);
}

static void
test_replay__client_messages(void **state)
{
	struct hm_client_msg h;
	struct ls_client_msg l;
	const char *sub =
		"{\"method\":\"subscribe\",\"subscription\":{\"type\":\"allFills\",\"cursor\":\"5:6:7\"}}";

	(void)state;
	hm_client_parse((const uint8_t *)sub, strlen(sub), &h);
	assert_int_equal(h.kind, HM_C_SUBSCRIBE);
	assert_int_equal(h.sub_type.len, 8);
	assert_memory_equal(h.sub_type.p, "allFills", 8);
	assert_int_equal(h.cursor.len, 5);
	hm_client_parse((const uint8_t *)"{\"method\":\"subscribe\"}", 22, &h);
	assert_int_equal(h.kind, HM_C_BAD);
	hm_client_parse((const uint8_t *)"not json", 8, &h);
	assert_int_equal(h.kind, HM_C_BAD);
	hm_client_parse((const uint8_t *)"{\"type\":\"pong\"}", 15, &h);
	assert_int_equal(h.kind, HM_C_PONG);
	ls_client_parse((const uint8_t *)"{\"type\":\"ping\",\"client_time_ms\":17}", 35, &l);
	assert_int_equal(l.kind, LS_C_PING);
	ls_client_parse((const uint8_t *)"{\"type\":\"configure\",\"strategy\":{}}", 34, &l);
	assert_int_equal(l.kind, LS_C_CONFIGURE);
	ls_client_parse((const uint8_t *)"{]", 2, &l);
	assert_int_equal(l.kind, LS_C_BAD);
}

static void
test_replay__lasersell_holdings(void **state)
{
	static const char *const stream[] = {
		"{\"type\":\"balance_update\",\"wallet_pubkey\":\"W\",\"mint\":\"M1\",\"tokens\":1}",
		"{\"type\":\"position_opened\",\"position_id\":7,\"mint\":\"M1\"}",
		"{\"type\":\"pnl_update\",\"position_id\":7}",
		"{\"type\":\"balance_update\",\"wallet_pubkey\":\"W\",\"mint\":\"M2\",\"tokens\":2}",
		"{\"type\":\"position_opened\",\"position_id\":8,\"mint\":\"M2\"}",
		"{\"type\":\"balance_update\",\"wallet_pubkey\":\"W\",\"mint\":\"M1\",\"tokens\":3}",
		"{\"type\":\"position_opened\",\"token_account\":\"TA\",\"mint\":\"M3\"}",
		"{\"type\":\"position_closed\",\"position_id\":7}",
		"not json",
		"{\"type\":\"position_closed\",\"position_id\":99}",
	};
	struct ls_holdings *h = ls_holdings_new();
	struct got g = { 0 };

	(void)state;
	assert_non_null(h);
	for (size_t i = 0; i < sizeof(stream) / sizeof(stream[0]); i++)
		assert_int_equal(ls_holdings_add(h, (const uint8_t *)stream[i], strlen(stream[i])), 0);
	assert_int_equal(ls_holdings_count(h), 4);
	assert_int_equal(ls_holdings_foreach(h, keep_bytes, &g), 0);
	assert_int_equal(g.n, 4);
	/* balances first, each the last one recorded, in the order first seen; then the open
	 * positions in the order they opened (7 closed) */
	assert_string_equal(g.msgs[0], stream[5]);
	assert_string_equal(g.msgs[1], stream[3]);
	assert_string_equal(g.msgs[2], stream[4]);
	assert_string_equal(g.msgs[3], stream[6]);
	got_free(&g);
	ls_holdings_free(h);
	ls_holdings_free(NULL);
}

static void
test_replay__lasersell_session_id(void **state)
{
	int64_t v = -1;
#define SID(lit) ls_session_id((const uint8_t *)(lit), strlen(lit), &v)
	(void)state;
	assert_int_equal(SID("{\"type\":\"hello_ok\",\"session_id\":42,\"limits\":{}}"), 0);
	assert_int_equal(v, 42);
	assert_int_equal(SID("{\"type\":\"exit_signal_with_tx\",\"position_id\":1,\"session_id\":43}"), 0);
	assert_int_equal(v, 43);
	/* none, not a number, negative, nested only, not JSON: no id, v untouched */
	assert_int_equal(SID("{\"type\":\"pnl_update\",\"position_id\":1}"), -1);
	assert_int_equal(SID("{\"type\":\"hello_ok\",\"session_id\":\"abc\"}"), -1);
	assert_int_equal(SID("{\"type\":\"hello_ok\",\"session_id\":-3}"), -1);
	assert_int_equal(SID("{\"type\":\"x\",\"inner\":{\"session_id\":5}}"), -1);
	assert_int_equal(SID("{\"session_id\":"), -1);
	assert_int_equal(v, 43);
#undef SID
}

/* ---- faults ---- */

static void
test_replay__hydromancer_live_format_of_open(void **state)
{
	char f[32];
#define OPEN(url) "{\"url\":\"" url "\",\"status\":101,\"attempt\":1}"
	static const char *with = OPEN(
				  "wss://h/ws?token=REDACTED&sessionId=s&liveFormat=chunked-v1&cursor=1:2:3"),
			  *last = OPEN("wss://h/ws?token=REDACTED&liveFormat=chunked%2Dv1"),
			  *none = OPEN("wss://h/ws?token=REDACTED&sessionId=s"),
			  *noquery = OPEN("wss://h/ws"),
			  *big = OPEN("wss://h/ws?liveFormat=a-format-name-longer-than-the-buffer");

	(void)state;
	assert_int_equal(hm_open_live_format((const uint8_t *)with, strlen(with), f, sizeof(f)), 0);
	assert_string_equal(f, "chunked-v1");
	assert_int_equal(hm_open_live_format((const uint8_t *)last, strlen(last), f, sizeof(f)), 0);
	assert_string_equal(f, "chunked-v1");
	assert_int_equal(hm_open_live_format((const uint8_t *)none, strlen(none), f, sizeof(f)), 0);
	assert_string_equal(f, "");
	assert_int_equal(hm_open_live_format((const uint8_t *)noquery, strlen(noquery), f, sizeof(f)), 0);
	assert_string_equal(f, "");
	assert_int_equal(hm_open_live_format((const uint8_t *)big, strlen(big), f, sizeof(f)), -1);
	assert_int_equal(hm_open_live_format((const uint8_t *)"{\"status\":101}", 14, f, sizeof(f)), -1);
	assert_int_equal(hm_open_live_format((const uint8_t *)"{\"url\":", 7, f, sizeof(f)), -1);
#undef OPEN
}

static void
test_replay__fault_rng_reproducible(void **state)
{
	(void)state;
	uint64_t a = fault_rng_seed(7, 1), b = fault_rng_seed(7, 1), c = fault_rng_seed(7, 2),
		 d = fault_rng_seed(8, 1);
	assert_true(a != 0 && a != c && a != d);
	for (int i = 0; i < 1000; i++)
		assert_true(fault_rng_next(&a) == fault_rng_next(&b));
	/* seed 0 works too */
	uint64_t z = fault_rng_seed(0, 0);
	assert_true(z != 0);
	assert_true(fault_rng_next(&z) != fault_rng_next(&z));
}

static void
test_replay__fault_rng_rates(void **state)
{
	uint64_t s = fault_rng_seed(12345, 3);
	int hits = 0, n = 200000;

	(void)state;
	for (int i = 0; i < n; i++) {
		double u = fault_rng_unit(&s);
		assert_true(u >= 0 && u < 1);
		hits += fault_rng_hit(&s, 0.2);
	}
	/* 0.2 +- 5 standard deviations */
	assert_true(hits > 40000 - 900 && hits < 40000 + 900);
	uint64_t before = s;
	assert_int_equal(fault_rng_hit(&s, 0), 0);
	assert_true(s == before); /* a zero rate draws nothing: other faults keep their sequence */
	assert_int_equal(fault_rng_hit(&s, 1.0), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_replay__pace_due_at_speeds),
		cmocka_unit_test(test_replay__pace_no_drift),
		cmocka_unit_test(test_replay__pace_edge_inverts_due),
		cmocka_unit_test(test_replay__pace_loop_wraps_the_edge),
		cmocka_unit_test(test_replay__hist_quantiles),
		cmocka_unit_test(test_replay__chunks_by_count),
		cmocka_unit_test(test_replay__chunks_by_bytes),
		cmocka_unit_test(test_replay__chunks_empty),
		cmocka_unit_test(test_replay__hydromancer_seq_rewrite),
		cmocka_unit_test(test_replay__client_messages),
		cmocka_unit_test(test_replay__lasersell_holdings),
		cmocka_unit_test(test_replay__lasersell_session_id),
		cmocka_unit_test(test_replay__hydromancer_live_format_of_open),
		cmocka_unit_test(test_replay__fault_rng_reproducible),
		cmocka_unit_test(test_replay__fault_rng_rates),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
