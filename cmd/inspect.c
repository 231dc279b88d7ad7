/* inspect.c - `wstape inspect`: gaps, duplicates, disconnects and timing of a journal */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "feeds/feed.h"
#include "inspect/inspect.h"
#include "journal/journal.h"
#include "util/text.h"

static const char usage[] =
	"usage: wstape inspect JOURNAL [options]\n"
	"\n"
	"Report, in one pass over the journal: connections and downtime, seq gaps, replay\n"
	"coverage (the feed's gap flag, missing chunks), cursor regressions, duplicate events (the\n"
	"same event again, not merely an equal dedup key), replay/live overlap, exact duplicate\n"
	"frames, stalls, inter-arrival percentiles per channel, reconnects against the feed's\n"
	"backoff, and the feed's own rules (ping RTTs, positions never closed, ...: docs/INSPECT.md).\n"
	"Every finding names its record number: `wstape cat JOURNAL --from-record N` shows it.\n"
	"\n"
	"options:\n"
	"  --channel C        only frames of channel C (default: every channel)\n"
	"  --conn N           only connection N (default: every connection)\n"
	"  --from T, --to T   from the first record received at or after T, up to the first\n"
	"                     received at or after T: one stretch of the journal (RFC 3339 or epoch;\n"
	"                     default: from the first record, to the last)\n"
	"  --stall-ms N       an inter-arrival above N ms is a stall (default 5000)\n"
	"  --feed F           {feeds|}|spec:FILE.json (default: the journal's \"feed\")\n"
	"  --json             the report as JSON (schema in docs/INSPECT.md; default: text)\n"
	"  --fail-on LIST     exit 1 when one of these classes is found: gaps, dups,\n"
	"                     disconnects, overlap, positions, timing, malformed, any\n"
	"                     (default: none, the exit status does not depend on findings)\n"
	"\n"
	"exit status: 0 clean (or no --fail-on class found); 1 a --fail-on class found, or the\n"
	"index lists records the segments do not hold (as for cat, info and verify: the report\n"
	"covers what the segments hold and names the missing records); 2 bad usage, an unreadable\n"
	"journal or a block that cannot be read (the readable part is reported).\n";

const char *
cmd_inspect_usage(void)
{
	static struct text_buf b;

	return cmd_help_text(&b, usage);
}

struct args {
	struct inspect_options opt;
	const char *path, *feed;
	unsigned fail_on;
	int json;
};

/* CMD_OPT_FN converters of inspect's options (cmd/opts.h): 0, or non-zero when bad. */
static int
opt_channel(const char *v, void *dst, void *ud)
{
	(void)ud;
	if (!*v || strlen(v) > JOURNAL_MAX_CHANNEL)
		return -1;
	*(const char **)dst = v;
	return 0;
}

static int
opt_conn(const char *v, void *dst, void *ud)
{
	struct inspect_options *o = dst;
	uint64_t u;

	(void)ud;
	if (text_parse_u64(v, &u) || u > UINT32_MAX)
		return -1;
	o->conn = (uint32_t)u;
	o->conn_set = 1;
	return 0;
}

static int
opt_stall(const char *v, void *dst, void *ud)
{
	uint64_t u;

	(void)ud;
	if (text_parse_u64(v, &u) || u == 0 || u > 86400000ULL * 365)
		return -1;
	*(int64_t *)dst = (int64_t)u * 1000000;
	return 0;
}

static int
opt_fail_on(const char *v, void *dst, void *ud)
{
	(void)ud;
	return inspect_class_parse(v, dst);
}

/* Returns 0, or EXIT_USAGE (said on stderr). */
static int
parse_args(int argc, char **argv, struct args *a)
{
	char feeds[128], want[160];
	int ex;

	memset(a, 0, sizeof(*a));
	feed_list_names(feeds, sizeof(feeds));
	snprintf(want, sizeof(want), "a feed (%s)", feeds);
	const struct cmd_option opts[] = {
		CMD_FN("--channel", NULL, &a->opt.channel, "a channel name", opt_channel, NULL),
		CMD_FN("--conn", NULL, &a->opt, "a connection number", opt_conn, NULL),
		CMD_TIME("--from", &a->opt.from_ns, "a time (RFC 3339 or epoch digits)"),
		CMD_TIME("--to", &a->opt.to_ns, "a time (RFC 3339 or epoch digits)"),
		CMD_FN("--stall-ms", NULL, &a->opt.stall_ns, "a number of milliseconds > 0", opt_stall, NULL),
		CMD_STR("--feed", NULL, &a->feed, want),
		CMD_FLAG("--json", NULL, &a->json),
		CMD_FN("--fail-on", NULL, &a->fail_on,
		       "classes (gaps, dups, disconnects, overlap, positions, timing, malformed, any)",
		       opt_fail_on, NULL),
		CMD_END,
	};
	struct cmd_args args = {
		.cmd = "inspect", .usage = cmd_inspect_usage(), .what = "journal", .maxpos = 1
	};

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	if (!args.npos)
		return cmd_usage_error(cmd_inspect_usage(), "inspect: a journal is needed");
	a->path = args.pos[0];
	if (a->opt.from_ns && a->opt.to_ns && a->opt.to_ns < a->opt.from_ns)
		return cmd_usage_error(cmd_inspect_usage(), "inspect: --to is before --from");
	if (a->feed)
		return cmd_feed_arg("inspect", a->feed, &a->opt.feed);
	return 0;
}

/* The exit status once the report is written: the reader's error (err), else --fail-on. */
static int
exit_status(const struct args *a, struct journal *j, const struct inspect *in, int err)
{
	const char *path = a->path;

	if (fflush(stdout) != 0) {
		fprintf(stderr, "wstape: inspect: cannot write the report: %s\n", strerror(errno));
		return EXIT_IO;
	}
	if (err == JOURNAL_EGAP) {
		fprintf(stderr, "wstape: journal '%s': %s; the report covers the records before them\n", path,
			journal_last_detail(j));
		return EXIT_FOUND;
	}
	if (err == JOURNAL_EINDEX) {
		/* as cat, info and verify: the index lists blocks that the segments lack */
		fprintf(stderr,
			"wstape: journal '%s': the index lists records that the segments do not hold;"
			" the report covers the records the segments hold (see 'wstape verify %s')\n",
			path, path);
		return EXIT_FOUND;
	}
	if (err) {
		fprintf(stderr,
			"wstape: journal '%s' is not wholly readable: %s; the report covers the"
			" records that could be read (see 'wstape verify %s')\n",
			path, journal_strerror(err), path);
		return EXIT_USAGE;
	}
	return a->fail_on & inspect_classes(in) ? EXIT_FOUND : EXIT_OK;
}

int
cmd_inspect(int argc, char **argv)
{
	struct args a;
	struct inspect *in = NULL;
	struct journal *j = NULL;
	struct text_buf out = { 0 };
	int err, rc;

	if ((rc = parse_args(argc, argv, &a)))
		return rc;
	if ((err = journal_open(a.path, JOURNAL_RDONLY, NULL, &j, NULL))) {
		cmd_journal_error(NULL, "cannot open journal", a.path, err);
		cmd_feed_free(a.opt.feed);
		/* records missing (a segment gone) or out of sequence: 1, as for cat, info, verify */
		return err == JOURNAL_EGAP || err == JOURNAL_ECORRUPT ? EXIT_FOUND : EXIT_USAGE;
	}
	if (!a.feed && (rc = cmd_journal_feed(j, a.path, &a.opt.feed))) {
		journal_close(j);
		return rc;
	}
	a.opt.journal_name = a.path;
	if ((err = inspect_new(&a.opt, &in))) {
		fprintf(stderr, "wstape: inspect: %s\n", strerror(err));
		journal_close(j);
		cmd_feed_free(a.opt.feed);
		return EXIT_IO;
	}
	err = inspect_run(in, j);
	if (a.json)
		inspect_report_json(in, &out);
	else
		inspect_report_text(in, &out);
	fwrite(out.p, 1, out.len, stdout);
	rc = exit_status(&a, j, in, err);
	text_buf_free(&out);
	inspect_free(in);
	journal_close(j);
	cmd_feed_free(a.opt.feed);
	return rc;
}
