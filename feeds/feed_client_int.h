/* feed_client_int.h - the state shared by the feed client files (not a public header) */
#ifndef WSTAPE_FEED_CLIENT_INT_H
#define WSTAPE_FEED_CLIENT_INT_H

#include "feeds/feed_client.h"

#define FEED_CLIENT_MAX_CURSOR  FEED_CURSOR_MAX

struct feed_client {
	enum feed_id feed;
	char *url;
	char **sends;
	size_t *send_lens;
	int nsends;
	char **subscribe;
	int nsubscribe;
	char *live_format;
	char *configure;
	size_t configure_len;
	uint32_t ping_ms, hello_timeout_ms;
	char session[FEED_CLIENT_MAX_SESSION + 1];
	char refusal[256];             /* the server's words refusing the credentials */
	struct feed_cursor_track trk;  /* the cursor to resume from */
	/* per connection */
	int hello_ok;
	uint64_t last_ping_ms;
	int foreign;                   /* this connection's origin is not the URL's */
	int withheld;                  /* --send messages withheld from it */
};

/* Per-feed hooks, in feeds/<feed>_client.c. */
void hydromancer_client_url(const struct feed_client *fc, struct text_buf *out);
int hydromancer_client_on_message(struct feed_client *fc, const struct feed_msg *m,
				  feed_send_fn send, void *ud);
void lasersell_client_on_open(struct feed_client *fc, feed_send_fn send, void *ud);
int lasersell_client_on_message(struct feed_client *fc, const struct feed_msg *m,
				feed_send_fn send, void *ud);
int lasersell_client_tick(struct feed_client *fc, uint64_t ms, feed_send_fn send, void *ud);

/* The --send messages, in order (none to another origin: feed_client_set_foreign). */
void feed_client_send_all(struct feed_client *fc, feed_send_fn send, void *ud);

/* Decode the contents of a JSON string (escapes as in the payload) into dst, at most cap
 * bytes and a NUL. Returns the length, or -1 when an escape is malformed, the result holds
 * a NUL or does not fit. */
long feed_client_json_decode(struct feed_str v, char *dst, size_t cap);

/* 1 when the slice equals the NUL-terminated string s. */
int feed_client_str_is(struct feed_str v, const char *s);

#endif
