/* view.h - a reader's state (view.c): what it found of the index at open, and the summary
 * of what lies past the index (tail.c), which journal_stats and the foreach calls reuse */
#ifndef WSTAPE_JOURNAL_VIEW_H
#define WSTAPE_JOURNAL_VIEW_H

#include <pthread.h>

#include "handle.h"
#include "index.h"

struct tail;

struct journal_view {
	pthread_mutex_t mu; /* guards everything below after the open */
	struct tail *tail; /* what lies past the index (tail.c) */
	int idx_open_err; /* the index exists and LMDB finds it damaged */
	int idx_stale; /* the index lists blocks that are not there */
	int idx_unreadable; /* the index is there and cannot be read (errno) */
	char idx_detail[512]; /* why, for either */
};

/* A reader's state for j: the index is checked (idx_check) and opened only when the check
 * finds it whole; one that is missing, damaged, stale or unreadable is noted and not used
 * (a reader scans the segments instead). 0 or ENOMEM. */
int view_open(struct journal *j);
void view_free(struct journal_view *v);
/* A reader's view of the index: a snapshot of it and its state, unless there is none, or
 * it lists blocks the segments do not hold (then it is set aside for good, and the
 * figures come from the segments alone). Returns the snapshot to use, or NULL (then *is
 * is all zero). Called with the view's mu held. */
struct idx_snap *view_usable_index(struct journal *j, struct idx_snap *snap, struct idx_state *is);

#endif
