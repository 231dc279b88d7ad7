/* verify.c - `wstape verify`: check every block and the index; rebuild the index; repair */
#include <stdio.h>
#include <sys/stat.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"

const char cmd_verify_usage[] =
	"usage: wstape verify JOURNAL [--reindex | --repair]\n"
	"\n"
	"Read every block of every segment: header and data checksums, decompression, record\n"
	"framing, record numbers; then check the index against the segments. When all is well it\n"
	"prints \"ok: N records in N blocks, N segment bytes verified\" (and a note for blocks past\n"
	"the index or a torn tail) and exits 0. Otherwise it exits 1 and says the segment and\n"
	"offset of the first bad block (with the blocks and records before it that are good), or\n"
	"what the index lists that the segments do not hold, or that the index is damaged, or\n"
	"which records are missing (a segment gone); 2 when a segment or the index cannot be read,\n"
	"or a segment was written by a newer wstape.\n"
	"\n"
	"  --reindex  rebuild the index from the segments (it is derived from them), then verify\n"
	"             (default: the index is only checked)\n"
	"  --repair   cut the last segment at its first bad block so the journal opens again;\n"
	"             what follows that offset is lost (it says how many bytes); rebuild a damaged\n"
	"             index (default: nothing is changed)\n";

/* 1 when segment n is the journal's last (no segment n + 1 beside it). */
static int
last_segment(const char *path, uint32_t n)
{
	char next[4200];
	struct stat sb;

	snprintf(next, sizeof(next), "%s/seg-%010u.wst", path, n + 1);
	return stat(next, &sb) != 0;
}

/* --repair: cut the last segment at its first bad block, then let a writer's open rebuild
 * a damaged or stale index. */
static int
verify_repair(const char *path)
{
	struct journal_recovery rec;
	struct journal *j;
	uint32_t seg;
	uint64_t off, cut;
	int rc;

	if ((rc = journal_repair(path, &seg, &off, &cut)) != 0) {
		cmd_journal_error(NULL, "cannot repair journal", path, rc);
		if (rc == JOURNAL_ECORRUPT)
			fprintf(stderr,
				"wstape: the first bad block is at offset %llu of segment %u, which is not the last segment: the journal cannot be cut there without dropping later segments\n",
				(unsigned long long)off, seg);
		return cmd_exit_for(rc);
	}
	if (cut)
		printf("cut %llu bytes from offset %llu of segment %u\n", (unsigned long long)cut,
		       (unsigned long long)off, seg);
	/* open as a writer once: recovery rebuilds a damaged, stale or dropped index now */
	if ((rc = journal_open(path, JOURNAL_APPEND, NULL, &j, &rec)) != 0) {
		cmd_journal_error(NULL, "cannot open journal", path, rc);
		return cmd_exit_for(rc);
	}
	cmd_report_recovery(path, &rec);
	if (rec.index_damaged || rec.reindexed)
		printf("index rebuilt from the segments (%llu blocks)\n",
		       (unsigned long long)rec.blocks_indexed);
	else if (!cut && !rec.torn_bytes)
		printf("nothing to repair\n");
	if ((rc = journal_close(j)) != 0) {
		cmd_journal_error(NULL, "cannot close journal", path, rc);
		return cmd_exit_for(rc);
	}
	return EXIT_OK;
}

/* --reindex: rebuild the index from the segments. */
static int
verify_reindex(const char *path)
{
	struct journal *j;
	int ex, rc;

	if ((ex = cmd_open_journal(path, JOURNAL_APPEND, NULL, &j)) != 0)
		return ex;
	if ((rc = journal_reindex(j)) != 0) {
		cmd_journal_error(j, "cannot reindex journal", path, rc);
		ex = cmd_exit_for(rc);
		journal_close(j);
		return ex;
	}
	journal_close(j);
	printf("index rebuilt\n");
	return EXIT_OK;
}

/* What verify found wrong (rc from journal_verify), on stderr; the exit code. */
static int
verify_failed(const char *path, const struct journal_verify *v, int rc)
{
	if (rc == JOURNAL_EINDEX && !v->bad_segment)
		fprintf(stderr, "wstape: journal '%s': %s\n", path, v->detail);
	else if (rc == JOURNAL_EINDEX)
		fprintf(stderr, "wstape: journal '%s': %s (block at offset %llu of segment %u)\n", path,
			v->detail, (unsigned long long)v->bad_offset, v->bad_segment);
	else if (rc == JOURNAL_EGAP)
		fprintf(stderr, "wstape: journal '%s': %s; %llu blocks (%llu records) before it are good\n",
			path, v->detail, (unsigned long long)v->blocks, (unsigned long long)v->records);
	else if (rc == JOURNAL_ECORRUPT)
		fprintf(stderr,
			"wstape: journal '%s' is corrupt at offset %llu of segment %u: %s; %llu blocks (%llu records) before it are good; %s\n",
			path, (unsigned long long)v->bad_offset, v->bad_segment,
			v->detail ? v->detail : journal_strerror(rc), (unsigned long long)v->blocks,
			(unsigned long long)v->records,
			last_segment(path, v->bad_segment)
				? "'wstape verify --repair' cuts the journal there"
				: "it is not the last segment, so --repair cannot cut there without dropping the segments after it "
				  "(restore that segment from a copy)");
	else /* unreadable (a segment, the index), or a newer format: nothing to repair */
		fprintf(stderr, "wstape: cannot verify journal '%s': %s\n", path,
			v->detail ? v->detail : journal_strerror(rc));
	return rc == JOURNAL_ECORRUPT || rc == JOURNAL_EINDEX || rc == JOURNAL_EGAP ? EXIT_FOUND : EXIT_USAGE;
}

int
cmd_verify(int argc, char **argv)
{
	const char *path = NULL;
	int reindex = 0, repair = 0, ex, rc;
	const struct cmd_option opts[] = {
		CMD_FLAG("--reindex", NULL, &reindex),
		CMD_FLAG("--repair", NULL, &repair),
		CMD_END,
	};
	struct cmd_args args = { .cmd = "verify", .usage = cmd_verify_usage, .what = "journal", .maxpos = 1 };
	struct journal_verify v;
	struct journal *j;

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	if (!(path = args.npos ? args.pos[0] : NULL))
		return cmd_usage_error(cmd_verify_usage, "verify: which journal?");
	if (reindex && repair)
		return cmd_usage_error(cmd_verify_usage, "verify: --reindex or --repair, not both");
	if (repair)
		return verify_repair(path);
	if (reindex && (ex = verify_reindex(path)) != EXIT_OK)
		return ex;
	if ((ex = cmd_open_journal(path, JOURNAL_RDONLY, NULL, &j)) != 0)
		return ex;
	if ((rc = journal_verify(j, &v)) != 0) {
		ex = verify_failed(path, &v, rc);
		journal_close(j);
		return ex;
	}
	printf("ok: %llu records in %llu blocks, %llu segment bytes verified\n",
	       (unsigned long long)v.records, (unsigned long long)v.blocks, (unsigned long long)v.good_bytes);
	if (v.unindexed_blocks)
		printf("note: %llu blocks past the index (indexed when the journal is next opened for writing)\n",
		       (unsigned long long)v.unindexed_blocks);
	if (v.torn_bytes)
		printf("note: torn tail of %llu bytes after the last whole block (a writer stopped mid-block; cut when next opened for writing)\n",
		       (unsigned long long)v.torn_bytes);
	journal_close(j);
	return EXIT_OK;
}
