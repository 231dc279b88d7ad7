/* stats.c - the summary of a journal and its lists of connections and channels: for a
 * writer, what it has written and indexed; for a reader, the index plus what lies past
 * it, summed from the segments */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tail.h"
#include "view.h"
#include "writer.h"

static uint64_t
dir_segment_bytes(struct journal *j, uint32_t *count)
{
	uint32_t *segs = NULL;
	size_t n = 0;
	uint64_t total = 0;
	char path[4200];
	struct stat sb;

	*count = 0;
	if (seg_list(j->dir, &segs, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		seg_path(path, sizeof(path), j->dir, segs[i]);
		if (stat(path, &sb) == 0)
			total += (uint64_t)sb.st_size;
	}
	*count = (uint32_t)n;
	free(segs);
	return total;
}

static void
stats_from_state(const struct idx_state *is, struct journal_stats *st)
{
	st->records = is->records;
	st->raw_bytes = is->payload_bytes;
	st->block_raw_bytes = is->raw_bytes;
	st->blocks = is->blocks;
	st->first_wall_ns = is->first_wall;
	st->last_wall_ns = is->max_wall;
	if (is->records) {
		st->first_recno = is->next_recno - is->records;
		st->last_recno = is->next_recno - 1;
	}
}

/* A writer: what is written, without forcing a flush (that would change the block sizes
 * of a recorder that shows its stats once a second). */
static void
writer_stats(struct journal *j, struct journal_stats *st)
{
	struct journal_writer *w = j->w;
	struct idx_state is;

	pthread_mutex_lock(&w->mu);
	writer_wait_idle_locked(w);
	is = w->store.st;
	st->append_waits = w->append_waits;
	st->append_wait_ns = w->append_wait_ns;
	st->pending_records = (w->next_recno - 1) - (is.next_recno ? is.next_recno - 1 : 0);
	pthread_mutex_unlock(&w->mu);
	stats_from_state(&is, st);
	if (j->idx && !w->store.idx_failed) {
		st->connections = idx_conn_count(j->idx);
		st->channels = idx_channel_count(j->idx);
	}
}

/* A reader: the index, plus what lies past it, summed from the segments. */
static int
reader_stats(struct journal *j, struct journal_stats *st)
{
	struct journal_view *v = j->view;
	struct idx_state is;
	struct idx_snap snap, *sp;
	int rc;

	pthread_mutex_lock(&v->mu);
	sp = view_usable_index(j, &snap, &is);
	rc = tail_update(j, &v->tail, sp ? &is : NULL);
	stats_from_state(&is, st);
	if (rc == 0) {
		st->connections = (sp ? idx_snap_conn_count(sp) : 0) + tail_new_conns(v->tail, sp);
		st->channels = (sp ? idx_snap_channel_count(sp) : 0) + tail_new_channels(v->tail, sp);
		tail_sums(v->tail, st);
	}
	st->index_stale = v->idx_stale;
	st->index_damaged = v->idx_open_err != 0;
	st->index_unreadable = v->idx_unreadable != 0;
	if (sp)
		idx_snap_end(sp);
	if (v->idx_stale && rc == 0) /* a gap's detail (rc) names the missing records */
		journal_set_detail(j, "%s", v->idx_detail);
	pthread_mutex_unlock(&v->mu);
	return rc;
}

int
journal_stats(struct journal *j, struct journal_stats *st)
{
	int rc;

	memset(st, 0, sizeof(*st));
	if (j->w)
		writer_stats(j, st);
	else if ((rc = reader_stats(j, st)) != 0)
		return rc;
	st->segment_bytes = dir_segment_bytes(j, &st->segments);
	st->disk_bytes = st->segment_bytes + (j->idx ? idx_disk_bytes(j->idx) : 0);
	return 0;
}

int
journal_conn_foreach(struct journal *j, int (*fn)(const struct journal_conn_info *, void *), void *ud)
{
	struct journal_view *v = j->view;
	struct idx_state is;
	struct idx_snap snap, *sp;
	int rc;

	if (!v)
		return j->idx ? idx_conn_foreach(j->idx, fn, ud) : JOURNAL_EINDEX;
	pthread_mutex_lock(&v->mu);
	sp = view_usable_index(j, &snap, &is);
	if ((rc = tail_update(j, &v->tail, sp ? &is : NULL)) == 0)
		rc = tail_conn_foreach(v->tail, sp, fn, ud);
	if (sp)
		idx_snap_end(sp);
	pthread_mutex_unlock(&v->mu);
	return rc;
}

int
journal_channel_foreach(struct journal *j, int (*fn)(const struct journal_channel_info *, void *), void *ud)
{
	struct journal_view *v = j->view;
	struct idx_state is;
	struct idx_snap snap, *sp;
	int rc;

	if (!v)
		return j->idx ? idx_channel_foreach(j->idx, fn, ud) : JOURNAL_EINDEX;
	pthread_mutex_lock(&v->mu);
	sp = view_usable_index(j, &snap, &is);
	if ((rc = tail_update(j, &v->tail, sp ? &is : NULL)) == 0)
		rc = tail_channel_foreach(v->tail, sp, fn, ud);
	if (sp)
		idx_snap_end(sp);
	pthread_mutex_unlock(&v->mu);
	return rc;
}
