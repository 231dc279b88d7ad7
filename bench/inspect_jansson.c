/* inspect_jansson.c - the gap and duplicate-key scan of `wstape inspect`, done the usual way:
 * every message parsed with jansson (json_loadb), seq checked per channel, the events'
 * (time, txIndex) keys read. The baseline for bench/50_inspect.sh.
 * With "jsmn" as third argument, the same scan tokenizes each message with jsmn into a
 * fixed token array instead (messages needing more tokens are counted as skipped).
 * usage: inspect_jansson JOURNAL [MAX_RECORDS [jsmn]]
 * prints: records=N raw_bytes=N seconds=S gaps=N events=N */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal/journal.h"

#define JSMN_STATIC
#include <jsmn.h>

#define NTOK 4096

static int
tok_is(const char *js, const jsmntok_t *t, const char *s)
{
	size_t n = strlen(s);

	return t->type == JSMN_STRING && (size_t)(t->end - t->start) == n && !memcmp(js + t->start, s, n);
}

static int64_t
tok_int(const char *js, const jsmntok_t *t)
{
	int64_t v = 0;

	for (int i = t->start; i < t->end && js[i] >= '0' && js[i] <= '9'; i++)
		v = v * 10 + (js[i] - '0');
	return v;
}

int
main(int argc, char **argv)
{
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	uint64_t n = 0, raw = 0, gaps = 0, events = 0, max = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
	int64_t last_seq = -1, last_t = -1, last_tx = -1, later = 0;
	uint32_t last_conn = 0;
	struct timespec a, b;
	int err, use_jsmn = argc > 3 && !strcmp(argv[3], "jsmn");
	uint64_t skipped = 0;
	static jsmntok_t tok[NTOK];

	if (argc < 2 || (err = journal_open(argv[1], JOURNAL_RDONLY, NULL, &j, NULL))) {
		fprintf(stderr, "usage: inspect_jansson JOURNAL [MAX_RECORDS]\n");
		return 2;
	}
	if ((err = journal_reader_open(j, &r)))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	while ((err = journal_reader_next(r, &rec)) == 0 && (!max || n < max)) {
		json_t *m, *arr, *ev;
		size_t i;

		n++;
		raw += rec.payload_len;
		if (use_jsmn) {
			jsmn_parser p;
			const char *js = (const char *)rec.payload;
			int nt;

			jsmn_init(&p);
			if ((nt = jsmn_parse(&p, js, rec.payload_len, tok, NTOK)) < 1 || tok[0].type != JSMN_OBJECT) {
				skipped++;
				continue;
			}
			for (int k = 1; k + 1 < nt; k++) {
				if (tok[k].type != JSMN_STRING || tok[k + 1].type != JSMN_PRIMITIVE)
					continue;
				if (tok_is(js, &tok[k], "seq")) {
					int64_t sq = tok_int(js, &tok[k + 1]);

					if (rec.conn == last_conn && last_seq >= 0 && sq != last_seq + 1)
						gaps++;
					last_seq = sq;
					last_conn = rec.conn;
				} else if (tok_is(js, &tok[k], "time")) {
					events++;
					last_t = tok_int(js, &tok[k + 1]);
				} else if (tok_is(js, &tok[k], "txIndex")) {
					last_tx = tok_int(js, &tok[k + 1]);
					later++;
				}
			}
			continue;
		}
		if (rec.kind != JOURNAL_TEXT || !(m = json_loadb((const char *)rec.payload, rec.payload_len, 0, NULL)))
			continue;
		json_t *seq = json_object_get(m, "seq");
		if (json_is_integer(seq)) {
			int64_t s = json_integer_value(seq);

			if (rec.conn == last_conn && last_seq >= 0 && s != last_seq + 1)
				gaps++;
			last_seq = s;
			last_conn = rec.conn;
		}
		arr = json_object_get(m, "fills");
		if (!arr)
			arr = json_object_get(m, "data");
		json_array_foreach(arr, i, ev) {
			json_t *o = json_is_array(ev) ? json_array_get(ev, 1) : ev;
			int64_t t = json_integer_value(json_object_get(o, "time"));
			int64_t tx = json_integer_value(json_object_get(o, "txIndex"));

			events++;
			if (t > last_t || (t == last_t && tx > last_tx)) {
				last_t = t;
				last_tx = tx;
				later++;
			}
		}
		json_decref(m);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("records=%" PRIu64 " raw_bytes=%" PRIu64 " seconds=%.3f gaps=%" PRIu64 " events=%" PRIu64
	       " keys_advanced=%" PRId64 " skipped=%" PRIu64 "\n", n, raw,
	       (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, gaps, events, later,
	       skipped);
	journal_reader_close(r);
	journal_close(j);
	return 0;
}
