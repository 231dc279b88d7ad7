/* inject.c - the faults a connection meets: drops, stalls, duplicates, skips */
#include <sys/socket.h>

#include "replay/fault.h"
#include "replay/server_int.h"

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
int
inject_drop(struct client *c, const char *why)
{
	struct srv *s = c->s;
	log_info("replay: client %u: dropping the connection (%s)", c->id, why);
	s->n.faults[FAULT_DROP]++;
	if (s->o->close_code)
		lws_close_reason(c->wsi, (enum lws_close_status)s->o->close_code, (unsigned char *)"fault",
				 5);
	else
		shut(c);
	return -1;
}

/* What happens to a frame as it leaves the timeline: the faults (--skip-rate, --dup-rate,
 * frames skipped by the feed) and the feed's word on it (its server-side cursor). Returns how many copies of it
 * go out: 0, 1 or 2. */
int
inject_release(struct client *c, struct out_frame *f)
{
	struct srv *s = c->s;
	if (c->sess) {
		/* where a resume at --speed max goes on from */
		c->sess->next_recno = c->next_recno + 1;
		c->sess->last_wall = c->next_wall;
	}
	if (f->skip)
		return 0;
	if (fault_rng_hit(&c->rng, s->o->skip_rate)) {
		s->n.faults[FAULT_SKIP]++;
		return 0;
	}
	if (s->ops->sent) {
		struct feed_str cur = { (const char *)f->buf + LWS_PRE + f->len, f->cur_len };
		s->ops->sent(c->fc, f->tag, cur);
	}
	if (fault_rng_hit(&c->rng, s->o->dup_rate)) {
		s->n.faults[FAULT_DUP]++;
		return 2;
	}
	return 1;
}

/* Count a data frame that went out (or was queued); start the faults that follow a count.
 * Returns 1 when the connection is to be dropped now. */
int
inject_after_data(struct client *c, int64_t now)
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
		s->n.faults[FAULT_STALL]++;
		log_info("replay: client %u: stalling for %.3f s", c->id, (double)s->o->stall_ns / 1e9);
	}
	return 0;
}

/* --drop-every: a timer, so that an idle connection (gated, waiting for configure, between
 * sparse frames) is dropped on time too, not at its next WRITEABLE. An abrupt drop shuts
 * the socket at once; one with --close-code waits for WRITEABLE to send the close frame. */
void
inject_drop_cb(lws_sorted_usec_list_t *sul)
{
	struct client *c = lws_container_of(sul, struct client, sul_drop);
	if (c->drop_now)
		return;
	c->drop_now = 2;
	if (!c->s->o->close_code) {
		log_info("replay: client %u: dropping the connection (--drop-every)", c->id);
		c->s->n.faults[FAULT_DROP]++;
		shut(c);
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		return;
	}
	lws_callback_on_writable(c->wsi);
}
