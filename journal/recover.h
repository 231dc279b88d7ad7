/* recover.h - recovery at open: verify and index the blocks past the index, cut a torn
 * tail (recover.c, which also runs it again for journal_reindex) */
#ifndef WSTAPE_JOURNAL_RECOVER_H
#define WSTAPE_JOURNAL_RECOVER_H

#include "writer.h"

/* Bring the index and the writer's store up to the segments: index every block past the
 * indexed state (all of them when the index was emptied), cut a torn tail of the last
 * segment, and leave the last segment open for appending. Runs while no thread stores.
 * 0 or an error with j's detail set; rec says what was done. */
int recover(struct journal *j, struct journal_recovery *rec);

#endif
