/* test_recorder.c - the recorder's parts that need no network: the URL's userinfo and
 * origins, the headers and the secrets kept out of logs, the metadata escapes, the send
 * queue, the server's close frame, and the resume point from a journal's tail */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "recorder/recorder_int.h"
#include "util/log.h"

static char tmproot[256];

/* ---- helpers ---- */

static void
rec_free_parts(struct rec *r)
{
	rec_free_secrets(r);
	rec_drop_queue(r);
}

static int
has_secret(const struct rec *r, const char *s)
{
	for (int i = 0; i < r->nsecrets; i++)
		if (!strcmp(r->secrets[i], s))
			return 1;
	return 0;
}

static const struct header *
header_named(const struct rec *r, const char *name)
{
	for (int i = 0; i < r->nheaders; i++)
		if (!strcmp(r->headers[i].name, name))
			return &r->headers[i];
	return NULL;
}

/* what the log sink got, for the tests of lws's log lines */
static char logged[4096];
static void
capture(int level, const char *msg, int status_shown, void *ud)
{
	size_t n = strlen(logged);
	snprintf(logged + n, sizeof(logged) - n, "%s\n", msg);
}

/* ---- the URL's userinfo and origins ---- */

static void
test_recorder__userinfo(void **state)
{
	const char *s = NULL;
	char url[128];

	assert_int_equal(rec_url_userinfo("wss://user:pa%40ss@feed.example.com:9443/x?k=1", &s), 12);
	assert_memory_equal(s, "user:pa%40ss", 12);
	assert_int_equal(rec_url_userinfo("ws://127.0.0.1:9000/p", &s), 0);
	/* an '@' after the host is no userinfo */
	assert_int_equal(rec_url_userinfo("ws://host/path@x", &s), 0);
	assert_int_equal(rec_url_userinfo("ws://host?mail=a@b", &s), 0);
	assert_int_equal(rec_url_userinfo("ws://host#a@b", &s), 0);
	assert_int_equal(rec_url_userinfo("not a url", &s), 0);

	snprintf(url, sizeof(url), "wss://user:pw@feed.example.com/stream?x=1");
	rec_cut_userinfo(url);
	assert_string_equal(url, "wss://feed.example.com/stream?x=1");
	snprintf(url, sizeof(url), "ws://h/p@q");
	rec_cut_userinfo(url);
	assert_string_equal(url, "ws://h/p@q");
}

static void
test_recorder__same_origin(void **state)
{
	assert_true(rec_same_origin("ws://h:80/a", "ws://h/b"));
	assert_true(rec_same_origin("wss://h/a", "wss://h:443/b?x=1"));
	assert_true(rec_same_origin("ws://H:9000/a", "ws://h:9000/other"));
	/* userinfo is not part of an origin */
	assert_true(rec_same_origin("ws://u:p@h:9000/a", "ws://h:9000/"));
	assert_false(rec_same_origin("ws://h:9000/a", "ws://h:9001/a"));
	assert_false(rec_same_origin("ws://h/a", "wss://h/a"));
	assert_false(rec_same_origin("ws://h/a", "ws://other/a"));
	assert_false(rec_same_origin("ws://localhost:9000/", "ws://127.0.0.1:9000/"));
}

/* ---- headers and secrets ---- */

static void
test_recorder__headers_and_secrets(void **state)
{
	const char *headers[] = { "Authorization: Bearer tok-123456", "X-Trace: abc", "x-api-key:k-999",
				  "X-Mine:  hidden-value" };
	const char *secret_headers[] = { "X-Mine:" };
	struct recorder_options o = { .url = "ws://h/",
				      .headers = headers,
				      .nheaders = 4,
				      .secret_headers = secret_headers,
				      .nsecret_headers = 1 };
	struct rec r = { .o = &o };

	assert_int_equal(rec_parse_headers(&r), 0);
	assert_int_equal(r.nheaders, 4);
	assert_true(header_named(&r, "Authorization:")->secret);
	assert_string_equal(header_named(&r, "Authorization:")->value, "Bearer tok-123456");
	assert_false(header_named(&r, "X-Trace:")->secret);
	assert_true(header_named(&r, "x-api-key:")->secret);
	assert_true(header_named(&r, "X-Mine:")->secret);
	assert_string_equal(header_named(&r, "X-Mine:")->value, "hidden-value");
	/* the whole value, and the token after "Bearer " alone */
	assert_true(has_secret(&r, "Bearer tok-123456"));
	assert_true(has_secret(&r, "tok-123456"));
	assert_true(has_secret(&r, "k-999"));
	assert_true(has_secret(&r, "hidden-value"));
	assert_false(has_secret(&r, "abc"));
	/* the user gave an Authorization header: the URL's userinfo does not replace it */
	o.url = "ws://u:p@h/";
	assert_int_equal(rec_userinfo_header(&r), 0);
	assert_int_equal(r.nheaders, 4);
	rec_free_parts(&r);

	const char *bad[] = { ": no name" };
	struct recorder_options ob = { .url = "ws://h/", .headers = bad, .nheaders = 1 };
	struct rec rb = { .o = &ob };
	assert_int_equal(rec_parse_headers(&rb), RECORDER_EINVAL);
	rec_free_parts(&rb);
	const char *nocolon[] = { "NoColon" };
	ob.headers = nocolon;
	struct rec rc = { .o = &ob };
	assert_int_equal(rec_parse_headers(&rc), RECORDER_EINVAL);
	rec_free_parts(&rc);
}

static void
test_recorder__userinfo_becomes_basic_auth(void **state)
{
	struct recorder_options o = { .url = "wss://alice:s%40cret%3Ax@feed.example.com/stream" };
	struct rec r = { .o = &o };

	assert_int_equal(rec_parse_headers(&r), 0);
	assert_int_equal(rec_userinfo_header(&r), 0);
	const struct header *h = header_named(&r, "Authorization:");
	assert_non_null(h);
	assert_true(h->secret);
	/* base64 of the percent-decoded "alice:s@cret:x" */
	assert_string_equal(h->value, "Basic YWxpY2U6c0BjcmV0Ong=");
	assert_true(has_secret(&r, "YWxpY2U6c0BjcmV0Ong="));
	assert_true(has_secret(&r, "s@cret:x"));
	rec_free_parts(&r);

	/* no userinfo: no header */
	struct recorder_options o2 = { .url = "ws://h/" };
	struct rec r2 = { .o = &o2 };
	assert_int_equal(rec_parse_headers(&r2), 0);
	assert_int_equal(rec_userinfo_header(&r2), 0);
	assert_int_equal(r2.nheaders, 0);
	rec_free_parts(&r2);
}

static void
test_recorder__url_secrets_and_log_lines(void **state)
{
	struct recorder_options o = { .url = "ws://h/" };
	struct rec r = { .o = &o };

	rec_collect_url_secrets(&r, "wss://h/s?token=abcdef&depth=20&sig=0123456789#frag");
	assert_true(has_secret(&r, "abcdef"));
	assert_true(has_secret(&r, "0123456789"));
	assert_false(has_secret(&r, "20"));
	/* collected once however often the URL is seen */
	rec_collect_url_secrets(&r, "wss://h/s?token=abcdef");
	int n = r.nsecrets;
	rec_collect_url_secrets(&r, "wss://h/s?token=abcdef");
	assert_int_equal(r.nsecrets, n);
	/* values shorter than 3 bytes are not worth hiding (they would blank out words) */
	rec_add_secret(&r, "ab", 2);
	assert_false(has_secret(&r, "ab"));

	logged[0] = 0;
	log_set_sink(capture, NULL);
	log_set_level_name("debug");
	rec_log = &r;
	rec_lws_log_emit(LLL_ERR, "connect to wss://h/s?token=abcdef&sig=0123456789 failed\n");
	rec_lws_log_emit(LLL_INFO, "lws_ws_client_rx_sm: utf8 error\n");
	rec_log = NULL;
	log_set_sink(NULL, NULL);
	log_set_level_name("info");
	assert_non_null(strstr(logged, "lws: connect to wss://h/s?token=REDACTED&sig=REDACTED failed"));
	assert_null(strstr(logged, "abcdef"));
	assert_null(strstr(logged, "0123456789"));
	/* a protocol violation in an info line is kept for the journal's error, not logged */
	assert_string_equal(r.proto_error, "a text frame that is not UTF-8");
	assert_null(strstr(logged, "utf8"));
	/* a secret beside the end of a long line: cut there, never shown in part */
	char longline[1100];
	memset(longline, 'x', sizeof(longline));
	memcpy(longline + 1015, "abcdef", 6);
	longline[1099] = 0;
	logged[0] = 0;
	log_set_sink(capture, NULL);
	rec_log = &r;
	rec_lws_log_emit(LLL_ERR, longline);
	rec_log = NULL;
	log_set_sink(NULL, NULL);
	assert_null(strstr(logged, "abc"));
	assert_non_null(strstr(logged, "xxxREDACTED"));
	rec_free_parts(&r);
}

/* ---- metadata escapes ---- */

static void
test_recorder__meta_escapes(void **state)
{
	const char *in = "sess\r\n%41\x01\x7f-end";
	char esc[128], back[128];

	rec_meta_escape(esc, in);
	assert_string_equal(esc, "sess%0D%0A%2541%01%7F-end");
	for (const char *p = esc; *p; p++)
		assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
	rec_meta_unescape(back, sizeof(back), esc);
	assert_string_equal(back, in);
	/* a '%' without two hex digits (a journal written before the encoding) is kept */
	rec_meta_unescape(back, sizeof(back), "100%-sure%4");
	assert_string_equal(back, "100%-sure%4");
	/* %00 would end the string: kept as it is */
	rec_meta_unescape(back, sizeof(back), "a%00b");
	assert_string_equal(back, "a%00b");
	/* cut to the buffer, NUL-terminated */
	rec_meta_unescape(back, 4, "abcdef");
	assert_string_equal(back, "abc");
}

/* ---- the send queue and the server's close ---- */

static void
test_recorder__send_queue(void **state)
{
	struct rec r = { 0 };

	rec_queue_msg(&r, JOURNAL_TEXT, "one", 3);
	rec_feed_send(&r, "two", 3);
	rec_queue_msg(&r, JOURNAL_PING, "", 0);
	assert_non_null(r.out_head);
	assert_int_equal(r.out_head->len, 3);
	assert_memory_equal(r.out_head->buf + LWS_PRE, "one", 3);
	assert_int_equal(r.out_head->next->kind, JOURNAL_TEXT);
	assert_memory_equal(r.out_head->next->buf + LWS_PRE, "two", 3);
	assert_int_equal(r.out_tail->kind, JOURNAL_PING);
	assert_int_equal(r.out_tail->len, 0);
	assert_null(r.out_tail->next);
	rec_drop_queue(&r);
	assert_null(r.out_head);
	assert_null(r.out_tail);
	rec_feed_send(&r, "again", 5);
	assert_ptr_equal(r.out_head, r.out_tail);
	rec_drop_queue(&r);
}

static void
test_recorder__peer_close(void **state)
{
	struct rec r = { 0 };
	const unsigned char going[] = { 0x03, 0xe9, 'b', 'y', 'e' };

	assert_int_equal(rec_peer_close(&r, going, sizeof(going)), 0);
	assert_int_equal(r.close_code, 1001);
	assert_true(r.close_by_server);
	assert_string_equal(r.close_reason, "bye");

	struct rec e = { 0 };
	assert_int_equal(rec_peer_close(&e, NULL, 0), 0);
	assert_int_equal(e.close_code, 1005);
	assert_string_equal(e.close_reason, "");

	/* a reason longer than the buffer is cut, NUL-terminated */
	unsigned char big[2 + 600];
	big[0] = 0x0f, big[1] = 0xa1;
	memset(big + 2, 'r', 600);
	struct rec b = { 0 };
	assert_int_equal(rec_peer_close(&b, big, sizeof(big)), 0);
	assert_int_equal(b.close_code, 4001);
	assert_int_equal(strlen(b.close_reason), sizeof(b.close_reason) - 1);

	/* the answer to our own close ends the handshake: lws must not answer it again */
	struct rec ours = { .close_written = 1 };
	const unsigned char normal[] = { 0x03, 0xe8 };
	assert_int_equal(rec_peer_close(&ours, normal, sizeof(normal)), -1);
	assert_true(ours.close_answered);
	assert_int_equal(ours.server_close_code, 1000);
	assert_false(ours.close_by_server);
}

/* ---- the resume point ---- */

static void
append_in(struct journal *j, const char *channel, const char *cursor, const char *payload)
{
	struct journal_record rec = { 0 };
	static int64_t t = 1795341600000000000LL;
	t += 1000000;
	rec.wall_ns = t;
	rec.mono_ns = t - 1795341600000000000LL;
	rec.conn = 1;
	rec.dir = JOURNAL_IN;
	rec.kind = JOURNAL_TEXT;
	rec.channel = channel;
	rec.channel_len = (uint16_t)strlen(channel);
	rec.cursor = (const uint8_t *)cursor;
	rec.cursor_len = (uint16_t)strlen(cursor);
	rec.payload = (const uint8_t *)payload;
	rec.payload_len = strlen(payload);
	assert_int_equal(journal_append(j, &rec), 0);
}

static void
test_recorder__resume_track(void **state)
{
	char p[300];
	struct journal *j;
	struct feed_cursor_track trk;
	char sid[FEED_CLIENT_MAX_SESSION + 1];
	const struct feed *hm = feed_find("hydromancer");

	snprintf(p, sizeof(p), "%s/resume", tmproot);
	assert_int_equal(journal_open(p, JOURNAL_CREATE, NULL, &j, NULL), 0);
	/* the session id as the recorder stores it: escaped */
	char esc[64];
	rec_meta_escape(esc, "s-1\r");
	assert_int_equal(journal_meta_set(j, "session_id", esc), 0);
	append_in(j, "", "", "{\"type\":\"connected\",\"sessionId\":\"s-1\\r\"}");
	append_in(j, "fills", "100:1706000000000:1",
		  "{\"type\":\"fills\",\"seq\":1,\"cursor\":\"100:1706000000000:1\",\"fills\":[]}");
	append_in(j, "fills", "101:1706000000500:2",
		  "{\"type\":\"fills\",\"seq\":2,\"cursor\":\"101:1706000000500:2\",\"fills\":[]}");
	assert_int_equal(journal_close(j), 0);

	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(recorder_resume_track(j, hm, sid, sizeof(sid), &trk), 0);
	assert_string_equal(sid, "s-1\r");
	assert_string_equal(trk.cursor, "101:1706000000500:2");
	/* the raw feed resumes from the cursor journaled with the last record */
	assert_int_equal(recorder_resume_track(j, &feed_raw, sid, sizeof(sid), &trk), 0);
	assert_string_equal(trk.cursor, "101:1706000000500:2");
	journal_close(j);

	/* an empty journal: no session, no cursor */
	snprintf(p, sizeof(p), "%s/resume-empty", tmproot);
	assert_int_equal(journal_open(p, JOURNAL_CREATE, NULL, &j, NULL), 0);
	assert_int_equal(journal_close(j), 0);
	assert_int_equal(journal_open(p, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(recorder_resume_track(j, hm, sid, sizeof(sid), &trk), 0);
	assert_string_equal(sid, "");
	assert_string_equal(trk.cursor, "");
	journal_close(j);
}

static void
test_recorder__strerror(void **state)
{
	static const int codes[] = { RECORDER_EURL,     RECORDER_EAUTH,  RECORDER_EJOURNAL, RECORDER_ELWS,
				     RECORDER_ERETRIES, RECORDER_EINVAL, RECORDER_EREFUSED };
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		const char *s = recorder_strerror(codes[i]);
		assert_non_null(s);
		assert_true(strlen(s) > 5);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(s, recorder_strerror(codes[k]));
	}
	assert_non_null(recorder_strerror(ENOMEM));
}

int
main(void)
{
	snprintf(tmproot, sizeof(tmproot), "%s/wstape-recorder-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmproot))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_recorder__userinfo),
		cmocka_unit_test(test_recorder__same_origin),
		cmocka_unit_test(test_recorder__headers_and_secrets),
		cmocka_unit_test(test_recorder__userinfo_becomes_basic_auth),
		cmocka_unit_test(test_recorder__url_secrets_and_log_lines),
		cmocka_unit_test(test_recorder__meta_escapes),
		cmocka_unit_test(test_recorder__send_queue),
		cmocka_unit_test(test_recorder__peer_close),
		cmocka_unit_test(test_recorder__resume_track),
		cmocka_unit_test(test_recorder__strerror),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmproot);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
