/* writer.h - a writer's state: the open block, the queue of sealed blocks, the threads
 * that compress and store them (writer.c), appending (append.c), and what the storing
 * thread owns: the segment being written and the indexed state, which recovery
 * (recover.c) fills before the threads start */
#ifndef WSTAPE_JOURNAL_WRITER_H
#define WSTAPE_JOURNAL_WRITER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "block.h"
#include "health.h"
#include "handle.h"
#include "index.h"

/* One block: filled by journal_append, then sealed, compressed and stored. */
struct blockbuf {
	uint8_t *raw;
	size_t len, cap;
	uint64_t first_recno;
	uint32_t count;
	int64_t first_wall, max_wall, first_mono, last_wall, last_mono;
	int64_t opened_mono; /* CLOCK_MONOTONIC when the first record went in */
	uint64_t payload_bytes;
	uint32_t max_conn;
	/* filled by the compressing thread */
	int state; /* BB_QUEUED, BB_COMPRESSING, BB_COMPRESSED */
	int cerr; /* compression error */
	uint8_t *comp;
	size_t comp_cap, comp_len;
	struct blockbuf *next;
};
enum { BB_QUEUED = 0, BB_COMPRESSING, BB_COMPRESSED };
#define JOURNAL_MAX_THREADS 8

/* What the storing thread owns (one thread at a time, see 'storing'); recovery and
 * journal_reindex use it while no thread stores. */
struct writer_store {
	int seg_fd; /* the segment being written; -1 before the first block */
	uint32_t seg_no;
	uint64_t seg_size;
	int64_t seg_created; /* its header's creation time (wall, ns): its age */
	struct idx_state st; /* what is written, as the index sums it */
	int idx_failed; /* the index failed: stop indexing, keep writing */
};

struct journal_writer {
	struct journal_options opt; /* with the defaults applied */
	int lock_fd;
	int created_dir, created_meta; /* this open made the directory / wrote META */
	int discard; /* journal_close removes what this open created */
	int index_stale; /* idx_check found the index stale: recovery rebuilds it */

	/* protected by mu */
	pthread_mutex_t mu;
	pthread_cond_t cv_writer, cv_done;
	pthread_t threads[JOURNAL_MAX_THREADS];
	void *cctx[JOURNAL_MAX_THREADS]; /* ZSTD_CCtx, one per thread */
	int nthreads, stopping;
	int storing; /* a thread is writing the head block */
	int err; /* sticky write error */
	struct blockbuf *cur; /* open block */
	struct blockbuf *pending_head, *pending_tail;
	uint32_t npending;
	struct blockbuf *free_list;
	uint64_t sealed_seq, written_seq; /* blocks handed to the writer / written by it */
	uint64_t next_recno;
	uint32_t next_conn;
	uint64_t append_waits, append_wait_ns;
	int64_t last_fsync_mono;
	int dirty; /* written since the last fsync */
	/* journal/health.h: fsync durations, counted by the thread that syncs (atomics) */
	uint64_t fsync_counts[JOURNAL_FSYNC_BOUNDS + 1];
	uint64_t fsync_sum_ns;

	struct writer_store store;
};

/* writer.c */
/* A writer's state for j, opt (NULL: defaults) with the defaults applied; no thread yet.
 * 0 or ENOMEM. */
int writer_new(struct journal *j, const struct journal_options *opt);
/* Start the threads, once recovery has filled the store. 0 or an errno. */
int writer_start(struct journal *j);
/* Seal the open block, let the threads store what is queued and stop them, then fsync
 * unless the policy is NEVER or the journal is discarded. Returns the sticky error or the
 * fsync's. */
int writer_stop(struct journal *j);
/* Free the buffers and close the segment (after writer_stop). */
void writer_free(struct journal_writer *w);
/* Move the open block to the queue. Called with mu held. */
void writer_seal_locked(struct journal_writer *w);
/* Wait until no thread is storing. Called with mu held. */
void writer_wait_idle_locked(struct journal_writer *w);
/* fdatasync the segment, sync the index: 0 or an errno. */
int writer_fsync(struct journal *j);
/* Count one stored block into the store's state and index it (an index failure is noted
 * in idx_failed, not returned: the segments stay the truth). Returns 0. */
int writer_index_block(struct journal *j, const struct blk_header *h, const uint8_t *raw, uint32_t seg,
		       uint64_t off, uint64_t payload_bytes, uint32_t max_conn);

#endif
