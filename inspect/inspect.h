/* inspect.h - one streaming pass over a journal: connections, gaps, duplicates, timing
 *
 * Records go in one at a time, in journal order (inspect_run() reads them through the
 * journal's reader API; tests may call inspect_record() directly). Memory is bounded
 * whatever the journal's length:
 *   - per channel (at most INSPECT_MAX_CHANNELS; later ones are counted under "(other)"):
 *     counters, seq and replay state and the last live cursor (per recorder of a merged
 *     journal, at most 64), an inter-arrival histogram
 *     (util/hist.h), its part of the timeline and, for channels with events, a
 *     window of the last 64k-128k event hashes (inspect/seen.h, 4 MiB) in which a
 *     repeated event is found;
 *   - one window of the last 16k-32k frame hashes for exact duplicate frames;
 *   - at most INSPECT_MAX_CONNS connections, INSPECT_KEEP_FINDINGS findings of each type,
 *     the INSPECT_TOP_STALLS largest stalls and what the feed's rules follow (at most
 *     INSPECT_MAX_POSITIONS positions, inspect/inspect_host.h) are kept in detail;
 *     everything beyond is counted.
 * The library never prints: reports are rendered into a text_buf.
 */
#ifndef WSTAPE_INSPECT_H
#define WSTAPE_INSPECT_H

#include <stdint.h>

#include "feeds/feed.h"
#include "journal/journal.h"
#include "util/text.h"

#define INSPECT_MAX_CHANNELS 64
#define INSPECT_MAX_CONNS 1024
#define INSPECT_KEEP_FINDINGS 100
#define INSPECT_TOP_STALLS 10
#define INSPECT_EVENT_WINDOW 65536
#define INSPECT_FRAME_WINDOW 16384

/* Classes of findings, for --fail-on (a bit mask). */
enum {
	INSPECT_GAPS = 1 << 0, /* seq gaps and restarts, cursor regressions, replay gaps,
					 incomplete replays, stalls, downtime not covered */
	INSPECT_DUPS = 1 << 1, /* the same event seen again; exact duplicate frames */
	INSPECT_OVERLAP = 1 << 2, /* an event seen in a replay and live */
	INSPECT_DISCONNECTS = 1 << 3, /* closes by the server or the network, failed attempts */
	INSPECT_POSITIONS = 1 << 4, /* positions never closed, or unknown (the feed's rules) */
	INSPECT_TIMING = 1 << 5, /* late updates, backoff off the feed's rule, pings unanswered */
	INSPECT_MALFORMED = 1 << 6, /* payloads that are not JSON (where the feed says so) */
	INSPECT_ANY = (1 << 7) - 1,
};

/* Parse "gaps,dups,disconnects,any,..." into a mask. Returns 0, or -1 on an unknown name. */
int inspect_class_parse(const char *list, unsigned *mask);
const char *inspect_class_name(unsigned bit);

/* A finding as it is made (inspect_options.on_finding): for a pass that runs while the
 * journal is written, so that the writer hears of a gap when it happens. The strings live
 * during the call. */
struct inspect_event {
	const char *type; /* "seq_gap", "replay_has_gap", "dup_event", ... (docs/INSPECT.md) */
	const char *cls; /* its class: "gaps", "dups", ... (inspect_class_name) */
	unsigned cls_bit; /* INSPECT_* */
	const char *channel; /* "" when none; "(other)" past INSPECT_MAX_CHANNELS */
	uint32_t conn;
	uint64_t recno;
	uint64_t missing; /* seq_gap, seq_start: messages the seq numbers skip */
	const char *msg; /* the report's words */
};

struct inspect_options {
	const struct feed *feed;
	const char *channel; /* only frames of this channel; NULL = all */
	uint32_t conn; /* only this connection, when conn_set */
	int conn_set;
	int64_t from_ns, to_ns; /* wall time range [from, to); 0 = open */
	int64_t stall_ns; /* inter-arrival above this is a stall; 0 = 5 s */
	const char *journal_name; /* for the report header */
	/* each finding, once the record that made it is inspected (NULL: none) */
	void (*on_finding)(const struct inspect_event *ev, void *ud);
	void *on_finding_ud;
};

struct inspect;

/* Returns 0 and *out, or ENOMEM. */
int inspect_new(const struct inspect_options *opt, struct inspect **out);
void inspect_free(struct inspect *in);

/* One record (filters are applied by inspect_run(), not here). */
void inspect_record(struct inspect *in, const struct journal_record *rec);

/* Close open state (incomplete replays, open positions, the last connection). */
void inspect_finish(struct inspect *in);

/* Read the journal (from opt->from_ns, to opt->to_ns, conn and channel filters applied),
 * then inspect_finish(). Returns 0, or the reader's error; on JOURNAL_ECORRUPT what was
 * read before is inspected and the corruption is part of the report. JOURNAL_EINDEX: the
 * segments end before records that the index lists (they are reported like corruption). */
int inspect_run(struct inspect *in, struct journal *j);

/* Note a corruption found while reading (segment, offset, error); part of the report. */
void
inspect_set_corruption(struct inspect *in, int err, uint32_t segment, uint64_t offset, const char *detail);

/* Classes found (a mask of INSPECT_*). */
unsigned inspect_classes(const struct inspect *in);

/* Render the report. */
void inspect_report_text(const struct inspect *in, struct text_buf *out);
void inspect_report_json(const struct inspect *in, struct text_buf *out);

#endif
