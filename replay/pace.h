/* pace.h - when each recorded frame is due, and how late it went out
 *
 * Pacing is kept apart from the sending code (as tcpreplay keeps its timing code apart):
 * the server asks "when is this frame due?" and reports "it went out now". Frame i is due
 * at start + (t_i - t_0) / speed on CLOCK_MONOTONIC, computed from the recorded times
 * each time, so errors never accumulate. The recorded times are the receive times
 * (wall_ns): mono_ns is only comparable within one run of the recorder, and a journal may
 * hold several (--resume). */
#ifndef WSTAPE_PACE_H
#define WSTAPE_PACE_H

#include <stdint.h>

struct pace {
	double speed; /* > 0; 0 means as fast as the client reads */
	int64_t start_mono; /* CLOCK_MONOTONIC ns of t0 */
	int64_t t0_wall; /* recorded time that plays at start_mono */
};

int64_t pace_now(void);

/* Start a timeline now (or at start_mono) with recorded time t0_wall playing first. */
void pace_init(struct pace *p, double speed, int64_t t0_wall, int64_t start_mono);

/* Monotonic time at which a frame recorded at wall_ns is due (INT64_MIN for max speed). */
int64_t pace_due(const struct pace *p, int64_t wall_ns);

/* The recorded time playing at monotonic time 'mono' (the live edge). For max speed,
 * INT64_MAX: everything is due. */
int64_t pace_edge(const struct pace *p, int64_t mono);

/* --loop: a pass of the recording lasts its span of recorded time at the timeline's speed,
 * then PACE_LOOP_GAP_NS of replay time, then it plays again. Every client of a live
 * timeline must agree on where a pass begins, so the span is the server's (the selected
 * range's first to last server frame), never what one client happened to send. */
#define PACE_LOOP_GAP_NS 1000000

/* Monotonic length of one pass of a recording spanning 'span_wall' ns; 0 at max speed. */
int64_t pace_loop_period(const struct pace *p, int64_t span_wall);

/* Move the timeline's start on by whole periods, so that 'mono' falls in its current pass
 * (then pace_edge(p, mono) is within the recording). No-op for period <= 0 or a mono
 * before the start. */
void pace_loop_align(struct pace *p, int64_t period, int64_t mono);

#include "util/hist.h" /* lateness: struct hist */

#endif
