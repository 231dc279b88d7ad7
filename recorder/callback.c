/* callback.c - the libwebsockets callback of the recorder's protocol */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

/* An attempt given up on (connect timeout) may still call about itself: such a call is
 * stale. */
static int
stale_call(struct rec *r, struct lws *wsi, enum lws_callback_reasons reason)
{
	switch (reason) {
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_CLIENT_CLOSED:
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
	case LWS_CALLBACK_CLIENT_HTTP_REDIRECT:
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
		return r && (uintptr_t)lws_get_opaque_user_data(wsi) != r->conn;
	default: return 0;
	}
}

/* The upgrade request's headers; a redirect to another origin gets no credentials. */
static int
append_headers(struct rec *r, struct lws *wsi, unsigned char **p, unsigned char *end)
{
	r->hs_sent = 1;
	for (int i = 0; i < r->nheaders; i++)
		if (r->cross_origin && r->headers[i].secret)
			continue;
		else if (lws_add_http_header_by_name(wsi, (const unsigned char *)r->headers[i].name,
						     (const unsigned char *)r->headers[i].value,
						     (int)strlen(r->headers[i].value), p, end))
			return -1;
	return 0;
}

static void
connection_error(struct rec *r, struct lws *wsi, const char *in, size_t len)
{
	int status = (int)lws_http_client_http_response(wsi);
	char why[200];

	snprintf(why, sizeof(why), "%.*s", in ? (int)len : 0, in ? in : "");
	if (!status && in) {
		/* lws 4.1 reports a refused upgrade as text; the status follows "HS: " */
		const char *s = strstr(why, "HTTP/1.1 ");
		if (s)
			status = atoi(s + 9);
	}
	rec_attempt_failed(r, why[0] ? why : "connection failed", status);
}

static int
rec_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct rec *r = lws_context_user(lws_get_context(wsi));

	if (stale_call(r, wsi, reason))
		return reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || reason == LWS_CALLBACK_CLIENT_CLOSED
			? 0
			: -1;
	switch (reason) {
	case LWS_CALLBACK_WSI_DESTROY: rec_wsi_destroyed(r, wsi); break;
	case LWS_CALLBACK_CLIENT_HTTP_REDIRECT:
		/* never followed by lws, which would send the same headers to wherever it
		 * points: rec_attempt_failed() decides (--follow-redirects) and connects anew */
		free(r->redir_location);
		r->redir_location = strdup(in ? (const char *)in : "");
		return 1;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in;
		return append_headers(r, wsi, p, *p + len);
	}
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		r->attempt_status = (int)lws_http_client_http_response(wsi);
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED: rec_established(r, wsi); break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: connection_error(r, wsi, in, len); break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		rec_receive(r, in, len, lws_is_first_fragment(wsi), lws_is_final_fragment(wsi),
			    lws_frame_is_binary(wsi));
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE_PONG:
		r->st.frames_in++;
		rec_jappend(r, JOURNAL_IN, JOURNAL_PONG, NULL, in, len);
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: return rec_peer_close(r, in, len);
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (r->stopping && !r->close_by_server)
			return rec_write_close(r, wsi);
		return rec_write_one(r, wsi) ? -1 : 0;
	case LWS_CALLBACK_CLIENT_CLOSED: rec_connection_closed(r); break;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (rec_stop_requested && r)
			rec_begin_stop(r);
		break;
	default: break;
	}
	return 0;
}

const struct lws_protocols rec_protocols[] = {
	{ "wstape-record", rec_callback, 0, 1 << 20, 0, NULL, 0 },
	{ "wstape-raw", rec_ws_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

const struct lws_extension rec_extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	  "permessage-deflate; client_max_window_bits" },
	{ NULL, NULL, NULL },
};
