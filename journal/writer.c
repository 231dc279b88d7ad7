/* writer.c - a writer's threads: compressing sealed blocks in parallel, storing them in
 * order at the end of the current segment, indexing them, and the flush and fsync timers
 *
 * Every worker compresses whichever sealed block is next unclaimed, and whichever worker
 * finds the oldest block compressed while nobody is storing stores it: blocks are
 * compressed in parallel and reach the segment in order. The flush and fsync timers are
 * served by whoever waits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "crc32c.h"
#include "health.h"
#include "writer.h"

static void
timespec_at(struct timespec *ts, int64_t mono_ns)
{
	ts->tv_sec = mono_ns / 1000000000LL;
	ts->tv_nsec = mono_ns % 1000000000LL;
}

static int
write_full(int fd, const struct iovec *iov0, int n, uint64_t off)
{
	struct iovec iov[2];
	memcpy(iov, iov0, (size_t)n * sizeof(*iov));
	struct iovec *v = iov;
	while (n > 0) {
		ssize_t w = pwritev(fd, v, n, (off_t)off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		if (w == 0)
			return EIO;
		off += (uint64_t)w;
		while (n > 0 && (size_t)w >= v->iov_len) {
			w -= (ssize_t)v->iov_len;
			v++;
			n--;
		}
		if (n > 0) {
			v->iov_base = (char *)v->iov_base + w;
			v->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* fdatasync, timed into the writer's fsync histogram (journal/health.h) */
static int
timed_fdatasync(struct journal_writer *w, int fd)
{
	int64_t t0 = journal_now_mono();
	int rc = fdatasync(fd);
	journal_health_fsync(w, journal_now_mono() - t0);
	return rc;
}

static int
segment_start(struct journal *j, uint64_t first_recno)
{
	struct journal_writer *w = j->w;
	char path[4200];
	uint8_t h[SEG_HEADER_SIZE];
	uint32_t n = w->store.seg_no + 1;
	int fd, rc;

	if (w->store.seg_fd >= 0) {
		/* a sealed segment is never written again: make it durable before moving on */
		if (w->opt.fsync != JOURNAL_FSYNC_NEVER && timed_fdatasync(w, w->store.seg_fd) != 0)
			return errno;
		close(w->store.seg_fd);
		w->store.seg_fd = -1;
	}
	seg_path(path, sizeof(path), j->dir, n);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return errno;
	int64_t created = journal_now_wall();
	seg_header_make(h, n, first_recno, created);
	struct iovec iov = { h, sizeof(h) };
	if ((rc = write_full(fd, &iov, 1, 0)) != 0) {
		close(fd);
		unlink(path);
		return rc;
	}
	if (w->opt.fsync != JOURNAL_FSYNC_NEVER &&
	    (timed_fdatasync(w, fd) != 0 || journal_fsync_dir(j->dir) != 0)) {
		rc = errno;
		close(fd);
		return rc;
	}
	w->store.seg_fd = fd;
	w->store.seg_no = n;
	w->store.seg_size = SEG_HEADER_SIZE;
	w->store.seg_created = created;
	return 0;
}

/* When the current segment falls due with opt.segment_age_ms: the first multiple of the age
 * since the Unix epoch after the segment was created, so that segments follow the clock (1h:
 * every hour on the hour, 1d: at 00:00 UTC) and hold whole hours or days. */
static int64_t
segment_due(const struct journal_writer *w)
{
	int64_t age = (int64_t)(w->opt.segment_age_ms * 1000000ULL);
	int64_t c = w->store.seg_created;

	return (c >= 0 ? c / age : (c - age + 1) / age) * age + age;
}

/* The current segment holds a block and its time (segment_due) has come: it is sealed. */
static int
segment_aged(const struct journal_writer *w, int64_t now_wall)
{
	return w->opt.segment_age_ms && w->store.seg_fd >= 0 && w->store.seg_size > SEG_HEADER_SIZE &&
		now_wall >= segment_due(w);
}

int
writer_index_block(struct journal *j, const struct blk_header *h, const uint8_t *raw, uint32_t seg,
		   uint64_t off, uint64_t payload_bytes, uint32_t max_conn)
{
	struct journal_writer *w = j->w;
	struct idx_block b = {
		.segment = seg,
		.offset = off,
		.comp_len = h->comp_len,
		.raw_len = h->raw_len,
		.count = h->count,
		.first_recno = h->first_recno,
		.first_wall = h->first_wall,
		.payload_bytes = payload_bytes,
	};
	if (w->store.st.records == 0 || h->first_wall < w->store.st.first_wall)
		w->store.st.first_wall = w->store.st.records == 0 ? h->first_wall : w->store.st.first_wall;
	if (w->store.st.blocks == 0 || h->max_wall > w->store.st.max_wall)
		w->store.st.max_wall = h->max_wall;
	b.max_wall = w->store.st.max_wall;
	w->store.st.segment = seg;
	w->store.st.offset = off + BLK_HEADER_SIZE + h->comp_len;
	w->store.st.next_recno = h->first_recno + h->count;
	w->store.st.records += h->count;
	w->store.st.payload_bytes += payload_bytes;
	w->store.st.raw_bytes += h->raw_len;
	w->store.st.blocks++;
	if (max_conn > w->store.st.max_conn)
		w->store.st.max_conn = max_conn;
	if (w->store.idx_failed || !j->idx)
		return 0;
	int rc = idx_add_block(j->idx, &b, raw, h, &w->store.st);
	if (rc) {
		/* The segments stay the truth: stop indexing, keep writing; the next open
		 * indexes what is missing. */
		__atomic_store_n(&w->store.idx_failed, rc, __ATOMIC_RELEASE);
	}
	return 0;
}

/* Compress one sealed block into its own buffer; runs on any worker, in parallel. */
static int
compress_block(struct journal *j, struct blockbuf *b, void *cctx)
{
	struct journal_writer *w = j->w;
	size_t bound = ZSTD_compressBound(b->len);
	if (b->comp_cap < bound) {
		uint8_t *p = realloc(b->comp, bound);
		if (!p)
			return ENOMEM;
		b->comp = p;
		b->comp_cap = bound;
	}
	size_t n = ZSTD_compressCCtx(cctx, b->comp, b->comp_cap, b->raw, b->len, w->opt.zstd_level);
	if (ZSTD_isError(n))
		return JOURNAL_EZSTD;
	b->comp_len = n;
	return 0;
}

/* Write a compressed block at the end of the current segment and index it; runs on one
 * worker at a time, in block order. */
static int
store_block(struct journal *j, struct blockbuf *b)
{
	struct blk_header h = { 0 };
	uint8_t hb[BLK_HEADER_SIZE];
	struct journal_writer *w = j->w;
	size_t n = b->comp_len;
	int rc;

	h.flags = BLK_FLAG_ZSTD;
	h.comp_len = (uint32_t)n;
	h.raw_len = (uint32_t)b->len;
	h.first_recno = b->first_recno;
	h.count = b->count;
	h.data_crc = crc32c(0, b->comp, n);
	h.first_wall = b->first_wall;
	h.max_wall = b->max_wall;
	h.first_mono = b->first_mono;
	blk_header_encode(&h, hb);

	if (w->store.seg_fd < 0 ||
	    (w->store.seg_size > SEG_HEADER_SIZE &&
	     w->store.seg_size + BLK_HEADER_SIZE + n > w->opt.segment_bytes) ||
	    segment_aged(w, journal_now_wall())) {
		if ((rc = segment_start(j, b->first_recno)) != 0) {
			journal_set_detail(j, "cannot start segment %u in '%s': %s", w->store.seg_no + 1,
					   j->dir, strerror(rc));
			return rc;
		}
	}
	struct iovec iov[2] = { { hb, sizeof(hb) }, { b->comp, n } };
	if ((rc = write_full(w->store.seg_fd, iov, 2, w->store.seg_size)) != 0) {
		/* cut the partial block so the segment ends at its last whole block */
		if (ftruncate(w->store.seg_fd, (off_t)w->store.seg_size) != 0) {
			/* the torn tail is cut on the next open */
		}
		journal_set_detail(j, "write to segment %u of '%s' at offset %llu failed: %s",
				   w->store.seg_no, j->dir, (unsigned long long)w->store.seg_size,
				   strerror(rc));
		return rc;
	}
	uint64_t off = w->store.seg_size;
	w->store.seg_size += sizeof(hb) + n;
	if (w->opt.fsync == JOURNAL_FSYNC_ALWAYS && timed_fdatasync(w, w->store.seg_fd) != 0) {
		rc = errno;
		journal_set_detail(j, "fsync of segment %u of '%s': %s", w->store.seg_no, j->dir,
				   strerror(rc));
		return rc;
	}
	return writer_index_block(j, &h, b->raw, w->store.seg_no, off, b->payload_bytes, b->max_conn);
}

int
writer_fsync(struct journal *j)
{
	struct journal_writer *w = j->w;
	if (w->store.seg_fd >= 0 && timed_fdatasync(w, w->store.seg_fd) != 0)
		return errno;
	if (j->idx && !w->store.idx_failed)
		idx_sync(j->idx);
	return 0;
}

void
writer_seal_locked(struct journal_writer *w)
{
	struct blockbuf *b = w->cur;
	if (!b || b->count == 0)
		return;
	w->cur = NULL;
	b->next = NULL;
	if (w->pending_tail)
		w->pending_tail->next = b;
	else
		w->pending_head = b;
	w->pending_tail = b;
	b->state = BB_QUEUED;
	b->cerr = 0;
	w->npending++;
	w->sealed_seq++;
	pthread_cond_broadcast(&w->cv_writer);
}

static void
buf_release_locked(struct journal_writer *w, struct blockbuf *b)
{
	/* keep ordinary buffers for reuse; give back the memory of outsized ones */
	if (b->cap > 4 * (size_t)w->opt.block_bytes + 65536) {
		free(b->raw);
		free(b->comp);
		free(b);
		return;
	}
	b->next = w->free_list;
	w->free_list = b;
}

struct worker_arg {
	struct journal *j;
	int id;
};

/* Store the oldest block when it is compressed and nobody stores (or, after an error,
 * drop it). 1 when it did, 0 when there was nothing to do. Called with mu held. */
static int
store_head_locked(struct journal *j)
{
	struct journal_writer *w = j->w;
	struct blockbuf *head = w->pending_head;

	if (!head || w->storing || !(head->state == BB_COMPRESSED || (w->err && head->state == BB_QUEUED)))
		return 0;
	w->storing = 1;
	int failed = w->err != 0;
	pthread_mutex_unlock(&w->mu);
	int rc = failed ? 0 : head->cerr ? head->cerr : store_block(j, head);
	pthread_mutex_lock(&w->mu);
	if (head->cerr && !w->err)
		journal_set_detail(j, "compression of a block for '%s' failed", j->dir);
	if (rc && !w->err)
		w->err = rc;
	if (!rc && !failed)
		w->dirty = 1;
	w->pending_head = head->next;
	if (!w->pending_head)
		w->pending_tail = NULL;
	w->storing = 0;
	w->npending--;
	w->written_seq++;
	head->len = 0;
	head->count = 0;
	buf_release_locked(w, head);
	pthread_cond_broadcast(&w->cv_done);
	pthread_cond_broadcast(&w->cv_writer);
	return 1;
}

/* Compress the first sealed block nobody has claimed. 1 when it did. Called with mu held. */
static int
compress_next_locked(struct journal *j, void *cctx)
{
	struct journal_writer *w = j->w;
	struct blockbuf *todo = NULL;

	for (struct blockbuf *b = w->pending_head; b; b = b->next)
		if (b->state == BB_QUEUED) {
			todo = b;
			break;
		}
	if (!todo || w->err)
		return 0;
	todo->state = BB_COMPRESSING;
	pthread_mutex_unlock(&w->mu);
	todo->cerr = compress_block(j, todo, cctx);
	pthread_mutex_lock(&w->mu);
	todo->state = BB_COMPRESSED;
	pthread_cond_broadcast(&w->cv_writer);
	return 1;
}

/* Start the next segment (an idle writer's due segment is sealed so): 0 or an errno, with
 * the detail set. */
static int
next_segment(struct journal *j)
{
	struct journal_writer *w = j->w;
	int rc = segment_start(j, w->store.st.next_recno ? w->store.st.next_recno : 1);

	if (rc)
		journal_set_detail(j, "cannot start segment %u in '%s': %s", w->store.seg_no + 1, j->dir,
				   strerror(rc));
	return rc;
}

/* Run fn on the segment with mu released: 'storing' keeps the segment from changing under
 * it; its error becomes the writer's (the first one stays) and the waiters are woken.
 * Called with mu held, returns with it held. */
static void
store_unlocked(struct journal *j, int (*fn)(struct journal *))
{
	struct journal_writer *w = j->w;

	w->storing = 1;
	pthread_mutex_unlock(&w->mu);
	int rc = fn(j);
	pthread_mutex_lock(&w->mu);
	w->storing = 0;
	if (rc && !w->err)
		w->err = rc;
	pthread_cond_broadcast(&w->cv_writer);
	pthread_cond_broadcast(&w->cv_done);
}

/* The flush timer (seal an open block that is old enough), the idle writer's segment timer
 * (--segment-age) and the fsync timer of the INTERVAL policy. 1 when one fired; otherwise
 * *deadline is the next one (INT64_MAX: none). Called with mu held. */
static int
timers_locked(struct journal *j, int64_t *deadline)
{
	struct journal_writer *w = j->w;
	int64_t now = journal_now_mono();

	*deadline = INT64_MAX;
	if (w->cur && w->cur->count) {
		int64_t d = w->cur->opened_mono + (int64_t)w->opt.flush_ms * 1000000LL;
		if (d <= now) {
			writer_seal_locked(w);
			return 1;
		}
		*deadline = d;
	}
	if (w->opt.segment_age_ms && !w->storing && !w->pending_head && w->store.seg_fd >= 0 &&
	    w->store.seg_size > SEG_HEADER_SIZE) {
		/* an idle writer seals an aged segment too: it starts the next one, empty, so
		 * that the aged one is no longer the last (a prune may take it) */
		int64_t wall = journal_now_wall();
		if (segment_aged(w, wall)) {
			store_unlocked(j, next_segment);
			return 1;
		}
		int64_t d = now + (segment_due(w) - wall);
		if (d < *deadline)
			*deadline = d;
	}
	if (w->opt.fsync == JOURNAL_FSYNC_INTERVAL && w->dirty && !w->storing) {
		int64_t d = w->last_fsync_mono + (int64_t)w->opt.fsync_interval_ms * 1000000LL;
		if (d <= now) {
			w->dirty = 0;
			w->last_fsync_mono = now;
			store_unlocked(j, writer_fsync);
			return 1;
		}
		if (d < *deadline)
			*deadline = d;
	}
	return 0;
}

static void *
worker_main(void *arg)
{
	struct journal *j = ((struct worker_arg *)arg)->j;
	struct journal_writer *w = j->w;
	void *cctx = w->cctx[((struct worker_arg *)arg)->id];
	int64_t deadline;

	free(arg);
	pthread_mutex_lock(&w->mu);
	for (;;) {
		if (store_head_locked(j) || compress_next_locked(j, cctx))
			continue;
		if (w->stopping && !w->pending_head)
			break;
		if (timers_locked(j, &deadline))
			continue;
		if (deadline == INT64_MAX) {
			pthread_cond_wait(&w->cv_writer, &w->mu);
		} else {
			struct timespec ts;
			timespec_at(&ts, deadline);
			pthread_cond_timedwait(&w->cv_writer, &w->mu, &ts);
		}
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void
writer_wait_idle_locked(struct journal_writer *w)
{
	while (w->storing)
		pthread_cond_wait(&w->cv_done, &w->mu);
}

static void
apply_defaults(struct journal_options *o)
{
	if (o->fsync < JOURNAL_FSYNC_INTERVAL || o->fsync > JOURNAL_FSYNC_NEVER)
		o->fsync = JOURNAL_FSYNC_INTERVAL;
	if (!o->fsync_interval_ms)
		o->fsync_interval_ms = 1000;
	if (!o->flush_ms)
		o->flush_ms = 100;
	if (!o->block_bytes)
		o->block_bytes = 1u << 20;
	if (!o->segment_bytes)
		o->segment_bytes = 256ULL << 20;
	if (!o->zstd_level)
		o->zstd_level = 1; /* bench/20_journal.sh: level 1 on 1 MiB blocks lands within
				      ~7% of `zstd -3` on the whole file, at twice level 3's speed */
	if (!o->max_pending)
		o->max_pending = 8;
	if (!o->threads)
		o->threads = 2;
	if (o->threads > JOURNAL_MAX_THREADS)
		o->threads = JOURNAL_MAX_THREADS;
}

int
writer_new(struct journal *j, const struct journal_options *opt)
{
	struct journal_writer *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;

	if (!w)
		return ENOMEM;
	w->lock_fd = -1;
	w->store.seg_fd = -1;
	if (opt)
		w->opt = *opt;
	apply_defaults(&w->opt);
	pthread_mutex_init(&w->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cv_writer, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->cv_done, NULL);
	j->w = w;
	return 0;
}

int
writer_start(struct journal *j)
{
	struct journal_writer *w = j->w;
	int rc;

	w->next_recno = w->store.st.next_recno ? w->store.st.next_recno : 1;
	w->next_conn = w->store.st.max_conn + 1;
	w->last_fsync_mono = journal_now_mono();
	for (uint32_t t = 0; t < w->opt.threads; t++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (!wa || !(w->cctx[t] = ZSTD_createCCtx())) {
			free(wa);
			return ENOMEM;
		}
		wa->j = j;
		wa->id = (int)t;
		if ((rc = pthread_create(&w->threads[t], NULL, worker_main, wa)) != 0) {
			free(wa);
			return rc;
		}
		w->nthreads++;
	}
	return 0;
}

int
writer_stop(struct journal *j)
{
	struct journal_writer *w = j->w;
	int rc;

	if (!w->nthreads)
		return 0;
	pthread_mutex_lock(&w->mu);
	writer_seal_locked(w);
	w->stopping = 1;
	pthread_cond_broadcast(&w->cv_writer);
	pthread_mutex_unlock(&w->mu);
	for (int t = 0; t < w->nthreads; t++)
		pthread_join(w->threads[t], NULL);
	rc = w->err;
	if (w->opt.fsync != JOURNAL_FSYNC_NEVER && !rc && !w->discard) {
		rc = writer_fsync(j);
		if (!rc)
			rc = journal_fsync_dir(j->dir);
	}
	return rc;
}

static void
buf_free(struct blockbuf *b)
{
	free(b->raw);
	free(b->comp);
	free(b);
}

void
writer_free(struct journal_writer *w)
{
	if (!w)
		return;
	while (w->free_list) {
		struct blockbuf *b = w->free_list;
		w->free_list = b->next;
		buf_free(b);
	}
	if (w->cur)
		buf_free(w->cur);
	if (w->store.seg_fd >= 0)
		close(w->store.seg_fd);
	if (w->lock_fd >= 0)
		close(w->lock_fd); /* releases the flock */
	for (int t = 0; t < JOURNAL_MAX_THREADS; t++)
		if (w->cctx[t])
			ZSTD_freeCCtx(w->cctx[t]);
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv_writer);
	pthread_cond_destroy(&w->cv_done);
	free(w);
}
