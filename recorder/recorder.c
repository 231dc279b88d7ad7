/* recorder.c - the libwebsockets client: connect, reconnect, journal every frame and event */
#include "recorder/recorder.h"

#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <libwebsockets.h>

#include "journal/journal.h"
#include "util/log.h"
#include "util/text.h"

/* META holds no byte below 0x20: the session id, any string the server chose, is stored with
 * those bytes, DEL and '%' percent-encoded (%XX), and decoded when it is read back. A '%' not
 * followed by two hex digits is taken as it is (a journal written before the encoding). */
static void
meta_escape(char *dst, const char *src)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *src; src++) {
		unsigned char ch = (unsigned char)*src;
		if (ch < 0x20 || ch == 0x7f || ch == '%') {
			*dst++ = '%';
			*dst++ = hex[ch >> 4];
			*dst++ = hex[ch & 15];
		} else
			*dst++ = (char)ch;
	}
	*dst = 0;
}

static int
hexval(char ch)
{
	return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
		: ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static void
meta_unescape(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	while (*src && n + 1 < size) {
		int hi, lo;
		if (src[0] == '%' && (hi = hexval(src[1])) >= 0 && (lo = hexval(src[2])) >= 0 && (hi || lo)) {
			dst[n++] = (char)(hi << 4 | lo);
			src += 3;
		} else
			dst[n++] = *src++;
	}
	if (size)
		dst[n] = 0;
}

#define TICK_US        (100 * LWS_US_PER_MS)
#define STOP_GRACE_NS  (1000 * 1000000LL)  /* wait this long to send the close and get the server's */
#define DEFAULT_MAX_MESSAGE ((uint64_t)256 << 20)
#define STABLE_NS      (2000 * 1000000LL) /* a connection that held this long resets the backoff */
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define MAX_REDIRECTS  5                  /* followed in a row, with --follow-redirects */
/* lws 4.1 frames a close given to lws_write() as LWS_WRITE_CLOSE (4), which lws-write.h
 * leaves out in favour of lws_close_reason(); see the WRITEABLE case for why it is used */
#define WS_WRITE_CLOSE ((enum lws_write_protocol)4)

/* A message waiting for the socket to become writable. */
struct out_msg {
	struct out_msg *next;
	int kind;                       /* JOURNAL_TEXT or JOURNAL_PING */
	size_t len;
	unsigned char buf[];            /* LWS_PRE headroom, then the payload */
};

struct header {
	char *name;                     /* with the trailing ':' lws wants */
	char *value;
	int secret;
};

struct rec {
	struct journal *j;
	const struct recorder_options *o;
	struct feed_client *fc;
	enum feed_id feed;
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul_retry, sul_tick, sul_connect;
	struct lws *cwsi;               /* the attempt's wsi until it opens or fails (connect timeout) */
	int hs_sent;                    /* the upgrade request went out (TLS, if any, is done) */
	int tls;                        /* the attempt is wss:// */
	char proto_error[128];          /* what the server did wrong, from lws's log (RFC 6455) */
	int utf8_warned;                /* a text message that is not UTF-8 was journaled as such */

	/* HTTP redirects of the upgrade */
	char *redir_location;           /* the Location of the last 3xx (holds secrets) */
	char *next_url;                 /* the next attempt goes there (a followed redirect) */
	char *redirected_from;          /* redacted URL of the attempt that began the redirects */
	unsigned redirects;             /* followed in a row */
	int cross_origin;               /* this attempt's origin is not the URL's: no secrets */

	struct header *headers;
	int nheaders;
	char **secrets;                 /* secret values, removed from lws's log lines */
	int nsecrets;
	char tls_error[160];            /* lws's last "SSL error" line: the reason behind "SSL err 1" */

	uint32_t conn;
	int established, attempt_done, attempt_status;
	unsigned streak;                /* reconnect attempts since the last session ended (backoff step) */
	unsigned failures;              /* failed attempts in a row (--retries) */
	struct text_buf url;            /* the URL of the current attempt (holds secrets) */
	char *url_redacted;
	char close_reason[256];
	int close_code, close_by_server, close_sent;
	int close_written, close_answered;  /* our close frame went out; the server's came back */
	int server_close_code;
	int refused;                    /* the server refused the credentials in a message */

	struct text_buf rx;             /* reassembly of a fragmented message */
	int rx_binary, rx_oversize;

	struct out_msg *out_head, *out_tail;

	int stopping, done, result;
	int64_t start_mono, stop_deadline, open_mono, down_since, last_status_mono, last_ws_ping;
	struct recorder_stats st;
};

static volatile sig_atomic_t stop_requested;
static struct lws_context *volatile running_ctx;

static void connect_attempt(struct rec *r);
static void schedule_retry(struct rec *r, int failed);
static void begin_stop(struct rec *r);

static int64_t
now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
recorder_stop(void)
{
	struct lws_context *c = running_ctx;

	stop_requested = 1;
	if (c)
		lws_cancel_service(c);
}

const char *
recorder_strerror(int err)
{
	switch (err) {
	case RECORDER_EURL: return "bad URL (expected ws://HOST[:PORT]/PATH or wss://...)";
	case RECORDER_EAUTH: return "the server refused the credentials";
	case RECORDER_EREFUSED: return "the server refused the credentials";
	case RECORDER_EJOURNAL: return "the journal failed";
	case RECORDER_ELWS: return "libwebsockets could not start";
	case RECORDER_ERETRIES: return "gave up after the allowed number of failed attempts";
	case RECORDER_EINVAL: return "bad options";
	default: return err > 0 ? strerror(err) : journal_strerror(err);
	}
}

/* ---- redaction of lws's log lines ---- */

static struct rec *log_rec;

/* libwebsockets 4.1 fails a connection whose server breaks RFC 6455 without telling the
 * application why: the reason is only in its log (info and warn lines of the client frame
 * parser). These are those lines, and what each means. */
static const struct {
	const char *line, *what;
} violations[] = {
	{ "illegal opcode", "a frame with a reserved opcode" },
	{ "illegal rsv bits set", "a frame with RSV bits set and no extension negotiated" },
	{ "control msg can't be fragmented", "a fragmented control frame" },
	{ "Control frame asking for extended length", "a control frame longer than 125 bytes" },
	{ "disordered continuation", "a continuation frame with no message to continue" },
	{ "hey you owed us a FIN", "a new data frame inside a fragmented message" },
	{ "b63 of length must be zero", "a frame length with its most significant bit set" },
	{ "utf8 error", "a text frame that is not UTF-8" },
};

static void
lws_log_emit(int level, const char *line)
{
	char buf[1024];
	size_t n = strlen(line);
	int lv = level == LLL_ERR ? LOG_INFO : LOG_DEBUG;

	if (log_rec && (level & (LLL_INFO | LLL_WARN)) && !log_rec->proto_error[0])
		for (size_t i = 0; i < sizeof(violations) / sizeof(violations[0]); i++)
			if (strstr(line, violations[i].line)) {
				snprintf(log_rec->proto_error, sizeof(log_rec->proto_error), "%s",
					 violations[i].what);
				break;
			}
	/* info lines are asked for only to catch those above */
	if (level == LLL_INFO || (lv > log_threshold && level != LLL_ERR))
		return;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	for (int i = 0; log_rec && i < log_rec->nsecrets; i++) {
		const char *s = log_rec->secrets[i];
		size_t sl = strlen(s);
		char *p;
		if (!sl)
			continue;
		while ((p = strstr(buf, s))) {
			/* overwrite in place; the line only gets shorter or stays as long */
			static const char red[] = "REDACTED";
			size_t rl = sl < sizeof(red) - 1 ? sl : sizeof(red) - 1;
			memcpy(p, red, rl);
			memmove(p + rl, p + sl, strlen(p + sl) + 1);
		}
	}
	if (log_rec && level == LLL_ERR) {
		const char *e = strstr(buf, "SSL error: ");
		if (e)
			snprintf(log_rec->tls_error, sizeof(log_rec->tls_error), "%s", e + 11);
	}
	if (lv <= log_threshold)
		log_msg(lv, "lws: %s", buf);
}

static void
add_secret(struct rec *r, const char *v, size_t n)
{
	char **s;

	while (n && *v == ' ')
		v++, n--;
	if (n < 3)
		return;
	for (int i = 0; i < r->nsecrets; i++)   /* every attempt collects the URL's again */
		if (strlen(r->secrets[i]) == n && !memcmp(r->secrets[i], v, n))
			return;
	if (!(s = realloc(r->secrets, sizeof(*s) * (size_t)(r->nsecrets + 1))))
		return;
	r->secrets = s;
	if ((s[r->nsecrets] = strndup(v, n)))
		r->nsecrets++;
}

/* Secret values in the URL's query, so that they can be removed from lws's log lines. */
static void
collect_url_secrets(struct rec *r, const char *url)
{
	const char *p = strchr(url, '?');

	if (!p)
		return;
	for (p++; *p && *p != '#';) {
		size_t len = strcspn(p, "&#"), nlen = strcspn(p, "=&#");
		if (nlen < len && feed_secret_query_param(p, nlen))
			add_secret(r, p + nlen + 1, len - nlen - 1);
		p += len;
		if (*p == '&')
			p++;
	}
}

/* ---- journal ---- */

static int
jappend(struct rec *r, int dir, int kind, const struct feed_msg *m, const void *p, size_t n)
{
	struct journal_record rec = { 0 };
	int err;

	if (r->result)
		return r->result;
	rec.wall_ns = now_ns(CLOCK_REALTIME);
	rec.mono_ns = now_ns(CLOCK_MONOTONIC);
	rec.conn = r->conn;
	rec.dir = (uint8_t)dir;
	rec.kind = (uint8_t)kind;
	if (m && m->channel.len && m->channel.len <= JOURNAL_MAX_CHANNEL) {
		rec.channel = m->channel.p;
		rec.channel_len = (uint16_t)m->channel.len;
	}
	if (m && m->cursor.len && m->cursor.len <= JOURNAL_MAX_CURSOR) {
		rec.cursor = (const uint8_t *)m->cursor.p;
		rec.cursor_len = (uint16_t)m->cursor.len;
	}
	rec.payload = p;
	rec.payload_len = n;
	if ((err = journal_append(r->j, &rec))) {
		log_error("journal append failed: %s", journal_strerror(err));
		r->st.journal_err = err;
		r->result = RECORDER_EJOURNAL;
		r->done = 1;
		lws_cancel_service(r->ctx);
		return r->result;
	}
	r->st.records++;
	if (r->o->max_records && r->st.records >= r->o->max_records && !r->stopping) {
		r->stopping = 1;
		r->stop_deadline = now_ns(CLOCK_MONOTONIC) + STOP_GRACE_NS;
		if (r->wsi && r->established)
			lws_callback_on_writable(r->wsi);
		else
			r->done = 1;
	}
	return 0;
}

/* A connection event: kind open/close/error with a small JSON payload. */
static void
jevent(struct rec *r, int kind, struct text_buf *b)
{
	jappend(r, JOURNAL_IN, kind, NULL, b->p, b->len);
}

/* extra: more JSON members (",\"k\":v..."), or NULL */
static void
journal_error_ex(struct rec *r, const char *error, const char *phase, int status, const char *extra)
{
	struct text_buf b = { 0 };

	text_buf_adds(&b, "{\"error\":");
	text_json_string(&b, error, strlen(error));
	text_buf_addf(&b, ",\"phase\":\"%s\",\"attempt\":%u", phase, r->streak ? r->streak : 1);
	if (status)
		text_buf_addf(&b, ",\"status\":%d", status);
	if (extra)
		text_buf_adds(&b, extra);
	text_buf_adds(&b, "}");
	jevent(r, JOURNAL_ERROR, &b);
	text_buf_free(&b);
	snprintf(r->st.last_error, sizeof(r->st.last_error), "%s: %s", phase, error);
}

static void
journal_error(struct rec *r, const char *error, const char *phase, int status)
{
	journal_error_ex(r, error, phase, status, NULL);
}

static void
classify(struct rec *r, const void *p, size_t n, struct feed_msg *m)
{
	if (feed_client_opaque(r->fc)) {
		memset(m, 0, sizeof(*m));
		return;
	}
	feed_classify(r->feed, p, n, m);
}

/* ---- sending ---- */

static void
queue_msg(struct rec *r, int kind, const void *p, size_t n)
{
	struct out_msg *m = malloc(sizeof(*m) + LWS_PRE + n);

	if (!m) {
		log_error("out of memory queueing a %zu-byte message", n);
		return;
	}
	m->next = NULL;
	m->kind = kind;
	m->len = n;
	if (n)
		memcpy(m->buf + LWS_PRE, p, n);
	if (r->out_tail)
		r->out_tail->next = m;
	else
		r->out_head = m;
	r->out_tail = m;
	if (r->wsi)
		lws_callback_on_writable(r->wsi);
}

static void
feed_send(void *ud, const void *p, size_t n)
{
	queue_msg(ud, JOURNAL_TEXT, p, n);
}

static void
drop_queue(struct rec *r)
{
	while (r->out_head) {
		struct out_msg *m = r->out_head;
		r->out_head = m->next;
		free(m);
	}
	r->out_tail = NULL;
}

static int
write_one(struct rec *r, struct lws *wsi)
{
	struct out_msg *m = r->out_head;
	struct feed_msg fm;
	int n;

	if (!m)
		return 0;
	/* journal first: lws_write masks a client's payload in place */
	if (m->kind == JOURNAL_TEXT)
		classify(r, m->buf + LWS_PRE, m->len, &fm);
	jappend(r, JOURNAL_OUT, m->kind, m->kind == JOURNAL_TEXT ? &fm : NULL, m->buf + LWS_PRE, m->len);
	n = lws_write(wsi, m->buf + LWS_PRE, m->len, m->kind == JOURNAL_PING ? LWS_WRITE_PING : LWS_WRITE_TEXT);
	if (n < (int)m->len) {
		log_warn("write of %zu bytes failed on connection %u", m->len, r->conn);
		return -1;
	}
	r->st.frames_out++;
	r->st.bytes_out += m->len;
	r->out_head = m->next;
	if (!r->out_head)
		r->out_tail = NULL;
	free(m);
	if (r->out_head)
		lws_callback_on_writable(wsi);
	return 0;
}

/* ---- receiving ---- */

static void
deliver(struct rec *r, const void *p, size_t n, int binary)
{
	struct feed_msg m;
	int flags;

	r->st.frames_in++;
	r->st.bytes_in += n;
	if (binary) {
		jappend(r, JOURNAL_IN, JOURNAL_BINARY, NULL, p, n);
		return;
	}
	classify(r, p, n, &m);
	if (m.cls == FEED_MSG_NOT_JSON)
		r->st.not_json++;
	if (jappend(r, JOURNAL_IN, JOURNAL_TEXT, &m, p, n))
		return;
	if (!r->utf8_warned && !text_utf8_valid(p, n)) {
		/* RFC 6455 would fail the connection (1007); a recorder keeps what came, as it
		 * came, and says once per connection that the server sends such text */
		r->utf8_warned = 1;
		log_warn("connection %u: a text message is not valid UTF-8 (journaled as received)", r->conn);
		journal_error(r, "protocol violation by the server: a text message that is not UTF-8 "
			      "(journaled as received; the first of this connection)", "protocol", 0);
	}
	if (m.cursor.len) {
		size_t cl = m.cursor.len < sizeof(r->st.last_cursor) - 1 ? m.cursor.len : sizeof(r->st.last_cursor) - 1;
		memcpy(r->st.last_cursor, m.cursor.p, cl);
		r->st.last_cursor[cl] = '\0';
	}
	if (feed_client_opaque(r->fc))
		return;
	char lost[FEED_CLIENT_MAX_SESSION + 1];
	snprintf(lost, sizeof(lost), "%s", feed_client_session(r->fc));
	flags = feed_client_on_message(r->fc, &m, feed_send, r);
	if ((flags & FEED_CLIENT_SESSION) && lost[0] && !feed_client_session(r->fc)[0]) {
		/* journaled, so that the journal says why the next connection is a new session */
		struct text_buf b = { 0 };
		text_buf_adds(&b, "{\"event\":\"session_lost\",\"session_id\":");
		text_json_string(&b, lost, strlen(lost));
		text_buf_adds(&b, ",\"why\":\"the server does not know the session\",\"next\":\"a new session, subscribed again\"}");
		jevent(r, JOURNAL_ERROR, &b);
		text_buf_free(&b);
	}
	if (flags & FEED_CLIENT_SESSION) {
		char esc[3 * FEED_CLIENT_MAX_SESSION + 1];
		meta_escape(esc, feed_client_session(r->fc));
		int err = journal_meta_set(r->j, "session_id", esc);
		if (err)
			log_warn("cannot store the session id in the journal: %s", journal_strerror(err));
		if (flags & FEED_CLIENT_BAD_SESSION) {
			log_warn("connection %u: the server's session id is not a usable JSON string (not "
				 "valid Unicode, a NUL, or over 256 bytes); the next connection creates a new session",
				 r->conn);
			journal_error(r, "the server's session id is not a usable JSON string (not valid Unicode, "
				      "a NUL, or over 256 bytes): not resumable", "protocol", 0);
		} else if (!feed_client_session(r->fc)[0])
			log_info("connection %u: the server does not know the session; the next "
				 "connection creates a new one and subscribes again", r->conn);
	}
	if ((flags & FEED_CLIENT_REFUSED) && !r->refused) {
		r->refused = 1;
		snprintf(r->st.refusal, sizeof(r->st.refusal), "%s", feed_client_refusal(r->fc));
		log_error("%s refused the credentials: \"%s\"", r->url_redacted, r->st.refusal);
		begin_stop(r);
	}
}

static void
receive(struct rec *r, struct lws *wsi, const void *in, size_t len)
{
	int first = lws_is_first_fragment(wsi), final = lws_is_final_fragment(wsi);
	uint64_t max = r->o->max_message ? r->o->max_message : DEFAULT_MAX_MESSAGE;

	if (first && final && !r->rx.len) {
		deliver(r, in, len, lws_frame_is_binary(wsi));
		return;
	}
	if (first && !r->rx.len) {
		r->rx_binary = lws_frame_is_binary(wsi);
		r->rx_oversize = 0;
	}
	if (!r->rx_oversize) {
		if (r->rx.len + len > max) {
			char msg[128];
			snprintf(msg, sizeof(msg), "message larger than %llu bytes dropped", (unsigned long long)max);
			log_warn("connection %u: %s", r->conn, msg);
			journal_error(r, msg, "protocol", 0);
			r->rx_oversize = 1;
			r->rx.len = 0;
		} else {
			text_buf_add(&r->rx, in, len);
		}
	}
	if (final) {
		if (!r->rx_oversize)
			deliver(r, r->rx.p, r->rx.len, r->rx_binary);
		r->rx.len = 0;
		r->rx_oversize = 0;
		/* do not keep a 64 MiB buffer for the rest of the run */
		if (r->rx.cap > (8u << 20)) {
			text_buf_free(&r->rx);
			memset(&r->rx, 0, sizeof(r->rx));
		}
	}
}

/* ---- connection life ---- */

static const char *
error_phase(const char *why, int status)
{
	if (status && status != 101)
		return "http";
	if (!why)
		return "connect";
	if (strcasestr(why, "dns") || strcasestr(why, "getaddrinfo") || strcasestr(why, "resolv") ||
	    strcasestr(why, "lookup"))
		return "dns";
	if (strcasestr(why, "tls") || strcasestr(why, "ssl") || strcasestr(why, "cert") ||
	    strcasestr(why, "x509"))
		return "tls";
	if (strcasestr(why, "HS:") || strcasestr(why, "http") || strcasestr(why, "upgrade") ||
	    strcasestr(why, "101"))
		return "http";
	return "connect";
}

/* ---- HTTP redirects ---- */

static char *
str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* The ws:// or wss:// URL that a Location names, relative to base (http becomes ws, https
 * wss); NULL when it names another scheme. Malloc'd. */
static char *
redirect_target(const char *base, const char *loc)
{
	const char *host = strstr(base, "://"), *path, *q, *slash = NULL;
	size_t c = strcspn(loc, ":/?#");

	if (!host)
		return NULL;
	host += 3;
	path = host + strcspn(host, "/?#");
	if (loc[c] == ':') {
		if (!strncasecmp(loc, "ws://", 5) || !strncasecmp(loc, "wss://", 6))
			return strdup(loc);
		if (!strncasecmp(loc, "http://", 7))
			return str_printf("ws://%s", loc + 7);
		if (!strncasecmp(loc, "https://", 8))
			return str_printf("wss://%s", loc + 8);
		return NULL;
	}
	if (loc[0] == '/' && loc[1] == '/')
		return str_printf("%.*s:%s", (int)(host - 3 - base), base, loc);
	if (loc[0] == '/')
		return str_printf("%.*s%s", (int)(path - base), base, loc);
	q = path + strcspn(path, "?#");
	for (const char *x = path; x < q; x++)
		if (*x == '/')
			slash = x;
	if (slash)
		return str_printf("%.*s%s", (int)(slash + 1 - base), base, loc);
	return str_printf("%.*s/%s", (int)(path - base), base, loc);
}

/* The userinfo of url (scheme://USERINFO@host...): its start and length; 0 when none. */
static size_t
url_userinfo(const char *url, const char **start)
{
	const char *p = strstr(url, "://"), *host_end, *at;

	if (!p)
		return 0;
	p += 3;
	host_end = p + strcspn(p, "/?#");
	if (!(at = memchr(p, '@', (size_t)(host_end - p))))
		return 0;
	*start = p;
	return (size_t)(at - p);
}

/* Removes "USERINFO@" from url in place: lws would take it for the host. The credentials
 * go in an Authorization header instead (parse_headers). */
static void
cut_userinfo(char *url)
{
	const char *s;
	size_t n = url_userinfo(url, &s);

	if (n) {
		char *at = (char *)s + n + 1;
		memmove((char *)s, at, strlen(at) + 1);
	}
}

/* 1 when a and b have the same origin: scheme, host and port (default ports filled in);
 * userinfo is not part of an origin. */
static int
same_origin(const char *a, const char *b)
{
	char *ca = strdup(a), *cb = strdup(b);
	const char *pa, *ha, *xa, *pb, *hb, *xb;
	int porta, portb, same = 0;

	if (ca)
		cut_userinfo(ca);
	if (cb)
		cut_userinfo(cb);
	if (ca && cb && !lws_parse_uri(ca, &pa, &ha, &porta, &xa) && !lws_parse_uri(cb, &pb, &hb, &portb, &xb))
		same = !strcasecmp(pa, pb) && !strcasecmp(ha, hb) && porta == portb;
	free(ca);
	free(cb);
	return same;
}

/* url without userinfo and without the query parameters that hold secrets. Malloc'd. */
static char *
strip_url_secrets(const char *url)
{
	struct text_buf b = { 0 };
	const char *p = url, *q = strstr(url, "://"), *host_end, *at;
	int first = 1;

	if (q) {
		text_buf_add(&b, p, (size_t)(q + 3 - p));
		p = q + 3;
		host_end = p + strcspn(p, "/?#");
		if ((at = memchr(p, '@', (size_t)(host_end - p))))
			p = at + 1;
	}
	q = p + strcspn(p, "?#");
	text_buf_add(&b, p, (size_t)(q - p));
	p = q;
	if (*p == '?') {
		for (p++; *p && *p != '#';) {
			size_t len = strcspn(p, "&#"), nlen = strcspn(p, "=&#");
			if (len && !feed_secret_query_param(p, nlen < len ? nlen : len)) {
				text_buf_add(&b, first ? "?" : "&", 1);
				text_buf_add(&b, p, len);
				first = 0;
			}
			p += len;
			if (*p == '&')
				p++;
		}
	}
	text_buf_adds(&b, p);
	return b.p;
}

/* The redacted form of a URL the server named, safe to put in JSON. Malloc'd. */
static char *
redact_foreign(const char *url)
{
	struct text_buf b = { 0 };

	feed_redact_url(url, &b);
	if (!text_utf8_valid((const uint8_t *)b.p, b.len))
		for (size_t i = 0; i < b.len; i++)
			if ((unsigned char)b.p[i] >= 0x80)
				b.p[i] = '?';
	return b.p;
}

static void retry_cb(lws_sorted_usec_list_t *sul);

/* The attempt ended in HTTP 'status' (3xx) with r->redir_location. Journals the redirect
 * with its target (redacted) and, when allowed, schedules the next attempt there at once.
 * Returns 1 when it is followed, 0 when the attempt failed. */
static int
redirect_attempt(struct rec *r, int status)
{
	char *target = redirect_target(r->url.p, r->redir_location), *shown;
	const char *why_not = NULL;
	struct text_buf err = { 0 }, ex = { 0 };
	int cross = 0, follow = 0;

	if (!target) {
		why_not = "it names a scheme other than ws, wss, http or https";
	} else {
		cross = !same_origin(r->o->url, target);
		if (!strncasecmp(r->url.p, "wss:", 4) && !strncasecmp(target, "ws:", 3))
			why_not = "it goes from wss to unencrypted ws";
		else if (!r->o->follow_redirects)
			why_not = "redirects are followed only with --follow-redirects";
		else if (r->redirects >= MAX_REDIRECTS)
			why_not = "more than 5 redirects in a row";
		else
			follow = 1;
	}
	shown = redact_foreign(target ? target : r->redir_location);
	text_buf_addf(&err, "HTTP %d redirect to %s", status, shown);
	if (why_not)
		text_buf_addf(&err, " not followed: %s", why_not);
	text_buf_adds(&ex, ",\"location\":");
	text_json_string(&ex, shown, strlen(shown));
	text_buf_addf(&ex, ",\"followed\":%s,\"cross_origin\":%s", follow ? "true" : "false",
		      cross ? "true" : "false");
	if (follow && cross)
		text_buf_adds(&ex, ",\"credentials_withheld\":true");
	journal_error_ex(r, err.p, "http", status, ex.p);
	if (follow) {
		log_info("connection %u: %s%s", r->conn, err.p,
			 cross ? " (another origin: without the credentials)" : "");
		if (!r->redirects) {
			free(r->redirected_from);
			r->redirected_from = strdup(r->url_redacted);
		}
		r->redirects++;
		free(r->next_url);
		r->next_url = cross ? strip_url_secrets(target) : target;
		if (cross)
			free(target);
		target = NULL;
		lws_sul_schedule(r->ctx, 0, &r->sul_retry, retry_cb, 1);
	} else {
		log_warn("connection %u: %s", r->conn, err.p);
	}
	free(target);
	free(shown);
	text_buf_free(&err);
	text_buf_free(&ex);
	return follow;
}

/* ---- connection life ---- */

static void
attempt_failed_in(struct rec *r, const char *why, int status, const char *phase)
{
	char msg[256];

	if (r->attempt_done)
		return;
	r->attempt_done = 1;
	r->wsi = NULL;
	r->cwsi = NULL;
	lws_sul_cancel(&r->sul_connect);
	drop_queue(r);
	if (r->redir_location && status >= 300 && status < 400) {
		int followed = redirect_attempt(r, status);
		free(r->redir_location);
		r->redir_location = NULL;
		r->st.last_status = status;
		r->tls_error[0] = '\0';
		if (!followed)
			schedule_retry(r, 1);
		return;
	}
	if (!phase)
		phase = error_phase(why, status);
	if (r->tls_error[0] && !strcmp(phase, "tls"))
		snprintf(msg, sizeof(msg), "%s (%s)", r->tls_error, why);
	else
		snprintf(msg, sizeof(msg), "%s", why && *why ? why : "connection failed");
	r->tls_error[0] = '\0';
	for (int i = 0; i < r->nsecrets; i++) {
		char *s;
		while ((s = strstr(msg, r->secrets[i])))
			memset(s, '*', strlen(r->secrets[i]));
	}
	r->st.last_status = status;
	journal_error(r, msg, phase, status);
	log_info("connection %u to %s failed: %s", r->conn, r->url_redacted, msg);
	if (status == 401 || status == 403) {
		log_error("%s answered HTTP %d: the credentials were refused", r->url_redacted, status);
		r->result = RECORDER_EAUTH;
		r->done = 1;
		return;
	}
	schedule_retry(r, 1);
}

static void
attempt_failed(struct rec *r, const char *why, int status)
{
	attempt_failed_in(r, why, status, NULL);
}

/* --connect-timeout: the attempt has not opened in time. Its phase: no TCP connection yet
 * (connect), connected but the upgrade request not sent on wss (tls), or the upgrade sent
 * with no answer (http). */
static void
connect_timeout_cb(lws_sorted_usec_list_t *sul)
{
	struct rec *r = lws_container_of(sul, struct rec, sul_connect);
	struct lws *w = r->cwsi;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = w ? (int)lws_get_socket_fd(w) : -1;
	int tcp = fd >= 0 && !getpeername(fd, (struct sockaddr *)&ss, &sl);
	const char *phase = !tcp ? "connect" : r->hs_sent || !r->tls ? "http" : "tls";
	uint32_t ms = r->o->connect_timeout_ms ? r->o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	char why[160];

	if (r->attempt_done || r->established)
		return;
	if (!strcmp(phase, "connect"))
		snprintf(why, sizeof(why), "connect timeout: no TCP connection after %.3g s", ms / 1000.0);
	else if (!strcmp(phase, "tls"))
		snprintf(why, sizeof(why), "TLS handshake timeout: no answer after %.3g s", ms / 1000.0);
	else
		snprintf(why, sizeof(why), "upgrade timeout: no HTTP response after %.3g s", ms / 1000.0);
	log_warn("connection %u to %s: %s", r->conn, r->url_redacted, why);
	attempt_failed_in(r, why, 0, phase);
	if (w)
		lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

static void
connection_closed(struct rec *r)
{
	struct text_buf b = { 0 };
	const char *by;
	int code, session, hs;

	if (r->attempt_done)
		return;
	r->attempt_done = 1;
	r->wsi = NULL;
	drop_queue(r);
	if (r->close_sent) {
		/* our close: was it written, and did the server answer it? */
		by = "client";
		code = r->close_code;
	} else if (r->close_by_server) {
		by = "server";
		code = r->close_code;
	} else if (r->proto_error[0]) {
		/* lws failed the connection for what the server sent (without a close frame) */
		char what[200];
		snprintf(what, sizeof(what), "protocol violation by the server: %s", r->proto_error);
		log_warn("connection %u: %s", r->conn, what);
		journal_error(r, what, "protocol", 0);
		by = "client";
		code = 1002;
		snprintf(r->close_reason, sizeof(r->close_reason), "%s", what);
	} else {
		by = "network";
		code = 1006;
	}
	text_buf_addf(&b, "{\"code\":%d,\"reason\":", code);
	text_json_string(&b, r->close_reason, text_utf8_valid((const uint8_t *)r->close_reason,
			 strlen(r->close_reason)) ? strlen(r->close_reason) : 0);
	text_buf_addf(&b, ",\"by\":\"%s\"", by);
	if (!r->close_sent && !r->close_by_server && r->proto_error[0])
		text_buf_adds(&b, ",\"sent\":false");
	if (r->close_sent && r->stopping == 1) {
		text_buf_addf(&b, ",\"sent\":%s,\"answered\":%s", r->close_written ? "true" : "false",
			      r->close_answered ? "true" : "false");
		if (r->close_answered)
			text_buf_addf(&b, ",\"server_code\":%d", r->server_close_code);
	}
	text_buf_adds(&b, "}");
	jevent(r, JOURNAL_CLOSE, &b);
	text_buf_free(&b);
	if (r->close_sent && r->stopping == 1)
		log_info("connection %u closed by client (code %d): close frame %s, %s", r->conn, code,
			 r->close_written ? "sent" : "not sent (the socket never became writable)",
			 r->close_answered ? "answered by the server" : "not answered by the server");
	else
		log_info("connection %u closed by %s (code %d%s%s)", r->conn, by, code,
			 r->proto_error[0] ? ": " : "", r->proto_error);
	r->established = 0;
	r->st.connected = 0;
	r->down_since = now_ns(CLOCK_MONOTONIC);
	/* What makes a session, after which the backoff starts again from its first step: a
	 * feed with a handshake, its completion (LaserSell's SDK: "reset after a session"); the
	 * others, a connection that held STABLE_NS, so that a server that accepts and closes at
	 * once is not hammered every 100 ms. Anything else was one more failed attempt. */
	hs = feed_client_handshake(r->fc);
	session = hs == FEED_CLIENT_NO_HANDSHAKE ? r->down_since - r->open_mono >= STABLE_NS
						 : hs == FEED_CLIENT_HANDSHAKE_DONE;
	feed_client_on_close(r->fc, 1);
	r->rx.len = 0;
	if (r->stopping == 1) {
		r->done = 1;
		return;
	}
	if (r->o->exit_on_close && r->close_by_server && code == 1000) {
		log_info("the server closed with 1000: stopping (--exit-on-close)");
		r->done = 1;
		return;
	}
	if (session) {
		r->streak = 0;
		r->failures = 0;
	}
	schedule_retry(r, !session);
}

static void
retry_cb(lws_sorted_usec_list_t *sul)
{
	struct rec *r = lws_container_of(sul, struct rec, sul_retry);

	if (!r->stopping && !r->done)
		connect_attempt(r);
}

/* Schedule the next attempt; 'failed' when the one that ended was a failed attempt (it
 * counts against --retries). The delay is the feed's documented backoff for the number of
 * reconnect attempts since the last session ended (feed_backoff_ms: 100, 200, 400 ms ...). */
static void
schedule_retry(struct rec *r, int failed)
{
	struct text_buf b = { 0 };
	uint32_t delay;

	if (r->stopping || r->done)
		return;
	if (failed)
		r->failures++;
	if (r->o->retries && r->failures >= r->o->retries) {
		log_info("giving up after %u failed attempt(s) in a row", r->failures);
		r->result = RECORDER_ERETRIES;
		r->done = 1;
		return;
	}
	r->streak++;
	delay = feed_client_backoff_ms(r->fc, r->streak);
	text_buf_addf(&b, "{\"event\":\"reconnect\",\"attempt\":%u,\"delay_ms\":%u}", r->streak, delay);
	jevent(r, JOURNAL_ERROR, &b);
	text_buf_free(&b);
	log_info("reconnecting in %u ms (attempt %u)", delay, r->streak);
	lws_sul_schedule(r->ctx, 0, &r->sul_retry, retry_cb, (lws_usec_t)delay * LWS_US_PER_MS);
}

static void
connect_attempt(struct rec *r)
{
	struct lws_client_connect_info ci;
	const char *prot, *ads, *path;
	char *parse, *full_path;
	int port;

	r->url.len = 0;
	if (r->next_url) {
		/* a followed redirect */
		text_buf_adds(&r->url, r->next_url);
		free(r->next_url);
		r->next_url = NULL;
		r->cross_origin = !same_origin(r->o->url, r->url.p);
	} else {
		r->cross_origin = 0;
		feed_client_url(r->fc, &r->url);
		r->redirects = 0;
		free(r->redirected_from);
		r->redirected_from = NULL;
	}
	free(r->url_redacted);
	{
		struct text_buf red = { 0 };
		feed_redact_url(r->url.p, &red);
		r->url_redacted = red.p;
	}
	collect_url_secrets(r, r->url.p);
	feed_client_set_foreign(r->fc, r->cross_origin);
	r->conn = journal_next_conn(r->j);
	r->attempt_done = 0;
	r->established = 0;
	r->attempt_status = 0;
	r->close_code = 0;
	r->close_by_server = 0;
	r->close_sent = 0;
	r->close_written = 0;
	r->close_answered = 0;
	r->server_close_code = 0;
	r->close_reason[0] = '\0';
	r->proto_error[0] = '\0';
	r->utf8_warned = 0;
	r->hs_sent = 0;
	r->cwsi = NULL;
	free(r->redir_location);
	r->redir_location = NULL;
	r->st.attempts++;

	parse = strdup(r->url.p);
	if (parse)
		cut_userinfo(parse);
	if (!parse || lws_parse_uri(parse, &prot, &ads, &port, &path) ||
	    (strcmp(prot, "ws") && strcmp(prot, "wss"))) {
		free(parse);
		r->result = RECORDER_EURL;
		r->done = 1;
		return;
	}
	if (asprintf(&full_path, "/%s", path) < 0) {
		free(parse);
		r->result = ENOMEM;
		r->done = 1;
		return;
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = r->ctx;
	ci.address = ads;
	ci.port = port;
	ci.path = full_path;
	ci.host = ads;
	ci.origin = ads;
	ci.local_protocol_name = "wstape-record";
	ci.ssl_connection = LCCSCF_PRIORITIZE_READS;
	ci.pwsi = &r->cwsi;
	/* which attempt a callback is about: one given up on (connect timeout) may still call */
	ci.opaque_user_data = (void *)(uintptr_t)r->conn;
	r->tls = !strcmp(prot, "wss");
	if (!strcmp(prot, "wss")) {
		ci.ssl_connection |= LCCSCF_USE_SSL;
		if (r->o->insecure)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK |
					     LCCSCF_ALLOW_INSECURE | LCCSCF_ALLOW_EXPIRED;
	}
	log_info("connecting to %s (connection %u)", r->url_redacted, r->conn);
	r->wsi = NULL;
	lws_sul_schedule(r->ctx, 0, &r->sul_connect, connect_timeout_cb,
			 (lws_usec_t)(r->o->connect_timeout_ms ? r->o->connect_timeout_ms
							       : DEFAULT_CONNECT_TIMEOUT_MS) * LWS_US_PER_MS);
	if (!lws_client_connect_via_info(&ci)) {
		/* lws does not say why; a name that does not resolve is the usual reason, and
		 * worth naming (lws's own lookup just failed, so this one answers at once) */
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
		int gai = getaddrinfo(ads, NULL, &hints, &ai);
		char why[256];
		if (ai)
			freeaddrinfo(ai);
		if (gai) {
			snprintf(why, sizeof(why), "DNS lookup of '%s' failed: %s", ads, gai_strerror(gai));
			attempt_failed(r, why, 0);
		} else {
			attempt_failed(r, "cannot start the connection", 0);
		}
	}
	free(full_path);
	free(parse);
}

static void
begin_stop(struct rec *r)
{
	if (r->stopping == 1)
		return;
	r->stopping = 1;
	r->stop_deadline = now_ns(CLOCK_MONOTONIC) + STOP_GRACE_NS;
	lws_sul_cancel(&r->sul_retry);
	if (r->wsi && r->established)
		lws_callback_on_writable(r->wsi);
	else
		r->done = 1;
}

static void
tick_cb(lws_sorted_usec_list_t *sul)
{
	struct rec *r = lws_container_of(sul, struct rec, sul_tick);
	int64_t now = now_ns(CLOCK_MONOTONIC);

	if (r->o->duration_ns && now - r->start_mono >= r->o->duration_ns)
		begin_stop(r);
	if (r->stopping == 1 && now >= r->stop_deadline)
		r->done = 1;
	if (r->wsi && r->established && !r->stopping) {
		if (feed_client_tick(r->fc, (uint64_t)(now - r->open_mono) / 1000000, feed_send, r) < 0) {
			log_warn("connection %u: the feed's handshake did not complete; reconnecting", r->conn);
			char what[128];
			snprintf(what, sizeof(what), "handshake timeout (%s not received)", feed_client_awaited(r->fc));
			journal_error(r, what, "protocol", 0);
			r->stopping = 2;  /* close this connection, not the run */
			lws_callback_on_writable(r->wsi);
		}
		if (r->o->ws_ping_ms && now - r->last_ws_ping >= (int64_t)r->o->ws_ping_ms * 1000000) {
			char ts[24];
			int n = snprintf(ts, sizeof(ts), "%lld", (long long)(now_ns(CLOCK_REALTIME) / 1000000));
			r->last_ws_ping = now;
			queue_msg(r, JOURNAL_PING, ts, (size_t)n);
		}
	}
	if (r->o->status && now - r->last_status_mono >= 1000000000LL) {
		r->last_status_mono = now;
		if (!r->established && r->down_since) {
			struct recorder_stats s = r->st;
			s.downtime_ns += (uint64_t)(now - r->down_since);
			r->o->status(&s, r->o->status_ud);
		} else {
			r->o->status(&r->st, r->o->status_ud);
		}
	}
	if (!r->done)
		lws_sul_schedule(r->ctx, 0, &r->sul_tick, tick_cb, TICK_US);
	else
		lws_cancel_service(r->ctx);
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct rec *r = lws_context_user(lws_get_context(wsi));
	struct text_buf b = { 0 };
	/* an attempt given up on (connect timeout) may still call about itself */
	int stale = r && (reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || reason == LWS_CALLBACK_CLIENT_CLOSED ||
			  reason == LWS_CALLBACK_CLIENT_ESTABLISHED || reason == LWS_CALLBACK_CLIENT_HTTP_REDIRECT ||
			  reason == LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH ||
			  reason == LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER) &&
		    (uintptr_t)lws_get_opaque_user_data(wsi) != r->conn;

	if (stale)
		return reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || reason == LWS_CALLBACK_CLIENT_CLOSED ? 0 : -1;
	switch (reason) {
	case LWS_CALLBACK_WSI_DESTROY:
		if (r && wsi == r->cwsi) {
			r->cwsi = NULL;
			/* lws gave the attempt up without a word (its own timeouts do) */
			if (!r->attempt_done && !r->established)
				attempt_failed(r, "the connection ended before the upgrade (no detail)", 0);
		}
		break;
	case LWS_CALLBACK_CLIENT_HTTP_REDIRECT:
		/* never followed by lws, which would send the same headers to wherever it
		 * points: attempt_failed() decides (--follow-redirects) and connects anew */
		free(r->redir_location);
		r->redir_location = strdup(in ? (const char *)in : "");
		return 1;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;
		r->hs_sent = 1;
		for (int i = 0; i < r->nheaders; i++)
			if (r->cross_origin && r->headers[i].secret)
				continue;   /* a redirect to another origin gets no credentials */
			else if (lws_add_http_header_by_name(wsi, (const unsigned char *)r->headers[i].name,
							(const unsigned char *)r->headers[i].value,
							(int)strlen(r->headers[i].value), p, end))
				return -1;
		break;
	}
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		r->attempt_status = (int)lws_http_client_http_response(wsi);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		lws_sul_cancel(&r->sul_connect);
		r->cwsi = NULL;
		r->wsi = wsi;
		r->established = 1;
		r->st.connected = 1;
		r->st.connects++;
		if (r->st.connects > 1)
			r->st.reconnects++;
		r->open_mono = now_ns(CLOCK_MONOTONIC);
		if (r->down_since)
			r->st.downtime_ns += (uint64_t)(r->open_mono - r->down_since);
		r->down_since = 0;
		text_buf_adds(&b, "{\"url\":");
		text_json_string(&b, r->url_redacted, strlen(r->url_redacted));
		text_buf_addf(&b, ",\"status\":%d,\"attempt\":%u", r->attempt_status ? r->attempt_status : 101,
			      r->streak ? r->streak : 1);
		if (r->redirected_from) {
			/* the server that answered is the one above; the URL asked first: */
			text_buf_adds(&b, ",\"redirected_from\":");
			text_json_string(&b, r->redirected_from, strlen(r->redirected_from));
			text_buf_addf(&b, ",\"redirects\":%u,\"credentials_withheld\":%s", r->redirects,
				      r->cross_origin ? "true" : "false");
			if (r->cross_origin && r->o->feed.nsends)
				text_buf_addf(&b, ",\"sends_withheld\":%d", r->o->feed.nsends);
		}
		text_buf_adds(&b, "}");
		jevent(r, JOURNAL_OPEN, &b);
		text_buf_free(&b);
		log_info("connected to %s (connection %u)", r->url_redacted, r->conn);
		if (r->cross_origin && r->o->feed.nsends)
			log_warn("connection %u: another origin than the URL's: its %d --send message%s "
				 "withheld (they may hold credentials)", r->conn, r->o->feed.nsends,
				 r->o->feed.nsends == 1 ? " is" : "s are");
		r->st.last_error[0] = '\0';
		r->last_ws_ping = r->open_mono;
		feed_client_on_open(r->fc, feed_send, r);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: {
		int status = (int)lws_http_client_http_response(wsi);
		char why[200];
		snprintf(why, sizeof(why), "%.*s", in ? (int)len : 0, in ? (const char *)in : "");
		if (!status && in) {
			/* lws 4.1 reports a refused upgrade as text; the status follows "HS: " */
			const char *s = strstr(why, "HTTP/1.1 ");
			if (s)
				status = atoi(s + 9);
		}
		attempt_failed(r, why[0] ? why : "connection failed", status);
		break;
	}
	case LWS_CALLBACK_CLIENT_RECEIVE:
		receive(r, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		r->st.frames_in++;
		jappend(r, JOURNAL_IN, JOURNAL_PONG, NULL, in, len);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: {
		int code = 1005;
		if (len >= 2) {
			const unsigned char *c = in;
			code = c[0] << 8 | c[1];
		}
		if (r->close_written) {
			/* the answer to our close: the closing handshake is complete, and lws
			 * must not send a second close frame */
			r->close_answered = 1;
			r->server_close_code = code;
			return -1;
		}
		r->close_by_server = 1;
		r->close_code = code;
		if (len >= 2) {
			const unsigned char *c = in;
			size_t rl = len - 2 < sizeof(r->close_reason) - 1 ? len - 2 : sizeof(r->close_reason) - 1;
			memcpy(r->close_reason, c + 2, rl);
			r->close_reason[rl] = '\0';
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (r->stopping && !r->close_by_server) {
			/* The close frame is written here rather than left to lws (lws_close_reason
			 * and -1), which would need one more WRITEABLE to send it: under a flood
			 * of incoming frames that one may not come before the grace ends, and the
			 * server would never see the close. */
			static const char bye[] = "wstape record stopped", hs[] = "handshake timeout";
			const char *why = r->stopping == 2 ? hs : bye;
			unsigned char frame[LWS_PRE + 2 + sizeof(bye)];
			size_t n = strlen(why);
			if (r->close_written)
				break;   /* waiting for the server's answer */
			frame[LWS_PRE] = LWS_CLOSE_STATUS_NORMAL >> 8;
			frame[LWS_PRE + 1] = LWS_CLOSE_STATUS_NORMAL & 0xff;
			memcpy(frame + LWS_PRE + 2, why, n);
			r->close_sent = 1;
			r->close_code = 1000;
			snprintf(r->close_reason, sizeof(r->close_reason), "%s", why);
			if (lws_write(wsi, frame + LWS_PRE, n + 2, WS_WRITE_CLOSE) < (int)(n + 2))
				return -1;
			r->close_written = 1;
			if (r->stopping == 2) {
				r->stopping = 0;   /* this connection only: on to the next attempt */
				return -1;
			}
			/* give the server up to STOP_GRACE_NS to answer */
			r->stop_deadline = now_ns(CLOCK_MONOTONIC) + STOP_GRACE_NS;
			break;
		}
		if (write_one(r, wsi))
			return -1;
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		connection_closed(r);
		break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (stop_requested && r)
			begin_stop(r);
		break;
	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	{ "wstape-record", callback, 0, 1 << 20, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static const struct lws_extension extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	  "permessage-deflate; client_max_window_bits" },
	{ NULL, NULL, NULL },
};

/* The URL's userinfo (user:password, percent-decoded) as the header "Authorization: Basic
 * BASE64", as WebSocket clients do, unless the user gave an Authorization header: a secret,
 * so never sent to another origin. Returns 0, ENOMEM or RECORDER_EURL (too long). */
static int
userinfo_header(struct rec *r)
{
	const char *ui;
	size_t n = url_userinfo(r->o->url, &ui);
	char dec[512], b64[700 + 8];
	struct header *hd;
	int dn;

	if (!n)
		return 0;
	for (int i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, "Authorization:"))
			return 0;
	if (n >= sizeof(dec))
		return RECORDER_EURL;
	memcpy(dec, ui, n);
	dec[n] = '\0';
	add_secret(r, dec, n);
	if (lws_urldecode(dec, dec, (int)sizeof(dec)))
		return RECORDER_EURL;
	dn = (int)strlen(dec);
	if (lws_b64_encode_string(dec, dn, b64 + 6, (int)sizeof(b64) - 6) < 0)
		return RECORDER_EURL;
	memcpy(b64, "Basic ", 6);
	{
		const char *colon = strchr(dec, ':');
		if (colon && colon[1])
			add_secret(r, colon + 1, strlen(colon + 1));
	}
	hd = &r->headers[r->nheaders];
	if (!(hd->name = strdup("Authorization:")) || !(hd->value = strdup(b64)))
		return ENOMEM;
	hd->secret = 1;
	r->nheaders++;
	add_secret(r, b64 + 6, strlen(b64 + 6));
	return 0;
}

static int
parse_headers(struct rec *r)
{
	const struct recorder_options *o = r->o;

	/* one more for the URL's userinfo (userinfo_header) */
	if (!(r->headers = calloc((size_t)o->nheaders + 1, sizeof(*r->headers))))
		return ENOMEM;
	for (int i = 0; i < o->nheaders; i++) {
		const char *h = o->headers[i], *colon = strchr(h, ':');
		struct header *hd = &r->headers[i];
		if (!colon || colon == h)
			return RECORDER_EINVAL;
		if (asprintf(&hd->name, "%.*s:", (int)(colon - h), h) < 0) {
			hd->name = NULL;
			return ENOMEM;
		}
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		if (!(hd->value = strdup(colon)))
			return ENOMEM;
		r->nheaders++;
		hd->secret = feed_secret_header(h, (size_t)(strchr(h, ':') - h));
		for (int k = 0; k < o->nsecret_headers; k++) {
			size_t n = strlen(o->secret_headers[k]);
			while (n && o->secret_headers[k][n - 1] == ':')
				n--;
			if ((size_t)(strchr(h, ':') - h) == n && !strncasecmp(h, o->secret_headers[k], n))
				hd->secret = 1;
		}
		if (hd->secret) {
			add_secret(r, hd->value, strlen(hd->value));
			/* "Bearer XYZ": the token alone may also appear in a log line */
			const char *sp = strrchr(hd->value, ' ');
			if (sp)
				add_secret(r, sp + 1, strlen(sp + 1));
		}
	}
	return 0;
}

struct chan_fill {
	struct feed_cursor_track *trk;
	const char *subs;               /* the journal's subscriptions, comma-separated ("" = any) */
};

static int
name_listed(const char *list, const char *name, size_t n)
{
	for (const char *p = list; *p;) {
		size_t l = strcspn(p, ",");
		if (l == n && !memcmp(p, name, n))
			return 1;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
fill_channel(const struct journal_channel_info *ci, void *ud)
{
	struct chan_fill *f = ud;

	if (ci->last_cursor_len && (!f->subs[0] || name_listed(f->subs, ci->name, ci->name_len)) &&
	    !feed_cursor_track_has(f->trk, ci->name, ci->name_len))
		feed_cursor_track_set(f->trk, ci->name, ci->name_len, (const char *)ci->last_cursor,
				      ci->last_cursor_len);
	return 0;
}

int
recorder_resume_track(struct journal *j, enum feed_id feed, char *sid, size_t sid_size,
		      struct feed_cursor_track *trk)
{
	struct journal_reader *rd;
	struct journal_stats st;
	struct journal_record rec;
	const struct feed *fd = feed_get(feed);
	const char *chans_meta = fd && fd->client ? fd->client->channels_meta : NULL;
	const char *v = journal_meta_get(j, "session_id");
	uint64_t from;
	int err;

	meta_unescape(sid, sid_size, v ? v : "");
	feed_cursor_track_init(trk, feed);
	if ((err = journal_stats(j, &st)) || !st.records)
		return err;
	/* Scan back from the end in growing windows until a record with a cursor shows up.
	 * A feed with a tracker of its own has its frames go through it, so that a resume that
	 * was cut off in the middle of a replay resumes from the last replay chunk, not from a
	 * live message that ran ahead of it. */
	for (uint64_t win = 4096;; win *= 8) {
		from = st.last_recno > win ? st.last_recno - win : 1;
		if ((err = journal_reader_open(j, &rd)))
			return err;
		feed_cursor_track_init(trk, feed);
		err = journal_reader_seek_recno(rd, from);
		while (!err && !(err = journal_reader_next(rd, &rec))) {
			if (rec.dir == JOURNAL_IN)
				feed_cursor_track_record(trk, rec.kind == JOURNAL_TEXT, rec.payload, rec.payload_len,
							 rec.cursor, rec.cursor_len, rec.wall_ns / 1000000);
		}
		journal_reader_close(rd);
		if (err != JOURNAL_EOF)
			return err;
		if (trk->cursor[0] || from == 1)
			break;
	}
	/* A subscribed channel whose last message lies before the window resumes from its
	 * last cursor in the index: the oldest of the channels' cursors is the one sent. */
	if (chans_meta && from > 1) {
		const char *subs = journal_meta_get(j, chans_meta);
		struct chan_fill f = { trk, subs ? subs : "" };
		if ((err = journal_channel_foreach(j, fill_channel, &f)))
			return err;
	}
	return 0;
}

int
recorder_run(struct journal *j, const struct recorder_options *opt, struct recorder_stats *st)
{
	struct lws_context_creation_info info;
	struct feed_client_options fo;
	struct rec *r;
	int err;

	if (!(r = calloc(1, sizeof(*r))))
		return ENOMEM;
	r->j = j;
	r->o = opt;
	r->feed = opt->feed.feed;
	fo = opt->feed;
	if (!fo.url)
		fo.url = opt->url;
	if ((err = parse_headers(r)) || (err = userinfo_header(r)))
		goto out;
	if ((err = feed_client_new(&fo, &r->fc)))
		goto out;
	if (opt->resume) {
		char sid[FEED_CLIENT_MAX_SESSION + 1];
		struct feed_cursor_track *trk = malloc(sizeof(*trk));
		if (!trk) {
			err = ENOMEM;
			goto out;
		}
		if ((err = recorder_resume_track(j, r->feed, sid, sizeof(sid), trk))) {
			log_error("cannot find where the journal's session ended: %s", journal_strerror(err));
			free(trk);
			r->st.journal_err = err;
			err = RECORDER_EJOURNAL;
			goto out;
		}
		feed_client_set_session(r->fc, sid, strlen(sid));
		feed_client_set_track(r->fc, trk);
		log_info("resuming session '%s' from cursor '%s'", sid, trk->cursor);
		free(trk);
	}

	log_rec = r;
	/* info and warn always: a protocol violation by the server is named only there */
	lws_set_log_level(log_threshold >= LOG_DEBUG ? (LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO)
						     : (LLL_ERR | LLL_WARN | LLL_INFO),
			  lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = opt->ca_file;
	info.extensions = opt->no_deflate ? NULL : extensions;
	info.pt_serv_buf_size = 256 * 1024;
	info.fd_limit_per_thread = 16;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.user = r;
	{
		/* lws's own handshake timeouts (5 s for the upgrade's answer, 20 s for the
		 * TCP connect) must not come before --connect-timeout, which names the phase:
		 * lws ends such a connection without telling the application */
		unsigned ct = (opt->connect_timeout_ms ? opt->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS) / 1000 + 5;
		info.timeout_secs = info.connect_timeout_secs = ct;
	}
	if (!(r->ctx = lws_create_context(&info))) {
		err = RECORDER_ELWS;
		goto out;
	}
	running_ctx = r->ctx;
	r->start_mono = now_ns(CLOCK_MONOTONIC);
	r->down_since = r->start_mono;   /* down until the first connection opens */
	r->last_status_mono = r->start_mono;
	lws_sul_schedule(r->ctx, 0, &r->sul_tick, tick_cb, TICK_US);
	connect_attempt(r);
	while (!r->done) {
		if (stop_requested)
			begin_stop(r);
		if (r->done)
			break;
		if (lws_service(r->ctx, 0) < 0)
			break;
	}
	err = r->result;
	if (!err && r->refused)
		err = RECORDER_EREFUSED;
	running_ctx = NULL;
	lws_sul_cancel(&r->sul_retry);
	lws_sul_cancel(&r->sul_tick);
	lws_sul_cancel(&r->sul_connect);
	lws_context_destroy(r->ctx);
	r->ctx = NULL;
	if (!err) {
		int jerr = journal_flush(j);
		if (jerr) {
			r->st.journal_err = jerr;
			err = RECORDER_EJOURNAL;
		}
	}
out:
	log_rec = NULL;
	if (st)
		*st = r->st;
	drop_queue(r);
	feed_client_free(r->fc);
	for (int i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	for (int i = 0; i < r->nsecrets; i++)
		free(r->secrets[i]);
	free(r->secrets);
	free(r->url_redacted);
	free(r->redir_location);
	free(r->next_url);
	free(r->redirected_from);
	text_buf_free(&r->url);
	text_buf_free(&r->rx);
	free(r);
	return err;
}
