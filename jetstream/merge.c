/* merge.c - pulled records into one journal: spilled and sorted (bounded) or held for a
 * reorder window (follow), then each one checked against what was written (its
 * Nats-Msg-Id; for a replay chunk, its events) and appended with its connection mapped */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feeds/feed.h"
#include "jetstream/internal.h"
#include "jetstream/merge.h"
#include "jetstream/seen.h"

/* One record as it is spilled or held: this header, then the id, channel, cursor, payload. */
struct blob {
	int64_t wall_ns, mono_ns;
	uint64_t seq, src_recno, payload_len;
	uint32_t src; /* index into sources */
	uint32_t conn; /* the source's connection */
	uint8_t dir, kind;
	uint16_t channel_len, cursor_len, id_len;
};

struct source {
	char recorder[JS_MAX_RECORDER + 1];
	char journal_id[17];
	int written; /* a record of it was written */
};

struct conn_map {
	uint32_t src, src_conn, conn;
	char recorder[JS_MAX_RECORDER + 1], journal_id[17]; /* loaded from META before sources */
};

struct spill_ent {
	int64_t wall_ns;
	uint64_t seq;
	uint64_t off;
};

struct js_merge {
	struct js_merge_options o;
	char channel[JOURNAL_MAX_CHANNEL];
	struct source *src;
	size_t nsrc, srccap;
	struct conn_map *map;
	size_t nmap, mapcap;
	uint32_t next_conn;
	struct js_seen ids, events;
	/* bounded */
	FILE *spill;
	uint64_t spill_off;
	struct spill_ent *ent;
	size_t nent, entcap;
	/* follow: a heap by (wall, seq) */
	struct blob **heap;
	size_t nheap, heapcap;
	int64_t newest_ns;
	int64_t last_meta_ns;
	uint64_t max_seq; /* the largest consumed */
	uint64_t meta_seq; /* what META says */
	struct js_merge_stats st;
	uint8_t *buf;
	size_t bufcap;
	int err; /* sticky */
};

static int
grow(void **p, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap * 2 : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * size);
	if (!q)
		return ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int
meta_seq_key(const struct js_merge *m, char *key, size_t n)
{
	return snprintf(key, n, "pulled_seq.%s", m->o.stream) < (int)n ? 0 : JS_EINVAL;
}

/* the connections an earlier pull made: META pulled_conn.<c> for c below next_conn */
static int
load_map(struct js_merge *m)
{
	char key[64];
	for (uint32_t c = 1; c < m->next_conn; c++) {
		snprintf(key, sizeof key, "pulled_conn.%u", c);
		const char *v = journal_meta_get(m->o.j, key);
		char rec[JS_MAX_RECORDER + 2], jid[18];
		unsigned sc;
		if (!v || sscanf(v, "%65s %17s %u", rec, jid, &sc) != 3 || !js_recorder_ok(rec) ||
		    strlen(jid) != 16)
			continue;
		if (grow((void **)&m->map, &m->mapcap, m->nmap + 1, sizeof(*m->map)))
			return ENOMEM;
		struct conn_map *e = &m->map[m->nmap++];
		memset(e, 0, sizeof(*e));
		e->src = UINT32_MAX; /* bound to a source when one matches */
		e->src_conn = sc;
		e->conn = c;
		memcpy(e->recorder, rec, strlen(rec) + 1);
		memcpy(e->journal_id, jid, 17);
	}
	return 0;
}

int
js_merge_open(const struct js_merge_options *o, struct js_merge **out, char *detail, size_t cap)
{
	char key[128];
	*out = NULL;
	if (!o || !o->j || !o->stream || !js_name_ok(o->stream) || o->channel_len > JOURNAL_MAX_CHANNEL) {
		js_detail(detail, cap,
			  "a merge needs a journal, a stream name and a channel of at most %d bytes",
			  JOURNAL_MAX_CHANNEL);
		return JS_EINVAL;
	}
	struct js_merge *m = calloc(1, sizeof(*m));
	if (!m)
		return ENOMEM;
	m->o = *o;
	if (o->channel) {
		memcpy(m->channel, o->channel, o->channel_len);
		m->o.channel = m->channel;
	}
	if (!m->o.reorder_ns)
		m->o.reorder_ns = 2000000000LL;
	if (!m->o.id_window_ns)
		m->o.id_window_ns = 15LL * 60 * 1000000000LL;
	m->ids.window_ns = m->events.window_ns = m->o.id_window_ns;
	m->newest_ns = INT64_MIN;
	m->next_conn = journal_next_conn(o->j);
	if (meta_seq_key(m, key, sizeof key) == 0) {
		const char *v = journal_meta_get(o->j, key);
		m->meta_seq = v ? strtoull(v, NULL, 10) : 0;
		m->max_seq = m->meta_seq;
	}
	int err = load_map(m);
	if (!err && !o->follow) {
		const char *dir = o->spill_dir && *o->spill_dir ? o->spill_dir : ".";
		char path[4096];
		int fd;
		if (snprintf(path, sizeof path, "%s/.wstape-pull.XXXXXX", dir) >= (int)sizeof path) {
			err = ENAMETOOLONG;
		} else if ((fd = mkstemp(path)) < 0 || (unlink(path), !(m->spill = fdopen(fd, "w+")))) {
			err = errno;
			js_detail(detail, cap, "a temporary file in %s: %s", dir, strerror(err));
			if (fd >= 0)
				close(fd);
		}
	}
	if (err) {
		js_merge_close(m);
		return err;
	}
	*out = m;
	return 0;
}

void
js_merge_set_feed(struct js_merge *m, const struct feed *feed)
{
	m->o.feed = feed;
}

void
js_merge_skip(struct js_merge *m, uint64_t stream_seq)
{
	m->st.skipped++;
	if (stream_seq > m->max_seq)
		m->max_seq = stream_seq;
}

static uint32_t
source_of(struct js_merge *m, const struct js_pulled *p)
{
	for (size_t i = m->nsrc; i-- > 0;)
		if (!strcmp(m->src[i].journal_id, p->journal_id) && !strcmp(m->src[i].recorder, p->recorder))
			return (uint32_t)i;
	if (grow((void **)&m->src, &m->srccap, m->nsrc + 1, sizeof(*m->src)))
		return UINT32_MAX;
	struct source *s = &m->src[m->nsrc];
	memset(s, 0, sizeof(*s));
	memcpy(s->recorder, p->recorder, strlen(p->recorder) + 1);
	memcpy(s->journal_id, p->journal_id, 17);
	return (uint32_t)m->nsrc++;
}

static int
wanted(const struct js_merge *m, const struct journal_record *r)
{
	if (m->o.from_ns && r->wall_ns < m->o.from_ns)
		return 0;
	if (m->o.to_ns && r->wall_ns >= m->o.to_ns)
		return 0;
	if (m->o.channel &&
	    (r->channel_len != m->o.channel_len ||
	     (r->channel_len && memcmp(r->channel, m->o.channel, r->channel_len))))
		return 0;
	return 1;
}

static size_t
blob_size(const struct blob *b)
{
	return sizeof(*b) + b->id_len + b->channel_len + b->cursor_len + b->payload_len;
}

static void
blob_fill(struct blob *b, const struct js_pulled *p, uint32_t src)
{
	memset(b, 0, sizeof(*b));
	b->wall_ns = p->rec.wall_ns;
	b->mono_ns = p->rec.mono_ns;
	b->seq = p->stream_seq;
	b->src_recno = p->rec.recno;
	b->payload_len = p->rec.payload_len;
	b->src = src;
	b->conn = p->rec.conn;
	b->dir = p->rec.dir;
	b->kind = p->rec.kind;
	b->channel_len = p->rec.channel_len;
	b->cursor_len = p->rec.cursor_len;
	b->id_len = (uint16_t)strlen(p->msg_id);
}

static int
before(const struct blob *a, const struct blob *b)
{
	return a->wall_ns < b->wall_ns || (a->wall_ns == b->wall_ns && a->seq < b->seq);
}

static int
heap_push(struct js_merge *m, struct blob *b)
{
	if (grow((void **)&m->heap, &m->heapcap, m->nheap + 1, sizeof(*m->heap)))
		return ENOMEM;
	size_t i = m->nheap++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(b, m->heap[p]))
			break;
		m->heap[i] = m->heap[p];
		i = p;
	}
	m->heap[i] = b;
	return 0;
}

static struct blob *
heap_pop(struct js_merge *m)
{
	struct blob *top = m->heap[0], *last = m->heap[--m->nheap];
	size_t i = 0, n = m->nheap;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(m->heap[c + 1], m->heap[c]))
			c++;
		if (!before(m->heap[c], last))
			break;
		m->heap[i] = m->heap[c];
		i = c;
	}
	if (n)
		m->heap[i] = last;
	return top;
}

/* n bytes (none: p may be NULL) into the spill file; 1 when written */
static int
put(FILE *f, const void *p, size_t n)
{
	return !n || fwrite(p, 1, n, f) == n;
}

int
js_merge_add(struct js_merge *m, const struct js_pulled *p)
{
	struct blob b;
	if (m->err)
		return m->err;
	m->st.messages++;
	if (p->stream_seq > m->max_seq)
		m->max_seq = p->stream_seq;
	if (!wanted(m, &p->rec)) {
		m->st.filtered++;
		return 0;
	}
	uint32_t src = source_of(m, p);
	if (src == UINT32_MAX)
		return m->err = ENOMEM;
	blob_fill(&b, p, src);
	if (p->rec.wall_ns > m->newest_ns)
		m->newest_ns = p->rec.wall_ns;
	if (!m->o.follow) {
		if (grow((void **)&m->ent, &m->entcap, m->nent + 1, sizeof(*m->ent)))
			return m->err = ENOMEM;
		m->ent[m->nent++] = (struct spill_ent){ b.wall_ns, b.seq, m->spill_off };
		if (fwrite(&b, sizeof b, 1, m->spill) != 1 || !put(m->spill, p->msg_id, b.id_len) ||
		    !put(m->spill, p->rec.channel, b.channel_len) ||
		    !put(m->spill, p->rec.cursor, b.cursor_len) ||
		    !put(m->spill, p->rec.payload, b.payload_len))
			return m->err = errno ? errno : EIO;
		m->spill_off += blob_size(&b);
		return 0;
	}
	struct blob *h = malloc(blob_size(&b));
	if (!h)
		return m->err = ENOMEM;
	uint8_t *d = (uint8_t *)(h + 1);
	*h = b;
	memcpy(d, p->msg_id, b.id_len);
	if (b.channel_len)
		memcpy(d + b.id_len, p->rec.channel, b.channel_len);
	if (b.cursor_len)
		memcpy(d + b.id_len + b.channel_len, p->rec.cursor, b.cursor_len);
	if (b.payload_len)
		memcpy(d + b.id_len + b.channel_len + b.cursor_len, p->rec.payload, b.payload_len);
	if (heap_push(m, h)) {
		free(h);
		return m->err = ENOMEM;
	}
	return 0;
}

/* ---- writing one record ---- */

struct ev_ctx {
	struct js_merge *m;
	uint64_t chan_hash;
	uint32_t src;
	int64_t wall_ns;
	int check; /* 1: count the events not yet brought by another recorder; 0: remember them */
	size_t events, known;
	int err;
};

static uint64_t
mix(uint64_t h, uint64_t v)
{
	h = (h ^ v) * 0x100000001b3ULL;
	return h ^ (h >> 29);
}

/* An event is known by its channel and its text (as hydromancer_merge.c remembers what it
 * sent): two fills of one transaction share their (time, txIndex) key and are two events. */
static uint64_t
event_key(uint64_t chan_hash, const struct feed_event *ev)
{
	return mix(mix(0xcbf29ce484222325ULL, chan_hash), ev->hash);
}

#define MANY 0x80000000u /* brought by more than one recorder */

static int
on_event(const struct feed_event *ev, void *ud)
{
	struct ev_ctx *x = ud;
	uint64_t k = event_key(x->chan_hash, ev);
	uint32_t v;
	int had = js_seen_get(&x->m->events, k, &v);
	x->events++;
	if (x->check) {
		if (had && ((v & MANY) || v != x->src))
			x->known++;
		return 0;
	}
	if (had && !(v & MANY) && v != x->src)
		v |= MANY;
	else if (!had)
		v = x->src;
	if (js_seen_put(&x->m->events, k, v, x->wall_ns))
		return x->err = ENOMEM;
	return 0;
}

static uint32_t
map_conn(struct js_merge *m, const struct blob *b, int *err)
{
	struct source *s = &m->src[b->src];
	char key[64], val[128];
	if (!b->conn)
		return 0;
	for (size_t i = m->nmap; i-- > 0;) {
		struct conn_map *e = &m->map[i];
		if (e->src_conn != b->conn)
			continue;
		if (e->src == b->src)
			return e->conn;
		if (e->src == UINT32_MAX && !strcmp(e->recorder, s->recorder) &&
		    !strcmp(e->journal_id, s->journal_id)) {
			e->src = b->src;
			return e->conn;
		}
	}
	if ((*err = grow((void **)&m->map, &m->mapcap, m->nmap + 1, sizeof(*m->map))))
		return 0;
	struct conn_map *e = &m->map[m->nmap++];
	memset(e, 0, sizeof(*e));
	e->src = b->src;
	e->src_conn = b->conn;
	e->conn = m->next_conn++;
	memcpy(e->recorder, s->recorder, sizeof e->recorder);
	memcpy(e->journal_id, s->journal_id, sizeof e->journal_id);
	snprintf(key, sizeof key, "recorder.%u", e->conn);
	if ((*err = journal_meta_set(m->o.j, key, s->recorder)))
		return 0;
	snprintf(key, sizeof key, "pulled_conn.%u", e->conn);
	snprintf(val, sizeof val, "%s %s %u", s->recorder, s->journal_id, b->conn);
	if ((*err = journal_meta_set(m->o.j, key, val)))
		return 0;
	m->st.connections++;
	return e->conn;
}

/* b and its data d (id, channel, cursor, payload): dropped or appended */
static int
emit(struct js_merge *m, const struct blob *b, const uint8_t *d)
{
	const char *id = (const char *)d, *ch = (const char *)d + b->id_len;
	const uint8_t *cur = d + b->id_len + b->channel_len, *pay = cur + b->cursor_len;
	const struct feed *feed = m->o.feed;
	struct feed_msg fm;
	int err = 0;

	js_seen_expire(&m->ids, b->wall_ns);
	js_seen_expire(&m->events, b->wall_ns);
	uint64_t idk = feed_hash(id, b->id_len);
	if (js_seen_get(&m->ids, idk, NULL)) {
		m->st.duplicates++;
		return 0;
	}
	if (feed && feed != &feed_raw && b->dir == JOURNAL_IN && b->kind == JOURNAL_TEXT &&
	    feed_classify(feed, pay, b->payload_len, &fm) == 0 &&
	    (fm.cls == FEED_MSG_DATA || fm.cls == FEED_MSG_REPLAY)) {
		struct ev_ctx x = {
			m, feed_hash(fm.channel.p, fm.channel.len), b->src, b->wall_ns, 1, 0, 0, 0
		};
		if (fm.cls == FEED_MSG_REPLAY && feed_events_foreach(feed, &fm, on_event, &x) == 0 &&
		    x.events && x.known == x.events) {
			m->st.redundant++;
			return 0;
		}
		x.check = 0;
		x.events = x.known = 0;
		feed_events_foreach(feed, &fm, on_event, &x);
		if (x.err)
			return x.err;
	}
	if ((err = js_seen_put(&m->ids, idk, 0, b->wall_ns)))
		return err;
	uint32_t conn = map_conn(m, b, &err);
	if (err)
		return err;
	struct journal_record r = {
		.wall_ns = b->wall_ns,
		.mono_ns = b->mono_ns,
		.conn = conn,
		.dir = b->dir,
		.kind = b->kind,
		.channel_len = b->channel_len,
		.cursor_len = b->cursor_len,
		.channel = b->channel_len ? ch : NULL,
		.cursor = b->cursor_len ? cur : NULL,
		.payload = pay,
		.payload_len = b->payload_len,
	};
	if ((err = journal_append(m->o.j, &r)))
		return err;
	if (!m->src[b->src].written) {
		m->src[b->src].written = 1;
		m->st.recorders++;
	}
	m->st.records++;
	return 0;
}

static int
write_meta_seq(struct js_merge *m, uint64_t seq)
{
	char key[128], val[32];
	int err;
	if (seq == m->meta_seq)
		return 0;
	if ((err = journal_flush(m->o.j)))
		return err;
	meta_seq_key(m, key, sizeof key);
	snprintf(val, sizeof val, "%" PRIu64, seq);
	if ((err = journal_meta_set(m->o.j, key, val)))
		return err;
	m->meta_seq = seq;
	return 0;
}

int
js_merge_flush(struct js_merge *m, int64_t now_ns)
{
	int err;
	if (m->err)
		return m->err;
	if (!m->o.follow)
		return 0;
	int64_t top = m->newest_ns > now_ns ? m->newest_ns : now_ns;
	while (m->nheap && m->heap[0]->wall_ns < top - m->o.reorder_ns) {
		struct blob *b = heap_pop(m);
		err = emit(m, b, (const uint8_t *)(b + 1));
		free(b);
		if (err)
			return m->err = err;
	}
	if (now_ns - m->last_meta_ns >= 1000000000LL) {
		uint64_t seq = m->max_seq;
		for (size_t i = 0; i < m->nheap; i++)
			if (m->heap[i]->seq <= seq)
				seq = m->heap[i]->seq - 1;
		if (seq < m->meta_seq)
			seq = m->meta_seq;
		if ((err = write_meta_seq(m, seq)))
			return m->err = err;
		m->last_meta_ns = now_ns;
	}
	return 0;
}

static int
cmp_ent(const void *a, const void *b)
{
	const struct spill_ent *x = a, *y = b;
	if (x->wall_ns != y->wall_ns)
		return x->wall_ns < y->wall_ns ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
write_spilled(struct js_merge *m)
{
	int fd = fileno(m->spill);
	if (fflush(m->spill))
		return errno;
	if (m->nent)
		qsort(m->ent, m->nent, sizeof(*m->ent), cmp_ent);
	for (size_t i = 0; i < m->nent; i++) {
		struct blob b;
		if (pread(fd, &b, sizeof b, (off_t)m->ent[i].off) != (ssize_t)sizeof b)
			return EIO;
		size_t n = blob_size(&b) - sizeof b;
		if (grow((void **)&m->buf, &m->bufcap, n + 1, 1))
			return ENOMEM;
		if (n && pread(fd, m->buf, n, (off_t)(m->ent[i].off + sizeof b)) != (ssize_t)n)
			return EIO;
		int err = emit(m, &b, m->buf);
		if (err)
			return err;
	}
	m->nent = 0;
	return 0;
}

int
js_merge_finish(struct js_merge *m)
{
	int err;
	if (m->err)
		return m->err;
	if (!m->o.follow) {
		if ((err = write_spilled(m)))
			return m->err = err;
	} else {
		while (m->nheap) {
			struct blob *b = heap_pop(m);
			err = emit(m, b, (const uint8_t *)(b + 1));
			free(b);
			if (err)
				return m->err = err;
		}
	}
	if ((err = journal_flush(m->o.j)))
		return m->err = err;
	m->meta_seq = UINT64_MAX; /* written again, also when it did not change */
	if ((err = write_meta_seq(m, m->max_seq)))
		return m->err = err;
	return 0;
}

void
js_merge_stats(const struct js_merge *m, struct js_merge_stats *st)
{
	*st = m->st;
	st->pulled_seq = m->max_seq;
}

void
js_merge_close(struct js_merge *m)
{
	if (!m)
		return;
	if (m->spill)
		fclose(m->spill);
	while (m->nheap)
		free(heap_pop(m));
	free(m->heap);
	free(m->ent);
	free(m->src);
	free(m->map);
	free(m->buf);
	js_seen_free(&m->ids);
	js_seen_free(&m->events);
	free(m);
}
