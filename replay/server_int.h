/* server_int.h - the replay server's state and the functions its files share
 *
 * One concern per file: server.c (the lws context and callback, the run), client.c (a
 * connection let in, heard, gone), queue.c (what is queued and due), timeline.c (the records
 * as the feed serves them), pump.c (when frames fall due: timers, backlog), write.c
 * (framing and writes), inject.c (faults), session.c (sessions and ids), scan.c (the journal
 * before serving), host.c (struct feed_host for the feed's server side), live.c (the live
 * timeline the clients share), metrics.c (--metrics and /healthz). */
#ifndef WSTAPE_REPLAY_SERVER_INT_H
#define WSTAPE_REPLAY_SERVER_INT_H

#include <libwebsockets.h>
#include <stdint.h>

#include "feeds/feed_server.h"
#include "journal/journal.h"
#include "replay/feed_host.h"
#include "replay/pace.h"
#include "replay/replay.h"
#include "util/log.h"
#include "util/text.h"

#define BURST 256 /* frames taken into one WRITEABLE callback's write at most, for fairness */
#define SPIN_NS 2000000
#define WATCH_NS 20000000 /* how often the paced clients are checked for frames they do not take */
#define RX_KEEP (64 * 1024) /* a client's receive buffer larger than this is freed after its message */
/* data frames of one write, whose lateness is taken when all of it has gone out: at most
 * 2 * BURST (BURST frames, each with a duplicate) */
#define PEND_MAX (2 * BURST + 16)

struct out_frame {
	struct out_frame *next;
	size_t len;
	int binary, data, skip, close_after;
	int tag; /* the feed's mark (struct feed_frame), else -1 */
	size_t cur_len; /* the cursor the feed keeps with it, after the payload */
	uint64_t recno; /* a timeline frame's record (0: the server's own message) */
	int64_t due;
	uint8_t buf[]; /* LWS_PRE + len, then cur_len bytes of cursor */
};

/* A frame of the shared live timeline (live.c): read and framed once, written to every
 * client from its buffer. */
struct live_frame {
	struct live_frame *next;
	unsigned refs; /* clients whose next frame it is */
	int end; /* the end of the timeline: no frame; its clients close */
	int binary;
	int64_t due, wall;
	uint64_t recno;
	uint64_t at; /* framed bytes of the timeline before it */
	size_t len; /* payload bytes */
	size_t hl; /* header bytes: the last hl bytes of the headroom */
	uint8_t buf[]; /* LWS_PRE + len */
};
#define LIVE_FRAMED(f) ((f)->buf + LWS_PRE - (f)->hl)
#define LIVE_FRAMED_LEN(f) ((f)->hl + (f)->len)

struct live_tl {
	struct journal_reader *rd;
	struct pace tl;
	struct live_frame *head, *tail; /* the oldest a client still takes; the newest read (the edge) */
	int clients; /* clients on it */
	int eof, retry; /* at its end; a frame could not be had (the tick tries again) */
	uint64_t at; /* framed bytes read so far */
	uint64_t held; /* framed bytes of the frames held */
	int64_t wait_due; /* when the frame the clients wait for falls due (INT64_MAX: none) */
	lws_sorted_usec_list_t sul;
};

/* A session outlives its connections for the grace period; the feed names it (by an id
 * the client gives again, by its API key) and keeps its own data in it. */
struct session {
	struct session *next;
	char id[48];
	void *feed; /* the feed's data (feed_server_ops.session_free) */
	struct pace tl; /* the session's timeline */
	uint64_t next_recno; /* the record after the last one released to it (0: none) */
	int64_t last_wall; /* receive time of that last record */
	int connected;
	struct client *owner; /* the connection it is connected to */
	int64_t left_mono;
};

struct client {
	struct srv *s;
	struct lws *wsi;
	unsigned id;
	char peer[64];
	struct journal_reader *rd;
	void *fc; /* the feed's state of the connection */
	struct pace tl;
	int started, ended, eof;
	struct out_frame *qh, *qt;
	uint64_t qbytes; /* due and unsent: queued, carried, held by lws */
	uint64_t counted; /* the part of qbytes counted in the server's due_total */
	int let_go; /* being disconnected: its qbytes no longer count in the total */
	int refused; /* sent a message above --max-client-message: closing */
	uint64_t rx_msg; /* bytes of the client message being received */
	struct client *lnext, *lprev; /* the server's clients */
	/* the shared live timeline (live.c): the next frame it takes, and the bytes up to the
	 * edge counted as due for it (NULL: a timeline of its own) */
	struct live_frame *lf;
	uint64_t lag;
	/* the next timeline frame, read ahead */
	struct out_frame *next;
	int64_t next_wall;
	uint64_t next_recno;
	/* feed state */
	struct session *sess;
	int hold; /* the feed holds the timeline's frames back */
	int64_t resume_wall; /* where a resumed session's timeline stood (FEED_TL_RESUME) */
	uint64_t client_msgs, gate_need;
	int64_t last_pong_mono;
	int64_t last_sent_wall;
	struct text_buf rx;
	/* faults */
	uint64_t rng, data_sent, stall_at;
	int64_t pause_until;
	int drop_now; /* 1 --drop-after, 2 --drop-every, 3 the socket is shut */
	int close_now;
	int taken_over; /* its session was resumed on another connection */
	/* the write being built in the server's wbuf (frames framed by hand, no extension) */
	size_t wlen;
	int64_t pend_due[PEND_MAX]; /* due times of the data frames of the last write */
	int npend;
	uint64_t pend_recno; /* record of its first timeline frame, until it has all gone */
	struct out_frame *carry; /* a duplicate's second copy, for the next write */
	size_t inflight; /* bytes of the last write that lws still holds */
	struct out_frame *held; /* --deflate: the frame lws is still compressing from */
	/* stats */
	uint64_t frames, bytes;
	struct hist *lat;
	int anchor; /* restart the timeline at the first frame actually sent */
	int64_t first_due, last_due, last_late;
	int64_t joined_mono;
	lws_sorted_usec_list_t sul_pump, sul_ping, sul_pong, sul_drop;
};

/* What --metrics reports, counted whether it is given or not (lateness only with it). */
enum { FAULT_DROP, FAULT_STALL, FAULT_DUP, FAULT_SKIP, FAULT_KINDS };
#define LATE_BOUNDS 12
struct replay_counts {
	uint64_t clients_total, frames, bytes;
	uint64_t dropped_buffer, dropped_total; /* let go: --max-buffer, --max-buffer-total */
	uint64_t faults[FAULT_KINDS];
	uint64_t late[LATE_BOUNDS + 1]; /* lateness per bucket (metrics.c), with --metrics */
	double late_sum;
};

struct srv {
	struct replay_options *o;
	struct lws_context *ctx;
	struct journal *j;
	uint64_t start_recno;
	int64_t t0_wall;
	int64_t span_wall; /* first to last server frame of the range (--loop) */
	struct pace live;
	int shared; /* the live timeline is shared (live.c) */
	struct live_tl lt;
	struct session *sessions;
	const struct feed_server_ops *ops; /* the server side of the feed */
	void *fs; /* the feed's state of the run */
	struct feed_host host; /* what the feed may ask of the server */
	unsigned next_client_id;
	uint64_t id_counter, id_seed; /* ids the feed asks for: from --seed, else random */
	int clients, served, done;
	struct client *list; /* every connected client */
	struct client *cur; /* the client whose queue is being worked on, if any */
	uint64_t due_total; /* the sum of qbytes over the clients not let go */
	lws_sorted_usec_list_t sul_watch, sul_trim;
	int trim_pending;
	int timer_fd; /* the live timeline's timerfd (timer.c), or -1 */
	struct lws *timer_wsi; /* it in the event loop, or NULL: the lws timer lt.sul is used */
	/* shared by all clients, as one runs at a time: lws copies what a write leaves unsent */
	uint8_t *wbuf; /* LWS_PRE + COALESCE_MAX: the coalesced write being built */
	struct replay_counts n; /* for --metrics (metrics.c) */
	struct replay_metrics *m; /* --metrics; NULL: none */
};

/* the largest coalesced write, and the frame size that goes in a write of its own (write.c) */
#define COALESCE_MAX (256 * 1024)
#define WRITE_ALONE (64 * 1024)

/* metrics.c */
/* --metrics: the endpoint on s->ctx. 0, or REPLAY_ELISTEN after logging why. */
int replay_metrics_start(struct srv *s);
void replay_metrics_free(struct srv *s);
/* A data frame's lateness (ns), with --metrics. */
void replay_metrics_late(struct srv *s, int64_t late);

/* queue.c */
struct out_frame *queue_frame_new_cur(const void *p, size_t n, int binary, const void *cur, size_t cur_len);
struct out_frame *queue_frame_new(const void *p, size_t n, int binary);
void queue_lag_change(struct client *c, uint64_t from, uint64_t to);
void queue_due_add(struct client *c, uint64_t n);
void queue_due_sub(struct client *c, uint64_t n);
void queue_due_release(struct client *c);
void queue_let_go(struct client *c);
void queue_add(struct client *c, struct out_frame *f);
void queue_add_text(struct client *c, const struct text_buf *b);
void queue_drop(struct client *c);
void queue_free(struct client *c);
void queue_over_buffer(struct client *c, const char *what);

/* timeline.c */
void timeline_record_of(const struct journal_record *r, struct feed_record *fr);
int timeline_read_next(struct client *c);
void timeline_edge(struct client *c, int64_t *wall, uint64_t *recno);
void timeline_start(struct client *c, enum feed_timeline how);

/* pump.c */
int pump_ready(const struct client *c, const struct out_frame *f, int64_t now);
void pump_kick(struct client *c);
void pump_watch_cb(lws_sorted_usec_list_t *sul);
void pump_ping_cb(lws_sorted_usec_list_t *sul);
void pump_pong_cb(lws_sorted_usec_list_t *sul);

/* write.c */
int write_on_writeable(struct client *c);
int write_live_now(struct client *c, int64_t now);

/* timer.c */
#define TIMER_PROTOCOL "wstape-timer"
int timer_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);
int timer_open(struct srv *s, struct lws_vhost *vh);
int timer_arm(struct srv *s, int64_t at);
size_t write_frame_header(uint8_t *h, size_t n, int binary);

/* live.c */
int live_shareable(const struct srv *s);
int live_join(struct client *c);
void live_leave(struct client *c);
void live_move(struct client *c, struct live_frame *f);
struct live_frame *live_after(struct srv *s, struct live_frame *f);
void live_lag(struct client *c);
int live_ready(const struct client *c, int64_t now);
void live_tick(struct srv *s);
void live_stop(struct srv *s);

/* inject.c */
int inject_drop(struct client *c, const char *why);
int inject_release(struct client *c, struct out_frame *f);
int inject_after_data(struct client *c, int64_t now);
void inject_drop_cb(lws_sorted_usec_list_t *sul);

/* client.c */
int client_urlarg(struct lws *wsi, const char *name, char *buf, int len);
int client_open(struct client *c, struct lws *wsi);
int client_receive(struct client *c, const void *in, size_t len, int final, uint64_t rest);
void client_left(struct client *c);

/* session.c */
void session_take_over(struct session *sess, struct client *c);
void session_free(struct srv *s, struct session *x);
struct session *session_find(struct srv *s, const char *id);
uint64_t session_id_entropy(void);
void session_id_bits(struct srv *s, uint64_t *a, uint64_t *b);

/* scan.c */
int scan_first_recno_of(const struct journal_conn_info *ci, void *ud);
int scan_journal(struct srv *s);

/* host.c */
void host_init(struct srv *s);

#endif
