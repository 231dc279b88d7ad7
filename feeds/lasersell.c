/* lasersell.c - classification rules of the LaserSell Exit Intelligence Stream
 *
 * Server to client: hello_ok (session_id, server_time_ms, limits), pong, error are
 * control; balance_update, position_opened, pnl_update, liquidity_snapshot, trade_tick,
 * exit_signal_with_tx, position_closed and the mirror_* messages are data, their type
 * being their channel. Client to server: configure, ping, update_*, close_position,
 * request_exit_signal, mirror_buy_result are control.
 */
#include "feeds/feed_int.h"
#include "feeds/feed_inspect.h"
#include "feeds/feed_client.h"
#include "feeds/feed_server.h"
#include "feeds/json_scan.h"

#include <string.h>

static const char *const control_types[] = {
	"hello_ok",
	"pong",
	"error",
	"configure",
	"ping",
	"update_strategy",
	"close_position",
	"request_exit_signal",
	"update_wallets",
	"update_watch_wallets",
	"update_position_strategy",
	"mirror_buy_result",
};

static const char *const data_types[] = {
	"balance_update",    "position_opened",
	"pnl_update",        "liquidity_snapshot",
	"trade_tick",        "exit_signal_with_tx",
	"position_closed",   "mirror_buy_signal",
	"mirror_buy_failed", "mirror_wallet_auto_disabled",
};

static int64_t
limits_pnl_flush_ms(struct feed_str limits)
{
	struct json_scan_it it;
	const char *k, *v;
	size_t klen, vlen;
	int64_t x;

	if (!limits.len || json_scan_object_begin(&it, limits.p, limits.p + limits.len))
		return -1;
	while (json_scan_object_next(&it, &k, &klen, &v, &vlen) == 1)
		if (klen == 12 && memcmp(k, "pnl_flush_ms", 12) == 0)
			return json_scan_int(v, vlen, &x) ? -1 : x;
	return -1;
}

static void
lasersell_classify(const struct feed_fields *f, struct feed_msg *m)
{
	struct feed_str type = m->type;
	m->position_id = feed_str_int(f->position_id);
	m->server_time_ms = feed_str_int(f->server_time_ms);
	m->client_time_ms = feed_str_int(f->client_time_ms);
	m->cls = FEED_MSG_OTHER;
	for (size_t i = 0; i < sizeof(control_types) / sizeof(control_types[0]); i++) {
		if (feed_str_eq(type, control_types[i])) {
			m->cls = FEED_MSG_CONTROL;
			if (i == 0) {
				m->session_id = feed_str_unquote(f->session_id);
				m->pnl_flush_ms = limits_pnl_flush_ms(f->limits);
			}
			return;
		}
	}
	for (size_t i = 0; i < sizeof(data_types) / sizeof(data_types[0]); i++) {
		if (feed_str_eq(type, data_types[i])) {
			m->cls = FEED_MSG_DATA;
			m->channel = type;
			return;
		}
	}
}

const struct feed feed_lasersell = {
	.name = "lasersell",
	.classify = lasersell_classify,
	/* the official SDK's rule: 100 ms doubling per attempt, no jitter, capped at 2 s */
	.backoff_first_ms = 100,
	.backoff_cap_ms = 2000,
	.inspect = &lasersell_inspect_ops,
	.client = &lasersell_client_ops,
	.server = &lasersell_server_ops,
};
