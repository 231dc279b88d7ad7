/* lasersell_client.c - the client half of the LaserSell Exit Intelligence Stream: configure
 * on open, wait for hello_ok (then --send), app-level pings for round-trip times */
#include "feeds/feed_client_int.h"
#include "util/clock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct ls_client {
	char *configure; /* --configure, or NULL */
	size_t configure_len;
	uint32_t ping_ms; /* --ping-s; 0 = none */
	uint64_t last_ping_ms; /* this connection's last ping (ms since open) */
};

static const struct feed_client_opt options[] = {
	{ .name = "--api-key",
	  .type = FEED_OPT_SECRET,
	  .header = "x-api-key",
	  .env = "LASERSELL_API_KEY",
	  .elsewhere = "use -H or the URL for this feed",
	  .arg = "KEY|@FILE|env:NAME",
	  .help = "sent as x-api-key (default $LASERSELL_API_KEY)" },
	{ .name = "--configure",
	  .type = FEED_OPT_MESSAGE,
	  .elsewhere = "use --send for other feeds",
	  .arg = "JSON|@FILE",
	  .help = "configure message sent after each open (default: none)" },
	{ .name = "--ping-s",
	  .type = FEED_OPT_INTERVAL,
	  .arg = "N",
	  .help = "app-level ping every N seconds (round trips journaled; default: none)" },
	{ .name = "--hello-timeout",
	  .type = FEED_OPT_DURATION,
	  .arg = "D",
	  .help = "reconnect when the server's hello has not come after D (default 10s)" },
	{ .name = NULL },
};

static int
ls_init(struct feed_client *fc, const struct feed_client_arg *args, int nargs)
{
	struct ls_client *ls = calloc(1, sizeof(*ls));

	if (!ls)
		return ENOMEM;
	fc->state = ls;
	for (int i = 0; i < nargs; i++) {
		const struct feed_client_arg *a = &args[i];
		if (!strcmp(a->name, "--configure")) {
			free(ls->configure);
			if (!(ls->configure = malloc(a->len + 1)))
				return ENOMEM;
			memcpy(ls->configure, a->value, a->len);
			ls->configure[a->len] = '\0';
			ls->configure_len = a->len;
		} else if (!strcmp(a->name, "--ping-s")) {
			ls->ping_ms = (uint32_t)a->ms;
		} else if (!strcmp(a->name, "--hello-timeout") && a->ms) {
			fc->handshake_ms = (uint32_t)a->ms;
		}
	}
	return 0;
}

static void
ls_fini(struct feed_client *fc)
{
	struct ls_client *ls = fc->state;

	if (ls)
		free(ls->configure);
	free(ls);
}

static void
ls_on_open(struct feed_client *fc, feed_send_fn send, void *ud)
{
	struct ls_client *ls = fc->state;

	ls->last_ping_ms = 0;
	/* Sent at once, as the official SDK does: servers that send hello_ok on connect and
	 * servers that wait for configure first both work. */
	if (ls->configure)
		send(ud, ls->configure, ls->configure_len);
}

static int
ls_on_message(struct feed_client *fc, const struct feed_msg *m, feed_send_fn send, void *ud)
{
	int flags = 0;

	if (m->cls == FEED_MSG_CONTROL && feed_client_str_is(m->type, "hello_ok")) {
		/* the handshake is done: the SDK sends what it queued meanwhile (--send) */
		flags |= FEED_CLIENT_HANDSHAKE;
		if (m->session_id.len) {
			feed_client_set_session(fc, m->session_id.p, m->session_id.len);
			flags |= FEED_CLIENT_SESSION;
		}
	}
	return flags;
}

static void
ls_tick(struct feed_client *fc, uint64_t ms, feed_send_fn send, void *ud)
{
	struct ls_client *ls = fc->state;
	char buf[96];
	int n;

	if (!ls->ping_ms)
		return;
	if (ls->last_ping_ms && ms < ls->last_ping_ms + ls->ping_ms)
		return;
	ls->last_ping_ms = ms ? ms : 1;
	n = snprintf(buf, sizeof(buf), "{\"type\":\"ping\",\"client_time_ms\":%lld}",
		     (long long)(clock_wall_ns() / 1000000));
	send(ud, buf, (size_t)n);
}

const struct feed_client_ops lasersell_client_ops = {
	.options = options,
	.handshake = "hello_ok",
	.handshake_timeout_ms = 10000,
	.init = ls_init,
	.fini = ls_fini,
	.on_open = ls_on_open,
	.on_message = ls_on_message,
	.tick = ls_tick,
};
