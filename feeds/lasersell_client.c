/* lasersell_client.c - the client side of the LaserSell Exit Intelligence Stream: configure
 * on open, wait for hello_ok, app-level pings for round-trip times */
#include "feeds/feed_client_int.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

void
lasersell_client_on_open(struct feed_client *fc, feed_send_fn send, void *ud)
{
	/* Sent at once, as the official SDK does: servers that send hello_ok on connect and
	 * servers that wait for configure first both work. */
	if (fc->configure)
		send(ud, fc->configure, fc->configure_len);
}

int
lasersell_client_on_message(struct feed_client *fc, const struct feed_msg *m,
			    feed_send_fn send, void *ud)
{
	if (m->cls == FEED_MSG_CONTROL && feed_client_str_is(m->type, "hello_ok")) {
		/* the handshake is done: what the SDK queues meanwhile goes now, in order */
		if (!fc->hello_ok)
			feed_client_send_all(fc, send, ud);
		fc->hello_ok = 1;
		if (m->session_id.len) {
			feed_client_set_session(fc, m->session_id.p, m->session_id.len);
			return 1;
		}
	}
	return 0;
}

int
lasersell_client_tick(struct feed_client *fc, uint64_t ms, feed_send_fn send, void *ud)
{
	struct timespec ts;
	char buf[96];
	int n;

	if (!fc->hello_ok)
		return ms >= fc->hello_timeout_ms ? -1 : 0;
	if (!fc->ping_ms)
		return 0;
	if (fc->last_ping_ms && ms < fc->last_ping_ms + fc->ping_ms)
		return 0;
	fc->last_ping_ms = ms ? ms : 1;
	clock_gettime(CLOCK_REALTIME, &ts);
	n = snprintf(buf, sizeof(buf), "{\"type\":\"ping\",\"client_time_ms\":%lld}",
		     (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	send(ud, buf, (size_t)n);
	return 0;
}
