/* mark.c - named positions kept beside a journal: J/MARK.<name>, one decimal number,
 * replaced atomically (docs/FORMAT.md, "The files of a journal") */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handle.h"

#define MARK_PREFIX "MARK."
#define MARK_NAME_MAX 80

static int
mark_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > MARK_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
journal_mark_get(struct journal *j, const char *name, uint64_t *value)
{
	char path[4200], line[64], *end;
	FILE *f;

	if (!j || !value || !mark_name_ok(name))
		return JOURNAL_EINVAL;
	snprintf(path, sizeof(path), "%s/" MARK_PREFIX "%s", j->dir, name);
	if (!(f = fopen(path, "re")))
		return errno == ENOENT ? JOURNAL_ENOTFOUND : errno;
	int rc = 0;
	if (!fgets(line, sizeof(line), f))
		rc = ferror(f) ? EIO : JOURNAL_ECORRUPT;
	fclose(f);
	if (rc)
		return rc;
	if (line[0] < '0' || line[0] > '9')
		return JOURNAL_ECORRUPT;
	errno = 0;
	unsigned long long v = strtoull(line, &end, 10);
	if (errno || (*end != '\n' && *end != 0))
		return JOURNAL_ECORRUPT;
	*value = v;
	return 0;
}

int
journal_mark_set(struct journal *j, const char *name, uint64_t value)
{
	char path[4200], tmp[4300];
	FILE *f;

	if (!j || !mark_name_ok(name))
		return JOURNAL_EINVAL;
	snprintf(path, sizeof(path), "%s/" MARK_PREFIX "%s", j->dir, name);
	/* the pid in the temporary name: two processes may keep the same mark (a recorder's
	 * publisher and a `wstape publish`); each one's rename is still atomic */
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	if (!(f = fopen(tmp, "we")))
		return errno;
	fprintf(f, "%" PRIu64 "\n", value);
	return journal_file_commit(f, tmp, path, j->dir);
}
