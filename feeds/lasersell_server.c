/* lasersell_server.c - what a LaserSell stream server sends, and what its clients send it */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed_int.h"
#include "feeds/feed_server.h"
#include "util/log.h"

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
ls_msg_hello_ok(struct text_buf *b, int64_t session_id, int64_t server_time_ms, const char *limits,
		size_t limits_len)
{
	static const char defaults[] =
		"{\"hi_capacity\":1024,\"pnl_flush_ms\":1000,\"max_positions_per_session\":100,"
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
	if (feed_fields_scan((const char *)p, n, &f) != 0 ||
	    !feed_str_eq(feed_str_unquote(f.type), "hello_ok") || !f.limits.len)
		return -1;
	*out = f.limits;
	return 0;
}

int
ls_session_id(const uint8_t *p, size_t n, int64_t *out)
{
	struct feed_fields f = { 0 };
	int64_t v;

	if (feed_fields_scan((const char *)p, n, &f) != 0 || !f.session_id.len ||
	    (v = feed_str_int(f.session_id)) < 0)
		return -1;
	*out = v;
	return 0;
}

/* ---- holdings re-emitted on a new connection ---- */

struct held {
	char *key; /* balance: "wallet\nmint"; position: its id in decimal */
	uint8_t *msg; /* the recorded message */
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

/* ---- the server (struct feed_server_ops) ----
 *
 * hello_ok on connect, with the recorded limits and session_id; the stream after
 * configure, the holdings first for a client that joins after the start. In session mode
 * the timeline of a client that sends an API key (x-api-key) is a session kept by that key
 * for --grace after its connection ends: the official SDK reconnects on any close or drop
 * and sends configure again, and such a reconnect goes on with the first record it was
 * not sent, after the holdings as they stood there, paced as if no time had passed; so no
 * closed position opens again and no exit signal comes twice. When its timeline has ended,
 * a reconnect gets hello_ok and the holdings and then nothing (the connection stays open:
 * closing it would only bring the client back). Without a key, or in live mode (one
 * timeline for all), every connection starts anew. */

struct ls_srv {
	const struct feed_host *h;
	struct text_buf limits; /* the hello_ok limits, as recorded */
};

struct ls_conn {
	struct ls_srv *s;
	const struct feed_host *h;
	struct feed_conn *c;
	int configured; /* configure received */
	struct ls_holdings *holdings; /* the holdings to re-emit after configure */
};

static int
ls_server_new(const struct feed_host *h, void **out)
{
	struct ls_srv *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->h = h;
	*out = s;
	return 0;
}

static void
ls_server_free(void *srv)
{
	struct ls_srv *s = srv;
	if (!s)
		return;
	text_buf_free(&s->limits);
	free(s);
}

static void
ls_scan(void *srv, const struct feed_record *r)
{
	struct ls_srv *s = srv;
	struct feed_str lim;
	if (!s->limits.len && ls_hello_limits(r->payload, r->payload_len, &lim) == 0)
		text_buf_add(&s->limits, lim.p, lim.len);
}

static int
ls_conn_new(void *srv, struct feed_conn *c, void **out)
{
	struct ls_srv *s = srv;
	struct ls_conn *k = calloc(1, sizeof(*k));
	if (!k)
		return ENOMEM;
	k->s = s;
	k->h = s->h;
	k->c = c;
	/* the stream waits for configure */
	s->h->hold(c, 1);
	*out = k;
	return 0;
}

static void
ls_conn_free(void *conn)
{
	struct ls_conn *k = conn;
	if (!k)
		return;
	ls_holdings_free(k->holdings);
	free(k);
}

static void
ls_unauthorized(void *conn, struct text_buf *b)
{
	ls_msg_error(b, "unauthorized", "Invalid API key");
}

/* The server's own messages are not replayed: hello_ok and pong answer the client. */
static int
ls_frame(void *conn, const struct feed_record *r, struct feed_frame *out)
{
	struct feed_msg m;
	if (r->kind != FEED_REC_TEXT)
		return 0;
	feed_classify(&feed_lasersell, r->payload, r->payload_len, &m);
	if (feed_str_eq(m.type, "hello_ok") || feed_str_eq(m.type, "pong"))
		return 0;
	memset(out, 0, sizeof(*out));
	out->p = r->payload;
	out->n = r->payload_len;
	out->tag = -1;
	out->wall_ns = r->wall_ns;
	out->recno = r->recno;
	return 1;
}

/* What the recording says at the point where the client's stream begins (record 'until';
 * UINT64_MAX: the end). The holdings that a LaserSell server re-emits after configure
 * (balance_update, position_opened) to a client that joins after the start (--mode live,
 * --from, a resumed session), kept until configure. And the session_id in effect there,
 * for hello_ok: that of the last recorded message before the point that carries one (else
 * of the first after it), which is what the recorded messages that follow carry. One pass
 * over the journal up to that point: a LaserSell recording is small, and this happens once
 * per connection. Returns the session_id, or -1 when the recording holds none. */
static int64_t
recorded_state(struct ls_conn *k, uint64_t until)
{
	const struct feed_host *h = k->h;
	struct feed_reader *rd;
	struct feed_record r;
	int64_t sid = -1, v;

	if (until > 1)
		k->holdings = ls_holdings_new();
	if (h->reader_open(h->ud, &rd) != 0)
		return -1;
	while (h->reader_next(rd, &r) == 0 && r.wall_ns < h->to_wall) {
		if (r.dir != FEED_REC_IN || r.kind != FEED_REC_TEXT)
			continue;
		int has = ls_session_id(r.payload, r.payload_len, &v) == 0;
		if (r.recno >= until) {
			if (has && sid < 0)
				sid = v;
			if (sid >= 0)
				break;
			continue;
		}
		if (has)
			sid = v;
		if (k->holdings)
			ls_holdings_add(k->holdings, r.payload, r.payload_len);
	}
	h->reader_close(rd);
	if (k->holdings && ls_holdings_count(k->holdings))
		log_info("replay: client %u: re-emitting %zu holdings as recorded before record %llu",
			 h->client_id(k->c), ls_holdings_count(k->holdings), (unsigned long long)until);
	return sid;
}

/* The session of the client's API key, found again or new; NULL without a key. */
static int
key_session(struct ls_conn *k, struct feed_session **out)
{
	const struct feed_host *h = k->h;
	char key[256], id[48];

	*out = NULL;
	if (h->header(k->c, "x-api-key:", key, sizeof(key)) != 0 || !key[0])
		return 0;
	/* the id names the key without showing it: it is a secret */
	snprintf(id, sizeof(id), "key-%016llx", (unsigned long long)feed_hash(key, strlen(key)));
	if ((*out = h->session_find(h->ud, id))) {
		h->session_take_over(*out, k->c);
		return 0;
	}
	return (*out = h->session_new(k->c, id)) ? 0 : -1;
}

static int
ls_on_connect(void *conn)
{
	struct ls_conn *k = conn;
	const struct feed_host *h = k->h;
	struct feed_session *fs = NULL;
	struct text_buf b = { 0 };
	uint64_t next = UINT64_MAX;

	if (h->live) {
		h->timeline_start(k->c, FEED_TL_LIVE);
	} else {
		if (key_session(k, &fs) != 0)
			return -1;
		h->timeline_start(k->c, fs && h->session_next_recno(fs) ? FEED_TL_RESUME : FEED_TL_FRESH);
	}
	int more = h->peek(k->c, &next);
	if (more < 0)
		return -1;
	int resumed = fs && h->session_next_recno(fs);
	if (resumed && !more)
		h->quiet_end(k->c); /* its timeline has ended: nothing more, and no close */
	int64_t sid = recorded_state(k, more ? next : UINT64_MAX), at = h->resume_wall(k->c);
	ls_msg_hello_ok(&b, sid >= 0 ? sid : (int64_t)h->client_id(k->c), (at ? at : h->t0_wall) / 1000000,
			k->s->limits.p, k->s->limits.len);
	h->send(k->c, b.p, b.len);
	text_buf_free(&b);
	if (resumed)
		log_info("replay: client %u resumes session %s %s%llu", h->client_id(k->c), h->session_id(fs),
			 more ? "at record " : "after its end, record ",
			 (unsigned long long)(more ? next : h->session_next_recno(fs)));
	return 0;
}

static int
emit_holding(const uint8_t *p, size_t n, void *ud)
{
	struct ls_conn *k = ud;
	k->h->send(k->c, p, n);
	return 0;
}

static void
configure(struct ls_conn *k)
{
	if (k->configured)
		return;
	k->configured = 1;
	if (k->holdings) {
		ls_holdings_foreach(k->holdings, emit_holding, k);
		ls_holdings_free(k->holdings);
		k->holdings = NULL;
	}
	k->h->hold(k->c, 0);
	/* the stream starts with the session: its timeline plays from configure on, a
	 * resumed one from where it stood */
	if (!k->h->live)
		k->h->restart_clock(k->c);
}

static void
ls_on_message(void *conn, const uint8_t *p, size_t n)
{
	struct ls_conn *k = conn;
	struct ls_client_msg m;
	struct text_buf b = { 0 };

	ls_client_parse(p, n, &m);
	switch (m.kind) {
	case LS_C_CONFIGURE: configure(k); break;
	case LS_C_PING:
		ls_msg_pong(&b, k->h->clock_wall(k->c) / 1000000);
		k->h->send(k->c, b.p, b.len);
		break;
	case LS_C_BAD:
		ls_msg_error(&b, "bad_request", "message is not a JSON object with a type");
		k->h->send(k->c, b.p, b.len);
		break;
	default:
		/* requests (close_position, update_strategy, ...) change nothing in a recording;
		 * the log says what the client asked for */
		log_info("replay: client %u sent %.*s", k->h->client_id(k->c), (int)(n > 512 ? 512 : n),
			 (const char *)p);
		break;
	}
	text_buf_free(&b);
}

const struct feed_server_ops lasersell_server_ops = {
	.help = "the LaserSell stream: its hello with the recorded limits and session_id\n"
		"on connect, the stream after configure, pong with server_time_ms to\n"
		"ping; in session mode an x-api-key keeps its timeline for --grace: a\n"
		"reconnect goes on where the last connection stopped, after the holdings\n"
		"(balances, open positions)",
	/* a reconnect gets again what did not reach the client */
	.resume_unsent = 1,
	.server_new = ls_server_new,
	.server_free = ls_server_free,
	.scan = ls_scan,
	.conn_new = ls_conn_new,
	.conn_free = ls_conn_free,
	.unauthorized = ls_unauthorized,
	.on_connect = ls_on_connect,
	.on_message = ls_on_message,
	.frame = ls_frame,
};
