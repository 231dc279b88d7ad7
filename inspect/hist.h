/* hist.h - a fixed-size log-linear histogram for durations (16 sub-buckets per power of two,
 * so quantiles are within ~6%; 976 buckets, ~8 KiB, whatever the number of samples) */
#ifndef WSTAPE_INSPECT_HIST_H
#define WSTAPE_INSPECT_HIST_H

#include <stdint.h>

#define INSPECT_HIST_BUCKETS 976

struct inspect_hist {
	uint64_t count, sum, min, max;
	uint64_t b[INSPECT_HIST_BUCKETS];
};

void inspect_hist_add(struct inspect_hist *h, uint64_t v);
/* The q-quantile (0 <= q <= 1): the middle of the bucket that holds it, clamped to
 * [min, max]; 0 when empty. */
uint64_t inspect_hist_quantile(const struct inspect_hist *h, double q);

#endif
