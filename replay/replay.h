/* replay.h - the libwebsockets server behind `wstape replay`
 *
 * Serves a journal to WebSocket clients: each recorded server-to-client frame is sent when
 * its pacing says it is due (replay/pace.h), and the server side of the journal's feed
 * (feeds/feed_server.h) answers handshakes, subscriptions, pings and session resumes.
 * Faults (drops, stalls, duplicates, skips) come from a seeded generator per connection,
 * so that the same journal, options and client behaviour give the same bytes.
 *
 * Errors: replay_run returns 0, a positive errno value, or a negative REPLAY_E* code;
 * the library never prints (logs through util/log.h; what the user is told goes to the
 * caller's report callback) and never exits.
 */
#ifndef WSTAPE_REPLAY_H
#define WSTAPE_REPLAY_H

#include <signal.h>
#include <stdint.h>

#include "feeds/feed.h"

enum {
	REPLAY_EJOURNAL = -200, /* the journal does not open or read (detail in the log) */
	REPLAY_ELISTEN = -201, /* cannot listen (port in use, bad address) */
	REPLAY_ELWS = -202, /* libwebsockets could not start */
	REPLAY_EEMPTY = -203, /* nothing to replay in the selected range */
};

enum replay_mode { REPLAY_SESSION = 0, REPLAY_LIVE = 1 };

/* What replay_run reports (replay_options.report); the strings live during the call. */
enum replay_event_kind {
	REPLAY_EV_LISTENING = 0, /* the server listens: where, and what it serves */
	REPLAY_EV_CLIENT_LEFT, /* a client left: what it was sent, how late */
};
struct replay_event {
	int kind;
	/* LISTENING */
	const char *journal, *feed;
	const char *detail; /* the feed's word on the recording ("" : none) */
	double speed; /* 0: max */
	const char *mode; /* "session" or "live" */
	const char *scheme, *host; /* "ws" or "wss"; as given to --listen */
	int port; /* the one bound (also for port 0) */
	/* CLIENT_LEFT */
	unsigned client;
	const char *peer;
	double secs; /* connected for */
	uint64_t frames, bytes;
	double p50_us, p99_us, max_us; /* lateness of its timeline frames */
	int has_drift; /* drift_pct is known: the frames spanned some time */
	double drift_pct; /* lateness of the last frame, in % of the span */
};

struct replay_event;
struct replay_options {
	const char *journal;
	const char *host; /* an IPv4 address or a name; default 127.0.0.1 */
	int port; /* default 8765; 0 = any free port */
	const struct feed *feed;
	double speed; /* > 0; 0 = as fast as the client reads */
	int64_t from_wall; /* INT64_MIN = from the start */
	int64_t to_wall; /* INT64_MAX = to the end */
	uint64_t from_recno; /* 0 = unset */
	const char *from_cursor; /* "CHANNEL=CURSOR" or a bare cursor (any channel); NULL = unset */
	int64_t conn; /* -1 = every recorded connection */
	int loop;
	enum replay_mode mode;
	int once; /* exit when the first client leaves */
	const char *token; /* required token (query "token" or header x-api-key) */
	const char *tls_cert, *tls_key;
	int gate; /* raw: hold frames that followed a client message */
	int deflate; /* accept permessage-deflate (frames then go out one by one) */
	/* faults */
	int64_t drop_every_ns;
	uint64_t drop_after;
	int close_code; /* 0 = abrupt drops */
	int64_t stall_ns;
	double dup_rate, skip_rate;
	uint64_t seed;
	int seed_given; /* --seed was given: hydromancer ids are reproducible too */
	/* hydromancer */
	int64_t grace_ns; /* default 30 s */
	int64_t cache_ns; /* default 30 s */
	int64_t ping_ns; /* server ping interval, default 30 s */
	int64_t pong_timeout_ns; /* default 150 s */
	/* limits */
	uint64_t max_buffer; /* bytes due but not yet sent per client; default 64 MiB */
	uint64_t max_buffer_total; /* the same summed over the clients; default 256 MiB: above
	                              * it, the clients with the most due are let go first */
	uint64_t max_client_message; /* a client's frame or message, bytes; default 1 MiB: a
	                              * larger one closes the connection with 1009 */
	int max_clients; /* default 1024 */
	const char *metrics; /* serve /metrics and /healthz on HOST:PORT (metrics/http.h); NULL: no */
	volatile sig_atomic_t *stop; /* set by a signal handler to stop */
	/* what the server has to say to the user (it never prints): NULL, nothing */
	void (*report)(const struct replay_event *ev, void *ud);
	void *report_ud;
	/* filled by replay_run when listening: the port, also the one chosen for port 0 */
	int bound_port;
};

/* Run the server until *stop is set, or the first client leaves with once. */
int replay_run(struct replay_options *o);

const char *replay_strerror(int err);

/* A piece of a client message as lws hands it over: its bytes, whether it ends a final
 * frame, and how many bytes its frame still declares after it. */
struct replay_piece {
	const void *p;
	size_t len;
	int final;
	uint64_t rest;
};

/* What the server does with a client's message pieces, without a socket (for fuzzing): a
 * client of o->feed connects to the journal j, open (no session id, no cursor, the recording's
 * liveFormat) and sends the pieces, through the same joining, size limits and feed
 * handling as a connected one; each frame then queued for it (its connect answer, the
 * answers, the timeline frames queued) goes to on_frame, in order. Nothing is written and
 * no timer runs. *refused: it was closed for --max-client-message. Returns 0 or an error
 * as replay_run does. */
struct journal;
int replay_client_pieces(struct replay_options *o, struct journal *j, const struct replay_piece *pieces,
			 size_t n, void (*on_frame)(const uint8_t *p, size_t len, int binary, void *ud),
			 void *ud, int *refused);

#endif
