/* feed_client.h - the client side of each feed: what the recorder sends and how it reconnects
 *
 * A feed client is the protocol half of a recording session. The recorder owns the socket
 * and the journal; the feed client decides what to send after a connection opens, how to
 * answer what the server says (subscribe after `connected`, pong to a JSON ping, wait for
 * `hello_ok`), which URL the next attempt uses (sessionId + cursor + liveFormat for
 * Hydromancer) and how long to wait before it (backoff).
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

struct feed_client_options {
	enum feed_id feed;
	const char *url;                /* the URL as given by the user (may hold a token) */
	/* every feed: messages sent after each connect (--send), in order */
	const char *const *sends;
	const size_t *send_lens;
	int nsends;
	/* hydromancer */
	const char *const *subscribe;   /* subscription types, e.g. "allFills" (--subscribe) */
	int nsubscribe;
	const char *live_format;        /* "chunked-v1" or NULL (--live-format) */
	/* lasersell */
	const char *configure;          /* configure message (--configure), or NULL */
	size_t configure_len;
	uint32_t ping_ms;               /* app-level ping interval (--ping-s); 0 = none */
	uint32_t hello_timeout_ms;      /* close and reconnect when hello_ok is this late; default 10000 */
};

struct feed_client;

/* Where a client may resume from. Normally the cursor of the last data frame journaled.
 * Hydromancer sends live messages while the replay of a resume is still under way (its
 * docs: "live messages may begin arriving before replay is complete"), so a live cursor
 * then runs ahead of replay chunks not yet received; resuming from it would lose them.
 * After `reconnected`, live cursors are therefore held back until every replay that began
 * has sent its last chunk, or, when no replay begins, for FEED_CURSOR_HOLD_MS (the server
 * sends its replays at once, in parallel with live data). Replay chunks always advance the
 * cursor. The recorder uses the same tracker for --resume, over the journal's tail.
 *
 * Hydromancer: one cursor per channel (subscription type), and one cursor for the URL, so
 * the one to resume from is the oldest of the channels' last cursors by their timestamp
 * (cursor formats "block:ts:tx", "block:ts" and a numeric "ts": at an equal timestamp the
 * coarser one is older): a duplicate on the newer channels is harmless, a newer cursor
 * would lose the older channels' events. Beyond FEED_CURSOR_CHANNELS channels, the extra
 * ones share one slot that only ever moves back. Cursors are kept JSON-decoded. */
#define FEED_CURSOR_MAX 1024
#define FEED_CURSOR_HOLD_MS 5000
#define FEED_CURSOR_CHANNELS 16
#define FEED_CURSOR_CHANNEL_MAX 64
struct feed_cursor_chan {
	char name[FEED_CURSOR_CHANNEL_MAX + 1];
	char cursor[FEED_CURSOR_MAX + 1];  /* where this channel resumes from ("" when none) */
	char live[FEED_CURSOR_MAX + 1];    /* newest live cursor held back ("" when none) */
};
struct feed_cursor_track {
	enum feed_id feed;
	int holding, replays;          /* replays begun and not finished */
	int64_t hold_since_ms;
	int nchan;                     /* the last slot collects the channels beyond the others */
	struct feed_cursor_chan chan[FEED_CURSOR_CHANNELS];
	char cursor[FEED_CURSOR_MAX + 1]; /* where to resume from: the oldest channel's */
};
void feed_cursor_track_init(struct feed_cursor_track *t, enum feed_id feed);
/* One received message (m from feed_classify) at time now_ms (any monotonic scale). */
void feed_cursor_track_msg(struct feed_cursor_track *t, const struct feed_msg *m, int64_t now_ms);
/* Set one channel's cursor (not held back), e.g. from a journal's index. The cursor is as
 * journaled: the contents of the JSON string, escapes as in the payload. */
void feed_cursor_track_set(struct feed_cursor_track *t, const char *channel, size_t channel_len,
			   const char *cursor, size_t cursor_len);
/* 1 when the tracker holds a cursor for channel. */
int feed_cursor_track_has(const struct feed_cursor_track *t, const char *channel, size_t channel_len);
/* Order of two cursors by time: <0 when a is older than b, 0 when equal, >0 when newer.
 * A cursor that is not one of the three formats is older than any that is. */
int feed_cursor_time_cmp(const char *a, const char *b);

/* Create a client for one recording. Copies what it needs from opt (strings included).
 * Returns 0 and *out, ENOMEM, or EINVAL (unknown feed, NULL url). */
int feed_client_new(const struct feed_client_options *opt, struct feed_client **out);

/* feed_client_free(NULL) is a no-op. */
void feed_client_free(struct feed_client *fc);

/* Continue an earlier session (--resume, or after a reconnect): the session id and the
 * cursor of the last journaled frame. Either may be NULL / 0 length to leave it unset.
 * feed_client_set_track takes the channels' cursors of a tracker (struct copied). */
void feed_client_set_session(struct feed_client *fc, const char *session_id, size_t sid_len);
void feed_client_set_cursor(struct feed_client *fc, const void *cursor, size_t len);
void feed_client_set_track(struct feed_client *fc, const struct feed_cursor_track *t);

/* The session id and cursor the client holds now ("" when none). Owned by fc, valid until
 * the next call that changes them. */
/* The longest session id kept (bytes, without the NUL). */
#define FEED_CLIENT_MAX_SESSION 256
const char *feed_client_session(const struct feed_client *fc);
const char *feed_client_cursor(const struct feed_client *fc);

/* The URL for the next connection attempt, appended to out (NUL-terminated):
 * hydromancer adds sessionId, cursor and liveFormat query parameters (URL-encoded) when
 * known; the others return the URL as given. */
void feed_client_url(const struct feed_client *fc, struct text_buf *out);

/* The next connection goes to another origin than the URL's (a followed redirect): the
 * --send messages, which may hold credentials, are not sent to it; feed_client_withheld()
 * says how many were withheld on that connection (0 when none). The protocol's own
 * messages (subscribe, pong, LaserSell's configure) still go. */
void feed_client_set_foreign(struct feed_client *fc, int foreign);
int feed_client_withheld(const struct feed_client *fc);

/* A connection opened (the upgrade succeeded): send what the feed sends at once
 * (--send messages; lasersell: configure). Resets the per-connection state. */
void feed_client_on_open(struct feed_client *fc, feed_send_fn send, void *ud);

/* A text message arrived and was classified (m from feed_classify, dir in). The client
 * answers through send when the protocol asks it to (hydromancer: subscribe after
 * `connected`, pong after a JSON ping) and remembers session id and cursor.
 * Returns a set of FEED_CLIENT_* flags:
 *   FEED_CLIENT_SESSION   the session id changed (the recorder stores it); hydromancer's
 *                         "Session not found" forgets it ("" now), so the next connection
 *                         creates a new session and subscribes again, as the docs say
 *   FEED_CLIENT_REFUSED   the server refused the credentials in a message (hydromancer
 *                         "Invalid API key", lasersell error code "unauthorized"):
 *                         retrying cannot help; feed_client_refusal() has the server's words
 *   FEED_CLIENT_BAD_SESSION  (with FEED_CLIENT_SESSION) the server's session id cannot be
 *                         used: not a JSON string of valid Unicode (a lone \ud800), a NUL
 *                         in it, or longer than 256 bytes; the session is forgotten
 * "Rate limit exceeded" is neither: the recorder keeps backing off. */
#define FEED_CLIENT_SESSION 1
#define FEED_CLIENT_REFUSED 2
#define FEED_CLIENT_BAD_SESSION 4
int feed_client_on_message(struct feed_client *fc, const struct feed_msg *m,
			   feed_send_fn send, void *ud);

/* The server's words of the last refusal (FEED_CLIENT_REFUSED), decoded; "" when none. */
const char *feed_client_refusal(const struct feed_client *fc);

/* The connection closed or failed. 'established' is 1 when it had opened. */
void feed_client_on_close(struct feed_client *fc, int established);

/* Milliseconds to wait before reconnect attempt number 'attempt': feed_backoff_ms() of
 * the client's feed. */
uint32_t feed_client_backoff_ms(const struct feed_client *fc, unsigned attempt);

/* 1 once the handshake the feed needs is done (lasersell: hello_ok received; others:
 * immediately on open). For lasersell this is what makes a session: the backoff starts
 * again from its first step after a connection that got hello_ok, however short. */
int feed_client_ready(const struct feed_client *fc);

/* Periodic work, called by the recorder at least every 100 ms while connected, with the
 * monotonic time in ms since the connection opened. Sends app-level pings (lasersell).
 * Returns 0, or -1 when the connection should be closed and retried (hello_ok late). */
int feed_client_tick(struct feed_client *fc, uint64_t ms_since_open, feed_send_fn send, void *ud);

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
