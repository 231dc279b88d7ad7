/* seen.c - bounded two-generation hash window (see seen.h) */
#include "inspect/seen.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint64_t hash, val;
};

struct inspect_seen {
	uint32_t n, mask, used;
	struct slot *cur, *old;
};

struct inspect_seen *
inspect_seen_new(uint32_t n)
{
	struct inspect_seen *s;
	uint32_t p = 16;

	while (p < n)
		p <<= 1;
	if (!(s = calloc(1, sizeof(*s))))
		return NULL;
	s->n = p;
	s->mask = 2 * p - 1;
	s->cur = calloc(2 * (size_t)p, sizeof(struct slot));
	s->old = calloc(2 * (size_t)p, sizeof(struct slot));
	if (!s->cur || !s->old) {
		inspect_seen_free(s);
		return NULL;
	}
	return s;
}

void
inspect_seen_free(struct inspect_seen *s)
{
	if (!s)
		return;
	free(s->cur);
	free(s->old);
	free(s);
}

static struct slot *
probe(struct slot *t, uint32_t mask, uint64_t hash)
{
	uint32_t i = (uint32_t)(hash ^ (hash >> 32)) & mask;

	while (t[i].hash && t[i].hash != hash)
		i = (i + 1) & mask;
	return &t[i];
}

int
inspect_seen_find(const struct inspect_seen *s, uint64_t hash, uint64_t *val)
{
	struct slot *e;

	hash |= !hash;
	if ((e = probe(s->cur, s->mask, hash))->hash || (e = probe(s->old, s->mask, hash))->hash) {
		*val = e->val;
		return 1;
	}
	return 0;
}

void
inspect_seen_put(struct inspect_seen *s, uint64_t hash, uint64_t val)
{
	struct slot *e;

	hash |= !hash;
	e = probe(s->cur, s->mask, hash);
	if (!e->hash) {
		if (s->used >= s->n) {
			struct slot *t = s->old;

			s->old = s->cur;
			s->cur = t;
			memset(s->cur, 0, 2 * (size_t)s->n * sizeof(struct slot));
			s->used = 0;
			e = probe(s->cur, s->mask, hash);
		}
		s->used++;
	}
	e->hash = hash;
	e->val = val;
}

int
inspect_seen_find_or_put(struct inspect_seen *s, uint64_t hash, uint64_t val, uint64_t *old)
{
	struct slot *e, *o;

	hash |= !hash;
	e = probe(s->cur, s->mask, hash);
	if (e->hash) {
		*old = e->val;
		return 1;
	}
	o = probe(s->old, s->mask, hash);
	if (o->hash) {
		*old = o->val;
		return 1;
	}
	if (s->used >= s->n) {
		struct slot *t = s->old;

		s->old = s->cur;
		s->cur = t;
		memset(s->cur, 0, 2 * (size_t)s->n * sizeof(struct slot));
		s->used = 0;
		e = probe(s->cur, s->mask, hash);
	}
	s->used++;
	e->hash = hash;
	e->val = val;
	return 0;
}
