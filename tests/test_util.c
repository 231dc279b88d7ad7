/* test_util.c - util/: times, durations, sizes, integers, UTF-8, base64, the text buffer and
 * its sticky out-of-memory error, JSON strings, and the log sink */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/text.h"

static void
test_parse_time(void **state)
{
	int64_t ns;

	assert_int_equal(text_parse_time("2026-11-22T10:00:00Z", &ns), 0);
	assert_int_equal(ns, 1795341600LL * 1000000000LL);
	assert_int_equal(text_parse_time("2026-11-22T10:00:00.123456789+01:00", &ns), 0);
	assert_int_equal(ns, (1795341600LL - 3600) * 1000000000LL + 123456789);
	assert_int_equal(text_parse_time("2026-11-22", &ns), 0);
	assert_int_equal(ns, (1795341600LL - 36000) * 1000000000LL);
	/* epoch digits: the count of digits says the unit, or a suffix does */
	assert_int_equal(text_parse_time("1795341600", &ns), 0);
	assert_int_equal(ns, 1795341600LL * 1000000000LL);
	assert_int_equal(text_parse_time("1795341600123", &ns), 0);
	assert_int_equal(ns, 1795341600123LL * 1000000);
	assert_int_equal(text_parse_time("5ms", &ns), 0);
	assert_int_equal(ns, 5000000);
	/* errors are EINVAL, never -1 */
	assert_int_equal(text_parse_time("", &ns), EINVAL);
	assert_int_equal(text_parse_time("yesterday", &ns), EINVAL);
	assert_int_equal(text_parse_time("2026-13-01", &ns) != 0, 1);
	assert_int_equal(text_parse_time("99999999999999999999", &ns), EINVAL);
	assert_int_equal(text_parse_time("10furlongs", &ns), EINVAL);
}

static void
test_format_time(void **state)
{
	char buf[40];

	assert_string_equal(text_format_time(1795341600123456789LL, buf, sizeof(buf)),
			    "2026-11-22T10:00:00.123456789Z");
	/* before the epoch: the fraction is still positive */
	assert_string_equal(text_format_time(-1, buf, sizeof(buf)), "1969-12-31T23:59:59.999999999Z");
}

static void
test_parse_duration(void **state)
{
	int64_t ns;

	assert_int_equal(text_parse_duration("1.5", &ns), 0);
	assert_int_equal(ns, 1500000000);
	assert_int_equal(text_parse_duration("250ms", &ns), 0);
	assert_int_equal(ns, 250000000);
	assert_int_equal(text_parse_duration("10m", &ns), 0);
	assert_int_equal(ns, 600000000000LL);
	assert_int_equal(text_parse_duration("2h", &ns), 0);
	assert_int_equal(ns, 7200000000000LL);
	assert_int_equal(text_parse_duration("7d", &ns), 0);
	assert_int_equal(ns, 7 * 86400000000000LL);
	assert_int_equal(text_parse_duration("3us", &ns), 0);
	assert_int_equal(ns, 3000);
	assert_int_equal(text_parse_duration("-1s", &ns), EINVAL);
	assert_int_equal(text_parse_duration("soon", &ns), EINVAL);
	assert_int_equal(text_parse_duration("1y", &ns), EINVAL);
	assert_int_equal(text_parse_duration("1e300", &ns), EINVAL);
	assert_int_equal(text_parse_duration("", &ns), EINVAL);
	assert_int_equal(text_parse_duration("nan", &ns), EINVAL);
	assert_int_equal(text_parse_duration("inf", &ns), EINVAL);
	assert_int_equal(text_parse_duration("infs", &ns), EINVAL);
	assert_int_equal(text_parse_duration("0x10", &ns), EINVAL);
	assert_int_equal(text_parse_duration(".5s", &ns), 0);
	assert_int_equal(ns, 500000000);
}

static void
test_parse_size_u64(void **state)
{
	uint64_t v;

	assert_int_equal(text_parse_size("64m", &v), 0);
	assert_int_equal(v, 64ULL << 20);
	assert_int_equal(text_parse_size("1KiB", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(text_parse_size("2GB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(text_parse_size("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(text_parse_size("12x", &v), EINVAL);
	assert_int_equal(text_parse_size("-1", &v), EINVAL);
	assert_int_equal(text_parse_size("99999999999999999999g", &v), EINVAL);
	assert_int_equal(text_parse_u64("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(text_parse_u64("18446744073709551616", &v), EINVAL);
	assert_int_equal(text_parse_u64("1 ", &v), EINVAL);
	assert_int_equal(text_parse_u64("", &v), EINVAL);
	assert_int_equal(text_parse_u64(NULL, &v), EINVAL);
}

static void
test_utf8(void **state)
{
	assert_true(text_utf8_valid((const uint8_t *)"plain", 5));
	assert_true(text_utf8_valid((const uint8_t *)"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9));
	assert_false(text_utf8_valid((const uint8_t *)"\xff", 1));
	assert_false(text_utf8_valid((const uint8_t *)"\xc3", 1)); /* cut short */
	assert_false(text_utf8_valid((const uint8_t *)"\xc0\xaf", 2)); /* overlong */
	assert_false(text_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* a surrogate */
	assert_false(text_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4)); /* past U+10FFFF */
	assert_true(text_utf8_valid((const uint8_t *)"", 0));
}

static void
test_base64(void **state)
{
	uint8_t in[256], back[256];
	char enc[400];

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= 10; n++) {
		size_t len = text_base64_encode(in, n, enc);
		assert_int_equal(len, text_base64_len(n));
		assert_int_equal(text_base64_decode(enc, len, back), (long)n);
		assert_memory_equal(back, in, n);
	}
	assert_int_equal(text_base64_encode((const uint8_t *)"hi", 2, enc), 4);
	assert_memory_equal(enc, "aGk=", 4);
	assert_int_equal(text_base64_decode("a*k=", 4, back), -1);
}

static void
test_text_buf(void **state)
{
	struct text_buf b = { 0 };

	text_buf_adds(&b, "a");
	text_buf_addf(&b, "%d-%s", 42, "x");
	text_buf_add(&b, "", 0);
	assert_string_equal(b.p, "a42-x");
	assert_int_equal(b.len, 5);
	for (int i = 0; i < 10000; i++)
		text_buf_add(&b, "0123456789", 10);
	assert_int_equal(b.len, 100005);
	assert_int_equal(b.p[b.len], 0);
	assert_int_equal(text_buf_err(&b), 0);
	text_buf_add_base64(&b, "hi", 2);
	assert_memory_equal(b.p + 100005, "aGk=", 5);
	text_buf_free(&b);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
}

/* Memory that cannot be had: the append does nothing, the error is ENOMEM and stays, what
 * was there is kept; text_buf_free clears it. */
static void
test_text_buf_sticky_error(void **state)
{
	struct text_buf b = { 0 };

	text_buf_adds(&b, "kept");
	assert_int_equal(text_buf_reserve(&b, SIZE_MAX / 2), ENOMEM);
	assert_int_equal(text_buf_err(&b), ENOMEM);
	text_buf_adds(&b, "more");
	text_buf_addf(&b, "%s", "and more");
	text_json_string(&b, "x", 1);
	text_buf_add_base64(&b, "x", 1);
	assert_string_equal(b.p, "kept");
	assert_int_equal(b.len, 4);
	assert_int_equal(text_buf_reserve(&b, 1), ENOMEM);
	text_buf_free(&b);
	assert_int_equal(text_buf_err(&b), 0);
	text_buf_adds(&b, "again");
	assert_string_equal(b.p, "again");
	text_buf_free(&b);
}

static void
test_json_string(void **state)
{
	struct text_buf b = { 0 };

	text_json_string(&b,
			 "a\"b\\c\n\r\t\b\f\x01\x1f"
			 "\xc3\xa9",
			 14);
	assert_string_equal(b.p, "\"a\\\"b\\\\c\\n\\r\\t\\b\\f\\u0001\\u001f\xc3\xa9\"");
	b.len = 0;
	text_json_string(&b, "", 0);
	assert_string_equal(b.p, "\"\"");
	text_buf_free(&b);
}

struct seen {
	int n, level, status;
	char msg[64];
};

static void
sink(int level, const char *msg, int status_shown, void *ud)
{
	struct seen *s = ud;

	s->n++;
	s->level = level;
	s->status = status_shown;
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

static void
test_log_sink(void **state)
{
	struct seen s = { 0 };

	/* no sink: dropped, nothing printed */
	log_set_sink(NULL, NULL);
	log_error("to nowhere");
	log_set_sink(sink, &s);
	log_threshold = LOG_WARN;
	log_info("below the threshold");
	assert_int_equal(s.n, 0);
	log_warn("careful %d", 7);
	assert_int_equal(s.n, 1);
	assert_int_equal(s.level, LOG_WARN);
	assert_string_equal(s.msg, "careful 7");
	assert_int_equal(s.status, 0);
	log_status_shown = 1;
	log_error("after a status line");
	assert_int_equal(s.status, 1);
	assert_int_equal(log_status_shown, 0);
	assert_int_equal(log_set_level_name("debug"), 0);
	assert_int_equal(log_threshold, LOG_DEBUG);
	assert_int_equal(log_set_level_name("loud"), EINVAL);
	assert_string_equal(log_level_name(LOG_INFO), "info");
	log_set_sink(NULL, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time),     cmocka_unit_test(test_format_time),
		cmocka_unit_test(test_parse_duration), cmocka_unit_test(test_parse_size_u64),
		cmocka_unit_test(test_utf8),           cmocka_unit_test(test_base64),
		cmocka_unit_test(test_text_buf),       cmocka_unit_test(test_text_buf_sticky_error),
		cmocka_unit_test(test_json_string),    cmocka_unit_test(test_log_sink),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
