/* live.c - the live timeline shared by the clients: each frame read from the journal and
 * framed once, written to every client from its one buffer
 *
 * With --mode live at a paced speed, every client of a feed that serves the recorded frames
 * as they are (no per-connection rewrite: no `frame` or `pending` in its server half) and
 * no per-client fault on the frames (--gate, --dup-rate, --skip-rate, --stall, --deflate)
 * gets the same frames at the same times. One reader reads them ahead, each into a frame
 * whose WebSocket header sits in the headroom before its payload; the frames form a list
 * from the oldest one a client has still to take to the newest read (the next one due, or
 * the end). A client is a position in that list (the next frame it takes, counted in that
 * frame's refs); a frame is freed when no client stands at or before it. A client's write
 * coalesces its due frames from their buffers (a large one goes straight from its buffer),
 * so what is per client is the write, not the reading, the decoding or the framing.
 *
 * One timer for the timeline (a timerfd, timer.c), at the due time of its next frame: it
 * reads what fell due and writes it to every client standing at the edge (write_live_now),
 * or asks WRITEABLE of one that cannot take it at once. What is due and unsent for a client
 * that does not take it is the bytes between its position and the newest frame read:
 * counted against its --max-buffer as a queued frame is, so that a client that does not read
 * is let go as before; the frames it held are then the others' or freed. They are not added
 * up per client against --max-buffer-total (queue_lag_change): the timeline holds them once,
 * and no more than --max-buffer of them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay/server_int.h"

static void tick_cb(lws_sorted_usec_list_t *sul);

int
live_shareable(const struct srv *s)
{
	const struct replay_options *o = s->o;
	return o->mode == REPLAY_LIVE && o->speed > 0 && !s->ops->frame && !s->ops->pending &&
		!s->ops->on_connect && !o->gate && !o->deflate && o->dup_rate <= 0 && o->skip_rate <= 0 &&
		!o->stall_ns;
}

static struct live_frame *
frame_new(size_t n)
{
	struct live_frame *f = malloc(sizeof(*f) + LWS_PRE + n);
	if (f)
		memset(f, 0, sizeof(*f));
	return f;
}

static void
append(struct live_tl *lt, struct live_frame *f)
{
	f->at = lt->at;
	lt->at += f->hl + f->len;
	lt->held += f->hl + f->len;
	if (lt->tail)
		lt->tail->next = f;
	else
		lt->head = f;
	lt->tail = f;
}

/* The end of the timeline; a frame that cannot be had ends it too. */
static void
append_end(struct live_tl *lt)
{
	struct live_frame *f = frame_new(0);
	if (!f) {
		/* keep the newest frame as the edge: the clients wait, the tick tries again */
		lt->retry = 1;
		return;
	}
	f->end = 1;
	f->due = INT64_MAX;
	append(lt, f);
	lt->eof = 1;
}

static void
rewind_reader(struct srv *s)
{
	journal_reader_seek_recno(s->lt.rd, s->start_recno > 1 ? s->start_recno : 1);
}

/* Read the next frame of the timeline onto its list (or its end). 0, or ENOMEM (try again). */
static int
read_next(struct srv *s)
{
	struct live_tl *lt = &s->lt;
	const struct replay_options *o = s->o;
	struct journal_record r;
	int rc;

	for (int wraps = 0;;) {
		rc = journal_reader_next(lt->rd, &r);
		if (rc == JOURNAL_EOF || (rc == 0 && r.wall_ns >= o->to_wall)) {
			/* --loop: the next pass right after; a pass with no frame means none ever */
			if (o->loop && wraps++ == 0) {
				lt->tl.start_mono += pace_loop_period(&lt->tl, s->span_wall);
				rewind_reader(s);
				continue;
			}
			append_end(lt);
			return 0;
		}
		if (rc) {
			log_error("replay: reading the journal: %s: %s", journal_strerror(rc),
				  journal_last_detail(s->j));
			append_end(lt);
			return 0;
		}
		if (r.dir != JOURNAL_IN || (r.kind != JOURNAL_TEXT && r.kind != JOURNAL_BINARY) ||
		    (o->conn >= 0 && r.conn != (uint32_t)o->conn))
			continue;
		struct live_frame *f = frame_new(r.payload_len);
		if (!f) {
			journal_reader_seek_recno(lt->rd, r.recno);
			return ENOMEM;
		}
		f->len = r.payload_len;
		f->binary = r.kind == JOURNAL_BINARY;
		f->wall = r.wall_ns;
		f->recno = r.recno;
		f->due = pace_due(&lt->tl, r.wall_ns);
		memcpy(f->buf + LWS_PRE, r.payload, r.payload_len);
		uint8_t h[10];
		f->hl = write_frame_header(h, f->len, f->binary);
		memcpy(f->buf + LWS_PRE - f->hl, h, f->hl);
		append(lt, f);
		return 0;
	}
}

/* Free the frames no client stands at or before; the newest stays (the edge). */
static void
trim(struct live_tl *lt)
{
	while (lt->head && lt->head != lt->tail && lt->head->refs == 0) {
		struct live_frame *f = lt->head;
		lt->head = f->next;
		lt->held -= f->hl + f->len;
		free(f);
	}
}

static void
free_all(struct live_tl *lt)
{
	while (lt->head) {
		struct live_frame *f = lt->head;
		lt->head = f->next;
		free(f);
	}
	lt->tail = NULL;
	lt->held = 0;
	lt->eof = 0;
}

/* What is due and unsent for the client: from its position to the newest frame read,
 * counted as a queued frame is once the client does not take it (lws still holds its last
 * write, or its next frame has waited for more than the watch's period: its socket is
 * full); above --max-buffer, it is let go. A client that takes its frames as they fall due
 * counts none: a frame larger than --max-buffer goes to it as to a client of its own
 * timeline. */
void
live_lag(struct client *c)
{
	struct live_tl *lt = &c->s->lt;
	int choked = c->inflight || (!c->lf->end && c->lf->due < pace_now() - WATCH_NS);
	uint64_t lag = choked ? lt->tail->at - c->lf->at : 0;
	queue_lag_change(c, c->lag, lag);
	c->lag = lag;
	if (c->qbytes > c->s->o->max_buffer && !c->let_go) {
		char what[96];
		snprintf(what, sizeof(what), " does not read: %llu bytes due and unsent,",
			 (unsigned long long)c->qbytes);
		queue_over_buffer(c, what);
	}
}

/* What the clients wait for, once the frames due by now are read: the newest frame, which
 * is not due yet (or the end). A client served from WRITEABLE later than the timer may take
 * that frame and read the next (live_after): the others still stand at it, so the timer is
 * for it, not for the newest one read. */
static void
note_wait(struct live_tl *lt)
{
	lt->wait_due = lt->tail && !lt->tail->end ? lt->tail->due : INT64_MAX;
}

static void
schedule(struct srv *s)
{
	struct live_tl *lt = &s->lt;
	if (!lt->tail || (lt->wait_due == INT64_MAX && !lt->retry))
		return; /* no client left on it (the last was let go), or its end */
	int64_t now = pace_now(), at = lt->retry ? now + 1000000 : lt->wait_due;
	if (timer_arm(s, at) != 0)
		lws_sul_schedule(s->ctx, 0, &lt->sul, tick_cb,
				 at <= now ? 0 : (lws_usec_t)((at - now) / 1000));
}

/* The timeline starts again at the live edge (its first client, or the first after none). */
static int
restart(struct srv *s)
{
	struct live_tl *lt = &s->lt;
	if (!lt->rd && journal_reader_open(s->j, &lt->rd) != 0)
		return ENOMEM;
	free_all(lt);
	lt->tl = s->live;
	int64_t now = pace_now(), period = s->o->loop ? pace_loop_period(&lt->tl, s->span_wall) : 0;
	/* with --loop the live edge is in the timeline's current pass, not past the end */
	pace_loop_align(&lt->tl, period, now);
	if (journal_reader_seek_time(lt->rd, pace_edge(&lt->tl, now)) != 0) {
		if (!period) {
			append_end(lt);
			return lt->tail ? 0 : ENOMEM;
		}
		/* between two passes: the next one is what comes */
		rewind_reader(s);
		lt->tl.start_mono += period;
	}
	lt->retry = 0;
	int rc = read_next(s);
	note_wait(lt);
	return lt->tail ? 0 : rc ? rc : ENOMEM;
}

/* The client joins the timeline at its edge: the next frame to fall due. 0, or ENOMEM. */
int
live_join(struct client *c)
{
	struct srv *s = c->s;
	struct live_tl *lt = &s->lt;
	if (!lt->clients) {
		int rc = restart(s);
		if (rc)
			return rc;
		schedule(s);
	}
	c->lf = lt->tail;
	c->lf->refs++;
	c->lag = 0;
	c->tl = lt->tl;
	c->started = 1;
	lt->clients++;
	return 0;
}

/* The client leaves the timeline (it left, or is let go): its position goes, and with it
 * what it counted as due. */
void
live_leave(struct client *c)
{
	struct srv *s = c->s;
	struct live_tl *lt = &s->lt;
	if (!c->lf)
		return;
	c->lf->refs--;
	c->lf = NULL;
	queue_lag_change(c, c->lag, 0);
	c->lag = 0;
	if (--lt->clients == 0) {
		lws_sul_cancel(&lt->sul);
		timer_arm(s, 0);
		free_all(lt);
	} else {
		trim(lt);
	}
}

/* The client took the frames before f: it stands at f now. */
void
live_move(struct client *c, struct live_frame *f)
{
	if (c->lf == f)
		return;
	c->lf->refs--;
	f->refs++;
	c->lf = f;
	trim(&c->s->lt);
	live_lag(c);
}

/* The frame after f, read now when f is the newest and fell due before the timer came
 * (NULL: none can be had now). */
struct live_frame *
live_after(struct srv *s, struct live_frame *f)
{
	if (!f->next && !f->end && read_next(s) != 0)
		return NULL;
	return f->next;
}

/* Whether the client has a frame to take now. */
int
live_ready(const struct client *c, int64_t now)
{
	return c->lf->end || c->lf->due <= now;
}

/* The timeline's timer (timer.c, or the lws timer): read what fell due, write it to the
 * clients that wait for it (or ask WRITEABLE of those that cannot take it at once), and wait
 * for the next frame's due time. */
void
live_tick(struct srv *s)
{
	struct live_tl *lt = &s->lt;
	if (!lt->tail || !lt->clients)
		return; /* a timerfd that fired as the last client left */
	int64_t now = pace_now();

	/* lws's timers fire up to about a microsecond early (whole microseconds): wait it out */
	while (lt->wait_due != INT64_MAX && lt->wait_due > now && lt->wait_due - now < 50000)
		now = pace_now();
	lt->retry = 0;
	while (!lt->tail->end && lt->tail->due <= now)
		if (read_next(s) != 0) {
			lt->retry = 1;
			break;
		}
	note_wait(lt);
	for (struct client *c = s->list; c; c = c->lnext) {
		if (!c->lf || c->let_go)
			continue;
		live_lag(c);
		if (!c->let_go && live_ready(c, now) && !write_live_now(c, now))
			lws_callback_on_writable(c->wsi);
	}
	schedule(s);
}

static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	struct live_tl *lt = lws_container_of(sul, struct live_tl, sul);
	live_tick(lws_container_of(lt, struct srv, lt));
}

void
live_stop(struct srv *s)
{
	free_all(&s->lt);
	journal_reader_close(s->lt.rd);
	s->lt.rd = NULL;
}
