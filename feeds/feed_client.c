/* feed_client.c - one recording's feed client: the state every feed shares, and the calls
 * into the feed's ops (struct feed_client_ops) */
#include "feeds/feed_client_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct feed_client_ops *
ops_of(const struct feed *f)
{
	return f ? f->client : NULL;
}

const struct feed_client_opt *
feed_client_opt_find(const struct feed *feed, const char *name)
{
	const struct feed_client_ops *ops = ops_of(feed);

	for (const struct feed_client_opt *o = ops ? ops->options : NULL; o && o->name; o++)
		if (!strcmp(o->name, name))
			return o;
	return NULL;
}

const struct feed_client_opt *
feed_client_opt_any(const char *name, const struct feed **feed)
{
	const struct feed_client_opt *o;
	const struct feed *f;

	for (int i = 0; (f = feed_builtin(i)) != NULL; i++)
		if ((o = feed_client_opt_find(f, name))) {
			*feed = f;
			return o;
		}
	return NULL;
}

int
feed_client_new(const struct feed_client_options *opt, struct feed_client **out)
{
	const struct feed_client_ops *ops = opt ? ops_of(opt->feed) : NULL;
	struct feed_client *fc;
	int err;

	*out = NULL;
	if (!opt || !opt->url || !ops)
		return EINVAL;
	for (int i = 0; i < opt->nargs; i++)
		if (!feed_client_opt_find(opt->feed, opt->args[i].name))
			return EINVAL;
	if (!(fc = calloc(1, sizeof(*fc))))
		return ENOMEM;
	fc->feed = opt->feed;
	fc->ops = ops;
	fc->handshake_ms = ops->handshake_timeout_ms;
	feed_cursor_track_init(&fc->trk, opt->feed);
	if (!(fc->url = strdup(opt->url)) ||
	    feed_send_list_copy(&fc->sends, opt->sends, opt->send_lens, opt->nsends)) {
		feed_client_free(fc);
		return ENOMEM;
	}
	if (ops->init && (err = ops->init(fc, opt->args, opt->nargs))) {
		feed_client_free(fc);
		return err;
	}
	*out = fc;
	return 0;
}

void
feed_client_free(struct feed_client *fc)
{
	if (!fc)
		return;
	if (fc->ops->fini)
		fc->ops->fini(fc);
	feed_send_list_free(&fc->sends);
	free(fc->url);
	free(fc);
}

void
feed_client_set_session(struct feed_client *fc, const char *session_id, size_t n)
{
	if (!session_id)
		n = 0;
	if (n > FEED_CLIENT_MAX_SESSION)
		n = FEED_CLIENT_MAX_SESSION;
	if (n)
		memcpy(fc->session, session_id, n);
	fc->session[n] = '\0';
}

void
feed_client_set_track(struct feed_client *fc, const struct feed_cursor_track *t)
{
	fc->trk = *t;
	fc->trk.feed = fc->feed;
}

const char *
feed_client_refusal(const struct feed_client *fc)
{
	return fc->refusal;
}

const char *
feed_client_session(const struct feed_client *fc)
{
	return fc->session;
}

int
feed_client_opaque(const struct feed_client *fc)
{
	return fc->ops->opaque;
}

void
feed_client_url(const struct feed_client *fc, struct text_buf *out)
{
	if (fc->ops->url) {
		fc->ops->url(fc, out);
		return;
	}
	text_buf_adds(out, fc->url);
	text_buf_reserve(out, 1);
	out->p[out->len] = '\0';
}

void
feed_client_on_open(struct feed_client *fc, feed_send_fn send, void *ud)
{
	fc->handshake_done = 0;
	if (fc->ops->on_open)
		fc->ops->on_open(fc, send, ud);
	if (!fc->ops->handshake)
		feed_client_send_all(fc, send, ud); /* else once the handshake is done */
}

int
feed_client_on_message(struct feed_client *fc, const struct feed_msg *m, feed_send_fn send, void *ud)
{
	int flags = fc->ops->on_message ? fc->ops->on_message(fc, m, send, ud) : 0;

	if (flags & FEED_CLIENT_HANDSHAKE) {
		/* what the client queued meanwhile goes now, in order */
		if (!fc->handshake_done)
			feed_client_send_all(fc, send, ud);
		fc->handshake_done = 1;
	}
	return flags & ~FEED_CLIENT_HANDSHAKE;
}

int
feed_client_handshake(const struct feed_client *fc)
{
	if (!fc->ops->handshake)
		return FEED_CLIENT_NO_HANDSHAKE;
	return fc->handshake_done ? FEED_CLIENT_HANDSHAKE_DONE : FEED_CLIENT_HANDSHAKE_PENDING;
}

const char *
feed_client_awaited(const struct feed_client *fc)
{
	return fc->ops->handshake;
}

void
feed_client_on_close(struct feed_client *fc, int established)
{
	fc->handshake_done = 0;
}

uint32_t
feed_client_backoff_ms(const struct feed_client *fc, unsigned attempt)
{
	return feed_backoff_ms(fc->feed, attempt);
}

int
feed_client_tick(struct feed_client *fc, uint64_t ms, feed_send_fn send, void *ud)
{
	if (fc->ops->handshake && !fc->handshake_done)
		return ms >= fc->handshake_ms ? -1 : 0;
	if (fc->ops->tick)
		fc->ops->tick(fc, ms, send, ud);
	return 0;
}
