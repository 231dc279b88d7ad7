/* fault.h - the seeded generator behind the replay faults (--dup-rate, --skip-rate, --stall)
 *
 * Each connection has its own generator, seeded from --seed and the connection's number,
 * so the faults a client meets do not depend on what other clients do, and two runs with
 * the same seed give their n-th clients the same faults. xorshift64*: small, fast, and the
 * same on every platform. */
#ifndef WSTAPE_FAULT_H
#define WSTAPE_FAULT_H

#include <stdint.h>

/* The state for connection 'conn' under 'seed' (never 0). */
uint64_t fault_rng_seed(uint64_t seed, uint64_t conn);
uint64_t fault_rng_next(uint64_t *state);
/* Uniform in [0, 1). */
double fault_rng_unit(uint64_t *state);
/* 1 with probability p (p <= 0: never, draws nothing; p >= 1: always). */
int fault_rng_hit(uint64_t *state, double p);

#endif
