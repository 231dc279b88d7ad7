/* info.c - `wstape info`: a journal's summary */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "util/text.h"

const char cmd_info_usage[] =
	"usage: wstape info JOURNAL [--json]\n"
	"\n"
	"Records, connections, channels (with their record counts and cursor ranges), time span,\n"
	"payload bytes, bytes on disk and the compression ratio. Works while a writer appends, and\n"
	"without an index (it reads the segments). Exits 1, after the summary, when the index lists\n"
	"blocks the segments do not hold (the figures then come from the segments). It does not\n"
	"check the blocks' data (wstape verify does): with an index its figures come from the index,\n"
	"without one it reads every block and exits 1 at the first that does not check. A pruned\n"
	"journal (wstape prune) starts at a later record: info says what the prunes removed.\n"
	"  --json   the same as one JSON object (default: text)\n";

static void
human(double v, char *buf, size_t n)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int i = 0;
	while (v >= 1024 && i < 4)
		v /= 1024, i++;
	snprintf(buf, n, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

struct chan_ctx {
	int json, first;
	struct text_buf *b;
};

/* ,"key":"text" when p is UTF-8, else ,"key":null,"key_b64":"base64" (docs/FORMAT.md,
 * "Channels and cursors as text"). first: no comma. */
static void
json_bytes(struct text_buf *b, const char *key, const void *p, size_t n, int first)
{
	text_buf_addf(b, "%s\"%s\":", first ? "" : ",", key);
	if (text_utf8_valid(p, n)) {
		text_json_string(b, p, n);
		return;
	}
	text_buf_addf(b, "null,\"%s_b64\":\"", key);
	text_buf_add_base64(b, p, n);
	text_buf_adds(b, "\"");
}

/* bytes for a line of text: as they are when printable UTF-8, else "base64:..." */
static void
text_bytes(struct text_buf *b, const void *p, size_t n)
{
	const unsigned char *s = p;
	int plain = text_utf8_valid(p, n);

	for (size_t i = 0; plain && i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			plain = 0;
	if (plain) {
		text_buf_add(b, p, n);
	} else {
		text_buf_adds(b, "base64:");
		text_buf_add_base64(b, p, n);
	}
}

static int
print_channel(const struct journal_channel_info *c, void *ud)
{
	struct chan_ctx *x = ud;
	if (x->json) {
		text_buf_adds(x->b, x->first ? "{" : ",{");
		json_bytes(x->b, "name", c->name, c->name_len, 1);
		text_buf_addf(x->b, ",\"records\":%llu,\"first_recno\":%llu,\"last_recno\":%llu",
			      (unsigned long long)c->records, (unsigned long long)c->first_recno,
			      (unsigned long long)c->last_recno);
		json_bytes(x->b, "first_cursor", c->first_cursor, c->first_cursor_len, 0);
		json_bytes(x->b, "last_cursor", c->last_cursor, c->last_cursor_len, 0);
		text_buf_adds(x->b, "}");
	} else {
		struct text_buf n = { 0 }, f = { 0 }, l = { 0 };
		text_bytes(&n, c->name, c->name_len);
		text_bytes(&f, c->first_cursor, c->first_cursor_len);
		text_bytes(&l, c->last_cursor, c->last_cursor_len);
		printf("  %-28s %10llu records  recno %llu..%llu  cursor %s .. %s\n", n.p ? n.p : "",
		       (unsigned long long)c->records, (unsigned long long)c->first_recno,
		       (unsigned long long)c->last_recno, f.p ? f.p : "", l.p ? l.p : "");
		text_buf_free(&n);
		text_buf_free(&f);
		text_buf_free(&l);
	}
	x->first = 0;
	return 0;
}

/* The summary as one JSON object. Returns the channels' walk's code. */
static int
info_json(const char *path, struct journal *j, const struct journal_stats *st,
	  const struct journal_pruned *pr, struct text_buf *out)
{
	const char *feed = journal_meta_get(j, "feed");
	char t0[40], t1[40];
	double span = st->records ? (double)(st->last_wall_ns - st->first_wall_ns) / 1e9 : 0;
	double ratio = st->segment_bytes ? (double)st->raw_bytes / (double)st->segment_bytes : 0;
	struct chan_ctx cx = { 1, 1, out };
	int rc;

	text_buf_adds(out, "{\"journal\":");
	text_json_string(out, path, strlen(path));
	text_buf_addf(out, ",\"feed\":");
	if (feed)
		text_json_string(out, feed, strlen(feed));
	else
		text_buf_adds(out, "null");
	text_buf_addf(out,
		      ",\"records\":%llu,\"first_recno\":%llu,\"last_recno\":%llu,\"connections\":%u,"
		      "\"channels\":%u,\"first_time\":\"%s\",\"last_time\":\"%s\",\"span_s\":%.3f,"
		      "\"payload_bytes\":%llu,\"disk_bytes\":%llu,\"segment_bytes\":%llu,\"segments\":%u,"
		      "\"blocks\":%llu,\"ratio\":%.3f,\"torn_bytes\":%llu,",
		      (unsigned long long)st->records, (unsigned long long)st->first_recno,
		      (unsigned long long)st->last_recno, st->connections, st->channels,
		      st->records ? text_format_time(st->first_wall_ns, t0, sizeof(t0)) : "",
		      st->records ? text_format_time(st->last_wall_ns, t1, sizeof(t1)) : "", span,
		      (unsigned long long)st->raw_bytes, (unsigned long long)st->disk_bytes,
		      (unsigned long long)st->segment_bytes, st->segments, (unsigned long long)st->blocks,
		      ratio, (unsigned long long)st->torn_bytes);
	if (pr->first_segment)
		text_buf_addf(
			out,
			"\"pruned\":{\"segments\":%llu,\"records\":%llu,\"bytes\":%llu,\"until_time\":\"%s\","
			"\"first_segment\":%u},",
			(unsigned long long)pr->segments, (unsigned long long)pr->records,
			(unsigned long long)pr->bytes, text_format_time(pr->until_wall_ns, t0, sizeof(t0)),
			pr->first_segment);
	else
		text_buf_adds(out, "\"pruned\":null,");
	text_buf_adds(out, "\"channel_list\":[");
	rc = journal_channel_foreach(j, print_channel, &cx);
	text_buf_adds(out, "]}\n");
	if (rc == 0)
		fputs(out->p, stdout);
	return rc;
}

/* The summary as text. Returns the channels' walk's code. */
static int
info_text(const char *path, struct journal *j, const struct journal_stats *st,
	  const struct journal_pruned *pr, struct text_buf *out)
{
	const char *feed = journal_meta_get(j, "feed"), *url = journal_meta_get(j, "url"),
		   *created = journal_meta_get(j, "created");
	char t0[40], t1[40], a[32], b[32];
	double span = st->records ? (double)(st->last_wall_ns - st->first_wall_ns) / 1e9 : 0;
	double ratio = st->segment_bytes ? (double)st->raw_bytes / (double)st->segment_bytes : 0;
	struct chan_ctx cx = { 0, 1, out };

	printf("journal      %s\n", path);
	printf("feed         %s\n", feed ? feed : "(not set)");
	if (url)
		printf("url          %s\n", url);
	if (created)
		printf("created      %s\n", created);
	printf("records      %llu (recno %llu..%llu)\n", (unsigned long long)st->records,
	       (unsigned long long)st->first_recno, (unsigned long long)st->last_recno);
	printf("connections  %u\n", st->connections);
	printf("channels     %u\n", st->channels);
	if (st->records)
		printf("time         %s .. %s (%.3f s)\n",
		       text_format_time(st->first_wall_ns, t0, sizeof(t0)),
		       text_format_time(st->last_wall_ns, t1, sizeof(t1)), span);
	human((double)st->raw_bytes, a, sizeof(a));
	human((double)st->disk_bytes, b, sizeof(b));
	printf("payload      %s (%llu bytes)\n", a, (unsigned long long)st->raw_bytes);
	printf("on disk      %s in %u segment%s, %llu blocks (index included)\n", b, st->segments,
	       st->segments == 1 ? "" : "s", (unsigned long long)st->blocks);
	printf("ratio        %.2fx (payload / segment bytes)\n", ratio);
	if (pr->first_segment)
		printf("pruned       %llu segment%s (%llu records, %llu bytes) received up to %s; kept from segment %u\n",
		       (unsigned long long)pr->segments, pr->segments == 1 ? "" : "s",
		       (unsigned long long)pr->records, (unsigned long long)pr->bytes,
		       text_format_time(pr->until_wall_ns, t0, sizeof(t0)), pr->first_segment);
	if (st->torn_bytes)
		printf("torn tail    %llu bytes past the last whole block (cut when next opened for writing)\n",
		       (unsigned long long)st->torn_bytes);
	if (!st->channels)
		return 0;
	printf("\nchannels:\n");
	return journal_channel_foreach(j, print_channel, &cx);
}

int
cmd_info(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0, ex, rc;
	const struct cmd_option opts[] = {
		CMD_FLAG("--json", NULL, &json),
		CMD_END,
	};
	struct cmd_args args = { .cmd = "info", .usage = cmd_info_usage, .what = "journal", .maxpos = 1 };
	struct journal *j;
	struct journal_stats st;
	struct journal_pruned pr;
	struct text_buf out = { 0 };

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	if (!(path = args.npos ? args.pos[0] : NULL))
		return cmd_usage_error(cmd_info_usage, "info: which journal?");
	if ((ex = cmd_open_journal(path, JOURNAL_RDONLY, NULL, &j)) != 0)
		return ex;
	if ((rc = journal_stats(j, &st)) != 0 || (rc = journal_pruned_info(j, &pr)) != 0) {
		cmd_journal_error(j, "cannot read journal", path, rc);
		ex = cmd_exit_for(rc);
		journal_close(j);
		return ex;
	}
	rc = json ? info_json(path, j, &st, &pr, &out) : info_text(path, j, &st, &pr, &out);
	fflush(stdout);
	ex = EXIT_OK;
	if (rc) {
		cmd_journal_error(j, "cannot read the channels of journal", path, rc);
		ex = cmd_exit_for(rc);
	} else if (st.index_stale) {
		fprintf(stderr,
			"wstape: warning: journal '%s': the index does not match the segments: %s; the figures above come from the segments; run 'wstape verify --reindex'\n",
			path, journal_last_detail(j));
		ex = EXIT_FOUND;
	} else {
		cmd_note_index(path, &st, "the figures above come");
	}
	text_buf_free(&out);
	journal_close(j);
	return ex;
}
