/* merge.h - the records pulled from a stream written into one journal: every recorder's
 * connections made connections of the journal, duplicates and redundant replay chunks
 * dropped, the rest in receive-time order (ties: stream order)
 *
 * A bounded pull spills the records to a temporary file beside the journal and writes them
 * sorted at js_merge_finish; a followed one holds them for a reorder window and writes what
 * is older than the newest minus the window at each js_merge_flush. The journal's META:
 *   recorder.<conn>        the recorder that received connection <conn>
 *   pulled_conn.<conn>     "<recorder> <journal id> <conn>": where it came from (a second
 *                          pull into the journal maps the same connection to it again)
 *   pulled_seq.<stream>    the last stream sequence consumed: a second pull goes on after it
 */
#ifndef WSTAPE_JETSTREAM_MERGE_H
#define WSTAPE_JETSTREAM_MERGE_H

#include "jetstream/jetstream.h"

struct feed;
struct js_merge;
struct js_merge_options {
	struct journal *j; /* opened for writing */
	const struct feed *feed; /* classifies the payloads (replay chunks); NULL: none yet */
	const char *stream; /* for META pulled_seq.<stream> */
	int follow;
	int64_t reorder_ns; /* follow: the window (default 2 s) */
	int64_t from_ns, to_ns; /* receive times kept: [from, to); 0: no bound */
	const char *channel; /* NULL: every channel */
	size_t channel_len;
	const char *spill_dir; /* bounded: the temporary file's directory (default ".") */
	int64_t id_window_ns; /* how long (receive time) an id or an event is remembered;
				 default 15 min */
};
struct js_merge_stats {
	uint64_t messages; /* added */
	uint64_t records; /* written */
	uint64_t duplicates; /* dropped: a Nats-Msg-Id already written */
	uint64_t redundant; /* dropped: replay chunks whose every event was already written */
	uint64_t filtered; /* outside --from/--to/--channel */
	uint64_t skipped; /* not wstape records (js_merge_skip) */
	uint32_t recorders, connections; /* seen in what was written (new connections of J) */
	uint64_t pulled_seq;
};
/* Opens the merge; returns 0, ENOMEM, JS_EINVAL, or an errno of the temporary file. */
int js_merge_open(const struct js_merge_options *o, struct js_merge **out, char *detail, size_t cap);
/* The feed, when the first message names it (before the first record is written). */
void js_merge_set_feed(struct js_merge *m, const struct feed *feed);
/* One message; returns 0 or an error (ENOMEM, the temporary file's errno, the journal's). */
int js_merge_add(struct js_merge *m, const struct js_pulled *p);
/* A message consumed and not added (not a wstape record): counted in pulled_seq. */
void js_merge_skip(struct js_merge *m, uint64_t stream_seq);
/* Follow: writes what is older than max(newest, now_ns) - the window, and (at most once a
 * second) flushes the journal and updates META pulled_seq. Bounded: nothing. */
int js_merge_flush(struct js_merge *m, int64_t now_ns);
/* Writes everything left (bounded: sorted), flushes the journal and writes META pulled_seq. */
int js_merge_finish(struct js_merge *m);
void js_merge_stats(const struct js_merge *m, struct js_merge_stats *st);
void js_merge_close(struct js_merge *m);

#endif
