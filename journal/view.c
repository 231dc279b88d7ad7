/* view.c - a reader's state: the verdict on the index at open, and whether the index
 * still agrees with the segments when a summary is asked for */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pruned.h"
#include "tail.h"
#include "view.h"

/* A reader works without an index (it scans); a missing or broken one is not fatal, but
 * journal_verify reports one that exists and cannot be used. The index is checked first
 * (idx_check): one that fails is never opened here. */
static void
view_open_index(struct journal *j, struct journal_view *v)
{
	int rc, damaged;

	switch (idx_check(j->dir, v->idx_detail, sizeof(v->idx_detail))) {
	case IDX_CHECK_OK: break;
	case IDX_CHECK_DAMAGED: v->idx_open_err = JOURNAL_EINDEX; return;
	case IDX_CHECK_STALE: v->idx_stale = 1; return;
	case IDX_CHECK_UNREADABLE: v->idx_unreadable = errno ? errno : EACCES; return;
	default: /* none */ return;
	}
	if ((rc = idx_open(j->dir, 0, &j->idx, v->idx_detail, sizeof(v->idx_detail), &damaged)) != 0) {
		j->idx = NULL;
		if (damaged)
			v->idx_open_err = rc;
		else if (rc != JOURNAL_ENOTFOUND)
			v->idx_unreadable = rc > 0 ? rc : EIO; /* EACCES, EROFS, ... */
	}
}

int
view_open(struct journal *j)
{
	struct journal_view *v = calloc(1, sizeof(*v));

	if (!v)
		return ENOMEM;
	pthread_mutex_init(&v->mu, NULL);
	j->view = v;
	view_open_index(j, v);
	return 0;
}

void
view_free(struct journal_view *v)
{
	if (!v)
		return;
	tail_free(v->tail);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

struct idx_snap *
view_usable_index(struct journal *j, struct idx_snap *snap, struct idx_state *is)
{
	struct journal_view *v = j->view;
	struct idx_block last;
	char why[512];

	memset(is, 0, sizeof(*is));
	if (!j->idx || v->idx_stale || idx_snap_begin(j->idx, snap) != 0)
		return NULL;
	if (idx_snap_state(snap, is) != 0) {
		memset(is, 0, sizeof(*is));
		idx_snap_end(snap);
		return NULL;
	}
	snprintf(why, sizeof(why), "the index's state lists blocks, but its last block cannot be read");
	if (is->blocks &&
	    (idx_snap_last_block(snap, &last) != 0 ||
	     index_end_check(j->dir, is, &last, why, sizeof(why)) == INDEX_END_MISMATCH)) {
		v->idx_stale = 1;
		snprintf(v->idx_detail, sizeof(v->idx_detail), "%s", why);
		memset(is, 0, sizeof(*is));
		idx_snap_end(snap);
		return NULL;
	}
	/* blocks before the first record a prune kept, which an interrupted prune left in
	 * the index, are not counted */
	uint64_t floor = pruned_first_recno(j->dir);
	struct idx_state below;
	int64_t first_wall;
	if (is->blocks && floor && idx_snap_below(snap, floor, &below, &first_wall) == 0 && below.blocks &&
	    below.blocks < is->blocks) {
		is->blocks -= below.blocks;
		is->records -= below.records;
		is->payload_bytes -= below.payload_bytes;
		is->raw_bytes -= below.raw_bytes;
		is->first_wall = first_wall;
	}
	return snap;
}
