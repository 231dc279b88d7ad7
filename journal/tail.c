/* tail.c - the blocks past the index, summed up the way the index sums them
 *
 * A reader's statistics and its lists of connections and channels come from the index plus
 * whatever lies past it: the blocks a live writer has sealed but not indexed yet, or every
 * block when there is no usable index (missing, damaged, or listing blocks the segments no
 * longer hold). This file walks that tail once and keeps the sums, so that the next call
 * on the same index state only reads what was appended since. */
#include <errno.h>
#include <stdlib.h>

#include "reader.h"
#include "tail.h"

/* One connection (key: the id, 4 bytes big-endian, so that keys sort as numbers) or one
 * channel (key: its name). */
struct agg {
	uint8_t *key;
	size_t klen;
	uint64_t first_recno, last_recno, records;
	int64_t first_wall, last_wall;
	uint8_t *first_cur, *last_cur;
	size_t first_cur_len, last_cur_len, last_cur_cap;
};

/* Open addressing over an array of aggregates; slot holds an index + 1, 0 when free. */
struct aggmap {
	struct agg *v;
	size_t n, cap;
	uint32_t *slot;
	size_t nslot;
};

struct tail {
	struct journal_reader *r;
	int from_start; /* no usable index: everything is tail */
	uint64_t base_next, base_blocks; /* the index state the tail continues */
	uint64_t records, blocks, raw_bytes, payload_bytes, first_recno, last_recno, torn_bytes;
	int64_t first_wall, max_wall;
	struct aggmap conns, chans;
};

static uint64_t
hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

static int
map_grow(struct aggmap *m)
{
	size_t ns = m->nslot ? m->nslot * 2 : 64;
	uint32_t *slot = calloc(ns, sizeof(*slot));
	if (!slot)
		return ENOMEM;
	for (size_t i = 0; i < m->n; i++) {
		size_t s = hash_bytes(m->v[i].key, m->v[i].klen) & (ns - 1);
		while (slot[s])
			s = (s + 1) & (ns - 1);
		slot[s] = (uint32_t)(i + 1);
	}
	free(m->slot);
	m->slot = slot;
	m->nslot = ns;
	return 0;
}

/* The aggregate for key, created (first record r) when absent; NULL when out of memory. */
static struct agg *
map_get(struct aggmap *m, const uint8_t *key, size_t klen, const struct journal_record *r)
{
	if ((m->n + 1) * 2 > m->nslot && map_grow(m) != 0)
		return NULL;
	size_t s = hash_bytes(key, klen) & (m->nslot - 1);
	for (; m->slot[s]; s = (s + 1) & (m->nslot - 1)) {
		struct agg *a = &m->v[m->slot[s] - 1];
		if (a->klen == klen && memcmp(a->key, key, klen) == 0)
			return a;
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 32;
		struct agg *v = realloc(m->v, nc * sizeof(*v));
		if (!v)
			return NULL;
		m->v = v;
		m->cap = nc;
	}
	struct agg *a = &m->v[m->n];
	memset(a, 0, sizeof(*a));
	if (!(a->key = malloc(klen ? klen : 1)))
		return NULL;
	memcpy(a->key, key, klen);
	a->klen = klen;
	a->first_recno = r->recno;
	a->first_wall = r->wall_ns;
	m->slot[s] = (uint32_t)(++m->n);
	return a;
}

static void
map_free(struct aggmap *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].key);
		free(m->v[i].first_cur);
		free(m->v[i].last_cur);
	}
	free(m->v);
	free(m->slot);
	memset(m, 0, sizeof(*m));
}

static int
agg_add(struct agg *a, const struct journal_record *r)
{
	a->last_recno = r->recno;
	a->last_wall = r->wall_ns;
	a->records++;
	if (!r->cursor_len)
		return 0;
	if (!a->first_cur_len) {
		if (!(a->first_cur = malloc(r->cursor_len)))
			return ENOMEM;
		memcpy(a->first_cur, r->cursor, r->cursor_len);
		a->first_cur_len = r->cursor_len;
	}
	if (a->last_cur_cap < r->cursor_len) {
		uint8_t *p = realloc(a->last_cur, r->cursor_len);
		if (!p)
			return ENOMEM;
		a->last_cur = p;
		a->last_cur_cap = r->cursor_len;
	}
	memcpy(a->last_cur, r->cursor, r->cursor_len);
	a->last_cur_len = r->cursor_len;
	return 0;
}

void
tail_free(struct tail *t)
{
	if (!t)
		return;
	journal_reader_close(t->r);
	map_free(&t->conns);
	map_free(&t->chans);
	free(t);
}

static int
tail_new(struct journal *j, const struct idx_state *is, struct tail **out)
{
	struct tail *t = calloc(1, sizeof(*t));
	int rc;

	*out = NULL;
	if (!t)
		return ENOMEM;
	if ((rc = journal_reader_open(j, &t->r)) != 0) {
		free(t);
		return rc;
	}
	t->from_start = !is;
	if (is && is->blocks) {
		t->base_next = is->next_recno;
		t->base_blocks = is->blocks;
		if ((rc = reader_start_at(t->r, is->segment, is->offset, is->next_recno)) != 0) {
			tail_free(t);
			return rc;
		}
	}
	*out = t;
	return 0;
}

/* Read what was appended since the last call. */
static int
tail_read(struct tail *t)
{
	struct journal_record rec;
	uint64_t blocks0, raw0, blocks1, raw1;
	int rc;

	reader_counts(t->r, &blocks0, &raw0);
	while ((rc = reader_read(t->r, &rec)) == 0) {
		uint8_t kb[4] = { (uint8_t)(rec.conn >> 24), (uint8_t)(rec.conn >> 16),
				  (uint8_t)(rec.conn >> 8), (uint8_t)rec.conn };
		struct agg *a;

		if (t->records == 0) {
			t->first_recno = rec.recno;
			t->first_wall = rec.wall_ns;
			t->max_wall = rec.wall_ns;
		}
		t->records++;
		t->last_recno = rec.recno;
		t->payload_bytes += rec.payload_len;
		if (rec.wall_ns > t->max_wall)
			t->max_wall = rec.wall_ns;
		if (!(a = map_get(&t->conns, kb, 4, &rec)) || (rc = agg_add(a, &rec)) != 0)
			return a ? rc : ENOMEM;
		if (rec.channel_len) {
			a = map_get(&t->chans, (const uint8_t *)rec.channel, rec.channel_len, &rec);
			if (!a || (rc = agg_add(a, &rec)) != 0)
				return a ? rc : ENOMEM;
		}
	}
	reader_counts(t->r, &blocks1, &raw1);
	t->blocks += blocks1 - blocks0;
	t->raw_bytes += raw1 - raw0;
	if (rc != JOURNAL_EOF)
		return rc;
	t->torn_bytes = reader_torn_bytes(t->r);
	return 0;
}

int
tail_update(struct journal *j, struct tail **cache, const struct idx_state *is)
{
	struct tail *t = *cache;
	int rc;

	if (t &&
	    (t->from_start != !is ||
	     (is && (t->base_next != (is->blocks ? is->next_recno : 0) || t->base_blocks != is->blocks)))) {
		tail_free(t);
		t = *cache = NULL;
	}
	if (!t) {
		if ((rc = tail_new(j, is, &t)) != 0)
			return rc;
		*cache = t;
	}
	if ((rc = tail_read(t)) != 0) {
		/* start over next time rather than continue from a half-read block */
		tail_free(t);
		*cache = NULL;
		return rc;
	}
	return 0;
}

void
tail_sums(const struct tail *t, struct journal_stats *st)
{
	if (t->records && !st->records) {
		st->first_recno = t->first_recno;
		st->first_wall_ns = t->first_wall;
	}
	if (t->records) {
		st->last_recno = t->last_recno;
		if (!st->records || t->max_wall > st->last_wall_ns)
			st->last_wall_ns = t->max_wall;
	}
	st->records += t->records;
	st->raw_bytes += t->payload_bytes;
	st->block_raw_bytes += t->raw_bytes;
	st->blocks += t->blocks;
	st->torn_bytes = t->torn_bytes;
}

uint32_t
tail_new_conns(const struct tail *t, struct idx_snap *s)
{
	uint32_t n = 0;
	for (size_t i = 0; i < t->conns.n; i++) {
		const uint8_t *k = t->conns.v[i].key;
		uint32_t conn = (uint32_t)k[0] << 24 | (uint32_t)k[1] << 16 | (uint32_t)k[2] << 8 | k[3];
		n += !s || !idx_snap_has_conn(s, conn);
	}
	return n;
}

uint32_t
tail_new_channels(const struct tail *t, struct idx_snap *s)
{
	uint32_t n = 0;
	for (size_t i = 0; i < t->chans.n; i++)
		n += !s || !idx_snap_has_channel(s, (const char *)t->chans.v[i].key, t->chans.v[i].klen);
	return n;
}

/* ---- the index's lists with the tail merged in ---- */

/* LMDB's default key order: bytes, then the shorter first. */
static int
key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static int
agg_ptr_cmp(const void *x, const void *y)
{
	const struct agg *a = *(const struct agg *const *)x, *b = *(const struct agg *const *)y;
	return key_cmp(a->key, a->klen, b->key, b->klen);
}

struct merge {
	struct agg **v; /* the tail's aggregates in key order */
	size_t n, i;
	void *fn, *ud;
};

static int
merge_init(struct merge *m, const struct aggmap *map, void *fn, void *ud)
{
	memset(m, 0, sizeof(*m));
	m->fn = fn;
	m->ud = ud;
	if (!map->n)
		return 0;
	if (!(m->v = malloc(map->n * sizeof(*m->v))))
		return ENOMEM;
	for (size_t i = 0; i < map->n; i++)
		m->v[i] = &map->v[i];
	m->n = map->n;
	qsort(m->v, m->n, sizeof(*m->v), agg_ptr_cmp);
	return 0;
}

static void
conn_of(const struct agg *a, struct journal_conn_info *ci)
{
	ci->conn =
		(uint32_t)a->key[0] << 24 | (uint32_t)a->key[1] << 16 | (uint32_t)a->key[2] << 8 | a->key[3];
	ci->first_recno = a->first_recno;
	ci->last_recno = a->last_recno;
	ci->records = a->records;
	ci->first_wall_ns = a->first_wall;
	ci->last_wall_ns = a->last_wall;
}

typedef int (*conn_fn)(const struct journal_conn_info *, void *);
typedef int (*channel_fn)(const struct journal_channel_info *, void *);

/* Emit, through emit, the tail's aggregates whose key sorts before (key, klen): all of them
 * when key is NULL. Connections are keyed by their number in big-endian order, channels
 * by name, so one byte order serves both. */
static int
aggs_before(struct merge *m, const uint8_t *key, size_t klen, int (*emit)(struct merge *, const struct agg *))
{
	for (; m->i < m->n; m->i++) {
		const struct agg *a = m->v[m->i];
		if (key && key_cmp(a->key, a->klen, key, klen) >= 0)
			break;
		int rc = emit(m, a);
		if (rc) {
			m->i++;
			return rc;
		}
	}
	return 0;
}

/* The tail's next aggregate when it has exactly this key (then it is consumed), or NULL. */
static const struct agg *
agg_take(struct merge *m, const uint8_t *key, size_t klen)
{
	if (m->i < m->n && key_cmp(m->v[m->i]->key, m->v[m->i]->klen, key, klen) == 0)
		return m->v[m->i++];
	return NULL;
}

static int
emit_conn(struct merge *m, const struct agg *a)
{
	struct journal_conn_info ci;
	conn_of(a, &ci);
	return ((conn_fn)m->fn)(&ci, m->ud);
}

static int
conn_merge_row(const struct journal_conn_info *ix, void *ud)
{
	struct merge *m = ud;
	struct journal_conn_info ci = *ix;
	const uint8_t key[4] = { (uint8_t)(ix->conn >> 24), (uint8_t)(ix->conn >> 16),
				 (uint8_t)(ix->conn >> 8), (uint8_t)ix->conn };
	const struct agg *a;
	int rc;

	if ((rc = aggs_before(m, key, sizeof(key), emit_conn)) != 0)
		return rc;
	if ((a = agg_take(m, key, sizeof(key)))) {
		ci.last_recno = a->last_recno;
		ci.last_wall_ns = a->last_wall;
		ci.records += a->records;
	}
	return ((conn_fn)m->fn)(&ci, m->ud);
}

int
tail_conn_foreach(const struct tail *t, struct idx_snap *s,
		  int (*fn)(const struct journal_conn_info *, void *), void *ud)
{
	struct merge m;
	int rc;

	if ((rc = merge_init(&m, &t->conns, (void *)fn, ud)) != 0)
		return rc;
	if (s)
		rc = idx_snap_conn_foreach(s, conn_merge_row, &m);
	if (rc == 0)
		rc = aggs_before(&m, NULL, 0, emit_conn);
	free(m.v);
	return rc;
}

static void
channel_of(const struct agg *a, struct journal_channel_info *ci)
{
	ci->name = (const char *)a->key;
	ci->name_len = a->klen;
	ci->first_recno = a->first_recno;
	ci->last_recno = a->last_recno;
	ci->records = a->records;
	ci->first_wall_ns = a->first_wall;
	ci->last_wall_ns = a->last_wall;
	ci->first_cursor = a->first_cur;
	ci->first_cursor_len = a->first_cur_len;
	ci->last_cursor = a->last_cur;
	ci->last_cursor_len = a->last_cur_len;
}

static int
emit_channel(struct merge *m, const struct agg *a)
{
	struct journal_channel_info ci;
	channel_of(a, &ci);
	return ((channel_fn)m->fn)(&ci, m->ud);
}

static int
channel_merge_row(const struct journal_channel_info *ix, void *ud)
{
	struct merge *m = ud;
	struct journal_channel_info ci = *ix;
	const uint8_t *key = (const uint8_t *)ix->name;
	const struct agg *a;
	int rc;

	if ((rc = aggs_before(m, key, ix->name_len, emit_channel)) != 0)
		return rc;
	if ((a = agg_take(m, key, ix->name_len))) {
		ci.last_recno = a->last_recno;
		ci.last_wall_ns = a->last_wall;
		ci.records += a->records;
		if (!ci.first_cursor_len) {
			ci.first_cursor = a->first_cur;
			ci.first_cursor_len = a->first_cur_len;
		}
		if (a->last_cur_len) {
			ci.last_cursor = a->last_cur;
			ci.last_cursor_len = a->last_cur_len;
		}
	}
	return ((channel_fn)m->fn)(&ci, m->ud);
}

int
tail_channel_foreach(const struct tail *t, struct idx_snap *s,
		     int (*fn)(const struct journal_channel_info *, void *), void *ud)
{
	struct merge m;
	int rc;

	if ((rc = merge_init(&m, &t->chans, (void *)fn, ud)) != 0)
		return rc;
	if (s)
		rc = idx_snap_channel_foreach(s, channel_merge_row, &m);
	if (rc == 0)
		rc = aggs_before(&m, NULL, 0, emit_channel);
	free(m.v);
	return rc;
}
