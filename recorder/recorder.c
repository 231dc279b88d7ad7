/* recorder.c - the run of one recording: set-up, the service loop and tear-down */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"
#include "util/clock.h"

volatile sig_atomic_t rec_stop_requested;
static struct lws_context *volatile running_ctx;

int64_t
rec_now_ns(clockid_t c)
{
	return clock_ns(c);
}

void
recorder_stop(void)
{
	struct lws_context *c = running_ctx;

	rec_stop_requested = 1;
	if (c)
		lws_cancel_service(c);
}

const char *
recorder_strerror(int err)
{
	switch (err) {
	case RECORDER_EURL: return "bad URL (expected ws://HOST[:PORT]/PATH or wss://...)";
	case RECORDER_EAUTH: return "the server refused the credentials (HTTP 401 or 403)";
	case RECORDER_EREFUSED: return "the server refused the credentials in a message";
	case RECORDER_EMETRICS: return "cannot serve the metrics";
	case RECORDER_EJOURNAL: return "the journal failed";
	case RECORDER_ELWS: return "libwebsockets could not start";
	case RECORDER_ERETRIES: return "gave up after the allowed number of failed attempts";
	case RECORDER_EINVAL: return "bad options";
	default: return err > 0 ? strerror(err) : journal_strerror(err);
	}
}

/* --resume: the session and cursors where the journal's session ended. */
static int
resume_from_journal(struct rec *r)
{
	char sid[FEED_CLIENT_MAX_SESSION + 1];
	struct feed_cursor_track *trk = malloc(sizeof(*trk));
	int err;

	if (!trk)
		return ENOMEM;
	if ((err = recorder_resume_track(r->j, r->feed, sid, sizeof(sid), trk))) {
		log_error("cannot find where the journal's session ended: %s", journal_strerror(err));
		free(trk);
		r->st.journal_err = err;
		return RECORDER_EJOURNAL;
	}
	feed_client_set_session(r->fc, sid, strlen(sid));
	feed_client_set_track(r->fc, trk);
	log_info("resuming session '%s' from cursor '%s'", sid, trk->cursor);
	free(trk);
	return 0;
}

/* The recording's state: headers, the feed client, the resume point. */
static int
rec_new(struct journal *j, const struct recorder_options *opt, struct rec **out)
{
	struct feed_client_options fo = opt->feed;
	struct rec *r;
	int err;

	if (!(*out = r = calloc(1, sizeof(*r))))
		return ENOMEM;
	r->j = j;
	r->o = opt;
	r->feed = opt->feed.feed;
	if (!fo.url)
		fo.url = opt->url;
	if ((err = rec_parse_headers(r)) || (err = rec_userinfo_header(r)) ||
	    (err = feed_client_new(&fo, &r->fc)))
		return err;
	return opt->resume ? resume_from_journal(r) : 0;
}

static void
rec_free(struct rec *r)
{
	rec_drop_queue(r);
	rec_metrics_free(r);
	rec_ws_free(r);
	feed_client_free(r->fc);
	rec_free_secrets(r);
	free(r->url_redacted);
	free(r->redir_location);
	free(r->next_url);
	free(r->redirected_from);
	text_buf_free(&r->url);
	text_buf_free(&r->rx);
	free(r);
}

static struct lws_context *
create_context(struct rec *r)
{
	const struct recorder_options *opt = r->o;
	struct lws_context_creation_info info;
	/* lws's own handshake timeouts (5 s for the upgrade's answer, 20 s for the TCP
	 * connect) must not come before --connect-timeout, which names the phase: lws ends
	 * such a connection without telling the application */
	unsigned ct =
		(opt->connect_timeout_ms ? opt->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS) / 1000 + 5;

	/* info and warn always: a protocol violation by the server is named only there */
	lws_set_log_level(log_threshold >= LOG_DEBUG ? (LLL_ERR | LLL_WARN | LLL_NOTICE | LLL_INFO)
						     : (LLL_ERR | LLL_WARN | LLL_INFO),
			  rec_lws_log_emit);
	memset(&info, 0, sizeof(info));
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = rec_protocols;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
	info.client_ssl_ca_filepath = opt->ca_file;
	info.extensions = opt->no_deflate ? NULL : rec_extensions;
	info.pt_serv_buf_size = 256 * 1024;
	info.fd_limit_per_thread = opt->metrics ? 64 : 16; /* scrapes keep connections open */
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.user = r;
	info.timeout_secs = info.connect_timeout_secs = ct;
	return lws_create_context(&info);
}

/* Connect, and serve until the run is done; returns the run's result. */
static int
serve(struct rec *r)
{
	int err;

	running_ctx = r->ctx;
	r->start_mono = rec_now_ns(CLOCK_MONOTONIC);
	r->down_since = r->start_mono; /* down until the first connection opens */
	r->last_status_mono = r->start_mono;
	lws_sul_schedule(r->ctx, 0, &r->sul_tick, rec_tick_cb, TICK_US);
	rec_connect_attempt(r);
	while (!r->done) {
		if (rec_stop_requested)
			rec_begin_stop(r);
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
	return err;
}

int
recorder_run(struct journal *j, const struct recorder_options *opt, struct recorder_stats *st)
{
	struct rec *r = NULL;
	int err;

	if ((err = rec_new(j, opt, &r)))
		goto out;
	rec_log = r;
	if (!(r->ctx = create_context(r))) {
		err = RECORDER_ELWS;
		goto out;
	}
	r->vh = lws_get_vhost_by_name(r->ctx, "default");
	if ((err = rec_metrics_start(r))) {
		lws_context_destroy(r->ctx);
		r->ctx = NULL;
		goto out;
	}
	if (!(err = serve(r))) {
		int jerr = journal_flush(j);
		if (jerr) {
			r->st.journal_err = jerr;
			err = RECORDER_EJOURNAL;
		}
	}
out:
	rec_log = NULL;
	if (r) {
		if (st)
			*st = r->st;
		rec_free(r);
	}
	return err;
}
