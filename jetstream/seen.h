/* seen.h - a set of 64-bit keys remembered for a window of receive time: what pull has
 * already written (Nats-Msg-Ids, the events of messages), in bounded memory */
#ifndef WSTAPE_JETSTREAM_SEEN_H
#define WSTAPE_JETSTREAM_SEEN_H

#include <stddef.h>
#include <stdint.h>

struct js_seen_slot {
	uint64_t key; /* 0: empty */
	uint64_t tick; /* the put that wrote it */
	uint32_t val;
};
struct js_seen_age {
	uint64_t key, tick;
	int64_t wall_ns;
};
struct js_seen {
	struct js_seen_slot *slot;
	size_t cap, count; /* cap: a power of two */
	struct js_seen_age *fifo; /* a ring, oldest first */
	size_t fcap, fhead, flen;
	uint64_t tick;
	int64_t window_ns;
};

/* Zero-initialise, then set window_ns (0: remember for ever). */
/* 1 and *val when key is in the set, else 0. */
int js_seen_get(const struct js_seen *s, uint64_t key, uint32_t *val);
/* Puts key (with val) as seen at wall_ns; returns 0 or ENOMEM. */
int js_seen_put(struct js_seen *s, uint64_t key, uint32_t val, int64_t wall_ns);
/* Forgets the keys last put before newest_ns - window_ns. */
void js_seen_expire(struct js_seen *s, int64_t newest_ns);
void js_seen_free(struct js_seen *s);

#endif
