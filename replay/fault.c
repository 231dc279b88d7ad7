/* fault.c - seeded generator for the replay faults */
#include "replay/fault.h"

uint64_t
fault_rng_next(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

uint64_t
fault_rng_seed(uint64_t seed, uint64_t conn)
{
	uint64_t s = seed ^ (conn * 0xD1B54A32D192ED03ULL);
	fault_rng_next(&s);
	return s ? s : 1;
}

double
fault_rng_unit(uint64_t *s)
{
	return (double)(fault_rng_next(s) >> 11) / 9007199254740992.0;
}

int
fault_rng_hit(uint64_t *s, double p)
{
	if (p <= 0)
		return 0;
	return fault_rng_unit(s) < p;
}
