/* hydromancer.c - classification rules of the Hydromancer WebSocket API
 *
 * Server to client: control messages (connected, reconnected, subscriptionUpdate, ping,
 * error), live data messages (type = subscription type, seq from 1 per connection and
 * channel, cursor, an events array under one of fills/updates/events/trades/
 * liquidations/data) and replay chunks (type "replay", channel, cursor, chunk,
 * totalChunks, count, hasGap, data). Client to server: subscribe/unsubscribe (method)
 * and pong.
 */
#include "feeds/feed_int.h"
#include "feeds/feed_inspect.h"
#include "feeds/feed_client.h"
#include "feeds/feed_server.h"
#include "feeds/json_scan.h"

#include <string.h>

static const char *const control_types[] = {
	"connected", "reconnected", "subscriptionUpdate", "ping", "pong", "error",
};

static int
has_suffix(struct feed_str s, const char *suffix)
{
	size_t n = strlen(suffix);

	return s.len >= n && memcmp(s.p + s.len - n, suffix, n) == 0;
}

/* Dedup keys (docs, "Deduplication Keys"): completed trades use (closeTime, txIndex),
 * non-funding ledger events (time, txIndex, role), everything else (time, txIndex). */
static int
hydromancer_key_rule(struct feed_str channel)
{
	if (has_suffix(channel, "CompletedTrades"))
		return FEED_KEY_CLOSETIME_TX;
	if (has_suffix(channel, "NonFundingLedgerEvents"))
		return FEED_KEY_TIME_TX_ROLE;
	return FEED_KEY_TIME_TX;
}

/* A subscribe message's subscription type, for the channel of the out frame. */
static struct feed_str
subscription_type(struct feed_str sub)
{
	struct feed_fields f;
	struct feed_str none = { NULL, 0 };

	if (!sub.len || sub.p[0] != '{')
		return none;
	memset(&f, 0, sizeof(f));
	if (feed_fields_scan(sub.p, sub.len, &f))
		return none;
	return feed_str_unquote(f.type);
}

static void
hydromancer_classify(const struct feed_fields *f, struct feed_msg *m)
{
	struct feed_str type = m->type;

	m->cursor = feed_str_unquote(f->cursor.len ? f->cursor : f->replay_time);
	m->session_id = feed_str_unquote(f->session_id);
	m->client_id = feed_str_unquote(f->client_id);

	if (feed_str_eq(type, "replay")) {
		m->cls = FEED_MSG_REPLAY;
		m->channel = feed_str_unquote(f->channel);
		m->chunk = feed_str_int(f->chunk);
		m->total_chunks = feed_str_int(f->total_chunks);
		m->count = feed_str_int(f->count);
		m->has_gap = json_scan_is_true(f->has_gap.p, f->has_gap.len);
		m->events = f->events;
		return;
	}
	for (size_t i = 0; i < sizeof(control_types) / sizeof(control_types[0]); i++) {
		if (feed_str_eq(type, control_types[i])) {
			m->cls = FEED_MSG_CONTROL;
			return;
		}
	}
	if (f->method.len) {
		/* client to server: subscribe / unsubscribe */
		m->cls = FEED_MSG_CONTROL;
		if (!type.len)
			m->type = feed_str_unquote(f->method);
		m->channel = subscription_type(f->subscription);
		return;
	}
	m->seq = feed_str_int(f->seq);
	if (type.len && (f->seq.len || f->events.len)) {
		m->cls = FEED_MSG_DATA;
		m->channel = type;
		m->events = f->events;
		return;
	}
	m->cls = FEED_MSG_OTHER;
}

const struct feed feed_hydromancer = {
	.name = "hydromancer",
	.classify = hydromancer_classify,
	.key_rule = hydromancer_key_rule,
	/* 100 ms doubling, up to 2 s, as for lasersell */
	.backoff_first_ms = 100,
	.backoff_cap_ms = 2000,
	.inspect = &hydromancer_inspect_ops,
	.client = &hydromancer_client_ops,
	.server = &hydromancer_server_ops,
};
