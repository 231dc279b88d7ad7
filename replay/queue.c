/* queue.c - what is queued for a client, and what is due and unsent (--max-buffer, --max-buffer-total) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "replay/server_int.h"

static void enforce_total(struct srv *s);

/* A frame of n payload bytes, and the cursor it carries (cur_len may be 0). */
struct out_frame *
queue_frame_new_cur(const void *p, size_t n, int binary, const void *cur, size_t cur_len)
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

struct out_frame *
queue_frame_new(const void *p, size_t n, int binary)
{
	return queue_frame_new_cur(p, n, binary, NULL, 0);
}

/* ---- what is due and unsent: per client (--max-buffer) and in all (--max-buffer-total) ----
 *
 * A client's qbytes counts the frames queued for it, a duplicate carried to its next write
 * and the write that lws still holds; the server's due_total sums it over the clients that
 * are not being let go. Every change goes through queue_due_add/queue_due_sub, so the
 * total is always that sum and is checked as it grows. */

void
queue_due_add(struct client *c, uint64_t n)
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

/* The shared live timeline's frames that are due and unsent for the client (live_lag): they
 * count in its qbytes, against --max-buffer, but not in the total. The timeline holds each
 * frame once for all its clients, and no more than --max-buffer of them (its slowest client
 * is let go there), so a total that added them up per client would count memory that is
 * not there: 300 clients one large frame behind are 300 times that frame in such a sum, and
 * --max-buffer-total would let clients go that cost nothing. */
void
queue_lag_change(struct client *c, uint64_t from, uint64_t to)
{
	c->qbytes -= from < c->qbytes ? from : c->qbytes;
	c->qbytes += to;
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

void
queue_due_sub(struct client *c, uint64_t n)
{
	c->qbytes -= n;
	if (!c->let_go)
		total_sub(c, n);
}

/* The client is being disconnected: what it counts in the total leaves it, once; what it
 * holds after this is not counted. */
void
queue_due_release(struct client *c)
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
void
queue_let_go(struct client *c)
{
	struct linger lg = { 1, 0 };
	int fd = c->wsi ? (int)lws_get_socket_fd(c->wsi) : -1;
	if (c->let_go)
		return;
	queue_due_release(c);
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
		log_warn(
			"replay: client %u (%s) has the most due and unsent, %llu bytes, of %llu in all above "
			"--max-buffer-total %llu: disconnecting",
			big->id, big->peer, (unsigned long long)big->qbytes, (unsigned long long)s->due_total,
			(unsigned long long)s->o->max_buffer_total);
		if (!big->let_go)
			s->n.dropped_total++;
		queue_let_go(big);
	}
}

void
queue_add(struct client *c, struct out_frame *f)
{
	if (!f)
		return;
	if (c->qt)
		c->qt->next = f;
	else
		c->qh = f;
	c->qt = f;
	queue_due_add(c, f->len);
}

void
queue_add_text(struct client *c, const struct text_buf *b)
{
	queue_add(c, queue_frame_new(b->p, b->len, 0));
}

/* Free what is queued, carried and read ahead; what lws still holds (the last write, and
 * with --deflate the frame it compresses from) stays until lws has let go of it. */
void
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
	live_leave(c);
	while (c->qh) {
		struct out_frame *f = c->qh;
		c->qh = f->next;
		queue_due_sub(c, f->len);
		free(f);
	}
	c->qt = NULL;
	if (c->carry) {
		queue_due_sub(c, c->carry->len);
		free(c->carry);
		c->carry = NULL;
	}
	free(c->next);
	c->next = NULL;
}

void
queue_free(struct client *c)
{
	queue_drop(c);
	queue_due_sub(c, c->qbytes);
	c->inflight = 0;
	free(c->held);
	c->held = NULL;
}

/* What is due for the client is above --max-buffer: say why ('what' follows the client's
 * name) and let it go. */
void
queue_over_buffer(struct client *c, const char *what)
{
	if (c->let_go)
		return;
	log_warn("replay: client %u (%s)%s above --max-buffer %llu: disconnecting", c->id, c->peer, what,
		 (unsigned long long)c->s->o->max_buffer);
	c->s->n.dropped_buffer++;
	queue_let_go(c);
}
