/* pace.c - due times of recorded frames and a lateness histogram */
#include "replay/pace.h"

#include <time.h>

int64_t
pace_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
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

static unsigned
bucket(uint64_t v)
{
	if (v < 16)
		return (unsigned)v;
	unsigned e = 63 - (unsigned)__builtin_clzll(v); /* >= 4 */
	unsigned sub = (unsigned)(v >> (e - 4)) & 15;
	unsigned b = (e - 3) * 16 + sub;
	return b < PACE_HIST_BUCKETS ? b : PACE_HIST_BUCKETS - 1;
}

static uint64_t
bucket_upper(unsigned b)
{
	if (b < 16)
		return b;
	unsigned e = b / 16 + 3, sub = b % 16;
	return ((uint64_t)(16 + sub + 1) << (e - 4)) - 1;
}

void
pace_hist_add(struct pace_hist *h, uint64_t ns)
{
	h->b[bucket(ns)]++;
	h->n++;
	if (ns > h->max)
		h->max = ns;
}

uint64_t
pace_hist_quantile(const struct pace_hist *h, double q)
{
	if (!h->n)
		return 0;
	uint64_t want = (uint64_t)(q * (double)h->n + 0.5), acc = 0;
	if (want == 0)
		want = 1;
	for (unsigned b = 0; b < PACE_HIST_BUCKETS; b++) {
		acc += h->b[b];
		if (acc >= want) {
			uint64_t u = bucket_upper(b);
			return u < h->max ? u : h->max;
		}
	}
	return h->max;
}
