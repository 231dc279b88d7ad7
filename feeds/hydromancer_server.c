/* hydromancer_server.c - what a Hydromancer server does: connections, sessions by their
 * id, subscriptions, seq per connection, pings (struct feed_server_ops)
 *
 * The docs' server: `connected` with a fresh clientId and sessionId; subscribe answered with
 * subscriptionUpdate (subscribed, or failed for a channel the recording does not hold);
 * only the subscribed channels' live messages, numbered from 1 per connection and
 * subscription; ?sessionId= within --grace gives `reconnected` with the subscriptions
 * restored and the replay chunks of what was missed (hydromancer_resume.c); liveFormat is
 * read from every connection's query. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed_int.h"
#include "feeds/hydromancer_server_int.h"
#include "util/log.h"

/* ---- the run ---- */

static int
hm_server_new(const struct feed_host *h, void **out)
{
	struct hm_srv *s = calloc(1, sizeof(*s));
	if (!s)
		return ENOMEM;
	s->h = h;
	*out = s;
	return 0;
}

static void
hm_server_free(void *srv)
{
	struct hm_srv *s = srv;
	if (!s)
		return;
	text_buf_free(&s->scratch);
	free(s);
}

static int
channel_known(const struct hm_srv *s, const char *ch, size_t n)
{
	for (int i = 0; i < s->nchannels; i++)
		if (strlen(s->channels[i]) == n && !memcmp(s->channels[i], ch, n))
			return 1;
	return 0;
}

/* The channels (subscription types) the recording holds. */
static void
hm_scan(void *srv, const struct feed_record *r)
{
	struct hm_srv *s = srv;
	if (!r->channel_len || r->channel_len >= HM_SUB_LEN ||
	    s->nchannels >= (int)(sizeof(s->channels) / sizeof(s->channels[0])) ||
	    channel_known(s, r->channel, r->channel_len))
		return;
	memcpy(s->channels[s->nchannels], r->channel, r->channel_len);
	s->channels[s->nchannels++][r->channel_len] = 0;
}

/* The live format the replayed messages were recorded in: the liveFormat of the URL that
 * opened the recorded connection of the first frame (the recorder asks for the same one on
 * every connection). */
static void
hm_scan_end(void *srv, uint32_t first_conn)
{
	struct hm_srv *s = srv;
	const struct feed_host *h = s->h;
	struct feed_reader *rd;
	struct feed_record r;
	uint64_t at;

	if (h->conn_first(h->ud, first_conn, &at) != 1 || h->reader_open(h->ud, &rd) != 0)
		return;
	if (h->reader_seek_recno(rd, at) == 0 && h->reader_next(rd, &r) == 0 && r.kind == FEED_REC_OPEN &&
	    r.conn == first_conn &&
	    hm_open_live_format(r.payload, r.payload_len, s->live_format, sizeof(s->live_format)) != 0)
		s->live_format[0] = 0;
	h->reader_close(rd);
}

static void
hm_describe(void *srv, char *buf, size_t len)
{
	struct hm_srv *s = srv;
	if (s->live_format[0])
		snprintf(buf, len, "liveFormat %s", s->live_format);
	else if (len)
		buf[0] = 0;
}

/* ---- one connection ---- */

struct hm_sess *
hm_conn_sess(const struct hm_conn *k)
{
	struct feed_session *fs = k->h->session(k->c);
	return fs ? *k->h->session_data(fs) : NULL;
}

static int
sub_index(const struct hm_sess *s, const char *ch, size_t n)
{
	if (!s)
		return -1;
	for (int i = 0; i < s->nsubs; i++)
		if (strlen(s->subs[i]) == n && memcmp(s->subs[i], ch, n) == 0)
			return i;
	return -1;
}

static int
hm_conn_new(void *srv, struct feed_conn *c, void **out)
{
	struct hm_srv *s = srv;
	struct hm_conn *k = calloc(1, sizeof(*k));
	if (!k)
		return ENOMEM;
	k->s = s;
	k->h = s->h;
	k->c = c;
	if (!(k->hs = hm_stream_new(s->h))) {
		free(k);
		return ENOMEM;
	}
	*out = k;
	return 0;
}

static void
hm_conn_free(void *conn)
{
	struct hm_conn *k = conn;
	if (!k)
		return;
	hm_stream_free(k->hs);
	free(k);
}

static void
send_buf(struct hm_conn *k, struct text_buf *b)
{
	k->h->send(k->c, b->p, b->len);
	b->len = 0;
}

static void
hm_unauthorized(void *conn, struct text_buf *b)
{
	hm_msg_error(b, "Invalid API key");
}

/* clientId and sessionId: version 4 UUIDs, as the server's look; the n-th id of a run
 * under --seed is the same in every run, without --seed each process has its own. */
static void
new_id(const struct feed_host *h, char *buf, size_t n)
{
	uint64_t a, b;
	char id[37];
	h->id_bits(h->ud, &a, &b);
	hm_uuid(id, a, b);
	snprintf(buf, n, "%s", id);
}

static void
timeline_start(struct hm_conn *k, enum feed_timeline how)
{
	k->h->timeline_start(k->c, how);
	k->started = 1;
}

/* A resume: restored subscriptions, replay of what was missed, then live at the edge. */
static void
hm_resume(struct hm_conn *k, struct feed_session *fs, const char *client_id, const char *cursor)
{
	const struct feed_host *h = k->h;
	struct hm_sess *sess = *h->session_data(fs);
	const char *subs[HM_MAX_SUBS];
	struct text_buf b = { 0 };
	int64_t edge_wall;
	uint64_t edge_recno;

	h->session_take_over(fs, k->c);
	for (int i = 0; i < sess->nsubs; i++)
		subs[i] = sess->subs[i];
	hm_msg_reconnected(&b, client_id, h->session_id(fs), subs, sess->nsubs);
	send_buf(k, &b);
	text_buf_free(&b);
	timeline_start(k, FEED_TL_SESSION);
	/* the live edge is where the new connection's timeline starts */
	h->edge(k->c, 1, &edge_wall, &edge_recno);
	for (int i = 0; i < sess->nsubs; i++) {
		if (hm_queue_replay(k, i, cursor, edge_wall, edge_recno)) {
			h->over_buffer(k->c, ": its replay is");
			break;
		}
	}
	log_info("replay: client %u resumed session %s (%d subscriptions)", h->client_id(k->c),
		 h->session_id(fs), sess->nsubs);
}

static int
hm_open(struct hm_conn *k, const char *session_id, const char *cursor)
{
	const struct feed_host *h = k->h;
	char client_id[64], id[48];
	struct text_buf b = { 0 };
	struct feed_session *fs = h->session_find(h->ud, session_id[0] ? session_id : NULL);

	new_id(h, client_id, sizeof(client_id));
	if (fs) {
		hm_resume(k, fs, client_id, cursor);
		return 0;
	}
	struct hm_sess *sess = calloc(1, sizeof(*sess));
	if (!sess)
		return -1;
	new_id(h, id, sizeof(id));
	if (!(fs = h->session_new(k->c, id))) {
		free(sess);
		return -1;
	}
	*h->session_data(fs) = sess;
	hm_msg_connected(&b, client_id, id);
	send_buf(k, &b);
	text_buf_free(&b);
	if (h->live)
		timeline_start(k, FEED_TL_LIVE);
	/* else the session's timeline starts with its first subscription */
	return 0;
}

/* liveFormat belongs to the connection: read from each one's query, never restored from
 * the session. The replay sends the live messages as recorded, so it serves the
 * recording's format only; any other (or none, when the recording has one) is refused, as
 * a client that forgot liveFormat on a reconnect would otherwise read messages in a format
 * it does not expect. Returns 1 with the reason in why. */
static int
live_format_refused(const struct hm_conn *k, char *why, size_t n)
{
	const char *want = k->live_format, *have = k->s->live_format;
	if (!strcmp(want, have))
		return 0;
	if (!have[0])
		snprintf(why, n,
			 "liveFormat '%.64s' is not available: the recording holds the default live format",
			 want);
	else if (!want[0])
		snprintf(why, n, "liveFormat=%s is required: the recording holds %s live messages", have,
			 have);
	else
		snprintf(why, n, "liveFormat '%.64s' is not available: the recording holds %s live messages",
			 want, have);
	return 1;
}

static int
hm_on_connect(void *conn)
{
	struct hm_conn *k = conn;
	const struct feed_host *h = k->h;
	char sid[128], cursor[256], why[256];

	h->query(k->c, "sessionId", sid, sizeof(sid));
	h->query(k->c, "cursor", cursor, sizeof(cursor));
	h->query(k->c, "liveFormat", k->live_format, sizeof(k->live_format));
	if (h->offline(k->c)) /* a client without a socket asks for what there is */
		snprintf(k->live_format, sizeof(k->live_format), "%s", k->s->live_format);
	if (live_format_refused(k, why, sizeof(why))) {
		struct text_buf b = { 0 };
		hm_msg_error(&b, why);
		send_buf(k, &b);
		text_buf_free(&b);
		h->close(k->c);
		log_info("replay: client %u: %s", h->client_id(k->c), why);
		return 0;
	}
	if (k->live_format[0])
		log_info("replay: client %u: liveFormat %s", h->client_id(k->c), k->live_format);
	return hm_open(k, sid, cursor);
}

/* ---- what the client sends ---- */

static void
hm_subscribe(struct hm_conn *k, const struct hm_client_msg *m, struct text_buf *b)
{
	const struct feed_host *h = k->h;
	struct hm_sess *sess = hm_conn_sess(k);
	int i = sub_index(sess, m->sub_type.p, m->sub_type.len);

	if (!channel_known(k->s, m->sub_type.p, m->sub_type.len) || m->sub_type.len >= HM_SUB_LEN ||
	    (i < 0 && sess->nsubs >= HM_MAX_SUBS)) {
		hm_msg_subscription_update(b, NULL, 0, &m->sub_type, 1);
		send_buf(k, b);
		return;
	}
	if (i < 0) {
		i = sess->nsubs++;
		memcpy(sess->subs[i], m->sub_type.p, m->sub_type.len);
		sess->subs[i][m->sub_type.len] = 0;
		sess->cursor[i][0] = 0;
		k->seq[i] = 0;
	}
	hm_msg_subscription_update(b, &m->sub_type, 1, NULL, 0);
	send_buf(k, b);
	if (!k->started)
		timeline_start(k, FEED_TL_FRESH);
	if (m->cursor.len && m->cursor.len < HM_CURSOR_LEN) {
		/* a cursor in the subscription asks for the cached events after it, of what the
		 * client's timeline has passed: the rest comes live */
		char cur[HM_CURSOR_LEN];
		int64_t edge_wall;
		uint64_t edge_recno;
		memcpy(cur, m->cursor.p, m->cursor.len);
		cur[m->cursor.len] = 0;
		h->edge(k->c, 0, &edge_wall, &edge_recno);
		if (hm_queue_replay(k, i, cur, edge_wall, edge_recno))
			h->over_buffer(k->c, ": its replay is");
	}
	/* the frame read ahead was numbered by the subscriptions as they were */
	h->reread(k->c);
}

static void
hm_unsubscribe(struct hm_conn *k, const struct hm_client_msg *m, struct text_buf *b)
{
	struct hm_sess *sess = hm_conn_sess(k);
	int i = sub_index(sess, m->sub_type.p, m->sub_type.len);

	if (i >= 0) {
		k->h->reread(k->c);
		int after = --sess->nsubs - i;
		memmove(sess->subs[i], sess->subs[i + 1], (size_t)after * sizeof(sess->subs[0]));
		memmove(sess->cursor[i], sess->cursor[i + 1], (size_t)after * sizeof(sess->cursor[0]));
		memmove(&k->seq[i], &k->seq[i + 1], (size_t)after * sizeof(k->seq[0]));
	}
	hm_msg_unsubscribed(b, &m->sub_type);
	send_buf(k, b);
}

static void
hm_on_message(void *conn, const uint8_t *p, size_t n)
{
	struct hm_conn *k = conn;
	struct hm_client_msg m;
	struct text_buf b = { 0 };

	if (!hm_conn_sess(k))
		return; /* refused, or taken over: this connection is on its way out */
	hm_client_parse(p, n, &m);
	switch (m.kind) {
	case HM_C_PONG: k->h->pong(k->c); break;
	case HM_C_PING:
		text_buf_adds(&b, "{\"type\":\"pong\"}");
		send_buf(k, &b);
		break;
	case HM_C_SUBSCRIBE: hm_subscribe(k, &m, &b); break;
	case HM_C_UNSUBSCRIBE: hm_unsubscribe(k, &m, &b); break;
	case HM_C_BAD:
		hm_msg_error(&b, "Invalid message");
		send_buf(k, &b);
		break;
	default: break;
	}
	text_buf_free(&b);
}

static void
hm_ping(void *conn, struct text_buf *b)
{
	hm_msg_ping(b);
}

static void
hm_pong_timeout(void *conn, struct text_buf *b)
{
	hm_msg_error(b, "Connection timeout");
}

/* ---- the timeline: the connection's stream, numbered by its subscriptions ---- */

/* A live message of the stream as a frame: numbered in its channel when the client
 * subscribed to it, else a frame that only takes its time. 1 with *out, 0 when the message
 * cannot be numbered (not sent). */
static int
frame_of(struct hm_conn *k, const struct hm_stream_out *o, struct feed_frame *out)
{
	struct text_buf *scratch = &k->s->scratch;
	int i = sub_index(hm_conn_sess(k), o->channel.p, o->channel.len);

	memset(out, 0, sizeof(*out));
	out->tag = -1;
	out->wall_ns = o->wall_ns;
	out->recno = o->recno;
	if (i < 0) {
		out->skip = 1;
		return 1;
	}
	scratch->len = 0;
	if (hm_msg_with_seq(scratch, o->p, o->n, ++k->seq[i]) != 0) {
		k->seq[i]--;
		return 0;
	}
	out->p = (const uint8_t *)scratch->p;
	out->n = scratch->len;
	out->tag = i;
	/* the cursor goes with the frame: sent() tracks it without a second parse */
	if (o->cursor.len < HM_CURSOR_LEN)
		out->cursor = o->cursor;
	return 1;
}

static int
hm_frame(void *conn, const struct feed_record *r, struct feed_frame *out)
{
	struct hm_conn *k = conn;
	struct hm_stream_out o;
	int rc = hm_stream_feed(k->hs, r, &o);
	return rc <= 0 ? rc : frame_of(k, &o, out);
}

static int
hm_pending(void *conn, struct feed_frame *out)
{
	struct hm_conn *k = conn;
	struct hm_stream_out o;
	int rc;
	while ((rc = hm_stream_pending(k->hs, &o)) > 0)
		if (frame_of(k, &o, out))
			return 1;
	return rc;
}

static int
hm_pending_recno(void *conn, uint64_t *recno)
{
	struct hm_conn *k = conn;
	return hm_stream_pending_recno(k->hs, recno);
}

static void
hm_rewind(void *conn)
{
	struct hm_conn *k = conn;
	hm_stream_reset(k->hs);
}

static void
hm_unread(void *conn, int tag)
{
	struct hm_conn *k = conn;
	if (tag >= 0)
		k->seq[tag]--; /* it gets its number again when read again */
	hm_stream_unread(k->hs); /* read again, it would be a duplicate to the stream */
}

/* Server-side cursor tracking: the cursor of what was sent (read-ahead frames are made
 * again when the subscriptions change, so the tag still names its channel). */
static void
hm_sent(void *conn, int tag, struct feed_str cursor)
{
	struct hm_sess *sess = hm_conn_sess(conn);
	if (!sess || tag < 0 || !cursor.len)
		return;
	memcpy(sess->cursor[tag], cursor.p, cursor.len);
	sess->cursor[tag][cursor.len] = 0;
}

static void
hm_session_free(void *data)
{
	free(data);
}

static const struct feed_server_opt_help hm_options_help[] = {
	{ "--ping-s N", "a ping every N seconds (default 30)" },
	{ "--pong-timeout D", "close a client that sent no pong for D (default 150s)" },
	{ "--grace D",
	  "a session can be resumed for D after its connection\n"
	  "ends (default 30s)" },
	{ "--cache D",
	  "a resume's replay reaches back D; an older cursor gets\n"
	  "hasGap (default 30s)" },
	{ NULL, NULL },
};

const struct feed_server_ops hydromancer_server_ops = {
	.help = "the Hydromancer API: a connect answer with a fresh client and session id,\n"
		"subscribe -> subscriptionUpdate (subscribed or failed), only subscribed\n"
		"channels, seq from 1 per connection and subscription, cursor as\n"
		"recorded, pings and a pong timeout (\"Connection timeout\", then a\n"
		"close); the session's id and a cursor in the query within --grace -> the\n"
		"resume answer + replay chunks (<= 2000 items, <= 1 MB, cursor per chunk,\n"
		"hasGap when the cursor is older than --cache); bad token -> error;\n"
		"liveFormat read from every connection's query (never from the session):\n"
		"the recording's format (liveFormat of its recorded URL) or an error",
	.options_help = hm_options_help,
	.server_new = hm_server_new,
	.server_free = hm_server_free,
	.scan = hm_scan,
	.scan_end = hm_scan_end,
	.describe = hm_describe,
	.conn_new = hm_conn_new,
	.conn_free = hm_conn_free,
	.unauthorized = hm_unauthorized,
	.on_connect = hm_on_connect,
	.on_message = hm_on_message,
	.ping = hm_ping,
	.pong_timeout = hm_pong_timeout,
	.frame = hm_frame,
	.pending = hm_pending,
	.pending_recno = hm_pending_recno,
	.rewind = hm_rewind,
	.unread = hm_unread,
	.sent = hm_sent,
	.session_free = hm_session_free,
};
