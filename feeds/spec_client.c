/* spec_client.c - the client half of a feed declared as data: what the recorder sends
 *
 * After each open, the spec's "send" messages, in order (then --send's). A ping "from"
 * "server" is answered with the spec's answer; a ping "from" "client" is sent by the
 * recorder once nothing arrived for every_s (OKX: "ping" when no message came for N < 30 s;
 * "pong" comes back). Nothing else of the session: the URL as given, one cursor, the last.
 */
#include "feeds/feed_client_int.h"
#include "feeds/spec_int.h"

#include <errno.h>
#include <stdlib.h>

struct spec_client {
	const struct spec *s;
	int arrived; /* a message came since the last tick */
	uint64_t quiet_since_ms; /* since the open: the last arrival or ping */
};

static int
spec_client_init(struct feed_client *fc, const struct feed_client_arg *args, int nargs)
{
	struct spec_client *c = calloc(1, sizeof(*c));

	(void)args;
	(void)nargs;
	if (!c)
		return ENOMEM;
	c->s = spec_of(fc->feed);
	fc->state = c;
	return 0;
}

static void
spec_client_fini(struct feed_client *fc)
{
	free(fc->state);
	fc->state = NULL;
}

static void
spec_client_open(struct feed_client *fc, feed_send_fn send, void *ud)
{
	struct spec_client *c = fc->state;

	c->arrived = 0;
	c->quiet_since_ms = 0;
	for (int i = 0; i < c->s->nsend; i++)
		send(ud, c->s->send[i].text, c->s->send[i].len);
}

static int
spec_client_message(struct feed_client *fc, const struct feed_msg *m, feed_send_fn send, void *ud)
{
	struct spec_client *c = fc->state;
	const struct spec *s = c->s;

	c->arrived = 1;
	if (s->ping_from == SPEC_PING_SERVER && m->ping == FEED_MSG_PING)
		send(ud, s->ping_answer.text, s->ping_answer.len);
	return 0;
}

static void
spec_client_tick(struct feed_client *fc, uint64_t ms, feed_send_fn send, void *ud)
{
	struct spec_client *c = fc->state;
	const struct spec *s = c->s;

	if (s->ping_from != SPEC_PING_CLIENT)
		return;
	if (c->arrived) {
		c->arrived = 0;
		c->quiet_since_ms = ms;
	}
	if (ms - c->quiet_since_ms >= s->ping_every_ms) {
		send(ud, s->ping_msg.text, s->ping_msg.len);
		c->quiet_since_ms = ms;
	}
}

const struct feed_client_ops spec_client_ops = {
	.init = spec_client_init,
	.fini = spec_client_fini,
	.on_open = spec_client_open,
	.on_message = spec_client_message,
	.tick = spec_client_tick,
};
