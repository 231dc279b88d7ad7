/* health.h - what a writer's threads are doing, for the recorder's --metrics: blocks
 * waiting for the disk, the first write error, bytes on disk and how long fsyncs take
 *
 * Not part of the installed library (journal.h): the recorder reads it inside the wstape
 * command. journal_health() never waits for the disk: it takes the writer's lock for a few
 * loads (the writer threads do not hold it while they write or sync) and reads the sizes of
 * the journal's files. */
#ifndef WSTAPE_JOURNAL_HEALTH_H
#define WSTAPE_JOURNAL_HEALTH_H

#include <stdint.h>

#include "journal.h"

#define JOURNAL_FSYNC_BOUNDS 12
/* the fsync histogram's upper bounds, seconds */
extern const double journal_fsync_bounds[JOURNAL_FSYNC_BOUNDS];

struct journal_health {
	uint32_t blocks_pending; /* sealed, not yet written */
	int write_err; /* the sticky write error (0: none) */
	int index_failed; /* the index failed (the segments are still written) */
	uint64_t disk_bytes; /* the journal's files: segments, index, META */
	/* fsync durations: count per bucket (not cumulative; the last one above every bound) */
	uint64_t fsync_counts[JOURNAL_FSYNC_BOUNDS + 1];
	double fsync_sum_s;
};

/* For a writer: 0 and *h; JOURNAL_ERDONLY for a reader. */
int journal_health(struct journal *j, struct journal_health *h);

struct journal_writer;
/* An fsync of d ns (the writer's threads). */
void journal_health_fsync(struct journal_writer *w, int64_t d);

#endif
