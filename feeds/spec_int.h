/* spec_int.h - what the files of a feed declared as data share (not a public header)
 *
 * spec.c loads and checks a spec into struct spec; spec_ptr.c evaluates its JSON pointers
 * on a payload's text (allocation-free, feeds/json_scan.h) and classifies; spec_client.c,
 * spec_server.c and spec_inspect.c are its three halves, reading the spec.
 */
#ifndef WSTAPE_SPEC_INT_H
#define WSTAPE_SPEC_INT_H

#include <jansson.h>
#include <stdint.h>

#include "feeds/feed.h"
#include "feeds/feed_client.h"
#include "feeds/feed_inspect.h"
#include "feeds/feed_server.h"
#include "feeds/spec.h"

/* Pointers in a list ("channel", "key", a subscribe's "channel"). */
#define SPEC_MAX_PTRS 8

/* An RFC 6901 JSON pointer, its tokens decoded (~1 is '/', ~0 is '~'). ntok 0: the whole
 * value. */
struct spec_ptr {
	int set;
	int ntok;
	char **tok;
	size_t *len;
};

/* {"/op": "subscribe"}: the value at each pointer equals the JSON value. */
struct spec_match {
	struct spec_ptr ptr;
	json_t *value;
};

/* A message to send or to recognise. */
enum spec_value_kind {
	SPEC_V_NONE = 0,
	SPEC_V_TEXT, /* a string: sent as it is; a message is it when its bytes are these */
	SPEC_V_JSON, /* another JSON value: sent as compact text; recognised by value */
	SPEC_V_MATCH, /* a match object: recognised, never sent */
};
struct spec_value {
	int kind;
	char *text; /* TEXT, JSON: the bytes to send */
	size_t len;
	json_t *json; /* JSON: the value */
	struct spec_match *m; /* MATCH */
	int nm;
};

enum spec_seq_rule { SPEC_SEQ_NONE = 0, SPEC_SEQ_CONSECUTIVE, SPEC_SEQ_LINK, SPEC_SEQ_RANGE };
enum spec_ping_from { SPEC_PING_NONE = 0, SPEC_PING_CLIENT, SPEC_PING_SERVER };

struct spec {
	struct feed feed; /* first: the feed's handle is &spec->feed */
	char *name; /* "spec:NAME" */
	char *compact; /* the spec, compact JSON */
	struct spec_ptr type, cursor, events, data;
	int nchannel, nkey;
	struct spec_ptr channel[SPEC_MAX_PTRS], key[SPEC_MAX_PTRS];
	/* the sequence rule */
	int seq_rule;
	struct spec_ptr seq, prev, first, last;
	int has_reset, per_conn;
	int64_t reset;
	/* send after each open */
	struct spec_value *send;
	int nsend;
	/* a client's subscribe */
	int has_sub, nsub_match, nsub_ch;
	struct spec_match *sub_match;
	struct spec_ptr sub_list;
	struct spec_ptr sub_ch[SPEC_MAX_PTRS];
	/* the ping */
	int ping_from;
	uint32_t ping_every_ms;
	struct spec_value ping_msg, ping_answer;
	/* the halves, copies of the generic ones with the spec's facts */
	struct feed_client_ops client;
	struct feed_server_ops server;
	struct feed_inspect_ops inspect;
};

static inline const struct spec *
spec_of(const struct feed *feed)
{
	return (const struct spec *)feed;
}

/* ---- spec_ptr.c ---- */

/* The value at ptr in the JSON text p[0..n) (one value, whitespace around it allowed):
 * 1 and *v (its text; strings with their quotes), 0 when absent, -1 when the text walked is
 * malformed. */
int spec_ptr_eval(const struct spec_ptr *ptr, const char *p, size_t n, struct feed_str *v);
/* The value at ptr as a scalar: a string's contents (escapes as in the payload), a number's
 * or literal's text; 0 and no value for objects, arrays and absent values. */
int spec_ptr_scalar(const struct spec_ptr *ptr, const char *p, size_t n, struct feed_str *v);
/* The integer at ptr (a number, or a string holding one): 1 and *x, else 0. */
int spec_ptr_int(const struct spec_ptr *ptr, const char *p, size_t n, int64_t *x);
/* 1 when every match holds on the JSON text p[0..n). */
int spec_match_all(const struct spec_match *m, int nm, const char *p, size_t n);
/* 1 when the message p[0..n) is the value v (TEXT: the same bytes; JSON: an equal value;
 * MATCH: its matches hold). */
int spec_value_is(const struct spec_value *v, const char *p, size_t n);
/* The channel of a value by a list of pointers, their scalars joined with ':' into buf (a
 * single pointer: a slice of p). 1 and *out, 0 when one is absent or it does not fit. */
int spec_channel_of(const struct spec_ptr *ptrs, int nptrs, const char *p, size_t n, char *buf, size_t cap,
		    struct feed_str *out);

/* struct feed's classify_payload and events_foreach of every spec */
void spec_classify(const struct feed *feed, const char *p, size_t n, struct feed_msg *m);
int spec_events_foreach(const struct feed *feed, const struct feed_msg *msg,
			int (*fn)(const struct feed_event *ev, void *ud), void *ud);

/* ---- the halves' templates (spec_client.c, spec_server.c, spec_inspect.c): the loader
 * copies them into the spec and sets what depends on it ---- */
extern const struct feed_client_ops spec_client_ops;
extern const struct feed_server_ops spec_server_ops;
extern const struct feed_inspect_ops spec_inspect_ops;
void spec_server_setup(struct spec *s);

#endif
