/* internal.h - what the files of jetstream/ share: the connection behind struct js_conn and
 * the one translation of a libnats status into wstape's codes */
#ifndef WSTAPE_JETSTREAM_INTERNAL_H
#define WSTAPE_JETSTREAM_INTERNAL_H

#include <nats/nats.h>
#include <pthread.h>

#include "jetstream/jetstream.h"

struct js_conn {
	natsConnection *nc;
	natsOptions *opts;
	jsCtx *js; /* the plain context (requests); a publisher makes its own */
	uint32_t timeout_ms;
	void (*on_state)(int up, const char *url, void *ud);
	void *ud;
	/* libnats calls on_disconnected from its own thread, also after natsConnection_Close
	 * returns: js_close waits for the closed callback (the last) before freeing this */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int closed, closing;
};

/* A status as a JS_E* code (NATS_OK: 0), with libnats' own text, and the JetStream error
 * code when there is one, written into detail. what: the operation, for the text. */
int js_status(natsStatus s, jsErrCode jerr, const char *what, char *detail, size_t cap);
/* Formats into detail when there is room (detail may be NULL). */
void js_detail(char *detail, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Who publishes a record: what the message of each record carries besides the record. */
struct js_msg_source {
	const char *name; /* subject name */
	const char *recorder; /* recorder id */
	const char *journal_id; /* META journal_id */
	const struct feed *feed; /* NULL: raw (no Wstape-Feed header, ids per recorder) */
};
/* The message of one record (message.c): subject, payload, headers, Nats-Msg-Id. */
int js_message_build(const struct js_msg_source *src, const struct journal_record *rec, natsMsg **out,
		     char *detail, size_t cap);

#endif
