/* test_metrics.c - metrics/: families and series, the cap on series and on outside names,
 * the text exposition format (escaping, histograms, values), HOST:PORT parsing, and the
 * live findings inspect hands over as records go in */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "metrics/http.h"
#include "metrics/metrics.h"

static char *
rendered(struct metrics *m)
{
	static struct text_buf b;

	text_buf_free(&b);
	metrics_render(m, &b);
	assert_int_equal(text_buf_err(&b), 0);
	return b.p ? b.p : "";
}

static void
test_counter_gauge(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *c =
		metrics_add(m, "wstape_x_total", METRIC_COUNTER, "Things.\nMore \\ words", NULL, 0, NULL, 0);
	struct metric *g = metrics_add(m, "wstape_g", METRIC_GAUGE, "A gauge", NULL, 0, NULL, 0);

	assert_non_null(c);
	assert_non_null(g);
	/* a family without labels reads 0 before anything happens */
	assert_non_null(strstr(rendered(m), "\nwstape_x_total 0\n"));
	metric_add(metrics_series0(c), 3);
	metric_set(metrics_series0(g), 0.25);
	const char *out = rendered(m);
	assert_non_null(
		strstr(out,
		       "# HELP wstape_x_total Things.\\nMore \\\\ words\n# TYPE wstape_x_total counter\n"
		       "wstape_x_total 3\n"));
	assert_non_null(strstr(out, "# TYPE wstape_g gauge\nwstape_g 0.25\n"));
	metric_set(metrics_series0(g), 1796231594.3606443);
	assert_non_null(strstr(rendered(m), "wstape_g 1796231594.3606443\n"));
	/* bad names, labels and bounds are refused */
	assert_null(metrics_add(m, "9bad", METRIC_GAUGE, "", NULL, 0, NULL, 0));
	assert_null(metrics_add(m, "ok", METRIC_GAUGE, "", "a,le", 0, NULL, 0));
	assert_null(metrics_add(m, "ok", METRIC_GAUGE, "", "a-b", 0, NULL, 0));
	double down[] = { 2, 1 };
	assert_null(metrics_add(m, "h", METRIC_HISTOGRAM, "", NULL, 0, down, 2));
	assert_null(metrics_add(m, "h", METRIC_HISTOGRAM, "", NULL, 0, NULL, 0));
	metrics_free(m);
}

static void
test_labels_escaped_and_capped(void **state)
{
	struct metrics *m = metrics_new();
	struct metric *f =
		metrics_add(m, "wstape_f_total", METRIC_COUNTER, "F", "direction,channel", 3, NULL, 0);
	const char *a[] = { "in", "a\"b\\c\nd" }, *b[] = { "in", "plain" }, *c[] = { "out", "x" },
		   *d[] = { "out", "y" };

	metric_add(metrics_series(f, a), 1);
	metric_add(metrics_series(f, a), 1);
	metric_add(metrics_series(f, b), 5);
	assert_ptr_equal(metrics_series(f, a), metrics_series(f, a));
	assert_ptr_not_equal(metrics_series(f, a), metrics_series(f, b));
	metric_add(metrics_series(f, c), 1);
	/* the fourth label set is past the cap of 3: counted under "(other)" */
	metric_add(metrics_series(f, d), 7);
	assert_int_equal(metrics_overflowed(f), 1);
	const char *out = rendered(m);
	assert_non_null(strstr(out, "wstape_f_total{direction=\"in\",channel=\"a\\\"b\\\\c\\nd\"} 2\n"));
	assert_non_null(strstr(out, "wstape_f_total{direction=\"in\",channel=\"plain\"} 5\n"));
	assert_non_null(strstr(out, "wstape_f_total{direction=\"(other)\",channel=\"(other)\"} 7\n"));
	assert_null(strstr(out, "\"y\""));
	metrics_free(m);
}

static void
test_histogram(void **state)
{
	struct metrics *m = metrics_new();
	double bounds[] = { 0.001, 0.01, 0.1 };
	struct metric *h = metrics_add(m, "wstape_d_seconds", METRIC_HISTOGRAM, "D", NULL, 0, bounds, 3);
	struct metric_series *s = metrics_series0(h);

	metric_observe(h, s, 0.0005);
	metric_observe(h, s, 0.001); /* le: at most the bound */
	metric_observe(h, s, 0.05);
	metric_observe(h, s, 3);
	const char *out = rendered(m);
	assert_non_null(strstr(out,
			       "# TYPE wstape_d_seconds histogram\n"
			       "wstape_d_seconds_bucket{le=\"0.001\"} 2\n"
			       "wstape_d_seconds_bucket{le=\"0.01\"} 2\n"
			       "wstape_d_seconds_bucket{le=\"0.1\"} 3\n"
			       "wstape_d_seconds_bucket{le=\"+Inf\"} 4\n"
			       "wstape_d_seconds_sum 3.0515\n"
			       "wstape_d_seconds_count 4\n"));
	uint64_t counts[] = { 1, 0, 0, 9 };
	metric_hist_set(h, s, counts, 12.5);
	assert_non_null(strstr(rendered(m),
			       "wstape_d_seconds_bucket{le=\"0.1\"} 1\n"
			       "wstape_d_seconds_bucket{le=\"+Inf\"} 10\n"
			       "wstape_d_seconds_sum 12.5\n"));
	metrics_free(m);
}

static void
test_names(void **state)
{
	struct metrics_names *n = metrics_names_new(2);

	assert_int_equal(metrics_names_get(n, "allFills", 8), 0);
	assert_int_equal(metrics_names_get(n, "\xff\xfe", 2), 1);
	assert_string_equal(metrics_names_text(n, 1), "??");
	/* the same bytes find the same name, also when their text was changed */
	assert_int_equal(metrics_names_get(n, "\xff\xfe", 2), 1);
	assert_int_equal(metrics_names_get(n, "allFills", 8), 0);
	/* past the cap: (other) */
	assert_int_equal(metrics_names_get(n, "third", 5), 2);
	assert_string_equal(metrics_names_text(n, 2), METRICS_OTHER);
	assert_int_equal(metrics_names_count(n), 2);
	metrics_names_free(n);
}

static void
test_parse_host_port(void **state)
{
	char host[64], why[256];
	int port;

	assert_int_equal(metrics_http_parse("127.0.0.1:9100", host, sizeof(host), &port, why, sizeof(why)),
			 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 9100);
	assert_int_equal(metrics_http_parse("[::1]:9", host, sizeof(host), &port, why, sizeof(why)), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 9);
	assert_int_equal(metrics_http_parse(":9100", host, sizeof(host), &port, why, sizeof(why)), 0);
	assert_string_equal(host, "");
	assert_int_equal(metrics_http_parse("localhost:0", host, sizeof(host), &port, why, sizeof(why)), 0);
	const char *bad[] = { "",         "9100",      "host:", "host:65536", "host:x",
			      "::1:9100", "[::1]9100", "[]:1",  "a:-1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(metrics_http_parse(bad[i], host, sizeof(host), &port, why, sizeof(why)),
				 EINVAL);
		assert_non_null(strstr(why, "HOST:PORT"));
	}
}

/* inspect's findings as records go in: a seq gap, with what it skipped, on its channel */
struct seen_ev {
	int n;
	char type[32], cls[32], channel[32];
	uint64_t missing, recno;
};

static void
on_finding(const struct inspect_event *ev, void *ud)
{
	struct seen_ev *s = ud;

	s->n++;
	snprintf(s->type, sizeof(s->type), "%s", ev->type);
	snprintf(s->cls, sizeof(s->cls), "%s", ev->cls);
	snprintf(s->channel, sizeof(s->channel), "%s", ev->channel);
	s->missing = ev->missing;
	s->recno = ev->recno;
}

static void
test_live_findings(void **state)
{
	struct seen_ev seen = { 0 };
	struct inspect_options o = { .feed = feed_find("hydromancer"),
				     .on_finding = on_finding,
				     .on_finding_ud = &seen };
	struct inspect *in;
	char p[128];
	uint64_t recno = 0;

	assert_non_null(o.feed);
	assert_int_equal(inspect_new(&o, &in), 0);
	struct journal_record open = { .recno = ++recno,
				       .wall_ns = 1,
				       .conn = 1,
				       .kind = JOURNAL_OPEN,
				       .payload = (const uint8_t *)"{\"url\":\"ws://x/\",\"status\":101}" };
	open.payload_len = strlen((const char *)open.payload);
	inspect_record(in, &open);
	int64_t seqs[] = { 1, 2, 3, 7, 8 };
	for (int i = 0; i < 5; i++) {
		int n = snprintf(p, sizeof(p),
				 "{\"type\":\"allFills\",\"seq\":%lld,\"cursor\":\"1:%d:0\",\"fills\":[]}",
				 (long long)seqs[i], i + 1);
		struct journal_record r = { .recno = ++recno,
					    .wall_ns = 2 + i,
					    .conn = 1,
					    .kind = JOURNAL_TEXT,
					    .channel = "allFills",
					    .channel_len = 8,
					    .payload = (const uint8_t *)p,
					    .payload_len = (size_t)n };
		inspect_record(in, &r);
		if (seqs[i] == 7) {
			/* heard of at once, with the messages the gap skipped */
			assert_int_equal(seen.n, 1);
			assert_string_equal(seen.type, "seq_gap");
			assert_string_equal(seen.cls, "gaps");
			assert_string_equal(seen.channel, "allFills");
			assert_int_equal(seen.missing, 3);
			assert_int_equal(seen.recno, recno);
		}
	}
	assert_int_equal(seen.n, 1);
	inspect_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_gauge),   cmocka_unit_test(test_labels_escaped_and_capped),
		cmocka_unit_test(test_histogram),       cmocka_unit_test(test_names),
		cmocka_unit_test(test_parse_host_port), cmocka_unit_test(test_live_findings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
