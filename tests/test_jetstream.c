/* test_jetstream.c - jetstream/: names and escapes, the Nats-Msg-Id of records, a record's
 * message, and the publisher against a real nats-server (started here on a free port, its
 * store in a temporary directory; killed -9 and started again mid-way) */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "feeds/feed.h"
#include "jetstream/internal.h"
#include "journal/journal.h"

static char tmproot[256];

/* ---- names ---- */

static void
test_jetstream__names(void **state)
{
	char b[256];

	assert_true(js_recorder_ok("host-1.eu_2"));
	assert_false(js_recorder_ok(""));
	assert_false(js_recorder_ok("a b"));
	assert_false(js_recorder_ok("a*"));
	memset(b, 'a', 65);
	b[65] = 0;
	assert_false(js_recorder_ok(b));
	b[64] = 0;
	assert_true(js_recorder_ok(b));
	assert_true(js_name_ok("day-1_x"));
	assert_false(js_name_ok("a.b")); /* a '.' would be another subject token */
	assert_false(js_name_ok(">"));

	js_default_name("/data/journals/hl fills.2026/", b, sizeof b);
	assert_string_equal(b, "hl_fills_2026");
	js_default_name("/", b, sizeof b);
	assert_string_equal(b, "journal");
	js_default_recorder(b, sizeof b);
	assert_true(js_recorder_ok(b));

	assert_int_equal(js_subject_token("allFills", 8, b, sizeof b), 8);
	assert_string_equal(b, "allFills");
	assert_int_equal(js_subject_token("", 0, b, sizeof b), 1);
	assert_string_equal(b, "_");
	js_subject_token("_", 1, b, sizeof b);
	assert_string_equal(b, "%5F");
	js_subject_token("a.b*>c d", 8, b, sizeof b);
	assert_string_equal(b, "a%2Eb%2A%3Ec%20d");
	assert_int_equal(js_subject_token("abc", 3, b, 3), 0);
	assert_true(js_subject("J", "BTC/USD", 7, b, sizeof b) > 0);
	assert_string_equal(b, "wstape.J.BTC%2FUSD");

	/* header values: any bytes, back as they were */
	const char raw[] = "500:17:3 %\r\n\x01\xff";
	char esc[128], back[64];
	size_t n = js_hdr_escape(raw, sizeof raw - 1, esc, sizeof esc);
	assert_true(n > 0);
	assert_null(strpbrk(esc, "\r\n"));
	assert_int_equal(js_hdr_unescape(esc, n, back, sizeof back), sizeof raw - 1);
	assert_memory_equal(back, raw, sizeof raw - 1);
	assert_int_equal(js_hdr_unescape("%4", 2, back, sizeof back), (size_t)-1);
	assert_int_equal(js_hdr_unescape("%zz", 3, back, sizeof back), (size_t)-1);
	assert_int_equal(js_hdr_unescape("abcdef", 6, back, 3), (size_t)-1);

	/* credentials never shown */
	js_servers_redact("nats://alice:s3cret@h1:4222,tok@h2:4222, nats://h3:4222", b, sizeof b);
	assert_null(strstr(b, "s3cret"));
	assert_null(strstr(b, "tok"));
	assert_non_null(strstr(b, "h1:4222"));
	assert_non_null(strstr(b, "h2:4222"));
	assert_non_null(strstr(b, "nats://h3:4222"));
	js_servers_redact("nats://a:b@h:1", b, 8);
	assert_true(strlen(b) < 8);
	assert_null(strstr(b, "a:b"));
}

/* ---- Nats-Msg-Id ---- */

static struct journal_record
text_rec(uint64_t recno, uint32_t conn, const char *payload)
{
	struct journal_record r = {
		.recno = recno, .wall_ns = 1, .conn = conn, .dir = JOURNAL_IN, .kind = JOURNAL_TEXT
	};
	r.payload = (const uint8_t *)payload;
	r.payload_len = strlen(payload);
	return r;
}

static void
test_jetstream__msg_id(void **state)
{
	const struct feed *hm = feed_find("hydromancer");
	char a[JS_MSG_ID_MAX], b[JS_MSG_ID_MAX], c[JS_MSG_ID_MAX];
	/* the same fills on two connections of two recorders, with their own seq */
	const char *live1 = "{\"type\":\"allFills\",\"seq\":42,\"cursor\":\"500:1706123456789:3\",\"fills\":["
			    "[\"0x742d35\",{\"coin\":\"ETH\",\"time\":1706123456789,\"txIndex\":3}]]}";
	const char *live2 = "{\"type\":\"allFills\",\"seq\":7,\"cursor\":\"500:1706123456789:3\",\"fills\":["
			    "[\"0x742d35\",{\"coin\":\"ETH\",\"time\":1706123456789,\"txIndex\":3}]]}";
	const char *other = "{\"type\":\"allFills\",\"seq\":43,\"cursor\":\"501:1706123456790:0\",\"fills\":["
			    "[\"0x1\",{\"coin\":\"BTC\",\"time\":1706123456790,\"txIndex\":0}]]}";
	const char *chunk =
		"{\"type\":\"replay\",\"channel\":\"allFills\",\"replayTimeMs\":\"500:1:3\","
		"\"cursor\":\"500:1706123456789:3\",\"count\":1,\"chunk\":1,\"totalChunks\":1,"
		"\"data\":[[\"0x742d35\",{\"coin\":\"ETH\",\"time\":1706123456789,\"txIndex\":3}]]}";

	struct journal_record r1 = text_rec(10, 1, live1), r2 = text_rec(99, 3, live2);
	r1.channel = r2.channel = "allFills";
	r1.channel_len = r2.channel_len = 8;
	assert_int_equal(js_msg_id(hm, "a", "0123456789abcdef", &r1, a), 1);
	assert_int_equal(js_msg_id(hm, "b", "fedcba9876543210", &r2, b), 1);
	assert_string_equal(a, b);
	assert_int_equal(strncmp(a, "hydromancer.d.", 14), 0);
	struct journal_record r3 = text_rec(11, 1, other);
	assert_int_equal(js_msg_id(hm, "a", "0123456789abcdef", &r3, c), 1);
	assert_string_not_equal(a, c);
	/* a replay chunk of the same event is another message */
	struct journal_record r4 = text_rec(12, 1, chunk);
	assert_int_equal(js_msg_id(hm, "a", "0123456789abcdef", &r4, c), 1);
	assert_int_equal(strncmp(c, "hydromancer.r.", 14), 0);
	/* connection events, what was sent, raw feeds: per recorder */
	struct journal_record open = { .recno = 5, .conn = 1, .dir = JOURNAL_IN, .kind = JOURNAL_OPEN };
	open.payload = (const uint8_t *)"{}";
	open.payload_len = 2;
	assert_int_equal(js_msg_id(hm, "a", "0123456789abcdef", &open, c), 0);
	assert_string_equal(c, "a.0123456789abcdef.5");
	struct journal_record out = r1;
	out.dir = JOURNAL_OUT;
	assert_int_equal(js_msg_id(hm, "a", "0123456789abcdef", &out, c), 0);
	assert_string_equal(c, "a.0123456789abcdef.10");
	assert_int_equal(js_msg_id(&feed_raw, "a", "0123456789abcdef", &r1, c), 0);
	assert_int_equal(js_msg_id(NULL, "a", "0123456789abcdef", &r1, c), 0);
	/* a control message of the feed is no event */
	struct journal_record pong = text_rec(13, 1, "{\"type\":\"pong\"}");
	assert_int_equal(js_msg_id(hm, "a", "0123456789abcdef", &pong, c), 0);
}

/* ---- a record's message ---- */

static const char *
hdr(natsMsg *m, const char *k)
{
	const char *v = NULL;
	return natsMsgHeader_Get(m, k, &v) == NATS_OK ? v : NULL;
}

static void
test_jetstream__message(void **state)
{
	struct js_msg_source src = { "day1", "rec-a", "0123456789abcdef", feed_find("hydromancer") };
	struct journal_record r = text_rec(77, 2, "{\"type\":\"pong\"}");
	natsMsg *m;

	r.wall_ns = 1764700000123456789LL;
	r.mono_ns = 42;
	r.channel = "a.b c";
	r.channel_len = 5;
	r.cursor = (const uint8_t *)"1:2\n";
	r.cursor_len = 4;
	assert_int_equal(js_message_build(&src, &r, &m, NULL, 0), 0);
	assert_string_equal(natsMsg_GetSubject(m), "wstape.day1.a%2Eb%20c");
	assert_int_equal(natsMsg_GetDataLength(m), (int)r.payload_len);
	assert_memory_equal(natsMsg_GetData(m), r.payload, r.payload_len);
	assert_string_equal(hdr(m, JS_HDR_RECORDER), "rec-a");
	assert_string_equal(hdr(m, JS_HDR_JOURNAL), "0123456789abcdef");
	assert_string_equal(hdr(m, JS_HDR_RECNO), "77");
	assert_string_equal(hdr(m, JS_HDR_WALL), "1764700000123456789");
	assert_string_equal(hdr(m, JS_HDR_MONO), "42");
	assert_string_equal(hdr(m, JS_HDR_CONN), "2");
	assert_string_equal(hdr(m, JS_HDR_DIR), "in");
	assert_string_equal(hdr(m, JS_HDR_KIND), "text");
	assert_string_equal(hdr(m, JS_HDR_CHANNEL), "a.b%20c"); /* a space too: NATS trims values */
	assert_string_equal(hdr(m, JS_HDR_CURSOR), "1:2%0A");
	assert_string_equal(hdr(m, JS_HDR_FEED), "hydromancer");
	assert_string_equal(hdr(m, JS_HDR_MSG_ID), "rec-a.0123456789abcdef.77");
	natsMsg_Destroy(m);
	/* no channel, no cursor: no such headers; the subject's token is "_" */
	r.channel_len = r.cursor_len = 0;
	assert_int_equal(js_message_build(&src, &r, &m, NULL, 0), 0);
	assert_string_equal(natsMsg_GetSubject(m), "wstape.day1._");
	assert_null(hdr(m, JS_HDR_CHANNEL));
	assert_null(hdr(m, JS_HDR_CURSOR));
	natsMsg_Destroy(m);
}

/* ---- the publisher against a real nats-server ---- */

static int nats_port;
static pid_t nats_pid;
static char nats_url[64], nats_store[300];

static int
free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t n = sizeof a;
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || getsockname(fd, (struct sockaddr *)&a, &n))
		return -1;
	close(fd);
	return ntohs(a.sin_port);
}

static const char *
nats_server_path(void)
{
	const char *e = getenv("NATS_SERVER");
	if (e && *e)
		return e;
	return access("/usr/sbin/nats-server", X_OK) == 0 ? "/usr/sbin/nats-server" : "/usr/bin/nats-server";
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Starts nats-server with JetStream on nats_port, its store nats_store; waits (60 s) until a
 * JetStream request is answered. */
static void
nats_start(void)
{
	char port[16], log[400];
	snprintf(port, sizeof port, "%d", nats_port);
	snprintf(log, sizeof log, "%s/nats.log", tmproot);
	nats_pid = fork();
	assert_true(nats_pid >= 0);
	if (nats_pid == 0) {
		execl(nats_server_path(), "nats-server", "-a", "127.0.0.1", "-p", port, "-js", "-sd",
		      nats_store, "-l", log, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 600; i++) {
		struct js_conn *c;
		struct js_conn_options o = { .servers = nats_url, .timeout_ms = 1000 };
		if (js_connect(&o, &c, NULL, 0) == 0) {
			jsAccountInfo *ai = NULL;
			natsStatus s = js_GetAccountInfo(&ai, c->js, NULL, NULL);
			jsAccountInfo_Destroy(ai);
			js_close(c);
			if (s == NATS_OK)
				return;
		}
		sleep_ms(100);
	}
	fail_msg("nats-server did not answer on %s within 60 s (log: %s)", nats_url, log);
}

static void
nats_kill(void)
{
	kill(nats_pid, SIGKILL);
	waitpid(nats_pid, NULL, 0);
	nats_pid = 0;
}

static void
stream_state(const char *name, uint64_t *msgs, uint64_t *last_seq)
{
	struct js_conn *c;
	struct js_conn_options o = { .servers = nats_url };
	jsStreamInfo *si = NULL;
	assert_int_equal(js_connect(&o, &c, NULL, 0), 0);
	assert_int_equal(js_GetStreamInfo(&si, c->js, name, NULL, NULL), NATS_OK);
	*msgs = si->State.Msgs;
	*last_seq = si->State.LastSeq;
	jsStreamInfo_Destroy(si);
	js_close(c);
}

static void
stream_add(const char *name)
{
	struct js_conn *c;
	struct js_conn_options o = { .servers = nats_url };
	jsStreamConfig cfg;
	const char *subj[] = { "wstape.>" };
	jsErrCode jerr = 0;
	assert_int_equal(js_connect(&o, &c, NULL, 0), 0);
	jsStreamConfig_Init(&cfg);
	cfg.Name = name;
	cfg.Subjects = subj;
	cfg.SubjectsLen = 1;
	cfg.Storage = js_FileStorage;
	assert_int_equal(js_AddStream(NULL, c->js, &cfg, NULL, &jerr), NATS_OK);
	js_close(c);
}

static void
append_records(struct journal *j, uint64_t from, uint64_t to)
{
	char p[200], cur[32];
	for (uint64_t i = from; i <= to; i++) {
		int n = snprintf(p, sizeof p, "{\"n\":%llu,\"pad\":\"%0*d\"}", (unsigned long long)i,
				 (int)(i % 90), 0);
		snprintf(cur, sizeof cur, "%llu", (unsigned long long)i);
		struct journal_record r = { .wall_ns = 1764700000000000000LL + (int64_t)i * 1000000,
					    .mono_ns = (int64_t)i,
					    .conn = 1,
					    .dir = JOURNAL_IN,
					    .kind = JOURNAL_TEXT,
					    .channel = i % 2 ? "odd" : "even",
					    .channel_len = i % 2 ? 3 : 4,
					    .cursor = (const uint8_t *)cur,
					    .cursor_len = (uint16_t)strlen(cur),
					    .payload = (const uint8_t *)p,
					    .payload_len = (size_t)n };
		assert_int_equal(journal_append(j, &r), 0);
	}
	assert_int_equal(journal_flush(j), 0);
}

static void
test_jetstream__publisher(void **state)
{
	char path[300];
	struct journal *j;
	struct js_publisher *p;
	struct js_publisher_stats st;
	uint64_t msgs, last, mark;
	char detail[256] = "";

	if (access(nats_server_path(), X_OK) != 0)
		skip();
	nats_port = free_port();
	assert_true(nats_port > 0);
	snprintf(nats_url, sizeof nats_url, "nats://127.0.0.1:%d", nats_port);
	snprintf(nats_store, sizeof nats_store, "%s/nats-store", tmproot);
	nats_start();
	stream_add("T");

	snprintf(path, sizeof path, "%s/pubj", tmproot);
	assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
	append_records(j, 1, 500);
	struct js_publisher_options o = { .servers = nats_url,
					  .stream = "T",
					  .name = "pubj",
					  .recorder = "r1",
					  .journal_id = "00112233445566aa",
					  .feed = &feed_raw,
					  .max_inflight = 64,
					  .ack_timeout_ms = 2000 };
	assert_int_equal(js_publisher_start(path, &o, &p, detail, sizeof detail), 0);
	/* it follows the journal as it is written */
	append_records(j, 501, 700);
	assert_int_equal(js_publisher_stop(p, 60000, &st), 0);
	assert_int_equal(st.acked_recno, 700);
	assert_int_equal(st.published, 700);
	assert_int_equal(st.duplicates, 0);
	stream_state("T", &msgs, &last);
	assert_int_equal(msgs, 700);
	assert_int_equal(journal_mark_get(j, "nats.T", &mark), 0);
	assert_int_equal(mark, 700);

	/* NATS gone: the journal goes on; back with its store: caught up, nothing twice */
	assert_int_equal(js_publisher_start(path, &o, &p, detail, sizeof detail), 0);
	nats_kill();
	append_records(j, 701, 1000);
	sleep_ms(500);
	js_publisher_stats(p, &st);
	assert_true(st.acked_recno <= 1000);
	nats_start();
	assert_int_equal(js_publisher_stop(p, 60000, &st), 0);
	assert_int_equal(st.acked_recno, 1000);
	stream_state("T", &msgs, &last);
	assert_int_equal(msgs, 1000);

	/* the mark lost (or older than the stream): what is sent again is dropped by the
	 * stream's duplicate window and counted as duplicates */
	assert_int_equal(journal_mark_set(j, "nats.T", 900), 0);
	assert_int_equal(js_publisher_start(path, &o, &p, detail, sizeof detail), 0);
	assert_int_equal(js_publisher_stop(p, 60000, &st), 0);
	assert_int_equal(st.duplicates, 100);
	stream_state("T", &msgs, &last);
	assert_int_equal(msgs, 1000);

	/* a stream that does not exist: said in the stats, no crash; stop times out */
	o.stream = "NOPE";
	assert_int_equal(js_publisher_start(path, &o, &p, detail, sizeof detail), 0);
	for (int i = 0; i < 600; i++) {
		js_publisher_stats(p, &st);
		if (st.last_err == JS_ENOSTREAM)
			break;
		sleep_ms(100);
	}
	assert_int_equal(st.last_err, JS_ENOSTREAM);
	assert_int_not_equal(js_publisher_stop(p, 100, &st), 0);

	/* bad options */
	o.stream = "a.b";
	assert_int_equal(js_publisher_start(path, &o, &p, detail, sizeof detail), JS_EINVAL);
	o.stream = "T";
	o.journal_id = "xyz";
	assert_int_equal(js_publisher_start(path, &o, &p, detail, sizeof detail), JS_EINVAL);
	o.journal_id = "00112233445566aa";
	o.servers = "http://127.0.0.1:1";
	assert_int_equal(js_publisher_start(path, &o, &p, detail, sizeof detail), JS_EINVAL);

	assert_int_equal(journal_close(j), 0);
	nats_kill();
}

int
main(void)
{
	snprintf(tmproot, sizeof tmproot, "/tmp/wstape-test-jetstream-XXXXXX");
	if (!mkdtemp(tmproot))
		return 1;
	/* (messages made before any connection need the library opened) */
	if (nats_Open(-1) != NATS_OK)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jetstream__names),
		cmocka_unit_test(test_jetstream__msg_id),
		cmocka_unit_test(test_jetstream__message),
		cmocka_unit_test(test_jetstream__publisher),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (nats_pid > 0)
		nats_kill();
	js_library_close();
	char cmd[400];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
	if (!failed && system(cmd) != 0)
		return 1;
	return failed;
}
