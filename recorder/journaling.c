/* journaling.c - what the recorder journals: records, error and connection events, the
 * session id in the metadata */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/text.h"

/* META holds no byte below 0x20: the session id, any string the server chose, is stored with
 * those bytes, DEL and '%' percent-encoded (%XX), and decoded when it is read back. A '%' not
 * followed by two hex digits is taken as it is (a journal written before the encoding). */
void
rec_meta_escape(char *dst, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *src; src++) {
		unsigned char ch = (unsigned char)*src;
		if (ch < 0x20 || ch == 0x7f || ch == '%') {
			*dst++ = '%';
			*dst++ = hex[ch >> 4];
			*dst++ = hex[ch & 15];
		} else
			*dst++ = (char)ch;
	}
	*dst = 0;
}

void
rec_meta_unescape(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	while (*src && n + 1 < size) {
		int hi, lo;
		if (src[0] == '%' && (hi = text_hex_value(src[1])) >= 0 &&
		    (lo = text_hex_value(src[2])) >= 0 && (hi || lo)) {
			dst[n++] = (char)(hi << 4 | lo);
			src += 3;
		} else
			dst[n++] = *src++;
	}
	if (size)
		dst[n] = 0;
}

int
rec_jappend(struct rec *r, int dir, int kind, const struct feed_msg *m, const void *p, size_t n)
{
	struct journal_record rec = { 0 };
	int err;

	if (r->result)
		return r->result;
	rec.wall_ns = rec_now_ns(CLOCK_REALTIME);
	rec.mono_ns = rec_now_ns(CLOCK_MONOTONIC);
	rec.conn = r->conn;
	rec.dir = (uint8_t)dir;
	rec.kind = (uint8_t)kind;
	if (m && m->channel.len && m->channel.len <= JOURNAL_MAX_CHANNEL) {
		rec.channel = m->channel.p;
		rec.channel_len = (uint16_t)m->channel.len;
	}
	if (m && m->cursor.len && m->cursor.len <= JOURNAL_MAX_CURSOR) {
		rec.cursor = (const uint8_t *)m->cursor.p;
		rec.cursor_len = (uint16_t)m->cursor.len;
	}
	rec.payload = p;
	rec.payload_len = n;
	if ((err = journal_append(r->j, &rec))) {
		log_error("journal append failed: %s", journal_strerror(err));
		r->st.journal_err = err;
		r->result = RECORDER_EJOURNAL;
		r->done = 1;
		lws_cancel_service(r->ctx);
		return r->result;
	}
	r->st.records++;
	if (r->m)
		rec_metrics_record(r, &rec);
	if (r->o->max_records && r->st.records >= r->o->max_records && !r->stopping) {
		r->stopping = 1;
		r->stop_deadline = rec_now_ns(CLOCK_MONOTONIC) + STOP_GRACE_NS;
		if (r->wsi && r->established)
			lws_callback_on_writable(r->wsi);
		else
			r->done = 1;
	}
	return 0;
}

/* A connection event: kind open/close/error with a small JSON payload. */
void
rec_jevent(struct rec *r, int kind, struct text_buf *b)
{
	rec_jappend(r, JOURNAL_IN, kind, NULL, b->p, b->len);
}

/* extra: more JSON members (",\"k\":v..."), or NULL */
void
rec_journal_error_ex(struct rec *r, const char *error, const char *phase, int status, const char *extra)
{
	struct text_buf b = { 0 };

	text_buf_adds(&b, "{\"error\":");
	text_json_string(&b, error, strlen(error));
	text_buf_addf(&b, ",\"phase\":\"%s\",\"attempt\":%u", phase, r->streak ? r->streak : 1);
	if (status)
		text_buf_addf(&b, ",\"status\":%d", status);
	if (extra)
		text_buf_adds(&b, extra);
	text_buf_adds(&b, "}");
	rec_jevent(r, JOURNAL_ERROR, &b);
	text_buf_free(&b);
	snprintf(r->st.last_error, sizeof(r->st.last_error), "%s: %s", phase, error);
}

void
rec_journal_error(struct rec *r, const char *error, const char *phase, int status)
{
	rec_journal_error_ex(r, error, phase, status, NULL);
}

void
rec_classify(struct rec *r, const void *p, size_t n, struct feed_msg *m)
{
	if (feed_client_opaque(r->fc)) {
		memset(m, 0, sizeof(*m));
		return;
	}
	feed_classify(r->feed, p, n, m);
}

void
rec_session_flags(struct rec *r, int flags, const char *lost)
{
	if ((flags & FEED_CLIENT_SESSION) && lost[0] && !feed_client_session(r->fc)[0]) {
		/* journaled, so that the journal says why the next connection is a new session */
		struct text_buf b = { 0 };
		text_buf_adds(&b, "{\"event\":\"session_lost\",\"session_id\":");
		text_json_string(&b, lost, strlen(lost));
		text_buf_adds(
			&b,
			",\"why\":\"the server does not know the session\",\"next\":\"a new session, subscribed again\"}");
		rec_jevent(r, JOURNAL_ERROR, &b);
		text_buf_free(&b);
	}
	if (flags & FEED_CLIENT_SESSION) {
		char esc[3 * FEED_CLIENT_MAX_SESSION + 1];
		rec_meta_escape(esc, feed_client_session(r->fc));
		int err = journal_meta_set(r->j, "session_id", esc);
		if (err)
			log_warn("cannot store the session id in the journal: %s", journal_strerror(err));
		if (flags & FEED_CLIENT_BAD_SESSION) {
			log_warn(
				"connection %u: the server's session id is not a usable JSON string (not "
				"valid Unicode, a NUL, or over 256 bytes); the next connection creates a new session",
				r->conn);
			rec_journal_error(
				r,
				"the server's session id is not a usable JSON string (not valid Unicode, "
				"a NUL, or over 256 bytes): not resumable",
				"protocol", 0);
		} else if (!feed_client_session(r->fc)[0])
			log_info("connection %u: the server does not know the session; the next "
				 "connection creates a new one and subscribes again",
				 r->conn);
	}
	if ((flags & FEED_CLIENT_REFUSED) && !r->refused) {
		r->refused = 1;
		snprintf(r->st.refusal, sizeof(r->st.refusal), "%s", feed_client_refusal(r->fc));
		log_error("%s refused the credentials: \"%s\"", r->url_redacted, r->st.refusal);
		rec_begin_stop(r);
	}
}
