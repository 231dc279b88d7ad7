/* feed.h - what wstape knows about each protocol, shared by record, replay and inspect
 *
 * One file per feed (feeds/raw.c, feeds/hydromancer.c, feeds/lasersell.c) holds the
 * classification of frames: message type, channel, cursor, seq, replay chunk fields,
 * and the events inside a message with their dedup keys. The client side of a feed
 * (what the recorder sends and how it reconnects) lives in feeds/<name>_client.c, the
 * server side (what replay answers) in feeds/<name>_server.c, beside it.
 *
 * Classification never allocates: it walks the payload with an allocation-free pull
 * scanner (feeds/json_scan.h; a token array would need ~100k tokens for a 1 MB replay
 * chunk) and returns slices of the payload. All slices point into the payload passed in
 * and live as long as it does.
 */
#ifndef WSTAPE_FEED_H
#define WSTAPE_FEED_H

#include <stddef.h>
#include <stdint.h>

/* A slice of a payload (not NUL-terminated). len == 0 means absent. For JSON strings,
 * the slice is the string's contents between the quotes, escapes left as they are. */
struct feed_str {
	const char *p;
	size_t len;
};

/* ---- the feed table ----
 * A feed is a value, struct feed, defined in its own file feeds/<name>.c: its name, its
 * classification and dedup-key rules, its reconnect backoff, and its three halves, each in
 * a file of its own beside it: the client (feeds/<name>_client.c: what the recorder sends
 * and how it resumes), the server (feeds/<name>_server.c: what replay answers) and the
 * inspect rules (feeds/<name>_inspect.c). The tools reach a feed only through the table;
 * adding a feed is adding its files and one line to the list in feeds/feed.c. */
struct feed_fields;
struct feed_client_ops;
struct feed_server_ops;
struct feed_inspect_ops;
struct feed_str;
struct feed_msg;
struct feed_event;
struct feed {
	const char *name;
	/* a payload that is any JSON value is JSON (raw); else only an object is */
	int any_json;
	/* the message's class, channel, cursor, seq, ... from its top-level fields */
	void (*classify)(const struct feed_fields *f, struct feed_msg *m);
	/* the dedup key rule of a channel's events (enum feed_key_rule, feeds/feed_int.h);
	 * NULL: (time, txIndex) */
	int (*key_rule)(struct feed_str channel);
	/* reconnect backoff: the first delay, doubled per failed attempt up to the cap */
	uint32_t backoff_first_ms, backoff_cap_ms;
	const struct feed_client_ops *client;
	const struct feed_server_ops *server;
	const struct feed_inspect_ops *inspect;
	/* a feed that reads the whole payload itself (a feed declared as data, feeds/spec.c):
	 * its classification and the events of a message, given the feed's table (the spec
	 * around it); NULL: classify from the top-level fields, the events by key_rule */
	void (*classify_payload)(const struct feed *feed, const char *p, size_t n, struct feed_msg *m);
	int (*events_foreach)(const struct feed *feed, const struct feed_msg *msg,
			      int (*fn)(const struct feed_event *ev, void *ud), void *ud);
};
/* A feed is named by its table: a `const struct feed *` is the handle every part passes.
 * The built-in feeds, i = 0, 1, ... in the order of the list in feeds/feed.c; NULL past
 * the last. The first, feed_raw, is the default: any WebSocket feed, byte-exact. */
const struct feed *feed_builtin(int i);
extern const struct feed feed_raw;
/* The table of the built-in feed named name; NULL when none is. */
const struct feed *feed_find(const char *name);
/* The names of every feed, "raw, hydromancer, ...", into buf (NUL-terminated, cut to n). */
void feed_list_names(char *buf, size_t n);

enum feed_class {
	FEED_MSG_OTHER = 0, /* valid JSON that the feed does not know, or the raw feed */
	FEED_MSG_NOT_JSON, /* not a JSON object: counted by inspect, never fatal */
	FEED_MSG_CONTROL, /* connected, reconnected, subscriptionUpdate, hello_ok, pong, error, ... */
	FEED_MSG_DATA, /* a live event message (hydromancer: has seq; lasersell: events) */
	FEED_MSG_REPLAY, /* hydromancer: a replay chunk */
};

/* Everything classification extracts from one message. Fields that do not apply are
 * zero / -1 as stated. */
struct feed_msg {
	int cls; /* enum feed_class */
	struct feed_str type; /* the "type" field */
	struct feed_str channel; /* hydromancer: subscription type of data and replay
					   messages; lasersell: the type of data messages */
	struct feed_str cursor; /* hydromancer "cursor" (string contents, or the number's text) */
	int64_t seq; /* -1 when absent */
	/* hydromancer replay chunk; -1 when absent */
	int64_t chunk, total_chunks, count;
	int has_gap; /* 1 when "hasGap": true */
	/* hydromancer connected / reconnected */
	struct feed_str session_id, client_id;
	struct feed_str message; /* an error's "message" (hydromancer, lasersell) */
	/* lasersell */
	int64_t position_id; /* -1 when absent */
	int64_t server_time_ms; /* -1 when absent */
	int64_t client_time_ms; /* -1 when absent (client ping) */
	int64_t pnl_flush_ms; /* hello_ok limits.pnl_flush_ms; -1 when absent */
	/* the array of events: hydromancer "fills"/"updates"/"events"/"trades"/
	   "liquidations"/"data"; the slice is the whole array text including brackets */
	struct feed_str events;
	/* the feed's application-level ping (FEED_MSG_PING) or its answer (FEED_MSG_PONG), 0
	   neither: set by feeds declared as data, whose ping is part of their spec */
	int ping;
	/* room for a channel joined from several values of the payload (a spec's "channel"
	   list): channel then points here, so a copy of the struct still points at the
	   original's. Not cleared by classification (it is written before it is read). */
	char joined[256];
};
enum { FEED_MSG_PING = 1, FEED_MSG_PONG = 2 };

/* Classify one text payload, received from or sent to the server (the two directions
 * use distinct message types, so no direction is needed: hydromancer "subscribe" and
 * "pong", lasersell "configure" and "ping" are CONTROL; a hydromancer subscribe gets
 * the subscription type as its channel).
 * Returns 0 (out filled; out->cls says what it is). Never fails on bad input:
 * a payload that is not a JSON object gives cls == FEED_MSG_NOT_JSON.
 * The raw feed checks that the payload is JSON (OTHER) or not (NOT_JSON) and fills
 * only "type" when the payload is an object that has one. A NULL feed is feed_raw. */
/* A message with nothing in it: every field absent (zero, or -1 where stated). */
void feed_msg_init(struct feed_msg *m);
int feed_classify(const struct feed *feed, const uint8_t *payload, size_t len, struct feed_msg *out);

/* One event inside a data or replay message, with its dedup key (hydromancer docs):
 * (time, txIndex) for fills, order updates, twap and builder liquidations;
 * (closeTime, txIndex) for completed trades; (time, txIndex, role) for ledger events.
 * key_time / key_tx are -1 when the event has no such field. */
struct feed_event {
	struct feed_str raw; /* the event's JSON text, exactly as in the payload */
	int64_t key_time;
	int64_t key_tx;
	struct feed_str key_role; /* empty unless the channel's key has a role */
	uint64_t hash; /* hash of raw: equal events have equal hashes */
};

/* Call fn for each event of msg (whose events slice came from feed_classify), in order.
 * 'channel' selects the dedup key rule. Stops when fn returns non-zero and returns it.
 * Returns 0 when all were visited, -1 when the events array is malformed. */
int feed_events_foreach(const struct feed *feed, const struct feed_msg *msg,
			int (*fn)(const struct feed_event *ev, void *ud), void *ud);

/* The documented reconnect delay in ms before reconnect attempt 'attempt' (1 = the first
 * attempt after a session ended or the run's first connection failed, 2 = after that one
 * failed too, ...): 100 ms doubling per attempt, no jitter, capped at 2 s (lasersell: the
 * official SDK's rule; hydromancer), 5 s for raw. attempt 0 counts as 1. The recorder
 * waits this long and inspect judges recorded reconnects by it, so they cannot disagree. */
uint32_t feed_backoff_ms(const struct feed *feed, unsigned attempt);

/* ---- hydromancer cursors (hydromancer_cursor.c) ---- */

/* A cursor in one of the docs' three formats, all of which hold the millisecond timestamp:
 * fmt 3 "block:timestamp:tx_index", 2 "block:timestamp" (l4BookUpdates, fundingRates,
 * setOracleUpdates), 1 a plain timestamp (leverage and isolated margin updates). */
struct hm_cursor {
	int fmt;
	int64_t block, ts, tx;
};
/* Returns 0 and *c, or -1 when the text is none of the three formats. */
int hm_cursor_parse(const char *p, size_t n, struct hm_cursor *c);
/* Does an event at cursor 'ev' come after a client's cursor, so that a replay holds it?
 * Same format: exactly, component by component. Different formats (a session resumed
 * with another channel's cursor): by timestamp, inclusive, as a duplicate is better than
 * a loss. Returns 1 or 0. */
int hm_cursor_newer(const struct hm_cursor *ev, const struct hm_cursor *client);

/* 64-bit hash of bytes (the one used for feed_event.hash; inspect hashes frames with it). */
uint64_t feed_hash(const void *p, size_t n);

#endif
