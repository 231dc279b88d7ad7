/* pump.c - when each client is served: the frames that fall due, the timers, the backlog of a client that does not read */
#include <stdio.h>
#include <stdlib.h>

#include "replay/server_int.h"

static void pump_cb(lws_sorted_usec_list_t *sul);

static void
schedule(struct client *c, int64_t at)
{
	int64_t now = pace_now();
	lws_usec_t us = at <= now ? 0 : (lws_usec_t)((at - now) / 1000);
	lws_sul_schedule(c->s->ctx, 0, &c->sul_pump, pump_cb, us);
}

/* Whether frame f may go to the client at 'now': due, not stalled, not held back by the
 * gate or by the feed (a client that has not said what it wants yet). */
int
pump_ready(const struct client *c, const struct out_frame *f, int64_t now)
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
	if (!c->started || c->lf || c->tl.speed <= 0 || c->drop_now || c->close_now || c->let_go ||
	    c->refused)
		return 0; /* (a client of the shared live timeline: its tick looks, live_lag) */
	if (timeline_read_next(c) != 0) {
		c->close_now = 1;
		lws_callback_on_writable(c->wsi);
		return 1;
	}
	int64_t now = pace_now();
	if (!c->next || !pump_ready(c, c->next, now) || !lws_send_pipe_choked(c->wsi))
		return 0;
	struct client *outer = c->s->cur;
	c->s->cur = c;
	while (c->next && pump_ready(c, c->next, now) && c->qbytes <= c->s->o->max_buffer && !c->let_go) {
		struct out_frame *f = c->next;
		c->next = NULL;
		c->last_sent_wall = c->next_wall;
		int copies = inject_release(c, f);
		if (copies == 2) {
			struct out_frame *d = queue_frame_new(f->buf + LWS_PRE, f->len, f->binary);
			if (d) {
				d->data = f->data;
				d->due = f->due;
				queue_add(c, f);
				f = d;
			}
		}
		if (!copies) {
			free(f);
		} else {
			queue_add(c, f);
			if (inject_after_data(c, now))
				break;
		}
		if (timeline_read_next(c) != 0)
			break;
	}
	c->s->cur = outer;
	if (c->let_go) {
		/* let go inside its own backlog (the total was exceeded, it held the most): its
		 * queue, which left the total at once, goes now too, not when lws closes it */
		queue_drop(c);
		return 1;
	}
	if (c->qbytes > c->s->o->max_buffer) {
		char what[96];
		snprintf(what, sizeof(what), " does not read: %llu bytes due and unsent,",
			 (unsigned long long)c->qbytes);
		queue_over_buffer(c, what);
		return 1;
	}
	schedule(c, c->next ? c->next->due : now + 100000000);
	lws_callback_on_writable(c->wsi);
	return 1;
}

/* Decide what the client needs next: writable now, or a timer. */
void
pump_kick(struct client *c)
{
	if (c->let_go || c->refused || !c->wsi)
		return; /* no connection (replay_client_pieces): what is queued stays */
	if (c->lf) {
		/* the shared live timeline: its timer asks WRITEABLE when frames fall due */
		if (c->drop_now || c->close_now || c->qh || c->carry || live_ready(c, pace_now()))
			lws_callback_on_writable(c->wsi);
		return;
	}
	if (backlog(c))
		return;
	if (c->drop_now || c->close_now || c->qh || c->carry) {
		lws_callback_on_writable(c->wsi);
		return;
	}
	if (!c->started)
		return;
	if (timeline_read_next(c) != 0) {
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
	if (!pump_ready(c, c->next, INT64_MAX))
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
	pump_kick(c);
}

/* A paced client whose socket is full gets no WRITEABLE and, while frames are dense, no
 * pump timer either: this watch looks every WATCH_NS whether frames fell due meanwhile for
 * any client. One timer for the server, not one per client: lws keeps its timers in one
 * sorted list, and a thousand timers rescheduled 50 times a second each would cost more
 * in that list than the look itself. backlog() only marks clients to let go, so the list
 * stays as it is during the walk. */
void
pump_watch_cb(lws_sorted_usec_list_t *sul)
{
	struct srv *s = lws_container_of(sul, struct srv, sul_watch);
	for (struct client *c = s->list; c; c = c->lnext)
		backlog(c);
	lws_sul_schedule(s->ctx, 0, &s->sul_watch, pump_watch_cb, WATCH_NS / 1000);
}

void
pump_ping_cb(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, sul_ping);
	struct srv *s = c->s;
	struct text_buf b = { 0 };
	s->ops->ping(c->fc, &b);
	queue_add_text(c, &b);
	text_buf_free(&b);
	lws_callback_on_writable(c->wsi);
	lws_sul_schedule(s->ctx, 0, &c->sul_ping, pump_ping_cb, (lws_usec_t)(s->o->ping_ns / 1000));
}

/* The pong timeout has its own timer, due when the last pong (or the connection) turns
 * --pong-timeout old: checked only when a ping was due, it came up to --ping-s late. A
 * pong just moves last_pong_mono; the timer finds that when it fires and waits again. */
void
pump_pong_cb(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, sul_pong);
	struct srv *s = c->s;
	int64_t now = pace_now(), left = c->last_pong_mono + s->o->pong_timeout_ns - now;
	if (left > 0) {
		lws_sul_schedule(s->ctx, 0, &c->sul_pong, pump_pong_cb, (lws_usec_t)(left / 1000) + 1);
		return;
	}
	struct text_buf b = { 0 };
	if (s->ops->pong_timeout)
		s->ops->pong_timeout(c->fc, &b);
	queue_add_text(c, &b);
	text_buf_free(&b);
	c->close_now = 1;
	log_info("replay: client %u: no pong for %.1f s: closing", c->id,
		 (double)(now - c->last_pong_mono) / 1e9);
	lws_callback_on_writable(c->wsi);
}
