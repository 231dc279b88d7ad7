/* hydromancer_inspect.c - inspect rules of the Hydromancer WebSocket API
 *
 * Live data messages carry seq, from 1 per connection and channel, and a cursor that never
 * goes back. A session is new ("connected": the server kept nothing) or resumed
 * ("reconnected": replay chunks follow, whose hasGap says the server's cache did not cover
 * the whole disconnect), so the downtime before a connection is covered or not.
 */
#include "feeds/feed_inspect.h"

#include <string.h>

static int
streq(struct feed_str s, const char *lit)
{
	size_t n = strlen(lit);

	return s.len == n && memcmp(s.p, lit, n) == 0;
}

static int
hydromancer_session(void *st, const struct inspect_rec *r, const struct feed_msg *m, const char **kind)
{
	(void)st;
	(void)r;
	if (streq(m->type, "connected")) {
		*kind = "connected";
		return FEED_SESSION_NEW;
	}
	if (streq(m->type, "reconnected")) {
		*kind = "reconnected";
		return FEED_SESSION_RESUMED;
	}
	return FEED_SESSION_NONE;
}

/* seq: consecutive, one number per message */
static int
hydromancer_seq(void *st, const struct inspect_rec *r, const struct feed_msg *m, struct feed_seq *s)
{
	(void)st;
	(void)r;
	if (m->cls != FEED_MSG_DATA || m->seq < 0)
		return 0;
	s->first = s->last = m->seq;
	s->prev = -1;
	return 1;
}

const struct feed_inspect_ops hydromancer_inspect_ops = {
	.not_json_is_finding = 1,
	.cursor_ordered = 1,
	.seq_first = 1,
	.seq_per_conn = 1,
	.replay_covers_downtime = 1,
	.replay_gap_name = "hasGap",
	.session = hydromancer_session,
	.seq = hydromancer_seq,
};
