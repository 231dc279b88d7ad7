/* tail.h - the summary of the blocks past the index (tail.c), for readers; callers hold
 * the view's mu */
#ifndef WSTAPE_JOURNAL_TAIL_H
#define WSTAPE_JOURNAL_TAIL_H

#include <stdint.h>

#include "handle.h"
#include "index.h"

struct tail;

/* Bring the summary *cache of what lies past the index state *is up to date (is NULL:
 * there is no usable index, everything is tail). A summary of the same state is
 * continued, so a second call reads only what was appended since; one of another state
 * is freed and started again. 0, with *cache the summary, or an error (then *cache is
 * NULL). */
int tail_update(struct journal *j, struct tail **cache, const struct idx_state *is);
void tail_free(struct tail *t);
/* Add the tail's records, blocks, bytes, times and torn bytes to st. */
void tail_sums(const struct tail *t, struct journal_stats *st);
/* Connections / channels in the tail that the snapshot (NULL: none) does not hold. */
uint32_t tail_new_conns(const struct tail *t, struct idx_snap *s);
uint32_t tail_new_channels(const struct tail *t, struct idx_snap *s);
/* The snapshot's connections / channels, in its key order, with the tail merged in. */
int tail_conn_foreach(const struct tail *t, struct idx_snap *s,
		      int (*fn)(const struct journal_conn_info *, void *), void *ud);
int tail_channel_foreach(const struct tail *t, struct idx_snap *s,
			 int (*fn)(const struct journal_channel_info *, void *), void *ud);

#endif
