/* import.c - `wstape import`: JSON lines (the output of cat) into a journal */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "feeds/feed.h"
#include "util/text.h"

static const char usage[] =
	"usage: wstape import FILE.jsonl|- -o JOURNAL [--append] [--feed {feeds|}|spec:FILE.json]\n"
	"                     [--fsync always|interval|never] [--block-size SIZE] [--zstd-level N]\n"
	"\n"
	"Write JSON lines, in the form `wstape cat` prints, into a journal (created unless --append).\n"
	"Record numbers are assigned afresh from the journal's next, so `cat | import | cat` is\n"
	"identical for a whole journal. Per line: \"kind\" and \"dir\" (default text/in), the time as\n"
	"\"wall_ns\" or \"time\" (RFC 3339 or epoch), \"mono_ns\" (default: wall_ns), \"conn\" (default 0),\n"
	"\"channel\", \"cursor\"/\"cursor_b64\", \"payload\"/\"payload_b64\".\n"
	"\n"
	"  -o, --output JOURNAL   the journal to write (required); it must not exist unless --append\n"
	"  --append               add to the journal at JOURNAL (default: create it; an existing\n"
	"                         journal is refused)\n"
	"  --feed F               record the feed in the journal's META; channel and cursor missing\n"
	"                         from a line are taken from the payload by the feed's rules\n"
	"                         (default: none; a journal without a feed is raw)\n"
	"  --fsync P              always, interval or never (default interval; see docs/FORMAT.md)\n"
	"  --block-size SIZE      seal a block at SIZE raw bytes, 4k to 1g (default 1m)\n"
	"  --segment-size SIZE    start a new segment file past SIZE, 4k to 1t (default 256m)\n"
	"  --zstd-level N         zstd compression level, 1 to 19 (default 1)\n"
	"\n"
	"When the import fails (a bad line, a full disk), a journal it created is removed again,\n"
	"so that it can be run again as it was; with --append to a journal that was there, the\n"
	"lines before the failure stay imported.\n";

const char *
cmd_import_usage(void)
{
	static struct text_buf b;

	return cmd_help_text(&b, usage);
}

/* A bad line. When this import created the journal it is removed at the end (see
 * cmd_import), so nothing at all was imported. */
static const char *
json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "object";
	case JSON_ARRAY: return "array";
	case JSON_STRING: return "string";
	case JSON_INTEGER:
	case JSON_REAL: return "number";
	case JSON_TRUE:
	case JSON_FALSE: return "boolean";
	default: return "null";
	}
}

static int
bytes_field(json_t *o, const char *name, uint8_t **buf, size_t *cap, const uint8_t **p, size_t *n,
	    int *present)
{
	char b64name[64];
	json_t *v = json_object_get(o, name);
	*present = 0;
	*n = 0;
	*p = NULL;
	if (v) {
		if (!json_is_string(v))
			return -1;
		*p = (const uint8_t *)json_string_value(v);
		*n = json_string_length(v);
		*present = 1;
		return 0;
	}
	snprintf(b64name, sizeof(b64name), "%s_b64", name);
	if (!(v = json_object_get(o, b64name)))
		return 0;
	if (!json_is_string(v))
		return -1;
	size_t len = json_string_length(v);
	if (*cap < len + 4) {
		uint8_t *nb = realloc(*buf, len + 4);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = len + 4;
	}
	long got = text_base64_decode(json_string_value(v), len, *buf);
	if (got < 0)
		return -1;
	*p = *buf;
	*n = (size_t)got;
	*present = 1;
	return 0;
}

void
import_line_free(struct import_line *st)
{
	json_decref(st->doc);
	free(st->pbuf);
	free(st->cbuf);
	free(st->curbuf);
	memset(st, 0, sizeof(*st));
}

/* The line's JSON object into st->doc: 0, or -1 with why in err. */
static int
line_load(struct import_line *st, const char *line, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);

	if (o && json_is_object(o)) {
		st->doc = o;
		return 0;
	}
	if (o)
		snprintf(err, errlen, "not a JSON object (a JSON %s)", json_type_name(o));
	else if (jerr.column > 0)
		snprintf(err, errlen, "not a JSON object (%s at column %d)", jerr.text, jerr.column);
	else
		snprintf(err, errlen, "not a JSON object (%s)", jerr.text);
	json_decref(o);
	return -1;
}

/* The record's kind, dir, times and conn from o: NULL, or what is wrong (the last check
 * that failed). */
static const char *
line_header(json_t *o, struct journal_record *rec)
{
	const char *bad = NULL;
	json_t *x;

	if ((x = json_object_get(o, "kind"))) {
		int k = json_is_string(x) ? journal_kind_parse(json_string_value(x), json_string_length(x))
					  : -1;
		if (k < 0)
			bad = "\"kind\" is not one of text, binary, ping, pong, open, close, error";
		rec->kind = (uint8_t)(k < 0 ? 0 : k);
	}
	if ((x = json_object_get(o, "dir"))) {
		int d = json_is_string(x) ? journal_dir_parse(json_string_value(x), json_string_length(x))
					  : -1;
		if (d < 0)
			bad = "\"dir\" is not 'in' or 'out'";
		rec->dir = (uint8_t)(d < 0 ? 0 : d);
	}
	if ((x = json_object_get(o, "wall_ns")) && json_is_integer(x)) {
		rec->wall_ns = json_integer_value(x);
	} else if ((x = json_object_get(o, "time")) && json_is_string(x)) {
		if (text_parse_time(json_string_value(x), &rec->wall_ns))
			bad = "\"time\" is not RFC 3339 or epoch time";
	} else {
		bad = "no \"wall_ns\" or \"time\"";
	}
	rec->mono_ns = (x = json_object_get(o, "mono_ns")) && json_is_integer(x) ? json_integer_value(x)
										 : rec->wall_ns;
	if ((x = json_object_get(o, "conn"))) {
		if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > UINT32_MAX)
			bad = "\"conn\" is not a connection number";
		else
			rec->conn = (uint32_t)json_integer_value(x);
	}
	return bad;
}

/* The record's payload, channel and cursor from o, decoded into st's buffers; *have says
 * which of channel (1) and cursor (2) the line gives. NULL, or what is wrong (the last). */
static const char *
line_bytes(struct import_line *st, json_t *o, struct journal_record *rec, int *have)
{
	const char *bad = NULL;
	const uint8_t *chp;
	size_t chlen = 0, curlen = 0;
	int present, have_ch, have_cur;

	if (bytes_field(o, "payload", &st->pbuf, &st->pcap, &rec->payload, &rec->payload_len, &present))
		bad = "bad \"payload\" or \"payload_b64\"";
	if (bytes_field(o, "channel", &st->cbuf, &st->ccap, &chp, &chlen, &have_ch) ||
	    chlen > JOURNAL_MAX_CHANNEL)
		bad = "bad \"channel\" (a string of at most 255 bytes)";
	if (bytes_field(o, "cursor", &st->curbuf, &st->curcap, &rec->cursor, &curlen, &have_cur) ||
	    curlen > JOURNAL_MAX_CURSOR)
		bad = "bad \"cursor\" (at most 1024 bytes)";
	rec->channel = (const char *)chp;
	rec->channel_len = (uint16_t)chlen;
	rec->cursor_len = (uint16_t)curlen;
	*have = (have_ch ? 1 : 0) | (have_cur ? 2 : 0);
	return bad;
}

/* A text record's channel and cursor that the line does not give (have: line_bytes), from
 * its payload by the feed's rules. */
static void
line_classify(const struct feed *feed, int have, struct journal_record *rec)
{
	struct feed_msg m;

	if (have == 3 || rec->kind != JOURNAL_TEXT)
		return;
	feed_classify(feed, rec->payload, rec->payload_len, &m);
	if (!(have & 1) && m.channel.len <= JOURNAL_MAX_CHANNEL) {
		rec->channel = m.channel.p;
		rec->channel_len = (uint16_t)m.channel.len;
	}
	if (!(have & 2) && m.cursor.len <= JOURNAL_MAX_CURSOR) {
		rec->cursor = (const uint8_t *)m.cursor.p;
		rec->cursor_len = (uint16_t)m.cursor.len;
	}
}

/* Why the per-line parse is apart from cmd_import: it never prints, so that a fuzzer
 * feeds it lines directly. Every check runs; the message of the last that failed wins. */
int
import_line_parse(struct import_line *st, const char *line, size_t len, int classify, const struct feed *feed,
		  struct journal_record *out, char *err, size_t errlen)
{
	struct journal_record rec = { 0 };
	const char *bad, *bad_bytes;
	int have;

	json_decref(st->doc);
	st->doc = NULL;
	memset(out, 0, sizeof(*out));
	if (line_load(st, line, len, err, errlen))
		return -1;
	bad = line_header(st->doc, &rec);
	if ((bad_bytes = line_bytes(st, st->doc, &rec, &have)))
		bad = bad_bytes;
	if (bad) {
		snprintf(err, errlen, "%s", bad);
		return -1;
	}
	if (classify)
		line_classify(feed, have, &rec);
	*out = rec;
	return 0;
}

static int
line_error(const char *file, unsigned long line, const char *what, int created)
{
	if (created)
		fprintf(stderr, "wstape: import '%s' line %lu: %s\n", file, line, what);
	else
		fprintf(stderr, "wstape: import '%s' line %lu: %s; nothing after line %lu was imported\n",
			file, line, what, line - 1);
	return EXIT_USAGE;
}

/* Every line of f (named in) into journal j (named out). Returns the exit code, after
 * saying what went wrong or how many records were imported. */
static int
import_lines(FILE *f, const char *in, const char *out, struct journal *j, int classify,
	     const struct feed *feed, int created)
{
	char *line = NULL, msg[256];
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0, n = 0;
	struct import_line st = { 0 };
	int ex = EXIT_OK, rc;

	while ((len = getline(&line, &cap, f)) >= 0) {
		struct journal_record rec;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			len--;
		if (len == 0)
			continue;
		if (import_line_parse(&st, line, (size_t)len, classify, feed, &rec, msg, sizeof(msg))) {
			ex = line_error(in, lineno, msg, created);
			break;
		}
		if ((rc = journal_append(j, &rec)) != 0) {
			cmd_journal_error(j, "cannot write journal", out, rc);
			ex = cmd_exit_for(rc);
			break;
		}
		n++;
	}
	if (ferror(f) && ex == EXIT_OK) {
		fprintf(stderr, "wstape: cannot read '%s': %s\n", in, strerror(errno));
		ex = EXIT_USAGE;
	}
	free(line);
	import_line_free(&st);
	if (ex == EXIT_OK)
		fprintf(stderr, "wstape: imported %lu records into '%s'\n", n, out);
	return ex;
}

/* The journal to import into (created, or with append an existing one): 0 and *j, or the
 * exit code after saying what is wrong. */
static int
import_open(const char *out, int append, const struct journal_options *opt, struct journal **j)
{
	struct journal_recovery recovery;
	int rc = journal_open(out, JOURNAL_CREATE | (append ? JOURNAL_APPEND : 0), opt, j, &recovery);

	if (rc == JOURNAL_EEXIST) {
		fprintf(stderr,
			"wstape: import: '%s' already holds a journal; add --append to import into it, or choose another -o\n",
			out);
		return EXIT_USAGE;
	}
	if (rc) {
		cmd_journal_error(NULL, "cannot open journal", out, rc);
		return cmd_exit_for(rc);
	}
	cmd_report_recovery(out, &recovery);
	return 0;
}

/* The import itself, once the arguments are settled: classify (with feed) when --feed was
 * given. Returns the exit code. */
static int
import_run(const char *in, const char *out, struct journal_options *optp, int append, int classify,
	   const struct feed *feed)
{
	struct journal_options opt = *optp;
	int ex = EXIT_OK, rc;

	FILE *f = strcmp(in, "-") ? fopen(in, "r") : stdin;
	if (!f) {
		fprintf(stderr, "wstape: cannot open '%s': %s\n", in, strerror(errno));
		return EXIT_USAGE;
	}
	/* A file is read as fast as the disk allows and nobody waits for its records: blocks
	 * are sealed by size only, so that the journal does not depend on how fast this
	 * machine is (a pipe keeps the flush timer: a reader may follow it live). */
	struct stat sb;
	if (fstat(fileno(f), &sb) == 0 && S_ISREG(sb.st_mode))
		opt.flush_ms = 24u * 3600 * 1000;
	struct journal *j;
	int created;
	if ((ex = import_open(out, append, &opt, &j))) {
		if (f != stdin)
			fclose(f);
		return ex;
	}
	created = journal_created(j);
	if (classify && (rc = cmd_feed_store(j, feed)) != 0) {
		cmd_journal_error(j, "cannot write metadata of journal", out, rc);
		ex = cmd_exit_for(rc);
		goto done;
	}

	ex = import_lines(f, in, out, j, classify, feed, created);
done:
	if (f != stdin)
		fclose(f);
	if (ex != EXIT_OK && created) {
		/* leave the path as it was, so that the import can simply be run again */
		if ((rc = journal_discard(j)) != 0)
			fprintf(stderr,
				"wstape: cannot remove the journal '%s' that this import created: %s\n", out,
				journal_strerror(rc));
		else
			fprintf(stderr,
				"wstape: removed the journal '%s' that this import created; nothing was imported\n",
				out);
		return ex;
	}
	if ((rc = journal_close(j)) != 0 && ex == EXIT_OK) {
		cmd_journal_error(NULL, "cannot close journal", out, rc);
		ex = cmd_exit_for(rc);
	}
	return ex;
}

int
cmd_import(int argc, char **argv)
{
	const char *in = NULL, *out = NULL, *feedname = NULL;
	struct journal_options opt = { 0 };
	int append = 0, ex = EXIT_OK;
	const struct feed *feed = &feed_raw; /* any feed, kept byte-exact */
	uint64_t block = 0, level = 0, segsize = 0;
	const struct cmd_option opts[] = {
		CMD_STR("--output", "-o", &out, "a journal directory"),
		CMD_STR("--feed", NULL, &feedname, "a feed (a built-in one or spec:FILE.json)"),
		CMD_FN("--fsync", NULL, &opt.fsync, "always, interval or never", cmd_opt_fsync, NULL),
		CMD_SIZE("--block-size", &block, "a size from 4k to 1g", 4096, 1u << 30),
		CMD_SIZE("--segment-size", &segsize, "a size from 4k to 1t", 4096, 1ULL << 40),
		CMD_U64("--zstd-level", &level, "a level from 1 to 19", 1, 19),
		CMD_FLAG("--append", NULL, &append),
		CMD_END,
	};
	struct cmd_args args = {
		.cmd = "import", .usage = cmd_import_usage(), .what = "input file", .maxpos = 1
	};

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	in = args.npos ? args.pos[0] : NULL;
	opt.block_bytes = (uint32_t)block;
	opt.segment_bytes = segsize;
	opt.zstd_level = (int)level;
	if (!in || !out)
		return cmd_usage_error(cmd_import_usage(), "import: needs an input file and -o JOURNAL");
	if (feedname && (ex = cmd_feed_arg("import", feedname, &feed)))
		return ex;
	ex = import_run(in, out, &opt, append, feedname != NULL, feed);
	cmd_feed_free(feed);
	return ex;
}
