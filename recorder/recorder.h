/* recorder.h - the libwebsockets client behind `wstape record`
 *
 * One recorder runs one recording: it connects to a URL, journals every frame in both
 * directions and every connection event, lets the feed client (feeds/feed_client.h) speak
 * the protocol, and reconnects with backoff until it is stopped (signal, --duration,
 * --max-records), the server refuses the credentials, or the journal fails.
 *
 * The receive thread only classifies and copies: compression and disk writes happen on the
 * journal's writer thread. Secrets (the query parameters of feed_secret_query_param(),
 * x-api-key, Authorization, Cookie, and the headers named secret) are never written to the
 * journal or the logs, and never sent to another origin than the URL's: an HTTP redirect of
 * the upgrade is followed only with follow_redirects, and then to another origin without
 * them. Each attempt has connect_timeout_ms for its TCP connect, TLS handshake and upgrade. A
 * server that breaks RFC 6455 is journaled with what it did wrong (libwebsockets 4.1 names it
 * only in its log, which the recorder reads for that).
 *
 * Errors: functions return 0, a positive errno value, or a negative RECORDER_E* code;
 * recorder_strerror() names them. The library never prints (logs go through util/log.h).
 */
#ifndef WSTAPE_RECORDER_H
#define WSTAPE_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/feed_client.h"

struct journal;

enum {
	RECORDER_EURL = -100, /* the URL cannot be parsed (scheme must be ws or wss) */
	RECORDER_EAUTH = -101, /* HTTP 401 or 403 on upgrade: the credentials were refused */
	RECORDER_EJOURNAL = -102, /* journal_append/flush failed: stats.journal_err says why */
	RECORDER_ELWS = -103, /* libwebsockets could not start (context creation) */
	RECORDER_ERETRIES = -104, /* --retries consecutive attempts failed */
	RECORDER_EINVAL = -105, /* bad options (a header without ':', ...) */
	RECORDER_EREFUSED = -106, /* the server refused the credentials in a message (the feed's
				       "invalid API key"): stats.refusal has its words */
	RECORDER_EMETRICS = -107, /* --metrics cannot listen: stats.last_error says why */
};

/* Who speaks WebSocket on the connection: wstape itself over a connection that
 * libwebsockets opens (TCP, TLS), parsing frames in whole blocks (recorder/ws_*.c), or
 * libwebsockets' own client. The same protocol, journal and events either way. */
enum {
	RECORDER_ENGINE_WSTAPE = 0,
	RECORDER_ENGINE_LWS = 1,
};

struct recorder_stats {
	uint64_t records; /* journaled by this run */
	uint64_t frames_in, frames_out;
	uint64_t bytes_in, bytes_out;
	uint64_t not_json; /* text frames that failed classification as JSON */
	uint64_t connects; /* successful opens */
	uint64_t attempts; /* connection attempts */
	uint64_t reconnects; /* opens after the first */
	uint64_t downtime_ns; /* time not connected, after the first open */
	int64_t started_mono_ns;
	int connected;
	int last_status; /* last HTTP status seen on upgrade (0 = none) */
	int journal_err; /* with RECORDER_EJOURNAL */
	char last_cursor[128]; /* truncated copy, for the status line */
	char last_error[256]; /* last connection error, redacted */
	char refusal[256]; /* with RECORDER_EREFUSED: the server's words */
};

/* What a publisher of the journal (record --publish) reports to the metrics. */
struct recorder_publish_stats {
	const char *stream;
	uint64_t acked_recno; /* the stream has every record to this one */
	uint64_t published, duplicates, resent;
	int connected;
};

struct recorder_options {
	const char *url; /* ws:// or wss:// */
	const char *const *headers; /* "Name: value", sent on upgrade */
	int nheaders;
	const char *const *secret_headers; /* more header names to redact */
	int nsecret_headers;
	const char *ca_file; /* --ca; NULL = the system store */
	int insecure; /* accept any certificate */
	int no_deflate; /* do not offer permessage-deflate */
	struct feed_client_options feed; /* feed.url is set from url when NULL */
	int64_t duration_ns; /* stop after this long; 0 = no limit */
	uint64_t max_records; /* stop after journaling this many; 0 = no limit */
	uint64_t max_message; /* largest message accepted; default 256 MiB */
	unsigned retries; /* give up after this many failed attempts in a row; 0 = never */
	uint32_t ws_ping_ms; /* WebSocket ping frames at this interval; 0 = none */
	int resume; /* continue the journal's last session */
	int exit_on_close; /* stop when the server closes with 1000 */
	int follow_redirects; /* follow HTTP 3xx on upgrade (to another origin without
					       the secret headers and query parameters) */
	uint32_t connect_timeout_ms; /* TCP connect + TLS + upgrade; 0 = 10 s */
	int ws_engine; /* RECORDER_ENGINE_*: who speaks WebSocket */
	const char *metrics; /* serve /metrics and /healthz on HOST:PORT (metrics/http.h); NULL: no */
	int64_t health_max_down_ns; /* /healthz: unhealthy when not connected longer; 0 = 60 s */
	int live_inspect; /* the feed's inspect rules on each record, findings logged: 1 on, -1 off,
			     0 with metrics only */
	/* called about once a second from the recorder's thread, e.g. for a status line */
	void (*status)(const struct recorder_stats *st, void *ud);
	void *status_ud;
	/* --publish: how far the stream got, read at each scrape of --metrics for the
	   wstape_publish_* families (NULL: no such families) */
	void (*publish_stats)(struct recorder_publish_stats *out, void *ud);
	void *publish_ud;
};

/* Record into the open journal j (writer) until stopped. Returns 0 when stopped by
 * recorder_stop(), the duration or max_records; RECORDER_EAUTH, RECORDER_EREFUSED, RECORDER_EJOURNAL,
 * RECORDER_ERETRIES, RECORDER_EURL, RECORDER_ELWS, RECORDER_EINVAL, or ENOMEM.
 * st (may be NULL) receives the final figures. The journal is flushed but not closed. */
int recorder_run(struct journal *j, const struct recorder_options *opt, struct recorder_stats *st);

/* Ask the running recorder to close with 1000 and return. Async-signal-safe. */
void recorder_stop(void);

/* Name of a RECORDER_E* code or errno value. Static string. */
const char *recorder_strerror(int err);

/* The session id and the cursor to resume from, found in journal j recorded with 'feed':
 * the "session_id" metadata, and every channel's cursor in *trk by the rules of the feed's
 * cursor tracker (feeds/feed_client.h: not a live cursor that ran ahead of an unfinished
 * replay): the channels seen in the journal's tail and, for the channels named by the
 * feed's channel metadata whose last cursor lies before it, their last cursor from the
 * index; trk->cursor is the one to resume from. Fills sid with "" when absent. Returns 0
 * or a journal error. */
int recorder_resume_track(struct journal *j, const struct feed *feed, char *sid, size_t sid_size,
			  struct feed_cursor_track *trk);

#endif
