/* journal.c - opening, recovery, appending, the writer thread, metadata and verification */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "crc32c.h"
#include "internal.h"
#include "util/text.h"

int64_t
journal_now_mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
now_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void
journal_set_detail(struct journal *j, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->detail, sizeof(j->detail), fmt, ap);
	va_end(ap);
}

/* The detail of the last journal_open() that failed in this thread. */
static __thread char open_detail[512];

const char *
journal_last_detail(const struct journal *j)
{
	return j ? j->detail : open_detail;
}

const char *
journal_strerror(int err)
{
	switch (err) {
	case 0: return "success";
	case JOURNAL_EOF: return "end of journal";
	case JOURNAL_ENOTJOURNAL: return "not a wstape journal";
	case JOURNAL_EVERSION: return "journal written by a newer version of wstape (format version too new)";
	case JOURNAL_ECORRUPT: return "journal is corrupt";
	case JOURNAL_ELOCKED: return "journal is locked by another writer";
	case JOURNAL_EINDEX: return "journal index failed";
	case JOURNAL_EZSTD: return "compression failed";
	case JOURNAL_EINVAL: return "invalid argument";
	case JOURNAL_ERDONLY: return "journal is open read-only";
	case JOURNAL_EEXIST: return "a journal already exists there";
	case JOURNAL_ENOTFOUND: return "no such record";
	case JOURNAL_EGAP: return "records are missing from the journal";
	default: return err > 0 ? strerror(err) : "unknown journal error";
	}
}

static const char *const kind_names[] = { "text", "binary", "ping", "pong", "open", "close", "error" };

const char *
journal_kind_name(int kind)
{
	return kind >= 0 && kind <= JOURNAL_KIND_MAX ? kind_names[kind] : "?";
}

int
journal_kind_parse(const char *s, size_t n)
{
	for (int i = 0; i <= JOURNAL_KIND_MAX; i++)
		if (strlen(kind_names[i]) == n && memcmp(kind_names[i], s, n) == 0)
			return i;
	return -1;
}

const char *
journal_dir_name(int dir)
{
	return dir == JOURNAL_OUT ? "out" : "in";
}

int
journal_dir_parse(const char *s, size_t n)
{
	if (n == 2 && memcmp(s, "in", 2) == 0)
		return JOURNAL_IN;
	if (n == 3 && memcmp(s, "out", 3) == 0)
		return JOURNAL_OUT;
	return -1;
}

/* ---- cursors ---- */

/* Split off the next ':'-separated component; 1 when it is all digits. */
static int
next_component(const uint8_t **p, const uint8_t *end, const uint8_t **s, size_t *n)
{
	const uint8_t *q = *p;
	int digits = q < end;
	*s = q;
	while (q < end && *q != ':') {
		if (*q < '0' || *q > '9')
			digits = 0;
		q++;
	}
	*n = (size_t)(q - *s);
	*p = q < end ? q + 1 : q;
	return digits;
}

static int
numeric_cursor(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n, *s;
	size_t len;
	if (n == 0)
		return 0;
	while (p < end)
		if (!next_component(&p, end, &s, &len))
			return 0;
	return n == 0 || p[-1] != ':';
}

int
journal_cursor_cmp(const void *a, size_t alen, const void *b, size_t blen)
{
	const uint8_t *pa = a, *pb = b;

	if (numeric_cursor(pa, alen) && numeric_cursor(pb, blen)) {
		const uint8_t *ea = pa + alen, *eb = pb + blen, *sa, *sb;
		size_t na, nb;
		while (pa < ea && pb < eb) {
			next_component(&pa, ea, &sa, &na);
			next_component(&pb, eb, &sb, &nb);
			while (na > 1 && *sa == '0')
				sa++, na--;
			while (nb > 1 && *sb == '0')
				sb++, nb--;
			if (na != nb)
				return na < nb ? -1 : 1;
			int c = memcmp(sa, sb, na);
			if (c)
				return c;
		}
		return (pa < ea) - (pb < eb);
	}
	int c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

/* ---- metadata file ---- */

static void
meta_free(struct journal *j)
{
	for (size_t i = 0; i < j->nmeta; i++) {
		free(j->meta[i].key);
		free(j->meta[i].value);
	}
	free(j->meta);
	j->meta = NULL;
	j->nmeta = 0;
}

static int
meta_put(struct journal *j, const char *key, const char *value)
{
	for (size_t i = 0; i < j->nmeta; i++)
		if (strcmp(j->meta[i].key, key) == 0) {
			char *v = strdup(value);
			if (!v)
				return ENOMEM;
			free(j->meta[i].value);
			j->meta[i].value = v;
			return 0;
		}
	struct meta_kv *m = realloc(j->meta, (j->nmeta + 1) * sizeof(*m));
	if (!m)
		return ENOMEM;
	j->meta = m;
	m[j->nmeta].key = strdup(key);
	m[j->nmeta].value = strdup(value);
	if (!m[j->nmeta].key || !m[j->nmeta].value) {
		free(m[j->nmeta].key);
		free(m[j->nmeta].value);
		return ENOMEM;
	}
	j->nmeta++;
	return 0;
}

/* Returns 0, ENOENT when there is no META file, or another errno. */
static int
meta_load(struct journal *j)
{
	char path[4200], line[8400];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/" META_FILE, j->dir);
	if (!(f = fopen(path, "r")))
		return errno;
	while (fgets(line, sizeof(line), f)) {
		char *eq = strchr(line, '='), *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (!eq || line[0] == '#')
			continue;
		*eq = 0;
		if ((rc = meta_put(j, line, eq + 1)) != 0)
			break;
	}
	if (ferror(f) && !rc)
		rc = EIO;
	fclose(f);
	return rc;
}

static int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return errno;
	int rc = fsync(fd) ? errno : 0;
	close(fd);
	return rc;
}

static int
meta_store(struct journal *j)
{
	char path[4200], tmp[4200];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/" META_FILE, j->dir);
	snprintf(tmp, sizeof(tmp), "%s/" META_FILE ".tmp", j->dir);
	if (!(f = fopen(tmp, "w")))
		return errno;
	fprintf(f, "# wstape journal metadata\n");
	for (size_t i = 0; i < j->nmeta; i++)
		fprintf(f, "%s=%s\n", j->meta[i].key, j->meta[i].value);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = errno;
	if (fclose(f) != 0 && !rc)
		rc = errno;
	if (!rc && rename(tmp, path) != 0)
		rc = errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir(j->dir);
}

const char *
journal_meta_get(struct journal *j, const char *key)
{
	for (size_t i = 0; i < j->nmeta; i++)
		if (strcmp(j->meta[i].key, key) == 0)
			return j->meta[i].value;
	return NULL;
}

static int
meta_text_ok(const char *s, int is_key)
{
	size_t n = strlen(s);
	if (n > 4096 || (is_key && n == 0))
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (is_key && *s == '='))
			return 0;
	return 1;
}

int
journal_meta_set(struct journal *j, const char *key, const char *value)
{
	int rc;
	if (j->flags & JOURNAL_RDONLY)
		return JOURNAL_ERDONLY;
	if (!meta_text_ok(key, 1) || !meta_text_ok(value, 0))
		return JOURNAL_EINVAL;
	if ((rc = meta_put(j, key, value)) != 0)
		return rc;
	return meta_store(j);
}

/* ---- the writer thread ---- */

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

static int
segment_start(struct journal *j, uint64_t first_recno)
{
	char path[4200];
	uint8_t h[SEG_HEADER_SIZE];
	uint32_t n = j->seg_no + 1;
	int fd, rc;

	if (j->seg_fd >= 0) {
		/* a sealed segment is never written again: make it durable before moving on */
		if (j->opt.fsync != JOURNAL_FSYNC_NEVER && fdatasync(j->seg_fd) != 0)
			return errno;
		close(j->seg_fd);
		j->seg_fd = -1;
	}
	seg_path(path, sizeof(path), j->dir, n);
	if ((fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return errno;
	seg_header_make(h, n, first_recno, now_wall());
	struct iovec iov = { h, sizeof(h) };
	if ((rc = write_full(fd, &iov, 1, 0)) != 0) {
		close(fd);
		unlink(path);
		return rc;
	}
	if (j->opt.fsync != JOURNAL_FSYNC_NEVER && (fdatasync(fd) != 0 || fsync_dir(j->dir) != 0)) {
		rc = errno;
		close(fd);
		return rc;
	}
	j->seg_fd = fd;
	j->seg_no = n;
	j->seg_size = SEG_HEADER_SIZE;
	return 0;
}

static int
index_block(struct journal *j, const struct blk_header *h, const uint8_t *raw, uint32_t seg, uint64_t off,
	    uint64_t payload_bytes, uint32_t max_conn)
{
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
	if (j->st.records == 0 || h->first_wall < j->st.first_wall)
		j->st.first_wall = j->st.records == 0 ? h->first_wall : j->st.first_wall;
	if (j->st.blocks == 0 || h->max_wall > j->st.max_wall)
		j->st.max_wall = h->max_wall;
	b.max_wall = j->st.max_wall;
	j->st.segment = seg;
	j->st.offset = off + BLK_HEADER_SIZE + h->comp_len;
	j->st.next_recno = h->first_recno + h->count;
	j->st.records += h->count;
	j->st.payload_bytes += payload_bytes;
	j->st.raw_bytes += h->raw_len;
	j->st.blocks++;
	if (max_conn > j->st.max_conn)
		j->st.max_conn = max_conn;
	if (j->idx_failed || !j->idx)
		return 0;
	int rc = idx_add_block(j->idx, &b, raw, h, &j->st);
	if (rc) {
		/* The segments stay the truth: stop indexing, keep writing; the next open
		 * indexes what is missing. */
		j->idx_failed = rc;
	}
	return 0;
}

/* Compress one sealed block into its own buffer; runs on any worker, in parallel. */
static int
compress_block(struct journal *j, struct blockbuf *b, void *cctx)
{
	size_t bound = ZSTD_compressBound(b->len);
	if (b->comp_cap < bound) {
		uint8_t *p = realloc(b->comp, bound);
		if (!p)
			return ENOMEM;
		b->comp = p;
		b->comp_cap = bound;
	}
	size_t n = ZSTD_compressCCtx(cctx, b->comp, b->comp_cap, b->raw, b->len, j->opt.zstd_level);
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

	if (j->seg_fd < 0 || (j->seg_size > SEG_HEADER_SIZE &&
			      j->seg_size + BLK_HEADER_SIZE + n > j->opt.segment_bytes)) {
		if ((rc = segment_start(j, b->first_recno)) != 0) {
			journal_set_detail(j, "cannot start segment %u in '%s': %s", j->seg_no + 1, j->dir,
					   strerror(rc));
			return rc;
		}
	}
	struct iovec iov[2] = { { hb, sizeof(hb) }, { b->comp, n } };
	if ((rc = write_full(j->seg_fd, iov, 2, j->seg_size)) != 0) {
		/* cut the partial block so the segment ends at its last whole block */
		if (ftruncate(j->seg_fd, (off_t)j->seg_size) != 0) {
			/* the torn tail is cut on the next open */
		}
		journal_set_detail(j, "write to segment %u of '%s' at offset %llu failed: %s", j->seg_no,
				   j->dir, (unsigned long long)j->seg_size, strerror(rc));
		return rc;
	}
	uint64_t off = j->seg_size;
	j->seg_size += sizeof(hb) + n;
	if (j->opt.fsync == JOURNAL_FSYNC_ALWAYS && fdatasync(j->seg_fd) != 0) {
		rc = errno;
		journal_set_detail(j, "fsync of segment %u of '%s': %s", j->seg_no, j->dir, strerror(rc));
		return rc;
	}
	return index_block(j, &h, b->raw, j->seg_no, off, b->payload_bytes, b->max_conn);
}

static int
do_fsync(struct journal *j)
{
	if (j->seg_fd >= 0 && fdatasync(j->seg_fd) != 0)
		return errno;
	if (j->idx && !j->idx_failed)
		idx_sync(j->idx);
	return 0;
}

/* Move the open block to the writer's queue. Called with mu held. */
static void
seal_locked(struct journal *j)
{
	struct blockbuf *b = j->cur;
	if (!b || b->count == 0)
		return;
	j->cur = NULL;
	b->next = NULL;
	if (j->pending_tail)
		j->pending_tail->next = b;
	else
		j->pending_head = b;
	j->pending_tail = b;
	b->state = BB_QUEUED;
	b->cerr = 0;
	j->npending++;
	j->sealed_seq++;
	pthread_cond_broadcast(&j->cv_writer);
}

static void
buf_release_locked(struct journal *j, struct blockbuf *b)
{
	/* keep ordinary buffers for reuse; give back the memory of outsized ones */
	if (b->cap > 4 * (size_t)j->opt.block_bytes + 65536) {
		free(b->raw);
		free(b->comp);
		free(b);
		return;
	}
	b->next = j->free_list;
	j->free_list = b;
}

struct worker_arg {
	struct journal *j;
	int id;
};

/* Every worker compresses whichever sealed block is next unclaimed, and whichever worker
 * finds the oldest block compressed while nobody is storing stores it: blocks are
 * compressed in parallel and reach the segment in order. The flush and fsync timers are
 * served by whoever waits. */
static void *
worker_main(void *arg)
{
	struct journal *j = ((struct worker_arg *)arg)->j;
	void *cctx = j->cctx[((struct worker_arg *)arg)->id];

	free(arg);
	pthread_mutex_lock(&j->mu);
	for (;;) {
		struct blockbuf *head = j->pending_head, *todo = NULL;
		if (head && !j->storing && (head->state == BB_COMPRESSED || (j->err && head->state == BB_QUEUED))) {
			j->storing = 1;
			int failed = j->err != 0;
			pthread_mutex_unlock(&j->mu);
			int rc = failed ? 0 : head->cerr ? head->cerr : store_block(j, head);
			pthread_mutex_lock(&j->mu);
			if (head->cerr && !j->err)
				journal_set_detail(j, "compression of a block for '%s' failed", j->dir);
			if (rc && !j->err)
				j->err = rc;
			if (!rc && !failed)
				j->dirty = 1;
			j->pending_head = head->next;
			if (!j->pending_head)
				j->pending_tail = NULL;
			j->storing = 0;
			j->npending--;
			j->written_seq++;
			head->len = 0;
			head->count = 0;
			buf_release_locked(j, head);
			pthread_cond_broadcast(&j->cv_done);
			pthread_cond_broadcast(&j->cv_writer);
			continue;
		}
		for (struct blockbuf *b = head; b; b = b->next)
			if (b->state == BB_QUEUED) {
				todo = b;
				break;
			}
		if (todo && !j->err) {
			todo->state = BB_COMPRESSING;
			pthread_mutex_unlock(&j->mu);
			todo->cerr = compress_block(j, todo, cctx);
			pthread_mutex_lock(&j->mu);
			todo->state = BB_COMPRESSED;
			pthread_cond_broadcast(&j->cv_writer);
			continue;
		}
		if (j->stopping && !j->pending_head)
			break;
		int64_t now = journal_now_mono(), deadline = INT64_MAX;
		if (j->cur && j->cur->count) {
			int64_t d = j->cur->opened_mono + (int64_t)j->opt.flush_ms * 1000000LL;
			if (d <= now) {
				seal_locked(j);
				continue;
			}
			deadline = d;
		}
		if (j->opt.fsync == JOURNAL_FSYNC_INTERVAL && j->dirty && !j->storing) {
			int64_t d = j->last_fsync_mono + (int64_t)j->opt.fsync_interval_ms * 1000000LL;
			if (d <= now) {
				j->dirty = 0;
				j->last_fsync_mono = now;
				j->storing = 1; /* keeps the segment from changing under the fsync */
				pthread_mutex_unlock(&j->mu);
				int rc = do_fsync(j);
				pthread_mutex_lock(&j->mu);
				j->storing = 0;
				if (rc && !j->err)
					j->err = rc;
				pthread_cond_broadcast(&j->cv_writer);
				pthread_cond_broadcast(&j->cv_done);
				continue;
			}
			if (d < deadline)
				deadline = d;
		}
		if (deadline == INT64_MAX) {
			pthread_cond_wait(&j->cv_writer, &j->mu);
		} else {
			struct timespec ts;
			timespec_at(&ts, deadline);
			pthread_cond_timedwait(&j->cv_writer, &j->mu, &ts);
		}
	}
	pthread_mutex_unlock(&j->mu);
	return NULL;
}

/* ---- appending ---- */

static struct blockbuf *
buf_get_locked(struct journal *j, size_t need)
{
	struct blockbuf *b = j->free_list;
	if (b) {
		j->free_list = b->next;
	} else {
		if (!(b = calloc(1, sizeof(*b))))
			return NULL;
	}
	size_t want = need > j->opt.block_bytes ? need : (size_t)j->opt.block_bytes + 4096;
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

int
journal_append(struct journal *j, struct journal_record *r)
{
	int rc;

	if (j->flags & JOURNAL_RDONLY)
		return JOURNAL_ERDONLY;
	if (r->channel_len > JOURNAL_MAX_CHANNEL || r->cursor_len > JOURNAL_MAX_CURSOR ||
	    r->payload_len > JOURNAL_MAX_PAYLOAD || r->kind > JOURNAL_KIND_MAX || r->dir > 1 ||
	    (r->channel_len && !r->channel) || (r->cursor_len && !r->cursor) || (r->payload_len && !r->payload))
		return JOURNAL_EINVAL;
	size_t need = rec_encoded_max(r);

	pthread_mutex_lock(&j->mu);
	if ((rc = j->err) != 0)
		goto out;
	if (j->cur && j->cur->count && j->cur->len + need > j->opt.block_bytes)
		seal_locked(j);
	while (j->npending >= j->opt.max_pending && !j->err) {
		/* the disk is behind: wait (never drop), and count the wait */
		int64_t t0 = journal_now_mono();
		pthread_cond_wait(&j->cv_done, &j->mu);
		j->append_waits++;
		j->append_wait_ns += (uint64_t)(journal_now_mono() - t0);
	}
	if ((rc = j->err) != 0)
		goto out;
	if (!j->cur) {
		if (!(j->cur = buf_get_locked(j, need))) {
			rc = ENOMEM;
			goto out;
		}
	}
	struct blockbuf *b = j->cur;
	if (b->cap < b->len + need) {
		size_t cap = b->len + need;
		uint8_t *p = realloc(b->raw, cap);
		if (!p) {
			rc = ENOMEM;
			goto out;
		}
		b->raw = p;
		b->cap = cap;
	}
	if (b->count == 0) {
		b->first_recno = j->next_recno;
		b->first_wall = b->last_wall = b->max_wall = r->wall_ns;
		b->first_mono = b->last_mono = r->mono_ns;
		b->opened_mono = journal_now_mono();
		pthread_cond_signal(&j->cv_writer); /* it arms the flush timer */
	}
	b->len += rec_encode(b->raw + b->len, r, b->last_wall, b->last_mono);
	b->last_wall = r->wall_ns;
	b->last_mono = r->mono_ns;
	if (r->wall_ns > b->max_wall)
		b->max_wall = r->wall_ns;
	b->payload_bytes += r->payload_len;
	b->count++;
	r->recno = j->next_recno++;
	if (r->conn >= j->next_conn)
		j->next_conn = r->conn + 1;
	if (r->conn > b->max_conn)
		b->max_conn = r->conn;
	if (b->len >= j->opt.block_bytes)
		seal_locked(j);
out:
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
journal_flush(struct journal *j)
{
	int rc;
	if (j->flags & JOURNAL_RDONLY)
		return 0;
	pthread_mutex_lock(&j->mu);
	seal_locked(j);
	uint64_t target = j->sealed_seq;
	while (j->written_seq < target)
		pthread_cond_wait(&j->cv_done, &j->mu);
	rc = j->err;
	pthread_mutex_unlock(&j->mu);
	return rc;
}

int
journal_sync(struct journal *j)
{
	int rc = journal_flush(j);
	if (rc || (j->flags & JOURNAL_RDONLY))
		return rc;
	pthread_mutex_lock(&j->mu);
	while (j->storing)
		pthread_cond_wait(&j->cv_done, &j->mu);
	rc = do_fsync(j);
	if (!rc) {
		j->dirty = 0;
		j->last_fsync_mono = journal_now_mono();
	}
	pthread_mutex_unlock(&j->mu);
	if (!rc)
		rc = fsync_dir(j->dir);
	return rc;
}

uint32_t
journal_next_conn(struct journal *j)
{
	pthread_mutex_lock(&j->mu);
	uint32_t c = j->next_conn++;
	pthread_mutex_unlock(&j->mu);
	return c;
}

/* ---- opening and recovery ---- */

/* Empty, or holding only what a creation that was interrupted leaves behind (no META
 * yet, so no segment either). */
static int
is_empty_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int empty = 1;
	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, META_FILE ".tmp")) {
			empty = 0;
			break;
		}
	closedir(d);
	return empty;
}

static int
take_lock(struct journal *j)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" LOCK_FILE, j->dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		int rc = errno;
		journal_set_detail(j, "cannot open lock file '%s': %s", path, strerror(rc));
		return rc;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int rc = errno;
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = 0;
		pid[strcspn(pid, "\n")] = 0;
		close(fd);
		if (rc == EWOULDBLOCK) {
			journal_set_detail(j, "journal '%s' is being written by another process%s%s", j->dir,
					   pid[0] ? " (pid " : "", pid[0] ? pid : "");
			if (pid[0])
				strncat(j->detail, ")", sizeof(j->detail) - strlen(j->detail) - 1);
			return JOURNAL_ELOCKED;
		}
		return rc;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* the pid is informational only */
	}
	j->lock_fd = fd;
	return 0;
}

/* The record number after the last whole block of segment n (from its block headers), or
 * first when none can be read. */
static uint64_t
segment_end_recno(const char *dir, uint32_t n, uint64_t first)
{
	struct blk_reader br;
	struct stat sb;
	char path[4200];
	uint64_t off = SEG_HEADER_SIZE, end = first;
	int fd;

	seg_path(path, sizeof(path), dir, n);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return first;
	blk_reader_init(&br);
	if (fstat(fd, &sb) == 0)
		while (blk_read(&br, fd, off, (uint64_t)sb.st_size, 0) == BLK_OK) {
			end = br.h.first_recno + br.h.count;
			off += BLK_HEADER_SIZE + br.h.comp_len;
		}
	blk_reader_free(&br);
	close(fd);
	return end;
}

/* Every reader and writer first checks that the segments are all there: numbered from 1
 * without a hole, regular files whose headers can be read, each starting at a record
 * number above the one before. A missing segment is records missing (JOURNAL_EGAP, the
 * range named); a segment that cannot be read is its errno, with its path. A header that
 * does not check is left to the readers, which name it with its offset; so is the
 * continuity of record numbers from one segment to the next, which the readers check
 * where they cross (and idx_check for the indexed segments). */
static int
segments_check(struct journal *j)
{
	uint32_t *segs = NULL, prev = 0;
	uint64_t prev_first = 0;
	size_t nseg = 0;
	char path[4200], ppath[4200];
	int rc;

	if ((rc = seg_list(j->dir, &segs, &nseg)) != 0) {
		journal_set_detail(j, "cannot list '%s': %s", j->dir, strerror(rc));
		return rc;
	}
	for (size_t i = 0; i < nseg; i++) {
		uint32_t n = segs[i];
		uint8_t h[SEG_HEADER_SIZE];
		uint64_t first = 0;
		struct stat sb;
		int fd;

		seg_path(path, sizeof(path), j->dir, n);
		if (n != prev + 1) {
			char from[4200];
			uint64_t start = prev ? segment_end_recno(j->dir, prev, prev_first) : 1;
			seg_path(from, sizeof(from), j->dir, prev + 1);
			uint64_t next_first = 0;
			if ((fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
				if (pread(fd, h, sizeof(h), 0) == (ssize_t)sizeof(h) && seg_header_check(h, n) == 0)
					next_first = get_u64(h + 16) ? get_u64(h + 16) : 1;
				close(fd);
			}
			if (next_first > start)
				journal_set_detail(j, "records are missing from the journal: %llu..%llu (segment '%s'%s; the next is '%s')",
						   (unsigned long long)start, (unsigned long long)(next_first - 1), from,
						   n - prev > 2 ? " and those after it do not exist" : " does not exist", path);
			else
				journal_set_detail(j, "records are missing from the journal, or '%s' is out of sequence: segment '%s'%s",
						   path, from, n - prev > 2 ? " and those after it do not exist" : " does not exist");
			rc = JOURNAL_EGAP;
			break;
		}
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &sb) != 0) {
			rc = errno;
			if (fd >= 0)
				close(fd);
			journal_set_detail(j, "cannot open segment '%s': %s", path, strerror(rc));
			break;
		}
		if (!S_ISREG(sb.st_mode)) {
			close(fd);
			rc = S_ISDIR(sb.st_mode) ? EISDIR : EINVAL;
			journal_set_detail(j, "cannot read segment '%s': %s", path, strerror(rc));
			break;
		}
		if (sb.st_size >= SEG_HEADER_SIZE) {
			ssize_t got = pread(fd, h, sizeof(h), 0);
			if (got < 0) {
				rc = errno;
				close(fd);
				journal_set_detail(j, "cannot read segment '%s': %s", path, strerror(rc));
				break;
			}
			if (got == (ssize_t)sizeof(h) && seg_header_check(h, n) == 0)
				first = get_u64(h + 16) ? get_u64(h + 16) : 1;
		}
		close(fd);
		if (first && prev_first && first <= prev_first) {
			seg_path(ppath, sizeof(ppath), j->dir, prev);
			journal_set_detail(j, "segment '%s' starts at record %llu, which segment '%s' already holds (out of sequence)",
					   path, (unsigned long long)first, ppath);
			rc = JOURNAL_ECORRUPT;
			break;
		}
		prev = n;
		if (first)
			prev_first = first;
	}
	free(segs);
	return rc;
}

/* The index is derived from the segments: when LMDB cannot use it, remove its files and
 * start an empty one, which recovery then fills from the segments. */
static int
index_replace(struct journal *j, struct journal_recovery *rec, const char *why)
{
	int rc, damaged;

	rec->index_damaged = 1;
	snprintf(rec->index_detail, sizeof(rec->index_detail), "%s", why);
	idx_close(j->idx);
	j->idx = NULL;
	if ((rc = idx_remove(j->dir)) != 0) {
		journal_set_detail(j, "cannot remove the damaged index of '%s' (%s): %s", j->dir, why, strerror(rc));
		return rc;
	}
	return idx_open(j->dir, 1, &j->idx, j->detail, sizeof(j->detail), &damaged);
}

int
index_end_check(const char *dir, const struct idx_state *st, const struct idx_block *b, char *why, size_t n)
{
	struct blk_reader br;
	char path[4200];
	struct stat sb;
	int fd, rc, res;

	why[0] = 0;
	if (st->blocks == 0)
		return INDEX_END_OK;
	seg_path(path, sizeof(path), dir, b->segment);
	if (st->segment != b->segment || st->offset != b->offset + BLK_HEADER_SIZE + b->comp_len ||
	    st->next_recno != b->first_recno + b->count) {
		snprintf(why, n, "the index's state does not end at its last block (offset %llu of '%s')",
			 (unsigned long long)b->offset, path);
		return INDEX_END_MISMATCH;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		rc = errno;
		snprintf(why, n, "the index lists blocks in segment '%s': %s", path, strerror(rc));
		return rc == ENOENT ? INDEX_END_MISMATCH : INDEX_END_UNSURE;
	}
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return INDEX_END_UNSURE;
	}
	if ((uint64_t)sb.st_size < st->offset) {
		close(fd);
		snprintf(why, n, "the index lists records up to %llu, in a block at offset %llu of segment '%s' that ends at offset %llu, past the end of the file (%llu bytes)",
			 (unsigned long long)(st->next_recno - 1), (unsigned long long)b->offset, path,
			 (unsigned long long)st->offset, (unsigned long long)sb.st_size);
		return INDEX_END_MISMATCH;
	}
	blk_reader_init(&br);
	rc = blk_read(&br, fd, b->offset, (uint64_t)sb.st_size, 1);
	if (rc == BLK_OK && (br.h.first_recno != b->first_recno || br.h.count != b->count || br.h.comp_len != b->comp_len)) {
		snprintf(why, n, "the block at offset %llu of segment '%s' is not the one the index lists", (unsigned long long)b->offset,
			 path);
		res = INDEX_END_MISMATCH;
	} else if (rc == BLK_TORN) {
		snprintf(why, n, "the block the index lists at offset %llu of segment '%s' is a torn tail (%s)",
			 (unsigned long long)b->offset, path, br.why ? br.why : "incomplete");
		res = INDEX_END_MISMATCH;
	} else {
		res = rc == BLK_OK ? INDEX_END_OK : INDEX_END_UNSURE;
	}
	blk_reader_free(&br);
	close(fd);
	return res;
}

/* Is the last indexed block where the index says, with the same header, and whole? Its
 * data is checked too: after a power loss the index (written without fsync) can list a
 * block whose data never reached the disk. */
static int
index_consistent(struct journal *j, const uint32_t *segs, size_t nseg)
{
	struct idx_block b;
	char why[512];

	if (idx_state_get(j->idx, &j->st) != 0)
		return 0;
	if (j->st.blocks == 0)
		return 1;
	if (idx_last_block(j->idx, &b) != 0 || nseg == 0 || b.segment < segs[0] || b.segment > segs[nseg - 1])
		return 0;
	return index_end_check(j->dir, &j->st, &b, why, sizeof(why)) == INDEX_END_OK;
}

/* Verify and index every block from (seg, off) on; cut a torn tail of the last segment. */
static int
recover(struct journal *j, struct journal_recovery *rec)
{
	uint32_t *segs = NULL;
	size_t nseg = 0;
	struct blk_reader br;
	int rc;

	if ((rc = seg_list(j->dir, &segs, &nseg)) != 0) {
		journal_set_detail(j, "cannot list '%s': %s", j->dir, strerror(rc));
		return rc;
	}
	blk_reader_init(&br);
	if (j->idx_stale || !index_consistent(j, segs, nseg)) {
		j->idx_stale = 0;
		if ((rc = idx_clear(j->idx)) == JOURNAL_EINDEX)
			rc = index_replace(j, rec, "LMDB failed to clear it");
		if (rc != 0) {
			if (!j->detail[0])
				journal_set_detail(j, "cannot clear the index of '%s': %s", j->dir, journal_strerror(rc));
			goto out;
		}
		memset(&j->st, 0, sizeof(j->st));
		rec->reindexed = 1;
	}
	if (j->st.next_recno == 0)
		j->st.next_recno = nseg ? 0 : 1;
	for (size_t i = 0; i < nseg; i++) {
		uint32_t n = segs[i];
		int last = i + 1 == nseg;
		char path[4200];
		uint8_t sh[SEG_HEADER_SIZE];
		struct stat sb;
		uint64_t off;

		if (j->st.blocks && n < j->st.segment)
			continue;
		seg_path(path, sizeof(path), j->dir, n);
		int fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0) {
			rc = errno;
			journal_set_detail(j, "cannot open segment '%s': %s", path, strerror(rc));
			goto out;
		}
		if (fstat(fd, &sb) != 0) {
			rc = errno;
			close(fd);
			goto out;
		}
		if (sb.st_size < SEG_HEADER_SIZE || pread(fd, sh, sizeof(sh), 0) != (ssize_t)sizeof(sh) ||
		    seg_header_check(sh, n) != 0) {
			int vrc = sb.st_size >= SEG_HEADER_SIZE ? seg_header_check(sh, n) : JOURNAL_ECORRUPT;
			if (vrc == JOURNAL_EVERSION) {
				close(fd);
				journal_set_detail(j, "segment '%s' has format version %u; this wstape reads up to %d",
						   path, get_u32(sh + 8), JOURNAL_FORMAT_VERSION);
				rc = JOURNAL_EVERSION;
				goto out;
			}
			if (last && sb.st_size <= SEG_HEADER_SIZE) {
				/* a crash while the segment was being started: it holds no block */
				close(fd);
				unlink(path);
				fsync_dir(j->dir);
				rec->torn_bytes = (uint64_t)sb.st_size;
				rec->torn_offset = 0;
				rec->torn_segment = n;
				nseg--;
				break;
			}
			close(fd);
			journal_set_detail(j, "segment '%s' has a bad header at offset 0", path);
			rc = JOURNAL_ECORRUPT;
			goto out;
		}
		if (j->st.next_recno == 0)
			j->st.next_recno = get_u64(sh + 16) ? get_u64(sh + 16) : 1;
		off = (j->st.blocks && n == j->st.segment) ? j->st.offset : SEG_HEADER_SIZE;
		for (;;) {
			int br_rc = blk_read(&br, fd, off, (uint64_t)sb.st_size, 1);
			if (br_rc == BLK_END)
				break;
			if (br_rc == BLK_TORN && last) {
				if (ftruncate(fd, (off_t)off) != 0 || fsync(fd) != 0) {
					rc = errno;
					close(fd);
					journal_set_detail(j, "cannot cut the torn tail of '%s' at offset %llu: %s",
							   path, (unsigned long long)off, strerror(rc));
					goto out;
				}
				rec->torn_bytes = (uint64_t)sb.st_size - off;
				rec->torn_offset = off;
				rec->torn_segment = n;
				break;
			}
			if (br_rc != BLK_OK) {
				close(fd);
				if (br_rc > BLK_BAD) {
					rc = br_rc;
					journal_set_detail(j, "cannot read '%s' at offset %llu: %s", path,
							   (unsigned long long)off, strerror(rc));
				} else {
					rc = JOURNAL_ECORRUPT;
					journal_set_detail(j, "segment '%s' offset %llu: %s; run 'wstape verify --repair' to cut the journal there",
							   path, (unsigned long long)off, br.why ? br.why : "bad block");
				}
				goto out;
			}
			if (br.h.first_recno != j->st.next_recno) {
				close(fd);
				rc = JOURNAL_ECORRUPT;
				journal_set_detail(j, "segment '%s' offset %llu: block starts at record %llu, expected %llu",
						   path, (unsigned long long)off, (unsigned long long)br.h.first_recno,
						   (unsigned long long)j->st.next_recno);
				goto out;
			}
			/* check the record framing and sum the payload bytes */
			struct blk_iter it;
			struct journal_record r;
			uint64_t payload = 0;
			uint32_t max_conn = 0;
			blk_iter_init(&it, &br.h, br.raw);
			while ((rc = blk_iter_next(&it, &r)) == 0) {
				payload += r.payload_len;
				if (r.conn > max_conn)
					max_conn = r.conn;
			}
			if (rc != JOURNAL_EOF) {
				close(fd);
				rc = JOURNAL_ECORRUPT;
				journal_set_detail(j, "segment '%s' offset %llu: bad record framing in block", path,
						   (unsigned long long)off);
				goto out;
			}
			if (j->st.blocks == 0 && nseg)
				rec->reindexed = 1; /* the index lacked blocks that the segments hold */
			index_block(j, &br.h, br.raw, n, off, payload, max_conn);
			rec->blocks_indexed++;
			off += BLK_HEADER_SIZE + br.h.comp_len;
		}
		if (last) {
			j->seg_fd = fd;
			j->seg_no = n;
			j->seg_size = off;
		} else {
			close(fd);
		}
	}
	if (j->seg_fd < 0 && nseg > 0)
		j->seg_no = segs[nseg - 1];
	rc = 0;
out:
	blk_reader_free(&br);
	free(segs);
	return rc;
}

int
journal_reindex(struct journal *j)
{
	struct journal_recovery rec;
	int rc;

	if (j->flags & JOURNAL_RDONLY)
		return JOURNAL_ERDONLY;
	if ((rc = journal_flush(j)) != 0)
		return rc;
	/* the writer thread is idle after a flush; recovery re-reads every segment */
	pthread_mutex_lock(&j->mu);
	while (j->storing)
		pthread_cond_wait(&j->cv_done, &j->mu);
	memset(&rec, 0, sizeof(rec));
	j->detail[0] = 0;
	if ((rc = idx_clear(j->idx)) == JOURNAL_EINDEX)
		rc = index_replace(j, &rec, "LMDB failed to clear it");
	if (rc == 0) {
		memset(&j->st, 0, sizeof(j->st));
		if (j->seg_fd >= 0)
			close(j->seg_fd);
		j->seg_fd = -1;
		j->idx_failed = 0;
		rc = recover(j, &rec);
	}
	pthread_mutex_unlock(&j->mu);
	return rc;
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
journal_open(const char *path, int flags, const struct journal_options *opt, struct journal **out,
	     struct journal_recovery *recp)
{
	struct journal *j;
	struct journal_recovery rec_local;
	struct journal_recovery *rec = recp ? recp : &rec_local;
	struct stat sb;
	int rc, writer = !(flags & JOURNAL_RDONLY);

	*out = NULL;
	open_detail[0] = 0;
	memset(rec, 0, sizeof(*rec));
	if (!path || !*path || ((flags & JOURNAL_RDONLY) && (flags & (JOURNAL_APPEND | JOURNAL_CREATE))) ||
	    !(flags & (JOURNAL_RDONLY | JOURNAL_APPEND | JOURNAL_CREATE)))
		return JOURNAL_EINVAL;
	if (!(j = calloc(1, sizeof(*j))))
		return ENOMEM;
	j->flags = flags;
	j->lock_fd = -1;
	j->seg_fd = -1;
	if (opt)
		j->opt = *opt;
	apply_defaults(&j->opt);
	if (!(j->dir = strdup(path))) {
		free(j);
		return ENOMEM;
	}
	pthread_mutex_init(&j->mu, NULL);
	{
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&j->cv_writer, &ca);
		pthread_condattr_destroy(&ca);
		pthread_cond_init(&j->cv_done, NULL);
	}

	if (stat(path, &sb) != 0) {
		rc = errno;
		if (rc != ENOENT || !(flags & JOURNAL_CREATE)) {
			journal_set_detail(j, "cannot open journal '%s': %s", path, strerror(rc));
			goto fail;
		}
		if (mkdir(path, 0755) != 0) {
			rc = errno;
			journal_set_detail(j, "cannot create journal directory '%s': %s", path, strerror(rc));
			goto fail;
		}
		j->created_dir = 1;
	} else if (!S_ISDIR(sb.st_mode)) {
		rc = JOURNAL_ENOTJOURNAL;
		journal_set_detail(j, "'%s' is not a journal (a journal is a directory)", path);
		goto fail;
	}
	rc = meta_load(j);
	if (rc == ENOENT) {
		if (!(flags & JOURNAL_CREATE) || !is_empty_dir(path)) {
			rc = JOURNAL_ENOTJOURNAL;
			journal_set_detail(j, "'%s' is not a wstape journal (no %s file)%s", path, META_FILE,
					   (flags & JOURNAL_CREATE) ? "; choose a new or empty directory" : "");
			goto fail;
		}
		char when[40], ver[16];
		snprintf(ver, sizeof(ver), "%d", JOURNAL_FORMAT_VERSION);
		if ((rc = meta_put(j, "format", ver)) || (rc = meta_put(j, "created", text_format_time(now_wall(), when, sizeof(when)))) ||
		    (rc = meta_store(j))) {
			journal_set_detail(j, "cannot write '%s/%s': %s", path, META_FILE, journal_strerror(rc));
			goto fail;
		}
		j->created_meta = 1;
	} else if (rc != 0) {
		journal_set_detail(j, "cannot read '%s/%s': %s", path, META_FILE, strerror(rc));
		goto fail;
	} else if ((flags & JOURNAL_CREATE) && !(flags & JOURNAL_APPEND)) {
		rc = JOURNAL_EEXIST;
		journal_set_detail(j, "'%s' already holds a journal; append to it or choose another path", path);
		goto fail;
	}
	{
		const char *fv = journal_meta_get(j, "format");
		if (!fv) {
			rc = JOURNAL_ENOTJOURNAL;
			journal_set_detail(j, "'%s/%s' has no format version", path, META_FILE);
			goto fail;
		}
		char *end;
		unsigned long long fmt;
		errno = 0;
		fmt = strtoull(fv, &end, 10);
		if (fv[0] < '0' || fv[0] > '9' || *end) {
			rc = JOURNAL_ENOTJOURNAL;
			journal_set_detail(j, "'%s/%s' says format '%s', which is not a format version (a whole number)", path,
					   META_FILE, fv);
			goto fail;
		}
		if (errno == ERANGE || fmt > JOURNAL_FORMAT_VERSION) {
			rc = JOURNAL_EVERSION;
			journal_set_detail(j, "journal '%s' has format version %s; this wstape reads up to %d: upgrade wstape",
					   path, fv, JOURNAL_FORMAT_VERSION);
			goto fail;
		}
	}
	if ((rc = segments_check(j)) != 0)
		goto fail;
	if (!writer) {
		int damaged;
		/* A reader works without an index (it scans); a missing or broken one is not
		 * fatal, but journal_verify reports one that exists and cannot be used. The
		 * index is checked first (idx_check): one that fails is never opened here. */
		switch (idx_check(path, j->idx_detail, sizeof(j->idx_detail))) {
		case IDX_CHECK_OK:
			break;
		case IDX_CHECK_DAMAGED:
			j->idx_open_err = JOURNAL_EINDEX;
			break;
		case IDX_CHECK_STALE:
			j->idx_stale = 1;
			break;
		case IDX_CHECK_UNREADABLE:
			j->idx_unreadable = errno ? errno : EACCES;
			break;
		default: /* none */
			*out = j;
			return 0;
		}
		if (j->idx_open_err || j->idx_stale || j->idx_unreadable) {
			*out = j;
			return 0;
		}
		if ((rc = idx_open(path, 0, &j->idx, j->idx_detail, sizeof(j->idx_detail), &damaged)) != 0) {
			j->idx = NULL;
			if (damaged)
				j->idx_open_err = rc;
			else if (rc != JOURNAL_ENOTFOUND)
				j->idx_unreadable = rc > 0 ? rc : EIO; /* EACCES, EROFS, ... */
		} else if (idx_state_get(j->idx, &j->st) != 0) {
			memset(&j->st, 0, sizeof(j->st));
		}
		*out = j;
		return 0;
	}
	if ((rc = take_lock(j)) != 0)
		goto fail;
	{
		int damaged;
		char why[512];
		switch (idx_check(path, why, sizeof(why))) {
		case IDX_CHECK_DAMAGED:
			/* never opened: removed and rebuilt from the segments */
			if ((rc = index_replace(j, rec, why)) != 0)
				goto fail;
			break;
		case IDX_CHECK_UNREADABLE:
			rc = errno ? errno : EACCES;
			journal_set_detail(j, "%s", why);
			goto fail;
		case IDX_CHECK_STALE:
			j->idx_stale = 1; /* recovery rebuilds it */
			/* fall through */
		default:
			if ((rc = idx_open(path, 1, &j->idx, why, sizeof(why), &damaged)) != 0) {
				if (!damaged) {
					journal_set_detail(j, "%s", why);
					goto fail;
				}
				if ((rc = index_replace(j, rec, why)) != 0)
					goto fail;
			}
		}
	}
	if ((rc = recover(j, rec)) != 0)
		goto fail;
	j->next_recno = j->st.next_recno ? j->st.next_recno : 1;
	j->next_conn = j->st.max_conn + 1;
	j->last_fsync_mono = journal_now_mono();
	for (uint32_t t = 0; t < j->opt.threads; t++) {
		struct worker_arg *wa = malloc(sizeof(*wa));
		if (!wa || !(j->cctx[t] = ZSTD_createCCtx())) {
			free(wa);
			rc = ENOMEM;
			goto fail;
		}
		wa->j = j;
		wa->id = (int)t;
		if ((rc = pthread_create(&j->threads[t], NULL, worker_main, wa)) != 0) {
			free(wa);
			goto fail;
		}
		j->nthreads++;
	}
	*out = j;
	return 0;
fail:
	snprintf(open_detail, sizeof(open_detail), "%s", j->detail);
	/* Undo a creation that cannot be finished, so that a second try finds the path as the
	 * first did; but not under another writer, who may have opened it meanwhile. */
	if (j->created_meta && j->lock_fd >= 0) {
		j->discard = 1;
	} else if (j->created_dir && !j->created_meta) {
		char tmp[4200];
		snprintf(tmp, sizeof(tmp), "%s/" META_FILE ".tmp", path);
		unlink(tmp);
		rmdir(path);
	}
	journal_close(j);
	return rc;
}

int
journal_created(const struct journal *j)
{
	return j->created_meta ? 1 + j->created_dir : 0;
}

/* Remove what journal_open created; the caller holds the lock and has closed the segment
 * and the index. */
static int
remove_created(struct journal *j)
{
	static const char *const files[] = { META_FILE ".tmp", META_FILE, LOCK_FILE };
	uint32_t *segs = NULL;
	size_t n = 0;
	char p[4200];
	int rc;

	if ((rc = seg_list(j->dir, &segs, &n)) != 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		seg_path(p, sizeof(p), j->dir, segs[i]);
		if (unlink(p) != 0 && errno != ENOENT && !rc)
			rc = errno;
	}
	free(segs);
	if (rc)
		return rc;
	if ((rc = idx_remove(j->dir)) != 0)
		return rc;
	snprintf(p, sizeof(p), "%s/" INDEX_DIR, j->dir);
	if (rmdir(p) != 0 && errno != ENOENT)
		return errno;
	for (size_t i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(p, sizeof(p), "%s/%s", j->dir, files[i]);
		if (unlink(p) != 0 && errno != ENOENT)
			return errno;
	}
	if (j->created_dir && rmdir(j->dir) != 0)
		return errno;
	return 0;
}

int
journal_discard(struct journal *j)
{
	if (!j->created_meta || (j->flags & JOURNAL_RDONLY))
		return JOURNAL_EINVAL;
	pthread_mutex_lock(&j->mu);
	if (!j->err)
		j->err = ECANCELED; /* the writer threads drop what is queued */
	pthread_mutex_unlock(&j->mu);
	j->discard = 1;
	return journal_close(j);
}

int
journal_close(struct journal *j)
{
	int rc = 0;

	if (!j)
		return 0;
	if (j->nthreads) {
		pthread_mutex_lock(&j->mu);
		seal_locked(j);
		j->stopping = 1;
		pthread_cond_broadcast(&j->cv_writer);
		pthread_mutex_unlock(&j->mu);
		for (int t = 0; t < j->nthreads; t++)
			pthread_join(j->threads[t], NULL);
		rc = j->err;
		if (j->opt.fsync != JOURNAL_FSYNC_NEVER && !rc && !j->discard) {
			rc = do_fsync(j);
			if (!rc)
				rc = fsync_dir(j->dir);
		}
	}
	if (j->idx_failed && !rc)
		rc = 0; /* the segments are whole; the next open indexes the rest */
	while (j->free_list) {
		struct blockbuf *b = j->free_list;
		j->free_list = b->next;
		free(b->raw);
		free(b->comp);
		free(b);
	}
	if (j->cur) {
		free(j->cur->raw);
		free(j->cur->comp);
		free(j->cur);
	}
	if (j->seg_fd >= 0)
		close(j->seg_fd);
	tail_free(j->tail);
	idx_close(j->idx);
	if (j->discard)
		rc = remove_created(j);
	if (j->lock_fd >= 0)
		close(j->lock_fd); /* releases the flock */
	for (int t = 0; t < JOURNAL_MAX_THREADS; t++)
		if (j->cctx[t])
			ZSTD_freeCCtx(j->cctx[t]);
	meta_free(j);
	pthread_mutex_destroy(&j->mu);
	pthread_cond_destroy(&j->cv_writer);
	pthread_cond_destroy(&j->cv_done);
	free(j->dir);
	free(j);
	return rc;
}
