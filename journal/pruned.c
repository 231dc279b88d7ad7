/* pruned.c - the prune marker J/PRUNED: key=value lines (docs/FORMAT.md, "Pruning"),
 * replaced atomically by each prune before it removes a segment */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handle.h"
#include "pruned.h"

/* A decimal number of digits only into *v (signed when neg is allowed): 0 or -1. */
static int
parse_num(const char *s, int neg, uint64_t *v)
{
	int minus = neg && *s == '-';
	uint64_t x = 0;

	s += minus;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || x > (UINT64_MAX - 9) / 10)
			return -1;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (neg && x > (uint64_t)INT64_MAX)
		return -1;
	*v = minus ? (uint64_t)(-(int64_t)x) : x;
	return 0;
}

int
pruned_load(const char *dir, struct pruned *p, char *why, size_t n)
{
	static const char *const keys[] = { "first_segment", "first_recno", "first_wall_ns", "segments",
					    "records",       "bytes",       "until_wall_ns" };
	uint64_t v[7] = { 0 };
	int have[7] = { 0 };
	char path[4200], line[256];
	FILE *f;
	int rc = 0;

	memset(p, 0, sizeof(*p));
	snprintf(path, sizeof(path), "%s/" PRUNED_FILE, dir);
	if (!(f = fopen(path, "r")))
		return errno == ENOENT ? 0 : errno;
	while (!rc && fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!eq || line[0] == '#')
			continue;
		*eq = 0;
		for (int i = 0; i < 7; i++)
			if (!strcmp(line, keys[i])) {
				if (parse_num(eq + 1, i == 2 || i == 6, &v[i]) != 0) {
					snprintf(why, n, "'%s': %s is '%s', not a whole number", path, line,
						 eq + 1);
					rc = JOURNAL_ECORRUPT;
				}
				have[i] = 1;
			}
	}
	if (ferror(f) && !rc)
		rc = EIO;
	fclose(f);
	if (rc)
		return rc;
	if (!have[0] || !have[1] || v[0] < 2 || v[0] > UINT32_MAX || v[1] < 2) {
		snprintf(
			why, n,
			"'%s' does not say where the journal starts (first_segment above 1, first_recno above 1)",
			path);
		return JOURNAL_ECORRUPT;
	}
	p->first_segment = (uint32_t)v[0];
	p->first_recno = v[1];
	p->first_wall = (int64_t)v[2];
	p->segments = v[3];
	p->records = v[4];
	p->bytes = v[5];
	p->until_wall = (int64_t)v[6];
	return 0;
}

int
pruned_store(const char *dir, const struct pruned *p)
{
	char path[4200], tmp[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/" PRUNED_FILE, dir);
	snprintf(tmp, sizeof(tmp), "%s/" PRUNED_FILE ".tmp", dir);
	if (!(f = fopen(tmp, "w")))
		return errno;
	fprintf(f,
		"# wstape prune marker\nfirst_segment=%" PRIu32 "\nfirst_recno=%" PRIu64
		"\nfirst_wall_ns=%" PRId64 "\nsegments=%" PRIu64 "\nrecords=%" PRIu64 "\nbytes=%" PRIu64
		"\nuntil_wall_ns=%" PRId64 "\n",
		p->first_segment, p->first_recno, p->first_wall, p->segments, p->records, p->bytes,
		p->until_wall);
	return journal_file_commit(f, tmp, path, dir);
}

uint32_t
pruned_first_segment(const char *dir)
{
	struct pruned p;
	char why[8];
	if (pruned_load(dir, &p, why, sizeof(why)) != 0 || !p.first_segment)
		return 1;
	return p.first_segment;
}

uint64_t
pruned_first_recno(const char *dir)
{
	struct pruned p;
	char why[8];
	if (pruned_load(dir, &p, why, sizeof(why)) != 0)
		return 0;
	return p.first_recno;
}
