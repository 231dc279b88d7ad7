/* hist.h - the one histogram (replay's lateness, inspect's timing): log-linear for durations (16 sub-buckets per power of two,
 * so quantiles are within ~6%; 976 buckets, ~8 KiB, whatever the number of samples) */
#ifndef WSTAPE_HIST_H
#define WSTAPE_HIST_H

#include <stdint.h>

#define HIST_BUCKETS 976

struct hist {
	uint64_t count, sum, min, max;
	uint64_t b[HIST_BUCKETS];
};

void hist_add(struct hist *h, uint64_t v);
/* The q-quantile (0 <= q <= 1): the middle of the bucket that holds it, clamped to
 * [min, max]; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
