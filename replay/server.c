/* server.c - the replay server: sockets, per-client timelines, feeds' server side, faults */
#include <arpa/inet.h>
#include <errno.h>
#include <libwebsockets.h>
#include <malloc.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "feeds/feed_server.h"
#include "journal/journal.h"
#include "replay/fault.h"
#include "replay/feed_host.h"
#include "replay/pace.h"
#include "replay/replay.h"
#include "util/log.h"
#include "util/text.h"

#define BURST 256 /* frames taken into one WRITEABLE callback's write at most, for fairness */
#define SPIN_NS 2000000
#define WATCH_NS 20000000 /* how often the paced clients are checked for frames they do not take */
#define RX_KEEP (64 * 1024) /* a client's receive buffer larger than this is freed after its message */
/* data frames of one write, whose lateness is taken when all of it has gone out: at most
 * 2 * BURST (BURST frames, each with a duplicate) */
#define PEND_MAX (2 * BURST + 16)

struct out_frame {
	struct out_frame *next;
	size_t len;
	int binary, data, skip, close_after;
	int tag;                  /* the feed's mark (struct feed_frame), else -1 */
	size_t cur_len;           /* the cursor the feed keeps with it, after the payload */
	uint64_t recno;           /* a timeline frame's record (0: the server's own message) */
	int64_t due;
	uint8_t buf[]; /* LWS_PRE + len, then cur_len bytes of cursor */
};

/* A session outlives its connections for the grace period; the feed names it (by an id
 * the client gives again, by its API key) and keeps its own data in it. */
struct session {
	struct session *next;
	char id[48];
	void *feed;                   /* the feed's data (feed_server_ops.session_free) */
	struct pace tl;               /* the session's timeline */
	uint64_t next_recno;          /* the record after the last one released to it (0: none) */
	int64_t last_wall;            /* receive time of that last record */
	int connected;
	struct client *owner;         /* the connection it is connected to */
	int64_t left_mono;
};

struct srv;

struct client {
	struct srv *s;
	struct lws *wsi;
	unsigned id;
	char peer[64];
	struct journal_reader *rd;
	void *fc;                     /* the feed's state of the connection */
	struct pace tl;
	int started, ended, eof;
	struct out_frame *qh, *qt;
	uint64_t qbytes;              /* due and unsent: queued, carried, held by lws */
	uint64_t counted;             /* the part of qbytes counted in the server's due_total */
	int let_go;                   /* being disconnected: its qbytes no longer count in the total */
	int refused;                  /* sent a message above --max-client-message: closing */
	uint64_t rx_msg;              /* bytes of the client message being received */
	struct client *lnext, *lprev; /* the server's clients */
	/* the next timeline frame, read ahead */
	struct out_frame *next;
	int64_t next_wall;
	uint64_t next_recno;
	/* feed state */
	struct session *sess;
	int hold;                     /* the feed holds the timeline's frames back */
	int64_t resume_wall;          /* where a resumed session's timeline stood (FEED_TL_RESUME) */
	uint64_t client_msgs, gate_need;
	int64_t last_pong_mono;
	int64_t last_sent_wall;
	struct text_buf rx;
	/* faults */
	uint64_t rng, data_sent, stall_at;
	int64_t pause_until;
	int drop_now;                 /* 1 --drop-after, 2 --drop-every, 3 the socket is shut */
	int close_now;
	int taken_over;               /* its session was resumed on another connection */
	/* the write being built in the server's wbuf (frames framed by hand, no extension) */
	size_t wlen;
	int64_t pend_due[PEND_MAX];   /* due times of the data frames of the last write */
	int npend;
	uint64_t pend_recno;          /* record of its first timeline frame, until it has all gone */
	struct out_frame *carry;      /* a duplicate's second copy, for the next write */
	size_t inflight;              /* bytes of the last write that lws still holds */
	struct out_frame *held;       /* --deflate: the frame lws is still compressing from */
	/* stats */
	uint64_t frames, bytes;
	struct pace_hist *lat;
	int anchor;                   /* restart the timeline at the first frame actually sent */
	int64_t first_due, last_due, last_late;
	int64_t joined_mono;
	lws_sorted_usec_list_t sul_pump, sul_ping, sul_pong, sul_drop;
};

struct srv {
	struct replay_options *o;
	struct lws_context *ctx;
	struct journal *j;
	uint64_t start_recno;
	int64_t t0_wall;
	int64_t span_wall;             /* first to last server frame of the range (--loop) */
	struct pace live;
	struct session *sessions;
	const struct feed_server_ops *ops;  /* the server side of the feed */
	void *fs;                      /* the feed's state of the run */
	struct feed_host host;         /* what the feed may ask of the server */
	unsigned next_client_id;
	uint64_t id_counter, id_seed;  /* ids the feed asks for: from --seed, else random */
	int clients, served, done;
	struct client *list;           /* every connected client */
	struct client *cur;            /* the client whose queue is being worked on, if any */
	uint64_t due_total;            /* the sum of qbytes over the clients not let go */
	lws_sorted_usec_list_t sul_watch, sul_trim;
	int trim_pending;
	/* shared by all clients, as one runs at a time: lws copies what a write leaves unsent */
	uint8_t *wbuf;                 /* LWS_PRE + COALESCE_MAX: the coalesced write being built */
};

const char *
replay_strerror(int err)
{
	switch (err) {
	case REPLAY_EJOURNAL: return "cannot read the journal";
	case REPLAY_ELISTEN: return "cannot listen";
	case REPLAY_ELWS: return "libwebsockets could not start";
	case REPLAY_EEMPTY: return "nothing to replay in the selected range";
	default: return err > 0 ? strerror(err) : "unknown replay error";
	}
}

/* ---- output queue ---- */

/* A frame of n payload bytes, and the cursor it carries (cur_len may be 0). */
static struct out_frame *
frame_new_cur(const void *p, size_t n, int binary, const void *cur, size_t cur_len)
{
	struct out_frame *f = malloc(sizeof(*f) + LWS_PRE + n + cur_len);
	if (!f)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->tag = -1;
	f->len = n;
	f->binary = binary;
	if (n)
		memcpy(f->buf + LWS_PRE, p, n);
	f->cur_len = cur_len;
	if (cur_len)
		memcpy(f->buf + LWS_PRE + n, cur, cur_len);
	return f;
}

static struct out_frame *
frame_new(const void *p, size_t n, int binary)
{
	return frame_new_cur(p, n, binary, NULL, 0);
}

/* ---- what is due and unsent: per client (--max-buffer) and in all (--max-buffer-total) ----
 *
 * A client's qbytes counts the frames queued for it, a duplicate carried to its next write
 * and the write that lws still holds; the server's due_total sums it over the clients that
 * are not being let go. Every change goes through due_add/due_sub, so the total is always
 * that sum and is checked as it grows. */

static void enforce_total(struct srv *s);
static void queue_drop(struct client *c);

static void
due_add(struct client *c, uint64_t n)
{
	struct srv *s = c->s;
	c->qbytes += n;
	if (c->let_go)
		return;
	c->counted += n;
	s->due_total += n;
	if (s->due_total > s->o->max_buffer_total)
		enforce_total(s);
}

/* Take n of what the client has counted in the total out of it. The total never goes below
 * zero: should the sums ever disagree, it is clamped (and said at debug level) rather than
 * wrapped, which would let every client go. */
static void
total_sub(struct client *c, uint64_t n)
{
	struct srv *s = c->s;
	if (n > c->counted) {
		log_debug("replay: client %u: %llu bytes taken from the total, %llu counted", c->id,
			  (unsigned long long)n, (unsigned long long)c->counted);
		n = c->counted;
	}
	c->counted -= n;
	if (n > s->due_total) {
		log_debug("replay: the total due, %llu bytes, is below client %u's %llu: clamped",
			  (unsigned long long)s->due_total, c->id, (unsigned long long)n);
		n = s->due_total;
	}
	s->due_total -= n;
}

static void
due_sub(struct client *c, uint64_t n)
{
	c->qbytes -= n;
	if (!c->let_go)
		total_sub(c, n);
}

/* The client is being disconnected: what it counts in the total leaves it, once; what it
 * holds after this is not counted. */
static void
due_release(struct client *c)
{
	total_sub(c, c->counted);
	c->let_go = 1;
}

/* Disconnect a client that does not take what is due. What it holds stops counting in the
 * total now, its queue is freed, and nothing more is queued for it (kick, backlog); lws
 * closes it from its
 * timeout list once this callback has returned (safe from inside the client's own write),
 * and its buffers go with it. Its socket is reset first: lws would otherwise hold the
 * connection open for seconds to flush what the client does not read, and the kernel would
 * keep its send buffer for an orphan whose FIN cannot pass the unread data. */
static void
let_go(struct client *c)
{
	struct linger lg = { 1, 0 };
	int fd = c->wsi ? (int)lws_get_socket_fd(c->wsi) : -1;
	if (c->let_go)
		return;
	due_release(c);
	/* its queue goes now, unless this runs inside its own write or backlog */
	if (c != c->s->cur)
		queue_drop(c);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		shutdown(fd, SHUT_RDWR);
	}
	if (c->wsi)
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* What is due over all clients is above --max-buffer-total: the clients with the most due
 * are let go first, until the total is within it. A walk over the clients each time one is
 * let go: this happens only when the total is exceeded. */
static void
enforce_total(struct srv *s)
{
	while (s->due_total > s->o->max_buffer_total) {
		struct client *big = NULL;
		for (struct client *x = s->list; x; x = x->lnext)
			if (!x->let_go && (!big || x->qbytes > big->qbytes))
				big = x;
		if (!big)
			break;
		log_warn("replay: client %u (%s) has the most due and unsent, %llu bytes, of %llu in all above "
			 "--max-buffer-total %llu: disconnecting", big->id, big->peer, (unsigned long long)big->qbytes,
			 (unsigned long long)s->due_total, (unsigned long long)s->o->max_buffer_total);
		let_go(big);
	}
}

static void
enqueue(struct client *c, struct out_frame *f)
{
	if (!f)
		return;
	if (c->qt)
		c->qt->next = f;
	else
		c->qh = f;
	c->qt = f;
	due_add(c, f->len);
}

static void
enqueue_text(struct client *c, const struct text_buf *b)
{
	enqueue(c, frame_new(b->p, b->len, 0));
}

/* Free what is queued, carried and read ahead; what lws still holds (the last write, and
 * with --deflate the frame it compresses from) stays until lws has let go of it. */
static void
queue_drop(struct client *c)
{
	if (c->sess && c->s->ops->resume_unsent) {
		/* timeline frames of a write that had not all gone out when the connection
		 * dropped (lws held part of it), or queued and never written, did not reach the
		 * client: its session goes on from the first of them */
		if (c->pend_recno)
			c->sess->next_recno = c->pend_recno;
		else
			for (struct out_frame *f = c->qh; f; f = f->next)
				if (f->data && f->recno) {
					c->sess->next_recno = f->recno;
					break;
				}
	}
	while (c->qh) {
		struct out_frame *f = c->qh;
		c->qh = f->next;
		due_sub(c, f->len);
		free(f);
	}
	c->qt = NULL;
	if (c->carry) {
		due_sub(c, c->carry->len);
		free(c->carry);
		c->carry = NULL;
	}
	free(c->next);
	c->next = NULL;
}

static void
queue_free(struct client *c)
{
	queue_drop(c);
	due_sub(c, c->qbytes);
	c->inflight = 0;
	free(c->held);
	c->held = NULL;
}

/* ---- the timeline ---- */

/* A journal record as the feed reads it. */
static void
record_of(const struct journal_record *r, struct feed_record *fr)
{
	static const int kinds[] = { [JOURNAL_TEXT] = FEED_REC_TEXT, [JOURNAL_BINARY] = FEED_REC_BINARY,
				     [JOURNAL_OPEN] = FEED_REC_OPEN, [JOURNAL_CLOSE] = FEED_REC_CLOSE };
	fr->recno = r->recno;
	fr->wall_ns = r->wall_ns;
	fr->conn = r->conn;
	fr->dir = r->dir == JOURNAL_IN ? FEED_REC_IN : FEED_REC_OUT;
	fr->kind = r->kind < sizeof(kinds) / sizeof(kinds[0]) && (r->kind == JOURNAL_TEXT || kinds[r->kind])
		? kinds[r->kind] : FEED_REC_OTHER;
	fr->channel = r->channel;
	fr->channel_len = r->channel_len;
	fr->payload = r->payload;
	fr->payload_len = r->payload_len;
}

/* Is this record a server-to-client frame of the range, that the feed may serve (1), or
 * not (0). */
static int
eligible(struct client *c, const struct journal_record *r)
{
	struct replay_options *o = c->s->o;
	if (r->dir != JOURNAL_IN || (r->kind != JOURNAL_TEXT && r->kind != JOURNAL_BINARY))
		return 0;
	return o->conn < 0 || r->conn == (uint32_t)o->conn;
}

static void
client_rewind(struct client *c)
{
	struct srv *s = c->s;
	if (s->start_recno > 1)
		journal_reader_seek_recno(c->rd, s->start_recno);
	else
		journal_reader_seek_recno(c->rd, 1);
	c->eof = 0;
	if (c->s->ops->rewind)
		c->s->ops->rewind(c->fc);
}

/* A frame the feed made as the client's next frame. */
static int
next_of(struct client *c, const struct feed_frame *ff)
{
	struct out_frame *f = frame_new_cur(ff->p, ff->skip ? 0 : ff->n, ff->binary, ff->cursor.p,
					     ff->skip ? 0 : ff->cursor.len);
	if (!f)
		return ENOMEM;
	f->skip = ff->skip;
	f->tag = ff->skip ? -1 : ff->tag;
	f->data = 1;
	f->recno = ff->recno;
	f->due = pace_due(&c->tl, ff->wall_ns);
	/* remember where this frame's gate stands */
	f->close_after = (int)(c->gate_need > 0x7fffffff ? 0x7fffffff : c->gate_need);
	c->next = f;
	c->next_wall = ff->wall_ns;
	c->next_recno = ff->recno;
	return 0;
}

/* The record as the feed serves it: 1 and *ff, 0 when it is not served, or a negative errno. */
static int
frame_of(struct client *c, const struct journal_record *r, struct feed_frame *ff)
{
	if (c->s->ops->frame) {
		struct feed_record fr;
		record_of(r, &fr);
		return c->s->ops->frame(c->fc, &fr, ff);
	}
	memset(ff, 0, sizeof(*ff));
	ff->p = r->payload;
	ff->n = r->payload_len;
	ff->binary = r->kind == JOURNAL_BINARY;
	ff->tag = -1;
	ff->wall_ns = r->wall_ns;
	ff->recno = r->recno;
	return 1;
}

/* Read ahead the next frame of the timeline into c->next (unless it is there). */
static int
read_next(struct client *c)
{
	const struct feed_server_ops *ops = c->s->ops;
	struct journal_record r;
	struct feed_frame ff;
	int rc;

	if (c->next || c->eof)
		return 0;
	for (int wraps = 0;;) {
		if (ops->pending && (rc = ops->pending(c->fc, &ff)) != 0)
			return rc < 0 ? -rc : next_of(c, &ff);
		rc = journal_reader_next(c->rd, &r);
		if (rc == JOURNAL_EOF || (rc == 0 && r.wall_ns >= c->s->o->to_wall)) {
			/* play the recording again, right after its end; a whole pass with nothing
			 * for this client means there never will be */
			if (c->s->o->loop && wraps++ == 0) {
				c->tl.start_mono += pace_loop_period(&c->tl, c->s->span_wall);
				client_rewind(c);
				continue;
			}
			c->eof = 1;
			return 0;
		}
		if (rc) {
			log_error("replay: reading the journal: %s: %s", journal_strerror(rc),
				  journal_last_detail(c->s->j));
			c->eof = 1;
			return rc;
		}
		if (c->s->o->gate && r.dir == JOURNAL_OUT && (r.kind == JOURNAL_TEXT || r.kind == JOURNAL_BINARY)) {
			c->gate_need++;
			continue;
		}
		if (!eligible(c, &r) || (rc = frame_of(c, &r, &ff)) == 0)
			continue;
		return rc < 0 ? -rc : next_of(c, &ff);
	}
}

/* Where the client's timeline stands: the first record it has not been sent (its
 * read-ahead frame, the feed's pending frame, or its reader's next record); a resume's
 * replay holds only what lies before it. INT64_MAX / UINT64_MAX when its timeline is over. */
static void
timeline_edge(struct client *c, int64_t *wall, uint64_t *recno)
{
	const struct feed_server_ops *ops = c->s->ops;
	struct journal_record r;
	*wall = INT64_MAX;
	*recno = UINT64_MAX;
	if (c->next) {
		*recno = c->next_recno;
	} else if (ops->pending_recno && ops->pending_recno(c->fc, recno)) {
		/* the pending frame's point is the record before what the reader reads */
	} else if (!c->eof && journal_reader_next(c->rd, &r) == 0) {
		*recno = r.recno;
		journal_reader_seek_recno(c->rd, r.recno);
	}
}

/* What is due for the client is above --max-buffer: say why ('what' follows the client's
 * name) and let it go. */
static void
over_buffer(struct client *c, const char *what)
{
	if (c->let_go)
		return;
	log_warn("replay: client %u (%s)%s above --max-buffer %llu: disconnecting", c->id, c->peer, what,
		 (unsigned long long)c->s->o->max_buffer);
	let_go(c);
}

/* ---- sessions ---- */

/* A resume of a session whose connection is still open takes the session over: a client
 * reconnects when its old connection looks dead to it, and that one may be half-open
 * (no FIN seen by either end yet), so the server closes it rather than refuse the resume.
 * The old connection lets go of the session at once, so nothing it still does touches it. */
static void
session_take_over(struct session *sess, struct client *c)
{
	struct client *old = sess->owner;
	if (old) {
		log_info("replay: client %u resumes session %s: closing client %u, its old connection", c->id,
			 sess->id, old->id);
		old->sess = NULL;
		old->taken_over = 1;
		lws_callback_on_writable(old->wsi);
		/* a half-open connection may never take the close frame */
		lws_set_timeout(old->wsi, PENDING_TIMEOUT_USER_OK, 1);
	}
	sess->owner = c;
	sess->connected = 1;
	c->sess = sess;
}

static void
session_free(struct srv *s, struct session *x)
{
	if (x->feed && s->ops->session_free)
		s->ops->session_free(x->feed);
	free(x);
}

static struct session *
session_find(struct srv *s, const char *id)
{
	int64_t now = pace_now();
	struct session **pp = &s->sessions;
	struct session *found = NULL;
	while (*pp) {
		struct session *x = *pp;
		if (!x->connected && now - x->left_mono > s->o->grace_ns) {
			*pp = x->next; /* expired */
			session_free(s, x);
			continue;
		}
		if (id && strcmp(x->id, id) == 0)
			found = x;
		pp = &x->next;
	}
	return found;
}

/* A seed for the ids of a run without --seed: the kernel's random bits, else the clock and
 * the process id. */
static uint64_t
id_entropy(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v) || !v) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		v = ((uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec) ^ ((uint64_t)getpid() << 32);
	}
	return v;
}

/* The n-th pair of 64 random bits of the run, for the ids the feed makes: the same under
 * --seed in every run, without --seed each process has its own. */
static void
id_bits(struct srv *s, uint64_t *a, uint64_t *b)
{
	uint64_t st = s->id_seed ^ (++s->id_counter * 0x9E3779B97F4A7C15ULL);
	*a = fault_rng_next(&st);
	*b = fault_rng_next(&st);
}

/* ---- scheduling ---- */

static void pump_cb(lws_sorted_usec_list_t *sul);
static void drop_cb(lws_sorted_usec_list_t *sul);

static void
schedule(struct client *c, int64_t at)
{
	int64_t now = pace_now();
	lws_usec_t us = at <= now ? 0 : (lws_usec_t)((at - now) / 1000);
	lws_sul_schedule(c->s->ctx, 0, &c->sul_pump, pump_cb, us);
}

static int release(struct client *c, struct out_frame *f);
static int after_data(struct client *c, int64_t now);

/* Whether frame f may go to the client at 'now': due, not stalled, not held back by the
 * gate or by the feed (a client that has not said what it wants yet). */
static int
ready(const struct client *c, const struct out_frame *f, int64_t now)
{
	if (f->due > now || c->pause_until > now)
		return 0;
	if (c->s->o->gate && (uint64_t)f->close_after > c->client_msgs)
		return 0;
	return !c->hold;
}

/* The client does not take what is due: queue it (the pacing goes on), up to --max-buffer
 * bytes, then let the client go. At --speed max nothing is due ahead of the client, so
 * nothing queues. The queued frames meet the same faults and cursor tracking as the ones
 * written at once. Returns 1 when it dealt with the client. Whether a frame is due is
 * looked at before the socket (a poll() when lws holds nothing), as the watch asks every
 * paced client 50 times a second. */
static int
backlog(struct client *c)
{
	if (!c->started || c->tl.speed <= 0 || c->drop_now || c->close_now || c->let_go || c->refused)
		return 0;
	if (read_next(c) != 0) {
		c->close_now = 1;
		lws_callback_on_writable(c->wsi);
		return 1;
	}
	int64_t now = pace_now();
	if (!c->next || !ready(c, c->next, now) || !lws_send_pipe_choked(c->wsi))
		return 0;
	struct client *outer = c->s->cur;
	c->s->cur = c;
	while (c->next && ready(c, c->next, now) && c->qbytes <= c->s->o->max_buffer && !c->let_go) {
		struct out_frame *f = c->next;
		c->next = NULL;
		c->last_sent_wall = c->next_wall;
		int copies = release(c, f);
		if (copies == 2) {
			struct out_frame *d = frame_new(f->buf + LWS_PRE, f->len, f->binary);
			if (d) {
				d->data = f->data;
				d->due = f->due;
				enqueue(c, f);
				f = d;
			}
		}
		if (!copies) {
			free(f);
		} else {
			enqueue(c, f);
			if (after_data(c, now))
				break;
		}
		if (read_next(c) != 0)
			break;
	}
	c->s->cur = outer;
	if (c->let_go)
		return 1;
	if (c->qbytes > c->s->o->max_buffer) {
		char what[96];
		snprintf(what, sizeof(what), " does not read: %llu bytes due and unsent,", (unsigned long long)c->qbytes);
		over_buffer(c, what);
		return 1;
	}
	schedule(c, c->next ? c->next->due : now + 100000000);
	lws_callback_on_writable(c->wsi);
	return 1;
}

/* Decide what the client needs next: writable now, or a timer. */
static void
kick(struct client *c)
{
	if (c->let_go || c->refused || !c->wsi)
		return;   /* no connection (replay_client_pieces): what is queued stays */
	if (backlog(c))
		return;
	if (c->drop_now || c->close_now || c->qh || c->carry) {
		lws_callback_on_writable(c->wsi);
		return;
	}
	if (!c->started)
		return;
	if (read_next(c) != 0) {
		c->close_now = 1;
		lws_callback_on_writable(c->wsi);
		return;
	}
	int64_t now = pace_now();
	if (!c->next) {
		if (c->eof && !c->ended) {
			c->ended = 1;
			c->close_now = 1; /* end of the recording */
			lws_callback_on_writable(c->wsi);
		}
		return;
	}
	int64_t at = c->next->due;
	if (c->pause_until > at)
		at = c->pause_until;
	if (!ready(c, c->next, INT64_MAX))
		return; /* waits for the client to speak (gate, the feed's hold) */
	/* The event loop wakes timers with about a millisecond of slack: a frame due sooner
	 * than SPIN_NS is waited for by asking for WRITEABLE again (a busy wait on this
	 * client only, while frames are that dense). */
	if (at - now <= SPIN_NS)
		lws_callback_on_writable(c->wsi);
	else
		schedule(c, at - SPIN_NS / 2);
}

static void
pump_cb(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, sul_pump);
	/* a due frame the client cannot take yet: count what waits, to bound memory */
	kick(c);
}

/* A paced client whose socket is full gets no WRITEABLE and, while frames are dense, no
 * pump timer either: this watch looks every WATCH_NS whether frames fell due meanwhile for
 * any client. One timer for the server, not one per client: lws keeps its timers in one
 * sorted list, and a thousand timers rescheduled 50 times a second each would cost more
 * in that list than the look itself. backlog() only marks clients to let go, so the list
 * stays as it is during the walk. */
static void
watch_cb(lws_sorted_usec_list_t *sul)
{
	struct srv *s = lws_container_of(sul, struct srv, sul_watch);
	for (struct client *c = s->list; c; c = c->lnext)
		backlog(c);
	lws_sul_schedule(s->ctx, 0, &s->sul_watch, watch_cb, WATCH_NS / 1000);
}

static void
ping_cb(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, sul_ping);
	struct srv *s = c->s;
	struct text_buf b = { 0 };
	s->ops->ping(c->fc, &b);
	enqueue_text(c, &b);
	text_buf_free(&b);
	lws_callback_on_writable(c->wsi);
	lws_sul_schedule(s->ctx, 0, &c->sul_ping, ping_cb, (lws_usec_t)(s->o->ping_ns / 1000));
}

/* The pong timeout has its own timer, due when the last pong (or the connection) turns
 * --pong-timeout old: checked only when a ping was due, it came up to --ping-s late. A
 * pong just moves last_pong_mono; the timer finds that when it fires and waits again. */
static void
pong_cb(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, sul_pong);
	struct srv *s = c->s;
	int64_t now = pace_now(), left = c->last_pong_mono + s->o->pong_timeout_ns - now;
	if (left > 0) {
		lws_sul_schedule(s->ctx, 0, &c->sul_pong, pong_cb, (lws_usec_t)(left / 1000) + 1);
		return;
	}
	struct text_buf b = { 0 };
	if (s->ops->pong_timeout)
		s->ops->pong_timeout(c->fc, &b);
	enqueue_text(c, &b);
	text_buf_free(&b);
	c->close_now = 1;
	log_info("replay: client %u: no pong for %.1f s: closing", c->id, (double)(now - c->last_pong_mono) / 1e9);
	lws_callback_on_writable(c->wsi);
}

/* ---- connection setup ---- */

static int
urlarg(struct lws *wsi, const char *name, char *buf, int len)
{
	char key[64];
	snprintf(key, sizeof(key), "%s=", name);
	const char *v = wsi ? lws_get_urlarg_by_name(wsi, key, buf, len) : NULL;
	if (!v) {
		buf[0] = 0; /* lws leaves the last argument it looked at there */
		return -1;
	}
	memmove(buf, v, strlen(v) + 1);
	return 0;
}

static void
start_timeline(struct client *c, struct pace *tl, int at_edge)
{
	struct srv *s = c->s;
	c->tl = *tl;
	if (s->ops->rewind)
		s->ops->rewind(c->fc);
	if (at_edge && tl->speed > 0) {
		int64_t now = pace_now(), period = s->o->loop ? pace_loop_period(&c->tl, s->span_wall) : 0;
		/* with --loop the live edge is in the timeline's current pass, not past the end */
		pace_loop_align(&c->tl, period, now);
		int64_t edge = pace_edge(&c->tl, now);
		if (journal_reader_seek_time(c->rd, edge) != 0) {
			if (period) {
				/* between two passes: the next one is what comes */
				client_rewind(c);
				c->tl.start_mono += period;
			} else {
				c->eof = 1;
			}
		}
	} else if (at_edge && c->sess && c->sess->next_recno) {
		/* as fast as possible, a session goes on where its last connection stopped */
		if (journal_reader_seek_recno(c->rd, c->sess->next_recno) != 0)
			c->eof = 1;
	} else {
		client_rewind(c);
		/* the timeline plays from the moment the connection can send, not from the
		 * handshake: the first WRITEABLE comes a little later */
		c->anchor = tl->speed > 0;
	}
	c->started = 1;
}

/* A resumed session goes on with the first record it was not sent, paced as if no time had
 * passed; with --loop from the next pass when none is left, else at the end. */
static void
resume_timeline(struct client *c)
{
	struct srv *s = c->s;
	struct pace tl;

	pace_init(&tl, s->o->speed, s->t0_wall, 0);
	c->tl = tl;
	c->started = 1;
	if (journal_reader_seek_recno(c->rd, c->sess->next_recno) == 0)
		c->resume_wall = c->last_sent_wall = c->sess->last_wall;
	else if (s->o->loop)
		start_timeline(c, &tl, 0); /* the next pass, from its start */
	else
		c->eof = 1;
}

static void
timeline_start(struct client *c, enum feed_timeline how)
{
	struct srv *s = c->s;
	struct pace tl;

	switch (how) {
	case FEED_TL_LIVE:
		start_timeline(c, &s->live, 1);
		break;
	case FEED_TL_SESSION:
		start_timeline(c, &c->sess->tl, 1);
		break;
	case FEED_TL_RESUME:
		resume_timeline(c);
		break;
	default:
		pace_init(&tl, s->o->speed, s->t0_wall, 0);
		if (c->sess)
			c->sess->tl = tl;
		start_timeline(c, &tl, 0);
		break;
	}
}

/* The client gave the token of --token, in the query or as x-api-key. */
static int
authorized(struct client *c, struct lws *wsi)
{
	const char *want = c->s->o->token;
	char token[256], key[256];

	if (!want)
		return 1;
	if (urlarg(wsi, "token", token, sizeof(token)) == 0 && strcmp(token, want) == 0)
		return 1;
	return wsi && lws_hdr_custom_copy(wsi, key, sizeof(key), "x-api-key:", 10) > 0 && strcmp(key, want) == 0;
}

static int
client_open(struct client *c, struct lws *wsi)
{
	struct srv *s = c->s;
	const struct feed_server_ops *ops = s->ops;

	if (journal_reader_open(s->j, &c->rd) != 0)
		return -1;
	if (ops->conn_new && ops->conn_new(s->fs, (struct feed_conn *)c, &c->fc) != 0)
		return -1;
	c->last_pong_mono = pace_now();
	c->rng = fault_rng_seed(s->o->seed, c->id);
	if (s->o->stall_ns)
		c->stall_at = 1 + fault_rng_next(&c->rng) % 50;
	if (s->o->drop_every_ns && wsi)
		lws_sul_schedule(s->ctx, 0, &c->sul_drop, drop_cb, (lws_usec_t)(s->o->drop_every_ns / 1000));
	if (!authorized(c, wsi)) {
		struct text_buf b = { 0 };
		if (ops->unauthorized)
			ops->unauthorized(c->fc, &b);
		if (b.len)
			enqueue_text(c, &b);
		text_buf_free(&b);
		c->close_now = 1;
		log_info("replay: client %u: bad token", c->id);
		return 0;
	}
	if (!ops->on_connect) {
		timeline_start(c, s->o->mode == REPLAY_LIVE ? FEED_TL_LIVE : FEED_TL_FRESH);
	} else if (ops->on_connect(c->fc) != 0) {
		return -1;
	}
	if (ops->ping && wsi && !c->close_now) {
		lws_sul_schedule(s->ctx, 0, &c->sul_ping, ping_cb, (lws_usec_t)(s->o->ping_ns / 1000));
		lws_sul_schedule(s->ctx, 0, &c->sul_pong, pong_cb, (lws_usec_t)(s->o->pong_timeout_ns / 1000));
	}
	return 0;
}

/* ---- writing ----
 *
 * One lws_write() per WRITEABLE callback. libwebsockets sends what the socket takes and
 * keeps the rest itself; until that rest has gone out it holds WRITEABLE back, and a second
 * write in the same callback would be queued behind it, which lws 4.1 reports as a short
 * write (and, for a frame it framed, leaves its framing inside that frame). So each
 * callback makes one write:
 *
 * - without --deflate, frames are framed here: small ones coalesced, whole, into one write
 *   of at most COALESCE_MAX bytes (one syscall for many small frames is where the speed for
 *   small frames is); a frame of WRITE_ALONE bytes or more goes in a write of its own,
 *   straight from its buffer, its header in the headroom before it (no copy);
 * - with --deflate, lws frames and compresses: one frame per write; but an empty message
 *   is framed here and goes uncompressed (RFC 7692 lets each message choose), as lws 4.1's
 *   deflate asserts on a message that compresses to nothing.
 *
 * A write never ends inside a frame on this side: lws answers a client's ping between two
 * writes (before the next WRITEABLE), so a frame split over two writes could get a pong in
 * its middle. The rest of a large frame is lws's to carry, and its next WRITEABLE comes
 * when all of it is on the socket: that is when the frames of a write that lws did not send
 * at once take their lateness, and the earliest a close frame may follow them. */
#define COALESCE_MAX (256 * 1024)
#define WRITE_ALONE (64 * 1024)

/* Lateness is taken when the frame's last byte went to the socket, not when it was copied
 * into the coalescing buffer: the frames of one write share its time. */
static void
note_lateness(struct client *c, int64_t due, int64_t now)
{
	int64_t late = now > due ? now - due : 0;
	pace_hist_add(c->lat, (uint64_t)late);
	if (!c->first_due)
		c->first_due = due;
	c->last_due = due;
	c->last_late = late;
}

static void
take_lateness(struct client *c)
{
	int64_t now = pace_now();
	for (int i = 0; i < c->npend; i++)
		note_lateness(c, c->pend_due[i], now);
	c->npend = 0;
	c->pend_recno = 0;
}

/* The WebSocket header of a final frame of n payload bytes (server to client: no mask)
 * into h (10 bytes at most); returns its length. */
static size_t
frame_header(uint8_t *h, size_t n, int binary)
{
	h[0] = 0x80 | (binary ? 2 : 1);
	if (n < 126) {
		h[1] = (uint8_t)n;
		return 2;
	}
	if (n < 65536) {
		h[1] = 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		return 4;
	}
	h[1] = 127;
	for (int i = 0; i < 8; i++)
		h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
	return 10;
}

/* Whether frame f goes into the write being built: with --deflate one frame per write;
 * else a large frame alone, small ones while they fit. */
static int
fits(const struct client *c, const struct out_frame *f, const struct out_frame *alone)
{
	if (alone)
		return 0;
	if (c->s->o->deflate || f->len >= WRITE_ALONE)
		return c->wlen == 0;
	return c->wlen + 10 + f->len <= COALESCE_MAX;
}

/* One copy of f into the write being built. Returns f when it is to go alone, else NULL
 * (it was coalesced). */
static struct out_frame *
add_copy(struct client *c, struct out_frame *f)
{
	c->frames++;
	c->bytes += f->len;
	if (f->data && f->due != INT64_MIN)
		c->pend_due[c->npend++] = f->due;
	if (f->data && f->recno && !c->pend_recno)
		c->pend_recno = f->recno;
	if (c->s->o->deflate || f->len >= WRITE_ALONE)
		return f;
	uint8_t *h = c->s->wbuf + LWS_PRE + c->wlen;
	size_t hl = frame_header(h, f->len, f->binary);
	memcpy(h + hl, f->buf + LWS_PRE, f->len);
	c->wlen += hl + f->len;
	return NULL;
}

/* The one write of this callback: the coalesced frames, or the frame that goes alone.
 * Returns 0, or -1 when the connection failed. */
static int
write_out(struct client *c, struct out_frame *alone)
{
	uint8_t *p;
	size_t n;
	enum lws_write_protocol wp = LWS_WRITE_HTTP;

	if (alone && c->s->o->deflate && alone->len) {
		p = alone->buf + LWS_PRE;
		n = alone->len;
		wp = alone->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT;
	} else if (alone) {
		uint8_t h[10];
		size_t hl = frame_header(h, alone->len, alone->binary);
		p = alone->buf + LWS_PRE - hl;   /* LWS_PRE is at least 10 */
		memcpy(p, h, hl);
		n = hl + alone->len;
	} else {
		p = c->s->wbuf + LWS_PRE;
		n = c->wlen;
	}
	c->wlen = 0;
	if (!n && wp == LWS_WRITE_HTTP)
		return 0;
	int m = lws_write(c->wsi, p, n, wp);
	if (m < (int)n)
		return -1;
	if (lws_partial_buffered(c->wsi) || (c->s->o->deflate && lws_send_pipe_choked(c->wsi))) {
		/* lws holds what the socket did not take (or, with --deflate, what it has still
		 * to compress): it counts as due and unsent until the next WRITEABLE, which lws
		 * gives once all of it has gone out */
		c->inflight = n;
		due_add(c, n);
		lws_callback_on_writable(c->wsi);
	} else {
		take_lateness(c);
	}
	return 0;
}

/* The previous write has all gone to the socket (lws gives WRITEABLE only then). */
static void
settle(struct client *c)
{
	free(c->held);
	c->held = NULL;
	if (!c->inflight)
		return;
	due_sub(c, c->inflight);
	c->inflight = 0;
	take_lateness(c);
}

/* An abrupt drop, as a network failure: no close frame can go out on a shut socket. */
static void
shut(struct client *c)
{
	int fd = (int)lws_get_socket_fd(c->wsi);
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	c->drop_now = 3;
}

/* Called from WRITEABLE, when every frame written before has gone out whole: a close frame
 * follows the last of them. */
static int
drop(struct client *c, const char *why)
{
	struct srv *s = c->s;
	log_info("replay: client %u: dropping the connection (%s)", c->id, why);
	if (s->o->close_code)
		lws_close_reason(c->wsi, (enum lws_close_status)s->o->close_code, (unsigned char *)"fault", 5);
	else
		shut(c);
	return -1;
}

/* What happens to a frame as it leaves the timeline: the faults (--skip-rate, --dup-rate,
 * frames skipped by the feed) and the feed's word on it (its server-side cursor). Returns how many copies of it
 * go out: 0, 1 or 2. */
static int
release(struct client *c, struct out_frame *f)
{
	struct srv *s = c->s;
	if (c->sess) {
		/* where a resume at --speed max goes on from */
		c->sess->next_recno = c->next_recno + 1;
		c->sess->last_wall = c->next_wall;
	}
	if (f->skip || fault_rng_hit(&c->rng, s->o->skip_rate))
		return 0;
	if (s->ops->sent) {
		struct feed_str cur = { (const char *)f->buf + LWS_PRE + f->len, f->cur_len };
		s->ops->sent(c->fc, f->tag, cur);
	}
	return 1 + fault_rng_hit(&c->rng, s->o->dup_rate);
}

/* Count a data frame that went out (or was queued); start the faults that follow a count.
 * Returns 1 when the connection is to be dropped now. */
static int
after_data(struct client *c, int64_t now)
{
	struct srv *s = c->s;
	c->data_sent++;
	if (s->o->drop_after && c->data_sent >= s->o->drop_after) {
		c->drop_now = 1;
		return 1;
	}
	if (c->stall_at && c->data_sent == c->stall_at) {
		/* a stalled server sends late, then catches up */
		c->pause_until = now + s->o->stall_ns;
		log_info("replay: client %u: stalling for %.3f s", c->id, (double)s->o->stall_ns / 1e9);
	}
	return 0;
}

static int on_writeable_frames(struct client *c);

/* --drop-every: a timer, so that an idle connection (gated, waiting for configure, between
 * sparse frames) is dropped on time too, not at its next WRITEABLE. An abrupt drop shuts
 * the socket at once; one with --close-code waits for WRITEABLE to send the close frame. */
static void
drop_cb(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, sul_drop);
	if (c->drop_now)
		return;
	c->drop_now = 2;
	if (!c->s->o->close_code) {
		log_info("replay: client %u: dropping the connection (--drop-every)", c->id);
		shut(c);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	lws_callback_on_writable(c->wsi);
}

static int
on_writeable(struct client *c)
{
	if (c->refused) {
		char why[64];
		int n = snprintf(why, sizeof(why), "message above %llu bytes", (unsigned long long)c->s->o->max_client_message);
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)why, (size_t)n);
		return -1;
	}
	if (c->drop_now == 3 || c->let_go)
		return -1;
	if (lws_send_pipe_choked(c->wsi)) {
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	settle(c);
	if (c->taken_over) {
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"session resumed elsewhere", 25);
		return -1;
	}
	if (c->drop_now)
		return drop(c, c->drop_now == 1 ? "--drop-after" : "--drop-every");
	struct client *outer = c->s->cur;
	c->s->cur = c;
	int rc = on_writeable_frames(c);
	c->s->cur = outer;
	return rc;
}

/* The next frame for the client, not taken yet: the frame carried over from the last
 * write (a duplicate's second copy), the queue, then the timeline when a frame is due
 * (NULL: none now). *from says which: 0, 1, 2. */
static struct out_frame *
next_out(struct client *c, int64_t now, int *from)
{
	if (c->carry) {
		*from = 0;
		return c->carry;
	}
	if (c->qh) {
		*from = 1;
		return c->qh;
	}
	*from = 2;
	if (c->close_now || !c->started)
		return NULL;
	if (read_next(c) != 0) {
		c->close_now = 1;
		return NULL;
	}
	struct out_frame *f = c->next;
	if (!f)
		return NULL;
	if (c->anchor) {
		c->anchor = 0;
		int64_t shift = now - pace_due(&c->tl, c->tl.t0_wall);
		if (shift > 0) {
			c->tl.start_mono += shift;
			if (c->sess && c->sess->tl.start_mono == c->tl.start_mono - shift)
				c->sess->tl.start_mono = c->tl.start_mono;
			f->due = pace_due(&c->tl, c->next_wall);
		}
	}
	return ready(c, f, now) ? f : NULL;
}

/* Build this callback's one write from what is ready, at most BURST frames (for fairness
 * between clients), and write it. A close comes in a callback of its own, after the frames
 * before it have all gone out. */
static int
on_writeable_frames(struct client *c)
{
	struct out_frame *f, *alone = NULL, *done = NULL;
	int64_t now = pace_now();
	int from, taken = 0;

	while (taken < BURST && (f = next_out(c, now, &from)) && fits(c, f, alone)) {
		int copies = 1;
		if (from == 0) {
			c->carry = NULL;
			due_sub(c, f->len);
		} else if (from == 1) {
			c->qh = f->next;
			if (!c->qh)
				c->qt = NULL;
			due_sub(c, f->len);
		} else {
			c->next = NULL;
			c->last_sent_wall = c->next_wall;
			copies = release(c, f);
		}
		taken++;
		if (!copies) {
			free(f);
			continue;
		}
		alone = add_copy(c, f);
		if (copies == 2) {
			if (fits(c, f, alone)) {
				add_copy(c, f);
			} else {
				/* the second copy goes in the next write */
				c->carry = f;
				due_add(c, f->len);
			}
		}
		/* a carried frame is freed when its last copy is written; one that goes alone,
		 * once lws_write() has returned */
		if (alone == f && c->carry != f)
			done = f;
		else if (alone != f && c->carry != f)
			free(f);
		if (from == 2 && after_data(c, now))
			break;   /* the drop follows this write */
	}
	if (write_out(c, alone))
		return -1;
	if (done && c->s->o->deflate && done->len)
		c->held = done;   /* lws reads the rest of it while it drains its deflater */
	else
		free(done);
	if (taken) {
		kick(c);
		return 0;
	}
	if (c->close_now && !c->carry && !c->qh) {
		if (c->ended)
			lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"end of recording", 16);
		else
			lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"closing", 7);
		return -1;
	}
	kick(c);
	return 0;
}

static void
client_timers_cancel(struct client *c)
{
	lws_sul_cancel(&c->sul_pump);
	lws_sul_cancel(&c->sul_ping);
	lws_sul_cancel(&c->sul_pong);
	lws_sul_cancel(&c->sul_drop);
}

/* A client message (or frame) of at least 'size' bytes, above --max-client-message: close
 * with 1009 and free at once what the client holds here. Nothing it still sends is read;
 * the close frame goes at its next WRITEABLE (after the write lws may still hold for it),
 * and a client that takes nothing is cut off after REFUSE_S. */
#define REFUSE_S 5
static void
refuse_message(struct client *c, uint64_t size)
{
	struct srv *s = c->s;
	log_warn("replay: client %u (%s) sends a message of %llu bytes or more, above --max-client-message %llu: "
		 "closing with 1009", c->id, c->peer, (unsigned long long)size, (unsigned long long)s->o->max_client_message);
	c->refused = 1;
	client_timers_cancel(c);
	text_buf_free(&c->rx);
	c->rx_msg = 0;
	queue_drop(c);
	due_release(c);   /* not counted any more; nothing if it was let go already */
	if (!c->wsi)
		return;
	lws_rx_flow_control(c->wsi, 0);
	lws_callback_on_writable(c->wsi);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, REFUSE_S);
}

/* A piece of a client message: lws hands a frame's payload over in pieces of at most the
 * protocol's rx_buffer_size and never joins frames, so the message is joined here, after
 * its size has been checked against --max-client-message: that of the message so far, of
 * this piece and of what the frame still declares, so that a frame declared too large is
 * refused at its first piece. 'final': the piece ends a final frame as far as lws knows;
 * 'rest': what its frame still declares. Returns -1 to close the connection. */
static int
client_receive(struct client *c, const void *in, size_t len, int final, uint64_t rest)
{
	struct srv *s = c->s;
	uint64_t lim = s->o->max_client_message;

	if (c->refused || c->let_go)
		return 0;   /* what lws had read already: a client being closed is not heard */
	if (rest > lim || len > lim - rest || c->rx_msg > lim - rest - len) {
		refuse_message(c, c->rx_msg + len + rest < c->rx_msg ? UINT64_MAX : c->rx_msg + len + rest);
		return 0;
	}
	c->rx_msg += len;
	if (s->ops->on_message)
		text_buf_add(&c->rx, in, len);   /* else the messages are counted, their bytes go nowhere */
	if (!final || rest)
		return 0;
	c->client_msgs++;
	/* a connection whose session went on another one is closing: it is not heard */
	if (s->ops->on_message && !c->taken_over)
		s->ops->on_message(c->fc, (const uint8_t *)c->rx.p, c->rx.len);
	c->rx.len = 0;
	c->rx_msg = 0;
	if (c->rx.cap > RX_KEEP)
		text_buf_free(&c->rx);   /* a large message does not keep its buffer per client */
	/* a client that sends and does not read its answers: they count as due, at any speed */
	if (c->qbytes > s->o->max_buffer) {
		char what[96];
		snprintf(what, sizeof(what), " does not read its answers: %llu bytes due and unsent,",
			 (unsigned long long)c->qbytes);
		over_buffer(c, what);
	}
	kick(c);
	return 0;
}

/* The frames of clients that left are many small blocks spread over the heap: give the
 * free pages back to the system, once a second at most while clients leave, so that the
 * process's size follows what it holds. */
static void
trim_cb(lws_sorted_usec_list_t *sul)
{
	struct srv *s = lws_container_of(sul, struct srv, sul_trim);
	s->trim_pending = 0;
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

/* A client left: what it was sent and how late, through the caller's report. */
static void
report_left(struct client *c)
{
	struct replay_options *o = c->s->o;
	struct replay_event ev = { .kind = REPLAY_EV_CLIENT_LEFT };

	if (!o->report)
		return;
	ev.client = c->id;
	ev.peer = c->peer;
	ev.secs = (double)(pace_now() - c->joined_mono) / 1e9;
	ev.frames = c->frames;
	ev.bytes = c->bytes;
	ev.p50_us = (double)pace_hist_quantile(c->lat, 0.5) / 1e3;
	ev.p99_us = (double)pace_hist_quantile(c->lat, 0.99) / 1e3;
	ev.max_us = (double)c->lat->max / 1e3;
	if (c->last_due > c->first_due) {
		ev.has_drift = 1;
		ev.drift_pct = 100.0 * (double)c->last_late / (double)(c->last_due - c->first_due);
	}
	o->report(&ev, o->report_ud);
}

static void
client_left(struct client *c)
{
	struct srv *s = c->s;
	report_left(c);
	client_timers_cancel(c);
	if (c->lprev)
		c->lprev->lnext = c->lnext;
	else
		s->list = c->lnext;
	if (c->lnext)
		c->lnext->lprev = c->lprev;
	if (s->ops->conn_free)
		s->ops->conn_free(c->fc);
	c->fc = NULL;
	if (c->sess) {
		c->sess->connected = 0;
		c->sess->owner = NULL;
		c->sess->left_mono = pace_now();
	}
	queue_free(c);
	journal_reader_close(c->rd);
	c->rd = NULL;
	text_buf_free(&c->rx);
	free(c->lat);
	c->lat = NULL;
	s->clients--;
	s->served++;
	if (!s->trim_pending) {
		s->trim_pending = 1;
		lws_sul_schedule(s->ctx, 0, &s->sul_trim, trim_cb, 1000000);
	}
	if (s->o->once) {
		s->done = 1;
		/* this may run from a timer, before the event loop's poll: wake it */
		lws_cancel_service(s->ctx);
	}
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct client *c = user;
	struct srv *s = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		c->s = s;
		c->wsi = wsi;
		c->lnext = s->list;
		if (s->list)
			s->list->lprev = c;
		s->list = c;
		c->id = ++s->next_client_id;
		c->joined_mono = pace_now();
		c->lat = calloc(1, sizeof(*c->lat));
		lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		s->clients++;
		if (!c->lat || s->clients > s->o->max_clients) {
			log_warn("replay: refusing client %u: %d clients already", c->id, s->o->max_clients);
			return -1;
		}
		log_info("replay: client %u connected from %s", c->id, c->peer);
		if (client_open(c, wsi) != 0)
			return -1;
		kick(c);
		break;
	case LWS_CALLBACK_RECEIVE:
		return client_receive(c, in, len, lws_is_final_fragment(wsi), lws_remaining_packet_payload(wsi));
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return on_writeable(c);
	case LWS_CALLBACK_CLOSED:
		if (c->s)
			client_left(c);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	/* tx_packet_size: lws 4.1 otherwise sends at most rx_buffer_size bytes per socket
	 * write and copies the rest of a larger write aside, also when the socket would take it */
	{ "wstape-replay", callback, sizeof(struct client), 65536, 0, NULL, 1 << 30 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static const struct lws_extension extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	  "permessage-deflate; client_no_context_takeover; client_max_window_bits" },
	{ NULL, NULL, NULL },
};

static void
lws_log(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_msg(level == LLL_ERR ? LOG_WARN : LOG_DEBUG, "lws: %.*s", (int)n, line);
}

static int
first_recno_of(const struct journal_conn_info *ci, void *ud)
{
	uint64_t *io = ud;
	if (ci->conn != (uint32_t)*io)
		return 0;
	*io = ci->first_recno;
	return 1;
}

static int
add_channel(const struct journal_channel_info *ci, void *ud)
{
	struct text_buf *names = ud;
	text_buf_add(names, ci->name, ci->name_len);
	text_buf_add(names, "", 1);
	return 0;
}

/* --from-cursor CHANNEL=CURSOR: the first record of that channel whose cursor is at or
 * after CURSOR. A bare CURSOR (also one with a '=' whose left side names no channel, as
 * opaque cursors may hold one): the first such record of any channel. */
static int
seek_from_cursor(struct srv *s, struct journal_reader *rd, const char *arg)
{
	struct text_buf names = { 0 };
	struct journal_reader *r2;
	struct journal_record r;
	const char *eq = strchr(arg, '=');
	uint64_t best = 0;
	int rc;

	if ((rc = journal_channel_foreach(s->j, add_channel, &names)) != 0) {
		text_buf_free(&names);
		return rc;
	}
	for (size_t at = 0; eq && at < names.len; at += strlen(names.p + at) + 1) {
		if (strlen(names.p + at) == (size_t)(eq - arg) && !memcmp(names.p + at, arg, (size_t)(eq - arg))) {
			text_buf_free(&names);
			return journal_reader_seek_cursor(rd, arg, (size_t)(eq - arg), eq + 1, strlen(eq + 1));
		}
	}
	if ((rc = journal_reader_open(s->j, &r2)) != 0) {
		text_buf_free(&names);
		return rc;
	}
	for (size_t at = 0; at < names.len; at += strlen(names.p + at) + 1) {
		const char *ch = names.p + at;
		if (journal_reader_seek_cursor(r2, ch, strlen(ch), arg, strlen(arg)) == 0 &&
		    journal_reader_next(r2, &r) == 0 && (!best || r.recno < best))
			best = r.recno;
	}
	journal_reader_close(r2);
	text_buf_free(&names);
	return best ? journal_reader_seek_recno(rd, best) : JOURNAL_ENOTFOUND;
}

/* What the journal holds: where the range starts, its span, and what the feed learns from
 * its frames. */
static int
scan_journal(struct srv *s)
{
	struct journal_reader *rd;
	struct journal_record r;
	int rc;

	if ((rc = journal_reader_open(s->j, &rd)) != 0)
		return rc;
	s->t0_wall = INT64_MIN;
	if (s->o->from_recno > 1)
		rc = journal_reader_seek_recno(rd, s->o->from_recno);
	else if (s->o->from_wall != INT64_MIN)
		rc = journal_reader_seek_time(rd, s->o->from_wall);
	else if (s->o->from_cursor)
		rc = seek_from_cursor(s, rd, s->o->from_cursor);
	if (rc) {
		journal_reader_close(rd);
		return rc == JOURNAL_ENOTFOUND ? REPLAY_EEMPTY : rc;
	}
	s->start_recno = 0;
	uint64_t seen = 0;
	uint32_t first_conn = 0;
	while ((rc = journal_reader_next(rd, &r)) == 0) {
		if (r.wall_ns >= s->o->to_wall)
			break;
		if (!s->start_recno)
			s->start_recno = r.recno;
		if (r.dir != JOURNAL_IN || (r.kind != JOURNAL_TEXT && r.kind != JOURNAL_BINARY))
			continue;
		if (s->o->conn >= 0 && r.conn != (uint32_t)s->o->conn)
			continue;
		if (s->t0_wall == INT64_MIN) {
			s->t0_wall = r.wall_ns;
			first_conn = r.conn;
		}
		s->span_wall = r.wall_ns - s->t0_wall;
		seen++;
		if (s->ops->scan) {
			struct feed_record fr;
			record_of(&r, &fr);
			s->ops->scan(s->fs, &fr);
		}
	}
	journal_reader_close(rd);
	if (s->ops->scan_end && seen && (rc == 0 || rc == JOURNAL_EOF))
		s->ops->scan_end(s->fs, first_conn);
	s->host.t0_wall = s->t0_wall;
	if (rc && rc != JOURNAL_EOF)
		return rc;
	return seen ? 0 : REPLAY_EEMPTY;
}

/* The IPv4 address to listen on for 'host' (a name such as localhost, or an address) into
 * addr, and whether 'port' is free there: lws says little when it cannot listen, so the
 * reason is found here first. Returns 0, or -1 with the reason in 'why'. */
static int
listen_addr(const char *host, int port, char *addr, size_t addrlen, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
	struct sockaddr_in sa;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	if (rc != 0) {
		snprintf(why, whylen, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	memcpy(&sa, res->ai_addr, sizeof(sa));
	freeaddrinfo(res);
	sa.sin_port = htons((uint16_t)port);
	inet_ntop(AF_INET, &sa.sin_addr, addr, (socklen_t)addrlen);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0)
		snprintf(why, whylen, "%s", strerror(errno));
	close(fd);
	return rc ? -1 : 0;
}

static void
options_defaults(struct replay_options *o)
{
	if (!o->host)
		o->host = "127.0.0.1";
	if (!o->grace_ns)
		o->grace_ns = 30000000000LL;
	if (!o->cache_ns)
		o->cache_ns = 30000000000LL;
	if (!o->ping_ns)
		o->ping_ns = 30000000000LL;
	if (!o->pong_timeout_ns)
		o->pong_timeout_ns = 150000000000LL;
	if (!o->max_buffer)
		o->max_buffer = 64ULL << 20;
	if (!o->max_clients)
		o->max_clients = 1024;
	if (!o->max_buffer_total)
		o->max_buffer_total = 256ULL << 20;
	if (!o->max_client_message)
		o->max_client_message = 1ULL << 20;
}

/* ---- what the feed may ask of the server (struct feed_host) ---- */

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
		record_of(&r, fr);
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
	if (journal_conn_foreach(s->j, first_recno_of, &at) != 1)
		return 0;
	*recno = at;
	return 1;
}

static void
h_id_bits(void *ud, uint64_t *a, uint64_t *b)
{
	id_bits(ud, a, b);
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
	return urlarg(CL(c)->wsi, name, buf, (int)len);
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
	enqueue(CL(c), frame_new(p, n, 0));
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
	over_buffer(CL(c), what);
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
	if (read_next(c) != 0)
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

static void
host_init(struct srv *s)
{
	struct feed_host *h = &s->host;
	h->ud = s;
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

/* The feed's state of the run, before the scan. Returns 0 or ENOMEM. */
static int
feed_start(struct srv *s)
{
	static const struct feed_server_ops none = { 0 };
	const struct feed *f = feed_get(s->o->feed);

	s->ops = f && f->server ? f->server : &none;
	host_init(s);
	return s->ops->server_new ? s->ops->server_new(&s->host, &s->fs) : 0;
}

static void
feed_stop(struct srv *s)
{
	while (s->sessions) {
		struct session *x = s->sessions;
		s->sessions = x->next;
		session_free(s, x);
	}
	if (s->ops && s->ops->server_free)
		s->ops->server_free(s->fs);
	s->fs = NULL;
}

/* Open the journal, let the feed learn it, and find where the range starts. */
static int
prepare(struct srv *s)
{
	struct replay_options *o = s->o;
	int rc;

	if ((rc = journal_open(o->journal, JOURNAL_RDONLY, NULL, &s->j, NULL)) != 0) {
		log_error("cannot open journal '%s': %s: %s", o->journal, journal_strerror(rc), journal_last_detail(NULL));
		return REPLAY_EJOURNAL;
	}
	if ((rc = feed_start(s)) != 0)
		return rc;
	if ((rc = scan_journal(s)) != 0) {
		if (rc != REPLAY_EEMPTY)
			log_error("cannot read journal '%s': %s: %s", o->journal, journal_strerror(rc),
				  journal_last_detail(s->j));
		return rc == REPLAY_EEMPTY ? rc : REPLAY_EJOURNAL;
	}
	return 0;
}

static int
context_create(struct srv *s, const char *addr)
{
	struct replay_options *o = s->o;
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR | (log_threshold >= LOG_DEBUG ? LLL_WARN | LLL_NOTICE : 0), lws_log);
	memset(&info, 0, sizeof(info));
	info.port = o->port;
	info.iface = addr;
	info.protocols = protocols;
	if (o->deflate)
		info.extensions = extensions;
	info.user = s;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.pt_serv_buf_size = 256 * 1024;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (o->tls_cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = o->tls_cert;
		info.ssl_private_key_filepath = o->tls_key;
	}
	if (!(s->ctx = lws_create_context(&info))) {
		log_error("cannot start the server on %s:%d", o->host, o->port);
		return REPLAY_ELWS;
	}
	return 0;
}

/* The server listens: say where, through the caller's report. */
static void
report_listening(struct srv *s)
{
	struct replay_options *o = s->o;
	struct replay_event ev = { .kind = REPLAY_EV_LISTENING };
	char detail[128] = "";

	if (!o->report)
		return;
	if (s->ops->describe)
		s->ops->describe(s->fs, detail, sizeof(detail));
	ev.journal = o->journal;
	ev.feed = feed_name(o->feed);
	ev.detail = detail;
	ev.speed = o->speed;
	ev.mode = o->mode == REPLAY_LIVE ? "live" : "session";
	ev.scheme = o->tls_cert ? "wss" : "ws";
	ev.host = o->host;
	ev.port = o->bound_port;
	o->report(&ev, o->report_ud);
}

int
replay_run(struct replay_options *o)
{
	struct srv s;
	char addr[INET_ADDRSTRLEN], why[128];
	int rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.id_seed = o->seed_given ? o->seed : id_entropy();
	options_defaults(o);
	if ((rc = prepare(&s)) != 0)
		goto out;
	if (listen_addr(o->host, o->port, addr, sizeof(addr), why, sizeof(why)) != 0) {
		log_error("cannot listen on %s:%d: %s", o->host, o->port, why);
		rc = REPLAY_ELISTEN;
		goto out;
	}
	if ((rc = context_create(&s, addr)) != 0)
		goto out;
	if (!(s.wbuf = malloc(LWS_PRE + COALESCE_MAX))) {
		rc = ENOMEM;
		goto out;
	}
	if (o->speed > 0)
		lws_sul_schedule(s.ctx, 0, &s.sul_watch, watch_cb, WATCH_NS / 1000);
	/* --listen HOST:0 takes any free port: say which */
	struct lws_vhost *vh = lws_get_vhost_by_name(s.ctx, "default");
	o->bound_port = vh ? lws_get_vhost_listen_port(vh) : o->port;
	pace_init(&s.live, o->speed, s.t0_wall, 0);
	report_listening(&s);
	while (!s.done && !(o->stop && *o->stop)) {
		if (lws_service(s.ctx, 0) < 0)
			break;
	}
	lws_sul_cancel(&s.sul_watch);
	lws_sul_cancel(&s.sul_trim);
out:
	if (s.ctx)
		lws_context_destroy(s.ctx);
	free(s.wbuf);
	feed_stop(&s);
	journal_close(s.j);
	return rc;
}

/* ---- a client without a socket, for fuzzing ---- */

static void
pieces_client(struct client *c, const struct replay_piece *pieces, size_t n,
	      void (*on_frame)(const uint8_t *p, size_t len, int binary, void *ud), void *ud, int *refused)
{
	struct srv *s = c->s;

	c->id = ++s->next_client_id;
	c->joined_mono = pace_now();
	snprintf(c->peer, sizeof(c->peer), "no socket");
	if (client_open(c, NULL) == 0)
		for (size_t i = 0; i < n && !c->refused && !c->let_go; i++)
			if (client_receive(c, pieces[i].p, pieces[i].len, pieces[i].final, pieces[i].rest) != 0)
				break;
	*refused = c->refused;
	for (struct out_frame *f = c->qh; f; f = f->next)
		on_frame(f->buf + LWS_PRE, f->len, f->binary, ud);
	if (c->sess) {
		c->sess->connected = 0;
		c->sess->owner = NULL;
	}
	if (s->ops->conn_free)
		s->ops->conn_free(c->fc);
	queue_free(c);
	journal_reader_close(c->rd);
	text_buf_free(&c->rx);
}

int
replay_client_pieces(struct replay_options *o, struct journal *j, const struct replay_piece *pieces, size_t n,
		     void (*on_frame)(const uint8_t *p, size_t len, int binary, void *ud), void *ud, int *refused)
{
	struct srv s;
	struct client *c;
	int rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.id_seed = o->seed_given ? o->seed : 1;
	options_defaults(o);
	s.j = j;
	if ((rc = feed_start(&s)) != 0)
		goto out;
	if ((rc = scan_journal(&s)) != 0) {
		rc = rc == REPLAY_EEMPTY ? rc : REPLAY_EJOURNAL;
		goto out;
	}
	pace_init(&s.live, o->speed, s.t0_wall, 0);
	if (!(c = calloc(1, sizeof(*c))) || !(c->lat = calloc(1, sizeof(*c->lat)))) {
		free(c);
		rc = ENOMEM;
		goto out;
	}
	c->s = &s;
	s.list = c;
	s.clients = 1;
	pieces_client(c, pieces, n, on_frame, ud, refused);
	free(c->lat);
	free(c);
out:
	feed_stop(&s);
	return rc;
}
