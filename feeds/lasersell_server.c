/* lasersell_server.c - what a LaserSell stream server sends, and what its clients send it */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
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

int
ls_session_id(const uint8_t *p, size_t n, int64_t *out)
{
	struct feed_fields f = { 0 };
	int64_t v;

	if (feed_fields_scan((const char *)p, n, &f) != 0 || !f.session_id.len || (v = feed_str_int(f.session_id)) < 0)
		return -1;
	*out = v;
	return 0;
}

/* ---- holdings re-emitted on a new connection ---- */

struct held {
	char *key;        /* balance: "wallet\nmint"; position: its id in decimal */
	uint8_t *msg;     /* the recorded message */
	size_t len;
};

struct held_list {
	struct held *v;
	size_t n, cap;
};

struct ls_holdings {
	struct held_list balances, positions;
};

static struct held *
held_find(struct held_list *l, const char *key)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return &l->v[i];
	return NULL;
}

static void
held_drop(struct held_list *l, struct held *x)
{
	free(x->key);
	free(x->msg);
	/* keep the order: positions are re-emitted in the order they opened */
	memmove(x, x + 1, (size_t)(l->v + l->n - (x + 1)) * sizeof(*x));
	l->n--;
}

/* Set the message of key (adding it at the end when new). */
static int
held_put(struct held_list *l, const char *key, const uint8_t *p, size_t n)
{
	struct held *x = held_find(l, key);
	uint8_t *copy = malloc(n ? n : 1);

	if (!copy)
		return ENOMEM;
	memcpy(copy, p, n);
	if (x) {
		free(x->msg);
		x->msg = copy;
		x->len = n;
		return 0;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		struct held *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			free(copy);
			return ENOMEM;
		}
		l->v = v;
		l->cap = cap;
	}
	if (!(l->v[l->n].key = strdup(key))) {
		free(copy);
		return ENOMEM;
	}
	l->v[l->n].msg = copy;
	l->v[l->n].len = n;
	l->n++;
	return 0;
}

static void
held_free(struct held_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].msg);
	}
	free(l->v);
}

struct ls_holdings *
ls_holdings_new(void)
{
	return calloc(1, sizeof(struct ls_holdings));
}

/* A position's key: its position_id, or its token_account when it has no id. */
static int
position_key(json_t *o, char *buf, size_t size)
{
	json_t *id = json_object_get(o, "position_id");
	json_t *ta = json_object_get(o, "token_account");

	if (json_is_integer(id))
		snprintf(buf, size, "%lld", (long long)json_integer_value(id));
	else if (json_is_string(id))
		snprintf(buf, size, "%s", json_string_value(id));
	else if (json_is_string(ta))
		snprintf(buf, size, "ta:%s", json_string_value(ta));
	else
		return -1;
	return 0;
}

int
ls_holdings_add(struct ls_holdings *h, const uint8_t *p, size_t n)
{
	struct feed_fields f = { 0 };
	char key[512];
	int rc = 0;

	/* the type first, without building a tree: most messages (pnl_update) are not state */
	if (feed_fields_scan((const char *)p, n, &f) != 0)
		return 0;
	struct feed_str type = feed_str_unquote(f.type);
	int bal = feed_str_eq(type, "balance_update"), opened = feed_str_eq(type, "position_opened"),
	    closed = feed_str_eq(type, "position_closed");
	if (!bal && !opened && !closed)
		return 0;
	json_t *o = json_loadb((const char *)p, n, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return 0;
	}
	if (bal) {
		const char *w = json_string_value(json_object_get(o, "wallet_pubkey"));
		const char *m = json_string_value(json_object_get(o, "mint"));
		if (w && m) {
			snprintf(key, sizeof(key), "%s\n%s", w, m);
			rc = held_put(&h->balances, key, p, n);
		}
	} else if (position_key(o, key, sizeof(key)) == 0) {
		if (opened) {
			rc = held_put(&h->positions, key, p, n);
		} else {
			struct held *x = held_find(&h->positions, key);
			if (x)
				held_drop(&h->positions, x);
		}
	}
	json_decref(o);
	return rc;
}

int
ls_holdings_foreach(const struct ls_holdings *h, int (*emit)(const uint8_t *p, size_t n, void *ud), void *ud)
{
	const struct held_list *lists[2] = { &h->balances, &h->positions };
	int rc;

	for (int k = 0; k < 2; k++)
		for (size_t i = 0; i < lists[k]->n; i++)
			if ((rc = emit(lists[k]->v[i].msg, lists[k]->v[i].len, ud)) != 0)
				return rc;
	return 0;
}

size_t
ls_holdings_count(const struct ls_holdings *h)
{
	return h->balances.n + h->positions.n;
}

void
ls_holdings_free(struct ls_holdings *h)
{
	if (!h)
		return;
	held_free(&h->balances);
	held_free(&h->positions);
	free(h);
}
