/* feed_client.h - the client half of each feed: what the recorder sends and how it resumes
 *
 * A feed client is the protocol half of a recording session. The recorder owns the socket
 * and the journal; the feed client decides what to send after a connection opens, how to
 * answer what the server says, which handshake a connection waits for, which URL the next
 * attempt uses and how long to wait before it (backoff), and where a session resumes from.
 *
 * Each feed has one `struct feed_client_ops` (feeds/<name>_client.c), reached as
 * feed->client. The recorder and `wstape record` never look at the feed itself:
 * they call the functions below (feeds/feed_client.c dispatches to the ops) and read the
 * ops' data (its options, its channels' metadata).
 *
 * Messages to send are handed to a callback; the recorder queues them, writes them when the
 * socket is writable and journals them with dir "out". Nothing here touches the network.
 */
#ifndef WSTAPE_FEED_CLIENT_H
#define WSTAPE_FEED_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/feed.h"
#include "util/text.h"

/* Where a message to send goes: the recorder's queue. p[0..n) is copied. */
typedef void (*feed_send_fn)(void *ud, const void *p, size_t n);

/* ---- a feed's own options of `wstape record` ----
 * A feed declares the options it takes (struct feed_client_ops.options); `record` parses
 * their values by type, refuses them for another feed, and hands them to the feed client
 * as struct feed_client_arg. What an option means is the feed's own business, except for
 * the three facts below that `record` acts on. */
enum feed_opt_type {
	FEED_OPT_LIST, /* repeatable, each value one item */
	FEED_OPT_TEXT, /* one value (the last one given) */
	FEED_OPT_MESSAGE, /* a message, TEXT or @FILE (the file's content, without its last line break) */
	FEED_OPT_SECRET, /* KEY, @FILE or env:NAME; never stored, never shown */
	FEED_OPT_DURATION, /* a duration of at least 1 ms (e.g. 300ms, 10s), in ms */
	FEED_OPT_INTERVAL, /* seconds or a duration (5, 500ms), in ms, at least 1 */
};
struct feed_client_opt {
	const char *name; /* with its dashes: "--subscribe"; NULL ends the list */
	int type; /* enum feed_opt_type */
	/* the journal metadata key that keeps the option (a LIST joined with ','): --resume
	 * goes on with it unless it is given again; NULL: not kept */
	const char *meta;
	/* SECRET: the upgrade request header that carries the value (a secret header), and
	 * the environment variable that gives it when the option is not given; NULL: none */
	const char *header, *env;
	/* what to use instead with another feed, for the error message; NULL: nothing */
	const char *elsewhere;
	/* for `wstape record --help`: what the value is ("TYPE") and what the option does,
	 * lines separated by '\n' (the help puts the feed's name before it) */
	const char *arg, *help;
};
/* One option as given (record hands them over in the order given). */
struct feed_client_arg {
	const char *name; /* the option's name, "--subscribe" */
	const char *value; /* its value as given (MESSAGE: the text, read from @FILE) */
	size_t len;
	uint64_t ms; /* DURATION, INTERVAL: the value in milliseconds */
};
/* The option 'name' of feed id; NULL when the feed takes no such option. */
const struct feed_client_opt *feed_client_opt_find(const struct feed *feed, const char *name);
/* The option 'name' of the first built-in feed that takes it, and that feed in *feed; NULL when none
 * does. Feeds that take an option of the same name give it the same type. */
const struct feed_client_opt *feed_client_opt_any(const char *name, const struct feed **feed);

/* ---- the cursor tracker (feeds/feed_cursor.c) ----
 * Where a client may resume from. Normally the cursor of the last data frame journaled.
 * A feed whose server replays what a resumed session missed while it already sends live
 * messages (Hydromancer's docs: "live messages may begin arriving before replay is
 * complete") has its live cursors run ahead of replay chunks not yet received; resuming
 * from them would lose those chunks. Such a feed's tracker (struct feed_client_ops.track)
 * holds live cursors back after a resume until every replay that began has sent its last
 * chunk, or, when no replay begins, for FEED_CURSOR_HOLD_MS (the server sends its replays
 * at once, in parallel with live data). Replay chunks always advance the cursor. The
 * recorder uses the same tracker for --resume, over the journal's tail.
 *
 * A feed with an order of cursors by time (struct feed_client_ops.cursor_cmp) has one
 * cursor per channel and one for the URL, so the one to resume from is the oldest of the
 * channels' last cursors: a duplicate on the newer channels is harmless, a newer cursor
 * would lose the older channels' events. Beyond FEED_CURSOR_CHANNELS channels, the extra
 * ones share one slot that only ever moves back. Cursors are kept JSON-decoded. */
#define FEED_CURSOR_MAX 1024
#define FEED_CURSOR_HOLD_MS 5000
#define FEED_CURSOR_CHANNELS 16
#define FEED_CURSOR_CHANNEL_MAX 64
struct feed_cursor_chan {
	char name[FEED_CURSOR_CHANNEL_MAX + 1];
	char cursor[FEED_CURSOR_MAX + 1]; /* where this channel resumes from ("" when none) */
	char live[FEED_CURSOR_MAX + 1]; /* newest live cursor held back ("" when none) */
};
struct feed_cursor_track {
	const struct feed *feed;
	int holding, replays; /* replays begun and not finished */
	int64_t hold_since_ms;
	int nchan; /* the last slot collects the channels beyond the others */
	struct feed_cursor_chan chan[FEED_CURSOR_CHANNELS];
	char cursor[FEED_CURSOR_MAX + 1]; /* where to resume from: the oldest channel's */
};
void feed_cursor_track_init(struct feed_cursor_track *t, const struct feed *feed);
/* One received message (m from feed_classify) at time now_ms (any monotonic scale), by
 * the feed's rules (its ops' track; without one: the cursor of a data or replay message). */
void feed_cursor_track_msg(struct feed_cursor_track *t, const struct feed_msg *m, int64_t now_ms);
/* One incoming record of a journal's tail, oldest first, for --resume: a feed with a
 * tracker of its own classifies text and tracks it (at wall_ms); the others take the
 * cursor journaled with the record (as journaled: JSON string contents, escapes kept). */
void feed_cursor_track_record(struct feed_cursor_track *t, int text, const void *payload, size_t len,
			      const void *cursor, size_t cursor_len, int64_t wall_ms);
/* Set one channel's cursor (not held back), e.g. from a journal's index. The cursor is as
 * journaled: the contents of the JSON string, escapes as in the payload. */
void feed_cursor_track_set(struct feed_cursor_track *t, const char *channel, size_t channel_len,
			   const char *cursor, size_t cursor_len);
/* 1 when the tracker holds a cursor for channel. */
int feed_cursor_track_has(const struct feed_cursor_track *t, const char *channel, size_t channel_len);
/* Hydromancer's order of its three cursor formats by time ("block:ts:tx", "block:ts", a
 * numeric "ts"; at an equal timestamp the coarser one is older): <0 when a is older than
 * b, 0 when equal, >0 when newer. A cursor that is none of the three is older than any. */
int feed_cursor_time_cmp(const char *a, const char *b);

/* ---- the ops of a feed's client half ---- */
struct feed_client;
struct feed_client_ops {
	/* the options the feed takes, ended by one with a NULL name; NULL: none */
	const struct feed_client_opt *options;
	/* 1: the recorder journals frames as they come, unclassified (no channel, no cursor,
	 * no JSON check): nothing in them matters to the client */
	int opaque;
	/* the server's message a connection waits for before it counts as a session (named
	 * in the journal's error when it is late), and how long it may take unless an option
	 * says otherwise; NULL: no handshake, a connection that held a while is a session */
	const char *handshake;
	uint32_t handshake_timeout_ms;
	/* the journal metadata that names the channels recorded, comma-separated: --resume
	 * gives a channel whose last message lies before the journal's tail its last cursor
	 * from the journal's index; NULL: no per-channel resume */
	const char *channels_meta;

	/* the feed's own state from its options (fc->state); 0, ENOMEM or EINVAL */
	int (*init)(struct feed_client *fc, const struct feed_client_arg *args, int nargs);
	void (*fini)(struct feed_client *fc);
	/* the URL of the next attempt (a resume's session and cursor); NULL: as given */
	void (*url)(const struct feed_client *fc, struct text_buf *out);
	/* a connection opened: what the feed sends first (before --send, which goes at open,
	 * or once the handshake is done when there is one); NULL: nothing */
	void (*on_open)(struct feed_client *fc, feed_send_fn send, void *ud);
	/* a classified message arrived: FEED_CLIENT_* flags (feed_client_on_message) and, when
	 * it completes the handshake, FEED_CLIENT_HANDSHAKE (feeds/feed_client_int.h); NULL: 0 */
	int (*on_message)(struct feed_client *fc, const struct feed_msg *m, feed_send_fn send, void *ud);
	/* periodic work once the handshake is done (ms since the open); NULL: none */
	void (*tick)(struct feed_client *fc, uint64_t ms, feed_send_fn send, void *ud);
	/* the cursor tracker's rules: one message; NULL: the cursor of a data or replay message.
	 * A feed with one also resumes from its messages (feed_cursor_track_record). */
	void (*track)(struct feed_cursor_track *t, const struct feed_msg *m, int64_t now_ms);
	/* order of two decoded cursors by time (<0, 0, >0); NULL: one cursor, the last one */
	int (*cursor_cmp)(const char *a, const char *b);
};

/* The ops of each feed, in feeds/<name>_client.c (the feed tables point to them). */
extern const struct feed_client_ops raw_client_ops, hydromancer_client_ops, lasersell_client_ops;

/* ---- one recording's client ---- */
struct feed_client_options {
	const struct feed *feed;
	const char *url; /* the URL as given by the user (may hold a token) */
	/* every feed: messages sent after each connect (--send), in order */
	const char *const *sends;
	const size_t *send_lens;
	int nsends;
	/* the feed's own options (struct feed_client_ops.options), in the order given */
	const struct feed_client_arg *args;
	int nargs;
};

/* Create a client for one recording. Copies what it needs from opt (strings included).
 * Returns 0 and *out, ENOMEM, or EINVAL (unknown feed, NULL url, an option the feed does
 * not take). */
int feed_client_new(const struct feed_client_options *opt, struct feed_client **out);

/* feed_client_free(NULL) is a no-op. */
void feed_client_free(struct feed_client *fc);

/* Continue an earlier session (--resume, or after a reconnect): the session id, and the
 * channels' cursors of a tracker (struct copied). sid may be NULL / 0 length. */
void feed_client_set_session(struct feed_client *fc, const char *session_id, size_t sid_len);
void feed_client_set_track(struct feed_client *fc, const struct feed_cursor_track *t);

/* The session id the client holds now ("" when none). Owned by fc, valid until the next
 * call that changes it. */
/* The longest session id kept (bytes, without the NUL). */
#define FEED_CLIENT_MAX_SESSION 256
const char *feed_client_session(const struct feed_client *fc);

/* The URL for the next connection attempt, appended to out (NUL-terminated): the feed's
 * (hydromancer adds sessionId, cursor and liveFormat query parameters, URL-encoded, when
 * known); the URL as given for the others. */
void feed_client_url(const struct feed_client *fc, struct text_buf *out);

/* The next connection goes to another origin than the URL's (a followed redirect): the
 * --send messages, which may hold credentials, are not sent to it; feed_client_withheld()
 * says how many are withheld from it (0 when none). The protocol's own
 * messages still go. */
void feed_client_set_foreign(struct feed_client *fc, int foreign);
int feed_client_withheld(const struct feed_client *fc);

/* A connection opened (the upgrade succeeded): send what the feed sends at once, and the
 * --send messages unless they wait for the handshake. Resets the per-connection state. */
void feed_client_on_open(struct feed_client *fc, feed_send_fn send, void *ud);

/* A text message arrived and was classified (m from feed_classify, dir in). The client
 * answers through send when the protocol asks it to and remembers session id and cursor.
 * Returns a set of FEED_CLIENT_* flags:
 *   FEED_CLIENT_SESSION   the session id changed (the recorder stores it); a server that
 *                         no longer knows the session forgets it ("" now), so the next
 *                         connection creates a new session (and subscribes again)
 *   FEED_CLIENT_REFUSED   the server refused the credentials in a message: retrying cannot
 *                         help; feed_client_refusal() has the server's words
 *   FEED_CLIENT_BAD_SESSION  (with FEED_CLIENT_SESSION) the server's session id cannot be
 *                         used: not a JSON string of valid Unicode (a lone \ud800), a NUL
 *                         in it, or longer than 256 bytes; the session is forgotten
 * A rate limit is neither: the recorder keeps backing off. */
#define FEED_CLIENT_SESSION 1
#define FEED_CLIENT_REFUSED 2
#define FEED_CLIENT_BAD_SESSION 4
int feed_client_on_message(struct feed_client *fc, const struct feed_msg *m, feed_send_fn send, void *ud);

/* The server's words of the last refusal (FEED_CLIENT_REFUSED), decoded; "" when none. */
const char *feed_client_refusal(const struct feed_client *fc);

/* 1 when messages of this feed are journaled unclassified (struct feed_client_ops.opaque). */
int feed_client_opaque(const struct feed_client *fc);

/* The handshake of the connection open now (or of the last one, until on_close):
 * FEED_CLIENT_NO_HANDSHAKE when the feed has none, else pending or done. A connection whose
 * handshake was done is a session, however short: the backoff starts again from its first
 * step after it. feed_client_awaited() names the message awaited (NULL when none). */
enum { FEED_CLIENT_NO_HANDSHAKE = 0, FEED_CLIENT_HANDSHAKE_PENDING, FEED_CLIENT_HANDSHAKE_DONE };
int feed_client_handshake(const struct feed_client *fc);
const char *feed_client_awaited(const struct feed_client *fc);

/* The connection closed or failed. 'established' is 1 when it had opened. */
void feed_client_on_close(struct feed_client *fc, int established);

/* Milliseconds to wait before reconnect attempt number 'attempt': feed_backoff_ms() of
 * the client's feed. */
uint32_t feed_client_backoff_ms(const struct feed_client *fc, unsigned attempt);

/* Periodic work, called by the recorder at least every 100 ms while connected, with the
 * monotonic time in ms since the connection opened (app-level pings, for one). Returns 0,
 * or -1 when the connection should be closed and retried: the handshake is late. */
int feed_client_tick(struct feed_client *fc, uint64_t ms_since_open, feed_send_fn send, void *ud);

/* ---- secrets (feeds/feed_secret.c) ---- */

/* Names of query parameters and headers that hold secrets, for redaction: 1 when name
 * (case-insensitive, n bytes) is one. Query parameters: token, access_token, refresh_token,
 * id_token, auth_token, session_token, api_key, apikey, api-key, x-api-key, key, secret,
 * client_secret, sig, signature, password, passwd, pwd, pass, auth, authorization, jwt,
 * credential, credentials, x-amz-credential, x-amz-signature, x-amz-security-token,
 * x-goog-credential, x-goog-signature; any name ending in token, secret, signature,
 * password, _key, -key or apikey; and the names given to feed_secret_param_add().
 * Headers: authorization, x-api-key, cookie, proxy-authorization. */
int feed_secret_query_param(const char *name, size_t n);
/* Add a query parameter name to redact (--redact-param), for the rest of the process.
 * Returns 0, EINVAL (empty) or ENOMEM. feed_secret_params_clear() forgets them all. */
int feed_secret_param_add(const char *name);
void feed_secret_params_clear(void);
int feed_secret_header(const char *name, size_t n);

/* Append url to out with the values of secret query parameters replaced by "REDACTED"
 * and any userinfo ("user:pass@") replaced by "REDACTED@". NUL-terminated. */
void feed_redact_url(const char *url, struct text_buf *out);

#endif
