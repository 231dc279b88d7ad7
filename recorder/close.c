/* close.c - the closing handshake (our close frame, the server's) and the close event */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

/* Who closed the connection and with which code. */
static const char *
closed_by(struct rec *r, int *code)
{
	if (r->close_sent) {
		/* our close: was it written, and did the server answer it? */
		*code = r->close_code;
		return "client";
	}
	if (r->close_by_server) {
		*code = r->close_code;
		return "server";
	}
	if (r->proto_error[0]) {
		/* lws failed the connection for what the server sent (without a close frame) */
		char what[200];
		snprintf(what, sizeof(what), "protocol violation by the server: %s", r->proto_error);
		log_warn("connection %u: %s", r->conn, what);
		rec_journal_error(r, what, "protocol", 0);
		snprintf(r->close_reason, sizeof(r->close_reason), "%s", what);
		*code = 1002;
		return "client";
	}
	*code = 1006;
	return "network";
}

/* The close event: code, reason, by whom, and for our own close whether it went out and
 * was answered. */
static void
journal_close_event(struct rec *r, const char *by, int code)
{
	struct text_buf b = { 0 };
	size_t rl = strlen(r->close_reason);

	text_buf_addf(&b, "{\"code\":%d,\"reason\":", code);
	text_json_string(&b, r->close_reason, text_utf8_valid((const uint8_t *)r->close_reason, rl) ? rl : 0);
	text_buf_addf(&b, ",\"by\":\"%s\"", by);
	if (!r->close_sent && !r->close_by_server && r->proto_error[0])
		text_buf_adds(&b, ",\"sent\":false");
	if (r->close_sent && r->stopping == 1) {
		text_buf_addf(&b, ",\"sent\":%s,\"answered\":%s", r->close_written ? "true" : "false",
			      r->close_answered ? "true" : "false");
		if (r->close_answered)
			text_buf_addf(&b, ",\"server_code\":%d", r->server_close_code);
	}
	text_buf_adds(&b, "}");
	rec_jevent(r, JOURNAL_CLOSE, &b);
	text_buf_free(&b);
	if (r->close_sent && r->stopping == 1)
		log_info("connection %u closed by client (code %d): close frame %s, %s", r->conn, code,
			 r->close_written ? "sent" : "not sent (the socket never became writable)",
			 r->close_answered ? "answered by the server" : "not answered by the server");
	else
		log_info("connection %u closed by %s (code %d%s%s)", r->conn, by, code,
			 r->proto_error[0] ? ": " : "", r->proto_error);
}

void
rec_connection_closed(struct rec *r)
{
	const char *by;
	int code, session, hs;

	if (r->attempt_done)
		return;
	r->attempt_done = 1;
	r->wsi = NULL;
	rec_drop_queue(r);
	by = closed_by(r, &code);
	journal_close_event(r, by, code);
	r->established = 0;
	r->st.connected = 0;
	r->down_since = rec_now_ns(CLOCK_MONOTONIC);
	/* What makes a session, after which the backoff starts again from its first step: a
	 * feed with a handshake, its completion (an SDK's "reset after a session"); the
	 * others, a connection that held STABLE_NS, so that a server that accepts and closes at
	 * once is not hammered every 100 ms. Anything else was one more failed attempt. */
	hs = feed_client_handshake(r->fc);
	session = hs == FEED_CLIENT_NO_HANDSHAKE ? r->down_since - r->open_mono >= STABLE_NS
						 : hs == FEED_CLIENT_HANDSHAKE_DONE;
	feed_client_on_close(r->fc, 1);
	r->rx.len = 0;
	if (r->stopping == 1) {
		r->done = 1;
		return;
	}
	if (r->o->exit_on_close && r->close_by_server && code == 1000) {
		log_info("the server closed with 1000: stopping (--exit-on-close)");
		r->done = 1;
		return;
	}
	if (session) {
		r->streak = 0;
		r->failures = 0;
	}
	rec_schedule_retry(r, !session);
}

int
rec_peer_close(struct rec *r, const unsigned char *in, size_t len)
{
	int code = len >= 2 ? in[0] << 8 | in[1] : 1005;

	if (r->close_written) {
		/* the answer to our close: the closing handshake is complete, and lws must not
		 * send a second close frame */
		r->close_answered = 1;
		r->server_close_code = code;
		return -1;
	}
	r->close_by_server = 1;
	r->close_code = code;
	if (len >= 2) {
		size_t rl = len - 2 < sizeof(r->close_reason) - 1 ? len - 2 : sizeof(r->close_reason) - 1;
		memcpy(r->close_reason, in + 2, rl);
		r->close_reason[rl] = '\0';
	}
	return 0;
}

int
rec_write_close(struct rec *r, struct lws *wsi)
{
	/* The close frame is written here rather than left to lws (lws_close_reason and -1),
	 * which would need one more WRITEABLE to send it: under a flood of incoming frames
	 * that one may not come before the grace ends, and the server would never see the
	 * close. */
	static const char bye[] = "wstape record stopped", hs[] = "handshake timeout";
	const char *why = r->stopping == 2 ? hs : bye;
	unsigned char frame[LWS_PRE + 2 + sizeof(bye)];
	size_t n = strlen(why);

	if (r->close_written)
		return 0; /* waiting for the server's answer */
	frame[LWS_PRE] = LWS_CLOSE_STATUS_NORMAL >> 8;
	frame[LWS_PRE + 1] = LWS_CLOSE_STATUS_NORMAL & 0xff;
	memcpy(frame + LWS_PRE + 2, why, n);
	r->close_sent = 1;
	r->close_code = 1000;
	snprintf(r->close_reason, sizeof(r->close_reason), "%s", why);
	if (rec_send_frame(r, wsi, WS_OP_CLOSE, frame + LWS_PRE, n + 2))
		return -1;
	r->close_written = 1;
	if (r->stopping == 2) {
		r->stopping = 0; /* this connection only: on to the next attempt */
		return -1;
	}
	/* give the server up to STOP_GRACE_NS to answer */
	r->stop_deadline = rec_now_ns(CLOCK_MONOTONIC) + STOP_GRACE_NS;
	return 0;
}
