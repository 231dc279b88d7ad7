/* rawws.c - the recorder's own WebSocket client (--ws-engine wstape): libwebsockets opens
 * a raw TCP connection, and TLS for wss:// (ws_tls.c, OpenSSL over memory BIOs), the
 * upgrade (ws_upgrade.c), the framing (ws_frame.c, whole blocks at a time) and
 * permessage-deflate (ws_deflate.c) are done here
 *
 * What a message means, the close handshake's bookkeeping and the journal are the same as
 * with libwebsockets' own client (frames.c, close.c): only the wire is handled here.
 */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "recorder/ws_deflate.h"
#include "recorder/ws_frame.h"
#include "recorder/ws_tls.h"
#include "recorder/ws_upgrade.h"
#include "util/log.h"

/* wss://: the plaintext of what one RAW_RX brought, parsed a block at a time */
#define TLS_PLAIN_CAP (256u << 10)

struct rec_ws {
	char key[WS_KEY_LEN + 1];
	struct text_buf req; /* the upgrade request, until written */
	struct text_buf head; /* the response's head, until complete */
	int upgraded;
	struct ws_parser parser;
	int deflate;
	struct ws_inflater inf;
	struct text_buf zmsg; /* a compressed message, inflated */
	int zmsg_over;
	uint8_t pong[125]; /* the payload of the last ping, to answer */
	size_t pong_len;
	int pong_due;
	int echo_due; /* the server's close is to be answered */
	uint8_t echo[2];
	size_t echo_len;
	int closing; /* close the connection once what is due is out (TLS: our close_notify) */
	uint8_t *wbuf; /* LWS_PRE + a frame */
	size_t wcap;
	uint8_t mask_pool[256]; /* masking keys, taken 4 at a time */
	size_t mask_used;
	struct ws_tls *tls; /* wss:// */
	int tls_up; /* its handshake is done */
	int bye; /* our close_notify goes with the next write */
	uint8_t *plain; /* TLS_PLAIN_CAP bytes */
};

enum { STOP_CLOSE = 1, STOP_FAIL = 2 };

static void
ws_reset(struct rec_ws *w)
{
	text_buf_free(&w->req);
	text_buf_free(&w->head);
	text_buf_free(&w->zmsg);
	ws_inflater_free(&w->inf);
	free(w->wbuf);
	ws_tls_free(w->tls);
	free(w->plain);
	memset(w, 0, sizeof(*w));
	w->mask_used = sizeof(w->mask_pool);
}

void
rec_ws_free(struct rec *r)
{
	if (r->ws) {
		ws_reset(r->ws);
		free(r->ws);
		r->ws = NULL;
	}
	ws_tls_config_free(r->tls_cfg);
	r->tls_cfg = NULL;
}

/* The upgrade request of this attempt (headers: as with lws, none of the secret ones to
 * another origin). Returns 0 or an errno value. */
static int
build_request(struct rec *r, struct rec_ws *w, const char *host, int port, const char *path)
{
	const char **names = calloc((size_t)r->nheaders + 1, sizeof(*names));
	const char **values = calloc((size_t)r->nheaders + 1, sizeof(*values));
	struct ws_upgrade_request q = { .host = host,
					.port = port,
					.tls = r->tls,
					.path = path,
					.key = w->key,
					.deflate = !r->o->no_deflate,
					.names = names,
					.values = values };
	int err = ENOMEM;

	if (names && values && !(err = ws_upgrade_key(w->key))) {
		for (int i = 0; i < r->nheaders; i++)
			if (!(r->cross_origin && r->headers[i].secret)) {
				names[q.nheaders] = r->headers[i].name;
				values[q.nheaders++] = r->headers[i].value;
			}
		err = ws_upgrade_request(&q, &w->req);
	}
	free(names);
	free(values);
	return err;
}

int
rec_ws_begin(struct rec *r, const char *host, int port, const char *path)
{
	if (!r->ws && !(r->ws = calloc(1, sizeof(*r->ws))))
		return ENOMEM;
	ws_reset(r->ws);
	return build_request(r, r->ws, host, port, path);
}

int
rec_ws_tls_begin(struct rec *r, const char *host)
{
	struct rec_ws *w = r->ws;
	char why[300];
	int err;

	/* the recording's TLS configuration, made at its first wss:// attempt; one that
	 * cannot be made fails every attempt the same way */
	if (!r->tls_cfg && !r->tls_cfg_why[0] &&
	    ws_tls_config_new(r->o->ca_file, r->o->insecure, &r->tls_cfg, r->tls_cfg_why,
			      sizeof(r->tls_cfg_why)) &&
	    !r->tls_cfg_why[0])
		snprintf(r->tls_cfg_why, sizeof(r->tls_cfg_why), "cannot set up TLS");
	if (!r->tls_cfg) {
		rec_attempt_failed_in(r, r->tls_cfg_why, 0, "tls");
		return -1;
	}
	if ((err = ws_tls_new(r->tls_cfg, host, &w->tls)) || !(w->plain = malloc(TLS_PLAIN_CAP))) {
		snprintf(why, sizeof(why), "cannot start TLS to '%s': %s", host,
			 strerror(err ? err : ENOMEM));
		rec_attempt_failed_in(r, why, 0, "tls");
		return -1;
	}
	return 0;
}

/* What TLS has to send, at once (one lws_write: libwebsockets keeps what the socket does
 * not take). Returns 0 or -1. */
static int
tls_flush(struct rec_ws *w, struct lws *wsi)
{
	const uint8_t *p;
	size_t n;

	if (w->bye)
		ws_tls_shutdown(w->tls);
	if (!(n = ws_tls_out(w->tls, &p)))
		return 0;
	if (lws_write(wsi, (unsigned char *)p, n, LWS_WRITE_RAW) < (int)n)
		return -1;
	ws_tls_out_taken(w->tls, n);
	return 0;
}

/* Bytes of the WebSocket connection p[0..n) to the server: straight to the socket, or
 * through TLS. Returns 0 or -1. */
static int
wire_write(struct rec_ws *w, struct lws *wsi, const void *p, size_t n)
{
	if (!w->tls)
		return lws_write(wsi, (unsigned char *)p, n, LWS_WRITE_RAW) < (int)n ? -1 : 0;
	if (ws_tls_write(w->tls, p, n))
		return -1;
	return tls_flush(w, wsi);
}

/* A frame of ours (masked) with payload p[0..n), written at once. Returns 0 or -1. */
int
rec_ws_write(struct rec *r, struct lws *wsi, int opcode, const void *p, size_t n)
{
	struct rec_ws *w = r->ws;
	size_t need = LWS_PRE + WS_FRAME_HEADER_MAX + n, len;

	if (need > w->wcap) {
		uint8_t *b = realloc(w->wbuf, need);
		if (!b)
			return -1;
		w->wbuf = b;
		w->wcap = need;
	}
	if (w->mask_used + 4 > sizeof(w->mask_pool)) {
		if (getrandom(w->mask_pool, sizeof(w->mask_pool), 0) != (ssize_t)sizeof(w->mask_pool))
			return -1;
		w->mask_used = 0;
	}
	len = ws_frame_build(w->wbuf + LWS_PRE, opcode, 1, p, n, w->mask_pool + w->mask_used);
	w->mask_used += 4;
	return wire_write(w, wsi, w->wbuf + LWS_PRE, len);
}

/* The connection is to be failed for what the server sent (RFC 6455 section 7.1.7): said
 * as libwebsockets' client says it, a close 1002 by the client (close.c). */
static int
violation(struct rec *r, int err)
{
	if (!r->proto_error[0])
		snprintf(r->proto_error, sizeof(r->proto_error), "%s", ws_strerror(err));
	return STOP_FAIL;
}

static void
deliver_inflated(struct rec *r, struct rec_ws *w, int binary)
{
	uint64_t max = r->o->max_message ? r->o->max_message : DEFAULT_MAX_MESSAGE;

	if (w->zmsg_over) {
		char msg[128];
		snprintf(msg, sizeof(msg), "message larger than %llu bytes dropped", (unsigned long long)max);
		log_warn("connection %u: %s", r->conn, msg);
		rec_journal_error(r, msg, "protocol", 0);
	} else {
		rec_receive(r, w->zmsg.p ? w->zmsg.p : "", w->zmsg.len, 1, 1, binary);
	}
	w->zmsg.len = 0;
	w->zmsg_over = 0;
	if (w->zmsg.cap > (8u << 20))
		text_buf_free(&w->zmsg);
}

static int
on_control(struct rec *r, struct rec_ws *w, const struct ws_chunk *c)
{
	const uint8_t *reason;
	size_t rl;
	int code, err;

	switch (c->opcode) {
	case WS_OP_PING:
		memcpy(w->pong, c->p, c->n);
		w->pong_len = c->n;
		w->pong_due = 1;
		lws_callback_on_writable(r->wsi);
		return 0;
	case WS_OP_PONG:
		r->st.frames_in++;
		rec_jappend(r, JOURNAL_IN, JOURNAL_PONG, NULL, c->p, c->n);
		return 0;
	default: /* close */
		if ((err = ws_close_parse(c->p, c->n, &code, &reason, &rl)))
			return violation(r, err);
		if (rec_peer_close(r, c->p, c->n))
			return STOP_FAIL; /* the answer to ours: done */
		/* answer with the same code (none for none), then close */
		w->echo_len = c->n ? 2 : 0;
		memcpy(w->echo, c->p, w->echo_len);
		w->echo_due = 1;
		lws_callback_on_writable(r->wsi);
		return STOP_CLOSE;
	}
}

static int
on_chunk(void *ud, const struct ws_chunk *c)
{
	struct rec *r = ud;
	struct rec_ws *w = r->ws;
	uint64_t max;
	int rc;

	if (c->opcode & 8)
		return on_control(r, w, c);
	if (!c->compressed) {
		rec_receive(r, c->p, c->n, c->first, c->last, c->opcode == WS_OP_BINARY);
		return r->done ? STOP_FAIL : 0;
	}
	max = r->o->max_message ? r->o->max_message : DEFAULT_MAX_MESSAGE;
	if (c->first) {
		w->zmsg.len = 0;
		w->zmsg_over = 0;
	}
	rc = ws_inflate(&w->inf, c->p, c->n, c->last, &w->zmsg, (size_t)max + 1);
	if (rc < 0)
		return violation(r, rc);
	if (rc > 0 || w->zmsg.len > max)
		w->zmsg_over = 1;
	if (c->last)
		deliver_inflated(r, w, c->opcode == WS_OP_BINARY);
	return r->done ? STOP_FAIL : 0;
}

/* Frames from the server. Returns the callback's value. */
static int
frames(struct rec *r, const uint8_t *p, size_t n)
{
	int rc = ws_parse(&r->ws->parser, p, n, on_chunk, r);

	if (rc < 0) {
		violation(r, rc);
		log_info("connection %u: %s", r->conn, ws_strerror(rc));
		return -1;
	}
	return rc == STOP_FAIL ? -1 : 0;
}

/* The server's answer to the upgrade, then frames. Returns the callback's value. */
static int
upgrade_rx(struct rec *r, struct rec_ws *w, struct lws *wsi, const void *in, size_t len)
{
	struct ws_upgrade_response resp;
	char why[200];
	int rc;

	text_buf_add(&w->head, in, len);
	if (text_buf_err(&w->head)) {
		rec_attempt_failed(r, "out of memory reading the upgrade's response", 0);
		return -1;
	}
	rc = ws_upgrade_response(w->head.p, w->head.len, w->key, !r->o->no_deflate, &resp);
	if (rc == WS_UPGRADE_MORE)
		return 0;
	if (rc == WS_UPGRADE_BAD) {
		rec_attempt_failed_in(r, resp.why, 0, "http");
		return -1;
	}
	if (rc == WS_UPGRADE_STATUS) {
		if (resp.location && resp.status >= 300 && resp.status < 400) {
			free(r->redir_location);
			r->redir_location = strndup(resp.location, resp.location_len);
		}
		snprintf(why, sizeof(why), "upgrade refused: HTTP %d", resp.status);
		rec_attempt_failed(r, why, resp.status);
		return -1;
	}
	w->upgraded = 1;
	w->deflate = resp.deflate;
	w->parser.rsv1_ok = resp.deflate;
	if (resp.deflate && ws_inflater_init(&w->inf, &resp.params)) {
		rec_attempt_failed(r, "out of memory for permessage-deflate", 0);
		return -1;
	}
	r->attempt_status = 101;
	rec_established(r, wsi);
	if (r->done)
		return -1;
	return frames(r, (const uint8_t *)w->head.p + resp.head_len, w->head.len - resp.head_len);
}

/* WRITEABLE: the request, the answer to the server's close, a pong, our close, or the next
 * message, one at a time. Returns the callback's value. */
static int
writeable(struct rec *r, struct rec_ws *w, struct lws *wsi)
{
	const uint8_t *p;

	if (w->tls && (ws_tls_out(w->tls, &p) || w->closing)) {
		/* what TLS has to say of itself first: its handshake, our close_notify */
		if (tls_flush(w, wsi) || w->closing)
			return -1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (w->tls && !w->tls_up)
		return 0;
	if (!w->upgraded) {
		if (!w->req.len)
			return 0;
		r->hs_sent = 1;
		if (wire_write(w, wsi, w->req.p, w->req.len))
			return -1;
		text_buf_free(&w->req);
		return 0;
	}
	if (w->echo_due) {
		w->echo_due = 0;
		w->bye = 1; /* the closing handshake is complete: TLS's close goes too */
		rec_ws_write(r, wsi, WS_OP_CLOSE, w->echo, w->echo_len);
		return -1;
	}
	if (w->closing)
		return -1;
	if (w->pong_due) {
		w->pong_due = 0;
		if (rec_ws_write(r, wsi, WS_OP_PONG, w->pong, w->pong_len))
			return -1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	if (r->stopping && !r->close_by_server)
		return rec_write_close(r, wsi);
	return rec_write_one(r, wsi) ? -1 : 0;
}

/* Plaintext from the server: the answer to the upgrade, then frames. Returns the
 * callback's value. */
static int
plain_rx(struct rec *r, struct rec_ws *w, struct lws *wsi, const void *in, size_t len)
{
	if (!w->upgraded)
		return upgrade_rx(r, w, wsi, in, len);
	return frames(r, in, len);
}

/* The end of TLS (an alert, a bad record, the server's close_notify): before the upgrade's
 * answer a failed attempt of phase tls, after it a dropped connection. Returns -1. */
static int
tls_ended(struct rec *r, struct rec_ws *w, int rc)
{
	char why[300];

	if (rc == WS_TLS_CLOSED)
		snprintf(why, sizeof(why), "the server ended TLS (close_notify)");
	else
		snprintf(why, sizeof(why), "TLS failed: %s", ws_tls_why(w->tls));
	if (!r->established)
		rec_attempt_failed_in(r, why, 0, "tls");
	else
		log_info("connection %u: %s", r->conn, why);
	return -1;
}

/* The plaintext of what was fed, a large block at a time, to the parsers. Returns the
 * callback's value. */
static int
tls_read(struct rec *r, struct rec_ws *w, struct lws *wsi)
{
	const uint8_t *p;
	size_t got;
	int rc;

	do {
		if (w->echo_due || w->closing)
			return 0; /* after the server's close: nothing more is read */
		rc = ws_tls_read(w->tls, w->plain, TLS_PLAIN_CAP, &got);
		if (got && plain_rx(r, w, wsi, w->plain, got)) {
			if (!r->close_answered)
				return -1;
			/* the answer to our close: TLS's close goes before the socket's */
			w->closing = w->bye = 1;
			lws_callback_on_writable(wsi);
			return 0;
		}
		if (rc != WS_TLS_OK)
			return tls_ended(r, w, rc);
	} while (got == TLS_PLAIN_CAP);
	if (ws_tls_out(w->tls, &p))
		lws_callback_on_writable(wsi);
	return 0;
}

/* The handshake's answer to what was fed; once done, the upgrade request is due. Returns
 * 0 (done, or more to come), or -1 after failing the attempt. */
static int
tls_handshake(struct rec *r, struct rec_ws *w, struct lws *wsi)
{
	const uint8_t *p;
	char why[300];
	int rc = ws_tls_handshake(w->tls);

	if (ws_tls_out(w->tls, &p))
		lws_callback_on_writable(wsi);
	if (rc == WS_TLS_MORE)
		return 0;
	if (rc != WS_TLS_OK) {
		snprintf(why, sizeof(why), "TLS handshake failed: %s", ws_tls_why(w->tls));
		rec_attempt_failed_in(r, why, 0, "tls");
		return -1;
	}
	w->tls_up = 1;
	log_debug("connection %u: %s", r->conn, ws_tls_describe(w->tls, why, sizeof(why)));
	lws_callback_on_writable(wsi);
	return 0;
}

/* RAW_RX on wss://: bytes of TLS. Returns the callback's value. */
static int
tls_rx(struct rec *r, struct rec_ws *w, struct lws *wsi, const void *in, size_t len)
{
	if (ws_tls_feed(w->tls, in, len)) {
		if (!r->established)
			rec_attempt_failed_in(r, "out of memory for TLS", 0, "tls");
		return -1;
	}
	if (!w->tls_up) {
		if (tls_handshake(r, w, wsi))
			return -1;
		if (!w->tls_up)
			return 0;
	}
	return tls_read(r, w, wsi);
}

/* which attempt a call is about: one given up on (connect timeout) may still call */
static int
stale(struct rec *r, struct lws *wsi)
{
	return !r || (uintptr_t)lws_get_opaque_user_data(wsi) != r->conn || r->attempt_done;
}

static int
raw_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct rec *r = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_RAW_CONNECTED:
		if (stale(r, wsi) || !r->ws)
			return -1;
		if (r->ws->tls && tls_handshake(r, r->ws, wsi))
			return -1; /* the ClientHello is due */
		lws_callback_on_writable(wsi);
		break;
	case LWS_CALLBACK_RAW_WRITEABLE:
		if (stale(r, wsi) || !r->ws)
			return -1;
		return writeable(r, r->ws, wsi);
	case LWS_CALLBACK_RAW_RX:
		if (stale(r, wsi) || !r->ws)
			return -1;
		if (r->ws->echo_due || r->ws->closing)
			return 0; /* after the server's close: nothing more is read */
		if (r->ws->tls)
			return tls_rx(r, r->ws, wsi, in, len);
		return plain_rx(r, r->ws, wsi, in, len);
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		if (stale(r, wsi))
			return 0;
		{
			char why[200];
			snprintf(why, sizeof(why), "%.*s", in ? (int)len : 0, in ? (const char *)in : "");
			rec_attempt_failed(r, why[0] ? why : "connection failed", 0);
		}
		break;
	case LWS_CALLBACK_RAW_CLOSE:
		if (stale(r, wsi))
			return 0;
		if (r->established)
			rec_connection_closed(r);
		else
			rec_attempt_failed_in(
				r, "the server closed the connection before the upgrade was answered", 0,
				r->hs_sent || !r->tls ? "http" : "tls");
		break;
	case LWS_CALLBACK_WSI_DESTROY: rec_wsi_destroyed(r, wsi); break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (rec_stop_requested && r)
			rec_begin_stop(r);
		break;
	default: break;
	}
	return 0;
}

int
rec_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	return raw_callback(wsi, reason, user, in, len);
}
