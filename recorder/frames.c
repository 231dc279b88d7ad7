/* frames.c - messages: the send queue, reassembly of fragments, and what a received message
 * means (the feed client's answer) */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

void
rec_queue_msg(struct rec *r, int kind, const void *p, size_t n)
{
	struct out_msg *m = malloc(sizeof(*m) + LWS_PRE + n);

	if (!m) {
		log_error("out of memory queueing a %zu-byte message", n);
		return;
	}
	m->next = NULL;
	m->kind = kind;
	m->len = n;
	if (n)
		memcpy(m->buf + LWS_PRE, p, n);
	if (r->out_tail)
		r->out_tail->next = m;
	else
		r->out_head = m;
	r->out_tail = m;
	if (r->wsi)
		lws_callback_on_writable(r->wsi);
}

void
rec_feed_send(void *ud, const void *p, size_t n)
{
	rec_queue_msg(ud, JOURNAL_TEXT, p, n);
}

void
rec_drop_queue(struct rec *r)
{
	while (r->out_head) {
		struct out_msg *m = r->out_head;
		r->out_head = m->next;
		free(m);
	}
	r->out_tail = NULL;
}

int
rec_write_one(struct rec *r, struct lws *wsi)
{
	struct out_msg *m = r->out_head;
	struct feed_msg fm;
	int n;

	if (!m)
		return 0;
	/* journal first: lws_write masks a client's payload in place */
	if (m->kind == JOURNAL_TEXT)
		rec_classify(r, m->buf + LWS_PRE, m->len, &fm);
	rec_jappend(r, JOURNAL_OUT, m->kind, m->kind == JOURNAL_TEXT ? &fm : NULL, m->buf + LWS_PRE, m->len);
	n = rec_send_frame(r, wsi, m->kind == JOURNAL_PING ? WS_OP_PING : WS_OP_TEXT, m->buf + LWS_PRE,
			   m->len);
	if (n) {
		log_warn("write of %zu bytes failed on connection %u", m->len, r->conn);
		return -1;
	}
	r->st.frames_out++;
	r->st.bytes_out += m->len;
	r->out_head = m->next;
	if (!r->out_head)
		r->out_tail = NULL;
	free(m);
	if (r->out_head)
		lws_callback_on_writable(wsi);
	return 0;
}

static void
deliver(struct rec *r, const void *p, size_t n, int binary)
{
	struct feed_msg m;
	int flags;

	r->st.frames_in++;
	r->st.bytes_in += n;
	if (binary) {
		rec_jappend(r, JOURNAL_IN, JOURNAL_BINARY, NULL, p, n);
		return;
	}
	rec_classify(r, p, n, &m);
	if (m.cls == FEED_MSG_NOT_JSON)
		r->st.not_json++;
	if (rec_jappend(r, JOURNAL_IN, JOURNAL_TEXT, &m, p, n))
		return;
	if (!r->utf8_warned && !text_utf8_valid(p, n)) {
		/* RFC 6455 would fail the connection (1007); a recorder keeps what came, as it
		 * came, and says once per connection that the server sends such text */
		r->utf8_warned = 1;
		log_warn("connection %u: a text message is not valid UTF-8 (journaled as received)", r->conn);
		rec_journal_error(r,
				  "protocol violation by the server: a text message that is not UTF-8 "
				  "(journaled as received; the first of this connection)",
				  "protocol", 0);
	}
	if (m.cursor.len) {
		size_t cl = m.cursor.len < sizeof(r->st.last_cursor) - 1 ? m.cursor.len
									 : sizeof(r->st.last_cursor) - 1;
		memcpy(r->st.last_cursor, m.cursor.p, cl);
		r->st.last_cursor[cl] = '\0';
	}
	if (feed_client_opaque(r->fc))
		return;
	char lost[FEED_CLIENT_MAX_SESSION + 1];
	snprintf(lost, sizeof(lost), "%s", feed_client_session(r->fc));
	flags = feed_client_on_message(r->fc, &m, rec_feed_send, r);
	if (flags)
		rec_session_flags(r, flags, lost);
}

int
rec_send_frame(struct rec *r, struct lws *wsi, int opcode, unsigned char *p, size_t n)
{
	enum lws_write_protocol wp = opcode == WS_OP_PING ? LWS_WRITE_PING
		: opcode == WS_OP_CLOSE                   ? WS_WRITE_CLOSE
							  : LWS_WRITE_TEXT;

	if (r->engine == RECORDER_ENGINE_WSTAPE)
		return rec_ws_write(r, wsi, opcode, p, n);
	return lws_write(wsi, p, n, wp) < (int)n ? -1 : 0;
}

void
rec_receive(struct rec *r, const void *in, size_t len, int first, int final, int binary)
{
	uint64_t max = r->o->max_message ? r->o->max_message : DEFAULT_MAX_MESSAGE;

	if (first && final && !r->rx.len) {
		deliver(r, in, len, binary);
		return;
	}
	if (first && !r->rx.len) {
		r->rx_binary = binary;
		r->rx_oversize = 0;
	}
	if (!r->rx_oversize) {
		if (r->rx.len + len > max) {
			char msg[128];
			snprintf(msg, sizeof(msg), "message larger than %llu bytes dropped",
				 (unsigned long long)max);
			log_warn("connection %u: %s", r->conn, msg);
			rec_journal_error(r, msg, "protocol", 0);
			r->rx_oversize = 1;
			r->rx.len = 0;
		} else {
			text_buf_add(&r->rx, in, len);
		}
	}
	if (final) {
		if (!r->rx_oversize)
			deliver(r, r->rx.p, r->rx.len, r->rx_binary);
		r->rx.len = 0;
		r->rx_oversize = 0;
		/* do not keep a 64 MiB buffer for the rest of the run */
		if (r->rx.cap > (8u << 20)) {
			text_buf_free(&r->rx);
			memset(&r->rx, 0, sizeof(r->rx));
		}
	}
}
