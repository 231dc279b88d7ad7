/* hydromancer_resume.c - the replay chunks a Hydromancer server sends to a resumed session */
#include <string.h>

#include "feeds/feed_int.h"
#include "feeds/hydromancer_server_int.h"
#include "util/log.h"

static int
add_event(const struct feed_event *ev, void *ud)
{
	hm_chunker_add(ud, (const char *)ev->raw.p, ev->raw.len);
	return 0;
}

struct chunk_emit {
	struct hm_conn *k;
	char *cursor; /* the session's cursor of the channel */
};

/* Each chunk goes to the client, within --max-buffer; the session's server-side cursor
 * follows the chunks. */
static int
emit_chunk(const struct text_buf *msg, const char *cur, size_t curlen, void *ud)
{
	struct chunk_emit *e = ud;
	const struct feed_host *h = e->k->h;
	if (msg->len > h->room(e->k->c))
		return 1;
	h->send(e->k->c, msg->p, msg->len);
	if (curlen && curlen < HM_CURSOR_LEN) {
		memcpy(e->cursor, cur, curlen);
		e->cursor[curlen] = 0;
	}
	return 0;
}

/* A reader and a stream for a pass over the recording from 'from' (never before the
 * selected range). -1 when they cannot be had, 1 when the seek failed (the pass reads
 * nothing), else 0. */
static int
replay_open(const struct feed_host *h, int64_t from, struct feed_reader **rd, struct hm_stream **hs)
{
	if (h->reader_open(h->ud, rd) != 0)
		return -1;
	if (!(*hs = hm_stream_new(h))) {
		h->reader_close(*rd);
		return -1;
	}
	return h->reader_seek_from(h->ud, *rd, from) ? 1 : 0;
}

/* The index in the stream (from 'from', before the edge) of the first message whose cursor
 * is 'cursor', or -1. */
static int64_t
cursor_index(const struct feed_host *h, int64_t from, const char *cursor, int64_t edge_wall,
	     uint64_t edge_recno)
{
	struct feed_reader *rd;
	struct hm_stream *hs;
	struct hm_stream_out out;
	size_t n = strlen(cursor);
	int64_t i = 0, at = -1;
	int rc = replay_open(h, from, &rd, &hs);
	if (rc < 0)
		return -1;
	while (rc == 0 && hm_stream_read(hs, rd, edge_recno, edge_wall, &out) == 1) {
		if (out.cursor.len == n && !memcmp(out.cursor.p, cursor, n)) {
			at = i;
			break;
		}
		i++;
	}
	hm_stream_free(hs);
	h->reader_close(rd);
	return at;
}

/* What a resume asks for: the channel, the client's cursor (parsed when 'filter'), where
 * that cursor's message stands in the stream, and the cache. */
struct want {
	const char *ch;
	size_t chlen;
	int filter;
	struct hm_cursor cl;
	int64_t at;
	int64_t cache_start;
};

/* Whether the client has the stream's message 'out' (the index-th) by its cursor. */
static int
client_has(const struct want *w, const struct hm_stream_out *out, int64_t index)
{
	struct hm_cursor ev;
	if (!w->filter || !out->cursor.len || hm_cursor_parse(out->cursor.p, out->cursor.len, &ev) != 0)
		return 0;
	return ev.fmt == w->cl.fmt || w->at < 0 ? !hm_cursor_newer(&ev, &w->cl) : index <= w->at;
}

/* The pass that builds the chunks: the channel's events the client lacks, within the cache.
 * Returns 1 when they are over --max-buffer while being built; *has_gap is set when an
 * event the client lacks is older than the cache. */
static int
collect(struct hm_conn *k, const struct want *w, int64_t from, int64_t edge_wall, uint64_t edge_recno,
	struct hm_chunker *ck, int *has_gap)
{
	const struct feed_host *h = k->h;
	struct feed_reader *rd;
	struct hm_stream *hs;
	struct hm_stream_out out;
	struct feed_msg m;
	int64_t index = -1;
	int over = 0, rc;

	if ((rc = replay_open(h, from, &rd, &hs)) < 0)
		return -1;
	while (rc == 0 && (rc = hm_stream_read(hs, rd, edge_recno, edge_wall, &out)) == 1) {
		rc = 0;
		index++;
		if (out.channel.len != w->chlen || memcmp(out.channel.p, w->ch, w->chlen) != 0)
			continue;
		if (client_has(w, &out, index))
			continue;
		if (out.wall_ns < w->cache_start) {
			/* aged out of the cache: the client's cursor is older than what is kept */
			if (w->filter)
				*has_gap = 1;
			continue;
		}
		feed_classify(&feed_hydromancer, out.p, out.n, &m);
		feed_events_foreach(&feed_hydromancer, &m, add_event, ck);
		hm_chunker_cursor(ck, out.cursor.p, out.cursor.len);
		/* the chunks are built whole before they go out: bound them while building */
		if (ck->done.len + ck->events.len > h->room(k->c)) {
			over = 1;
			break;
		}
	}
	hm_stream_free(hs);
	h->reader_close(rd);
	return over;
}

/* The replay of one channel for a resumed session: the events after 'cursor' (or the
 * session's server-side cursor) up to the live edge, in chunks. The chunks are due at
 * once, so they count against --max-buffer like frames the client has not taken: returns
 * 1 when they do not fit (then the session's cursor is left where it was, as none of them
 * will go out), else 0.
 *
 * The events are those of the recording's stream (hm_stream: live messages and recorded
 * replay chunks, each event once), so events the recorder only got in a replay are
 * replayed too. Which of them the client lacks is read against the channel's own cursor
 * format (a client resumes with one cursor, that of the channel it heard last): same
 * format, exactly; another, by timestamp, inclusive (hm_cursor_newer). A cursor in none of
 * the formats gets the whole cache with hasGap, never "nothing to replay". Only what lies
 * before the client's live edge (what its timeline has not reached is sent live later) and
 * within --cache is replayed.
 *
 * A client resumes with one cursor, that of the last message it processed, whatever its
 * channel; everything the stream sent before that message reached it. So for a channel of
 * another format, the replay holds what the stream sent after the first message with the
 * client's cursor (found by a first pass over the same stream); only when no message has
 * it, the events whose timestamp is at or after the cursor's. */
int
hm_queue_replay(struct hm_conn *k, int sub, const char *cursor, int64_t edge_wall, uint64_t edge_recno)
{
	const struct feed_host *h = k->h;
	struct hm_sess *sess = hm_conn_sess(k);
	struct want w = { sess->subs[sub], strlen(sess->subs[sub]), 0, { 0 }, -1, h->cache_start(k->c) };
	struct hm_chunker ck;
	char saved[HM_CURSOR_LEN];
	int has_gap = 0;

	if (!cursor || !*cursor)
		cursor = sess->cursor[sub];
	w.filter = *cursor != 0;
	if (w.filter && hm_cursor_parse(cursor, strlen(cursor), &w.cl) != 0) {
		log_warn(
			"replay: client %u: cursor '%.64s' is in no documented format: replaying the cache of %s "
			"with hasGap",
			h->client_id(k->c), cursor, w.ch);
		w.filter = 0;
		has_gap = 1;
	}
	/* from one more cache length back: an event there that the client lacks says its
	 * cursor is older than the cache (hasGap) */
	int64_t from = w.cache_start - h->cache_ns;
	if (w.filter)
		w.at = cursor_index(h, from, cursor, edge_wall, edge_recno);
	memcpy(saved, sess->cursor[sub], sizeof(saved));
	hm_chunker_init(&ck, cursor, strlen(cursor));
	int over = collect(k, &w, from, edge_wall, edge_recno, &ck, &has_gap);
	if (over < 0) {
		hm_chunker_free(&ck);
		return 0;
	}
	struct chunk_emit e = { k, sess->cursor[sub] };
	if (!over && hm_chunker_finish(&ck, w.ch, w.chlen, has_gap, emit_chunk, &e) != 0)
		over = 1;
	hm_chunker_free(&ck);
	if (over)
		memcpy(sess->cursor[sub], saved, sizeof(saved));
	return over;
}
