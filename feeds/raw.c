/* raw.c - the raw feed: any WebSocket feed, recorded and replayed byte-exact
 *
 * Nothing is known of the protocol: a payload is JSON (OTHER, with its "type" when it
 * is an object that has one) or not (NOT_JSON); no channel, cursor, seq or events.
 */
#include "feeds/feed_int.h"

void
raw_classify(const struct feed_fields *f, struct feed_msg *m)
{
	m->cls = FEED_MSG_OTHER;
}
