/* test_feeds.c - classification of frames and events for the raw, hydromancer and lasersell feeds,
 * and for feeds declared as data (spec files) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed.h"
#include "feeds/feed_client.h"
#include "feeds/feed_server.h"
#include "feeds/feed_inspect.h"
#include "feeds/json_scan.h"
#include "feeds/spec.h"

static struct feed_msg
classify(const struct feed *id, const char *s)
{
	struct feed_msg m;

	assert_int_equal(feed_classify(id, (const uint8_t *)s, strlen(s), &m), 0);
	return m;
}

static void
assert_str(struct feed_str s, const char *want)
{
	if (!want) {
		assert_int_equal(s.len, 0);
		return;
	}
	assert_int_equal(s.len, strlen(want));
	assert_memory_equal(s.p, want, s.len);
}

#define MAX_EV 16
struct collected {
	int n;
	int64_t time[MAX_EV], tx[MAX_EV];
	char role[MAX_EV][16];
	uint64_t hash[MAX_EV];
	char raw0[128];
};

static int
collect(const struct feed_event *ev, void *ud)
{
	struct collected *c = ud;

	if (c->n == 0) {
		assert_true(ev->raw.len < sizeof(c->raw0));
		memcpy(c->raw0, ev->raw.p, ev->raw.len);
		c->raw0[ev->raw.len] = 0;
	}
	c->time[c->n] = ev->key_time;
	c->tx[c->n] = ev->key_tx;
	assert_true(ev->key_role.len < 16);
	memcpy(c->role[c->n], ev->key_role.p ? ev->key_role.p : "", ev->key_role.len);
	c->role[c->n][ev->key_role.len] = 0;
	c->hash[c->n] = ev->hash;
	c->n++;
	return 0;
}

static void
test_feeds__lookup_and_names(void **state)
{
	char names[128];

	assert_non_null(feed_find("hydromancer"));
	assert_string_equal(feed_find("hydromancer")->name, "hydromancer");
	assert_string_equal(feed_find("lasersell")->name, "lasersell");
	assert_ptr_equal(feed_find("raw"), &feed_raw);
	assert_ptr_equal(feed_builtin(0), &feed_raw);
	assert_null(feed_find("nope"));
	assert_null(feed_find(NULL));
	assert_null(feed_builtin(-1));
	int n = 0;
	while (feed_builtin(n))
		n++;
	assert_int_equal(n, 3);
	assert_null(feed_builtin(n));
	feed_list_names(names, sizeof(names));
	assert_string_equal(names, "raw, hydromancer, lasersell");
}

static void
test_feeds__hydromancer_live_message(void **state)
{
	struct feed_msg m = classify(
		feed_find("hydromancer"),
		"{\"type\":\"allFills\",\"seq\":42,\"cursor\":\"500:1706123456789:3\",\"fills\":["
		"[\"0x742d35\",{\"coin\":\"ETH\",\"px\":\"2150.50\",\"time\":1706123456789,\"txIndex\":3}],"
		"[\"0x99\",{\"coin\":\"ETH\",\"time\":1706123456789,\"txIndex\":3,\"tid\":7}]]}");
	struct collected c = { 0 };

	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_str(m.type, "allFills");
	assert_str(m.channel, "allFills");
	assert_str(m.cursor, "500:1706123456789:3");
	assert_int_equal(m.seq, 42);
	assert_int_equal(m.chunk, -1);
	assert_true(m.events.len > 0 && m.events.p[0] == '[');
	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, collect, &c), 0);
	assert_int_equal(c.n, 2);
	/* one transaction, two fills: equal keys, different events */
	assert_int_equal(c.time[0], 1706123456789LL);
	assert_int_equal(c.tx[0], 3);
	assert_int_equal(c.time[1], 1706123456789LL);
	assert_int_equal(c.tx[1], 3);
	assert_true(c.hash[0] != c.hash[1]);
	assert_string_equal(
		c.raw0,
		"[\"0x742d35\",{\"coin\":\"ETH\",\"px\":\"2150.50\",\"time\":1706123456789,\"txIndex\":3}]");
}

static void
test_feeds__hydromancer_replay_chunk(void **state)
{
	struct feed_msg m =
		classify(feed_find("hydromancer"),
			 "{ \"type\" : \"replay\", \"channel\":\"allFills\",\"replayTimeMs\":\"500:1:3\","
			 "\"cursor\":\"501:2:0\",\"count\":1,\"chunk\":1,\"totalChunks\":2,\"hasGap\":true,"
			 "\"data\":[[\"0xa\",{\"time\":2,\"txIndex\":0}]] }\n");
	struct collected c = { 0 };

	assert_int_equal(m.cls, FEED_MSG_REPLAY);
	assert_str(m.channel, "allFills");
	assert_str(m.cursor, "501:2:0");
	assert_int_equal(m.seq, -1);
	assert_int_equal(m.chunk, 1);
	assert_int_equal(m.total_chunks, 2);
	assert_int_equal(m.count, 1);
	assert_int_equal(m.has_gap, 1);
	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, collect, &c), 0);
	assert_int_equal(c.n, 1);
	assert_int_equal(c.time[0], 2);

	/* no hasGap, cursor only in the deprecated replayTimeMs, empty data */
	m = classify(feed_find("hydromancer"),
		     "{\"type\":\"replay\",\"channel\":\"userFills\",\"replayTimeMs\":\"500:1:3\","
		     "\"count\":0,\"chunk\":1,\"totalChunks\":1,\"data\":[]}");
	assert_int_equal(m.cls, FEED_MSG_REPLAY);
	assert_int_equal(m.has_gap, 0);
	assert_str(m.cursor, "500:1:3");
	c.n = 0;
	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, collect, &c), 0);
	assert_int_equal(c.n, 0);

	m = classify(
		feed_find("hydromancer"),
		"{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,\"hasGap\":false,\"data\":[]}");
	assert_int_equal(m.has_gap, 0);
}

static void
test_feeds__hydromancer_connected_and_reconnected(void **state)
{
	struct feed_msg m =
		classify(feed_find("hydromancer"),
			 "{\"type\":\"connected\",\"clientId\":\"abc123-def456\",\"sessionId\":\"789xyz\"}");

	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.type, "connected");
	assert_str(m.session_id, "789xyz");
	assert_str(m.client_id, "abc123-def456");
	assert_str(m.channel, NULL);

	m = classify(feed_find("hydromancer"),
		     "{\"type\":\"reconnected\",\"clientId\":\"new\",\"sessionId\":\"789xyz\","
		     "\"subscriptions\":[\"allFills\"],\"lastSeq\":0}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.type, "reconnected");
	assert_str(m.session_id, "789xyz");
	assert_int_equal(m.seq, -1);
}

static void
test_feeds__hydromancer_subscription_update_and_out_frames(void **state)
{
	struct feed_msg m =
		classify(feed_find("hydromancer"),
			 "{\"type\":\"subscriptionUpdate\",\"subscribed\":[\"allFills\"],\"failed\":[]}");

	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.type, "subscriptionUpdate");

	m = classify(
		feed_find("hydromancer"),
		"{\"method\":\"subscribe\",\"subscription\":{\"type\":\"allFills\",\"cursor\":\"500:1:0\"}}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.type, "subscribe");
	assert_str(m.channel, "allFills");
	assert_str(m.cursor, NULL);

	m = classify(feed_find("hydromancer"), "{\"type\":\"ping\"}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	m = classify(feed_find("hydromancer"), "{\"type\":\"pong\"}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	m = classify(feed_find("hydromancer"), "{\"type\":\"somethingNew\",\"x\":1}");
	assert_int_equal(m.cls, FEED_MSG_OTHER);
	assert_str(m.type, "somethingNew");
}

static void
test_feeds__hydromancer_numeric_cursor(void **state)
{
	struct feed_msg m = classify(feed_find("hydromancer"),
				     "{\"type\":\"userLeverageUpdates\",\"seq\":1,\"cursor\":1706123456789,"
				     "\"updates\":[{\"time\":1706123456789,\"txIndex\":0}]}");

	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_str(m.cursor, "1706123456789");
	assert_int_equal(m.seq, 1);

	m = classify(feed_find("hydromancer"),
		     "{\"type\":\"l4BookUpdates\",\"seq\":9,\"cursor\":\"500:1706123456789\",\"data\":[]}");
	assert_str(m.cursor, "500:1706123456789");
	assert_str(m.channel, "l4BookUpdates");
}

static void
test_feeds__hydromancer_dedup_key_rules(void **state)
{
	struct collected c = { 0 };
	struct feed_msg m =
		classify(feed_find("hydromancer"),
			 "{\"type\":\"allCompletedTrades\",\"seq\":3,\"cursor\":\"1:2:3\",\"trades\":["
			 "{\"openTime\":5,\"closeTime\":1000,\"time\":7,\"txIndex\":4},"
			 "{\"closeTime\":1001,\"txIndex\":0}]}");

	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, collect, &c), 0);
	assert_int_equal(c.n, 2);
	assert_int_equal(c.time[0], 1000);
	assert_int_equal(c.tx[0], 4);
	assert_int_equal(c.time[1], 1001);

	m = classify(feed_find("hydromancer"),
		     "{\"type\":\"userNonFundingLedgerEvents\",\"seq\":1,\"cursor\":\"1:2:3\",\"events\":["
		     "{\"time\":10,\"txIndex\":1,\"role\":\"sender\",\"usdc\":\"5\"},"
		     "{\"time\":10,\"txIndex\":1,\"role\":\"receiver\",\"usdc\":\"5\"}]}");
	memset(&c, 0, sizeof(c));
	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, collect, &c), 0);
	assert_int_equal(c.n, 2);
	assert_string_equal(c.role[0], "sender");
	assert_string_equal(c.role[1], "receiver");
	assert_int_equal(c.time[1], 10);

	/* the role is not part of a fill's key */
	m = classify(
		feed_find("hydromancer"),
		"{\"type\":\"userFills\",\"seq\":1,\"fills\":[{\"time\":10,\"txIndex\":1,\"role\":\"x\"},{\"px\":1}]}");
	memset(&c, 0, sizeof(c));
	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, collect, &c), 0);
	assert_string_equal(c.role[0], "");
	assert_int_equal(c.time[1], -1);
	assert_int_equal(c.tx[1], -1);
}

static void
test_feeds__events_malformed_array(void **state)
{
	struct collected c = { 0 };
	struct feed_msg m;

	memset(&m, 0, sizeof(m));
	m.events.p = "[{\"time\":1},{\"time\" 2}]";
	m.events.len = strlen(m.events.p);
	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, collect, &c), -1);
	assert_int_equal(c.n, 1);
}

static int
stop_at_first(const struct feed_event *ev, void *ud)
{
	(*(int *)ud)++;
	return 7;
}

static void
test_feeds__events_callback_stops(void **state)
{
	int n = 0;
	struct feed_msg m =
		classify(feed_find("hydromancer"),
			 "{\"type\":\"allFills\",\"seq\":1,\"fills\":[{\"time\":1},{\"time\":2}]}");

	assert_int_equal(feed_events_foreach(feed_find("hydromancer"), &m, stop_at_first, &n), 7);
	assert_int_equal(n, 1);
}

static void
track(struct feed_cursor_track *t, int64_t ms, const char *s)
{
	struct feed_msg m = classify(feed_find("hydromancer"), s);

	feed_cursor_track_msg(t, &m, ms);
}

#define LIVE(c) "{\"type\":\"allFills\",\"seq\":1,\"cursor\":\"" c "\",\"fills\":[]}"
#define CHUNK(ch, c, i, n) \
	"{\"type\":\"replay\",\"channel\":\"" ch "\",\"cursor\":\"" c "\",\"count\":0," \
	"\"chunk\":" #i ",\"totalChunks\":" #n ",\"data\":[]}"

static void
test_feeds__resume_cursor_waits_for_the_replay(void **state)
{
	struct feed_cursor_track t;

	(void)state;
	feed_cursor_track_init(&t, feed_find("hydromancer"));
	track(&t, 0, "{\"type\":\"connected\",\"sessionId\":\"s\"}");
	track(&t, 1, LIVE("10:0:0"));
	assert_string_equal(t.cursor, "10:0:0");
	/* resumed: live messages run ahead of the replay; the cursor follows the chunks */
	track(&t, 100, "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	track(&t, 101, LIVE("50:0:0"));
	assert_string_equal(t.cursor, "10:0:0");
	track(&t, 102, CHUNK("allFills", "20:0:0", 1, 3));
	track(&t, 103, LIVE("51:0:0"));
	track(&t, 104, CHUNK("allFills", "30:0:0", 2, 3));
	assert_string_equal(t.cursor, "30:0:0");
	/* however long it takes */
	track(&t, 9000, LIVE("52:0:0"));
	assert_string_equal(t.cursor, "30:0:0");
	/* the last chunk: everything up to the newest live message is in the journal */
	track(&t, 9001, CHUNK("allFills", "40:0:0", 3, 3));
	assert_string_equal(t.cursor, "52:0:0");
	track(&t, 9002, LIVE("53:0:0"));
	assert_string_equal(t.cursor, "53:0:0");

	/* resumed with nothing to replay: live cursors are held for FEED_CURSOR_HOLD_MS only */
	track(&t, 10000, "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	track(&t, 10001, LIVE("60:0:0"));
	assert_string_equal(t.cursor, "53:0:0");
	track(&t, 10000 + FEED_CURSOR_HOLD_MS, LIVE("61:0:0"));
	assert_string_equal(t.cursor, "61:0:0");

	/* a drop in the middle of a replay: the next resume starts from the last chunk */
	track(&t, 20000, "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	track(&t, 20001, CHUNK("allFills", "62:0:0", 1, 2));
	track(&t, 20002, LIVE("70:0:0"));
	track(&t, 20003, "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	track(&t, 99999, LIVE("71:0:0"));
	assert_string_equal(t.cursor, "71:0:0"); /* no replay began: released after the hold */
	track(&t, 100000, "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	track(&t, 100001, CHUNK("allFills", "72:0:0", 1, 2));
	track(&t, 200000, LIVE("80:0:0"));
	assert_string_equal(t.cursor, "72:0:0"); /* a replay under way holds however long */

	/* other feeds: the last cursor seen */
	feed_cursor_track_init(&t, (&feed_raw));
	assert_string_equal(t.cursor, "");
}

#define LEV(c) "{\"type\":\"leverageUpdates\",\"seq\":1,\"cursor\":" c ",\"updates\":[]}"
#define BOOK(c) "{\"type\":\"l4BookUpdates\",\"seq\":1,\"cursor\":\"" c "\",\"updates\":[]}"

static void
test_feeds__resume_cursor_is_the_oldest_channel(void **state)
{
	struct feed_cursor_track t;

	(void)state;
	/* the three formats order by their timestamp; at one time, the coarser first */
	assert_true(feed_cursor_time_cmp("500:1706123456789:3", "1706123456790") < 0);
	assert_true(feed_cursor_time_cmp("1706123456789", "500:1706123456789:3") < 0);
	assert_true(feed_cursor_time_cmp("500:1706123456789", "500:1706123456789:0") < 0);
	assert_true(feed_cursor_time_cmp("500:1706123456789:4", "500:1706123456789:3") > 0);
	assert_true(feed_cursor_time_cmp("600:1706123456000:9", "1706123456789") < 0);
	assert_true(feed_cursor_time_cmp("opaque", "1") < 0);
	assert_int_equal(feed_cursor_time_cmp("7:8:9", "7:8:9"), 0);

	feed_cursor_track_init(&t, feed_find("hydromancer"));
	track(&t, 0, "{\"type\":\"connected\",\"sessionId\":\"s\"}");
	track(&t, 1, LIVE("500:1706123456789:3"));
	track(&t, 2, LEV("1706123456000"));
	assert_string_equal(t.cursor, "1706123456000");
	track(&t, 3, LIVE("510:1706123457489:0"));
	assert_string_equal(t.cursor, "1706123456000"); /* leverage has not passed it */
	track(&t, 4, LEV("1706123458000"));
	assert_string_equal(t.cursor, "510:1706123457489:0");
	track(&t, 5, BOOK("505:1706123457100"));
	assert_string_equal(t.cursor, "505:1706123457100");
	track(&t, 6, BOOK("520:1706123459000"));
	track(&t, 7, LIVE("530:1706123460000:1"));
	assert_string_equal(t.cursor, "1706123458000");
	/* a cursor with escapes is kept decoded */
	track(&t, 8, LEV("\"\\u0031706123461000\""));
	assert_string_equal(t.cursor, "520:1706123459000");
	track(&t, 9, BOOK("540:1706123462000"));
	assert_string_equal(t.cursor, "530:1706123460000:1");

	/* after a resume, one channel's one-chunk replay does not end another's: the cursor
	 * stays the oldest chunk's until every replay has ended */
	track(&t, 100, "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	track(&t, 101, CHUNK("allFills", "531:1706123460100:0", 1, 2));
	track(&t, 102, CHUNK("leverageUpdates", "1706123461500", 1, 1));
	track(&t, 103, LIVE("560:1706123470000:0"));
	track(&t, 104, LEV("1706123470000"));
	assert_string_equal(t.cursor, "531:1706123460100:0");
	track(&t, 105, CHUNK("allFills", "550:1706123465000:0", 2, 2));
	/* released: allFills and leverage take their live cursors; the book's is the oldest */
	assert_string_equal(t.cursor, "540:1706123462000");

	/* a channel set from the index joins the others */
	feed_cursor_track_set(&t, "userFills", 9, "400:1706123400000:0", 19);
	assert_true(feed_cursor_track_has(&t, "userFills", 9));
	assert_false(feed_cursor_track_has(&t, "userFill", 8));
	assert_string_equal(t.cursor, "400:1706123400000:0");
}

static struct text_buf sent;
static void
collect_sent(void *ud, const void *p, size_t n)
{
	text_buf_add(&sent, p, n);
	text_buf_add(&sent, "\n", 1);
}

static void
client_msg(struct feed_client *fc, const char *s, int want_flags)
{
	struct feed_msg m = classify(feed_find("hydromancer"), s);

	assert_int_equal(feed_client_on_message(fc, &m, collect_sent, NULL), want_flags);
}

static void
test_feeds__hydromancer_client_errors_and_escapes(void **state)
{
	struct feed_client_options o = { .feed = feed_find("hydromancer"), .url = "ws://h/ws?token=t" };
	const struct feed_client_arg subs[] = { { .name = "--subscribe", .value = "allFills", .len = 8 } };
	struct feed_client *fc;
	struct text_buf url = { 0 };

	(void)state;
	o.args = subs;
	o.nargs = 1;
	assert_int_equal(feed_client_new(&o, &fc), 0);
	/* the session id is JSON-decoded, then URL-encoded in the URL */
	client_msg(fc, "{\"type\":\"connected\",\"sessionId\":\"a\\/b c\\u00e9\"}", FEED_CLIENT_SESSION);
	assert_string_equal(feed_client_session(fc), "a/b c\xc3\xa9");
	client_msg(fc, "{\"type\":\"allFills\",\"seq\":1,\"cursor\":\"1:2:\\u0033\",\"fills\":[]}", 0);
	feed_client_url(fc, &url);
	assert_string_equal(url.p, "ws://h/ws?token=t&sessionId=a%2Fb%20c%C3%A9&cursor=1:2:3");
	/* "Session not found": the session is forgotten, the next connection makes a new one */
	client_msg(fc, "{\"type\":\"error\",\"message\":\"Session not found\"}", FEED_CLIENT_SESSION);
	assert_string_equal(feed_client_session(fc), "");
	url.len = 0;
	feed_client_url(fc, &url);
	assert_string_equal(url.p, "ws://h/ws?token=t");
	client_msg(fc, "{\"type\":\"error\",\"message\":\"Session not found\"}", 0);
	/* a new session subscribes again */
	sent.len = 0;
	client_msg(fc, "{\"type\":\"connected\",\"sessionId\":\"n\"}", FEED_CLIENT_SESSION);
	assert_non_null(strstr(sent.p, "\"subscribe\""));
	/* "Invalid API key" refuses, with the server's words; rate limits are only backed off */
	client_msg(fc, "{\"type\":\"error\",\"message\":\"Rate limit exceeded\"}", 0);
	client_msg(fc, "{\"type\":\"error\",\"message\":\"Invalid API key\"}", FEED_CLIENT_REFUSED);
	assert_string_equal(feed_client_refusal(fc), "Invalid API key");
	/* a malformed id is not taken: a "reconnected" goes on with the session resumed, a
	 * "connected" one (a new session) forgets the one before it, which is over */
	client_msg(fc, "{\"type\":\"reconnected\",\"sessionId\":\"x\\u00\"}", 0);
	assert_string_equal(feed_client_session(fc), "n");
	client_msg(fc, "{\"type\":\"connected\",\"sessionId\":\"x\\u00\"}",
		   FEED_CLIENT_SESSION | FEED_CLIENT_BAD_SESSION);
	assert_string_equal(feed_client_session(fc), "");
	client_msg(fc, "{\"type\":\"connected\",\"sessionId\":\"y\\ud800\"}",
		   FEED_CLIENT_SESSION | FEED_CLIENT_BAD_SESSION);
	assert_string_equal(feed_client_session(fc), "");
	text_buf_free(&url);
	text_buf_free(&sent);
	feed_client_free(fc);
}

static void
test_feeds__client_handshake_and_options(void **state)
{
	const struct feed_client_arg args[] = {
		{ .name = "--configure", .value = "{\"type\":\"configure\"}", .len = 20 },
		{ .name = "--hello-timeout", .ms = 300 },
		{ .name = "--ping-s", .ms = 100 },
	};
	const char *sends[] = { "S1" };
	struct feed_client_options o = { .feed = feed_find("lasersell"),
					 .url = "ws://h/",
					 .sends = sends,
					 .nsends = 1,
					 .args = args,
					 .nargs = 3 };
	const struct feed_client_arg sub = { .name = "--subscribe", .value = "allFills", .len = 8 };
	struct feed_client *fc;
	struct feed_msg m;

	(void)state;
	assert_int_equal(feed_client_new(&o, &fc), 0);
	/* configure at once; --send waits for the handshake, which may take 300 ms */
	sent.len = 0;
	feed_client_on_open(fc, collect_sent, NULL);
	text_buf_add(&sent, "", 1);
	assert_string_equal(sent.p, "{\"type\":\"configure\"}\n");
	assert_int_equal(feed_client_handshake(fc), FEED_CLIENT_HANDSHAKE_PENDING);
	assert_string_equal(feed_client_awaited(fc), "hello_ok");
	assert_int_equal(feed_client_tick(fc, 299, collect_sent, NULL), 0);
	assert_int_equal(feed_client_tick(fc, 300, collect_sent, NULL), -1);
	sent.len = 0;
	m = classify(feed_find("lasersell"), "{\"type\":\"hello_ok\",\"session_id\":5}");
	assert_int_equal(feed_client_on_message(fc, &m, collect_sent, NULL), FEED_CLIENT_SESSION);
	assert_int_equal(feed_client_on_message(fc, &m, collect_sent, NULL), FEED_CLIENT_SESSION);
	text_buf_add(&sent, "", 1);
	assert_string_equal(sent.p, "S1\n"); /* once a connection */
	assert_string_equal(feed_client_session(fc), "5");
	assert_int_equal(feed_client_handshake(fc), FEED_CLIENT_HANDSHAKE_DONE);
	sent.len = 0;
	assert_int_equal(feed_client_tick(fc, 1000, collect_sent, NULL), 0);
	assert_int_equal(feed_client_tick(fc, 1050, collect_sent, NULL), 0);
	text_buf_add(&sent, "", 1);
	assert_non_null(strstr(sent.p, "\"type\":\"ping\""));
	assert_null(strstr(strstr(sent.p, "\n") + 1, "ping")); /* one ping per 100 ms */
	feed_client_on_close(fc, 1);
	assert_int_equal(feed_client_handshake(fc), FEED_CLIENT_HANDSHAKE_PENDING);
	assert_false(feed_client_opaque(fc));
	feed_client_free(fc);

	/* an option the feed does not take */
	o.args = &sub;
	o.nargs = 1;
	assert_int_equal(feed_client_new(&o, &fc), EINVAL);
	assert_null(feed_client_opt_find(feed_find("lasersell"), "--subscribe"));
	assert_non_null(feed_client_opt_find(feed_find("hydromancer"), "--subscribe"));

	/* raw: --send at open, none to another origin; frames unclassified */
	o = (struct feed_client_options){ .feed = (&feed_raw), .url = "ws://h/", .sends = sends, .nsends = 1 };
	assert_int_equal(feed_client_new(&o, &fc), 0);
	assert_true(feed_client_opaque(fc));
	assert_int_equal(feed_client_handshake(fc), FEED_CLIENT_NO_HANDSHAKE);
	sent.len = 0;
	feed_client_on_open(fc, collect_sent, NULL);
	assert_int_equal(sent.len, 3);
	feed_client_set_foreign(fc, 1);
	feed_client_on_open(fc, collect_sent, NULL);
	assert_int_equal(sent.len, 3);
	assert_int_equal(feed_client_withheld(fc), 1);
	feed_client_free(fc);
	text_buf_free(&sent);
}

static void
test_feeds__backoff_rule(void **state)
{
	static const uint32_t want[] = { 100, 100, 200, 400, 800, 1600, 2000, 2000 };

	(void)state;
	for (unsigned a = 0; a < sizeof(want) / sizeof(want[0]); a++) {
		assert_int_equal(feed_backoff_ms(feed_find("lasersell"), a), want[a]);
		assert_int_equal(feed_backoff_ms(feed_find("hydromancer"), a), want[a]);
	}
	assert_int_equal(feed_backoff_ms((&feed_raw), 7), 5000);
	assert_int_equal(feed_backoff_ms(feed_find("lasersell"), 1000), 2000);
}

static void
test_feeds__lasersell_messages(void **state)
{
	struct feed_msg m = classify(
		feed_find("lasersell"),
		"{\"type\":\"hello_ok\",\"session_id\":42,\"server_time_ms\":1706000000000,"
		"\"limits\":{\"hi_capacity\":1024,\"pnl_flush_ms\":1000,\"max_positions_per_session\":100}}");

	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.type, "hello_ok");
	assert_str(m.session_id, "42");
	assert_int_equal(m.server_time_ms, 1706000000000LL);
	assert_int_equal(m.pnl_flush_ms, 1000);
	assert_str(m.channel, NULL);

	m = classify(feed_find("lasersell"),
		     "{\"type\":\"pnl_update\",\"position_id\":7,\"profit_units\":-5,\"proceeds_units\":10,"
		     "\"server_time_ms\":1706000000500}");
	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_str(m.channel, "pnl_update");
	assert_int_equal(m.position_id, 7);
	assert_int_equal(m.server_time_ms, 1706000000500LL);
	assert_int_equal(m.pnl_flush_ms, -1);

	m = classify(feed_find("lasersell"), "{\"type\":\"pong\",\"server_time_ms\":1706000000001}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_int_equal(m.server_time_ms, 1706000000001LL);

	m = classify(feed_find("lasersell"), "{\"type\":\"ping\",\"client_time_ms\":1706000000000}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_int_equal(m.client_time_ms, 1706000000000LL);

	m = classify(feed_find("lasersell"),
		     "{\"type\":\"configure\",\"wallet_pubkeys\":[\"W\"],\"strategy\":{}}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);

	m = classify(feed_find("lasersell"),
		     "{\"type\":\"position_opened\",\"position_id\":9,\"wallet_pubkey\":\"W\",\"mint\":\"M\","
		     "\"token_account\":\"T\",\"tokens\":1,\"entry_quote_units\":2,\"slot\":3}");
	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_int_equal(m.position_id, 9);
	assert_str(m.channel, "position_opened");

	m = classify(feed_find("lasersell"), "{\"type\":\"brand_new\"}");
	assert_int_equal(m.cls, FEED_MSG_OTHER);
	assert_str(m.channel, NULL);
}

static void
test_feeds__not_json_and_truncated(void **state)
{
	static const char *const bad[] = {
		"",
		"hello",
		"[1,2]",
		"{\"type\":\"allFills\",\"seq\":1,\"fills\":[{\"time\":1}",
		"{\"type\":\"allFills\"",
		"{\"a\":1,}",
		"{\"a\" 1}",
		"{\"a\":1} x",
		"{\"a\":\"unterminated}",
		"{\"a\":[1,2}",
		"{\"a\":tru}",
		"{'a':1}",
		"{\"a\":1}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct feed_msg m = classify(feed_find("hydromancer"), bad[i]);

		assert_int_equal(m.cls, FEED_MSG_NOT_JSON);
		m = classify(feed_find("lasersell"), bad[i]);
		assert_int_equal(m.cls, FEED_MSG_NOT_JSON);
	}
	/* binary garbage with a NUL inside */
	{
		const uint8_t bin[] = { '{', 0, 0xff, '}' };
		struct feed_msg m;

		assert_int_equal(feed_classify(feed_find("hydromancer"), bin, sizeof(bin), &m), 0);
		assert_int_equal(m.cls, FEED_MSG_NOT_JSON);
	}
	/* escaped quotes inside strings are not the end of the string */
	{
		struct feed_msg m = classify(
			feed_find("hydromancer"),
			"{\"type\":\"allFills\",\"seq\":2,\"note\":\"a \\\"q\\\" \\\\\",\"fills\":[]}");

		assert_int_equal(m.cls, FEED_MSG_DATA);
		assert_int_equal(m.seq, 2);
	}
}

static void
test_feeds__raw_feed(void **state)
{
	struct feed_msg m = classify((&feed_raw), "{\"type\":\"allFills\",\"seq\":3,\"fills\":[]}");

	assert_int_equal(m.cls, FEED_MSG_OTHER);
	assert_str(m.type, "allFills");
	assert_str(m.channel, NULL);
	assert_int_equal(m.seq, -1);
	m = classify((&feed_raw), "[1, 2, 3]");
	assert_int_equal(m.cls, FEED_MSG_OTHER);
	m = classify((&feed_raw), " 12 ");
	assert_int_equal(m.cls, FEED_MSG_OTHER);
	m = classify((&feed_raw), "ticker BTC 1");
	assert_int_equal(m.cls, FEED_MSG_NOT_JSON);
}

static void
test_feeds__json_scan_int(void **state)
{
	int64_t x;

	assert_int_equal(json_scan_int("123", 3, &x), 0);
	assert_int_equal(x, 123);
	assert_int_equal(json_scan_int("-5", 2, &x), 0);
	assert_int_equal(x, -5);
	assert_int_equal(json_scan_int("\"77\"", 4, &x), 0);
	assert_int_equal(x, 77);
	assert_int_equal(json_scan_int("1.5", 3, &x), -1);
	assert_int_equal(json_scan_int("", 0, &x), -1);
	assert_int_equal(json_scan_int("-", 1, &x), -1);
	assert_int_equal(json_scan_int("99999999999999999999", 20, &x), -1);
	assert_int_equal(json_scan_int("9223372036854775807", 19, &x), 0);
	assert_int_equal(json_scan_int("9300000000000000000", 19, &x), -1);
}

/* The docs' three cursor formats: same format compares exactly, another by timestamp,
 * inclusive; anything else is not a cursor. */
static void
test_feeds__hydromancer_cursor_formats(void **state)
{
	struct hm_cursor a, b, n, blk;
	(void)state;
	assert_int_equal(hm_cursor_parse("5039:1796154262238:7", 20, &a), 0);
	assert_int_equal(a.fmt, 3);
	assert_int_equal(a.ts, 1796154262238LL);
	assert_int_equal(hm_cursor_parse("5039:1796154262238:8", 20, &b), 0);
	assert_int_equal(hm_cursor_parse("1796154262238", 13, &n), 0);
	assert_int_equal(n.fmt, 1);
	assert_int_equal(hm_cursor_parse("5040:1796154262239", 18, &blk), 0);
	assert_int_equal(blk.fmt, 2);
	assert_int_equal(hm_cursor_newer(&b, &a), 1);
	assert_int_equal(hm_cursor_newer(&a, &b), 0);
	assert_int_equal(hm_cursor_newer(&a, &a), 0);
	/* a numeric cursor is not "after" every block cursor: the timestamps decide, inclusive */
	assert_int_equal(hm_cursor_newer(&a, &n), 1);
	assert_int_equal(hm_cursor_newer(&n, &a), 1);
	assert_int_equal(hm_cursor_newer(&blk, &n), 1);
	n.ts++;
	assert_int_equal(hm_cursor_newer(&a, &n), 0);
	const char *bad[] = { "", "abc", "1:2:3:4", "1::3", "-5", "1:x", "12:" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(hm_cursor_parse(bad[i], strlen(bad[i]), &a), -1);
}

static int
dedup_msg(struct hm_dedup *d, const char *p, struct text_buf *kept, int *all)
{
	struct feed_msg m;
	kept->len = 0;
	feed_classify(feed_find("hydromancer"), (const uint8_t *)p, strlen(p), &m);
	return hm_dedup_filter(d, &m, kept, all);
}

/* Dedup across live and replay: keys shared by several fills, the overlap, keyless events. */
static void
test_feeds__hydromancer_dedup_stream(void **state)
{
	struct hm_dedup *d = hm_dedup_new();
	struct text_buf kept = { 0 };
	int all;
	(void)state;
	assert_non_null(d);
	/* two fills of one transaction share (time, txIndex): both are new */
	assert_int_equal(
		dedup_msg(
			d,
			"{\"type\":\"allFills\",\"seq\":1,\"fills\":[[\"a\",{\"time\":10,\"txIndex\":1,\"tid\":1}],"
			"[\"b\",{\"time\":10,\"txIndex\":1,\"tid\":2}]]}",
			&kept, &all),
		2);
	assert_int_equal(all, 1);
	/* a replay chunk overlapping them: only the new ones are kept */
	assert_int_equal(
		dedup_msg(
			d,
			"{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,\"data\":["
			"[\"b\",{\"time\":10,\"txIndex\":1,\"tid\":2}],[\"c\",{\"time\":10,\"txIndex\":1,\"tid\":3}],"
			"[\"d\",{\"time\":11,\"txIndex\":0,\"tid\":4}]]}",
			&kept, &all),
		2);
	assert_int_equal(all, 0);
	assert_memory_equal(kept.p, "[\"c\"", 4);
	/* a live event with an older key went out in the recording: it goes out once */
	assert_int_equal(
		dedup_msg(d,
			  "{\"type\":\"allFills\",\"seq\":2,\"fills\":[[\"a\",{\"time\":9,\"txIndex\":5}]]}",
			  &kept, &all),
		1);
	assert_int_equal(
		dedup_msg(d,
			  "{\"type\":\"allFills\",\"seq\":3,\"fills\":[[\"a\",{\"time\":9,\"txIndex\":5}]]}",
			  &kept, &all),
		0);
	/* a chunk that came late holds events the live stream never carried, older keys
	 * included: they go out; its repeats do not */
	assert_int_equal(
		dedup_msg(
			d,
			"{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,\"data\":["
			"[\"e\",{\"time\":10,\"txIndex\":0,\"tid\":5}],[\"d\",{\"time\":11,\"txIndex\":0,\"tid\":4}],"
			"[\"f\",{\"time\":12,\"txIndex\":0,\"tid\":6}]]}",
			&kept, &all),
		2);
	assert_int_equal(all, 0);
	/* channels are apart; keyless events compare by text */
	assert_int_equal(dedup_msg(d,
				   "{\"type\":\"l4BookUpdates\",\"seq\":1,\"data\":[{\"px\":1},{\"px\":2}]}",
				   &kept, &all),
			 2);
	assert_int_equal(dedup_msg(d,
				   "{\"type\":\"l4BookUpdates\",\"seq\":2,\"data\":[{\"px\":2},{\"px\":3}]}",
				   &kept, &all),
			 1);
	hm_dedup_reset(d);
	assert_int_equal(
		dedup_msg(d,
			  "{\"type\":\"allFills\",\"seq\":2,\"fills\":[[\"a\",{\"time\":9,\"txIndex\":5}]]}",
			  &kept, &all),
		1);
	text_buf_free(&kept);
	hm_dedup_free(d);
	hm_dedup_free(NULL);
}

/* Past what the window remembers, a chunk's older event is taken for one the live stream
 * carried; within it, an event not seen goes out. */
static void
test_feeds__hydromancer_dedup_window(void **state)
{
	struct hm_dedup *d = hm_dedup_new();
	struct text_buf kept = { 0 };
	char msg[256];
	int all;
	(void)state;
	assert_non_null(d);
	for (int i = 0; i < 100000; i++) {
		snprintf(
			msg, sizeof(msg),
			"{\"type\":\"allFills\",\"seq\":%d,\"fills\":[[\"a\",{\"time\":%d,\"txIndex\":0,\"tid\":%d}]]}",
			i + 1, 1000 + i, i);
		assert_int_equal(dedup_msg(d, msg, &kept, &all), 1);
	}
	/* tid 5 went out live 99,995 events ago: forgotten, and older than all remembered */
	assert_int_equal(
		dedup_msg(
			d,
			"{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,\"data\":["
			"[\"a\",{\"time\":1005,\"txIndex\":0,\"tid\":5}]]}",
			&kept, &all),
		0);
	/* a recent one repeats: no; an unseen event among recent keys: yes */
	assert_int_equal(
		dedup_msg(
			d,
			"{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,\"data\":["
			"[\"a\",{\"time\":100990,\"txIndex\":0,\"tid\":99990}],"
			"[\"b\",{\"time\":100990,\"txIndex\":0,\"tid\":7}]]}",
			&kept, &all),
		1);
	assert_memory_equal(kept.p, "[\"b\"", 4);
	text_buf_free(&kept);
	hm_dedup_free(d);
}

/* Messages of the merged stream and UUIDs. */
static void
test_feeds__hydromancer_stream_messages(void **state)
{
	struct text_buf b = { 0 };
	struct feed_msg m;
	struct feed_str name, subs[4];
	char id[37];
	const char *live =
		"{\"type\":\"allFills\",\"seq\":3,\"cursor\":\"1:2:3\",\"fills\":[1,2,3],\"x\":true}";
	(void)state;
	feed_classify(feed_find("hydromancer"), (const uint8_t *)live, strlen(live), &m);
	assert_int_equal(hm_msg_events_field((const uint8_t *)live, strlen(live), &m, &name), 0);
	assert_int_equal(name.len, 5);
	assert_memory_equal(name.p, "fills", 5);
	hm_msg_with_events(&b, (const uint8_t *)live, strlen(live), &m, "2,3", 3);
	text_buf_add(&b, "", 1);
	assert_string_equal(
		b.p, "{\"type\":\"allFills\",\"seq\":3,\"cursor\":\"1:2:3\",\"fills\":[2,3],\"x\":true}");
	b.len = 0;
	hm_msg_live(&b, "leverageUpdates", 15, "updates", 7, "123", 3, 1, "{}", 2);
	text_buf_add(&b, "", 1);
	assert_string_equal(b.p, "{\"type\":\"leverageUpdates\",\"cursor\":123,\"updates\":[{}]}");
	assert_string_equal(hm_default_events_field("userFills", 9), "fills");
	assert_string_equal(hm_default_events_field("l4BookUpdates", 13), "updates");
	assert_string_equal(hm_default_events_field("fundingRates", 12), "data");
	const char *rc =
		"{\"type\":\"reconnected\",\"subscriptions\":[\"allFills\",\"leverageUpdates\"],\"lastSeq\":0}";
	assert_int_equal(hm_msg_subscriptions((const uint8_t *)rc, strlen(rc), subs, 4), 2);
	assert_int_equal(subs[1].len, 15);
	assert_int_equal(hm_msg_subscriptions((const uint8_t *)rc, strlen(rc), subs, 1), -1);
	hm_uuid(id, 0, 0);
	assert_string_equal(id, "00000000-0000-4000-8000-000000000000");
	hm_uuid(id, ~0ULL, ~0ULL);
	assert_string_equal(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
	text_buf_free(&b);
}

static void
test_feeds__hash_distinguishes(void **state)
{
	assert_true(feed_hash("abcdefgh1", 9) != feed_hash("abcdefgh2", 9));
	assert_true(feed_hash("", 0) == feed_hash("", 0));
	assert_true(feed_hash("abc", 3) != feed_hash("abcd", 4));
}

static int
count_events(const struct feed_event *ev, void *ud)
{
	(*(int *)ud)++;
	assert_true(ev->raw.len > 0);
	return 0;
}

/* Every truncation and many byte flips of real messages: classification and event
 * iteration stay inside the buffer (run under ASan) and never fail hard. */
static void
test_feeds__mutations_never_crash(void **state)
{
	static const char *const samples[] = {
		"{\"type\":\"allFills\",\"seq\":42,\"cursor\":\"500:1706123456789:3\",\"fills\":["
		"[\"0x742d35\",{\"coin\":\"ETH\",\"px\":\"2150.50\",\"time\":1706123456789,\"txIndex\":3}]]}",
		"{\"type\":\"replay\",\"channel\":\"allFills\",\"cursor\":\"1:2:3\",\"chunk\":1,"
		"\"totalChunks\":2,\"hasGap\":true,\"data\":[{\"time\":1,\"txIndex\":0,\"n\":\"a\\\"b\"}]}",
		"{\"type\":\"hello_ok\",\"session_id\":42,\"limits\":{\"pnl_flush_ms\":1000}}",
	};
	static const char flips[] = { '"', '\\', '{', '}', '[', ']', ',', ':', 0, 'x', ' ' };
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		size_t n = strlen(samples[s]);

		for (size_t cut = 0; cut <= n; cut++) {
			for (size_t f = 0; f <= sizeof(flips); f++) {
				struct feed_msg m;
				int events = 0;
				uint8_t *copy = malloc(cut ? cut : 1);

				/* an exact-size heap copy, so that ASan sees any read past the end */
				memcpy(copy, samples[s], cut);
				if (f < sizeof(flips) && cut)
					copy[(cut * 7 + f) % cut] = (uint8_t)flips[f];
				for (int id = 0; feed_builtin(id); id++) {
					assert_int_equal(feed_classify(feed_builtin(id), copy, cut, &m), 0);
					if (m.cls != FEED_MSG_NOT_JSON)
						feed_events_foreach(feed_builtin(id), &m, count_events,
								    &events);
				}
				free(copy);
			}
		}
	}
}

/* A subscription type or cursor that the server would echo into invalid JSON (found by
 * fuzz/replay_client_msg.c) is an invalid message; valid ones are echoed as sent. */
static void
test_feeds__hydromancer_client_echo_is_json(void **state)
{
	static const char *const bad[] = {
		"{\"method\":\"subscribe\",\"subscription\":{\"type\":{\"a\":1}}}",
		"{\"method\":\"subscribe\",\"subscription\":{\"type\":\"l4\\u00zzx\"}}",
		"{\"method\":\"unsubscribe\",\"subscription\":{\"type\":[\"x\"]}}",
		"{\"method\":\"subscribe\",\"subscription\":{\"type\":\"allFills\",\"cursor\":{\"x\":1}}}",
		"{\"method\":\"subscribe\",\"subscription\":{\"type\":7}}",
	};
	struct hm_client_msg m;
	struct text_buf b = { 0 };
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		hm_client_parse((const uint8_t *)bad[i], strlen(bad[i]), &m);
		assert_int_equal(m.kind, HM_C_BAD);
	}
	const char *ok =
		"{\"method\":\"subscribe\",\"subscription\":{\"type\":\"all\\u0046ills\",\"cursor\":1700000000000}}";
	hm_client_parse((const uint8_t *)ok, strlen(ok), &m);
	assert_int_equal(m.kind, HM_C_SUBSCRIBE);
	assert_int_equal(m.cursor.len, 13);
	hm_msg_unsubscribed(&b, &m.sub_type);
	assert_string_equal(b.p,
			    "{\"type\":\"subscriptionUpdate\",\"subscribed\":[],\"failed\":[],"
			    "\"unsubscribed\":[\"all\\u0046ills\"]}");
	text_buf_free(&b);
}

/* hm_msg_with_seq on an object without members (found by fuzz/classify.c): no comma. */
static void
test_feeds__hydromancer_with_seq_empty_object(void **state)
{
	struct text_buf b = { 0 };
	(void)state;
	assert_int_equal(hm_msg_with_seq(&b, (const uint8_t *)"{ }", 3, 5), 0);
	assert_string_equal(b.p, "{\"seq\":5 }");
	b.len = 0;
	assert_int_equal(hm_msg_with_seq(&b, (const uint8_t *)"{\"a\":1}", 7, 5), 0);
	assert_string_equal(b.p, "{\"seq\":5,\"a\":1}");
	text_buf_free(&b);
}

/* ---- feeds declared as data (feeds/spec.c) ---- */

static const char okx_spec[] =
	"{\"wstape_feed_spec\":1,\"name\":\"okx-books\",\"type\":\"/event\","
	"\"channel\":[\"/arg/channel\",\"/arg/instId\"],\"cursor\":\"/data/0/seqId\","
	"\"seq\":{\"rule\":\"link\",\"seq\":\"/data/0/seqId\",\"prev\":\"/data/0/prevSeqId\",\"reset\":-1},"
	"\"events\":\"/data\",\"key\":[\"/seqId\",\"/ts\"],\"data\":\"/data\","
	"\"send\":[{\"op\":\"subscribe\",\"args\":[{\"channel\":\"books\",\"instId\":\"BTC-USDT\"}]}],"
	"\"subscribe\":{\"match\":{\"/op\":\"subscribe\"},\"list\":\"/args\",\"channel\":[\"/channel\",\"/instId\"]},"
	"\"ping\":{\"from\":\"client\",\"every_s\":20,\"message\":\"ping\",\"answer\":\"pong\"}}";

static const char binance_spec[] =
	"{\"wstape_feed_spec\":1,\"name\":\"binance-depth\",\"type\":\"/data/e\",\"channel\":\"/stream\","
	"\"cursor\":\"/data/u\",\"seq\":{\"rule\":\"range\",\"first\":\"/data/U\",\"last\":\"/data/u\"},"
	"\"events\":\"/data\",\"key\":[\"/U\",\"/u\"],\"data\":\"/data\"}";

static struct feed *
spec_load_ok(const char *text)
{
	struct feed *f = NULL;
	char err[512];
	int rc = feed_spec_load(text, strlen(text), "t.json", &f, err, sizeof(err));

	if (rc)
		fprintf(stderr, "load: %s\n", err);
	assert_int_equal(rc, 0);
	assert_non_null(f);
	assert_true(feed_is_spec(f));
	return f;
}

/* The spec text with "wstape_feed_spec":1,"name":"x" before 'rest' fails with an error
 * that holds every one of the words. */
static void
spec_load_bad(const char *rest, const char *w1, const char *w2)
{
	char text[1024], err[512];
	struct feed *f = (struct feed *)1;

	snprintf(text, sizeof(text), "{\"wstape_feed_spec\":1,\"name\":\"x\"%s%s}", *rest ? "," : "", rest);
	assert_int_equal(feed_spec_load(text, strlen(text), "t.json", &f, err, sizeof(err)), EINVAL);
	assert_null(f);
	if (!strstr(err, "t.json: ") || !strstr(err, w1) || (w2 && !strstr(err, w2)))
		fail_msg("spec %s: error '%s' lacks '%s' / '%s'", text, err, w1, w2 ? w2 : "");
}

static void
test_feeds__spec_load_errors(void **state)
{
	char err[256];
	struct feed *f;
	(void)state;
	assert_int_equal(feed_spec_load("{", 1, "t.json", &f, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "t.json: not JSON: line 1"));
	assert_int_equal(feed_spec_load("[1]", 3, "t.json", &f, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "a spec is a JSON object, not an array"));
	assert_int_equal(feed_spec_load("{\"name\":\"x\"}", 12, "t.json", &f, err, sizeof(err)), EINVAL);
	assert_non_null(strstr(err, "wstape_feed_spec: missing"));
	assert_int_equal(feed_spec_load("{\"wstape_feed_spec\":1,\"name\":\"x\",\"name\":\"y\"}", 44,
					"t.json", &f, err, sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "duplicate"));
	assert_int_equal(
		feed_spec_load("{\"wstape_feed_spec\":2,\"name\":\"x\"}", 33, "t.json", &f, err, sizeof(err)),
		EINVAL);
	assert_non_null(strstr(err, "version 1"));
	spec_load_bad("\"chanel\":\"/a\"", "key 'chanel': unknown key", "channel");
	spec_load_bad("\"channel\":\"arg\"", "channel: ", "does not start with '/'");
	spec_load_bad("\"channel\":[\"/a\",\"b\"]", "channel[1]: ", "'/'");
	spec_load_bad("\"channel\":[]", "channel: ", "1 to 8");
	spec_load_bad("\"cursor\":7", "cursor: ", "not a number");
	spec_load_bad("\"cursor\":\"/a~2\"", "cursor: ", "~0 or ~1");
	spec_load_bad("\"channel\":\"/c\",\"seq\":{\"rule\":\"sometimes\",\"seq\":\"/s\"}",
		      "seq.rule: ", "unknown rule 'sometimes'");
	spec_load_bad("\"channel\":\"/c\",\"seq\":{\"rule\":\"link\",\"seq\":\"/s\"}",
		      "seq: ", "needs \"prev\"");
	spec_load_bad(
		"\"channel\":\"/c\",\"seq\":{\"rule\":\"range\",\"first\":\"/a\",\"last\":\"/b\",\"reset\":-1}",
		"seq.reset: ", "only rule link");
	spec_load_bad("\"channel\":\"/c\",\"seq\":{\"rule\":\"consecutive\",\"seq\":\"/s\",\"prev\":\"/p\"}",
		      "seq.prev: ", "not a member of rule consecutive");
	spec_load_bad("\"channel\":\"/c\",\"seq\":{\"rule\":\"consecutive\",\"seq\":\"/s\",\"step\":1}",
		      "seq: key 'step'", "unknown key");
	spec_load_bad("\"seq\":{\"rule\":\"consecutive\",\"seq\":\"/s\"}", "seq: ", "needs \"channel\"");
	spec_load_bad("\"key\":[\"/ts\"]", "key: ", "needs \"events\"");
	spec_load_bad("\"send\":{\"op\":\"x\"}", "send: ", "a list");
	spec_load_bad("\"send\":[{\"/op\":\"x\"}]", "send[0]: ", "cannot be sent");
	spec_load_bad("\"subscribe\":{\"match\":{\"/op\":\"s\"},\"channel\":\"\"}",
		      "subscribe.list: ", "missing");
	spec_load_bad("\"subscribe\":{\"list\":\"/args\",\"channel\":\"\",\"match\":{\"op\":\"s\"}}",
		      "subscribe.match: key 'op'", "'/'");
	spec_load_bad("\"ping\":{\"from\":\"both\",\"every_s\":5,\"message\":\"p\",\"answer\":\"q\"}",
		      "ping.from: ", "'both'");
	spec_load_bad("\"ping\":{\"from\":\"client\",\"every_s\":0,\"message\":\"p\",\"answer\":\"q\"}",
		      "ping.every_s: ", "outside");
	spec_load_bad("\"ping\":{\"from\":\"client\",\"every_s\":\"x\",\"message\":\"p\",\"answer\":\"q\"}",
		      "ping.every_s: ", "not a string");
	spec_load_bad("\"subscribe\":{\"list\":\"/args\",\"channel\":\"\"}",
		      "subscribe: ", "needs \"channel\"");
	spec_load_bad(
		"\"ping\":{\"from\":\"client\",\"every_s\":5,\"message\":{\"/op\":\"ping\"},\"answer\":\"q\"}",
		"ping.message: ", "cannot be sent");
	spec_load_bad("\"ping\":{\"from\":\"client\",\"every_s\":5,\"message\":\"p\"}",
		      "ping.answer: ", "missing");
	spec_load_bad(
		"\"ping\":{\"from\":\"client\",\"every_s\":5,\"message\":\"p\",\"answer\":\"q\",\"x\":1}",
		"ping: key 'x'", "unknown key");
	/* the name */
	assert_int_equal(feed_spec_load("{\"wstape_feed_spec\":1,\"name\":\"Big Name\"}", 40, "t.json", &f,
					err, sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "t.json: name: 'Big Name' has a character outside [a-z0-9-]"));
	assert_int_equal(feed_spec_load("{\"wstape_feed_spec\":1}", 22, "t.json", &f, err, sizeof(err)),
			 EINVAL);
	assert_non_null(strstr(err, "name: missing"));
	/* an error cut to a small buffer is still a string */
	assert_int_equal(feed_spec_load("{", 1, "t.json", &f, err, 8), EINVAL);
	assert_int_equal(strlen(err), 7);
	feed_spec_free(NULL);
	feed_spec_free(feed_find("raw"));
	assert_null(feed_spec_text(feed_find("raw")));
}

static void
test_feeds__spec_classify_link(void **state)
{
	struct feed *f = spec_load_ok(okx_spec);
	struct feed_msg m;
	(void)state;
	assert_string_equal(f->name, "spec:okx-books");
	assert_non_null(strstr(feed_spec_text(f), "\"name\":\"okx-books\""));
	assert_null(strchr(feed_spec_text(f), '\n'));
	m = classify(
		f,
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"BTC-USDT\"},\"action\":\"update\",\"data\":"
		"[{\"asks\":[],\"bids\":[],\"ts\":\"1700\",\"checksum\":1,\"prevSeqId\":41,\"seqId\":42}]}");
	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_str(m.channel, "books:BTC-USDT");
	assert_str(m.cursor, "42");
	assert_int_equal(m.seq, 42);
	assert_int_equal(m.events.p[0], '[');
	/* the answer to a subscribe names the channel, and is no data */
	m = classify(
		f,
		"{\"event\":\"subscribe\",\"arg\":{\"channel\":\"books\",\"instId\":\"ETH-USDT\"},\"connId\":\"a\"}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.type, "subscribe");
	assert_str(m.channel, "books:ETH-USDT");
	assert_str(m.cursor, NULL);
	/* the ping and its answer: plain text, control */
	m = classify(f, "ping");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_int_equal(m.ping, FEED_MSG_PING);
	m = classify(f, "pong");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_int_equal(m.ping, FEED_MSG_PONG);
	m = classify(f, "pongs");
	assert_int_equal(m.cls, FEED_MSG_NOT_JSON);
	assert_int_equal(classify(f, "{\"arg\":{\"channel\":\"books\"}").cls, FEED_MSG_NOT_JSON);
	assert_int_equal(classify(f, "").cls, FEED_MSG_NOT_JSON);
	assert_int_equal(classify(f, "[1,2]").cls, FEED_MSG_OTHER);
	/* a channel value that is no scalar gives no channel */
	m = classify(f, "{\"arg\":{\"channel\":{},\"instId\":\"X\"},\"data\":[]}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.channel, NULL);
	feed_spec_free(f);
}

struct spec_keys {
	int n;
	uint64_t hash[8];
	size_t len[8];
};

static int
spec_key_of(const struct feed_event *ev, void *ud)
{
	struct spec_keys *k = ud;

	assert_int_equal(ev->key_time, -1);
	if (k->n < 8) {
		k->len[k->n] = ev->raw.len;
		k->hash[k->n++] = ev->hash;
	}
	return 0;
}

static void
test_feeds__spec_events_and_keys(void **state)
{
	struct feed *b = spec_load_ok(binance_spec), *o = spec_load_ok(okx_spec);
	struct feed_msg m;
	struct spec_keys k = { 0 };
	(void)state;
	/* an object is one event; the key is its U and u */
	m = classify(
		b,
		"{\"stream\":\"btcusdt@depth\",\"data\":{\"e\":\"depthUpdate\",\"U\":10,\"u\":12,\"b\":[[\"1\",\"2\"]]}}");
	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_str(m.channel, "btcusdt@depth");
	assert_str(m.type, "depthUpdate");
	assert_str(m.cursor, "12");
	assert_int_equal(m.seq, 12);
	assert_int_equal(feed_events_foreach(b, &m, spec_key_of, &k), 0);
	m = classify(
		b,
		"{\"stream\":\"btcusdt@depth\",\"data\":{\"e\":\"depthUpdate\",\"U\":10,\"u\":12,\"b\":[]}}");
	assert_int_equal(feed_events_foreach(b, &m, spec_key_of, &k), 0);
	m = classify(b, "{\"stream\":\"btcusdt@depth\",\"data\":{\"U\":13,\"u\":12}}");
	assert_int_equal(feed_events_foreach(b, &m, spec_key_of, &k), 0);
	assert_int_equal(k.n, 3);
	assert_true(k.hash[0] == k.hash[1]); /* the same key, other bytes */
	assert_true(k.hash[0] != k.hash[2]);
	/* no stream: control */
	assert_int_equal(classify(b, "{\"result\":null,\"id\":1}").cls, FEED_MSG_CONTROL);
	/* an array: each element; an event without the key's members: its bytes */
	k.n = 0;
	m = classify(o,
		     "{\"arg\":{\"channel\":\"books\",\"instId\":\"A\"},\"data\":[{\"seqId\":1,\"ts\":\"5\"},"
		     "{\"seqId\":1,\"ts\":\"5\",\"x\":1},{\"y\":2},{\"y\":3}]}");
	assert_int_equal(feed_events_foreach(o, &m, spec_key_of, &k), 0);
	assert_int_equal(k.n, 4);
	assert_true(k.hash[0] == k.hash[1]);
	assert_true(k.hash[2] != k.hash[3]);
	/* a malformed events array */
	m.events.len -= 3;
	assert_int_equal(feed_events_foreach(o, &m, spec_key_of, &k), -1);
	feed_spec_free(b);
	feed_spec_free(o);
}

static void
test_feeds__spec_pointers(void **state)
{
	struct feed *f = spec_load_ok(
		"{\"wstape_feed_spec\":1,\"name\":\"p\",\"channel\":[\"/a~1b\",\"/m~0n\",\"/arr/1/x\"],"
		"\"cursor\":\"/e\\\\u0073c\",\"data\":\"\"}");
	struct feed_msg m;
	(void)state;
	/* ~1 is '/', ~0 is '~'; a key written with JSON escapes is the same key */
	m = classify(
		f,
		"{\"a/b\":\"one\",\"m~n\":2,\"arr\":[{\"x\":0},{\"x\":\"th\\\"ree\"}],\"e\\\\u0073c\":true}");
	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_str(m.channel, "one:2:th\\\"ree");
	assert_str(m.cursor, "true");
	m = classify(f, "{\"\\u0061/b\":\"one\",\"m~n\":2,\"arr\":[{\"x\":0},{\"x\":3}]}");
	assert_str(m.channel, "one:2:3");
	/* an index past the end, a key absent: no channel */
	m = classify(f, "{\"a/b\":\"one\",\"m~n\":2,\"arr\":[{\"x\":0}]}");
	assert_int_equal(m.cls, FEED_MSG_CONTROL);
	assert_str(m.channel, NULL);
	m = classify(f, "{\"a/b\":\"one\",\"m~0n\":2,\"arr\":[{\"x\":0},{\"x\":1}]}");
	assert_str(m.channel, NULL);
	feed_spec_free(f);
	/* leading zeros are no index; "" is the whole value */
	f = spec_load_ok("{\"wstape_feed_spec\":1,\"name\":\"q\",\"channel\":\"/l/01\",\"cursor\":\"\"}");
	assert_str(classify(f, "{\"l\":[\"a\",\"b\"]}").channel, NULL);
	feed_spec_free(f);
	f = spec_load_ok("{\"wstape_feed_spec\":1,\"name\":\"q\",\"channel\":\"/l/1\",\"cursor\":\"/l\"}");
	m = classify(f, " {\"l\":[\"a\",\"b\"]} ");
	assert_str(m.channel, "b");
	assert_str(m.cursor, NULL); /* an array is no cursor */
	feed_spec_free(f);
}

static void
test_feeds__spec_large_payload(void **state)
{
	struct feed *f = spec_load_ok(okx_spec);
	size_t n = 4u << 20;
	char *p = malloc(n + 256);
	struct feed_msg m;
	size_t len;
	(void)state;
	/* a large array before the members looked for */
	len = (size_t)sprintf(p, "{\"pad\":[");
	while (len < n)
		len += (size_t)sprintf(p + len, "\"x\\\"]}\",");
	len += (size_t)sprintf(
		p + len,
		"0],\"arg\":{\"channel\":\"books\",\"instId\":\"Z\"},\"data\":[{\"seqId\":9,\"prevSeqId\":8}]}");
	assert_int_equal(feed_classify(f, (const uint8_t *)p, len, &m), 0);
	assert_int_equal(m.cls, FEED_MSG_DATA);
	assert_str(m.channel, "books:Z");
	assert_int_equal(m.seq, 9);
	/* cut short anywhere near its end: not JSON */
	for (size_t cut = 1; cut < 40; cut++) {
		assert_int_equal(feed_classify(f, (const uint8_t *)p, len - cut, &m), 0);
		assert_int_equal(m.cls, FEED_MSG_NOT_JSON);
	}
	free(p);
	feed_spec_free(f);
}

static void
test_feeds__spec_seq_rules(void **state)
{
	struct feed *o = spec_load_ok(okx_spec), *b = spec_load_ok(binance_spec);
	struct feed *c = spec_load_ok("{\"wstape_feed_spec\":1,\"name\":\"c\",\"channel\":\"/ch\",\"seq\":"
				      "{\"rule\":\"consecutive\",\"seq\":\"/sequence\",\"per_conn\":true}}");
	const char *msgs[] = {
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A\"},\"data\":[{\"prevSeqId\":-1,\"seqId\":7}]}",
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"A\"},\"data\":[{\"prevSeqId\":7,\"seqId\":9}]}",
		"{\"stream\":\"s\",\"data\":{\"U\":5,\"u\":8}}",
		"{\"ch\":\"x\",\"sequence\":\"12\"}",
	};
	const struct feed *feeds[] = { o, o, b, c };
	int64_t want[][4] = { { 7, 7, -1, 1 }, { 9, 9, 7, 0 }, { 5, 8, -1, 0 }, { 12, 12, -1, 0 } };
	(void)state;
	assert_int_equal(c->inspect->seq_per_conn, 1);
	assert_int_equal(o->inspect->seq_per_conn, 0);
	for (int i = 0; i < 4; i++) {
		const struct feed *f = feeds[i];
		void *st = f->inspect->state_new(f);
		struct feed_msg m = classify(f, msgs[i]);
		struct inspect_rec r = { 1, 0, 1, 0, (const uint8_t *)msgs[i], strlen(msgs[i]) };
		struct feed_seq s = { 0 };

		assert_int_equal(m.cls, FEED_MSG_DATA);
		assert_int_equal(f->inspect->seq(st, &r, &m, &s), 1);
		assert_int_equal(s.first, want[i][0]);
		assert_int_equal(s.last, want[i][1]);
		assert_int_equal(s.prev, want[i][2]);
		assert_int_equal(s.reset, want[i][3]);
		if (f->inspect->state_free)
			f->inspect->state_free(st);
	}
	/* no number: no place in a sequence */
	{
		const char *t = "{\"ch\":\"x\",\"sequence\":1.5}";
		struct feed_msg m = classify(c, t);
		struct inspect_rec r = { 1, 0, 1, 0, (const uint8_t *)t, strlen(t) };
		struct feed_seq s = { 0 };
		assert_int_equal(c->inspect->seq(c->inspect->state_new(c), &r, &m, &s), 0);
	}
	feed_spec_free(o);
	feed_spec_free(b);
	feed_spec_free(c);
}

static void
test_feeds__spec_mutations_never_crash(void **state)
{
	struct feed *f = spec_load_ok(okx_spec);
	const char *base =
		"{\"arg\":{\"channel\":\"books\",\"instId\":\"B\\u0041\"},\"data\":[{\"seqId\":3,\"ts\":\"1\","
		"\"prevSeqId\":2,\"asks\":[[\"1\",\"2\"]]},{\"seqId\":4}]}";
	size_t n = strlen(base);
	char buf[512];
	struct spec_keys k;
	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (int c = 0; c < 6; c++) {
			static const char subst[] = "{}[]\"\\";
			struct feed_msg m;

			memcpy(buf, base, n);
			buf[i] = subst[c];
			feed_classify(f, (const uint8_t *)buf, n, &m);
			k.n = 0;
			feed_events_foreach(f, &m, spec_key_of, &k);
			feed_classify(f, (const uint8_t *)buf, i, &m);
			feed_events_foreach(f, &m, spec_key_of, &k);
		}
	}
	feed_spec_free(f);
	/* every prefix of a spec loads or fails, never crashes */
	for (size_t i = 0; i < sizeof(okx_spec) - 1; i++) {
		struct feed *g = NULL;
		char err[256];
		int rc = feed_spec_load(okx_spec, i, "t.json", &g, err, sizeof(err));
		assert_int_equal(rc, EINVAL);
		assert_non_null(strstr(err, "t.json: "));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_feeds__lookup_and_names),
		cmocka_unit_test(test_feeds__hydromancer_live_message),
		cmocka_unit_test(test_feeds__hydromancer_replay_chunk),
		cmocka_unit_test(test_feeds__hydromancer_connected_and_reconnected),
		cmocka_unit_test(test_feeds__hydromancer_subscription_update_and_out_frames),
		cmocka_unit_test(test_feeds__hydromancer_numeric_cursor),
		cmocka_unit_test(test_feeds__hydromancer_dedup_key_rules),
		cmocka_unit_test(test_feeds__events_malformed_array),
		cmocka_unit_test(test_feeds__events_callback_stops),
		cmocka_unit_test(test_feeds__resume_cursor_waits_for_the_replay),
		cmocka_unit_test(test_feeds__resume_cursor_is_the_oldest_channel),
		cmocka_unit_test(test_feeds__hydromancer_client_errors_and_escapes),
		cmocka_unit_test(test_feeds__client_handshake_and_options),
		cmocka_unit_test(test_feeds__backoff_rule),
		cmocka_unit_test(test_feeds__lasersell_messages),
		cmocka_unit_test(test_feeds__not_json_and_truncated),
		cmocka_unit_test(test_feeds__raw_feed),
		cmocka_unit_test(test_feeds__json_scan_int),
		cmocka_unit_test(test_feeds__hydromancer_cursor_formats),
		cmocka_unit_test(test_feeds__hydromancer_dedup_stream),
		cmocka_unit_test(test_feeds__hydromancer_dedup_window),
		cmocka_unit_test(test_feeds__hydromancer_stream_messages),
		cmocka_unit_test(test_feeds__hash_distinguishes),
		cmocka_unit_test(test_feeds__mutations_never_crash),
		cmocka_unit_test(test_feeds__hydromancer_client_echo_is_json),
		cmocka_unit_test(test_feeds__hydromancer_with_seq_empty_object),
		cmocka_unit_test(test_feeds__spec_load_errors),
		cmocka_unit_test(test_feeds__spec_classify_link),
		cmocka_unit_test(test_feeds__spec_events_and_keys),
		cmocka_unit_test(test_feeds__spec_pointers),
		cmocka_unit_test(test_feeds__spec_large_payload),
		cmocka_unit_test(test_feeds__spec_seq_rules),
		cmocka_unit_test(test_feeds__spec_mutations_never_crash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
