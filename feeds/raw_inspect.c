/* raw_inspect.c - inspect rules of the raw feed: nothing is known of the protocol
 *
 * Payloads that are not JSON are counted, never a finding (a raw feed may send anything);
 * no sequence, cursor, session or backoff rule: only what inspect applies to every feed.
 */
#include "feeds/feed_inspect.h"

const struct feed_inspect_ops raw_inspect_ops = {
	.not_json_is_finding = 0,
	.seq_first = -1,
};
