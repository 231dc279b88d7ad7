/* append.c - appending records to the open block, flushing, and what a writer counts */
#include <errno.h>
#include <stdlib.h>

#include "writer.h"

static struct blockbuf *
buf_get_locked(struct journal_writer *w, size_t need)
{
	struct blockbuf *b = w->free_list;
	if (b) {
		w->free_list = b->next;
	} else {
		if (!(b = calloc(1, sizeof(*b))))
			return NULL;
	}
	size_t want = need > w->opt.block_bytes ? need : (size_t)w->opt.block_bytes + 4096;
	if (b->cap < want) {
		uint8_t *p = realloc(b->raw, want);
		if (!p) {
			free(b->raw);
			free(b);
			return NULL;
		}
		b->raw = p;
		b->cap = want;
	}
	b->len = 0;
	b->count = 0;
	b->payload_bytes = 0;
	b->max_conn = 0;
	b->next = NULL;
	return b;
}

static int
record_valid(const struct journal_record *r)
{
	return !(r->channel_len > JOURNAL_MAX_CHANNEL || r->cursor_len > JOURNAL_MAX_CURSOR ||
		 r->payload_len > JOURNAL_MAX_PAYLOAD || r->kind > JOURNAL_KIND_MAX || r->dir > 1 ||
		 (r->channel_len && !r->channel) || (r->cursor_len && !r->cursor) ||
		 (r->payload_len && !r->payload));
}

/* Make room for a record of 'need' encoded bytes: seal a block it would overfill, wait
 * while the disk is behind (never drop, and count the wait), and have an open block with
 * the room. 0, the sticky error, or ENOMEM. Called with mu held. */
static int
room_locked(struct journal_writer *w, size_t need)
{
	if (w->err)
		return w->err;
	if (w->cur && w->cur->count && w->cur->len + need > w->opt.block_bytes)
		writer_seal_locked(w);
	while (w->npending >= w->opt.max_pending && !w->err) {
		int64_t t0 = journal_now_mono();
		pthread_cond_wait(&w->cv_done, &w->mu);
		w->append_waits++;
		w->append_wait_ns += (uint64_t)(journal_now_mono() - t0);
	}
	if (w->err)
		return w->err;
	if (!w->cur && !(w->cur = buf_get_locked(w, need)))
		return ENOMEM;
	struct blockbuf *b = w->cur;
	if (b->cap < b->len + need) {
		size_t cap = b->len + need;
		uint8_t *p = realloc(b->raw, cap);
		if (!p)
			return ENOMEM;
		b->raw = p;
		b->cap = cap;
	}
	return 0;
}

/* Encode r into the open block (which has the room) and number it. Called with mu held. */
static void
encode_locked(struct journal_writer *w, struct journal_record *r)
{
	struct blockbuf *b = w->cur;

	if (b->count == 0) {
		b->first_recno = w->next_recno;
		b->first_wall = b->last_wall = b->max_wall = r->wall_ns;
		b->first_mono = b->last_mono = r->mono_ns;
		b->opened_mono = journal_now_mono();
		pthread_cond_signal(&w->cv_writer); /* it arms the flush timer */
	}
	b->len += rec_encode(b->raw + b->len, r, b->last_wall, b->last_mono);
	b->last_wall = r->wall_ns;
	b->last_mono = r->mono_ns;
	if (r->wall_ns > b->max_wall)
		b->max_wall = r->wall_ns;
	b->payload_bytes += r->payload_len;
	b->count++;
	r->recno = w->next_recno++;
	if (r->conn >= w->next_conn)
		w->next_conn = r->conn + 1;
	if (r->conn > b->max_conn)
		b->max_conn = r->conn;
	if (b->len >= w->opt.block_bytes)
		writer_seal_locked(w);
}

int
journal_append(struct journal *j, struct journal_record *r)
{
	struct journal_writer *w = j->w;
	int rc;

	if (!w)
		return JOURNAL_ERDONLY;
	if (!record_valid(r))
		return JOURNAL_EINVAL;
	size_t need = rec_encoded_max(r);
	pthread_mutex_lock(&w->mu);
	if ((rc = room_locked(w, need)) == 0)
		encode_locked(w, r);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

int
journal_flush(struct journal *j)
{
	struct journal_writer *w = j->w;
	int rc;
	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	writer_seal_locked(w);
	uint64_t target = w->sealed_seq;
	while (w->written_seq < target)
		pthread_cond_wait(&w->cv_done, &w->mu);
	rc = w->err;
	pthread_mutex_unlock(&w->mu);
	return rc;
}

uint32_t
journal_next_conn(struct journal *j)
{
	struct journal_writer *w = j->w;
	if (!w)
		return 0;
	pthread_mutex_lock(&w->mu);
	uint32_t c = w->next_conn++;
	pthread_mutex_unlock(&w->mu);
	return c;
}
