/* status.c - the periodic tick: --duration, the grace of a stop, the feed client's tick, WebSocket
 * pings and the status callback */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

void
rec_tick_cb(lws_sorted_usec_list_t *sul)
{
	struct rec *r = lws_container_of(sul, struct rec, sul_tick);
	int64_t now = rec_now_ns(CLOCK_MONOTONIC);

	if (r->o->duration_ns && now - r->start_mono >= r->o->duration_ns)
		rec_begin_stop(r);
	if (r->stopping == 1 && now >= r->stop_deadline)
		r->done = 1;
	if (r->wsi && r->established && !r->stopping) {
		if (feed_client_tick(r->fc, (uint64_t)(now - r->open_mono) / 1000000, rec_feed_send, r) < 0) {
			log_warn("connection %u: the feed's handshake did not complete; reconnecting",
				 r->conn);
			char what[128];
			snprintf(what, sizeof(what), "handshake timeout (%s not received)",
				 feed_client_awaited(r->fc));
			rec_metrics_failure(r, "protocol");
			rec_journal_error(r, what, "protocol", 0);
			r->stopping = 2; /* close this connection, not the run */
			lws_callback_on_writable(r->wsi);
		}
		if (r->o->ws_ping_ms && now - r->last_ws_ping >= (int64_t)r->o->ws_ping_ms * 1000000) {
			char ts[24];
			int n = snprintf(ts, sizeof(ts), "%lld",
					 (long long)(rec_now_ns(CLOCK_REALTIME) / 1000000));
			r->last_ws_ping = now;
			rec_queue_msg(r, JOURNAL_PING, ts, (size_t)n);
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
	rec_metrics_tick(r, now);
	if (!r->done)
		lws_sul_schedule(r->ctx, 0, &r->sul_tick, rec_tick_cb, TICK_US);
	else
		lws_cancel_service(r->ctx);
}
