/* prune.c - `wstape prune`: remove whole sealed segments from the start of a journal */
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "util/clock.h"
#include "util/text.h"

const char cmd_prune_usage[] =
	"usage: wstape prune JOURNAL (--before T | --keep D) [--dry-run]\n"
	"\n"
	"Remove whole segments from the start of the journal whose records were all received\n"
	"before T (by the latest receive time in each), never the last segment (the one a\n"
	"recorder appends to), and stop at the first segment it keeps. The index is updated and\n"
	"the journal starts later: record numbers stay as they were (the first record kept keeps\n"
	"its number), and info, cat, verify, inspect and replay read it from there. It may run\n"
	"while 'wstape record' writes the journal and while readers read it (a reader that was\n"
	"in a removed segment reads on from the first segment kept), and a crash in the middle\n"
	"leaves a journal that reads (the next prune or recorder finishes the removal).\n"
	"Prints what it removed (segments, records, bytes, up to which time) and where the\n"
	"journal starts now; exits 0 (also when there was nothing to remove), 2 when the journal\n"
	"cannot be read or another prune of it is running, 3 when a file cannot be written or\n"
	"removed.\n"
	"\n"
	"  --before T  remove the segments whose records are all before T (RFC 3339, e.g.\n"
	"              2026-11-22T10:00:00Z, or epoch s/ms/us/ns digits)\n"
	"  --keep D    keep the last D of records: --before now minus D (\"7d\", \"36h\", \"90m\")\n"
	"  --dry-run   say what would be removed, remove nothing\n"
	"  --ignore-marks  also remove records a JetStream stream has not acknowledged yet\n"
	"              (by default a journal published with record --publish or wstape publish\n"
	"              keeps the records after its marks MARK.nats.STREAM)\n";

/* The receive time of the first record a stream has not acknowledged (the record after
 * the journal's mark nats.<stream>), the earliest of every stream's; INT64_MAX when every
 * record is acknowledged or the journal has no mark. Names the stream in *who. */
static int64_t
marks_keep_from(const char *path, char *who, size_t cap)
{
	int64_t keep = INT64_MAX;
	struct journal *j;
	DIR *d = opendir(path);
	struct dirent *e;

	if (!d)
		return keep;
	if (journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL) != 0) {
		closedir(d);
		return keep;
	}
	while ((e = readdir(d))) {
		const char *n = e->d_name;
		uint64_t mark;
		struct journal_reader *r;
		struct journal_record rec;
		if (strncmp(n, "MARK.nats.", 10) || strstr(n, ".tmp") ||
		    journal_mark_get(j, n + 5, &mark) != 0)
			continue;
		if (journal_reader_open(j, &r) != 0)
			continue;
		if (journal_reader_seek_recno(r, mark + 1) == 0 && journal_reader_next(r, &rec) == 0 &&
		    rec.wall_ns < keep) {
			keep = rec.wall_ns;
			snprintf(who, cap, "%s", n + 10);
		}
		journal_reader_close(r);
	}
	closedir(d);
	journal_close(j);
	return keep;
}

static void
print_result(const char *path, const struct journal_pruned *p, int dry)
{
	char t[48], u[48];

	if (!p->segments) {
		printf("nothing to prune in '%s': it starts at record %llu", path,
		       (unsigned long long)(p->first_recno ? p->first_recno : 1));
		if (p->first_wall_ns)
			printf(" (%s)", text_format_time(p->first_wall_ns, t, sizeof(t)));
		printf("\n");
		return;
	}
	printf("%s %llu segments (%llu records, %llu bytes, received up to %s) from '%s'; it starts at record %llu (segment %u, %s)\n",
	       dry ? "would remove" : "removed", (unsigned long long)p->segments,
	       (unsigned long long)p->records, (unsigned long long)p->bytes,
	       text_format_time(p->until_wall_ns, u, sizeof(u)), path, (unsigned long long)p->first_recno,
	       p->first_segment,
	       p->first_wall_ns ? text_format_time(p->first_wall_ns, t, sizeof(t)) : "no records yet");
}

int
cmd_prune(int argc, char **argv)
{
	int64_t before = INT64_MIN, keep = -1;
	int dry = 0, ignore_marks = 0, ex, rc;
	const struct cmd_option opts[] = {
		CMD_TIME("--before", &before, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_DURATION("--keep", &keep, "a duration (\"7d\", \"36h\", \"90m\")", 0, 0),
		CMD_FLAG("--dry-run", NULL, &dry),
		CMD_FLAG("--ignore-marks", NULL, &ignore_marks),
		CMD_END,
	};
	struct cmd_args args = { .cmd = "prune", .usage = cmd_prune_usage, .what = "journal", .maxpos = 1 };
	struct journal_pruned res;
	const char *path;

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	if (!(path = args.npos ? args.pos[0] : NULL))
		return cmd_usage_error(cmd_prune_usage, "prune: which journal?");
	if ((before != INT64_MIN) == (keep >= 0))
		return cmd_usage_error(cmd_prune_usage, "prune: give --before T or --keep D (one of them)");
	if (keep >= 0)
		before = clock_wall_ns() - keep;
	if (!ignore_marks) {
		char stream[300] = "", t[48];
		int64_t from = marks_keep_from(path, stream, sizeof stream);
		if (from < before) {
			printf("keeping the records of '%s' received from %s on: stream %s has not acknowledged "
			       "them (its mark MARK.nats.%s; --ignore-marks prunes them anyway)\n",
			       path, text_format_time(from, t, sizeof t), stream, stream);
			before = from;
		}
	}
	if ((rc = journal_prune(path, before, dry ? JOURNAL_PRUNE_DRY_RUN : 0, &res)) != 0) {
		cmd_journal_error(NULL, "cannot prune journal", path, rc);
		return rc == JOURNAL_ELOCKED ? EXIT_USAGE : cmd_exit_for(rc);
	}
	print_result(path, &res, dry);
	return EXIT_OK;
}
