/* feed_host.h - what the replay server offers the server side of a feed
 *
 * The server side of a feed (struct feed_server_ops, feeds/feed_server.h) decides what a
 * server of that feed answers; the replay server (replay/) owns the sockets, the
 * timelines, the queues and the sessions. This header is all the feed sees of it: a
 * struct of callbacks (struct feed_host) and three opaque handles, so that feeds/ never
 * includes libwebsockets or the journal.
 *
 * Lifetimes: the host outlives every feed state; a struct feed_conn lives from the feed's
 * conn_new to its conn_free; a struct feed_session lives until its grace has passed with
 * no connection (its feed data is then freed with the feed's session_free). Every call
 * is made from the server's one thread.
 */
#ifndef WSTAPE_FEED_HOST_H
#define WSTAPE_FEED_HOST_H

#include <stddef.h>
#include <stdint.h>

struct feed; /* the feed's table (feeds/feed.h) */
struct feed_conn; /* one client connection of the host */
struct feed_session; /* a session of the host: outlives its connections for --grace */
struct feed_reader; /* a reader of the journal being replayed */

/* A record of the journal as the host reads it. The slices live until the next read of
 * the same reader. */
enum feed_rec_dir { FEED_REC_IN = 0, FEED_REC_OUT = 1 }; /* server to client, client to server */
enum feed_rec_kind {
	FEED_REC_TEXT = 0,
	FEED_REC_BINARY = 1,
	FEED_REC_OPEN = 4, /* a recorded connection opened: JSON {"url":...} */
	FEED_REC_CLOSE = 5, /* it closed */
	FEED_REC_OTHER = 6,
};
struct feed_record {
	uint64_t recno;
	int64_t wall_ns; /* receive time */
	uint32_t conn;
	int dir, kind;
	const char *channel;
	size_t channel_len;
	const uint8_t *payload;
	size_t payload_len;
};
/* feed_host.reader_next: the end of the records */
#define FEED_READ_END 1

/* How a connection's timeline starts (feed_host.timeline_start). */
enum feed_timeline {
	FEED_TL_FRESH = 0, /* from the start of the selected range, as a new session (also
			     * the session's timeline, when the connection has one) */
	FEED_TL_LIVE, /* at the live edge of the server's one timeline (--mode live) */
	FEED_TL_SESSION, /* at the edge of its session's timeline (a resume) */
	FEED_TL_RESUME, /* with the first record its session was not sent, paced as if no
			     * time had passed; from the start of the next pass with --loop
			     * when none is left, else at the end */
};

struct feed_host {
	void *ud; /* the host's server: the first argument of its calls */
	const struct feed *feed; /* the feed served (a spec: its declaration) */
	/* the run's settings */
	int live; /* --mode live: one timeline for all clients */
	int64_t to_wall; /* records at or after it are not replayed (INT64_MAX) */
	int64_t conn; /* only the records of this connection (-1: all) */
	int64_t t0_wall; /* receive time of the first frame replayed */
	int64_t cache_ns; /* --cache: how far back a resume's replay reaches */

	/* ---- the journal: a reader of its own per use ---- */
	/* 0, or an error (the journal's codes); *rd until reader_close */
	int (*reader_open)(void *ud, struct feed_reader **rd);
	/* 0 and *r, FEED_READ_END, or an error */
	int (*reader_next)(struct feed_reader *rd, struct feed_record *r);
	int (*reader_seek_recno)(struct feed_reader *rd, uint64_t recno);
	/* the first record at or after wall within the selected range; 0 or an error */
	int (*reader_seek_from)(void *ud, struct feed_reader *rd, int64_t wall);
	void (*reader_close)(struct feed_reader *rd); /* NULL: no-op */
	/* the first record of a channel, of a recorded connection: 1 and *recno, or 0 */
	int (*channel_first)(void *ud, const char *ch, size_t n, uint64_t *recno);
	int (*conn_first)(void *ud, uint32_t conn, uint64_t *recno);

	/* ---- ids and sessions ---- */
	/* the next 128 random bits of the run: the same sequence in every run under --seed */
	void (*id_bits)(void *ud, uint64_t *a, uint64_t *b);
	/* the session named id that is still within its grace (NULL: none; id NULL finds none
	 * and only lets the expired go) */
	struct feed_session *(*session_find)(void *ud, const char *id);

	/* ---- one connection ---- */
	unsigned (*client_id)(struct feed_conn *c); /* from 1, in the order they came */
	/* a query parameter, a request header ("x-api-key:"); 0 and buf, or -1 when absent */
	int (*query)(struct feed_conn *c, const char *name, char *buf, size_t len);
	int (*header)(struct feed_conn *c, const char *name, char *buf, size_t len);
	/* a client without a socket (replay_client_pieces): it asks for what the server has */
	int (*offline)(struct feed_conn *c);
	/* queue a text message for the client, ahead of its timeline's frames */
	void (*send)(struct feed_conn *c, const void *p, size_t n);
	/* close the connection once what is queued has gone out */
	void (*close)(struct feed_conn *c);
	/* what may still be queued for the client within --max-buffer, in bytes */
	uint64_t (*room)(struct feed_conn *c);
	/* what is due is above --max-buffer: say why ('what' follows the client's name) and let
	 * the client go */
	void (*over_buffer)(struct feed_conn *c, const char *what);
	/* the client answered a ping: its pong timeout starts again */
	void (*pong)(struct feed_conn *c);

	/* ---- its timeline ---- */
	void (*timeline_start)(struct feed_conn *c, enum feed_timeline how);
	/* hold the timeline's frames back (on) until the feed lets them go (off) */
	void (*hold)(struct feed_conn *c, int on);
	/* the timeline plays from now on (a resumed one from where it stood) */
	void (*restart_clock)(struct feed_conn *c);
	/* at the end of the timeline, nothing: no close */
	void (*quiet_end)(struct feed_conn *c);
	/* read ahead: 1 and the record of the next frame, 0 when none is left, -1 on error */
	int (*peek)(struct feed_conn *c, uint64_t *recno);
	/* the frame read ahead was made under what has changed (subscriptions): make it again */
	void (*reread)(struct feed_conn *c);
	/* where the timeline stands: the first record not sent yet (UINT64_MAX: over); wall
	 * INT64_MAX, or with 'paced' the recorded time playing now on a paced timeline */
	void (*edge)(struct feed_conn *c, int paced, int64_t *wall, uint64_t *recno);
	/* the recorded time where the cache of --cache begins for this client */
	int64_t (*cache_start)(struct feed_conn *c);
	/* the recorded time a resumed session's timeline stood at (0: not resumed) */
	int64_t (*resume_wall)(struct feed_conn *c);
	/* the recorded time of the last frame sent, else the timeline's start */
	int64_t (*clock_wall)(struct feed_conn *c);

	/* ---- its session ---- */
	struct feed_session *(*session)(struct feed_conn *c); /* NULL: none, or taken over */
	/* a new session named id, the connection's; NULL on ENOMEM */
	struct feed_session *(*session_new)(struct feed_conn *c, const char *id);
	/* the connection resumes the session; one still open on it is closed */
	void (*session_take_over)(struct feed_session *s, struct feed_conn *c);
	const char *(*session_id)(const struct feed_session *s);
	/* the feed's data of the session (freed with feed_server_ops.session_free) */
	void **(*session_data)(struct feed_session *s);
	/* the record after the last one released to it (0: none yet) */
	uint64_t (*session_next_recno)(const struct feed_session *s);
};

#endif
