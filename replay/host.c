/* host.c - what the server side of a feed may ask of the server (struct feed_host) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/server_int.h"

#define CL(fc) ((struct client *)(fc))

static int
h_reader_open(void *ud, struct feed_reader **rd)
{
	struct srv *s = ud;
	return journal_reader_open(s->j, (struct journal_reader **)rd);
}

static int
h_reader_next(struct feed_reader *rd, struct feed_record *fr)
{
	struct journal_record r;
	int rc = journal_reader_next((struct journal_reader *)rd, &r);
	if (rc == JOURNAL_EOF)
		return FEED_READ_END;
	if (rc == 0)
		timeline_record_of(&r, fr);
	return rc;
}

static int
h_reader_seek_recno(struct feed_reader *rd, uint64_t recno)
{
	return journal_reader_seek_recno((struct journal_reader *)rd, recno);
}

/* never before the selected range */
static int
h_reader_seek_from(void *ud, struct feed_reader *frd, int64_t wall)
{
	struct srv *s = ud;
	struct journal_reader *rd = (struct journal_reader *)frd;
	struct journal_record r;
	int rc = journal_reader_seek_time(rd, wall);
	if (rc == 0 && journal_reader_next(rd, &r) == 0)
		rc = journal_reader_seek_recno(rd, r.recno > s->start_recno ? r.recno : s->start_recno);
	return rc;
}

static void
h_reader_close(struct feed_reader *rd)
{
	journal_reader_close((struct journal_reader *)rd);
}

struct first_of {
	const char *ch;
	size_t n;
	uint64_t recno;
};

static int
channel_first_of(const struct journal_channel_info *ci, void *ud)
{
	struct first_of *f = ud;
	if (ci->name_len != f->n || memcmp(ci->name, f->ch, f->n))
		return 0;
	f->recno = ci->first_recno;
	return 1;
}

static int
h_channel_first(void *ud, const char *ch, size_t n, uint64_t *recno)
{
	struct srv *s = ud;
	struct first_of f = { ch, n, 0 };
	if (journal_channel_foreach(s->j, channel_first_of, &f) != 1)
		return 0;
	*recno = f.recno;
	return 1;
}

static int
h_conn_first(void *ud, uint32_t conn, uint64_t *recno)
{
	struct srv *s = ud;
	uint64_t at = conn;
	if (journal_conn_foreach(s->j, scan_first_recno_of, &at) != 1)
		return 0;
	*recno = at;
	return 1;
}

static void
h_id_bits(void *ud, uint64_t *a, uint64_t *b)
{
	session_id_bits(ud, a, b);
}

static struct feed_session *
h_session_find(void *ud, const char *id)
{
	return (struct feed_session *)session_find(ud, id);
}

static unsigned
h_client_id(struct feed_conn *c)
{
	return CL(c)->id;
}

static int
h_query(struct feed_conn *c, const char *name, char *buf, size_t len)
{
	return client_urlarg(CL(c)->wsi, name, buf, (int)len);
}

static int
h_header(struct feed_conn *fc, const char *name, char *buf, size_t len)
{
	struct client *c = CL(fc);
	if (!c->wsi || lws_hdr_custom_copy(c->wsi, buf, (int)len, name, (int)strlen(name)) <= 0) {
		buf[0] = 0;
		return -1;
	}
	return 0;
}

static int
h_offline(struct feed_conn *c)
{
	return !CL(c)->wsi;
}

static void
h_send(struct feed_conn *c, const void *p, size_t n)
{
	queue_add(CL(c), queue_frame_new(p, n, 0));
}

static void
h_close(struct feed_conn *c)
{
	CL(c)->close_now = 1;
}

static uint64_t
h_room(struct feed_conn *fc)
{
	struct client *c = CL(fc);
	uint64_t max = c->s->o->max_buffer;
	return c->qbytes >= max ? 0 : max - c->qbytes;
}

static void
h_over_buffer(struct feed_conn *c, const char *what)
{
	queue_over_buffer(CL(c), what);
}

static void
h_pong(struct feed_conn *c)
{
	CL(c)->last_pong_mono = pace_now();
}

static void
h_timeline_start(struct feed_conn *c, enum feed_timeline how)
{
	timeline_start(CL(c), how);
}

static void
h_hold(struct feed_conn *c, int on)
{
	CL(c)->hold = on;
}

static void
h_restart_clock(struct feed_conn *fc)
{
	struct client *c = CL(fc);
	c->tl.start_mono = pace_now();
	if (c->resume_wall && c->tl.speed > 0)
		c->tl.start_mono -= (int64_t)((double)(c->resume_wall - c->tl.t0_wall) / c->tl.speed);
	if (c->next)
		c->next->due = pace_due(&c->tl, c->next_wall);
}

static void
h_quiet_end(struct feed_conn *c)
{
	CL(c)->ended = 1;
}

static int
h_peek(struct feed_conn *fc, uint64_t *recno)
{
	struct client *c = CL(fc);
	if (timeline_read_next(c) != 0)
		return -1;
	if (!c->next)
		return 0;
	*recno = c->next_recno;
	return 1;
}

/* The frame read ahead was made under what the feed has changed since: it is read again
 * (the feed takes it back, or the reader goes back to its record). */
static void
h_reread(struct feed_conn *fc)
{
	struct client *c = CL(fc);
	if (!c->next || !c->next->data)
		return;
	int tag = c->next->tag;
	free(c->next);
	c->next = NULL;
	if (c->s->ops->unread)
		c->s->ops->unread(c->fc, tag);
	else
		journal_reader_seek_recno(c->rd, c->next_recno);
}

static void
h_edge(struct feed_conn *fc, int paced, int64_t *wall, uint64_t *recno)
{
	struct client *c = CL(fc);
	timeline_edge(c, wall, recno);
	if (paced && c->tl.speed > 0)
		*wall = pace_edge(&c->tl, pace_now());
}

/* The cache holds the last --cache of the timeline: of replay time when paced, of
 * recorded time before the point the session reached at --speed max. */
static int64_t
h_cache_start(struct feed_conn *fc)
{
	struct client *c = CL(fc);
	struct srv *s = c->s;
	if (c->tl.speed > 0)
		return pace_edge(&c->tl, pace_now() - s->o->cache_ns);
	return (c->sess && c->sess->last_wall ? c->sess->last_wall : s->t0_wall) - s->o->cache_ns;
}

static int64_t
h_resume_wall(struct feed_conn *c)
{
	return CL(c)->resume_wall;
}

static int64_t
h_clock_wall(struct feed_conn *fc)
{
	struct client *c = CL(fc);
	return c->last_sent_wall ? c->last_sent_wall : c->tl.t0_wall;
}

static struct feed_session *
h_session(struct feed_conn *c)
{
	return (struct feed_session *)CL(c)->sess;
}

static struct feed_session *
h_session_new(struct feed_conn *fc, const char *id)
{
	struct client *c = CL(fc);
	struct srv *s = c->s;
	struct session *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	snprintf(x->id, sizeof(x->id), "%s", id);
	if (s->o->mode == REPLAY_LIVE)
		x->tl = s->live;
	else
		pace_init(&x->tl, s->o->speed, s->t0_wall, 0);
	x->connected = 1;
	x->owner = c;
	x->next = s->sessions;
	s->sessions = x;
	c->sess = x;
	return (struct feed_session *)x;
}

static void
h_session_take_over(struct feed_session *x, struct feed_conn *c)
{
	session_take_over((struct session *)x, CL(c));
}

static const char *
h_session_id(const struct feed_session *x)
{
	return ((const struct session *)x)->id;
}

static void **
h_session_data(struct feed_session *x)
{
	return &((struct session *)x)->feed;
}

static uint64_t
h_session_next_recno(const struct feed_session *x)
{
	return ((const struct session *)x)->next_recno;
}

void
host_init(struct srv *s)
{
	struct feed_host *h = &s->host;
	h->ud = s;
	h->feed = s->o->feed;
	h->live = s->o->mode == REPLAY_LIVE;
	h->to_wall = s->o->to_wall;
	h->conn = s->o->conn;
	h->cache_ns = s->o->cache_ns;
	h->reader_open = h_reader_open;
	h->reader_next = h_reader_next;
	h->reader_seek_recno = h_reader_seek_recno;
	h->reader_seek_from = h_reader_seek_from;
	h->reader_close = h_reader_close;
	h->channel_first = h_channel_first;
	h->conn_first = h_conn_first;
	h->id_bits = h_id_bits;
	h->session_find = h_session_find;
	h->client_id = h_client_id;
	h->query = h_query;
	h->header = h_header;
	h->offline = h_offline;
	h->send = h_send;
	h->close = h_close;
	h->room = h_room;
	h->over_buffer = h_over_buffer;
	h->pong = h_pong;
	h->timeline_start = h_timeline_start;
	h->hold = h_hold;
	h->restart_clock = h_restart_clock;
	h->quiet_end = h_quiet_end;
	h->peek = h_peek;
	h->reread = h_reread;
	h->edge = h_edge;
	h->cache_start = h_cache_start;
	h->resume_wall = h_resume_wall;
	h->clock_wall = h_clock_wall;
	h->session = h_session;
	h->session_new = h_session_new;
	h->session_take_over = h_session_take_over;
	h->session_id = h_session_id;
	h->session_data = h_session_data;
	h->session_next_recno = h_session_next_recno;
}
