/* client.c - a client connection: let in, heard, refused, gone */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>

#include "replay/fault.h"
#include "replay/server_int.h"

int
client_urlarg(struct lws *wsi, const char *name, char *buf, int len)
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

/* The client gave the token of --token, in the query or as x-api-key. */
static int
authorized(struct client *c, struct lws *wsi)
{
	const char *want = c->s->o->token;
	char token[256], key[256];

	if (!want)
		return 1;
	if (client_urlarg(wsi, "token", token, sizeof(token)) == 0 && strcmp(token, want) == 0)
		return 1;
	return wsi && lws_hdr_custom_copy(wsi, key, sizeof(key), "x-api-key:", 10) > 0 &&
		strcmp(key, want) == 0;
}

int
client_open(struct client *c, struct lws *wsi)
{
	struct srv *s = c->s;
	const struct feed_server_ops *ops = s->ops;

	/* a client of the shared live timeline reads nothing of its own */
	if (!(s->shared && wsi) && journal_reader_open(s->j, &c->rd) != 0)
		return -1;
	if (ops->conn_new && ops->conn_new(s->fs, (struct feed_conn *)c, &c->fc) != 0)
		return -1;
	c->last_pong_mono = pace_now();
	c->rng = fault_rng_seed(s->o->seed, c->id);
	if (s->o->stall_ns)
		c->stall_at = 1 + fault_rng_next(&c->rng) % 50;
	if (s->o->drop_every_ns && wsi)
		lws_sul_schedule(s->ctx, 0, &c->sul_drop, inject_drop_cb,
				 (lws_usec_t)(s->o->drop_every_ns / 1000));
	if (!authorized(c, wsi)) {
		struct text_buf b = { 0 };
		if (ops->unauthorized)
			ops->unauthorized(c->fc, &b);
		if (b.len)
			queue_add_text(c, &b);
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
		lws_sul_schedule(s->ctx, 0, &c->sul_ping, pump_ping_cb, (lws_usec_t)(s->o->ping_ns / 1000));
		lws_sul_schedule(s->ctx, 0, &c->sul_pong, pump_pong_cb,
				 (lws_usec_t)(s->o->pong_timeout_ns / 1000));
	}
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
	log_warn(
		"replay: client %u (%s) sends a message of %llu bytes or more, above --max-client-message %llu: "
		"closing with 1009",
		c->id, c->peer, (unsigned long long)size, (unsigned long long)s->o->max_client_message);
	c->refused = 1;
	client_timers_cancel(c);
	text_buf_free(&c->rx);
	c->rx_msg = 0;
	queue_drop(c);
	queue_due_release(c); /* not counted any more; nothing if it was let go already */
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
int
client_receive(struct client *c, const void *in, size_t len, int final, uint64_t rest)
{
	struct srv *s = c->s;
	uint64_t lim = s->o->max_client_message;

	if (c->refused || c->let_go)
		return 0; /* what lws had read already: a client being closed is not heard */
	if (rest > lim || len > lim - rest || c->rx_msg > lim - rest - len) {
		refuse_message(c, c->rx_msg + len + rest < c->rx_msg ? UINT64_MAX : c->rx_msg + len + rest);
		return 0;
	}
	c->rx_msg += len;
	if (s->ops->on_message)
		text_buf_add(&c->rx, in, len); /* else the messages are counted, their bytes go nowhere */
	if (!final || rest)
		return 0;
	c->client_msgs++;
	/* a connection whose session went on another one is closing: it is not heard */
	if (s->ops->on_message && !c->taken_over)
		s->ops->on_message(c->fc, (const uint8_t *)c->rx.p, c->rx.len);
	c->rx.len = 0;
	c->rx_msg = 0;
	if (c->rx.cap > RX_KEEP)
		text_buf_free(&c->rx); /* a large message does not keep its buffer per client */
	/* a client that sends and does not read its answers: they count as due, at any speed */
	if (c->qbytes > s->o->max_buffer) {
		char what[96];
		snprintf(what, sizeof(what), " does not read its answers: %llu bytes due and unsent,",
			 (unsigned long long)c->qbytes);
		queue_over_buffer(c, what);
	}
	pump_kick(c);
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
	ev.p50_us = (double)hist_quantile(c->lat, 0.5) / 1e3;
	ev.p99_us = (double)hist_quantile(c->lat, 0.99) / 1e3;
	ev.max_us = (double)c->lat->max / 1e3;
	if (c->last_due > c->first_due) {
		ev.has_drift = 1;
		ev.drift_pct = 100.0 * (double)c->last_late / (double)(c->last_due - c->first_due);
	}
	o->report(&ev, o->report_ud);
}

void
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
