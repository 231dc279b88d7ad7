/* lasersell_server.c - what a LaserSell stream server sends, and what its clients send it */
#include <string.h>

#include "feeds/feed_int.h"
#include "feeds/feed_server.h"

void
ls_client_parse(const uint8_t *p, size_t n, struct ls_client_msg *m)
{
	struct feed_fields f = { 0 };

	memset(m, 0, sizeof(*m));
	m->client_time_ms = -1;
	if (feed_fields_scan((const char *)p, n, &f) != 0) {
		m->kind = LS_C_BAD;
		return;
	}
	struct feed_str type = feed_str_unquote(f.type);
	if (feed_str_eq(type, "configure"))
		m->kind = LS_C_CONFIGURE;
	else if (feed_str_eq(type, "ping")) {
		m->kind = LS_C_PING;
		m->client_time_ms = feed_str_int(f.client_time_ms);
	} else if (!type.len)
		m->kind = LS_C_BAD;
}

void
ls_msg_hello_ok(struct text_buf *b, int64_t session_id, int64_t server_time_ms, const char *limits, size_t limits_len)
{
	static const char defaults[] = "{\"hi_capacity\":1024,\"pnl_flush_ms\":1000,\"max_positions_per_session\":100,"
				       "\"max_wallets_per_session\":10,\"max_positions_per_wallet\":20,"
				       "\"max_sessions_per_api_key\":5}";
	text_buf_addf(b, "{\"type\":\"hello_ok\",\"session_id\":%lld,\"server_time_ms\":%lld,\"limits\":",
		      (long long)session_id, (long long)server_time_ms);
	if (limits && limits_len)
		text_buf_add(b, limits, limits_len);
	else
		text_buf_adds(b, defaults);
	text_buf_adds(b, "}");
}

void
ls_msg_pong(struct text_buf *b, int64_t server_time_ms)
{
	text_buf_addf(b, "{\"type\":\"pong\",\"server_time_ms\":%lld}", (long long)server_time_ms);
}

void
ls_msg_error(struct text_buf *b, const char *code, const char *message)
{
	text_buf_adds(b, "{\"type\":\"error\",\"code\":");
	text_json_string(b, code, strlen(code));
	text_buf_adds(b, ",\"message\":");
	text_json_string(b, message, strlen(message));
	text_buf_adds(b, "}");
}

int
ls_hello_limits(const uint8_t *p, size_t n, struct feed_str *out)
{
	struct feed_fields f = { 0 };
	if (feed_fields_scan((const char *)p, n, &f) != 0 || !feed_str_eq(feed_str_unquote(f.type), "hello_ok") ||
	    !f.limits.len)
		return -1;
	*out = f.limits;
	return 0;
}
