/* hydromancer_stream.c - the live messages and replay chunks of a Hydromancer recording as one stream */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/feed_int.h"
#include "feeds/feed_server.h"
#include "feeds/hydromancer_stream.h"
#include "util/log.h"
#include "util/text.h"

#define MAX_EXPECT 32
#define FIELD_SEARCH 20000 /* records read to find a channel's live message, at most */

struct field {
	char channel[64];
	char name[32];
};

struct hm_stream {
	const struct feed_host *h;
	int64_t to_wall, conn;
	struct hm_dedup *dd;
	struct text_buf msg, kept, ch, cur;
	struct hm_stream_out last;
	int have_last, unread;
	/* the look-ahead from a connection's first message */
	struct feed_reader *la;
	int la_active, la_finish;
	uint32_t la_conn;
	int64_t la_wall;
	uint64_t la_recno, la_finish_recno;
	int nexpect, ndone; /* nexpect -1: the restored channels are not known */
	char expect[MAX_EXPECT][64];
	unsigned char done[MAX_EXPECT];
	/* the chunks the last look-ahead sent: records of used_conn in (used_from, used_to) */
	uint32_t used_conn;
	uint64_t used_from, used_to;
	/* the array field of each channel's live messages */
	struct field *fields;
	size_t nfields;
};

struct hm_stream *
hm_stream_new(const struct feed_host *h)
{
	struct hm_stream *st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	st->h = h;
	st->to_wall = h->to_wall;
	st->conn = h->conn;
	if (!(st->dd = hm_dedup_new())) {
		free(st);
		return NULL;
	}
	return st;
}

void
hm_stream_free(struct hm_stream *st)
{
	if (!st)
		return;
	if (st->la)
		st->h->reader_close(st->la);
	hm_dedup_free(st->dd);
	text_buf_free(&st->msg);
	text_buf_free(&st->kept);
	text_buf_free(&st->ch);
	text_buf_free(&st->cur);
	free(st->fields);
	free(st);
}

void
hm_stream_reset(struct hm_stream *st)
{
	hm_dedup_reset(st->dd);
	st->la_active = st->la_finish = 0;
	st->used_to = 0;
	st->have_last = st->unread = 0;
}

/* ---- the events field of each channel ---- */

static struct field *
field_find(struct hm_stream *st, struct feed_str ch)
{
	for (size_t i = 0; i < st->nfields; i++)
		if (strlen(st->fields[i].channel) == ch.len && !memcmp(st->fields[i].channel, ch.p, ch.len))
			return &st->fields[i];
	return NULL;
}

static struct field *
field_set(struct hm_stream *st, struct feed_str ch, const char *name, size_t n)
{
	struct field *f = field_find(st, ch);
	if (f || ch.len >= sizeof(f->channel) || n >= sizeof(f->name))
		return f;
	f = realloc(st->fields, (st->nfields + 1) * sizeof(*f));
	if (!f)
		return NULL;
	st->fields = f;
	f = &st->fields[st->nfields++];
	memcpy(f->channel, ch.p, ch.len);
	f->channel[ch.len] = 0;
	memcpy(f->name, name, n);
	f->name[n] = 0;
	return f;
}

static void
field_learn(struct hm_stream *st, const struct feed_record *r, const struct feed_msg *m)
{
	struct feed_str name;
	if (!field_find(st, m->channel) && hm_msg_events_field(r->payload, r->payload_len, m, &name) == 0)
		field_set(st, m->channel, name.p, name.len);
}

/* The field a chunk's events go under: as the channel's live messages have it (learned,
 * or looked up in the journal: a chunk may come before any live message), else guessed. */
static const char *
field_of(struct hm_stream *st, struct feed_str ch)
{
	struct field *f = field_find(st, ch);
	if (f)
		return f->name;
	const struct feed_host *h = st->h;
	struct feed_reader *rd = NULL;
	uint64_t first;
	struct feed_record r;
	struct feed_msg m;
	if (h->channel_first(h->ud, ch.p, ch.len, &first) == 1 && h->reader_open(h->ud, &rd) == 0 &&
	    h->reader_seek_recno(rd, first) == 0) {
		for (int i = 0; i < FIELD_SEARCH && h->reader_next(rd, &r) == 0; i++) {
			if (r.dir != FEED_REC_IN || r.kind != FEED_REC_TEXT || r.channel_len != ch.len ||
			    memcmp(r.channel, ch.p, ch.len))
				continue;
			feed_classify(&feed_hydromancer, r.payload, r.payload_len, &m);
			if (m.cls == FEED_MSG_DATA) {
				field_learn(st, &r, &m);
				break;
			}
		}
	}
	if (rd)
		h->reader_close(rd);
	if ((f = field_find(st, ch)))
		return f->name;
	const char *guess = hm_default_events_field(ch.p, ch.len);
	f = field_set(st, ch, guess, strlen(guess));
	return f ? f->name : guess;
}

/* ---- messages out ---- */

/* st->msg holds the message; channel and cursor are copied (they point into a record). */
static int
put(struct hm_stream *st, struct feed_str ch, struct feed_str cur, int64_t wall, uint64_t recno,
    int from_replay, struct hm_stream_out *out)
{
	st->ch.len = st->cur.len = 0;
	text_buf_add(&st->ch, ch.p, ch.len);
	text_buf_add(&st->cur, cur.p, cur.len);
	memset(out, 0, sizeof(*out));
	out->channel.p = st->ch.p;
	out->channel.len = ch.len;
	out->cursor.p = st->cur.p;
	out->cursor.len = cur.len;
	out->p = (const uint8_t *)st->msg.p;
	out->n = st->msg.len;
	out->wall_ns = wall;
	out->recno = recno;
	out->from_replay = from_replay;
	st->last = *out;
	st->have_last = 1;
	st->unread = 0;
	return 1;
}

/* A replay chunk's new events as a live message of its channel, at (wall, recno). */
static int
from_chunk(struct hm_stream *st, const struct feed_record *r, const struct feed_msg *m, int64_t wall,
	   uint64_t recno, struct hm_stream_out *out)
{
	int all;
	st->kept.len = 0;
	int n = hm_dedup_filter(st->dd, m, &st->kept, &all);
	if (n == -EINVAL) {
		log_warn("replay: record %llu: a replay chunk with a malformed data array is not sent",
			 (unsigned long long)r->recno);
		return 0;
	}
	if (n <= 0)
		return n;
	const char *field = field_of(st, m->channel);
	int number = m->cursor.len && m->cursor.p > (const char *)r->payload && m->cursor.p[-1] != '"';
	st->msg.len = 0;
	hm_msg_live(&st->msg, m->channel.p, m->channel.len, field, strlen(field), m->cursor.p, m->cursor.len,
		    number, st->kept.p, st->kept.len);
	return put(st, m->channel, m->cursor, wall, recno, 1, out);
}

/* ---- the look-ahead ---- */

static int
is_connect(const struct feed_msg *m)
{
	return m->cls == FEED_MSG_CONTROL && m->type.len &&
		((m->type.len == 9 && !memcmp(m->type.p, "connected", 9)) ||
		 (m->type.len == 11 && !memcmp(m->type.p, "reconnected", 11)));
}

static void
la_end(struct hm_stream *st, uint64_t stop)
{
	st->used_conn = st->la_conn;
	st->used_from = st->la_recno;
	st->used_to = stop;
	st->la_active = st->la_finish = 0;
}

static void
la_start(struct hm_stream *st, const struct feed_record *r, const struct feed_msg *m)
{
	struct feed_str subs[MAX_EXPECT];
	int n = -1;

	st->la_active = st->la_finish = 0;
	if (m->type.len == 11) {
		n = hm_msg_subscriptions(r->payload, r->payload_len, subs, MAX_EXPECT);
		if (n == 0)
			return; /* nothing restored, nothing replayed */
	}
	if (!st->la && st->h->reader_open(st->h->ud, &st->la) != 0) {
		st->la = NULL;
		return;
	}
	if (st->h->reader_seek_recno(st->la, r->recno + 1) != 0)
		return;
	st->la_active = 1;
	st->la_conn = r->conn;
	st->la_wall = r->wall_ns;
	st->la_recno = r->recno;
	st->nexpect = -1;
	st->ndone = 0;
	if (n > 0) {
		st->nexpect = 0;
		for (int i = 0; i < n; i++) {
			if (subs[i].len >= sizeof(st->expect[0]))
				continue;
			memcpy(st->expect[st->nexpect], subs[i].p, subs[i].len);
			st->expect[st->nexpect][subs[i].len] = 0;
			st->done[st->nexpect++] = 0;
		}
	}
}

/* A chunk seen by the look-ahead: is it its channel's last, and was that the last replay
 * expected? */
static void
la_chunk(struct hm_stream *st, const struct feed_record *r, const struct feed_msg *m)
{
	if (st->nexpect < 0 || m->chunk < 1 || m->chunk < m->total_chunks)
		return;
	for (int i = 0; i < st->nexpect; i++) {
		if (!st->done[i] && strlen(st->expect[i]) == m->channel.len &&
		    !memcmp(st->expect[i], m->channel.p, m->channel.len)) {
			st->done[i] = 1;
			if (++st->ndone == st->nexpect) {
				st->la_finish = 1;
				st->la_finish_recno = r->recno + 1;
			}
		}
	}
}

int
hm_stream_pending(struct hm_stream *st, struct hm_stream_out *out)
{
	struct feed_record r;
	struct feed_msg m;

	if (st->unread && st->have_last) {
		st->unread = 0;
		*out = st->last;
		return 1;
	}
	while (st->la_active) {
		if (st->la_finish) {
			la_end(st, st->la_finish_recno);
			break;
		}
		int rc = st->h->reader_next(st->la, &r);
		if (rc == FEED_READ_END) {
			la_end(st, UINT64_MAX);
			break;
		}
		if (rc) {
			/* the chunks go out where they were received, when the timeline gets there */
			la_end(st, st->la_recno + 1);
			break;
		}
		if (r.wall_ns >= st->to_wall || r.wall_ns > st->la_wall + HM_STREAM_LOOKAHEAD_NS ||
		    r.kind == FEED_REC_OPEN || (r.conn == st->la_conn && r.kind == FEED_REC_CLOSE)) {
			la_end(st, r.recno);
			break;
		}
		if (r.conn != st->la_conn || r.dir != FEED_REC_IN || r.kind != FEED_REC_TEXT)
			continue;
		feed_classify(&feed_hydromancer, r.payload, r.payload_len, &m);
		if (is_connect(&m)) {
			la_end(st, r.recno);
			break;
		}
		if (m.cls == FEED_MSG_DATA) {
			field_learn(st, &r, &m);
			continue;
		}
		if (m.cls != FEED_MSG_REPLAY || !m.channel.len)
			continue;
		la_chunk(st, &r, &m);
		rc = from_chunk(st, &r, &m, st->la_wall, st->la_recno, out);
		if (rc)
			return rc;
	}
	return 0;
}

void
hm_stream_unread(struct hm_stream *st)
{
	if (st->have_last)
		st->unread = 1;
}

int
hm_stream_pending_recno(const struct hm_stream *st, uint64_t *recno)
{
	if (st->unread && st->have_last) {
		*recno = st->last.recno;
		return 1;
	}
	if (st->la_active) {
		*recno = st->la_recno;
		return 1;
	}
	return 0;
}

int
hm_stream_feed(struct hm_stream *st, const struct feed_record *r, struct hm_stream_out *out)
{
	struct feed_msg m;
	int all;

	if (r->dir != FEED_REC_IN || r->kind != FEED_REC_TEXT || r->wall_ns >= st->to_wall ||
	    (st->conn >= 0 && r->conn != (uint32_t)st->conn))
		return 0;
	feed_classify(&feed_hydromancer, r->payload, r->payload_len, &m);
	if (is_connect(&m)) {
		la_start(st, r, &m);
		return 0;
	}
	if (m.cls == FEED_MSG_REPLAY) {
		if (!m.channel.len ||
		    (r->conn == st->used_conn && r->recno > st->used_from && r->recno < st->used_to))
			return 0;
		return from_chunk(st, r, &m, r->wall_ns, r->recno, out);
	}
	if (m.cls != FEED_MSG_DATA)
		return 0;
	field_learn(st, r, &m);
	st->kept.len = 0;
	int n = hm_dedup_filter(st->dd, &m, &st->kept, &all);
	if (n < 0 && n != -EINVAL)
		return n;
	st->msg.len = 0;
	if (n == -EINVAL || all) {
		/* as recorded: every event is new, or the array cannot be read (then it goes as is) */
		text_buf_add(&st->msg, r->payload, r->payload_len);
	} else if (n == 0) {
		return 0;
	} else {
		hm_msg_with_events(&st->msg, r->payload, r->payload_len, &m, st->kept.p, st->kept.len);
	}
	return put(st, m.channel, m.cursor, r->wall_ns, r->recno, 0, out);
}

int
hm_stream_read(struct hm_stream *st, struct feed_reader *rd, uint64_t stop_recno, int64_t stop_wall,
	       struct hm_stream_out *out)
{
	struct feed_record r;
	int rc;

	for (;;) {
		if ((rc = hm_stream_pending(st, out)) != 0)
			return rc < 0 ? rc : (out->recno >= stop_recno || out->wall_ns > stop_wall ? 0 : 1);
		if ((rc = st->h->reader_next(rd, &r)) == FEED_READ_END)
			return 0;
		if (rc)
			return rc < 0 ? rc : -rc;
		if (r.recno >= stop_recno || r.wall_ns > stop_wall)
			return 0;
		if ((rc = hm_stream_feed(st, &r, out)) != 0)
			return rc;
	}
}
