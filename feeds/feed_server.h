/* feed_server.h - the server side of each feed, for `wstape replay`
 *
 * struct feed_server_ops is what a server of the feed does: its answers, its sessions, its
 * resume replays, which recorded frames it serves and how it rewrites them. The replay
 * server (replay/) owns the sockets, the pacing, the queues and the session store, and
 * offers them to the feed through struct feed_host (replay/feed_host.h). One instance per
 * feed, in feeds/<name>_server.c, reached as feed->server.
 *
 * Below it: builders of the messages a server of the feed sends and parsers of what its
 * clients send (messages are appended to a text_buf as JSON text). */
#ifndef WSTAPE_FEED_SERVER_H
#define WSTAPE_FEED_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/feed.h"
#include "replay/feed_host.h"
#include "util/text.h"

/* A frame of a connection's timeline, as the feed makes it from the journal's records.
 * The payload lives until the feed's next call for the connection. */
struct feed_frame {
	const uint8_t *p;
	size_t n;
	int binary;
	int skip; /* takes its time in the timeline, is not sent */
	int tag; /* the feed's mark, given back to sent and unread (-1: none) */
	struct feed_str cursor; /* kept with the frame and given back to sent (may be empty) */
	int64_t wall_ns; /* the timeline point where it goes out */
	uint64_t recno; /* the record at that point */
};

/* A replay option as one feed's server uses it, for `wstape replay --help`: its name with
 * its value ("--ping-s N") and what it does for this feed. */
struct feed_server_opt_help {
	const char *head;
	const char *text; /* lines separated by '\n' (the help indents them) */
};

/* Every member may be NULL; then the host does what the comment says. 'srv' is the feed's
 * state of the run (server_new), 'conn' its state of one connection (conn_new). */
struct feed_server_ops {
	/* ---- what `wstape replay --help` says of the feed ---- */
	/* what its server does, lines separated by '\n'; NULL: nothing */
	const char *help;
	/* the replay options only this feed's server uses, ended by one with a NULL head;
	 * NULL: none */
	const struct feed_server_opt_help *options_help;

	/* the feed serves the recorded frames without a protocol: --gate may hold them */
	int gate;
	/* a connection's session resumes with the first timeline frame that did not reach the
	 * client (queued or half written when it dropped), not after the last one released */
	int resume_unsent;
	/* the interval of the feed's pings (ping below) when --ping-s is not given, in ms;
	 * 0: the host's default */
	uint32_t ping_every_ms;

	/* ---- the run ---- */
	/* the feed's state of the run; 0, or ENOMEM. NULL: none. */
	int (*server_new)(const struct feed_host *h, void **srv);
	void (*server_free)(void *srv);
	/* before serving: every server-to-client frame of the selected range, in order; then
	 * scan_end with the recorded connection of the first one */
	void (*scan)(void *srv, const struct feed_record *r);
	void (*scan_end)(void *srv, uint32_t first_conn);
	/* what the banner says of the recording beyond the feed's name ("" : nothing) */
	void (*describe)(void *srv, char *buf, size_t len);

	/* ---- one connection ---- */
	/* 0 and *conn, or ENOMEM; NULL: no state */
	int (*conn_new)(void *srv, struct feed_conn *c, void **conn);
	void (*conn_free)(void *conn);
	/* the answer to a client refused by --token (the host closes after it); NULL: none */
	void (*unauthorized)(void *conn, struct text_buf *b);
	/* the connection was let in: its first messages, its session, its timeline's start.
	 * 0, or -1 to drop it. NULL: the timeline starts, fresh or (--mode live) live. */
	int (*on_connect)(void *conn);
	/* a whole message of the client. NULL: counted (for --gate), its bytes not kept. */
	void (*on_message)(void *conn, const uint8_t *p, size_t n);
	/* the host's --ping-s timer: the ping to send; NULL: no pings and no pong timeout */
	void (*ping)(void *conn, struct text_buf *b);
	/* no pong for --pong-timeout: the last message before the host closes */
	void (*pong_timeout)(void *conn, struct text_buf *b);

	/* ---- its timeline ---- */
	/* a server-to-client text or binary record of the range as a timeline frame: 1 and
	 * *out, 0 when it makes none (it takes no time), or a negative errno. NULL: every such
	 * record goes out as recorded. */
	int (*frame)(void *conn, const struct feed_record *r, struct feed_frame *out);
	/* before the next record: 1 and *out when the feed has a frame of its own, 0, or a
	 * negative errno */
	int (*pending)(void *conn, struct feed_frame *out);
	/* whether a frame is pending (1), and the record of its timeline point */
	int (*pending_recno)(void *conn, uint64_t *recno);
	/* the timeline jumped (a start, a loop): what the feed kept of it is void */
	void (*rewind)(void *conn);
	/* the frame read ahead (tag as it had) is given back, to be made again; NULL: the
	 * host reads its record again */
	void (*unread)(void *conn, int tag);
	/* a frame leaves the timeline to go out (after the faults chose to send it) */
	void (*sent)(void *conn, int tag, struct feed_str cursor);
	/* the feed's data of a session, when the session goes */
	void (*session_free)(void *data);
};

extern const struct feed_server_ops raw_server_ops, hydromancer_server_ops, lasersell_server_ops;

/* ---- hydromancer ---- */

/* What a hydromancer client sent. */
struct hm_client_msg {
	enum { HM_C_OTHER = 0, HM_C_BAD, HM_C_SUBSCRIBE, HM_C_UNSUBSCRIBE, HM_C_PONG, HM_C_PING } kind;
	struct feed_str sub_type; /* subscription.type (contents) */
	struct feed_str cursor; /* subscription.cursor (contents), optional */
};
void hm_client_parse(const uint8_t *p, size_t n, struct hm_client_msg *m);

void hm_msg_connected(struct text_buf *b, const char *client_id, const char *session_id);
void hm_msg_reconnected(struct text_buf *b, const char *client_id, const char *session_id,
			const char *const *subs, int nsubs);
/* subscribed / failed lists of subscription types */
void hm_msg_subscription_update(struct text_buf *b, const struct feed_str *ok, int nok,
				const struct feed_str *failed, int nfailed);
/* The answer to an unsubscribe: subscriptionUpdate with the type in "unsubscribed". */
void hm_msg_unsubscribed(struct text_buf *b, const struct feed_str *type);
void hm_msg_error(struct text_buf *b, const char *message);
void hm_msg_ping(struct text_buf *b);

/* Copy a live data message, with its top-level "seq" replaced by 'seq' (added after the
 * "type" member when the message has none). Returns 0, or -1 when the payload is not a
 * JSON object. */
int hm_msg_with_seq(struct text_buf *b, const uint8_t *p, size_t n, int64_t seq);

/* liveFormat: a query parameter of the connection ("chunked-v1" or absent), not kept on
 * the session, so a client that uses it gives it again on every reconnect. The recorded
 * live messages are in the format the recorder asked for: this reads it back from the URL
 * of a recorded connection's "open" event ({"url": ...}) into out ("" when the URL has no
 * liveFormat). Returns 0, or -1 when the payload holds no URL or the value does not fit. */
int hm_open_live_format(const uint8_t *p, size_t n, char *out, size_t outlen);

/* A replay chunk; 'events' is the events' JSON texts joined with ',' (no brackets). */
void hm_msg_replay(struct text_buf *b, const char *channel, size_t chlen, const char *cursor, size_t curlen,
		   int64_t count, int64_t chunk, int64_t total, int has_gap, const char *events, size_t elen);

/* Docs limits for replay chunks. */
#define HM_CHUNK_MAX_ITEMS 2000
#define HM_CHUNK_MAX_BYTES (1024 * 1024)

/* Splits the events of a resume into replay chunks of at most HM_CHUNK_MAX_ITEMS events
 * and HM_CHUNK_MAX_BYTES of event text each (an event larger than that goes alone). Each
 * chunk carries the cursor of the last message whose events it holds (or the cursor the
 * client resumed from, when it holds none yet); hasGap goes on the first chunk only; with
 * no events at all there is one empty chunk. Usage: init, then per recorded message
 * hm_chunker_add for each of its events and hm_chunker_cursor with its cursor, then
 * hm_chunker_finish, then hm_chunker_free. */
struct hm_chunker {
	struct text_buf events; /* the open chunk's events, joined with ',' */
	int64_t count; /* events in the open chunk */
	struct text_buf cursor; /* cursor of the last message added */
	struct text_buf done; /* closed chunks, packed */
	int nchunks;
};
void hm_chunker_init(struct hm_chunker *k, const char *cursor, size_t curlen);
void hm_chunker_add(struct hm_chunker *k, const char *event, size_t n);
void hm_chunker_cursor(struct hm_chunker *k, const char *cursor, size_t n);
/* Calls emit with each replay message, in order; stops at and returns emit's non-zero. */
int hm_chunker_finish(struct hm_chunker *k, const char *channel, size_t chlen, int has_gap,
		      int (*emit)(const struct text_buf *msg, const char *cursor, size_t curlen, void *ud),
		      void *ud);
void hm_chunker_free(struct hm_chunker *k);

/* ---- hydromancer: one stream of live messages and replay chunks (hydromancer_merge.c) ---- */

/* Dedup of the events of each channel: an event already emitted (its text, among the last
 * 32,768 emitted of the channel at least) is not emitted again; any other event goes out,
 * live or from a replay chunk, wherever its key (the docs' dedup key, feed_events_foreach)
 * falls: a live event that came out of key order in the recording, a chunk that came late
 * with events the live stream never carried. Only a chunk's event older than every key the
 * window still remembers is taken for one the live stream carried long before. Memory: up
 * to 1 MiB per channel, of pages touched as the channel fills them. */
struct hm_dedup;
struct hm_dedup *hm_dedup_new(void);
/* Forget everything (a stream that starts again). hm_dedup_free(NULL) is a no-op. */
void hm_dedup_reset(struct hm_dedup *d);
void hm_dedup_free(struct hm_dedup *d);
/* Keep the new events of m (a data message or replay chunk of channel m->channel): their
 * texts are appended to 'kept' joined with ',' and remembered. *all says whether every
 * event was kept. Returns the number kept, -EINVAL when the events array is malformed,
 * -ENOMEM. */
int hm_dedup_filter(struct hm_dedup *d, const struct feed_msg *m, struct text_buf *kept, int *all);

/* The name of the member that holds m's events array ("fills", "updates", ...) in payload
 * p; 0 and *name (a slice of p), or -1. */
int hm_msg_events_field(const uint8_t *p, size_t n, const struct feed_msg *m, struct feed_str *name);
/* The events field a channel's live messages use, guessed from its name when no recorded
 * live message says: ...Fills fills, ...Liquidations liquidations, ...Trades trades,
 * ...Updates updates, ...Events events, else data. */
const char *hm_default_events_field(const char *channel, size_t n);
/* A live message of 'channel' (no seq: hm_msg_with_seq adds it) with the cursor (contents;
 * a JSON number when cursor_is_number) and the events joined with ','. */
void hm_msg_live(struct text_buf *b, const char *channel, size_t chlen, const char *field, size_t flen,
		 const char *cursor, size_t curlen, int cursor_is_number, const char *events, size_t elen);
/* Copy of the message p (m classified from it) with its events array replaced by 'events'
 * (joined with ','); every other member as recorded. */
void hm_msg_with_events(struct text_buf *b, const uint8_t *p, size_t n, const struct feed_msg *m,
			const char *events, size_t elen);
/* The "subscriptions" of a reconnected message: up to max slices (string contents) of p.
 * Returns their number, or -1 when there is no such array or it holds more than max. */
int hm_msg_subscriptions(const uint8_t *p, size_t n, struct feed_str *out, int max);
/* An RFC 4122 version 4 UUID ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") from 128 random bits. */
void hm_uuid(char out[37], uint64_t a, uint64_t b);

/* ---- lasersell ---- */

struct ls_client_msg {
	enum { LS_C_OTHER = 0, LS_C_BAD, LS_C_CONFIGURE, LS_C_PING } kind;
	int64_t client_time_ms;
};
void ls_client_parse(const uint8_t *p, size_t n, struct ls_client_msg *m);

/* hello_ok with the given limits object text (NULL: the documented defaults). */
void ls_msg_hello_ok(struct text_buf *b, int64_t session_id, int64_t server_time_ms, const char *limits,
		     size_t limits_len);
void ls_msg_pong(struct text_buf *b, int64_t server_time_ms);
void ls_msg_error(struct text_buf *b, const char *code, const char *message);

/* The "limits" object text of a recorded hello_ok payload; 0 and *out, or -1. */
int ls_hello_limits(const uint8_t *p, size_t n, struct feed_str *out);

/* The session_id of a recorded server message that carries one (hello_ok, and the
 * exit_signal_with_tx and mirror_buy_signal of that session); 0 and *out, or -1 when the
 * message has none or it is not a non-negative integer. A replayed hello_ok carries the
 * recorded id, so that it matches what the later recorded messages carry. */
int ls_session_id(const uint8_t *p, size_t n, int64_t *out);

/* The holdings a LaserSell server re-emits after `configure` on a new connection (its docs:
 * "the server will re-emit balance_update and position_opened events for existing
 * holdings"): the last balance_update of each (wallet_pubkey, mint) and the
 * position_opened of each position not closed since, as recorded up to some point of the
 * stream. Usage: new, then ls_holdings_add for every recorded server message in order, then
 * ls_holdings_foreach, then free. The messages are kept as recorded (byte-exact). */
struct ls_holdings;
struct ls_holdings *ls_holdings_new(void);
/* Returns 0, or ENOMEM (the holdings are then incomplete). */
int ls_holdings_add(struct ls_holdings *h, const uint8_t *p, size_t n);
/* Calls emit for every message to re-emit: balances first, then the positions in the order
 * they opened. Stops at and returns emit's non-zero. */
int
ls_holdings_foreach(const struct ls_holdings *h, int (*emit)(const uint8_t *p, size_t n, void *ud), void *ud);
/* How many messages ls_holdings_foreach would emit. */
size_t ls_holdings_count(const struct ls_holdings *h);
/* ls_holdings_free(NULL) is a no-op. */
void ls_holdings_free(struct ls_holdings *h);

#endif
