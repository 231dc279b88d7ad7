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

/* What the scan counts and what it compares the next message with. */
struct scan {
	uint64_t gaps, events, skipped;
	int64_t last_seq, last_t, last_tx, later;
	uint32_t last_conn;
};

static void
scan_seq(struct scan *sc, const struct journal_record *rec, int64_t seq)
{
	if (rec->conn == sc->last_conn && sc->last_seq >= 0 && seq != sc->last_seq + 1)
		sc->gaps++;
	sc->last_seq = seq;
	sc->last_conn = rec->conn;
}

/* One message tokenized with jsmn into a fixed token array. */
static void
scan_jsmn(struct scan *sc, const struct journal_record *rec)
{
	static jsmntok_t tok[NTOK];
	jsmn_parser p;
	const char *js = (const char *)rec->payload;
	int nt;

	jsmn_init(&p);
	if ((nt = jsmn_parse(&p, js, rec->payload_len, tok, NTOK)) < 1 || tok[0].type != JSMN_OBJECT) {
		sc->skipped++;
		return;
	}
	for (int k = 1; k + 1 < nt; k++) {
		if (tok[k].type != JSMN_STRING || tok[k + 1].type != JSMN_PRIMITIVE)
			continue;
		if (tok_is(js, &tok[k], "seq")) {
			scan_seq(sc, rec, tok_int(js, &tok[k + 1]));
		} else if (tok_is(js, &tok[k], "time")) {
			sc->events++;
			sc->last_t = tok_int(js, &tok[k + 1]);
		} else if (tok_is(js, &tok[k], "txIndex")) {
			sc->last_tx = tok_int(js, &tok[k + 1]);
			sc->later++;
		}
	}
}

/* One message parsed with jansson. */
static void
scan_jansson(struct scan *sc, const struct journal_record *rec)
{
	json_t *m, *arr, *ev;
	size_t i;

	if (rec->kind != JOURNAL_TEXT ||
	    !(m = json_loadb((const char *)rec->payload, rec->payload_len, 0, NULL)))
		return;
	json_t *seq = json_object_get(m, "seq");
	if (json_is_integer(seq))
		scan_seq(sc, rec, json_integer_value(seq));
	arr = json_object_get(m, "fills");
	if (!arr)
		arr = json_object_get(m, "data");
	json_array_foreach(arr, i, ev)
	{
		json_t *o = json_is_array(ev) ? json_array_get(ev, 1) : ev;
		int64_t t = json_integer_value(json_object_get(o, "time"));
		int64_t tx = json_integer_value(json_object_get(o, "txIndex"));

		sc->events++;
		if (t > sc->last_t || (t == sc->last_t && tx > sc->last_tx)) {
			sc->last_t = t;
			sc->last_tx = tx;
			sc->later++;
		}
	}
	json_decref(m);
}

int
main(int argc, char **argv)
{
	struct journal *j;
	struct journal_reader *r;
	struct journal_record rec;
	uint64_t n = 0, raw = 0, max = argc > 2 ? strtoull(argv[2], NULL, 10) : 0;
	struct scan sc = { .last_seq = -1, .last_t = -1, .last_tx = -1 };
	struct timespec a, b;
	int err, use_jsmn = argc > 3 && !strcmp(argv[3], "jsmn");

	if (argc < 2 || (err = journal_open(argv[1], JOURNAL_RDONLY, NULL, &j, NULL))) {
		fprintf(stderr, "usage: inspect_jansson JOURNAL [MAX_RECORDS]\n");
		return 2;
	}
	if ((err = journal_reader_open(j, &r)))
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &a);
	while ((err = journal_reader_next(r, &rec)) == 0 && (!max || n < max)) {
		n++;
		raw += rec.payload_len;
		if (use_jsmn)
			scan_jsmn(&sc, &rec);
		else
			scan_jansson(&sc, &rec);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("records=%" PRIu64 " raw_bytes=%" PRIu64 " seconds=%.3f gaps=%" PRIu64 " events=%" PRIu64
	       " keys_advanced=%" PRId64 " skipped=%" PRIu64 "\n",
	       n, raw, (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9, sc.gaps,
	       sc.events, sc.later, sc.skipped);
	journal_reader_close(r);
	journal_close(j);
	return 0;
}
