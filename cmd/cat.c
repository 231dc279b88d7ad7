/* cat.c - `wstape cat`: records as JSON lines, the inverse of `wstape import` */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "util/text.h"

const char cmd_cat_usage[] =
	"usage: wstape cat JOURNAL [--from-record N] [--from T] [--to T] [--channel C] [--conn N]\n"
	"                  [--direction in|out] [--kind K] [--limit N] [--payload]\n"
	"\n"
	"Print one JSON object per record per line, with every field:\n"
	"  {\"recno\":1,\"time\":\"2026-11-22T10:00:00.000000000Z\",\"wall_ns\":...,\"mono_ns\":...,\n"
	"   \"conn\":1,\"dir\":\"in\",\"kind\":\"text\",\"channel\":\"allFills\",\"cursor\":\"500:1706123456789:3\",\n"
	"   \"payload\":\"...\"}\n"
	"The payload is a JSON string when it is valid UTF-8, else \"payload_b64\" (base64); the same\n"
	"for \"cursor\" / \"cursor_b64\" and \"channel\" / \"channel_b64\". T is RFC 3339\n"
	"(2026-11-22T10:00:00Z) or epoch seconds, ms, us or ns (told apart by the number of digits,\n"
	"or with a suffix: 1763805600000ms). The filters combine; records come in record order.\n"
	"\n"
	"  --from-record N   start at record N (default 1)\n"
	"  --from T          only records received at or after T (default: no lower bound)\n"
	"  --to T            only records received before T (default: no upper bound); both are\n"
	"                    filters on each record's receive time, which can go backwards (a\n"
	"                    clock step): a record before T that follows a later one is printed\n"
	"  --channel C       only channel C (default: every channel)\n"
	"  --conn N          only connection N (default: every connection)\n"
	"  --direction D     in (from the server) or out (to the server) (default: both)\n"
	"  --kind K          text, binary, ping, pong, open, close or error (default: every kind)\n"
	"  --limit N         at most N records (default: no limit)\n"
	"  --payload         print only the payloads, one line each: a payload that is valid UTF-8\n"
	"                    and holds no line break as it is; any other as one JSON string (the\n"
	"                    text, escaped) or, when it is not UTF-8, {\"payload_b64\":\"...\"}\n"
	"                    (default: whole records)\n"
	"\n"
	"Exit status: 0; 1 when the journal is corrupt, or when its index lists blocks the segments\n"
	"do not hold (after printing what the segments hold, as info, verify and inspect do);\n"
	"2 bad usage or an unreadable journal; 3 standard output cannot be written.\n";

static void
add_bytes_field(struct text_buf *b, const char *name, const uint8_t *p, size_t n)
{
	if (text_utf8_valid(p, n)) {
		text_buf_addf(b, ",\"%s\":", name);
		text_json_string(b, p, n);
	} else {
		text_buf_addf(b, ",\"%s_b64\":\"", name);
		text_buf_add_base64(b, p, n);
		text_buf_add(b, "\"", 1);
	}
}

static void
record_json(struct text_buf *b, const struct journal_record *r)
{
	char t[40];
	text_buf_addf(
		b,
		"{\"recno\":%llu,\"time\":\"%s\",\"wall_ns\":%lld,\"mono_ns\":%lld,\"conn\":%u,\"dir\":\"%s\",\"kind\":\"%s\"",
		(unsigned long long)r->recno, text_format_time(r->wall_ns, t, sizeof(t)),
		(long long)r->wall_ns, (long long)r->mono_ns, r->conn, journal_dir_name(r->dir),
		journal_kind_name(r->kind));
	add_bytes_field(b, "channel", (const uint8_t *)r->channel, r->channel_len);
	add_bytes_field(b, "cursor", r->cursor, r->cursor_len);
	add_bytes_field(b, "payload", r->payload, r->payload_len);
	text_buf_add(b, "}\n", 2);
}

/* --payload: one line per payload whatever its bytes, so that "one per line" holds for
 * binary and multi-line payloads too. */
static void
payload_line(struct text_buf *b, const struct journal_record *r)
{
	if (!text_utf8_valid(r->payload, r->payload_len)) {
		text_buf_adds(b, "{\"payload_b64\":\"");
		text_buf_add_base64(b, r->payload, r->payload_len);
		text_buf_add(b, "\"}", 2);
	} else if (memchr(r->payload, '\n', r->payload_len) || memchr(r->payload, '\r', r->payload_len)) {
		text_json_string(b, r->payload, r->payload_len);
	} else {
		text_buf_add(b, r->payload, r->payload_len);
	}
	text_buf_add(b, "\n", 1);
}

/* What to print: the selection of `wstape cat`. */
struct cat_args {
	const char *path, *channel;
	size_t chlen;
	uint64_t from_rec, limit, conn;
	int64_t from, to;
	int dir, kind, payload_only;
};

/* Returns 0, or the exit code after saying what is wrong. */
static int
cat_parse(int argc, char **argv, struct cat_args *a)
{
	const char *dirname = NULL, *kindname = NULL;
	const struct cmd_option opts[] = {
		CMD_U64("--from-record", &a->from_rec, "a record number", 0, 0),
		CMD_TIME("--from", &a->from, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_TIME("--to", &a->to, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_STR("--channel", NULL, &a->channel, "a channel"),
		CMD_U64("--conn", &a->conn, "a connection number", 0, 0),
		CMD_STR("--direction", NULL, &dirname, "'in' or 'out'"),
		CMD_STR("--kind", NULL, &kindname, "a kind (text, binary, open, close, error, ...)"),
		CMD_U64("--limit", &a->limit, "a number of records", 0, 0),
		CMD_FLAG("--payload", NULL, &a->payload_only),
		CMD_END,
	};
	struct cmd_args args = { .cmd = "cat", .usage = cmd_cat_usage, .what = "journal", .maxpos = 1 };
	int ex;

	*a = (struct cat_args){ .limit = UINT64_MAX,
				.conn = UINT64_MAX,
				.from = INT64_MIN,
				.to = INT64_MAX,
				.dir = -1,
				.kind = -1 };
	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	a->path = args.npos ? args.pos[0] : NULL;
	a->chlen = a->channel ? strlen(a->channel) : 0;
	if (dirname && (a->dir = journal_dir_parse(dirname, strlen(dirname))) < 0)
		return cmd_usage_error(cmd_cat_usage, "cat: --direction is 'in' or 'out'");
	if (kindname && (a->kind = journal_kind_parse(kindname, strlen(kindname))) < 0)
		return cmd_usage_error(cmd_cat_usage, "cat: unknown --kind '%s'", kindname);
	if (!a->path)
		return cmd_usage_error(cmd_cat_usage, "cat: which journal?");
	return 0;
}

/* Both --from and --to filter on the receive time (no --to: every time, INT64_MAX too). */
static int
cat_selected(const struct cat_args *a, const struct journal_record *r)
{
	if (r->wall_ns < a->from || (a->to != INT64_MAX && r->wall_ns >= a->to))
		return 0;
	return !((a->channel && (r->channel_len != a->chlen || memcmp(r->channel, a->channel, a->chlen))) ||
		 (a->conn != UINT64_MAX && r->conn != a->conn) || (a->dir >= 0 && r->dir != a->dir) ||
		 (a->kind >= 0 && r->kind != a->kind));
}

/* Prints the selected records from where rd stands. Returns the reader's code (JOURNAL_EOF
 * at the end, or when the output stopped); *werr the output's errno, or ENOMEM. */
static int
cat_copy(const struct cat_args *a, struct journal_reader *rd, struct journal_record *rec, int rc, int *werr)
{
	struct text_buf out = { 0 };
	uint64_t limit = a->limit;

	*werr = 0;
	while (rc == 0 && limit > 0 && (rc = journal_reader_next(rd, rec)) == 0) {
		if (!cat_selected(a, rec))
			continue;
		out.len = 0;
		if (a->payload_only)
			payload_line(&out, rec);
		else
			record_json(&out, rec);
		if (text_buf_err(&out) || fwrite(out.p, 1, out.len, stdout) != out.len) {
			*werr = text_buf_err(&out) ? text_buf_err(&out) : errno;
			rc = JOURNAL_EOF;
			break;
		}
		limit--;
	}
	if (fflush(stdout) != 0 && !*werr)
		*werr = errno;
	text_buf_free(&out);
	return rc;
}

/* The exit code once the records are out, and what to say of them. */
static int
cat_verdict(const char *path, struct journal *j, const struct journal_record *rec, int rc, int werr)
{
	struct journal_stats st = { 0 };

	if (werr == ENOMEM) {
		fprintf(stderr, "wstape: out of memory for record %llu of '%s'\n",
			(unsigned long long)rec->recno, path);
		return EXIT_IO;
	}
	if (werr && werr != EPIPE) {
		fprintf(stderr, "wstape: cannot write to standard output: %s\n", strerror(werr));
		return EXIT_IO;
	}
	if (werr)
		return EXIT_OK; /* a reader that stopped reading (cat | head) */
	if (rc && rc != JOURNAL_EOF) {
		cmd_journal_error(j, "cannot read journal", path, rc);
		return rc > 0 ? EXIT_USAGE : cmd_exit_for(rc);
	}
	/* the segments ended: is that where the index says the journal ends? */
	if (journal_stats(j, &st) == 0 && st.index_stale) {
		fprintf(stderr,
			"wstape: warning: journal '%s': the index does not match the segments: %s; the records above are those the segments hold; run 'wstape verify --reindex'\n",
			path, journal_last_detail(j));
		return EXIT_FOUND;
	}
	if (st.index_damaged || st.index_unreadable)
		cmd_note_index(path, &st, "the records above come");
	return EXIT_OK;
}

int
cmd_cat(int argc, char **argv)
{
	static char obuf[1 << 16];
	struct cat_args a;
	struct journal *j;
	struct journal_reader *rd;
	struct journal_record rec = { 0 };
	int rc = 0, werr, ex;

	if ((ex = cat_parse(argc, argv, &a)))
		return ex;
	if ((ex = cmd_open_journal(a.path, JOURNAL_RDONLY, NULL, &j)) != 0)
		return ex;
	if (journal_reader_open(j, &rd) != 0) {
		journal_close(j);
		return EXIT_USAGE;
	}
	if (a.from_rec > 1)
		rc = journal_reader_seek_recno(rd, a.from_rec);
	else if (a.from != INT64_MIN)
		rc = journal_reader_seek_time(rd, a.from);
	if (rc == JOURNAL_ENOTFOUND)
		rc = JOURNAL_EOF;
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	/* a reader that stops reading (cat | head) ends the output: EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	rc = cat_copy(&a, rd, &rec, rc, &werr);
	ex = cat_verdict(a.path, j, &rec, rc, werr);
	journal_reader_close(rd);
	journal_close(j);
	return ex;
}
