/* inspect.c - `wstape inspect`: gaps, duplicates, disconnects and timing of a journal */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "feeds/feed.h"
#include "inspect/inspect.h"
#include "journal/journal.h"
#include "util/text.h"

const char cmd_inspect_usage[] =
	"usage: wstape inspect JOURNAL [options]\n"
	"\n"
	"Report, in one pass over the journal: connections and downtime, seq gaps, replay\n"
	"coverage (hasGap, missing chunks), cursor regressions, duplicate events (the same\n"
	"event again, not merely an equal dedup key), replay/live overlap, exact duplicate\n"
	"frames, stalls, inter-arrival percentiles per channel, and for lasersell ping RTTs,\n"
	"pnl_update cadence, positions never closed and reconnect backoff.\n"
	"Every finding names its record number: `wstape cat JOURNAL --from-record N` shows it.\n"
	"\n"
	"options:\n"
	"  --channel C        only frames of channel C (default: every channel)\n"
	"  --conn N           only connection N (default: every connection)\n"
	"  --from T, --to T   from the first record received at or after T, up to the first\n"
	"                     received at or after T: one stretch of the journal (RFC 3339 or epoch;\n"
	"                     default: from the first record, to the last)\n"
	"  --stall-ms N       an inter-arrival above N ms is a stall (default 5000)\n"
	"  --feed F           raw|hydromancer|lasersell (default: the journal's \"feed\")\n"
	"  --json             the report as JSON (schema in docs/INSPECT.md; default: text)\n"
	"  --fail-on LIST     exit 1 when one of these classes is found: gaps, dups,\n"
	"                     disconnects, overlap, positions, timing, malformed, any\n"
	"                     (default: none, the exit status does not depend on findings)\n"
	"\n"
	"exit status: 0 clean (or no --fail-on class found); 1 a --fail-on class found, or the\n"
	"index lists records the segments do not hold (as for cat, info and verify: the report\n"
	"covers what the segments hold and names the missing records); 2 bad usage, an unreadable\n"
	"journal or a block that cannot be read (the readable part is reported).\n";

/* The names of the feeds in the table, "raw, hydromancer, ..." */
static void
feed_names(char *buf, size_t n)
{
	size_t len = 0;

	buf[0] = 0;
	for (int id = 0; id < FEED_COUNT; id++) {
		const struct feed *f = feed_get((enum feed_id)id);

		if (f && len < n)
			len += (size_t)snprintf(buf + len, n - len, "%s%s", len ? ", " : "", f->name);
	}
}

struct args {
	struct inspect_options opt;
	const char *path, *feed;
	unsigned fail_on;
	int json;
};

/* One option (getopt_long's c, optarg). Returns 0, or EXIT_USAGE (said on stderr). */
static int
parse_option(int c, struct args *a)
{
	uint64_t u;

	switch (c) {
	case 'c':
		if (!*optarg || strlen(optarg) > JOURNAL_MAX_CHANNEL) {
			fprintf(stderr, "wstape: inspect: bad --channel '%s'\n", optarg);
			return EXIT_USAGE;
		}
		a->opt.channel = optarg;
		return 0;
	case 'n':
		if (text_parse_u64(optarg, &u) || u > UINT32_MAX) {
			fprintf(stderr, "wstape: inspect: --conn wants a connection number, not '%s'\n", optarg);
			return EXIT_USAGE;
		}
		a->opt.conn = (uint32_t)u;
		a->opt.conn_set = 1;
		return 0;
	case 'f':
	case 't':
		if (text_parse_time(optarg, c == 'f' ? &a->opt.from_ns : &a->opt.to_ns)) {
			fprintf(stderr, "wstape: inspect: --%s wants a time (RFC 3339 or epoch digits), not '%s'\n",
				c == 'f' ? "from" : "to", optarg);
			return EXIT_USAGE;
		}
		return 0;
	case 's':
		if (text_parse_u64(optarg, &u) || u == 0 || u > 86400000ULL * 365) {
			fprintf(stderr, "wstape: inspect: --stall-ms wants a number of milliseconds > 0, not '%s'\n",
				optarg);
			return EXIT_USAGE;
		}
		a->opt.stall_ns = (int64_t)u * 1000000;
		return 0;
	case 'F':
		a->feed = optarg;
		if (feed_lookup(a->feed, &a->opt.feed)) {
			char names[128];

			feed_names(names, sizeof(names));
			fprintf(stderr, "wstape: inspect: unknown feed '%s' (%s)\n", a->feed, names);
			return EXIT_USAGE;
		}
		return 0;
	case 'j':
		a->json = 1;
		return 0;
	case 'x':
		if (inspect_class_parse(optarg, &a->fail_on)) {
			fprintf(stderr, "wstape: inspect: bad --fail-on '%s' (gaps, dups, disconnects, overlap,"
				" positions, timing, malformed, any)\n", optarg);
			return EXIT_USAGE;
		}
		return 0;
	default:
		return -1;
	}
}

/* Returns 0, or EXIT_USAGE (said on stderr). */
static int
parse_args(int argc, char **argv, struct args *a)
{
	static const struct option longopts[] = {
		{ "channel", required_argument, NULL, 'c' },
		{ "conn", required_argument, NULL, 'n' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "stall-ms", required_argument, NULL, 's' },
		{ "feed", required_argument, NULL, 'F' },
		{ "json", no_argument, NULL, 'j' },
		{ "fail-on", required_argument, NULL, 'x' },
		{ NULL, 0, NULL, 0 },
	};
	int c, rc;

	memset(a, 0, sizeof(*a));
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((rc = parse_option(c, a)) > 0)
			return rc;
		if (rc < 0) {
			fprintf(stderr, "wstape: inspect: unknown or incomplete option '%s'\n%s",
				argv[optind - 1], cmd_inspect_usage);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "wstape: inspect: %s\n%s",
			optind >= argc ? "a journal is needed" : "only one journal, please", cmd_inspect_usage);
		return EXIT_USAGE;
	}
	a->path = argv[optind];
	if (a->opt.from_ns && a->opt.to_ns && a->opt.to_ns < a->opt.from_ns) {
		fprintf(stderr, "wstape: inspect: --to is before --from\n");
		return EXIT_USAGE;
	}
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
		fprintf(stderr, "wstape: journal '%s': the index lists records that the segments do not hold;"
			" the report covers the records the segments hold (see 'wstape verify %s')\n", path, path);
		return EXIT_FOUND;
	}
	if (err) {
		fprintf(stderr, "wstape: journal '%s' is not wholly readable: %s; the report covers the"
			" records that could be read (see 'wstape verify %s')\n", path,
			journal_strerror(err), path);
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
		/* records missing (a segment gone) or out of sequence: 1, as for cat, info, verify */
		return err == JOURNAL_EGAP || err == JOURNAL_ECORRUPT ? EXIT_FOUND : EXIT_USAGE;
	}
	if (!a.feed) {
		const char *m = journal_meta_get(j, "feed");

		if (m && feed_lookup(m, &a.opt.feed)) {
			fprintf(stderr, "wstape: journal '%s' names an unknown feed '%s'; use --feed\n", a.path, m);
			journal_close(j);
			return EXIT_USAGE;
		}
	}
	a.opt.journal_name = a.path;
	if ((err = inspect_new(&a.opt, &in))) {
		fprintf(stderr, "wstape: inspect: %s\n", strerror(err));
		journal_close(j);
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
	return rc;
}
