/* pruned.h - the prune marker (J/PRUNED, pruned.c): where a pruned journal starts now, and
 * what was removed before it. Written by a prune before it removes anything. */
#ifndef WSTAPE_JOURNAL_PRUNED_H
#define WSTAPE_JOURNAL_PRUNED_H

#include <stddef.h>
#include <stdint.h>

#define PRUNED_FILE "PRUNED"
#define PRUNE_LOCK_FILE "PRUNE.LOCK"

/* The marker's fields (docs/FORMAT.md, "Pruning"). first_segment 0: no marker. */
struct pruned {
	uint32_t first_segment; /* segments below it are pruned (any still there are ignored) */
	uint64_t first_recno; /* the first record kept: first_segment's header says it */
	int64_t first_wall; /* that record's receive time (0 when not known) */
	uint64_t segments, records, bytes; /* removed so far, all prunes summed */
	int64_t until_wall; /* the largest receive time of the records removed */
};

/* Load dir/PRUNED into *p: 0 (all zero when there is none), JOURNAL_ECORRUPT when it does
 * not parse (why says what), or an errno. */
int pruned_load(const char *dir, struct pruned *p, char *why, size_t n);
/* Replace dir/PRUNED with p atomically (PRUNED.tmp, fsync, rename, fsync the directory):
 * 0 or an errno. */
int pruned_store(const char *dir, const struct pruned *p);
/* The first segment number a reader reads: the marker's, or 1 when there is none or it
 * does not parse (segments_check reports that). */
uint32_t pruned_first_segment(const char *dir);
/* The marker's first record kept, 0 when there is none. */
uint64_t pruned_first_recno(const char *dir);

#endif
