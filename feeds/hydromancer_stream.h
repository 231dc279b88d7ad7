/* hydromancer_stream.h - a Hydromancer recording as the one live stream a server would have sent
 *
 * A recording of a Hydromancer feed holds, per channel, the live messages of each
 * connection and, after each reconnect, the replay chunks: the events the recorder missed
 * while disconnected, and some it got live too (the docs' overlap). A replay serves every
 * distinct event once, in order, as live messages of its channel:
 *
 * - Order: by the channel's dedup key (the docs' (time, txIndex)), not by receive time.
 *   The docs' client tracks the last key it saw and skips every event at or before it, so
 *   an event sent after a later one is lost to it. In a recording the replay chunks come
 *   after the `reconnected`, sometimes after live messages of the new connection ("live
 *   messages may begin arriving before replay is complete") whose keys are later. So when
 *   the timeline reaches a `connected` or `reconnected`, a second reader looks ahead over
 *   that connection's records until every restored channel's replay has its last chunk
 *   (chunk == totalChunks), the connection ends, or HM_STREAM_LOOKAHEAD_NS of recorded
 *   time pass, and the chunks' new events go out there, at the reconnect, as live messages
 *   (the array field of the channel's recorded live messages, the chunk's cursor). Those
 *   chunks are skipped when the timeline reaches them; a chunk outside any look-ahead goes
 *   out where it was received.
 * - Once: every message's events pass through the channel's dedup (hm_dedup in
 *   feeds/feed_server.h): live messages lose the events already sent (a message left
 *   with none is not sent); a live event that came out of key order in the recording
 *   goes out as recorded (it is in the journal: the replay keeps it).
 * Memory is bounded: one message at a time, and the dedup's bounded state.
 *
 * The stream does not read the caller's timeline itself (the caller keeps its reader, its
 * range and its loop): it is fed the records in order (hm_stream_feed), and between two
 * records it may have messages of its own (hm_stream_pending). */
#ifndef WSTAPE_HYDROMANCER_STREAM_H
#define WSTAPE_HYDROMANCER_STREAM_H

#include <stdint.h>

#include "feeds/feed.h"
#include "replay/feed_host.h"

#define HM_STREAM_LOOKAHEAD_NS 10000000000LL

/* One live message of the stream. The slices are owned by the stream and valid until its
 * next call. */
struct hm_stream_out {
	struct feed_str channel;
	struct feed_str cursor; /* contents, as recorded; may be empty */
	const uint8_t *p; /* the live message, with its recorded seq (or none) */
	size_t n;
	int64_t wall_ns; /* the timeline point where it goes out */
	uint64_t recno; /* the record at that point */
	int from_replay; /* built from a recorded replay chunk */
};

struct hm_stream;

/* A stream over the journal of host h (which must outlive it) for the records before the
 * host's to_wall of its conn. NULL on ENOMEM. hm_stream_free(NULL) is a no-op. */
struct hm_stream *hm_stream_new(const struct feed_host *h);
void hm_stream_free(struct hm_stream *st);

/* The caller's timeline jumped (a seek, a loop): forget what was sent and what is pending. */
void hm_stream_reset(struct hm_stream *st);

/* Feed the next record of the timeline. Returns 1 with *out when it makes a live message,
 * 0 when it makes none (not a data message, nothing new in it, or a chunk sent already),
 * or a negative errno. */
int hm_stream_feed(struct hm_stream *st, const struct feed_record *r, struct hm_stream_out *out);

/* Before feeding the next record: 1 with *out when the stream has a message of its own
 * (the look-ahead's, or one given back by hm_stream_unread), 0 when not, negative errno. */
int hm_stream_pending(struct hm_stream *st, struct hm_stream_out *out);

/* Give back the last message returned: the next hm_stream_pending returns it again. */
void hm_stream_unread(struct hm_stream *st);

/* Whether a message is pending, and the record of its timeline point then. */
int hm_stream_pending_recno(const struct hm_stream *st, uint64_t *recno);

/* The stream's next message from reader rd (pending first, then records), stopping at a
 * record at or past stop_recno or after stop_wall. 1 with *out, 0 at the stop or the end,
 * negative errno or a negated error of the reader. */
int hm_stream_read(struct hm_stream *st, struct feed_reader *rd, uint64_t stop_recno, int64_t stop_wall,
		   struct hm_stream_out *out);

#endif
