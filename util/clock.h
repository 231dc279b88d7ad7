/* clock.h - the clocks, in ns since their epoch: one helper for every part */
#ifndef WSTAPE_CLOCK_H
#define WSTAPE_CLOCK_H

#include <stdint.h>
#include <time.h>

/* The clock c (CLOCK_MONOTONIC, CLOCK_REALTIME, ...) in ns. */
static inline int64_t
clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Monotonic time, for intervals and pacing. */
static inline int64_t
clock_mono_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* Wall-clock time (ns since 1970), for receive times and metadata. */
static inline int64_t
clock_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

#endif
