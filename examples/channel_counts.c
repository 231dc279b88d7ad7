/* channel_counts.c - an example of libwstape: read every record of a journal and print,
 * per channel, how many records it holds and their payload bytes.
 *
 *     cc channel_counts.c $(pkg-config --cflags --libs wstape) -o channel_counts
 *     ./channel_counts JOURNAL
 *
 * Prints a header line, then one line per channel in the order the channels first appear
 * (the records without a channel as "-"), then the total, tab-separated:
 *
 *     # channel	records	payload_bytes
 *     allFills	120	48213
 *     total	123	48300
 *
 * A byte of a channel name that is not printable ASCII, a tab or a backslash is written
 * \xHH. Exit status: 0; 1 when a record cannot be read (a corrupt journal: what was read
 * before is not printed); 2 bad usage or a journal that cannot be opened. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <wstape/journal.h>
#include <wstape/version.h>

struct count {
	char *name; /* a copy: the record's channel is valid until the next read only */
	size_t len;
	uint64_t records, bytes;
};

struct counts {
	struct count *v;
	size_t n, cap;
};

/* The count of channel name[0..len), added when it is new; NULL when out of memory.
 * A linear search: an example, and journals have tens of channels, not millions. */
static struct count *
count_for(struct counts *c, const char *name, size_t len)
{
	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].len == len && (len == 0 || memcmp(c->v[i].name, name, len) == 0))
			return &c->v[i];
	if (c->n == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 16;
		struct count *v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		c->v = v;
		c->cap = cap;
	}
	struct count *e = &c->v[c->n];
	e->name = malloc(len + 1);
	if (!e->name)
		return NULL;
	if (len)
		memcpy(e->name, name, len);
	e->len = len;
	e->records = e->bytes = 0;
	c->n++;
	return e;
}

static void
print_name(const char *name, size_t len)
{
	if (len == 0) {
		fputs("-", stdout);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		if (ch < 0x20 || ch >= 0x7f || ch == '\\')
			printf("\\x%02x", ch);
		else
			putchar(ch);
	}
}

static void
counts_free(struct counts *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->v[i].name);
	free(c->v);
}

int
main(int argc, char **argv)
{
	struct journal *j = NULL;
	struct journal_reader *r = NULL;
	struct journal_record rec;
	struct counts c = { 0 };
	uint64_t records = 0, bytes = 0;
	int err, status = 0;

	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: channel_counts JOURNAL\n(libwstape %s)\n", wstape_version());
		return 2;
	}
	err = journal_open(argv[1], JOURNAL_RDONLY, NULL, &j, NULL);
	if (err) {
		const char *detail = journal_last_detail(NULL);
		fprintf(stderr, "channel_counts: cannot open journal '%s': %s%s%s%s\n", argv[1],
			journal_strerror(err), *detail ? " (" : "", detail, *detail ? ")" : "");
		return 2;
	}
	if ((err = journal_reader_open(j, &r)) != 0) {
		fprintf(stderr, "channel_counts: %s: %s\n", argv[1], journal_strerror(err));
		journal_close(j);
		return 2;
	}
	while ((err = journal_reader_next(r, &rec)) == 0) {
		struct count *e = count_for(&c, rec.channel, rec.channel_len);
		if (!e) {
			fprintf(stderr, "channel_counts: out of memory\n");
			status = 2;
			break;
		}
		e->records++;
		e->bytes += rec.payload_len;
		records++;
		bytes += rec.payload_len;
	}
	if (status == 0 && err != JOURNAL_EOF) {
		uint32_t seg = 0;
		uint64_t off = 0;
		journal_reader_error_offset(r, &seg, &off);
		fprintf(stderr,
			"channel_counts: '%s': after record %llu: %s in segment %u at offset %llu%s%s%s\n",
			argv[1], (unsigned long long)records, journal_strerror(err), (unsigned)seg,
			(unsigned long long)off, *journal_last_detail(j) ? " (" : "", journal_last_detail(j),
			*journal_last_detail(j) ? ")" : "");
		fprintf(stderr, "channel_counts: `wstape verify %s` says more\n", argv[1]);
		status = 1;
	}
	if (status == 0) {
		printf("# channel\trecords\tpayload_bytes\n");
		for (size_t i = 0; i < c.n; i++) {
			print_name(c.v[i].name, c.v[i].len);
			printf("\t%llu\t%llu\n", (unsigned long long)c.v[i].records,
			       (unsigned long long)c.v[i].bytes);
		}
		printf("total\t%llu\t%llu\n", (unsigned long long)records, (unsigned long long)bytes);
		if (fflush(stdout) != 0 || ferror(stdout)) {
			fprintf(stderr, "channel_counts: cannot write the output\n");
			status = 2;
		}
	}
	journal_reader_close(r);
	journal_close(j);
	counts_free(&c);
	return status;
}
