/* raw.c - the raw feed: any WebSocket feed, recorded and replayed byte-exact
 *
 * Nothing is known of the protocol: a payload is JSON (OTHER, with its "type" when it
 * is an object that has one) or not (NOT_JSON); no channel, cursor, seq or events.
 */
#include "feeds/feed_int.h"
#include "feeds/feed_inspect.h"
#include "feeds/feed_client.h"
#include "feeds/feed_server.h"

static void
raw_classify(const struct feed_fields *f, struct feed_msg *m)
{
	(void)f;
	m->cls = FEED_MSG_OTHER;
}

const struct feed feed_raw = {
	.name = "raw",
	.any_json = 1,
	.classify = raw_classify,
	/* no documented rule: 100 ms doubling, up to 5 s */
	.backoff_first_ms = 100,
	.backoff_cap_ms = 5000,
	.inspect = &raw_inspect_ops,
	.client = &raw_client_ops,
	.server = &raw_server_ops,
};
