/* handle.h - the journal handle that every file of journal/ shares: its directory, its
 * mode, its index, its metadata and the detail of its last error. What only a writer
 * holds lives in struct journal_writer (writer.h), what only a reader holds in struct
 * journal_view (view.h); a handle has one or the other. */
#ifndef WSTAPE_JOURNAL_HANDLE_H
#define WSTAPE_JOURNAL_HANDLE_H

#include <stdint.h>
#include <stdio.h>

#include "journal.h"
#include "meta.h"

struct idx;
struct journal_writer;
struct journal_view;

struct journal {
	char *dir;
	int flags; /* JOURNAL_RDONLY, JOURNAL_APPEND, JOURNAL_CREATE */
	struct idx *idx; /* NULL when there is none (readers: none usable) */
	struct journal_meta meta;
	char detail[512]; /* journal_last_detail() */
	struct journal_writer *w; /* writers only; NULL for JOURNAL_RDONLY */
	struct journal_view *view; /* readers (JOURNAL_RDONLY) only; NULL for writers */
};

/* Set j's detail (journal_last_detail). */
void journal_set_detail(struct journal *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The calling thread's detail of the last journal_open() that failed: cleared when an
 * open starts, set from j's detail when it fails. */
void journal_open_detail_clear(void);
void journal_open_detail_keep(const struct journal *j);
/* Set it (journal_prune, which works on a path). */
void journal_open_detail_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CLOCK_MONOTONIC and CLOCK_REALTIME, ns. */
int64_t journal_now_mono(void);
int64_t journal_now_wall(void);
/* fsync a directory (after a file in it was created, renamed or removed): 0 or an errno. */
int journal_fsync_dir(const char *dir);
/* Make the file f, written at tmp, durable and put it in place of path atomically: fflush,
 * fsync, fclose, rename, fsync the directory dir. f is closed; tmp is removed on failure.
 * 0 or an errno. */
int journal_file_commit(FILE *f, const char *tmp, const char *path, const char *dir);

#endif
