/* internal.h - what the files of jetstream/ share: the connection behind struct js_conn and
 * the one translation of a libnats status into wstape's codes */
#ifndef WSTAPE_JETSTREAM_INTERNAL_H
#define WSTAPE_JETSTREAM_INTERNAL_H

#include <nats/nats.h>

#include "jetstream/jetstream.h"

struct js_conn {
	natsConnection *nc;
	natsOptions *opts;
	jsCtx *js; /* the plain context (requests); a publisher makes its own */
	uint32_t timeout_ms;
	void (*on_state)(int up, const char *url, void *ud);
	void *ud;
};

/* A status as a JS_E* code (NATS_OK: 0), with libnats' own text, and the JetStream error
 * code when there is one, written into detail. what: the operation, for the text. */
int js_status(natsStatus s, jsErrCode jerr, const char *what, char *detail, size_t cap);
/* Formats into detail when there is room (detail may be NULL). */
void js_detail(char *detail, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
