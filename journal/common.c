/* common.c - what every part of the journal uses: error names and details, clocks,
 * directory fsync, and the names of record kinds and directions */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "handle.h"
#include "util/clock.h"

int64_t
journal_now_mono(void)
{
	return clock_mono_ns();
}

int64_t
journal_now_wall(void)
{
	return clock_wall_ns();
}

int
journal_fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return errno;
	int rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc;
}

void
journal_set_detail(struct journal *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
}

/* The detail of the last journal_open() that failed in this thread. */
static __thread char open_detail[512];

void
journal_open_detail_clear(void)
{
	open_detail[0] = 0;
}

void
journal_open_detail_keep(const struct journal *j)
{
	snprintf(open_detail, sizeof(open_detail), "%s", j->detail);
}

void
journal_open_detail_set(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(open_detail, sizeof(open_detail), fmt, ap);
	va_end(ap);
}

const char *
journal_last_detail(const struct journal *j)
{
	return j ? j->detail : open_detail;
}

const char *
journal_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case JOURNAL_EOF: return "end of journal";
	case JOURNAL_ENOTJOURNAL: return "not a wstape journal";
	case JOURNAL_EVERSION: return "journal written by a newer version of wstape (format version too new)";
	case JOURNAL_ECORRUPT: return "journal is corrupt";
	case JOURNAL_ELOCKED: return "journal is locked by another writer";
	case JOURNAL_EINDEX: return "journal index failed";
	case JOURNAL_EZSTD: return "compression failed";
	case JOURNAL_EINVAL: return "invalid argument";
	case JOURNAL_ERDONLY: return "journal is open read-only";
	case JOURNAL_EEXIST: return "a journal already exists there";
	case JOURNAL_ENOTFOUND: return "no such record";
	case JOURNAL_EGAP: return "records are missing from the journal";
	default: return err > 0 ? strerror(err) : "unknown journal error";
	}
}

static const char *const kind_names[] = { "text", "binary", "ping", "pong", "open", "close", "error" };

const char *
journal_kind_name(int kind)
{
	return kind >= 0 && kind <= JOURNAL_KIND_MAX ? kind_names[kind] : "?";
}

int
journal_kind_parse(const char *s, size_t n)
{
	for (int i = 0; i <= JOURNAL_KIND_MAX; i++)
		if (strlen(kind_names[i]) == n && memcmp(kind_names[i], s, n) == 0)
			return i;
	return -1;
}

const char *
journal_dir_name(int dir)
{
	return dir == JOURNAL_OUT ? "out" : "in";
}

int
journal_dir_parse(const char *s, size_t n)
{
	if (n == 2 && memcmp(s, "in", 2) == 0)
		return JOURNAL_IN;
	if (n == 3 && memcmp(s, "out", 3) == 0)
		return JOURNAL_OUT;
	return -1;
}

int
journal_file_commit(FILE *f, const char *tmp, const char *path, const char *dir)
{
	int rc = 0;

	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = errno;
	if (fclose(f) != 0 && !rc)
		rc = errno;
	if (!rc && rename(tmp, path) != 0)
		rc = errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return journal_fsync_dir(dir);
}
