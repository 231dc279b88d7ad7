/* spec_inspect.c - the inspect half of a feed declared as data: its sequence rule, its
 * JSON ping and answer (docs/SPEC.md)
 *
 * The sequence of a channel by the spec's rule: consecutive (each message's number is the
 * last one's + 1), link (a message names the number of the one before it; the spec's reset
 * value starts a new chain, like a snapshot) or range (a message covers first..last, and
 * its first follows the last one's last). Duplicates are inspect's own rules, with the
 * events' dedup key the spec's key members (spec_events_foreach). A spec says nothing of
 * sessions or backoff; a payload that is not JSON is a finding, as for any JSON feed.
 */
#include "feeds/spec_int.h"

static void *
spec_state_new(const struct feed *feed)
{
	/* the state is the declaration: nothing of its own to keep */
	return (void *)spec_of(feed);
}

static int
spec_ping(void *st, const struct inspect_rec *r, const struct feed_msg *m)
{
	(void)st;
	(void)r;
	return m->ping == FEED_MSG_PING    ? FEED_PING_SENT
		: m->ping == FEED_MSG_PONG ? FEED_PONG_RECEIVED
					   : FEED_PING_NONE;
}

static int
spec_seq(void *st, const struct inspect_rec *r, const struct feed_msg *m, struct feed_seq *out)
{
	const struct spec *s = st;
	const char *p = (const char *)r->payload;
	int64_t a, b;

	if (m->cls != FEED_MSG_DATA)
		return 0;
	switch (s->seq_rule) {
	case SPEC_SEQ_CONSECUTIVE:
		if (!spec_ptr_int(&s->seq, p, r->len, &a))
			return 0;
		out->first = out->last = a;
		out->prev = -1;
		return 1;
	case SPEC_SEQ_LINK:
		if (!spec_ptr_int(&s->seq, p, r->len, &a) || !spec_ptr_int(&s->prev, p, r->len, &b))
			return 0;
		out->first = out->last = a;
		out->prev = b;
		out->reset = s->has_reset && b == s->reset;
		return 1;
	case SPEC_SEQ_RANGE:
		if (!spec_ptr_int(&s->first, p, r->len, &a) || !spec_ptr_int(&s->last, p, r->len, &b) ||
		    b < a)
			return 0;
		out->first = a;
		out->last = b;
		out->prev = -1;
		return 1;
	default: return 0;
	}
}

const struct feed_inspect_ops spec_inspect_ops = {
	.not_json_is_finding = 1,
	.seq_first = -1,
	.state_new = spec_state_new,
	.ping = spec_ping,
	.seq = spec_seq,
};
