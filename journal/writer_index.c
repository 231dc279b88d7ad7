/* writer_index.c - a writer's index at open: checked before LMDB maps it, replaced when
 * damaged (the index is derived from the segments), emptied when it does not agree with
 * them */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "writer_index.h"

int
windex_replace(struct journal *j, struct journal_recovery *rec, const char *why)
{
	int rc, damaged;

	rec->index_damaged = 1;
	snprintf(rec->index_detail, sizeof(rec->index_detail), "%s", why);
	idx_close(j->idx);
	j->idx = NULL;
	if ((rc = idx_remove(j->dir)) != 0) {
		journal_set_detail(j, "cannot remove the damaged index of '%s' (%s): %s", j->dir, why,
				   strerror(rc));
		return rc;
	}
	return idx_open(j->dir, 1, &j->idx, j->detail, sizeof(j->detail), &damaged);
}

int
windex_open(struct journal *j, struct journal_recovery *rec)
{
	int rc, damaged;
	char why[512];

	switch (idx_check(j->dir, why, sizeof(why))) {
	case IDX_CHECK_DAMAGED:
		/* never opened: removed and rebuilt from the segments */
		return windex_replace(j, rec, why);
	case IDX_CHECK_UNREADABLE:
		rc = errno ? errno : EACCES;
		journal_set_detail(j, "%s", why);
		return rc;
	case IDX_CHECK_STALE:
		j->w->index_stale = 1; /* recovery rebuilds it */
		/* fall through */
	default:
		if ((rc = idx_open(j->dir, 1, &j->idx, why, sizeof(why), &damaged)) != 0) {
			if (!damaged) {
				journal_set_detail(j, "%s", why);
				return rc;
			}
			return windex_replace(j, rec, why);
		}
	}
	return 0;
}

/* Is the last indexed block where the index says, with the same header, and whole? Its
 * data is checked too: after a power loss the index (written without fsync) can list a
 * block whose data never reached the disk. */
static int
index_consistent(struct journal *j, const uint32_t *segs, size_t nseg)
{
	struct writer_store *s = &j->w->store;
	struct idx_block b;
	char why[512];

	if (idx_state_get(j->idx, &s->st) != 0)
		return 0;
	if (s->st.blocks == 0)
		return 1;
	if (idx_last_block(j->idx, &b) != 0 || nseg == 0 || b.segment < segs[0] || b.segment > segs[nseg - 1])
		return 0;
	return index_end_check(j->dir, &s->st, &b, why, sizeof(why)) == INDEX_END_OK;
}

int
windex_load(struct journal *j, const uint32_t *segs, size_t nseg, struct journal_recovery *rec)
{
	struct journal_writer *w = j->w;
	int rc;

	if (!w->index_stale && index_consistent(j, segs, nseg))
		return 0;
	w->index_stale = 0;
	if ((rc = idx_clear(j->idx)) == JOURNAL_EINDEX)
		rc = windex_replace(j, rec, "LMDB failed to clear it");
	if (rc != 0) {
		if (!j->detail[0])
			journal_set_detail(j, "cannot clear the index of '%s': %s", j->dir,
					   journal_strerror(rc));
		return rc;
	}
	memset(&w->store.st, 0, sizeof(w->store.st));
	rec->reindexed = 1;
	return 0;
}
