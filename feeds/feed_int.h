/* feed_int.h - what feed.c hands to the per-feed files: the top-level fields of a message */
#ifndef WSTAPE_FEED_INT_H
#define WSTAPE_FEED_INT_H

#include "feeds/feed.h"

/* Raw value texts of the top-level members that some feed cares about (strings with
 * their quotes); len == 0 when absent. */
struct feed_fields {
	struct feed_str type, channel, cursor, replay_time, seq, chunk, total_chunks, count, has_gap,
		session_id, client_id, server_time_ms, client_time_ms, position_id, events, method,
		subscription, limits, message;
};

/* One pass over the members of the top-level object (also used on nested objects).
 * Returns 0, or -1 when the text is not exactly one JSON object. */
int feed_fields_scan(const char *p, size_t len, struct feed_fields *f);

/* The contents of a JSON string value (without quotes), or the text of any other value. */
struct feed_str feed_str_unquote(struct feed_str v);
int feed_str_eq(struct feed_str s, const char *lit);
/* Integer of a value, or -1 when absent or not an integer. */
int64_t feed_str_int(struct feed_str v);

/* The dedup key rules of events (struct feed.key_rule). */
enum feed_key_rule { FEED_KEY_TIME_TX = 0, FEED_KEY_CLOSETIME_TX, FEED_KEY_TIME_TX_ROLE };

/* The tables, each in feeds/<name>.c; feeds/feed.c lists them. */
extern const struct feed feed_hydromancer, feed_lasersell;

#endif
