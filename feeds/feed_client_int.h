/* feed_client_int.h - what the feed client files share (not a public header) */
#ifndef WSTAPE_FEED_CLIENT_INT_H
#define WSTAPE_FEED_CLIENT_INT_H

#include "feeds/feed_client.h"

/* The --send messages of every connection (feeds/feed_client_send.c). */
struct feed_send_list {
	char **msgs;
	size_t *lens;
	int n;
};
/* Copy n messages (lens NULL: NUL-terminated). Returns 0 or ENOMEM (l then emptied). */
int feed_send_list_copy(struct feed_send_list *l, const char *const *msgs, const size_t *lens, int n);
void feed_send_list_free(struct feed_send_list *l);

struct feed_client {
	const struct feed *feed;
	const struct feed_client_ops *ops;
	char *url;
	struct feed_send_list sends;
	char session[FEED_CLIENT_MAX_SESSION + 1];
	char refusal[256]; /* the server's words refusing the credentials */
	struct feed_cursor_track trk; /* the cursor to resume from */
	uint32_t handshake_ms; /* how long the handshake may take */
	void *state; /* the feed's own (ops->init, ops->fini) */
	/* per connection */
	int handshake_done;
	int foreign; /* this connection's origin is not the URL's */
};

/* From ops->on_message: the message completes the handshake (the dispatcher then sends
 * the --send messages, once a connection). Never returned to the recorder. */
#define FEED_CLIENT_HANDSHAKE 0x100

/* The --send messages, in order (none to another origin: feed_client_set_foreign). */
void feed_client_send_all(struct feed_client *fc, feed_send_fn send, void *ud);

/* ---- the tracker's moves, for a feed's ops->track (feeds/feed_cursor.c) ---- */

/* A resumed session: live cursors are held back from now (now_ms) on. */
void feed_cursor_track_hold(struct feed_cursor_track *t, int64_t now_ms);
/* A new session: nothing will be replayed; live cursors held back are dropped. */
void feed_cursor_track_new_session(struct feed_cursor_track *t);
/* Chunk 'chunk' of 'total' (total <= 0: one chunk) of a replay of channel, at cursor (as
 * in the payload; may be empty). */
void feed_cursor_track_chunk(struct feed_cursor_track *t, struct feed_str channel, struct feed_str cursor,
			     int64_t chunk, int64_t total, int64_t now_ms);
/* A live message of channel at cursor (as in the payload). */
void feed_cursor_track_live(struct feed_cursor_track *t, struct feed_str channel, struct feed_str cursor);
/* Releases the cursors held back when no replay began within FEED_CURSOR_HOLD_MS. */
void feed_cursor_track_expire(struct feed_cursor_track *t, int64_t now_ms);

/* ---- JSON strings (feeds/feed_client_json.c) ---- */

/* Decode the contents of a JSON string (escapes as in the payload) into dst, at most cap
 * bytes and a NUL. Returns the length, or -1 when an escape is malformed, the result holds
 * a NUL or does not fit. */
long feed_client_json_decode(struct feed_str v, char *dst, size_t cap);

/* 1 when the slice equals the NUL-terminated string s. */
int feed_client_str_is(struct feed_str v, const char *s);

#endif
