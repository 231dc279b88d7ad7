/* connection.c - the life of a connection attempt: connect, connect timeout, failure,
 * retry with the feed's backoff, the open, and stopping */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

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

void
rec_attempt_failed_in(struct rec *r, const char *why, int status, const char *phase)
{
	char msg[256];

	if (r->attempt_done)
		return;
	r->attempt_done = 1;
	r->wsi = NULL;
	r->cwsi = NULL;
	lws_sul_cancel(&r->sul_connect);
	rec_drop_queue(r);
	if (r->redir_location && status >= 300 && status < 400) {
		int followed = rec_redirect_attempt(r, status);
		free(r->redir_location);
		r->redir_location = NULL;
		r->st.last_status = status;
		r->tls_error[0] = '\0';
		if (!followed) {
			rec_metrics_failure(r, "redirect");
			rec_schedule_retry(r, 1);
		}
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
	rec_metrics_failure(r, phase);
	rec_journal_error(r, msg, phase, status);
	log_info("connection %u to %s failed in phase %s: %s", r->conn, r->url_redacted, phase, msg);
	if (status == 401 || status == 403) {
		log_error("%s answered HTTP %d: the credentials were refused", r->url_redacted, status);
		r->result = RECORDER_EAUTH;
		r->done = 1;
		return;
	}
	rec_schedule_retry(r, 1);
}

void
rec_attempt_failed(struct rec *r, const char *why, int status)
{
	rec_attempt_failed_in(r, why, status, NULL);
}

/* --connect-timeout: the attempt has not opened in time. Its phase: no TCP connection yet
 * (connect), connected but the upgrade request not sent on wss (tls), or the upgrade sent
 * with no answer (http). */
void
rec_connect_timeout_cb(lws_sorted_usec_list_t *sul)
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
	rec_attempt_failed_in(r, why, 0, phase);
	if (w)
		lws_set_timeout(w, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

void
rec_retry_cb(lws_sorted_usec_list_t *sul)
{
	struct rec *r = lws_container_of(sul, struct rec, sul_retry);

	if (!r->stopping && !r->done)
		rec_connect_attempt(r);
}

/* Schedule the next attempt; 'failed' when the one that ended was a failed attempt (it
 * counts against --retries). The delay is the feed's documented backoff for the number of
 * reconnect attempts since the last session ended (feed_backoff_ms: 100, 200, 400 ms ...). */
void
rec_schedule_retry(struct rec *r, int failed)
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
	rec_jevent(r, JOURNAL_ERROR, &b);
	text_buf_free(&b);
	log_info("reconnecting in %u ms (attempt %u)", delay, r->streak);
	lws_sul_schedule(r->ctx, 0, &r->sul_retry, rec_retry_cb, (lws_usec_t)delay * LWS_US_PER_MS);
}

/* The URL of this attempt (the feed's, or a followed redirect's), and the state of a new
 * attempt. */
static void
begin_attempt(struct rec *r)
{
	struct text_buf red = { 0 };

	r->url.len = 0;
	if (r->next_url) {
		/* a followed redirect */
		text_buf_adds(&r->url, r->next_url);
		free(r->next_url);
		r->next_url = NULL;
		r->cross_origin = !rec_same_origin(r->o->url, r->url.p);
	} else {
		r->cross_origin = 0;
		feed_client_url(r->fc, &r->url);
		r->redirects = 0;
		free(r->redirected_from);
		r->redirected_from = NULL;
	}
	free(r->url_redacted);
	feed_redact_url(r->url.p, &red);
	r->url_redacted = red.p;
	rec_collect_url_secrets(r, r->url.p);
	feed_client_set_foreign(r->fc, r->cross_origin);
	r->conn = journal_next_conn(r->j);
	r->attempt_done = r->established = r->attempt_status = 0;
	r->close_code = r->close_by_server = r->close_sent = 0;
	r->close_written = r->close_answered = r->server_close_code = 0;
	r->close_reason[0] = '\0';
	r->proto_error[0] = '\0';
	r->utf8_warned = 0;
	r->hs_sent = 0;
	r->cwsi = NULL;
	free(r->redir_location);
	r->redir_location = NULL;
	r->st.attempts++;
}

/* lws could not start the connection and does not say why; a name that does not resolve
 * is the usual reason, and worth naming (lws's own lookup just failed, so this one answers
 * at once). */
static void
start_failed(struct rec *r, const char *host)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai = NULL;
	int gai = getaddrinfo(host, NULL, &hints, &ai);
	char why[256];

	if (ai)
		freeaddrinfo(ai);
	if (gai) {
		snprintf(why, sizeof(why), "DNS lookup of '%s' failed: %s", host, gai_strerror(gai));
		rec_attempt_failed(r, why, 0);
	} else {
		rec_attempt_failed(r, "cannot start the connection", 0);
	}
}

static uint32_t
connect_timeout_ms(const struct rec *r)
{
	return r->o->connect_timeout_ms ? r->o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
}

void
rec_connect_attempt(struct rec *r)
{
	struct lws_client_connect_info ci;
	const char *prot, *ads, *path;
	char *parse, *full_path = NULL;
	int port, err = 0;

	begin_attempt(r);
	if ((parse = strdup(r->url.p)))
		rec_cut_userinfo(parse);
	if (!parse || lws_parse_uri(parse, &prot, &ads, &port, &path) ||
	    (strcmp(prot, "ws") && strcmp(prot, "wss")))
		err = RECORDER_EURL;
	else if (asprintf(&full_path, "/%s", path) < 0)
		err = ENOMEM;
	if (err) {
		free(parse);
		r->result = err;
		r->done = 1;
		return;
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = r->ctx;
	ci.vhost = r->vh; /* not --metrics' */
	ci.address = ci.host = ci.origin = ads;
	ci.port = port;
	ci.path = full_path;
	ci.local_protocol_name = "wstape-record";
	ci.ssl_connection = LCCSCF_PRIORITIZE_READS;
	ci.pwsi = &r->cwsi;
	/* which attempt a callback is about: one given up on (connect timeout) may still call */
	ci.opaque_user_data = (void *)(uintptr_t)r->conn;
	r->tls = !strcmp(prot, "wss");
	r->engine = r->o->ws_engine;
	if (r->engine == RECORDER_ENGINE_WSTAPE) {
		/* lws opens the TCP connection and leaves it alone: TLS (a raw client connection
		 * with lws's TLS, in lws 4.1.6, ends before its handshake without a callback),
		 * the upgrade and the frames are wstape's (rawws.c) */
		ci.method = "RAW";
		ci.local_protocol_name = "wstape-raw";
		if ((err = rec_ws_begin(r, ads, port, full_path)))
			rec_attempt_failed_in(
				r, err == EINVAL ? "a header holds a line break" : strerror(err), 0, "http");
		if (err || (r->tls && rec_ws_tls_begin(r, ads))) {
			free(full_path);
			free(parse);
			return;
		}
	} else if (r->tls) {
		ci.ssl_connection |= LCCSCF_USE_SSL;
		if (r->o->insecure)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED |
				LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK | LCCSCF_ALLOW_INSECURE |
				LCCSCF_ALLOW_EXPIRED;
	}
	log_info("connecting to %s (connection %u)", r->url_redacted, r->conn);
	r->wsi = NULL;
	lws_sul_schedule(r->ctx, 0, &r->sul_connect, rec_connect_timeout_cb,
			 (lws_usec_t)connect_timeout_ms(r) * LWS_US_PER_MS);
	if (!lws_client_connect_via_info(&ci))
		start_failed(r, ads);
	free(full_path);
	free(parse);
}

/* The journal's open event: where the connection went, its status and attempt, and, after
 * redirects, where it began and what the other origin did not get. */
static void
journal_open_event(struct rec *r)
{
	struct text_buf b = { 0 };

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
		if (feed_client_withheld(r->fc))
			text_buf_addf(&b, ",\"sends_withheld\":%d", feed_client_withheld(r->fc));
	}
	text_buf_adds(&b, "}");
	rec_jevent(r, JOURNAL_OPEN, &b);
	text_buf_free(&b);
}

void
rec_established(struct rec *r, struct lws *wsi)
{
	lws_sul_cancel(&r->sul_connect);
	r->cwsi = NULL;
	r->wsi = wsi;
	r->established = 1;
	r->st.connected = 1;
	r->st.connects++;
	if (r->st.connects > 1)
		r->st.reconnects++;
	r->open_mono = rec_now_ns(CLOCK_MONOTONIC);
	if (r->down_since)
		r->st.downtime_ns += (uint64_t)(r->open_mono - r->down_since);
	r->down_since = 0;
	journal_open_event(r);
	log_info("connected to %s (connection %u)", r->url_redacted, r->conn);
	int withheld = feed_client_withheld(r->fc);
	if (withheld)
		log_warn("connection %u: another origin than the URL's: its %d --send message%s "
			 "withheld (they may hold credentials)",
			 r->conn, withheld, withheld == 1 ? " is" : "s are");
	r->st.last_error[0] = '\0';
	r->last_ws_ping = r->open_mono;
	feed_client_on_open(r->fc, rec_feed_send, r);
}

void
rec_begin_stop(struct rec *r)
{
	if (r->stopping == 1)
		return;
	r->stopping = 1;
	r->stop_deadline = rec_now_ns(CLOCK_MONOTONIC) + STOP_GRACE_NS;
	lws_sul_cancel(&r->sul_retry);
	if (r->wsi && r->established)
		lws_callback_on_writable(r->wsi);
	else
		r->done = 1;
}

void
rec_wsi_destroyed(struct rec *r, struct lws *wsi)
{
	if (!r || wsi != r->cwsi)
		return;
	r->cwsi = NULL;
	/* lws gave the attempt up without a word (its own timeouts do) */
	if (!r->attempt_done && !r->established)
		rec_attempt_failed(r, "the connection ended before the upgrade (no detail)", 0);
}
