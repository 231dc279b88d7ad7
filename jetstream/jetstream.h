/* jetstream.h - a journal in a NATS JetStream stream: records published as messages, the
 * stream's settings, and a stream read back as records
 *
 * jetstream/ is the one part that includes nats.h (libnats). The local journal stays the
 * recorder's write-ahead truth: the publisher follows it with a reader and remembers how far
 * the stream has acknowledged in a journal mark (journal_mark_set, J/MARK.<name>), so that a
 * restart, or an outage of NATS of any length, resumes from the journal.
 *
 * A record is one message (docs/FORMAT.md, "JetStream messages"):
 *   subject   wstape.<name>.<channel token>   (<name>: the journal's name in subjects,
 *             --subject-name; the token: js_subject_token, "_" for no channel)
 *   payload   the record's payload, exactly
 *   headers   the JS_HDR_* below; Nats-Msg-Id (js_msg_id) for the stream's deduplication
 *
 * Functions return 0, a positive errno value, or a negative JS_E* code (js_strerror); where
 * an error has more to say (what the server answered) they fill a caller's buffer.
 */
#ifndef WSTAPE_JETSTREAM_H
#define WSTAPE_JETSTREAM_H

#include <stddef.h>
#include <stdint.h>

#include "journal/journal.h"

struct feed;

/* ---- message headers ---- */
#define JS_HDR_MSG_ID "Nats-Msg-Id"
#define JS_HDR_RECORDER "Wstape-Recorder" /* the recorder's id (--recorder-id) */
#define JS_HDR_JOURNAL "Wstape-Journal" /* the journal's id (META journal_id: 16 hex digits) */
#define JS_HDR_RECNO "Wstape-Recno" /* the record's recno in that journal, decimal */
#define JS_HDR_WALL "Wstape-Wall-Ns" /* receive time, ns since the epoch, decimal */
#define JS_HDR_MONO "Wstape-Mono-Ns" /* CLOCK_MONOTONIC of the recorder's host, decimal */
#define JS_HDR_CONN "Wstape-Conn" /* connection id in that journal, decimal; 0 none */
#define JS_HDR_DIR "Wstape-Dir" /* "in" | "out" (journal_dir_name) */
#define JS_HDR_KIND "Wstape-Kind" /* "text", "binary", ... (journal_kind_name) */
#define JS_HDR_CHANNEL "Wstape-Channel" /* js_hdr_escape()d; absent when empty */
#define JS_HDR_CURSOR "Wstape-Cursor" /* js_hdr_escape()d; absent when empty */
#define JS_HDR_FEED "Wstape-Feed" /* the feed's name (META feed) */

#define JS_SUBJECT_ROOT "wstape"
#define JS_MAX_RECORDER 64 /* a recorder id: 1..64 of [A-Za-z0-9_.-] */
#define JS_MAX_NAME 64 /* a subject name: 1..64 of [A-Za-z0-9_-] */
#define JS_MSG_ID_MAX 160 /* room for a Nats-Msg-Id and its NUL */
#define JS_SUBJECT_MAX (sizeof JS_SUBJECT_ROOT + JS_MAX_NAME + 3 * JOURNAL_MAX_CHANNEL + 4)

enum {
	JS_EOF = -1, /* a bounded read reached the end of the stream as it was at open */
	JS_ECONNECT = -2, /* no server of the list could be reached */
	JS_ESTREAM = -3, /* the server refused a stream operation (the detail says why) */
	JS_ENOSTREAM = -4, /* no such stream */
	JS_EHEADER = -5, /* a message without wstape's headers, or with a bad one */
	JS_ETIMEOUT = -6, /* nothing within the time given */
	JS_ENATS = -7, /* another libnats error (the detail says which) */
	JS_EINVAL = -8, /* a bad argument: a name, a server list, an option */
};
const char *js_strerror(int err);

/* ---- names, subjects, headers (jetstream/names.c) ---- */

/* Whether s (NUL-terminated) is a valid recorder id / subject name (JS_MAX_*). */
int js_recorder_ok(const char *s);
int js_name_ok(const char *s);
/* The subject name a journal gets by default: its directory's basename with every byte
 * outside [A-Za-z0-9_-] made '_', cut to JS_MAX_NAME ("journal" when nothing is left). */
void js_default_name(const char *journal_path, char *out, size_t cap);
/* The recorder id a host gets by default: its host name, every byte outside [A-Za-z0-9_.-]
 * made '_', cut to JS_MAX_RECORDER ("recorder" when there is none). */
void js_default_recorder(char *out, size_t cap);
/* The subject token of a channel: [A-Za-z0-9_-] as they are, every other byte as %XX
 * (upper-case hex), "_" for the empty channel ("_" itself is %5F). Writes a NUL-terminated
 * token into out; returns its length, or 0 when cap is too small. */
size_t js_subject_token(const char *ch, size_t n, char *out, size_t cap);
/* "wstape.<name>.<token>" into out (NUL-terminated); returns its length or 0 (cap). */
size_t js_subject(const char *name, const char *ch, size_t n, char *out, size_t cap);
/* A header value for arbitrary bytes: the visible ASCII characters (! to ~) but '%' as they are, every
 * other byte (space, controls, '%', bytes above 0x7e) as %XX (upper-case hex). Returns the length written (NUL-terminated), or 0 when cap is too small. */
size_t js_hdr_escape(const void *p, size_t n, char *out, size_t cap);
/* The inverse: decodes %XX; returns the length, or (size_t)-1 for a bad escape or when
 * the result would not fit in cap. */
size_t js_hdr_unescape(const char *s, size_t n, void *out, size_t cap);

/* ---- the identity of a record: its Nats-Msg-Id (jetstream/msgid.c) ----
 * A data message (dir in, kind text, classified FEED_MSG_DATA or FEED_MSG_REPLAY) whose
 * feed names its events (dedup keys, or a cursor) has the feed's identity: the same event
 * received by two recorders has the same id, so the stream keeps it once:
 *     "<feed>.d.<16 hex>" (a live message), "<feed>.r.<16 hex>" (a replay chunk)
 * the hex a 64-bit hash of the channel, the cursor and each event's key (time, txIndex and
 * role where the docs give one; the event's text hash for an event without a key).
 * Every other record (connection events, pings, what was sent, raw feeds, a message the
 * feed cannot name) is kept per recorder:
 *     "<recorder>.<journal id>.<recno>"
 * Returns 1 for a feed identity, 0 for a per-recorder one; the id is NUL-terminated in out
 * (JS_MSG_ID_MAX). */
int js_msg_id(const struct feed *feed, const char *recorder, const char *journal_id,
	      const struct journal_record *rec, char *out);

/* ---- connections (jetstream/conn.c) ---- */
struct js_conn;
struct js_conn_options {
	const char *servers; /* "nats://h:p[,nats://h2:p2...]" (tls:// too); a bare host:port is nats:// */
	const char *name; /* the client name the server shows (default "wstape") */
	uint32_t timeout_ms; /* connect and request timeout; default 5000 */
	int retry; /* 1: succeed at once when no server answers yet and keep trying in the
		      background, reconnecting for ever (a recorder); 0: fail with JS_ECONNECT */
	/* called from libnats' threads when the connection is lost (0) or made again (1), with
	 * the server's URL; may be NULL */
	void (*on_state)(int up, const char *url, void *ud);
	void *ud;
};
/* A server list as it may be shown or logged: "nats://user:pass@h:4222" with the user part as three stars
 * (a token or user and password never leave in a message). NUL-terminated, cut to cap. */
void js_servers_redact(const char *in, char *out, size_t cap);
int js_connect(const struct js_conn_options *o, struct js_conn **out, char *detail, size_t cap);
/* 1 while connected to a server */
int js_connected(struct js_conn *c);
void js_close(struct js_conn *c);
/* Releases libnats' threads and memory once every connection, publisher and reader is
 * closed (a program's last step: it makes a leak checker see no leak). */
void js_library_close(void);

/* ---- the stream (jetstream/stream.c) ---- */
enum js_storage { JS_STORAGE_FILE = 0, JS_STORAGE_MEMORY = 1 };
enum js_retention { JS_RETAIN_LIMITS = 0, JS_RETAIN_INTEREST = 1, JS_RETAIN_WORKQUEUE = 2 };
struct js_stream_config {
	const char *name;
	const char *subjects; /* comma-separated; default "wstape.>" */
	int replicas; /* default 1 */
	int storage; /* enum js_storage */
	int retention; /* enum js_retention */
	int64_t max_age_ns, max_bytes, max_msgs, max_msg_size; /* 0: unlimited (max_msg_size:
								 the server's max_payload) */
	int64_t dup_window_ns; /* default 10 min */
	int discard_new; /* at a limit refuse new messages instead of dropping old ones */
};
#define JS_MAX_PEERS 8
struct js_stream_info {
	char name[64], subjects[512], leader[128];
	int replicas, storage, retention, discard_new;
	int64_t max_age_ns, max_bytes, max_msgs, max_msg_size, dup_window_ns;
	uint64_t msgs, bytes, first_seq, last_seq, num_subjects;
	int64_t first_ns, last_ns, created_ns; /* 0: none */
	int npeers; /* the replicas but the leader */
	struct {
		char name[128];
		int current; /* caught up with the leader */
		int offline;
		uint64_t lag;
		int64_t active_ns; /* since it was last heard of */
	} peers[JS_MAX_PEERS];
};
/* Creates the stream, or updates it when it exists with other settings (JetStream allows
 * most changes, not of storage or a lowered replica count...: JS_ESTREAM says so). */
int js_stream_create(struct js_conn *c, const struct js_stream_config *cfg, struct js_stream_info *out,
		     char *detail, size_t cap);
int js_stream_info(struct js_conn *c, const char *name, struct js_stream_info *out, char *detail, size_t cap);

/* ---- the publisher (jetstream/publish.c) ----
 * A thread that follows a journal (its own reader on j, from the record after the mark)
 * and publishes every record asynchronously, at most max_inflight unacknowledged. The mark
 * "nats.<stream>" (journal_mark_set) is the last recno of the contiguous acknowledged
 * prefix, written every mark_every acks and every mark_ms. A message not acknowledged
 * within ack_timeout_ms, or refused, sends the publisher back to the record after the
 * mark: what is sent again is dropped by the stream's Nats-Msg-Id window. */
struct js_publisher;
struct js_publisher_options {
	const char *servers, *stream;
	const char *name; /* subject name */
	const char *recorder; /* recorder id */
	const char *journal_id; /* META journal_id */
	const struct feed *feed; /* for js_msg_id and Wstape-Feed; NULL: raw */
	uint32_t max_inflight; /* default 4096 */
	uint32_t ack_timeout_ms; /* default 5000 */
	uint32_t mark_every; /* default 1000 */
	uint32_t mark_ms; /* default 1000 */
};
struct js_publisher_stats {
	uint64_t published; /* messages sent (again ones included) */
	uint64_t acked; /* acknowledgements received */
	uint64_t duplicates; /* of them, acks that said "duplicate" */
	uint64_t resent; /* messages sent again after a timeout, an error or a reconnect */
	uint64_t too_large; /* records larger than the server's max_payload: passed over */
	uint64_t acked_recno; /* the mark */
	uint64_t journal_recno; /* the last record the reader saw */
	int64_t keep_from_ns; /* the receive time of the oldest record not acknowledged yet: a
				 prune must keep it and what follows (INT64_MAX: nothing is
				 pending; 0: not known yet, keep everything) */
	int connected;
	int last_err; /* the last error met, 0 none */
	char last_detail[256];
};
/* Starts publishing the records of the journal at journal_path, through a read-only handle
 * of its own (a recorder may be writing it). The stream must exist (last_err JS_ENOSTREAM
 * otherwise, looked for again every 5 s); with no server reachable it starts anyway and
 * catches up later. A record larger than the server's max_payload is logged and passed
 * over (too_large). */
int js_publisher_start(const char *journal_path, const struct js_publisher_options *o,
		       struct js_publisher **out, char *detail, size_t cap);
void js_publisher_stats(struct js_publisher *p, struct js_publisher_stats *st);
/* Waits up to wait_ms for every record journaled so far (the writer calls journal_flush
 * first) to be acknowledged, writes the mark, stops the thread and frees p. Returns 0 when
 * all were acknowledged, JS_ETIMEOUT when some were not (the next run sends them), and the
 * last stats in *final (may be NULL). */
int js_publisher_stop(struct js_publisher *p, uint32_t wait_ms, struct js_publisher_stats *final);

/* ---- reading a stream back (jetstream/read.c) ---- */
struct js_reader;
struct js_reader_options {
	const char *servers, *stream;
	const char *filter; /* a subject filter, NULL: every subject of the stream */
	int64_t from_ns; /* start at the messages stored since this time (0: the first) */
	uint64_t from_seq; /* or at this stream sequence (0: by from_ns); it wins over from_ns */
	int follow; /* 0: JS_EOF once the messages stored at open are read */
};
/* One message as a record, with where it came from. The pointers stay valid until the next
 * js_reader_next or js_reader_close. */
struct js_pulled {
	struct journal_record rec; /* recno: the source journal's; conn: the source's */
	uint64_t stream_seq;
	int64_t stored_ns; /* when the stream stored it */
	char recorder[JS_MAX_RECORDER + 1];
	char journal_id[17];
	char feed[64]; /* "" when absent */
	char msg_id[JS_MSG_ID_MAX];
	char channel[JOURNAL_MAX_CHANNEL];
	uint8_t cursor[JOURNAL_MAX_CURSOR];
};
int js_reader_open(const struct js_reader_options *o, struct js_reader **out, char *detail, size_t cap);
/* 0 and *out; JS_EOF (bounded, at the end); JS_ETIMEOUT (nothing within timeout_ms);
 * JS_EHEADER for a message that is not a wstape record (out->stream_seq says which: the
 * reader is past it); another error. */
int js_reader_next(struct js_reader *r, struct js_pulled *out, uint32_t timeout_ms, char *detail, size_t cap);
void js_reader_close(struct js_reader *r);

#endif
