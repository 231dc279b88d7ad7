/* writer_index.h - a writer's index: checked and opened at open, replaced when LMDB cannot
 * use it, and cleared when it does not agree with the segments (recovery then refills it) */
#ifndef WSTAPE_JOURNAL_WRITER_INDEX_H
#define WSTAPE_JOURNAL_WRITER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "writer.h"

/* Check the index (idx_check) and open it (creating it when there is none); one that is
 * damaged is removed and rebuilt (rec says so), one that is stale is marked for recovery
 * to rebuild. 0 or an error with j's detail set. */
int windex_open(struct journal *j, struct journal_recovery *rec);
/* Remove the index's files and start an empty index (rec says why). 0 or an error. */
int windex_replace(struct journal *j, struct journal_recovery *rec, const char *why);
/* Load the indexed state into the writer's store, and empty the index when it is marked
 * stale or its end does not match the segments segs[0..nseg) (then rec->reindexed is
 * set). 0 or an error with j's detail set. */
int windex_load(struct journal *j, const uint32_t *segs, size_t nseg, struct journal_recovery *rec);

#endif
