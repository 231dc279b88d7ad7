/* recorder_int.h - what the files of the recorder share (not a public header)
 *
 * One struct rec per recording. The files, one concern each: recorder.c (the run: set-up,
 * service loop, tear-down), connection.c (attempts, connect timeout, retries, stop),
 * redirect.c (HTTP redirects of the upgrade, origins), secrets.c (headers, the URL's
 * userinfo, redaction of lws's log lines), frames.c (the send queue, reassembly, what a
 * message means for the session), journaling.c (records, error events, metadata escapes),
 * close.c (the closing handshake and the close event), status.c (the periodic tick),
 * resume.c (the resume point from a journal's tail), metrics.c (--metrics, /healthz, the
 * live inspect), callback.c (the lws callback) and
 * rawws.c (the wstape engine: WebSocket over an lws raw connection, with ws_tls.c,
 * ws_upgrade.c, ws_frame.c and ws_deflate.c).
 */
#ifndef WSTAPE_RECORDER_INT_H
#define WSTAPE_RECORDER_INT_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include <libwebsockets.h>

#include "feeds/feed_client.h"
#include "journal/journal.h"
#include "recorder/recorder.h"
#include "recorder/ws_frame.h"
#include "util/text.h"

#define TICK_US (100 * LWS_US_PER_MS)
#define STOP_GRACE_NS (1000 * 1000000LL) /* wait this long to send the close and get the server's */
#define DEFAULT_MAX_MESSAGE ((uint64_t)256 << 20)
#define STABLE_NS (2000 * 1000000LL) /* a connection that held this long resets the backoff */
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define MAX_REDIRECTS 5 /* followed in a row, with --follow-redirects */
/* lws 4.1 frames a close given to lws_write() as LWS_WRITE_CLOSE (4), which lws-write.h
 * leaves out in favour of lws_close_reason(); rec_write_close (close.c) says why it is used */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)
/* A message waiting for the socket to become writable. */
struct out_msg {
	struct out_msg *next;
	int kind; /* JOURNAL_TEXT or JOURNAL_PING */
	size_t len;
	unsigned char buf[]; /* LWS_PRE headroom, then the payload */
};
struct header {
	char *name; /* with the trailing ':' lws wants */
	char *value;
	int secret;
};
struct rec {
	struct journal *j;
	const struct recorder_options *o;
	struct feed_client *fc;
	const struct feed *feed;
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul_retry, sul_tick, sul_connect;
	struct lws *cwsi; /* the attempt's wsi until it opens or fails (connect timeout) */
	int hs_sent; /* the upgrade request went out (TLS, if any, is done) */
	int tls; /* the attempt is wss:// */
	char proto_error[128]; /* what the server did wrong, from lws's log (RFC 6455) */
	int utf8_warned; /* a text message that is not UTF-8 was journaled as such */

	/* HTTP redirects of the upgrade */
	char *redir_location; /* the Location of the last 3xx (holds secrets) */
	char *next_url; /* the next attempt goes there (a followed redirect) */
	char *redirected_from; /* redacted URL of the attempt that began the redirects */
	unsigned redirects; /* followed in a row */
	int cross_origin; /* this attempt's origin is not the URL's: no secrets */

	struct header *headers;
	int nheaders;
	char **secrets; /* secret values, removed from lws's log lines */
	int nsecrets;
	char tls_error[160]; /* lws's last "SSL error" line: the reason behind "SSL err 1" */
	struct ws_tls_config *tls_cfg; /* the wstape engine's TLS (ws_tls.c), from the first wss:// */
	char tls_cfg_why[240]; /* why it could not be made */

	uint32_t conn;
	int established, attempt_done, attempt_status;
	unsigned streak; /* reconnect attempts since the last session ended (backoff step) */
	unsigned failures; /* failed attempts in a row (--retries) */
	struct text_buf url; /* the URL of the current attempt (holds secrets) */
	char *url_redacted;
	char close_reason[256];
	int close_code, close_by_server, close_sent;
	int close_written, close_answered; /* our close frame went out; the server's came back */
	int server_close_code;
	int refused; /* the server refused the credentials in a message */

	struct text_buf rx; /* reassembly of a fragmented message */
	int rx_binary, rx_oversize;

	struct out_msg *out_head, *out_tail;
	struct rec_ws *ws; /* --ws-engine wstape: the connection's WebSocket state (rawws.c) */
	int engine; /* RECORDER_ENGINE_* of this attempt */

	int stopping, done, result;
	int64_t start_mono, stop_deadline, open_mono, down_since, last_status_mono, last_ws_ping;
	struct recorder_stats st;
	struct lws_vhost *vh; /* the context's default vhost: the connections' */
	struct rec_metrics *m; /* --metrics, live inspect; NULL: neither */
};

/* ---- recorder.c ---- */
extern volatile sig_atomic_t rec_stop_requested;
int64_t rec_now_ns(clockid_t c);

/* ---- connection.c ---- */
void rec_connect_attempt(struct rec *r);
/* The attempt failed before it opened: journal why (phase NULL: guessed from why and the
 * HTTP status), follow a redirect, give up on refused credentials or schedule a retry. */
void rec_attempt_failed_in(struct rec *r, const char *why, int status, const char *phase);
void rec_attempt_failed(struct rec *r, const char *why, int status);
/* LWS_CALLBACK_WSI_DESTROY of either engine: an attempt lws ended without a word failed. */
void rec_wsi_destroyed(struct rec *r, struct lws *wsi);
void rec_connect_timeout_cb(lws_sorted_usec_list_t *sul);
void rec_retry_cb(lws_sorted_usec_list_t *sul);
/* 'failed': the attempt that ended counts against --retries */
void rec_schedule_retry(struct rec *r, int failed);
/* Close with 1000 and end the run (a grace of STOP_GRACE_NS for the server's answer). */
void rec_begin_stop(struct rec *r);
/* LWS_CALLBACK_CLIENT_ESTABLISHED: journal the open, start the feed client. */
void rec_established(struct rec *r, struct lws *wsi);

/* ---- redirect.c ---- */
/* The attempt ended in HTTP 'status' (3xx) with r->redir_location: journal it, follow it
 * when allowed. Returns 1 when followed. */
int rec_redirect_attempt(struct rec *r, int status);
size_t rec_url_userinfo(const char *url, const char **start);
void rec_cut_userinfo(char *url);
int rec_same_origin(const char *a, const char *b);

/* ---- secrets.c ---- */
extern struct rec *rec_log;
void rec_lws_log_emit(int level, const char *line);
void rec_add_secret(struct rec *r, const char *v, size_t n);
void rec_collect_url_secrets(struct rec *r, const char *url);
int rec_parse_headers(struct rec *r);
int rec_userinfo_header(struct rec *r);
/* Free the headers and the secret values (the struct stays). */
void rec_free_secrets(struct rec *r);

/* ---- journaling.c ---- */
/* Journal one record; returns 0 or the run's error (the run then ends). m may be NULL. */
int rec_jappend(struct rec *r, int dir, int kind, const struct feed_msg *m, const void *p, size_t n);
void rec_jevent(struct rec *r, int kind, struct text_buf *b);
void rec_journal_error_ex(struct rec *r, const char *error, const char *phase, int status, const char *extra);
void rec_journal_error(struct rec *r, const char *error, const char *phase, int status);
void rec_classify(struct rec *r, const void *p, size_t n, struct feed_msg *m);
void rec_meta_escape(char *dst, const char *src);
void rec_meta_unescape(char *dst, size_t size, const char *src);
/* The feed client's flags for a message (FEED_CLIENT_*): the session stored, lost or
 * refused; lost: the session id before the message. */
void rec_session_flags(struct rec *r, int flags, const char *lost);

/* ---- frames.c ---- */
void rec_queue_msg(struct rec *r, int kind, const void *p, size_t n);
void rec_feed_send(void *ud, const void *p, size_t n);
void rec_drop_queue(struct rec *r);
int rec_write_one(struct rec *r, struct lws *wsi);
/* Received bytes of a message: first and final say where in it they lie. */
void rec_receive(struct rec *r, const void *in, size_t len, int first, int final, int binary);
/* A frame of ours (WS_OP_TEXT, WS_OP_PING or WS_OP_CLOSE) with payload p[0..n), which has
 * LWS_PRE bytes of headroom, written with the run's engine. Returns 0 or -1. */
int rec_send_frame(struct rec *r, struct lws *wsi, int opcode, unsigned char *p, size_t n);

/* ---- rawws.c ---- */
/* A new attempt with the wstape engine: its upgrade request. Returns 0 or an errno value. */
int rec_ws_begin(struct rec *r, const char *host, int port, const char *path);
/* After rec_ws_begin on wss://: TLS to host over the raw connection. Returns 0, or -1 after
 * failing the attempt (phase tls). */
int rec_ws_tls_begin(struct rec *r, const char *host);
int rec_ws_write(struct rec *r, struct lws *wsi, int opcode, const void *p, size_t n);
void rec_ws_free(struct rec *r);
int rec_ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len);

/* ---- close.c ---- */
void rec_connection_closed(struct rec *r);
/* LWS_CALLBACK_WS_PEER_INITIATED_CLOSE; returns the callback's value. */
int rec_peer_close(struct rec *r, const unsigned char *in, size_t len);
/* WRITEABLE while stopping: write our close frame once. Returns 0, or -1 to close now. */
int rec_write_close(struct rec *r, struct lws *wsi);

/* ---- status.c ---- */
void rec_tick_cb(lws_sorted_usec_list_t *sul);

/* ---- metrics.c ---- */
/* --metrics (the endpoint on r->ctx) and live inspect, when asked for: 0, ENOMEM, an
 * inspect error or RECORDER_EMETRICS (st.last_error says why). */
int rec_metrics_start(struct rec *r);
/* A record journal_append took (recno set); only with r->m. */
void rec_metrics_record(struct rec *r, const struct journal_record *rec);
/* A failed attempt, by its phase (nothing without --metrics). */
void rec_metrics_failure(struct rec *r, const char *phase);
void rec_metrics_tick(struct rec *r, int64_t now);
void rec_metrics_free(struct rec *r);

/* ---- callback.c ---- */
extern const struct lws_protocols rec_protocols[];
extern const struct lws_extension rec_extensions[];

#endif
