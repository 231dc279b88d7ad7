/* seen.c - a set of 64-bit keys with an age: open addressing with linear probing (deletion
 * by backward shift, no tombstones) and a ring of the puts in order, so that the keys
 * older than the window are forgotten in the order they came */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jetstream/seen.h"

static uint64_t
fix(uint64_t key)
{
	return key ? key : 1;
}

static size_t
home(const struct js_seen *s, uint64_t key)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 17) & (s->cap - 1);
}

static struct js_seen_slot *
find(const struct js_seen *s, uint64_t key)
{
	if (!s->cap)
		return NULL;
	for (size_t i = home(s, key);; i = (i + 1) & (s->cap - 1)) {
		if (s->slot[i].key == key)
			return &s->slot[i];
		if (!s->slot[i].key)
			return NULL;
	}
}

int
js_seen_get(const struct js_seen *s, uint64_t key, uint32_t *val)
{
	const struct js_seen_slot *e = find(s, fix(key));
	if (!e)
		return 0;
	if (val)
		*val = e->val;
	return 1;
}

static void
insert(struct js_seen *s, const struct js_seen_slot *e)
{
	size_t i = home(s, e->key);
	while (s->slot[i].key)
		i = (i + 1) & (s->cap - 1);
	s->slot[i] = *e;
	s->count++;
}

static int
grow(struct js_seen *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	struct js_seen_slot *old = s->slot, *n = calloc(ncap, sizeof(*n));
	size_t ocap = s->cap;
	if (!n)
		return ENOMEM;
	s->slot = n;
	s->cap = ncap;
	s->count = 0;
	for (size_t i = 0; i < ocap; i++)
		if (old[i].key)
			insert(s, &old[i]);
	free(old);
	return 0;
}

static int
fifo_push(struct js_seen *s, uint64_t key, uint64_t tick, int64_t wall_ns)
{
	if (s->flen == s->fcap) {
		size_t ncap = s->fcap ? s->fcap * 2 : 1024;
		struct js_seen_age *n = malloc(ncap * sizeof(*n));
		if (!n)
			return ENOMEM;
		for (size_t i = 0; i < s->flen; i++)
			n[i] = s->fifo[(s->fhead + i) % s->fcap];
		free(s->fifo);
		s->fifo = n;
		s->fcap = ncap;
		s->fhead = 0;
	}
	s->fifo[(s->fhead + s->flen) % s->fcap] = (struct js_seen_age){ key, tick, wall_ns };
	s->flen++;
	return 0;
}

int
js_seen_put(struct js_seen *s, uint64_t key, uint32_t val, int64_t wall_ns)
{
	struct js_seen_slot *e;
	key = fix(key);
	s->tick++;
	if (s->window_ns && fifo_push(s, key, s->tick, wall_ns))
		return ENOMEM;
	if ((e = find(s, key))) {
		e->val = val;
		e->tick = s->tick;
		return 0;
	}
	if ((s->count + 1) * 2 > s->cap && grow(s))
		return ENOMEM;
	struct js_seen_slot n = { key, s->tick, val };
	insert(s, &n);
	return 0;
}

static void
remove_slot(struct js_seen *s, struct js_seen_slot *e)
{
	size_t mask = s->cap - 1, i = (size_t)(e - s->slot), j = i;
	for (;;) {
		j = (j + 1) & mask;
		if (!s->slot[j].key)
			break;
		size_t k = home(s, s->slot[j].key);
		/* the entry at j may move to i when its home is not within (i, j] */
		if ((i <= j) ? (k <= i || k > j) : (k <= i && k > j)) {
			s->slot[i] = s->slot[j];
			i = j;
		}
	}
	s->slot[i].key = 0;
	s->count--;
}

void
js_seen_expire(struct js_seen *s, int64_t newest_ns)
{
	if (!s->window_ns)
		return;
	while (s->flen) {
		struct js_seen_age *a = &s->fifo[s->fhead];
		if (a->wall_ns >= newest_ns - s->window_ns)
			break;
		struct js_seen_slot *e = find(s, a->key);
		if (e && e->tick == a->tick)
			remove_slot(s, e);
		s->fhead = (s->fhead + 1) % s->fcap;
		s->flen--;
	}
}

void
js_seen_free(struct js_seen *s)
{
	free(s->slot);
	free(s->fifo);
	memset(s, 0, sizeof(*s));
}
