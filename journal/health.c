/* health.c - a writer's state for the recorder's metrics (journal/health.h) */
#include "health.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "writer.h"

const double journal_fsync_bounds[JOURNAL_FSYNC_BOUNDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
};

void
journal_health_fsync(struct journal_writer *w, int64_t d)
{
	double s = (double)d / 1e9;
	int i;

	for (i = 0; i < JOURNAL_FSYNC_BOUNDS && s > journal_fsync_bounds[i]; i++)
		;
	__atomic_add_fetch(&w->fsync_counts[i], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&w->fsync_sum_ns, (uint64_t)(d > 0 ? d : 0), __ATOMIC_RELAXED);
}

/* the sizes of the regular files in dir (and, one level down, in index/) */
static uint64_t
dir_bytes(int dfd, int depth)
{
	DIR *d = fdopendir(dfd);
	struct dirent *e;
	uint64_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		struct stat st;
		if (e->d_name[0] == '.' || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISREG(st.st_mode))
			n += (uint64_t)st.st_size;
		else if (S_ISDIR(st.st_mode) && depth == 0 && !strcmp(e->d_name, "index")) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (sub >= 0)
				n += dir_bytes(sub, 1);
		}
	}
	closedir(d);
	return n;
}

int
journal_health(struct journal *j, struct journal_health *h)
{
	struct journal_writer *w = j->w;
	int dfd;

	memset(h, 0, sizeof(*h));
	if (!w)
		return JOURNAL_ERDONLY;
	pthread_mutex_lock(&w->mu);
	h->blocks_pending = w->npending;
	h->write_err = w->err;
	h->index_failed = __atomic_load_n(&w->store.idx_failed, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&w->mu);
	for (int i = 0; i <= JOURNAL_FSYNC_BOUNDS; i++)
		h->fsync_counts[i] = __atomic_load_n(&w->fsync_counts[i], __ATOMIC_RELAXED);
	h->fsync_sum_s = (double)__atomic_load_n(&w->fsync_sum_ns, __ATOMIC_RELAXED) / 1e9;
	if ((dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0)
		h->disk_bytes = dir_bytes(dfd, 0);
	return 0;
}
