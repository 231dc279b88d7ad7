/* pace.c - due times of recorded frames */
#include "replay/pace.h"

#include "util/clock.h"

int64_t
pace_now(void)
{
	return clock_mono_ns();
}

void
pace_init(struct pace *p, double speed, int64_t t0_wall, int64_t start_mono)
{
	p->speed = speed;
	p->t0_wall = t0_wall;
	p->start_mono = start_mono ? start_mono : pace_now();
}

int64_t
pace_due(const struct pace *p, int64_t wall_ns)
{
	if (p->speed <= 0)
		return INT64_MIN;
	double d = (double)(wall_ns - p->t0_wall) / p->speed;
	if (d < 0)
		d = 0;
	return p->start_mono + (int64_t)d;
}

int64_t
pace_edge(const struct pace *p, int64_t mono)
{
	if (p->speed <= 0)
		return INT64_MAX;
	return p->t0_wall + (int64_t)((double)(mono - p->start_mono) * p->speed);
}

int64_t
pace_loop_period(const struct pace *p, int64_t span_wall)
{
	if (p->speed <= 0)
		return 0;
	return (int64_t)((double)(span_wall > 0 ? span_wall : 0) / p->speed) + PACE_LOOP_GAP_NS;
}

void
pace_loop_align(struct pace *p, int64_t period, int64_t mono)
{
	if (period <= 0 || mono <= p->start_mono)
		return;
	p->start_mono += (mono - p->start_mono) / period * period;
}
