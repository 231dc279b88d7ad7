/* recorders.c - the recorders of a merged journal (`wstape pull`): which recorder received
 * each connection (META recorder.<conn>, else the journal's own META recorder) and, when
 * there are two or more, the spans in which one had no connection and which other
 * recorders' connections delivered data messages in them
 *
 * A recorder is covered from the first data message of one of its connections to that
 * connection's last record (its CLOSE or ERROR, or whatever came last); what is not covered
 * between the journal's first and last data messages is a span. Records come in receive
 * time order, so a span is known when the recorder's next connection delivers its first
 * data message (or at the end): until then the data messages of the others are counted as
 * they come, per connection, and forgotten when the recorder turns out to be covered. */
#include "inspect/internal.h"
#include "jetstream/jetstream.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(RECORDER_ID_MAX == JS_MAX_RECORDER, "a recorder id as --recorder-id takes it");

/* The id META gives conn, or NULL. */
static const char *
meta_recorder(struct journal *j, uint32_t conn)
{
	char key[32];
	const char *v;

	snprintf(key, sizeof(key), "recorder.%" PRIu32, conn);
	v = journal_meta_get(j, key);
	if (!v)
		v = journal_meta_get(j, "recorder");
	return v && js_recorder_ok(v) ? v : NULL; /* the rule of --recorder-id */
}

int64_t
inspect_recorders_min_span(const struct inspect *in)
{
	const struct feed *feed = in->opt.feed ? in->opt.feed : &feed_raw;
	int64_t cap = (int64_t)feed->backoff_cap_ms * 1000000;

	return cap > 1000000000 ? cap : 1000000000;
}

static struct inspect_recorders *
state(struct inspect *in)
{
	if (!in->rc && in->journal) {
		if (!(in->rc = calloc(1, sizeof(*in->rc))))
			return NULL;
		in->rc->last = -1;
		in->rc->min_span_ns = inspect_recorders_min_span(in);
	}
	return in->rc;
}

/* Add n data messages of connection c to the span pending for r. */
static void
pend_add(struct rc_span *p, const struct rc_conn *c, uint64_t n)
{
	for (int i = p->nfill - 1; i >= 0; i--) {
		if (p->fill[i].conn == c->id) {
			p->fill[i].messages += n;
			return;
		}
	}
	if (p->nfill < RECORDER_FILLERS) {
		p->fill[p->nfill++] = (struct rc_fill){ c->id, c->rec, n };
		return;
	}
	p->more_messages += n; /* a connection beyond those kept */
}

/* The recorder named id, made when new (its pending span holds what the others delivered
 * before it appeared), or -1. */
static int
recorder_get(struct inspect_recorders *s, const char *id)
{
	struct recorder *r;

	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->r[i]->id, id))
			return i;
	if (s->n >= INSPECT_MAX_RECORDERS || !(r = calloc(1, sizeof(*r)))) {
		s->recorders_dropped++;
		return -1;
	}
	snprintf(r->id, sizeof(r->id), "%s", id);
	for (int i = 0; i < s->nconns; i++) {
		if (s->conns[i].rec < 0 || !s->conns[i].messages)
			continue;
		pend_add(&r->pend, &s->conns[i], s->conns[i].messages);
	}
	s->r[s->n] = r;
	return s->n++;
}

static unsigned
slot_of(uint32_t id)
{
	return (id * 2654435761u) % (2 * RECORDER_CONNS);
}

/* The connection id, made when new (its recorder looked up in META), or NULL when there is
 * no journal or no more room. */
static struct rc_conn *
conn_get(struct inspect *in, uint32_t id)
{
	struct inspect_recorders *s = state(in);
	struct rc_conn *c;
	const char *rid;
	unsigned h;

	if (!s)
		return NULL;
	if (s->last >= 0 && s->conns[s->last].id == id)
		return &s->conns[s->last];
	for (h = slot_of(id); s->slot[h]; h = (h + 1) % (2 * RECORDER_CONNS)) {
		if (s->conns[s->slot[h] - 1].id == id) {
			s->last = s->slot[h] - 1;
			return &s->conns[s->last];
		}
	}
	if (s->nconns >= RECORDER_CONNS) {
		s->conns_dropped++;
		return NULL;
	}
	c = &s->conns[s->nconns];
	memset(c, 0, sizeof(*c));
	c->id = id;
	rid = meta_recorder(in->journal, id);
	c->rec = rid ? recorder_get(s, rid) : -1;
	if (c->rec >= 0)
		s->r[c->rec]->conns++;
	s->slot[h] = (uint16_t)(s->nconns + 1);
	s->last = s->nconns++;
	return c;
}

const char *
inspect_recorder_of(struct inspect *in, uint32_t conn)
{
	struct rc_conn *c;
	const char *rid;

	if (!in->journal)
		return NULL;
	if ((c = conn_get(in, conn)))
		return c->rec >= 0 ? in->rc->r[c->rec]->id : NULL;
	/* not followed (too many connections): still named */
	if (!(rid = meta_recorder(in->journal, conn)) || !in->rc)
		return NULL;
	snprintf(in->rc->tmp, sizeof(in->rc->tmp), "%s", rid);
	return in->rc->tmp;
}

int
inspect_recorder_index(struct inspect *in, uint32_t conn)
{
	struct inspect_recorders *s;
	struct rc_conn *c;
	const char *rid;

	if (!in->journal)
		return -1;
	if ((c = conn_get(in, conn)))
		return c->rec;
	/* not followed (too many connections): by its id, among the recorders known */
	if (!(s = in->rc))
		return -1;
	if (s->idx_valid && s->idx_conn == conn)
		return s->idx_rec;
	s->idx_valid = 1;
	s->idx_conn = conn;
	s->idx_rec = -1;
	if ((rid = meta_recorder(in->journal, conn)))
		for (int i = 0; i < s->n; i++)
			if (!strcmp(s->r[i]->id, rid))
				s->idx_rec = i;
	return s->idx_rec;
}

struct conn_ids {
	uint32_t *id;
	size_t n, cap;
	int failed;
};

static int
conn_id_add(const struct journal_conn_info *ci, void *ud)
{
	struct conn_ids *x = ud;

	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		uint32_t *p = realloc(x->id, cap * sizeof(*p));

		if (!p) {
			x->failed = 1;
			return 1;
		}
		x->id = p;
		x->cap = cap;
	}
	x->id[x->n++] = ci->conn;
	return 0;
}

void
inspect_recorders_scan(struct inspect *in)
{
	struct conn_ids x = { NULL, 0, 0, 0 };
	static const size_t idlen = RECORDER_ID_MAX + 1;
	char *ids;
	int n = 0;

	in->merged = 0;
	if (!in->journal || !(ids = malloc(INSPECT_MAX_RECORDERS * idlen)))
		return;
	/* (the callback may not read META: the ids first; META is looked up as for the
	   connections followed, RECORDER_CONNS at most) */
	if (journal_conn_foreach(in->journal, conn_id_add, &x) == 0 && !x.failed) {
		for (size_t i = 0; i < x.n && i < RECORDER_CONNS && n < INSPECT_MAX_RECORDERS; i++) {
			const char *rid = meta_recorder(in->journal, x.id[i]);
			int k;

			for (k = 0; rid && k < n; k++)
				if (!strcmp(ids + (size_t)k * idlen, rid))
					break;
			if (rid && k == n)
				snprintf(ids + (size_t)n++ * idlen, idlen, "%s", rid);
		}
	}
	free(x.id);
	free(ids);
	in->merged = n >= 2 ? n : 0;
}

int
inspect_merged(const struct inspect *in)
{
	int n = in->rc && in->rc->n >= 2 ? in->rc->n : 0;

	return in->merged > n ? in->merged : n;
}

/* r's pending span ends at to_ns (record recno): kept when long enough. */
static void
span_close(struct inspect_recorders *s, struct recorder *r, int64_t to_ns, uint64_t recno, uint32_t conn)
{
	struct rc_span *p = &r->pend;

	p->conn = conn;
	p->from_ns = r->has_cov ? r->cov_ns : s->first_data_ns;
	p->recno_before = r->has_cov ? r->cov_recno : 0;
	p->to_ns = to_ns;
	p->recno = recno;
	if (!s->have_data || to_ns - p->from_ns < s->min_span_ns)
		return;
	r->spans_total++;
	if (!p->nfill && !p->more_messages)
		r->unfilled_total++;
	if (r->nspans < RECORDER_SPANS)
		r->spans[r->nspans++] = *p;
}

/* r is covered up to rec: what the others delivered meanwhile filled no span. */
static void
covered(struct recorder *r, const struct journal_record *rec)
{
	if (!r->has_cov || rec->wall_ns > r->cov_ns) {
		r->cov_ns = rec->wall_ns;
		r->cov_recno = rec->recno;
	}
	r->has_cov = 1;
	r->pend.nfill = 0; /* (every record of a covered recorder: no memset) */
	r->pend.more_messages = 0;
}

void
inspect_recorders_record(struct inspect *in, const struct journal_record *rec, int data)
{
	struct rc_conn *c = in->journal ? conn_get(in, rec->conn) : NULL;
	struct inspect_recorders *s = in->rc;
	struct recorder *r;

	if (!s)
		return;
	if (data) {
		if (!s->have_data)
			s->first_data_ns = rec->wall_ns;
		s->have_data = 1;
		s->last_data_ns = rec->wall_ns;
		s->last_data_recno = rec->recno;
	}
	if (!c)
		return;
	if (c->rec >= 0) {
		r = s->r[c->rec];
		if (data && !c->has_data) {
			/* the first data message of a connection: the end of a span, if r was not
			   covered meanwhile by another of its connections */
			c->has_data = 1;
			if (!r->has_cov || rec->wall_ns > r->cov_ns)
				span_close(s, r, rec->wall_ns, rec->recno, rec->conn);
		}
		if (c->has_data)
			covered(r, rec);
		if (data)
			r->messages++;
	}
	if (!data)
		return;
	c->messages++;
	if (c->rec < 0)
		return; /* a connection of no known recorder fills nothing */
	for (int i = 0; i < s->n; i++) {
		struct rc_span *p = &s->r[i]->pend;

		if (i == c->rec)
			continue;
		pend_add(p, c, 1);
	}
}

int
inspect_recorders_shown(const struct inspect *in)
{
	return in->rc && in->rc->n >= 2;
}

void
inspect_recorders_finish(struct inspect *in)
{
	struct inspect_recorders *s = in->rc;
	char t1[40], t2[40], d[32];

	if (!s)
		return;
	for (int i = 0; i < s->n; i++) {
		struct recorder *r = s->r[i];

		if (s->have_data && (!r->has_cov || s->last_data_ns > r->cov_ns))
			span_close(s, r, s->last_data_ns, s->last_data_recno, 0);
	}
	if (!inspect_recorders_shown(in))
		return;
	for (int i = 0; i < s->n; i++) {
		struct recorder *r = s->r[i];
		uint64_t kept = 0;

		for (int k = 0; k < r->nspans; k++) {
			const struct rc_span *p = &r->spans[k];
			struct inspect_at at = {
				p->recno, p->recno_before, p->from_ns, p->to_ns - p->from_ns, p->conn, NULL, 0
			};

			if (p->nfill || p->more_messages)
				continue;
			kept++;
			inspect_fmt_dur(p->to_ns - p->from_ns, d, sizeof(d));
			inspect_finding(in, F_RECORDER_GAP, &at,
					"recorder %s had no connection from %s to %s (%s) and no other"
					" recorder filled it",
					r->id, text_format_time(p->from_ns, t1, sizeof(t1)),
					text_format_time(p->to_ns, t2, sizeof(t2)), d);
		}
		/* the unfilled spans beyond those kept are counted */
		in->count[F_RECORDER_GAP] += r->unfilled_total - kept;
	}
}

void
inspect_recorders_free(struct inspect *in)
{
	if (!in->rc)
		return;
	for (int i = 0; i < in->rc->n; i++)
		free(in->rc->r[i]);
	free(in->rc);
	in->rc = NULL;
}
