/* server.c - the replay server: the libwebsockets context, its callback, the run */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "replay/server_int.h"

const char *
replay_strerror(int err)
{
	switch (err) {
	case REPLAY_EJOURNAL: return "cannot read the journal";
	case REPLAY_ELISTEN: return "cannot listen";
	case REPLAY_ELWS: return "libwebsockets could not start";
	case REPLAY_EEMPTY: return "nothing to replay in the selected range";
	default: return err > 0 ? strerror(err) : "unknown replay error";
	}
}

static int
callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in, size_t len)
{
	struct client *c = user;
	struct srv *s = lws_context_user(lws_get_context(wsi));

	switch (reason) {
	case LWS_CALLBACK_ESTABLISHED:
		memset(c, 0, sizeof(*c));
		c->s = s;
		c->wsi = wsi;
		c->lnext = s->list;
		if (s->list)
			s->list->lprev = c;
		s->list = c;
		c->id = ++s->next_client_id;
		c->joined_mono = pace_now();
		c->lat = calloc(1, sizeof(*c->lat));
		lws_get_peer_simple(wsi, c->peer, sizeof(c->peer));
		s->clients++;
		if (!c->lat || s->clients > s->o->max_clients) {
			log_warn("replay: refusing client %u: %d clients already", c->id, s->o->max_clients);
			return -1;
		}
		log_info("replay: client %u connected from %s", c->id, c->peer);
		s->n.clients_total++;
		if (client_open(c, wsi) != 0)
			return -1;
		pump_kick(c);
		break;
	case LWS_CALLBACK_RECEIVE:
		return client_receive(c, in, len, lws_is_final_fragment(wsi),
				      lws_remaining_packet_payload(wsi));
	case LWS_CALLBACK_SERVER_WRITEABLE: return write_on_writeable(c);
	case LWS_CALLBACK_CLOSED:
		if (c->s)
			client_left(c);
		break;
	default: break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
	/* tx_packet_size: lws 4.1 otherwise sends at most rx_buffer_size bytes per socket
	 * write and copies the rest of a larger write aside, also when the socket would take it */
	{ "wstape-replay", callback, sizeof(struct client), 65536, 0, NULL, 1 << 30 },
	{ TIMER_PROTOCOL, timer_callback, 0, 0, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 },
};

static const struct lws_extension extensions[] = {
	{ "permessage-deflate", lws_extension_callback_pm_deflate,
	  "permessage-deflate; client_no_context_takeover; client_max_window_bits" },
	{ NULL, NULL, NULL },
};

static void
lws_log(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	log_msg(level == LLL_ERR ? LOG_WARN : LOG_DEBUG, "lws: %.*s", (int)n, line);
}

/* The IPv4 address to listen on for 'host' (a name such as localhost, or an address) into
 * addr, and whether 'port' is free there: lws says little when it cannot listen, so the
 * reason is found here first. Returns 0, or -1 with the reason in 'why'. */
static int
listen_addr(const char *host, int port, char *addr, size_t addrlen, char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_family = AF_INET, .ai_socktype = SOCK_STREAM }, *res = NULL;
	struct sockaddr_in sa;
	int rc = getaddrinfo(host, NULL, &hints, &res);

	if (rc != 0) {
		snprintf(why, whylen, "%s", rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	memcpy(&sa, res->ai_addr, sizeof(sa));
	freeaddrinfo(res);
	sa.sin_port = htons((uint16_t)port);
	inet_ntop(AF_INET, &sa.sin_addr, addr, (socklen_t)addrlen);
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	if (fd < 0) {
		snprintf(why, whylen, "%s", strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0)
		snprintf(why, whylen, "%s", strerror(errno));
	close(fd);
	return rc ? -1 : 0;
}

static void
options_defaults(struct replay_options *o)
{
	if (!o->host)
		o->host = "127.0.0.1";
	if (!o->grace_ns)
		o->grace_ns = 30000000000LL;
	if (!o->cache_ns)
		o->cache_ns = 30000000000LL;
	if (!o->ping_ns && o->feed && o->feed->server && o->feed->server->ping_every_ms)
		o->ping_ns = (int64_t)o->feed->server->ping_every_ms * 1000000;
	if (!o->ping_ns)
		o->ping_ns = 30000000000LL;
	if (!o->pong_timeout_ns)
		o->pong_timeout_ns = 150000000000LL;
	if (!o->max_buffer)
		o->max_buffer = 64ULL << 20;
	if (!o->max_clients)
		o->max_clients = 1024;
	if (!o->max_buffer_total)
		o->max_buffer_total = 256ULL << 20;
	if (!o->max_client_message)
		o->max_client_message = 1ULL << 20;
}

/* The feed's state of the run, before the scan. Returns 0 or ENOMEM. */
static int
feed_start(struct srv *s)
{
	static const struct feed_server_ops none = { 0 };
	const struct feed *f = s->o->feed;

	s->ops = f && f->server ? f->server : &none;
	host_init(s);
	return s->ops->server_new ? s->ops->server_new(&s->host, &s->fs) : 0;
}

static void
feed_stop(struct srv *s)
{
	while (s->sessions) {
		struct session *x = s->sessions;
		s->sessions = x->next;
		session_free(s, x);
	}
	if (s->ops && s->ops->server_free)
		s->ops->server_free(s->fs);
	s->fs = NULL;
}

/* Open the journal, let the feed learn it, and find where the range starts. */
static int
prepare(struct srv *s)
{
	struct replay_options *o = s->o;
	int rc;

	if ((rc = journal_open(o->journal, JOURNAL_RDONLY, NULL, &s->j, NULL)) != 0) {
		log_error("cannot open journal '%s': %s: %s", o->journal, journal_strerror(rc),
			  journal_last_detail(NULL));
		return REPLAY_EJOURNAL;
	}
	if ((rc = feed_start(s)) != 0)
		return rc;
	if ((rc = scan_journal(s)) != 0) {
		if (rc != REPLAY_EEMPTY)
			log_error("cannot read journal '%s': %s: %s", o->journal, journal_strerror(rc),
				  journal_last_detail(s->j));
		return rc == REPLAY_EEMPTY ? rc : REPLAY_EJOURNAL;
	}
	return 0;
}

static int
context_create(struct srv *s, const char *addr)
{
	struct replay_options *o = s->o;
	struct lws_context_creation_info info;

	lws_set_log_level(LLL_ERR | (log_threshold >= LOG_DEBUG ? LLL_WARN | LLL_NOTICE : 0), lws_log);
	memset(&info, 0, sizeof(info));
	info.port = o->port;
	info.iface = addr;
	info.protocols = protocols;
	if (o->deflate)
		info.extensions = extensions;
	info.user = s;
	info.gid = (gid_t)-1;
	info.uid = (uid_t)-1;
	info.pt_serv_buf_size = 256 * 1024;
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	if (o->tls_cert) {
		info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
		info.ssl_cert_filepath = o->tls_cert;
		info.ssl_private_key_filepath = o->tls_key;
	}
	if (!(s->ctx = lws_create_context(&info))) {
		log_error("cannot start the server on %s:%d", o->host, o->port);
		return REPLAY_ELWS;
	}
	return 0;
}

/* The server listens: say where, through the caller's report. */
static void
report_listening(struct srv *s)
{
	struct replay_options *o = s->o;
	struct replay_event ev = { .kind = REPLAY_EV_LISTENING };
	char detail[128] = "";

	if (!o->report)
		return;
	if (s->ops->describe)
		s->ops->describe(s->fs, detail, sizeof(detail));
	ev.journal = o->journal;
	ev.feed = (o->feed ? o->feed : &feed_raw)->name;
	ev.detail = detail;
	ev.speed = o->speed;
	ev.mode = o->mode == REPLAY_LIVE ? "live" : "session";
	ev.scheme = o->tls_cert ? "wss" : "ws";
	ev.host = o->host;
	ev.port = o->bound_port;
	o->report(&ev, o->report_ud);
}

int
replay_run(struct replay_options *o)
{
	struct srv s;
	char addr[INET_ADDRSTRLEN], why[128];
	int rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.timer_fd = -1;
	s.id_seed = o->seed_given ? o->seed : session_id_entropy();
	options_defaults(o);
	if ((rc = prepare(&s)) != 0)
		goto out;
	if (listen_addr(o->host, o->port, addr, sizeof(addr), why, sizeof(why)) != 0) {
		log_error("cannot listen on %s:%d: %s", o->host, o->port, why);
		rc = REPLAY_ELISTEN;
		goto out;
	}
	s.shared = live_shareable(&s);
	if ((rc = context_create(&s, addr)) != 0 || (rc = replay_metrics_start(&s)) != 0)
		goto out;
	if (!(s.wbuf = malloc(LWS_PRE + COALESCE_MAX))) {
		rc = ENOMEM;
		goto out;
	}
	if (o->speed > 0)
		lws_sul_schedule(s.ctx, 0, &s.sul_watch, pump_watch_cb, WATCH_NS / 1000);
	/* --listen HOST:0 takes any free port: say which */
	struct lws_vhost *vh = lws_get_vhost_by_name(s.ctx, "default");
	o->bound_port = vh ? lws_get_vhost_listen_port(vh) : o->port;
	if (s.shared && vh && timer_open(&s, vh) != 0)
		log_debug("replay: no timerfd (%s): the live timeline uses lws's timer", strerror(errno));
	pace_init(&s.live, o->speed, s.t0_wall, 0);
	report_listening(&s);
	while (!s.done && !(o->stop && *o->stop)) {
		if (lws_service(s.ctx, 0) < 0)
			break;
	}
	lws_sul_cancel(&s.sul_watch);
	lws_sul_cancel(&s.sul_trim);
	lws_sul_cancel(&s.lt.sul);
out:
	if (s.ctx)
		lws_context_destroy(s.ctx);
	replay_metrics_free(&s);
	live_stop(&s);
	free(s.wbuf);
	feed_stop(&s);
	journal_close(s.j);
	return rc;
}

static void
pieces_client(struct client *c, const struct replay_piece *pieces, size_t n,
	      void (*on_frame)(const uint8_t *p, size_t len, int binary, void *ud), void *ud, int *refused)
{
	struct srv *s = c->s;

	c->id = ++s->next_client_id;
	c->joined_mono = pace_now();
	snprintf(c->peer, sizeof(c->peer), "no socket");
	if (client_open(c, NULL) == 0)
		for (size_t i = 0; i < n && !c->refused && !c->let_go; i++)
			if (client_receive(c, pieces[i].p, pieces[i].len, pieces[i].final, pieces[i].rest) !=
			    0)
				break;
	*refused = c->refused;
	for (struct out_frame *f = c->qh; f; f = f->next)
		on_frame(f->buf + LWS_PRE, f->len, f->binary, ud);
	if (c->sess) {
		c->sess->connected = 0;
		c->sess->owner = NULL;
	}
	if (s->ops->conn_free)
		s->ops->conn_free(c->fc);
	queue_free(c);
	journal_reader_close(c->rd);
	text_buf_free(&c->rx);
}

int
replay_client_pieces(struct replay_options *o, struct journal *j, const struct replay_piece *pieces, size_t n,
		     void (*on_frame)(const uint8_t *p, size_t len, int binary, void *ud), void *ud,
		     int *refused)
{
	struct srv s;
	struct client *c;
	int rc;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.timer_fd = -1;
	s.id_seed = o->seed_given ? o->seed : 1;
	options_defaults(o);
	s.j = j;
	if ((rc = feed_start(&s)) != 0)
		goto out;
	if ((rc = scan_journal(&s)) != 0) {
		rc = rc == REPLAY_EEMPTY ? rc : REPLAY_EJOURNAL;
		goto out;
	}
	pace_init(&s.live, o->speed, s.t0_wall, 0);
	if (!(c = calloc(1, sizeof(*c))) || !(c->lat = calloc(1, sizeof(*c->lat)))) {
		free(c);
		rc = ENOMEM;
		goto out;
	}
	c->s = &s;
	s.list = c;
	s.clients = 1;
	pieces_client(c, pieces, n, on_frame, ud, refused);
	free(c->lat);
	free(c);
out:
	feed_stop(&s);
	return rc;
}
