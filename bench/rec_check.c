/* rec_check.c - for the record benchmark: did the recorder lose, duplicate or reorder
 * anything? Reads every server text message of a journal and checks that a number in each
 * payload (the first "KEY":N) counts up by one from one message to the next, or goes back
 * by MOD - 1 (a source of MOD distinct messages played again and again by --loop; MOD 0:
 * no wrap).
 *
 * usage: rec_check JOURNAL KEY MOD [KEY MOD]
 * A server text message is a text record, direction in, whose payload holds the first KEY
 * (others, such as Hydromancer's connected or subscriptionUpdate, are not counted). Prints
 * one line:
 *     messages first_mono_ns last_mono_ns breaks1 [breaks2] first1 last1
 * breaksI: messages whose KEY I is not the one before it plus one or minus MOD - 1 (or
 * that lack it);
 * first1/last1: KEY 1 of the first and last message. Exit 0, or 1 when the journal cannot
 * be read (a message on stderr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/journal.h"

struct key {
	const char *name;
	char pat[64];
	size_t patlen;
	unsigned long long mod, prev, breaks;
	int have_prev;
};

/* The number after the first "NAME": in p[0, n); 0 when absent. */
static int
key_value(const struct key *k, const uint8_t *p, size_t n, unsigned long long *v)
{
	const uint8_t *q = memmem(p, n, k->pat, k->patlen);
	if (!q)
		return 0;
	q += k->patlen;
	const uint8_t *e = p + n;
	if (q >= e || *q < '0' || *q > '9')
		return 0;
	unsigned long long x = 0;
	while (q < e && *q >= '0' && *q <= '9')
		x = x * 10 + (unsigned long long)(*q++ - '0');
	*v = x;
	return 1;
}

static void
key_next(struct key *k, int have, unsigned long long v)
{
	if (!have) {
		k->breaks++;
		k->have_prev = 0;
		return;
	}
	if (k->have_prev) {
		/* the next one, or the first of the next pass: MOD less */
		if (v != k->prev + 1 && !(k->mod && v + k->mod == k->prev + 1))
			k->breaks++;
	}
	k->prev = v;
	k->have_prev = 1;
}

int
main(int argc, char **argv)
{
	if (argc != 4 && argc != 6) {
		fprintf(stderr, "usage: rec_check JOURNAL KEY MOD [KEY MOD]\n");
		return 2;
	}
	struct key keys[2];
	int nkeys = (argc - 2) / 2;
	memset(keys, 0, sizeof(keys));
	for (int i = 0; i < nkeys; i++) {
		keys[i].name = argv[2 + 2 * i];
		keys[i].mod = strtoull(argv[3 + 2 * i], NULL, 10);
		int n = snprintf(keys[i].pat, sizeof(keys[i].pat), "\"%s\":", keys[i].name);
		if (n <= 0 || (size_t)n >= sizeof(keys[i].pat)) {
			fprintf(stderr, "rec_check: key too long\n");
			return 2;
		}
		keys[i].patlen = (size_t)n;
	}
	struct journal *j;
	struct journal_reader *r;
	int rc = journal_open(argv[1], JOURNAL_RDONLY, NULL, &j, NULL);
	if (rc) {
		fprintf(stderr, "rec_check: %s: %s %s\n", argv[1], journal_strerror(rc),
			journal_last_detail(NULL));
		return 1;
	}
	if ((rc = journal_reader_open(j, &r)) != 0) {
		fprintf(stderr, "rec_check: %s\n", journal_strerror(rc));
		journal_close(j);
		return 1;
	}
	unsigned long long msgs = 0, first1 = 0, last1 = 0;
	long long first_mono = 0, last_mono = 0;
	struct journal_record rec;
	while ((rc = journal_reader_next(r, &rec)) == 0) {
		if (rec.dir != JOURNAL_IN || rec.kind != JOURNAL_TEXT)
			continue;
		unsigned long long v;
		if (!key_value(&keys[0], rec.payload, rec.payload_len, &v))
			continue;
		if (!msgs) {
			first_mono = rec.mono_ns;
			first1 = v;
		}
		last_mono = rec.mono_ns;
		last1 = v;
		msgs++;
		key_next(&keys[0], 1, v);
		if (nkeys > 1) {
			unsigned long long w = 0;
			int have = key_value(&keys[1], rec.payload, rec.payload_len, &w);
			key_next(&keys[1], have, w);
		}
	}
	journal_reader_close(r);
	journal_close(j);
	if (rc != JOURNAL_EOF) {
		fprintf(stderr, "rec_check: %s: %s\n", argv[1], journal_strerror(rc));
		return 1;
	}
	printf("%llu %lld %lld %llu", msgs, first_mono, last_mono, keys[0].breaks);
	if (nkeys > 1)
		printf(" %llu", keys[1].breaks);
	printf(" %llu %llu\n", first1, last1);
	return 0;
}
