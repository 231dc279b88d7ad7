/* write.c - writing: frames framed and coalesced into one lws_write() per WRITEABLE
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
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "replay/server_int.h"

static int on_writeable_frames(struct client *c);
static int on_writeable_shared(struct client *c, int64_t now);

/* Lateness is taken when the frame's last byte went to the socket, not when it was copied
 * into the coalescing buffer: the frames of one write share its time. */
static void
note_lateness(struct client *c, int64_t due, int64_t now)
{
	int64_t late = now > due ? now - due : 0;
	hist_add(c->lat, (uint64_t)late);
	if (c->s->m)
		replay_metrics_late(c->s, late);
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
size_t
write_frame_header(uint8_t *h, size_t n, int binary)
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
	c->s->n.frames++;
	c->s->n.bytes += f->len;
	if (f->data && f->due != INT64_MIN)
		c->pend_due[c->npend++] = f->due;
	if (f->data && f->recno && !c->pend_recno)
		c->pend_recno = f->recno;
	if (c->s->o->deflate || f->len >= WRITE_ALONE)
		return f;
	uint8_t *h = c->s->wbuf + LWS_PRE + c->wlen;
	size_t hl = write_frame_header(h, f->len, f->binary);
	memcpy(h + hl, f->buf + LWS_PRE, f->len);
	c->wlen += hl + f->len;
	return NULL;
}

/* Write n bytes at p as wp: for a frame lws frames, LWS_PRE bytes before p are its; as
 * LWS_WRITE_HTTP (frames framed here) it writes nothing before p, and copies what the
 * socket does not take, so p may be a buffer shared with other clients. Returns 0, or -1
 * when the connection failed. */
static int
write_bytes(struct client *c, uint8_t *p, size_t n, enum lws_write_protocol wp)
{
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
		queue_due_add(c, n);
		lws_callback_on_writable(c->wsi);
	} else {
		take_lateness(c);
	}
	return 0;
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
		size_t hl = write_frame_header(h, alone->len, alone->binary);
		p = alone->buf + LWS_PRE - hl; /* LWS_PRE is at least 10 */
		memcpy(p, h, hl);
		n = hl + alone->len;
	} else {
		p = c->s->wbuf + LWS_PRE;
		n = c->wlen;
	}
	c->wlen = 0;
	return write_bytes(c, p, n, wp);
}

/* The previous write has all gone to the socket (lws gives WRITEABLE only then). */
static void
settle(struct client *c)
{
	free(c->held);
	c->held = NULL;
	if (!c->inflight)
		return;
	queue_due_sub(c, c->inflight);
	c->inflight = 0;
	take_lateness(c);
}

int
write_on_writeable(struct client *c)
{
	if (c->refused) {
		char why[64];
		int n = snprintf(why, sizeof(why), "message above %llu bytes",
				 (unsigned long long)c->s->o->max_client_message);
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
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL,
				 (unsigned char *)"session resumed elsewhere", 25);
		return -1;
	}
	if (c->drop_now)
		return inject_drop(c, c->drop_now == 1 ? "--drop-after" : "--drop-every");
	struct client *outer = c->s->cur;
	c->s->cur = c;
	int rc = c->lf && !c->carry && !c->qh ? on_writeable_shared(c, pace_now()) : on_writeable_frames(c);
	c->s->cur = outer;
	if (c->let_go)
		queue_drop(c); /* let go inside its own write: what it held goes now */
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
	if (timeline_read_next(c) != 0) {
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
	return pump_ready(c, f, now) ? f : NULL;
}

/* The close of a client whose timeline is over (1000, the end of the recording) or that is
 * closed now for another reason (1008): the reason set, -1 for lws to close. */
static int
close_with_reason(struct client *c)
{
	if (c->ended)
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_NORMAL, (unsigned char *)"end of recording", 16);
	else
		lws_close_reason(c->wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION, (unsigned char *)"closing", 7);
	return -1;
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
			queue_due_sub(c, f->len);
		} else if (from == 1) {
			c->qh = f->next;
			if (!c->qh)
				c->qt = NULL;
			queue_due_sub(c, f->len);
		} else {
			c->next = NULL;
			c->last_sent_wall = c->next_wall;
			copies = inject_release(c, f);
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
				queue_due_add(c, f->len);
			}
		}
		/* a carried frame is freed when its last copy is written; one that goes alone,
		 * once lws_write() has returned */
		if (alone == f && c->carry != f)
			done = f;
		else if (alone != f && c->carry != f)
			free(f);
		if (from == 2 && inject_after_data(c, now))
			break; /* the drop follows this write */
	}
	if (write_out(c, alone))
		return -1;
	if (done && c->s->o->deflate && done->len)
		c->held = done; /* lws reads the rest of it while it drains its deflater */
	else
		free(done);
	if (taken) {
		pump_kick(c);
		return 0;
	}
	if (c->close_now && !c->carry && !c->qh) {
		return close_with_reason(c);
	}
	pump_kick(c);
	return 0;
}

/* The timeline's timer writes a client's due frames itself, not through WRITEABLE, when
 * nothing else waits for that client: no frame of its own queued or carried, nothing of its
 * last write held by lws, no close or drop to come. For many clients at the edge this saves
 * an event-loop round and two poll changes per client per frame: what is left per client
 * is a poll() of its socket and the send.
 * What the socket does not take, lws keeps and sends on its own WRITEABLE, as it does for a
 * write from the callback. Returns 1 when it wrote (or found the connection failed: lws
 * closes it), 0 when the client is to be asked WRITEABLE. 'now' is the timer's: every client
 * of one tick takes the frames due then, none a frame that fell due during the round. */
int
write_live_now(struct client *c, int64_t now)
{
	if (!c->lf || c->lf->end || c->carry || c->qh || c->inflight || c->held || c->drop_now || c->let_go ||
	    c->refused || c->taken_over || c->close_now || lws_partial_buffered(c->wsi))
		return 0;
	/* written when poll() says the socket has room, as WRITEABLE would be: a send() takes
	 * whatever fits, and the kernel would grow its buffers for a client that does not
	 * read (megabytes on loopback) instead of the client being seen not to take its frames
	 * and let go at --max-buffer */
	if (lws_send_pipe_choked(c->wsi))
		return 0;
	struct client *outer = c->s->cur;
	c->s->cur = c;
	int rc = on_writeable_shared(c, now);
	c->s->cur = outer;
	if (rc)
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	else if (c->let_go)
		queue_drop(c); /* let go inside its own write: what it held goes now */
	return 1;
}

/* A client of the shared live timeline (live.c): its due frames, already framed, go from
 * their buffers: the small ones copied whole into one write, a large one written straight
 * from its buffer (its header is in the headroom before it; lws copies what the socket does
 * not take). At most BURST frames, as above; the client's own messages (queued) go first,
 * through on_writeable_frames. */
static int
on_writeable_shared(struct client *c, int64_t now)
{
	struct live_frame *f = c->lf, *alone = NULL;
	int taken = 0, drop = 0;

	while (taken < BURST && !f->end && f->due <= now) {
		/* the frame after it is where the client will stand (read now if need be) */
		struct live_frame *nx = live_after(c->s, f);
		if (!nx)
			break;
		if (f->len >= WRITE_ALONE) {
			if (c->wlen)
				break;
			alone = f;
		} else if (c->wlen + LIVE_FRAMED_LEN(f) > COALESCE_MAX) {
			break;
		} else {
			memcpy(c->s->wbuf + LWS_PRE + c->wlen, LIVE_FRAMED(f), LIVE_FRAMED_LEN(f));
			c->wlen += LIVE_FRAMED_LEN(f);
		}
		c->frames++;
		c->bytes += f->len;
		c->s->n.frames++;
		c->s->n.bytes += f->len;
		c->pend_due[c->npend++] = f->due;
		c->last_sent_wall = f->wall;
		taken++;
		f = nx;
		if ((drop = inject_after_data(c, now)) || alone)
			break; /* a drop follows this write */
	}
	int rc;
	if (alone)
		rc = write_bytes(c, LIVE_FRAMED(alone), LIVE_FRAMED_LEN(alone), LWS_WRITE_HTTP);
	else
		rc = write_bytes(c, c->s->wbuf + LWS_PRE, c->wlen, LWS_WRITE_HTTP);
	c->wlen = 0;
	if (rc)
		return -1;
	live_move(c, f); /* after the write: the frame written alone may be freed now */
	if (taken || drop) {
		pump_kick(c);
		return 0;
	}
	if (c->lf->end && !c->ended) {
		c->ended = 1;
		c->close_now = 1; /* end of the recording */
	}
	if (c->close_now) {
		return close_with_reason(c);
	}
	return 0;
}
