/* journal.h - the on-disk journal: segments of zstd-compressed blocks, indexed in LMDB
 *
 * A journal is a directory:
 *
 *     J/LOCK                      held (flock) by the one writer
 *     J/META                      journal metadata, key=value lines, replaced atomically
 *     J/seg-0000000001.wst ...    segment files: a header, then blocks; the truth
 *     J/index/                    LMDB environment, derived from the segments
 *     J/PRUNED, J/PRUNE.LOCK      where a pruned journal starts; the pruners' lock
 *
 * Records are appended to an open block in memory. A block is sealed (compressed,
 * checksummed and written to the current segment with one write) when it reaches
 * opt.block_bytes of raw data, or when its oldest record is opt.flush_ms old, or on
 * journal_flush(). Compression runs on opt.threads threads owned by the journal, which
 * also write the compressed blocks in order, index them and fsync; journal_append() never
 * waits for the disk unless opt.max_pending blocks are already waiting to be written
 * (then it waits, and the wait is counted in the stats: nothing is ever dropped).
 *
 * The byte layout is in docs/FORMAT.md.
 *
 * Return values: every function that can fail returns an int, the error as a value:
 *     0                success
 *     > 0              an errno value (a system call failed: ENOENT, EACCES, ENOSPC, ...)
 *     < 0              a JOURNAL_E* code below (the journal's own errors), or JOURNAL_EOF,
 *                      the one negative value that is no error: journal_reader_next()
 *                      reached the end
 * journal_strerror() names any of them; journal_last_detail() says more about the last
 * one (path, offset, foreign error text). Foreign codes (LMDB's MDB_*, zstd's) never
 * leave the library: they become JOURNAL_EINDEX and JOURNAL_EZSTD. Each function below
 * says which values it returns. The library never prints and never exits.
 *
 * This header is the public API of libwstape, installed as <wstape/journal.h> (with
 * <wstape/version.h>; `pkg-config --cflags --libs wstape`): C99 or later, or C++. Only
 * the functions declared here and wstape_version() are exported, under the soname
 * libwstape.so.1 (README, "Install, and wstape as a library"). Recording, replaying and
 * inspecting are not part of the library: they are reached through the `wstape` command.
 * journal_open() of a journal that has an index checks the index in a forked child
 * process first and waits for that child by its pid; its verdict comes through a pipe, so
 * a program that ignores SIGCHLD or reaps its children in a handler does no harm.
 */
#ifndef WSTAPE_JOURNAL_H
#define WSTAPE_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JOURNAL_FORMAT_VERSION 1

/* The journal's own codes, all negative (positive values are errno values). */
enum {
	JOURNAL_EOF = -100, /* not an error: a reader reached the end (kept apart from
					  the error codes, which count down from -1) */
	JOURNAL_ENOTJOURNAL = -1, /* the directory holds no journal */
	JOURNAL_EVERSION = -2, /* written by a newer format version than this reader knows */
	JOURNAL_ECORRUPT = -3, /* a checksum, magic or length does not match */
	JOURNAL_ELOCKED = -4, /* another writer holds the journal */
	JOURNAL_EINDEX = -5, /* the LMDB index failed (see journal_last_detail) */
	JOURNAL_EZSTD = -6, /* compression or decompression failed */
	JOURNAL_EINVAL = -7, /* a bad argument (record too large, bad option, ...) */
	JOURNAL_ERDONLY = -8, /* a write on a journal opened read-only */
	JOURNAL_EEXIST = -9, /* JOURNAL_CREATE on a path that already holds a journal */
	JOURNAL_ENOTFOUND = -10, /* a seek target beyond the last record */
	JOURNAL_EGAP = -11, /* records are missing: a segment is gone, or the record
					  numbers jump from one segment to the next (journal_last_detail
					  names the range) */
};

/* Record direction, as seen from the recorder: in = server to client. */
enum journal_dir { JOURNAL_IN = 0, JOURNAL_OUT = 1 };

/* Record kinds: WebSocket frames, then connection events. */
enum journal_kind {
	JOURNAL_TEXT = 0,
	JOURNAL_BINARY = 1,
	JOURNAL_PING = 2,
	JOURNAL_PONG = 3,
	JOURNAL_OPEN = 4, /* payload: JSON {"url":...,"status":...} written by the recorder */
	JOURNAL_CLOSE = 5, /* payload: JSON {"code":...,"reason":...,"by":"server|client|network"} */
	JOURNAL_ERROR = 6, /* payload: JSON {"error":...,...}; reconnect attempts are errors too */
	JOURNAL_KIND_MAX = 6,
};

#define JOURNAL_MAX_PAYLOAD ((size_t)1 << 30) /* 1 GiB; frames up to 64 MiB are the goal */
#define JOURNAL_MAX_CHANNEL 255
#define JOURNAL_MAX_CURSOR 1024

/* One record. On append, the caller fills every field but recno (assigned) and the
 * pointers must stay valid for the duration of the call only (the journal copies).
 * On read, the pointers point into the reader's buffers and stay valid until the
 * next call on that reader. */
struct journal_record {
	uint64_t recno; /* journal-wide, from 1, strictly increasing, dense */
	int64_t wall_ns; /* receive time, CLOCK_REALTIME, ns since the epoch */
	int64_t mono_ns; /* CLOCK_MONOTONIC, ns (meaningful within one recording run) */
	uint32_t conn; /* connection id; 0 = none */
	uint8_t dir; /* enum journal_dir */
	uint8_t kind; /* enum journal_kind */
	uint16_t channel_len; /* <= JOURNAL_MAX_CHANNEL */
	uint16_t cursor_len; /* <= JOURNAL_MAX_CURSOR */
	const char *channel; /* not NUL-terminated; may be NULL when channel_len is 0 */
	const uint8_t *cursor; /* opaque bytes, as received */
	const uint8_t *payload; /* exactly as received */
	size_t payload_len;
};

enum journal_fsync { JOURNAL_FSYNC_INTERVAL = 0, JOURNAL_FSYNC_ALWAYS, JOURNAL_FSYNC_NEVER };

/* Open flags. Exactly one of CREATE, APPEND, RDONLY; CREATE|APPEND creates when missing. */
enum {
	JOURNAL_RDONLY = 1,
	JOURNAL_APPEND = 2,
	JOURNAL_CREATE = 4,
};

/* Writer options. Zero in a field means its default. */
struct journal_options {
	int fsync; /* enum journal_fsync; default INTERVAL */
	uint32_t fsync_interval_ms; /* default 1000 */
	uint32_t flush_ms; /* seal an open block whose oldest record is this old; default 100 */
	uint32_t block_bytes; /* seal at this many raw bytes; default 1 MiB */
	uint64_t segment_bytes; /* start a new segment past this size; default 256 MiB */
	int zstd_level; /* default 1 */
	uint32_t max_pending; /* sealed blocks waiting for the writer threads; default 8 */
	uint32_t threads; /* compressing threads; default 2 (blocks are compressed in
					  parallel and written in order) */
	uint64_t segment_age_ms; /* also start a new segment when the wall clock reaches the
					  next multiple of this since the Unix epoch (3600000: on the
					  hour); 0: by size only. An idle writer seals a due segment on
					  its own (it starts the next, empty one), so that a prune may
					  remove it */
};

struct journal;
struct journal_reader;

/* What journal_open() found and did when it recovered the tail. */
struct journal_recovery {
	uint64_t blocks_indexed; /* blocks found past the index and indexed */
	uint64_t torn_bytes; /* bytes cut off the end of the last segment (0 = none) */
	uint64_t torn_offset; /* where the cut was made */
	uint32_t torn_segment; /* in which segment */
	int reindexed; /* the index was missing or stale and was rebuilt */
	int index_damaged; /* LMDB could not use the index (not an LMDB file, corrupted
					  pages, ...): its files were removed and it was rebuilt from
					  the segments; index_detail says what LMDB found */
	char index_detail[256];
};

/* Open the journal at directory 'path'.
 * flags: JOURNAL_RDONLY, JOURNAL_APPEND, JOURNAL_CREATE (or CREATE|APPEND).
 * opt may be NULL (defaults); it is ignored for RDONLY.
 * rec may be NULL; when given, it is filled with what recovery did (writers only).
 * A writer takes the lock (JOURNAL_ELOCKED if another process holds it), verifies and
 * indexes the blocks past the index, cuts a torn tail, and starts the writer thread. An
 * index that LMDB reports damaged is removed and rebuilt from the segments (the index is
 * derived from them), and rec->index_damaged says so.
 * A reader takes no lock and may run while a writer appends; it works without an index
 * (it scans), so a missing or damaged one does not stop it (journal_verify reports it).
 * Returns 0 and *out, or an error, with journal_last_detail(NULL) saying more; on error
 * *out is NULL: JOURNAL_EINVAL (bad flags or path), JOURNAL_ENOTJOURNAL, JOURNAL_EEXIST,
 * JOURNAL_EVERSION, JOURNAL_ELOCKED, JOURNAL_EGAP or JOURNAL_ECORRUPT (segments missing or
 * out of sequence; for a writer also a bad block, unless it is a torn tail, which is
 * cut), JOURNAL_EINDEX, or
 * an errno (ENOENT, EACCES, ENOMEM, ...). */
int journal_open(const char *path, int flags, const struct journal_options *opt, struct journal **out,
		 struct journal_recovery *rec);

/* Append one record; assigns rec->recno. Copies everything. Returns 0, JOURNAL_ERDONLY,
 * JOURNAL_EINVAL (a field beyond its limit, a length without its pointer), ENOMEM, or the
 * first error the writer thread met (sticky: after a write error the journal accepts
 * nothing more, and what was sealed before it stays valid on disk). */
int journal_append(struct journal *j, struct journal_record *rec);

/* Seal the open block and wait until every sealed block is written and indexed, and
 * fsynced when the policy is ALWAYS (INTERVAL and NEVER: written, not synced).
 * Returns 0 (always, for a reader) or the sticky write error. */
int journal_flush(struct journal *j);

/* Flush, sync (unless the policy is NEVER), stop the writer thread, release the lock
 * and free everything. journal_close(NULL) is a no-op. Returns the first error met. */
int journal_close(struct journal *j);

/* Whether this handle's journal_open created the journal: 0 no, 1 in a directory that was
 * there (empty), 2 with its directory. */
int journal_created(const struct journal *j);

/* Undo a creation: close j, dropping what was not written yet, and remove the journal that
 * its journal_open created: the segments, the index, META and LOCK, and the directory when
 * the open made it (files it does not know stay, and so does the directory then). The lock
 * is held until everything is removed, so no other writer can have opened it meanwhile.
 * JOURNAL_EINVAL, with j left open, when j did not create the journal. Otherwise j is
 * gone; returns 0 or the errno of a removal that failed. A journal_open that fails after
 * creating a journal removes it the same way. */
int journal_discard(struct journal *j);

/* A new connection id for this writer: one more than the largest in the journal (0 for a
 * reader, which has none to give). */
uint32_t journal_next_conn(struct journal *j);

/* Journal metadata: small key/value strings kept in J/META (written at once, atomically).
 * journal_meta_get returns a pointer owned by the journal, valid until the next
 * journal_meta_set or journal_close, or NULL when the key is absent.
 * Keys and values: printable, no newline, no '=' in keys; at most 4 KiB each.
 * journal_meta_set returns 0, JOURNAL_ERDONLY, JOURNAL_EINVAL (a key or value outside those
 * rules), ENOMEM, or the errno of writing META. */
const char *journal_meta_get(struct journal *j, const char *key);
int journal_meta_set(struct journal *j, const char *key, const char *value);

/* Marks: named positions kept beside the journal in J/MARK.<name> (a name: 1..80 of
 * [A-Za-z0-9._-], not starting with '.'), each one decimal number written atomically (a
 * crash leaves the old value or the new one). Any handle may read and set them, a reader's
 * too, and apart from the writer's thread: a mark is not META. The publisher to JetStream
 * keeps "nats.<stream>", the last recno the stream acknowledged.
 * journal_mark_get: 0 and *value, JOURNAL_ENOTFOUND (no such mark), JOURNAL_ECORRUPT (the
 * file holds no number), JOURNAL_EINVAL (a bad name) or an errno.
 * journal_mark_set: 0, JOURNAL_EINVAL or the errno of writing the file. */
int journal_mark_get(struct journal *j, const char *name, uint64_t *value);
int journal_mark_set(struct journal *j, const char *name, uint64_t value);

/* Summary of the journal. For a reader, includes the blocks written past the index (they
 * are scanned, connections and channels too), or every block when there is no usable
 * index: none, a damaged one (index_damaged), or one that lists blocks the segments do not
 * hold (index_stale: it was set aside; journal_last_detail(j) says where it points). For a
 * writer, it describes what is written (call journal_flush() first to include everything
 * appended); pending_records says how many appended records are not written yet. */
struct journal_stats {
	uint64_t records;
	uint64_t first_recno, last_recno; /* 0 when empty */
	int64_t first_wall_ns, last_wall_ns;
	uint64_t raw_bytes; /* sum of payload bytes */
	uint64_t block_raw_bytes; /* uncompressed block bytes (payload + record headers) */
	uint64_t disk_bytes; /* segment files plus index */
	uint64_t segment_bytes; /* segment files */
	uint64_t blocks;
	uint32_t segments;
	uint32_t connections; /* distinct connection ids */
	uint32_t channels; /* distinct non-empty channels */
	uint64_t torn_bytes; /* readers: bytes past the last whole block */
	int index_stale; /* readers: the index lists blocks that are not there */
	int index_damaged; /* readers: the index is damaged (LMDB cannot use it,
					       or its check found it broken): set aside */
	int index_unreadable; /* readers: the index is there and cannot be read
					       (permissions, not a file): set aside */
	/* writer side, this process only */
	uint64_t append_waits; /* appends that had to wait for the disk */
	uint64_t append_wait_ns; /* total time spent waiting */
	uint64_t pending_records; /* appended, not yet written */
};
/* Returns 0 (always, for a writer) or the error a reader met reading past the index
 * (JOURNAL_ECORRUPT, JOURNAL_EGAP, an errno; st then holds what the index says). */
int journal_stats(struct journal *j, struct journal_stats *st);

/* Per connection: as indexed, and for a reader with what lies past the index merged in
 * (as journal_stats). fn must not call into j. */
struct journal_conn_info {
	uint32_t conn;
	uint64_t first_recno, last_recno, records;
	int64_t first_wall_ns, last_wall_ns;
};
/* Call fn for each connection in id order; stop when fn returns non-zero (that value is
 * returned). Otherwise 0, JOURNAL_EINDEX (a writer without an index, or one that cannot
 * be read), or, for a reader, an error met reading past the index as journal_stats. */
int journal_conn_foreach(struct journal *j, int (*fn)(const struct journal_conn_info *, void *), void *ud);

/* Per channel, the same way, with the same return values. Pointers are valid during the
 * callback only. */
struct journal_channel_info {
	const char *name;
	size_t name_len;
	uint64_t first_recno, last_recno, records;
	int64_t first_wall_ns, last_wall_ns;
	const uint8_t *first_cursor, *last_cursor;
	size_t first_cursor_len, last_cursor_len;
};
int
journal_channel_foreach(struct journal *j, int (*fn)(const struct journal_channel_info *, void *), void *ud);

/* Readers. Any number per journal, any open mode. A new reader is positioned at the
 * first record. journal_reader_open returns 0 or ENOMEM; journal_reader_close(NULL) is a
 * no-op. */
int journal_reader_open(struct journal *j, struct journal_reader **out);
void journal_reader_close(struct journal_reader *r);

/* Position at record 'recno' (the first record when recno is below it).
 * JOURNAL_ENOTFOUND when recno is past the last record. The seeks below go through the
 * index: JOURNAL_EINDEX when it points past the end of a segment (journal_last_detail(j)
 * names the segment and offset; 'wstape verify --reindex' rebuilds it). Any of them may
 * also return what journal_reader_next returns for a bad segment (JOURNAL_ECORRUPT,
 * JOURNAL_EGAP, JOURNAL_EVERSION, an errno); they never return JOURNAL_EOF. */
int journal_reader_seek_recno(struct journal_reader *r, uint64_t recno);

/* Position at the first record whose wall_ns >= wall_ns (records are in arrival order;
 * a wall clock that stepped back is handled by using the running maximum).
 * JOURNAL_ENOTFOUND when every record is older. */
int journal_reader_seek_time(struct journal_reader *r, int64_t wall_ns);

/* Position at the first record of 'channel' whose cursor compares >= 'cursor' under
 * journal_cursor_cmp(). JOURNAL_ENOTFOUND when there is none. */
int journal_reader_seek_cursor(struct journal_reader *r, const char *channel, size_t channel_len,
			       const void *cursor, size_t cursor_len);

/* Read the next record into *rec. Returns 0, JOURNAL_EOF at the end, or an error:
 * JOURNAL_ECORRUPT (journal_reader_error_offset() tells where), JOURNAL_EGAP (the next
 * segment does not start where this one ended), JOURNAL_EVERSION, or an errno.
 * At the end of a journal being written, JOURNAL_EOF means "nothing more yet": calling
 * again later returns records appended since. */
int journal_reader_next(struct journal_reader *r, struct journal_record *rec);

/* Where the last error of this reader was found: segment number and byte offset. */
void journal_reader_error_offset(const struct journal_reader *r, uint32_t *segment, uint64_t *offset);

/* Compare two cursors. Cursors made of decimal numbers separated by ':' (Hydromancer's
 * "block:timestamp:tx_index", "block:timestamp", a plain timestamp) compare as numbers,
 * component by component; anything else compares as bytes. Returns <0, 0, >0. */
int journal_cursor_cmp(const void *a, size_t alen, const void *b, size_t blen);

/* Verification: read every block of every segment, check headers, checksums, record
 * framing and recno continuity, then check the index against what was read.
 * On a problem, fills v->bad_segment and v->bad_offset with its place (0 when the problem
 * has no place in a segment, such as an index that cannot be opened) and v->detail with a
 * message (valid until the next call on j), and returns JOURNAL_ECORRUPT (JOURNAL_EINDEX
 * for the index, an errno when a segment cannot be read, JOURNAL_EVERSION for a segment of
 * a newer format). v->good_bytes counts the verified segment bytes. */
struct journal_verify {
	uint64_t blocks, records, good_bytes;
	uint64_t unindexed_blocks; /* sealed blocks the index does not hold yet (not an error) */
	uint64_t torn_bytes; /* a torn tail past the last whole block (not an error: a
					  crash left it, the next writer cuts it) */
	uint32_t bad_segment;
	uint64_t bad_offset;
	const char *detail;
};
int journal_verify(struct journal *j, struct journal_verify *v);

/* Throw the index away and rebuild it from the segments (writers only). Returns 0,
 * JOURNAL_ERDONLY, the sticky write error, or what recovery met (as journal_open). */
int journal_reindex(struct journal *j);

/* Cut the last segment at its first bad block, so that the journal opens again; what
 * follows that offset is lost (writers only; the caller says so to the user first).
 * Refuses (JOURNAL_ECORRUPT) when the bad block is not in the last segment.
 * *cut_bytes receives the number of bytes removed. Returns 0 (cut, or nothing to cut),
 * JOURNAL_ELOCKED (a writer has it open), JOURNAL_ECORRUPT (refused), what journal_open
 * returns, another problem the scan met (as journal_verify), or the errno of the cut;
 * *segment and *offset name the bad block. */
int journal_repair(const char *path, uint32_t *segment, uint64_t *offset, uint64_t *cut_bytes);

/* Pruning: removing whole segments from the start of a journal (docs/FORMAT.md, "Pruning").
 * A prune removes the segments, from the first, whose records were all received before
 * 'before_ns' (by the largest receive time of their blocks), never the last one (the one
 * a writer appends to), and stops at the first segment it keeps. It writes the marker
 * J/PRUNED first (the new first segment and record, the totals removed), then drops the
 * index entries of those blocks in one LMDB transaction, then unlinks the files and
 * fsyncs the directory: a crash at any point leaves a journal that opens, verifies and
 * reads from the marker's record on (segments below it still there are ignored, and
 * removed by the next prune or writer). Record numbers stay as they were: the journal
 * starts later. A prune may run while a writer appends (it takes J/PRUNE.LOCK, not the
 * writer's lock) and while readers read. */
struct journal_pruned {
	uint32_t first_segment; /* the first segment kept (0: nothing was ever pruned) */
	uint64_t first_recno; /* the first record kept */
	int64_t first_wall_ns; /* its receive time */
	uint64_t segments, records, bytes; /* removed: segments, their records, file bytes */
	int64_t until_wall_ns; /* the largest receive time among the records removed */
};
#define JOURNAL_PRUNE_DRY_RUN 1 /* flags: say what would be removed, remove nothing */
/* Prune the journal at 'path', which the calling process has not opened (LMDB wants one
 * environment per file in a process; a writer in another process may have it open). *res says what this prune removed (segments 0: nothing) and where
 * the journal starts now. Returns 0, JOURNAL_ELOCKED (another prune is running), what
 * journal_open(RDONLY) returns, JOURNAL_EINDEX, or an errno (writing the marker, removing
 * a file), with journal_last_detail(NULL) saying more. */
int journal_prune(const char *path, int64_t before_ns, int flags, struct journal_pruned *res);
/* The same through a writer's handle (a recorder pruning as it records: the index is its
 * own). JOURNAL_ERDONLY for a reader's handle; journal_last_detail(j) says more. */
int journal_prune_writer(struct journal *j, int64_t before_ns, int flags, struct journal_pruned *res);
/* What the marker says: where the journal starts and what all prunes removed (all zero
 * for a journal never pruned). Returns 0, JOURNAL_ECORRUPT (a marker that does not
 * parse) or an errno. */
int journal_pruned_info(struct journal *j, struct journal_pruned *p);

/* Name of any value the functions above return (0, an errno, JOURNAL_E*, JOURNAL_EOF).
 * Static string. */
const char *journal_strerror(int err);

/* More detail on the last error of this journal (path, offset, foreign error text),
 * or "" when none. Owned by j. With j == NULL: the detail of the last journal_open()
 * that failed in the calling thread (a thread-local string). */
const char *journal_last_detail(const struct journal *j);

/* Names of kinds and directions, and the inverse ("text" -> JOURNAL_TEXT); -1 if unknown. */
const char *journal_kind_name(int kind);
int journal_kind_parse(const char *s, size_t n);
const char *journal_dir_name(int dir);
int journal_dir_parse(const char *s, size_t n);

#ifdef __cplusplus
}
#endif

#endif
