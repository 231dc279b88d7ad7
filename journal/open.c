/* open.c - opening a journal (the directory, META, the format version, the segments;
 * then the lock, the index and recovery for a writer, or the index's verdict for a
 * reader), closing it, and undoing a creation */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prune.h"
#include "pruned.h"
#include "recover.h"
#include "segcheck.h"
#include "util/text.h"
#include "view.h"
#include "writer_index.h"

/* Empty, or holding only what a creation that was interrupted leaves behind (no META
 * yet, so no segment either). */
static int
is_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, META_FILE ".tmp")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

/* Take the writer's lock (J/LOCK, flock), and write our pid into it for whoever finds it
 * taken. 0, JOURNAL_ELOCKED (the holder's pid in j's detail) or an errno. */
static int
take_lock(struct journal *j)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" LOCK_FILE, j->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = errno;
		journal_set_detail(j, "cannot open lock file '%s': %s", path, strerror(rc));
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int rc = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		close(fd);
		if (rc == EWOULDBLOCK) {
			journal_set_detail(j, "journal '%s' is being written by another process%s%s", j->dir,
					   pid[0] ? " (pid " : "", pid[0] ? pid : "");
			if (pid[0])
				strncat(j->detail, ")", sizeof(j->detail) - strlen(j->detail) - 1);
			return JOURNAL_ELOCKED;
		}
		return rc;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* the pid is informational only */
	}
	j->w->lock_fd = fd;
	return 0;
}

/* The directory: there, or made when the flags say CREATE. */
static int
open_dir(struct journal *j)
{
	struct stat sb;
	int rc;

	if (stat(j->dir, &sb) != 0) {
		rc = errno;
		if (rc != ENOENT || !(j->flags & JOURNAL_CREATE)) {
			journal_set_detail(j, "cannot open journal '%s': %s", j->dir, strerror(rc));
			return rc;
		}
		if (mkdir(j->dir, 0755) != 0) {
			rc = errno;
			journal_set_detail(j, "cannot create journal directory '%s': %s", j->dir,
					   strerror(rc));
			return rc;
		}
		j->w->created_dir = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		journal_set_detail(j, "'%s' is not a journal (a journal is a directory)", j->dir);
		return JOURNAL_ENOTJOURNAL;
	}
	return 0;
}

/* META: loaded, or written for a new journal (CREATE, in an empty directory). */
static int
open_meta(struct journal *j)
{
	const char *path = j->dir;
	int rc = meta_load(&j->meta, path);

	if (rc == ENOENT) {
		if (!(j->flags & JOURNAL_CREATE) || !is_empty_dir(path)) {
			journal_set_detail(j, "'%s' is not a wstape journal (no %s file)%s", path, META_FILE,
					   (j->flags & JOURNAL_CREATE) ? "; choose a new or empty directory"
								       : "");
			return JOURNAL_ENOTJOURNAL;
		}
		char when[40], ver[16];
		snprintf(ver, sizeof(ver), "%d", JOURNAL_FORMAT_VERSION);
		if ((rc = meta_put(&j->meta, "format", ver)) ||
		    (rc = meta_put(&j->meta, "created",
				   text_format_time(journal_now_wall(), when, sizeof(when)))) ||
		    (rc = meta_store(&j->meta, path))) {
			journal_set_detail(j, "cannot write '%s/%s': %s", path, META_FILE,
					   journal_strerror(rc));
			return rc;
		}
		j->w->created_meta = 1;
	} else if (rc != 0) {
		journal_set_detail(j, "cannot read '%s/%s': %s", path, META_FILE, strerror(rc));
		return rc;
	} else if ((j->flags & JOURNAL_CREATE) && !(j->flags & JOURNAL_APPEND)) {
		journal_set_detail(j, "'%s' already holds a journal; append to it or choose another path",
				   path);
		return JOURNAL_EEXIST;
	}
	return 0;
}

/* META's format version: a whole number this wstape reads. */
static int
check_format(struct journal *j)
{
	const char *fv = meta_find(&j->meta, "format");
	char *end;
	unsigned long long fmt;

	if (!fv) {
		journal_set_detail(j, "'%s/%s' has no format version", j->dir, META_FILE);
		return JOURNAL_ENOTJOURNAL;
	}
	errno = 0;
	fmt = strtoull(fv, &end, 10);
	if (fv[0] < '0' || fv[0] > '9' || *end) {
		journal_set_detail(j,
				   "'%s/%s' says format '%s', which is not a format version (a whole number)",
				   j->dir, META_FILE, fv);
		return JOURNAL_ENOTJOURNAL;
	}
	if (errno == ERANGE || fmt > JOURNAL_FORMAT_VERSION) {
		journal_set_detail(
			j, "journal '%s' has format version %s; this wstape reads up to %d: upgrade wstape",
			j->dir, fv, JOURNAL_FORMAT_VERSION);
		return JOURNAL_EVERSION;
	}
	return 0;
}

/* A writer, once the journal is known good: the lock, the index, recovery, the threads. */
static int
open_writer(struct journal *j, struct journal_recovery *rec)
{
	int rc;

	if ((rc = take_lock(j)) != 0 || (rc = windex_open(j, rec)) != 0)
		return rc;
	if ((rc = prune_leftovers(j->dir, j->idx, j->detail, sizeof(j->detail))) != 0 ||
	    (rc = recover(j, rec)) != 0)
		return rc;
	return writer_start(j);
}

/* A journal_open that failed: keep its detail for journal_last_detail(NULL), undo a
 * creation that cannot be finished (so that a second try finds the path as the first
 * did; but not under another writer, who may have opened it meanwhile), and close. */
static int
open_failed(struct journal *j, int rc)
{
	struct journal_writer *w = j->w;

	journal_open_detail_keep(j);
	if (w && w->created_meta && w->lock_fd >= 0) {
		w->discard = 1;
	} else if (w && w->created_dir && !w->created_meta) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s/" META_FILE ".tmp", j->dir);
		unlink(tmp);
		rmdir(j->dir);
	}
	journal_close(j);
	return rc;
}

int
journal_open(const char *path, int flags, const struct journal_options *opt, struct journal **out,
	     struct journal_recovery *recp)
{
	struct journal *j;
	struct journal_recovery rec_local;
	struct journal_recovery *rec = recp ? recp : &rec_local;
	int rc, writer = !(flags & JOURNAL_RDONLY);

	*out = NULL;
	journal_open_detail_clear();
	memset(rec, 0, sizeof(*rec));
	if (!path || !*path || ((flags & JOURNAL_RDONLY) && (flags & (JOURNAL_APPEND | JOURNAL_CREATE))) ||
	    !(flags & (JOURNAL_RDONLY | JOURNAL_APPEND | JOURNAL_CREATE)))
		return JOURNAL_EINVAL;
	if (!(j = calloc(1, sizeof(*j))))
		return ENOMEM;
	j->flags = flags;
	if (!(j->dir = strdup(path)) || (writer && writer_new(j, opt) != 0)) {
		free(j->dir);
		free(j);
		return ENOMEM;
	}
	if ((rc = open_dir(j)) != 0 || (rc = open_meta(j)) != 0 || (rc = check_format(j)) != 0 ||
	    (rc = segments_check(j)) != 0)
		return open_failed(j, rc);
	rc = writer ? open_writer(j, rec) : view_open(j);
	if (rc != 0)
		return open_failed(j, rc);
	*out = j;
	return 0;
}

int
journal_created(const struct journal *j)
{
	return j->w && j->w->created_meta ? 1 + j->w->created_dir : 0;
}

/* Remove what journal_open created; the caller holds the lock and has closed the segment
 * and the index. */
static int
remove_created(struct journal *j)
{
	static const char *const files[] = { META_FILE ".tmp", META_FILE, PRUNED_FILE, PRUNE_LOCK_FILE,
					     LOCK_FILE };
	uint32_t *segs = NULL;
	size_t n = 0;
	char p[4200];
	int rc;

	if ((rc = seg_list_all(j->dir, &segs, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		seg_path(p, sizeof(p), j->dir, segs[i]);
		if (unlink(p) != 0 && errno != ENOENT && !rc)
			rc = errno;
	}
	free(segs);
	if (rc)
		return rc;
	if ((rc = idx_remove(j->dir)) != 0)
		return rc;
	snprintf(p, sizeof(p), "%s/" INDEX_DIR, j->dir);
	if (rmdir(p) != 0 && errno != ENOENT)
		return errno;
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(p, sizeof(p), "%s/%s", j->dir, files[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			return errno;
	}
	if (j->w->created_dir && rmdir(j->dir) != 0)
		return errno;
	return 0;
}

int
journal_discard(struct journal *j)
{
	struct journal_writer *w = j->w;

	if (!w || !w->created_meta)
		return JOURNAL_EINVAL;
	pthread_mutex_lock(&w->mu);
	if (!w->err)
		w->err = ECANCELED; /* the writer threads drop what is queued */
	pthread_mutex_unlock(&w->mu);
	w->discard = 1;
	return journal_close(j);
}

int
journal_close(struct journal *j)
{
	struct journal_writer *w;
	int rc = 0;

	if (!j)
		return 0;
	/* an index that failed under a writer leaves the segments whole: the next open
	 * indexes the rest, so that is no error of the close */
	if ((w = j->w) != NULL) {
		rc = writer_stop(j);
		if (w->store.seg_fd >= 0)
			close(w->store.seg_fd);
		w->store.seg_fd = -1;
	}
	view_free(j->view);
	idx_close(j->idx);
	if (w && w->discard)
		rc = remove_created(j);
	writer_free(w); /* releases the lock, after the removal */
	meta_free(&j->meta);
	free(j->dir);
	free(j);
	return rc;
}
