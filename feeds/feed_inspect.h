/* feed_inspect.h - the inspect half of a feed: the rules `wstape inspect` applies to it
 *
 * One const struct feed_inspect_ops per feed, in feeds/<feed>_inspect.c, reached as
 * feed->inspect. inspect/ keeps what is the same for every feed (connections,
 * stalls, duplicate frames and events, replay chunks, the timeline) and asks these
 * members for what differs. Facts are data; rules are functions, NULL where a feed has no
 * such rule. Every function gets the state that state_new() made (NULL without one), so
 * a feed declared at run time (a spec file) can keep its declaration there.
 *
 * A message's sequence (struct feed_seq) covers the numbers first..last of its channel;
 * it follows the previous message of the channel when that one ended at prev (prev < 0:
 * at first - 1). That says all three rules of feeds: consecutive numbers (first == last,
 * prev < 0), a link to the previous message (prev given; the numbers need not be
 * consecutive, so a break says "at least one" is missing) and a first/last range.
 */
#ifndef WSTAPE_FEED_INSPECT_H
#define WSTAPE_FEED_INSPECT_H

#include "feeds/feed.h"
#include "inspect/inspect_host.h"
#include "util/text.h"

/* What a control message says of the session (feed_inspect_ops.session). */
enum feed_session_kind {
	FEED_SESSION_NONE = 0, /* nothing */
	FEED_SESSION_OPEN, /* a session began; nothing said of the time before it */
	FEED_SESSION_NEW, /* a new session: the server holds nothing of the last one */
	FEED_SESSION_RESUMED, /* the last session resumed: its replays cover the downtime */
};

/* A JSON ping or its answer (feed_inspect_ops.ping). */
enum feed_ping { FEED_PING_NONE = 0, FEED_PING_SENT, FEED_PONG_RECEIVED };

struct feed_seq {
	int64_t first, last; /* the numbers the message covers */
	int64_t prev; /* the last number of the message before it; < 0: first - 1 */
	int reset; /* the message starts the sequence again (a snapshot): nothing
				   is judged of it, the channel follows it from here */
};

struct feed_inspect_ops {
	/* a payload that is not JSON is a finding (malformed); 0: counted only */
	int not_json_is_finding;
	/* live cursors of a channel never go back (journal_cursor_cmp order) */
	int cursor_ordered;
	/* the first number of a channel's sequence on a connection; < 0: any */
	int64_t seq_first;
	/* the sequence starts again on each connection (else it goes on across them) */
	int seq_per_conn;
	/* a resumed session's replays cover the downtime before it: downtime is judged */
	int replay_covers_downtime;
	/* the replay chunk's flag that the server's cache did not cover the whole
	   disconnect (struct feed_msg.has_gap), as the report names it */
	const char *replay_gap_name;
	/* reconnects are judged by the feed's documented backoff (feed_backoff_ms) */
	int backoff_documented;

	/* the feed's state of one pass (a spec: its declaration); NULL: out of memory */
	void *(*state_new)(const struct feed *feed);
	void (*state_free)(void *st);

	/* A received control message: the session it opens (enum feed_session_kind) and its kind
	   as the report names it (*kind, static text); the feed may note what the message
	   says (limits). */
	int (*session)(void *st, const struct inspect_rec *r, const struct feed_msg *m, const char **kind);
	/* A control message in either direction (r->out): a JSON ping sent, a pong received,
	   or neither (enum feed_ping). */
	int (*ping)(void *st, const struct inspect_rec *r, const struct feed_msg *m);
	/* A received data message's place in its channel's sequence: 1 and *s, or 0. */
	int (*seq)(void *st, const struct inspect_rec *r, const struct feed_msg *m, struct feed_seq *s);
	/* A received data message, after the rules that are the same for every feed.
	   selected == 0: its channel is outside --channel; the feed follows what it must
	   (state spanning channels) but reports nothing of it. */
	void (*data)(void *st, const struct inspect_host *h, const struct inspect_rec *r,
		     struct feed_str channel, const struct feed_msg *m, int selected);
	/* The end of the selection: state still open. */
	void (*finish)(void *st, const struct inspect_host *h);

	/* The feed's figures in the report: a text section (after the channels) and a JSON
	   object under the key 'section'. */
	const char *section;
	void (*report_text)(const void *st, const struct inspect_host *h, struct text_buf *b);
	struct json_t *(*report_json)(const void *st, const struct inspect_host *h);
};

extern const struct feed_inspect_ops raw_inspect_ops, hydromancer_inspect_ops, lasersell_inspect_ops;

#endif
