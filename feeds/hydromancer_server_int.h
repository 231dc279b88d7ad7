/* hydromancer_server_int.h - the state of a Hydromancer server, shared by its files
 * (hydromancer_server.c: connections, subscriptions, timeline frames; hydromancer_resume.c:
 * the replay chunks of a resume) */
#ifndef WSTAPE_HYDROMANCER_SERVER_INT_H
#define WSTAPE_HYDROMANCER_SERVER_INT_H

#include "feeds/feed_server.h"
#include "feeds/hydromancer_stream.h"

#define HM_MAX_SUBS 32
#define HM_SUB_LEN 64
#define HM_CURSOR_LEN 128

/* The run: the channels the recording holds (what a subscribe may ask for), its live
 * format, and a buffer for frames rewritten with their seq (one connection at a time). */
struct hm_srv {
	const struct feed_host *h;
	char channels[HM_MAX_SUBS * 4][HM_SUB_LEN];
	int nchannels;
	char live_format[64]; /* liveFormat of the recording ("" = the default) */
	struct text_buf scratch;
};

/* A session's subscriptions, kept for --grace after its connection ends. */
struct hm_sess {
	int nsubs;
	char subs[HM_MAX_SUBS][HM_SUB_LEN];
	char cursor[HM_MAX_SUBS][HM_CURSOR_LEN]; /* server-tracked: the last sent per subscription */
};

/* One connection. */
struct hm_conn {
	struct hm_srv *s;
	const struct feed_host *h;
	struct feed_conn *c;
	struct hm_stream *hs; /* live messages and replay chunks as one stream */
	int started; /* its timeline has started */
	int64_t seq[HM_MAX_SUBS]; /* the last seq sent per subscription, on this connection */
	char live_format[64]; /* this connection's liveFormat ("" = none) */
};

/* The connection's session state, or NULL (none yet, or taken over). */
struct hm_sess *hm_conn_sess(const struct hm_conn *k);

/* Queue the replay of subscription 'sub' for a resume (hydromancer_resume.c): the events
 * after 'cursor' (NULL or "": the session's own cursor) before the client's live edge
 * (edge_wall, edge_recno), within --cache, in chunks. Returns 1 when they do not fit in
 * --max-buffer (nothing is queued then), else 0. */
int hm_queue_replay(struct hm_conn *k, int sub, const char *cursor, int64_t edge_wall, uint64_t edge_recno);

#endif
