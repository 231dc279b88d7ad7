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
	text_buf_addf(b, "{\"recno\":%llu,\"time\":\"%s\",\"wall_ns\":%lld,\"mono_ns\":%lld,\"conn\":%u,\"dir\":\"%s\",\"kind\":\"%s\"",
		      (unsigned long long)r->recno, text_format_time(r->wall_ns, t, sizeof(t)), (long long)r->wall_ns,
		      (long long)r->mono_ns, r->conn, journal_dir_name(r->dir), journal_kind_name(r->kind));
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

int
cmd_cat(int argc, char **argv)
{
	const char *path = NULL, *channel = NULL, *dirname = NULL, *kindname = NULL;
	uint64_t from_rec = 0, limit = UINT64_MAX, conn = UINT64_MAX;
	int64_t from = INT64_MIN, to = INT64_MAX;
	int dir = -1, kind = -1, payload_only = 0, rc, ex = EXIT_OK;
	const struct cmd_option opts[] = {
		CMD_U64("--from-record", &from_rec, "a record number", 0, 0),
		CMD_TIME("--from", &from, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_TIME("--to", &to, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_STR("--channel", NULL, &channel, "a channel"),
		CMD_U64("--conn", &conn, "a connection number", 0, 0),
		CMD_STR("--direction", NULL, &dirname, "'in' or 'out'"),
		CMD_STR("--kind", NULL, &kindname, "a kind (text, binary, open, close, error, ...)"),
		CMD_U64("--limit", &limit, "a number of records", 0, 0),
		CMD_FLAG("--payload", NULL, &payload_only),
		CMD_END,
	};
	struct cmd_args args = { .cmd = "cat", .usage = cmd_cat_usage, .what = "journal", .maxpos = 1 };

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	path = args.npos ? args.pos[0] : NULL;
	if (dirname && (dir = journal_dir_parse(dirname, strlen(dirname))) < 0)
		return cmd_usage_error(cmd_cat_usage, "cat: --direction is 'in' or 'out'");
	if (kindname && (kind = journal_kind_parse(kindname, strlen(kindname))) < 0)
		return cmd_usage_error(cmd_cat_usage, "cat: unknown --kind '%s'", kindname);
	if (!path)
		return cmd_usage_error(cmd_cat_usage, "cat: which journal?");

	struct journal *j;
	struct journal_reader *rd;
	struct journal_record rec;
	struct text_buf out = { 0 };
	size_t chlen = channel ? strlen(channel) : 0;

	if ((ex = cmd_open_journal(path, JOURNAL_RDONLY, NULL, &j)) != 0)
		return ex;
	if ((rc = journal_reader_open(j, &rd)) != 0) {
		journal_close(j);
		return EXIT_USAGE;
	}
	rc = 0;
	if (from_rec > 1)
		rc = journal_reader_seek_recno(rd, from_rec);
	else if (from != INT64_MIN)
		rc = journal_reader_seek_time(rd, from);
	if (rc == JOURNAL_ENOTFOUND)
		rc = JOURNAL_EOF;
	static char obuf[1 << 16];
	setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
	/* a reader that stops reading (cat | head) ends the output: EPIPE, not a signal */
	signal(SIGPIPE, SIG_IGN);
	int werr = 0;
	while (rc == 0 && limit > 0 && (rc = journal_reader_next(rd, &rec)) == 0) {
		if (rec.wall_ns < from || (to != INT64_MAX && rec.wall_ns >= to)) /* no --to: every time, INT64_MAX too */
			continue;
		if ((channel && (rec.channel_len != chlen || memcmp(rec.channel, channel, chlen))) ||
		    (conn != UINT64_MAX && rec.conn != conn) || (dir >= 0 && rec.dir != dir) ||
		    (kind >= 0 && rec.kind != kind))
			continue;
		out.len = 0;
		if (payload_only) {
			payload_line(&out, &rec);
		} else {
			record_json(&out, &rec);
		}
		if (text_buf_err(&out)) {
			werr = text_buf_err(&out);
			rc = JOURNAL_EOF;
			break;
		}
		if (fwrite(out.p, 1, out.len, stdout) != out.len) {
			werr = errno;
			rc = JOURNAL_EOF;
			break;
		}
		limit--;
	}
	if (fflush(stdout) != 0 && !werr)
		werr = errno;
	if (werr == ENOMEM) {
		fprintf(stderr, "wstape: out of memory for record %llu of '%s'\n", (unsigned long long)rec.recno, path);
		ex = EXIT_IO;
	} else if (werr && werr != EPIPE) {
		fprintf(stderr, "wstape: cannot write to standard output: %s\n", strerror(werr));
		ex = EXIT_IO;
	} else if (rc && rc != JOURNAL_EOF && !werr) {
		cmd_journal_error(j, "cannot read journal", path, rc);
		ex = rc > 0 ? EXIT_USAGE : cmd_exit_for(rc);
	} else if (!werr) {
		/* the segments ended: is that where the index says the journal ends? */
		struct journal_stats st = { 0 };
		if (journal_stats(j, &st) == 0 && st.index_stale) {
			fprintf(stderr, "wstape: warning: journal '%s': the index does not match the segments: %s; the records above are those the segments hold; run 'wstape verify --reindex'\n",
				path, journal_last_detail(j));
			ex = EXIT_FOUND;
		} else if (st.index_damaged || st.index_unreadable) {
			cmd_note_index(path, &st, "the records above come");
		}
	}
	text_buf_free(&out);
	journal_reader_close(rd);
	journal_close(j);
	return ex;
}
