/* test_inspect.c - the inspect pass on records built in memory: duplicates versus shared
 * dedup keys, overlap, seq and replay rules, stalls, lasersell rules, bounded structures */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <inttypes.h>
#include <jansson.h>

#include "util/hist.h"
#include "inspect/inspect.h"
#include "inspect/internal.h"
#include "inspect/seen.h"
#include "feeds/lasersell_inspect.h"

#define T0 1795341600000000000LL
#define MS 1000000LL

struct fx {
	struct inspect *in;
	uint64_t recno;
	int64_t t;
};

static struct fx *
fx_new(const struct feed *feed, int64_t stall_ms)
{
	static struct fx f;
	struct inspect_options o;

	memset(&o, 0, sizeof(o));
	o.feed = feed;
	o.stall_ns = stall_ms * MS;
	memset(&f, 0, sizeof(f));
	f.t = T0;
	assert_int_equal(inspect_new(&o, &f.in), 0);
	return &f;
}

/* A fixture whose records are a selection: --from / --to given, so that the journal goes on
 * before / after them (inspect_run() would find out; here the options say it). */
static struct fx *
fx_new_cut(const struct feed *feed, int from, int to)
{
	static struct fx f;
	struct inspect_options o;

	memset(&o, 0, sizeof(o));
	o.feed = feed;
	o.from_ns = from ? T0 - 1000 * MS : 0;
	o.to_ns = to ? T0 + 3600 * 1000 * MS : 0;
	memset(&f, 0, sizeof(f));
	f.t = T0;
	assert_int_equal(inspect_new(&o, &f.in), 0);
	return &f;
}

static void
put(struct fx *f, int64_t after_ms, uint32_t conn, int dir, int kind, const char *channel,
    const char *payload)
{
	struct journal_record r;

	memset(&r, 0, sizeof(r));
	f->t += after_ms * MS;
	r.recno = ++f->recno;
	r.wall_ns = f->t;
	r.mono_ns = f->t - T0;
	r.conn = conn;
	r.dir = (uint8_t)dir;
	r.kind = (uint8_t)kind;
	r.channel = channel;
	r.channel_len = channel ? (uint16_t)strlen(channel) : 0;
	r.payload = (const uint8_t *)payload;
	r.payload_len = strlen(payload);
	inspect_record(f->in, &r);
}

static void
text(struct fx *f, int64_t after_ms, uint32_t conn, const char *channel, const char *payload)
{
	put(f, after_ms, conn, JOURNAL_IN, JOURNAL_TEXT, channel, payload);
}

/* the state of the lasersell rules (feeds/lasersell_inspect.c) */
static struct lasersell_inspect *
ls(struct fx *f)
{
	return f->in->feed_state;
}

static struct channel *
chan(struct fx *f, const char *name)
{
	for (int i = 0; i < f->in->nch; i++)
		if (!strcmp(f->in->ch[i]->name, name))
			return f->in->ch[i];
	fail_msg("no channel %s", name);
	return NULL;
}

static void
test_inspect__same_key_is_not_a_duplicate(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	/* four fills of one transaction: one key, four events */
	text(f, 0, 1, "allFills",
	     "{\"type\":\"allFills\",\"seq\":1,\"cursor\":\"1:100:3\",\"fills\":["
	     "[\"0xa\",{\"time\":100,\"txIndex\":3,\"tid\":1}],[\"0xb\",{\"time\":100,\"txIndex\":3,\"tid\":2}],"
	     "[\"0xc\",{\"time\":100,\"txIndex\":3,\"tid\":3}],[\"0xd\",{\"time\":100,\"txIndex\":3,\"tid\":4}]]}");
	/* a later message of the same transaction (split across messages) */
	text(f, 10, 1, "allFills",
	     "{\"type\":\"allFills\",\"seq\":2,\"cursor\":\"1:100:3\",\"fills\":["
	     "[\"0xe\",{\"time\":100,\"txIndex\":3,\"tid\":5}]]}");
	inspect_finish(f->in);
	assert_int_equal(chan(f, "allFills")->events, 5);
	assert_int_equal(chan(f, "allFills")->shared_key_events, 4);
	assert_int_equal(chan(f, "allFills")->dup_events, 0);
	assert_int_equal(f->in->count[F_DUP_EVENT], 0);
	assert_int_equal(inspect_classes(f->in), 0);
	inspect_free(f->in);
}

static void
test_inspect__same_event_again_is_a_duplicate(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	text(f, 0, 1, "allFills",
	     "{\"type\":\"allFills\",\"seq\":1,\"fills\":["
	     "[\"0xa\",{\"time\":100,\"txIndex\":3,\"tid\":1}],[\"0xb\",{\"time\":100,\"txIndex\":3,\"tid\":2}]]}");
	text(f, 10, 1, "allFills",
	     "{\"type\":\"allFills\",\"seq\":2,\"fills\":["
	     "[\"0xb\",{\"time\":100,\"txIndex\":3,\"tid\":2}],[\"0xc\",{\"time\":101,\"txIndex\":0,\"tid\":3}]]}");
	inspect_finish(f->in);
	assert_int_equal(chan(f, "allFills")->dup_events, 1);
	assert_int_equal(chan(f, "allFills")->overlap_events, 0);
	assert_int_equal(f->in->count[F_DUP_EVENT], 1);
	assert_true(inspect_classes(f->in) & INSPECT_DUPS);
	assert_int_equal(f->in->findings[0].recno, 2);
	assert_non_null(strstr(f->in->findings[0].msg, "first at #1"));
	inspect_free(f->in);
}

static void
test_inspect__ledger_key_includes_the_role(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);
	const char *ch = "userNonFundingLedgerEvents";

	/* one transfer seen from both sides: two keys (time, txIndex, role), two events */
	text(f, 0, 1, ch,
	     "{\"type\":\"userNonFundingLedgerEvents\",\"seq\":1,\"events\":["
	     "{\"time\":100,\"txIndex\":1,\"role\":\"sender\",\"usdc\":\"5\"},"
	     "{\"time\":100,\"txIndex\":1,\"role\":\"receiver\",\"usdc\":\"5\"}]}");
	assert_int_equal(chan(f, ch)->events, 2);
	assert_int_equal(chan(f, ch)->dup_events, 0);
	assert_int_equal(chan(f, ch)->shared_key_events, 0);
	assert_int_equal(chan(f, ch)->late_events, 0);
	/* the same event with the same role again: a duplicate */
	text(f, 10, 1, ch,
	     "{\"type\":\"userNonFundingLedgerEvents\",\"seq\":2,\"events\":["
	     "{\"time\":100,\"txIndex\":1,\"role\":\"receiver\",\"usdc\":\"5\"}]}");
	assert_int_equal(chan(f, ch)->dup_events, 1);
	/* a different event with the full key of one seen: shares its key */
	text(f, 10, 1, ch,
	     "{\"type\":\"userNonFundingLedgerEvents\",\"seq\":3,\"events\":["
	     "{\"time\":100,\"txIndex\":1,\"role\":\"sender\",\"usdc\":\"7\"}]}");
	assert_int_equal(chan(f, ch)->dup_events, 1);
	assert_int_equal(chan(f, ch)->shared_key_events, 1);
	assert_int_equal(chan(f, ch)->late_events, 0);
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_DUP_EVENT], 1);
	inspect_free(f->in);
}

static void
test_inspect__completed_trades_key_on_close_time(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);
	const char *ch = "allCompletedTrades";

	/* ordered by closeTime; their open times are not */
	text(f, 0, 1, ch,
	     "{\"type\":\"allCompletedTrades\",\"seq\":1,\"trades\":["
	     "{\"time\":150,\"closeTime\":200,\"txIndex\":0,\"tid\":1},"
	     "{\"time\":100,\"closeTime\":201,\"txIndex\":0,\"tid\":2}]}");
	assert_int_equal(chan(f, ch)->late_events, 0);
	/* another trade closed by the same transaction; then the first one again */
	text(f, 10, 1, ch,
	     "{\"type\":\"allCompletedTrades\",\"seq\":2,\"trades\":["
	     "{\"time\":120,\"closeTime\":201,\"txIndex\":0,\"tid\":3},"
	     "{\"time\":150,\"closeTime\":200,\"txIndex\":0,\"tid\":1}]}");
	assert_int_equal(chan(f, ch)->events, 4);
	assert_int_equal(chan(f, ch)->shared_key_events, 1);
	assert_int_equal(chan(f, ch)->dup_events, 1);
	assert_int_equal(chan(f, ch)->late_events, 0);
	inspect_finish(f->in);
	inspect_free(f->in);
}

static void
test_inspect__replay_live_overlap_is_counted_apart(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	text(f, 0, 1, "", "{\"type\":\"connected\",\"sessionId\":\"s\"}");
	text(f, 10, 1, "allFills",
	     "{\"type\":\"allFills\",\"seq\":1,\"fills\":[{\"time\":100,\"txIndex\":0,\"tid\":1}]}");
	put(f, 10, 1, JOURNAL_IN, JOURNAL_CLOSE, NULL, "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}");
	put(f, 100, 2, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	text(f, 10, 2, "", "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	/* the replay starts at an older cursor: it repeats tid 1 */
	text(f, 10, 2, "allFills",
	     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,"
	     "\"cursor\":\"1:101:0\",\"data\":[{\"time\":100,\"txIndex\":0,\"tid\":1},{\"time\":101,\"txIndex\":0,\"tid\":2}]}");
	text(f, 10, 2, "allFills",
	     "{\"type\":\"allFills\",\"seq\":1,\"fills\":[{\"time\":102,\"txIndex\":0,\"tid\":3}]}");
	inspect_finish(f->in);
	assert_int_equal(chan(f, "allFills")->overlap_events, 1);
	assert_int_equal(chan(f, "allFills")->dup_events, 0);
	assert_int_equal(f->in->count[F_OVERLAP], 1);
	assert_int_equal(f->in->count[F_DUP_EVENT], 0);
	/* the downtime was covered by a complete replay without hasGap */
	assert_int_equal(f->in->count[F_DOWNTIME], 0);
	assert_int_equal(f->in->count[F_REPLAY_INCOMPLETE], 0);
	assert_int_equal(f->in->conns[0].downtime_after_ns, 100 * MS);
	assert_int_equal(inspect_classes(f->in), INSPECT_OVERLAP | INSPECT_DISCONNECTS);
	inspect_free(f->in);
}

static void
test_inspect__seq_rules(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	text(f, 0, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	text(f, 1, 1, "userFills", "{\"type\":\"userFills\",\"seq\":1,\"fills\":[]}"); /* own seq */
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":2,\"fills\":[]}");
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":5,\"fills\":[]}"); /* 3, 4 missing */
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":4,\"fills\":[]}"); /* back */
	text(f, 1, 2, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}"); /* new conn: ok */
	text(f, 1, 3, "allFills", "{\"type\":\"allFills\",\"seq\":3,\"fills\":[]}"); /* starts at 3 */
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_SEQ_GAP], 1);
	assert_int_equal(f->in->count[F_SEQ_BACK], 1);
	assert_int_equal(f->in->count[F_SEQ_START], 1);
	for (int i = 0; i < f->in->nfindings; i++) {
		const struct finding *x = &f->in->findings[i];

		if (x->type == F_SEQ_GAP) {
			assert_int_equal(x->recno, 4);
			assert_int_equal(x->recno_before, 3);
			assert_non_null(strstr(x->msg, "2 missing (seq 3..4)"));
			assert_int_equal(x->missing, 2);
		}
		if (x->type == F_SEQ_START)
			assert_int_equal(x->missing, 2);
	}
	/* what was lost, as numbers: 2 by the gap, 2 before conn 3's first message */
	assert_int_equal(chan(f, "allFills")->seq_missing, 4);
	assert_int_equal(chan(f, "userFills")->seq_missing, 0);
	assert_int_equal(f->in->seq_missing, 4);
	inspect_free(f->in);
}

/* The sequence rules a feed declared as data may have besides consecutive numbers: a
 * first/last range (Binance diff-depth "U"/"u") and a link to the previous message (OKX
 * "prevSeqId"). The rules read the numbers from the payload; the messages are hydromancer
 * data messages, so that classification gives a channel. */
static int64_t
field_int(const struct inspect_rec *r, const char *key)
{
	char k[16], buf[256];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	snprintf(buf, sizeof(buf), "%.*s", (int)r->len, (const char *)r->payload);
	p = strstr(buf, k);
	return p ? strtoll(p + strlen(k), NULL, 10) : -1;
}

static int
range_seq(void *st, const struct inspect_rec *r, const struct feed_msg *m, struct feed_seq *s)
{
	s->first = field_int(r, "U");
	s->last = field_int(r, "u");
	s->prev = -1;
	return s->first >= 0;
}

static int
link_seq(void *st, const struct inspect_rec *r, const struct feed_msg *m, struct feed_seq *s)
{
	s->first = s->last = field_int(r, "id");
	s->prev = field_int(r, "prev");
	return s->first >= 0;
}

static void
test_inspect__seq_range_and_link_rules(void **state)
{
	static struct feed_inspect_ops ops;
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	/* a range, going on across connections, starting anywhere */
	ops = hydromancer_inspect_ops;
	ops.seq = range_seq;
	ops.seq_first = -1;
	ops.seq_per_conn = 0;
	f->in->ops = &ops;
	text(f, 0, 1, "depth", "{\"type\":\"depth\",\"seq\":0,\"U\":10,\"u\":15}");
	text(f, 1, 1, "depth", "{\"type\":\"depth\",\"seq\":0,\"U\":16,\"u\":20}");
	text(f, 1, 1, "depth", "{\"type\":\"depth\",\"seq\":0,\"U\":25,\"u\":30}"); /* 21..24 */
	text(f, 1, 1, "depth", "{\"type\":\"depth\",\"seq\":0,\"U\":28,\"u\":31}"); /* back */
	text(f, 1, 2, "depth", "{\"type\":\"depth\",\"seq\":0,\"U\":32,\"u\":35}"); /* goes on */
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_SEQ_START], 0);
	assert_int_equal(f->in->count[F_SEQ_GAP], 1);
	assert_int_equal(f->in->count[F_SEQ_BACK], 1);
	assert_int_equal(f->in->seq_missing, 4);
	for (int i = 0; i < f->in->nfindings; i++)
		if (f->in->findings[i].type == F_SEQ_GAP)
			assert_non_null(strstr(f->in->findings[i].msg, "4 missing (seq 21..24)"));
	inspect_free(f->in);

	/* a link: ids need not be consecutive; a broken link is at least one message lost */
	f = fx_new(feed_find("hydromancer"), 0);
	ops.seq = link_seq;
	f->in->ops = &ops;
	text(f, 0, 1, "books", "{\"type\":\"books\",\"seq\":0,\"id\":100,\"prev\":90}");
	text(f, 1, 1, "books", "{\"type\":\"books\",\"seq\":0,\"id\":105,\"prev\":100}");
	text(f, 1, 1, "books", "{\"type\":\"books\",\"seq\":0,\"id\":120,\"prev\":110}"); /* lost */
	text(f, 1, 1, "books", "{\"type\":\"books\",\"seq\":0,\"id\":125,\"prev\":118}"); /* back */
	text(f, 1, 1, "books", "{\"type\":\"books\",\"seq\":0,\"id\":130,\"prev\":125}");
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_SEQ_START], 0);
	assert_int_equal(f->in->count[F_SEQ_GAP], 1);
	assert_int_equal(f->in->count[F_SEQ_BACK], 1);
	assert_int_equal(f->in->seq_missing, 1);
	inspect_free(f->in);
}

/* An event of the newest transaction that follows one of an older transaction shares its
 * dedup key with the newest one's events: not "older than one already seen". */
static void
test_inspect__newest_key_after_an_older_one_is_shared(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	text(f, 0, 1, "allFills",
	     "{\"type\":\"allFills\",\"seq\":1,\"fills\":["
	     "[\"0xa\",{\"time\":200,\"txIndex\":3,\"tid\":1}],"
	     "[\"0xb\",{\"time\":100,\"txIndex\":0,\"tid\":2}],"
	     "[\"0xc\",{\"time\":200,\"txIndex\":3,\"tid\":3}]]}");
	inspect_finish(f->in);
	assert_int_equal(chan(f, "allFills")->events, 3);
	assert_int_equal(chan(f, "allFills")->late_events, 1); /* tid 2 */
	assert_int_equal(chan(f, "allFills")->shared_key_events, 1); /* tid 3 */
	assert_int_equal(chan(f, "allFills")->dup_events, 0);
	inspect_free(f->in);
}

static void
test_inspect__replay_has_gap_and_missing_chunks(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	text(f, 0, 1, "", "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	text(f, 1, 1, "allFills",
	     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":1,"
	     "\"hasGap\":true,\"count\":0,\"data\":[]}");
	text(f, 1, 2, "", "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	text(f, 1, 2, "allFills",
	     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":3,\"data\":[]}");
	text(f, 1, 2, "allFills",
	     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":3,\"totalChunks\":3,\"data\":[]}");
	text(f, 1, 3, "", "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	text(f, 1, 3, "allFills",
	     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,\"totalChunks\":2,\"data\":[]}");
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_REPLAY_HASGAP], 1);
	/* conn 2 skipped chunk 2; conn 3 never got chunk 2 */
	assert_int_equal(f->in->count[F_REPLAY_INCOMPLETE], 2);
	assert_int_equal(f->in->count[F_DOWNTIME], 2); /* conns 2 and 3 */
	assert_true(inspect_classes(f->in) & INSPECT_GAPS);
	inspect_free(f->in);
}

static void
test_inspect__stall_and_exact_duplicate_frame(void **state)
{
	struct fx *f = fx_new((&feed_raw), 1000);

	text(f, 0, 1, NULL, "{\"a\":1}");
	text(f, 100, 1, NULL, "{\"a\":2}");
	text(f, 1500, 1, NULL, "{\"a\":3}"); /* stall */
	text(f, 100, 1, NULL, "{\"a\":3}"); /* exact duplicate */
	text(f, 900, 1, NULL, "not json"); /* raw: counted, not a finding class */
	text(f, 5000, 2, NULL, "{\"a\":3}"); /* other connection: neither stall nor duplicate */
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_STALL], 1);
	assert_int_equal(f->in->nstalls, 1);
	assert_int_equal(f->in->stalls[0].dur_ns, 1500 * MS);
	assert_int_equal(f->in->stalls[0].recno, 3);
	assert_int_equal(f->in->count[F_DUP_FRAME], 1);
	assert_int_equal(f->in->not_json, 1);
	assert_int_equal(inspect_classes(f->in), INSPECT_GAPS | INSPECT_DUPS);
	inspect_free(f->in);
}

static void
test_inspect__not_json_is_counted_for_known_feeds(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	text(f, 0, 1, NULL, "<html>");
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[{\"time\":1}"); /* truncated */
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	inspect_finish(f->in);
	assert_int_equal(f->in->not_json, 2);
	assert_int_equal(f->in->count[F_NOT_JSON], 2);
	assert_int_equal(inspect_classes(f->in), INSPECT_MALFORMED);
	inspect_free(f->in);
}

static void
test_inspect__malformed_events_array_is_a_not_json_finding(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);
	struct text_buf b = { 0 };

	text(f, 0, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[{\"time\":1,\"txIndex\":0}]}");
	/* brackets balance, so the message is classified; its events array is not JSON */
	text(f, 7, 1, "allFills",
	     "{\"type\":\"allFills\",\"seq\":2,\"fills\":[{\"time\":2,\"txIndex\":0,}]}");
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_NOT_JSON], 1);
	assert_int_equal(f->in->not_json, 1); /* records.not_json counts it too */
	assert_int_equal(chan(f, "allFills")->not_json, 1);
	assert_int_equal(f->in->nfindings, 1);
	assert_int_equal(f->in->findings[0].type, F_NOT_JSON);
	assert_int_equal(f->in->findings[0].recno, 2);
	assert_int_equal(f->in->findings[0].ns, T0 + 7 * MS);
	assert_string_equal(f->in->findings[0].channel, "allFills");
	assert_int_equal(inspect_classes(f->in), INSPECT_MALFORMED);
	inspect_report_json(f->in, &b);
	text_buf_add(&b, "", 1);
	assert_non_null(strstr(b.p, "\"not_json\": 1,"));
	text_buf_free(&b);
	inspect_free(f->in);
}

static void
test_inspect__lasersell_rules(void **state)
{
	struct fx *f = fx_new(feed_find("lasersell"), 0);

	put(f, 0, 1, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	text(f, 10, 1, NULL,
	     "{\"type\":\"hello_ok\",\"session_id\":1,\"server_time_ms\":1,"
	     "\"limits\":{\"hi_capacity\":1,\"pnl_flush_ms\":500,\"max_positions_per_session\":1}}");
	text(f, 10, 1, "position_opened", "{\"type\":\"position_opened\",\"position_id\":1}");
	text(f, 10, 1, "position_opened", "{\"type\":\"position_opened\",\"position_id\":2}");
	text(f, 500, 1, "pnl_update", "{\"type\":\"pnl_update\",\"position_id\":1,\"server_time_ms\":1}");
	text(f, 500, 1, "pnl_update", "{\"type\":\"pnl_update\",\"position_id\":1,\"server_time_ms\":2}");
	text(f, 1200, 1, "pnl_update",
	     "{\"type\":\"pnl_update\",\"position_id\":1,\"server_time_ms\":3}"); /* late */
	text(f, 10, 1, "pnl_update",
	     "{\"type\":\"pnl_update\",\"position_id\":7,\"server_time_ms\":4}"); /* unknown */
	put(f, 10, 1, JOURNAL_OUT, JOURNAL_TEXT, NULL, "{\"type\":\"ping\",\"client_time_ms\":5}");
	text(f, 30, 1, NULL, "{\"type\":\"pong\",\"server_time_ms\":6}");
	put(f, 10, 1, JOURNAL_OUT, JOURNAL_PING, NULL, "");
	put(f, 20, 1, JOURNAL_IN, JOURNAL_PONG, NULL, "");
	text(f, 10, 1, "position_closed", "{\"type\":\"position_closed\",\"position_id\":1}");
	text(f, 10, 1, "pnl_update",
	     "{\"type\":\"pnl_update\",\"position_id\":1,\"server_time_ms\":5}"); /* closed */
	put(f, 10, 1, JOURNAL_OUT, JOURNAL_TEXT, NULL, "{\"type\":\"ping\",\"client_time_ms\":9}");
	put(f, 10, 1, JOURNAL_IN, JOURNAL_CLOSE, NULL, "{\"code\":1000,\"reason\":\"\",\"by\":\"client\"}");
	inspect_finish(f->in);
	assert_int_equal(ls(f)->pnl_flush_ms, 500);
	assert_int_equal(f->in->rtt.count, 2);
	assert_int_equal(f->in->rtt.max, 30 * MS);
	assert_int_equal(f->in->rtt.min, 20 * MS);
	assert_int_equal(f->in->count[F_PING_UNANSWERED], 1);
	assert_int_equal(f->in->count[F_PNL_LATE], 1);
	assert_int_equal(f->in->count[F_POSITION_UNKNOWN], 2);
	assert_int_equal(f->in->count[F_POSITION_OPEN], 1); /* position 2 */
	assert_int_equal(f->in->count[F_DISCONNECT], 0); /* closed by the client */
	assert_int_equal(ls(f)->pos_opened, 2);
	assert_int_equal(ls(f)->pos_closed, 1);
	inspect_free(f->in);
}

static void
test_inspect__heartbeats_do_not_hide_a_stall(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 5000);

	text(f, 0, 1, "", "{\"type\":\"connected\",\"sessionId\":\"s\"}");
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	for (int i = 0; i < 4; i++)
		text(f, 3000, 1, "", "{\"type\":\"ping\"}"); /* the server is alive, the feed quiet */
	text(f, 2000, 1, "allFills", "{\"type\":\"allFills\",\"seq\":2,\"fills\":[]}");
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_STALL], 1);
	assert_int_equal(f->in->stalls[0].dur_ns, 14000 * MS);
	assert_int_equal(f->in->stalls[0].recno_before, 2);
	inspect_free(f->in);
}

static void
test_inspect__channel_selection_keeps_the_sessions(void **state)
{
	struct inspect_options o;
	struct inspect *in;
	struct fx *f = fx_new(feed_find("hydromancer"), 0);

	/* the same connections seen through --channel allFills: the second connection is a new
	 * session, so its downtime is not covered, whatever channel is selected */
	inspect_free(f->in);
	memset(&o, 0, sizeof(o));
	o.feed = feed_find("hydromancer");
	o.channel = "allFills";
	assert_int_equal(inspect_new(&o, &in), 0);
	f->in = in;
	put(f, 0, 1, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	text(f, 1, 1, "", "{\"type\":\"connected\",\"sessionId\":\"s\"}");
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	put(f, 10, 1, JOURNAL_IN, JOURNAL_CLOSE, NULL, "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}");
	put(f, 500, 2, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	text(f, 1, 2, "", "{\"type\":\"connected\",\"sessionId\":\"t\"}");
	text(f, 1, 2, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	inspect_finish(in);
	assert_int_equal(in->count[F_DOWNTIME], 1);
	assert_string_equal(in->conns[1].session, "connected");
	inspect_free(in);
}

static void
test_inspect__closed_positions_free_their_slots(void **state)
{
	struct fx *f = fx_new(feed_find("lasersell"), 0);
	char buf[128];

	/* far more positions over a day than the table holds, never many open at once */
	for (int i = 1; i <= 3 * INSPECT_MAX_POSITIONS; i++) {
		snprintf(buf, sizeof(buf), "{\"type\":\"position_opened\",\"position_id\":%d}", i);
		text(f, 1, 1, "position_opened", buf);
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"pnl_update\",\"position_id\":%d,\"server_time_ms\":1}", i);
		text(f, 1, 1, "pnl_update", buf);
		snprintf(buf, sizeof(buf), "{\"type\":\"position_closed\",\"position_id\":%d}", i);
		text(f, 1, 1, "position_closed", buf);
	}
	/* and then more open at once than it holds: the rest is counted, not misreported */
	for (int i = 0; i < INSPECT_MAX_POSITIONS; i++) {
		snprintf(buf, sizeof(buf), "{\"type\":\"position_opened\",\"position_id\":%d}", 100000 + i);
		text(f, 1, 1, "position_opened", buf);
	}
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_POSITION_UNKNOWN], 0);
	assert_int_equal(ls(f)->pos_closed, 3 * INSPECT_MAX_POSITIONS);
	assert_int_equal(ls(f)->pos_dropped, INSPECT_MAX_POSITIONS - INSPECT_MAX_POSITIONS * 3 / 4);
	assert_int_equal(f->in->count[F_POSITION_OPEN], INSPECT_MAX_POSITIONS * 3 / 4);
	inspect_free(f->in);
}

static void
test_inspect__lasersell_backoff(void **state)
{
	struct fx *f = fx_new(feed_find("lasersell"), 0);

	put(f, 0, 1, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	put(f, 10, 1, JOURNAL_IN, JOURNAL_CLOSE, NULL, "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}");
	put(f, 0, 1, JOURNAL_IN, JOURNAL_ERROR, NULL,
	    "{\"event\":\"reconnect\",\"attempt\":1,\"delay_ms\":100}");
	put(f, 100, 2, JOURNAL_IN, JOURNAL_ERROR, NULL,
	    "{\"error\":\"refused\",\"phase\":\"connect\",\"attempt\":1}");
	put(f, 0, 2, JOURNAL_IN, JOURNAL_ERROR, NULL,
	    "{\"event\":\"reconnect\",\"attempt\":2,\"delay_ms\":200}");
	put(f, 200, 3, JOURNAL_IN, JOURNAL_ERROR, NULL,
	    "{\"error\":\"refused\",\"phase\":\"connect\",\"attempt\":2}");
	put(f, 0, 3, JOURNAL_IN, JOURNAL_ERROR, NULL,
	    "{\"event\":\"reconnect\",\"attempt\":3,\"delay_ms\":100}");
	put(f, 100, 4, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	inspect_finish(f->in);
	assert_int_equal(f->in->nrcs, 3);
	assert_int_equal(f->in->rcs[0].expected_ms, 100);
	assert_int_equal(f->in->rcs[0].off, 0);
	assert_int_equal(f->in->rcs[1].expected_ms, 200);
	assert_int_equal(f->in->rcs[1].off, 0);
	assert_int_equal(f->in->rcs[2].expected_ms, 400); /* attempt 3 waited 100 ms only */
	assert_int_equal(f->in->rcs[2].off, 1);
	assert_int_equal(f->in->count[F_BACKOFF], 1);
	assert_int_equal(f->in->count[F_CONNECT_FAILED], 2);
	assert_int_equal(f->in->count[F_DISCONNECT], 1);
	assert_int_equal(f->in->conns[0].downtime_after_ns, 400 * MS);
	inspect_free(f->in);
}

static void
test_inspect__downtime_after_many_attempts(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);
	char buf[128];
	uint32_t conn = 1;
	const int attempts = INSPECT_MAX_CONNS + 100; /* an outage of ~37 min at 2 s backoff */

	put(f, 0, conn, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	text(f, 1, conn, "", "{\"type\":\"connected\",\"sessionId\":\"s\"}");
	text(f, 1, conn, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	put(f, 10, conn, JOURNAL_IN, JOURNAL_CLOSE, NULL,
	    "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}");
	for (int i = 1; i <= attempts; i++) {
		snprintf(buf, sizeof(buf), "{\"error\":\"refused\",\"phase\":\"connect\",\"attempt\":%d}", i);
		put(f, 2000, ++conn, JOURNAL_IN, JOURNAL_ERROR, NULL, buf);
	}
	/* the server forgot the session: the outage is not covered */
	put(f, 2000, ++conn, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	text(f, 1, conn, "", "{\"type\":\"connected\",\"sessionId\":\"t\"}");
	text(f, 1, conn, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	put(f, 10, conn, JOURNAL_IN, JOURNAL_CLOSE, NULL,
	    "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}");
	/* a second, short outage later, resumed with a replay that has hasGap */
	put(f, 500, ++conn, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
	text(f, 1, conn, "", "{\"type\":\"reconnected\",\"sessionId\":\"t\"}");
	text(f, 1, conn, "allFills",
	     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,"
	     "\"totalChunks\":1,\"hasGap\":true,\"data\":[]}");
	inspect_finish(f->in);
	assert_int_equal(f->in->conns_total, attempts + 3);
	assert_int_equal(f->in->nconns, INSPECT_MAX_CONNS);
	assert_int_equal(f->in->count[F_CONNECT_FAILED], attempts);
	assert_int_equal(f->in->count[F_DOWNTIME], 2);
	for (int i = 0; i < f->in->nfindings; i++) {
		const struct finding *x = &f->in->findings[i];

		if (x->type != F_DOWNTIME)
			continue;
		if (x->conn == (uint32_t)attempts + 2) {
			assert_int_equal(x->dur_ns, (int64_t)(attempts + 1) * 2000 * MS);
			assert_int_equal(x->recno_before, 4);
		} else {
			assert_int_equal(x->conn, attempts + 3);
			assert_int_equal(x->dur_ns, 500 * MS);
		}
	}
	/* the first connection is kept in detail: its downtime is filled in */
	assert_int_equal(f->in->conns[0].downtime_after_ns, (int64_t)(attempts + 1) * 2000 * MS);
	inspect_free(f->in);
}

/* lasersell, the selection starting mid-session: events for positions opened before it are
 * cut, not unknown; after a new connection the server announces open positions again, so an
 * unknown one is a finding again */
static void
test_inspect__from_mid_session_cuts_open_positions(void **state)
{
	for (int cut = 0; cut <= 1; cut++) {
		struct fx *f =
			cut ? fx_new_cut(feed_find("lasersell"), 1, 0) : fx_new(feed_find("lasersell"), 0);

		text(f, 0, 1, "pnl_update",
		     "{\"type\":\"pnl_update\",\"position_id\":1,\"server_time_ms\":1}");
		text(f, 10, 1, "position_closed", "{\"type\":\"position_closed\",\"position_id\":1}");
		put(f, 10, 1, JOURNAL_IN, JOURNAL_CLOSE, NULL,
		    "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}");
		put(f, 0, 1, JOURNAL_IN, JOURNAL_ERROR, NULL,
		    "{\"event\":\"reconnect\",\"attempt\":1,\"delay_ms\":100}");
		put(f, 100, 2, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
		text(f, 10, 2, "position_opened", "{\"type\":\"position_opened\",\"position_id\":2}");
		text(f, 10, 2, "pnl_update",
		     "{\"type\":\"pnl_update\",\"position_id\":2,\"server_time_ms\":2}");
		text(f, 10, 2, "pnl_update",
		     "{\"type\":\"pnl_update\",\"position_id\":9,\"server_time_ms\":3}");
		text(f, 10, 2, "position_closed", "{\"type\":\"position_closed\",\"position_id\":2}");
		inspect_finish(f->in);
		/* without the cut: #1 and #2 are for an unknown position; with it only #8 is */
		assert_int_equal(f->in->count[F_POSITION_UNKNOWN], cut ? 1 : 3);
		assert_int_equal(f->in->cut_position_events, cut ? 2 : 0);
		assert_int_equal(f->in->count[F_BACKOFF], 0);
		inspect_free(f->in);
	}
}

/* lasersell, the selection ending (--to) with positions open and a ping in flight */
static void
test_inspect__to_cuts_open_positions_and_pings(void **state)
{
	for (int cut = 0; cut <= 1; cut++) {
		struct fx *f =
			cut ? fx_new_cut(feed_find("lasersell"), 0, 1) : fx_new(feed_find("lasersell"), 0);
		struct text_buf b = { 0 };

		put(f, 0, 1, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
		text(f, 10, 1, "position_opened", "{\"type\":\"position_opened\",\"position_id\":1}");
		text(f, 10, 1, "position_opened", "{\"type\":\"position_opened\",\"position_id\":2}");
		text(f, 10, 1, "position_closed", "{\"type\":\"position_closed\",\"position_id\":1}");
		put(f, 10, 1, JOURNAL_OUT, JOURNAL_TEXT, NULL, "{\"type\":\"ping\",\"client_time_ms\":5}");
		inspect_finish(f->in);
		assert_int_equal(f->in->count[F_POSITION_OPEN], cut ? 0 : 1);
		assert_int_equal(f->in->cut_positions_open, cut ? 1 : 0);
		assert_int_equal(f->in->count[F_PING_UNANSWERED], cut ? 0 : 1);
		assert_int_equal(f->in->cut_pings, cut ? 1 : 0);
		assert_int_equal(inspect_classes(f->in), cut ? 0 : INSPECT_POSITIONS | INSPECT_TIMING);
		inspect_report_text(f->in, &b);
		inspect_report_json(f->in, &b);
		text_buf_add(&b, "", 1);
		assert_true(!cut ||
			    strstr(b.p,
				   "cut          by the selection, not findings: 1 position open at its end,"
				   " 1 ping at its end\n"));
		assert_true(!cut || strstr(b.p, "\"positions_open\": 1,"));
		text_buf_free(&b);
		inspect_free(f->in);
	}
}

/* hydromancer, a --to that falls within a complete replay: neither the replay nor the
 * downtime it covers is a finding; a --from within one: its first chunks are not missing */
static void
test_inspect__selection_cuts_a_replay(void **state)
{
	for (int cut = 0; cut <= 1; cut++) {
		struct fx *f = cut ? fx_new_cut(feed_find("hydromancer"), 0, 1)
				   : fx_new(feed_find("hydromancer"), 0);

		text(f, 0, 1, "", "{\"type\":\"connected\",\"sessionId\":\"s\"}");
		text(f, 10, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
		put(f, 10, 1, JOURNAL_IN, JOURNAL_CLOSE, NULL,
		    "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}");
		put(f, 100, 2, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
		text(f, 10, 2, "", "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
		text(f, 10, 2, "allFills",
		     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":1,"
		     "\"totalChunks\":3,\"data\":[{\"time\":100,\"txIndex\":0}]}");
		inspect_finish(f->in);
		assert_int_equal(f->in->count[F_REPLAY_INCOMPLETE], cut ? 0 : 1);
		assert_int_equal(f->in->count[F_DOWNTIME], cut ? 0 : 1);
		assert_int_equal(f->in->cut_replays, cut ? 1 : 0);
		assert_int_equal(f->in->cut_downtime, cut ? 1 : 0);
		assert_int_equal(f->in->conns[0].downtime_after_ns, 100 * MS);
		inspect_free(f->in);
	}
	for (int cut = 0; cut <= 1; cut++) {
		struct fx *f = cut ? fx_new_cut(feed_find("hydromancer"), 1, 0)
				   : fx_new(feed_find("hydromancer"), 0);

		text(f, 0, 2, "allFills",
		     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":2,"
		     "\"totalChunks\":3,\"data\":[{\"time\":100,\"txIndex\":0}]}");
		text(f, 10, 2, "allFills",
		     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":3,"
		     "\"totalChunks\":3,\"data\":[{\"time\":101,\"txIndex\":0}]}");
		text(f, 10, 2, "allFills", "{\"type\":\"allFills\",\"seq\":5,\"fills\":[]}");
		inspect_finish(f->in);
		assert_int_equal(f->in->count[F_REPLAY_INCOMPLETE], cut ? 0 : 1);
		assert_int_equal(f->in->count[F_SEQ_START], cut ? 0 : 1);
		assert_int_equal(f->in->cut_replays, cut ? 1 : 0);
		inspect_free(f->in);
	}
}

/* lasersell, --from among failed attempts: how many came before is unknown, so is the
 * documented delay of the next one (unless the recorder said which attempt it is) */
static void
test_inspect__from_among_attempts_does_not_judge_the_backoff(void **state)
{
	for (int cut = 0; cut <= 1; cut++) {
		struct fx *f =
			cut ? fx_new_cut(feed_find("lasersell"), 1, 0) : fx_new(feed_find("lasersell"), 0);

		put(f, 0, 7, JOURNAL_IN, JOURNAL_ERROR, NULL,
		    "{\"error\":\"refused\",\"phase\":\"connect\"}");
		put(f, 2000, 8, JOURNAL_IN, JOURNAL_ERROR, NULL,
		    "{\"error\":\"refused\",\"phase\":\"connect\"}");
		put(f, 2000, 9, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
		inspect_finish(f->in);
		assert_int_equal(f->in->count[F_BACKOFF], cut ? 0 : 2);
		assert_int_equal(f->in->cut_reconnects, cut ? 2 : 0);
		inspect_free(f->in);
	}
}

/* lasersell channels are message types: --channel pnl_update still follows the positions
 * opened and closed, and --channel position_opened does not take closes for missing */
static void
test_inspect__lasersell_channel_selection_follows_positions(void **state)
{
	const char *chans[] = { "pnl_update", "position_opened" };

	for (int i = 0; i < 2; i++) {
		struct inspect_options o;
		struct fx *f = fx_new(feed_find("lasersell"), 0);

		inspect_free(f->in);
		memset(&o, 0, sizeof(o));
		o.feed = feed_find("lasersell");
		o.channel = chans[i];
		assert_int_equal(inspect_new(&o, &f->in), 0);
		put(f, 0, 1, JOURNAL_IN, JOURNAL_OPEN, NULL, "{\"url\":\"ws://x\",\"status\":101}");
		text(f, 10, 1, "position_opened", "{\"type\":\"position_opened\",\"position_id\":1}");
		text(f, 10, 1, "position_opened", "{\"type\":\"position_opened\",\"position_id\":2}");
		text(f, 10, 1, "pnl_update",
		     "{\"type\":\"pnl_update\",\"position_id\":1,\"server_time_ms\":1}");
		text(f, 10, 1, "pnl_update",
		     "{\"type\":\"pnl_update\",\"position_id\":9,\"server_time_ms\":2}");
		text(f, 10, 1, "position_closed", "{\"type\":\"position_closed\",\"position_id\":1}");
		put(f, 10, 1, JOURNAL_IN, JOURNAL_CLOSE, NULL,
		    "{\"code\":1000,\"reason\":\"\",\"by\":\"client\"}");
		inspect_finish(f->in);
		if (i == 0) {
			/* position 9 was never opened; 1 was */
			assert_int_equal(f->in->count[F_POSITION_UNKNOWN], 1);
			assert_int_equal(f->in->count[F_POSITION_OPEN], 0); /* not in the selection */
		} else {
			/* position 2 was never closed; 1 was, on another channel */
			assert_int_equal(f->in->count[F_POSITION_UNKNOWN], 0);
			assert_int_equal(f->in->count[F_POSITION_OPEN], 1);
			assert_int_equal(ls(f)->pos_opened, 2);
		}
		inspect_free(f->in);
	}
}

static void
test_inspect__timeline_per_channel(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);
	struct text_buf b = { 0 };
	struct channel *a, *u;
	uint64_t sa = 0, su = 0, sum[INSPECT_TIMELINE] = { 0 };
	char buf[128];

	/* allFills every second for 100 s (the buckets widen to 2 s), userFills in the
	   second half only, with two events each */
	for (int i = 0; i < 100; i++) {
		snprintf(buf, sizeof(buf), "{\"type\":\"allFills\",\"seq\":%d,\"fills\":[]}", i + 1);
		text(f, i ? 1000 : 0, 1, "allFills", buf);
		if (i >= 50) {
			snprintf(buf, sizeof(buf),
				 "{\"type\":\"userFills\",\"seq\":%d,\"fills\":["
				 "{\"time\":%d,\"txIndex\":0},{\"time\":%d,\"txIndex\":1}]}",
				 i - 49, i, i);
			text(f, 0, 1, "userFills", buf);
		}
	}
	inspect_finish(f->in);
	a = chan(f, "allFills");
	u = chan(f, "userFills");
	assert_int_equal(f->in->tl_width, 2000 * MS);
	for (int i = 0; i < INSPECT_TIMELINE; i++) {
		sa += a->tl_msgs[i];
		su += u->tl_msgs[i];
		sum[i] = a->tl_msgs[i] + u->tl_msgs[i];
		assert_int_equal(sum[i], f->in->tl_msgs[i]);
		assert_int_equal(u->tl_events[i], f->in->tl_events[i]);
	}
	assert_int_equal(sa, 100);
	assert_int_equal(su, 50);
	assert_int_equal(a->tl_msgs[0], 2);
	assert_int_equal(u->tl_msgs[0], 0);
	assert_int_equal(u->tl_msgs[25], 2);
	assert_int_equal(u->tl_events[25], 4);
	inspect_report_text(f->in, &b);
	text_buf_add(&b, "", 1);
	assert_non_null(strstr(b.p, "allFills userFills"));
	b.len = 0;
	inspect_report_json(f->in, &b);
	text_buf_add(&b, "", 1);
	assert_non_null(strstr(
		b.p,
		"\"channels\": [\n      {\n        \"channel\": \"allFills\",\n        \"messages\": [\n          2,"));
	text_buf_free(&b);
	inspect_free(f->in);
}

static void
test_inspect__findings_are_bounded(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);
	char buf[128];

	for (int i = 0; i < 3 * INSPECT_KEEP_FINDINGS; i++) {
		snprintf(buf, sizeof(buf), "{\"type\":\"allFills\",\"seq\":%d,\"fills\":[]}", 1 + 2 * i);
		text(f, 1, 1, "allFills", buf);
	}
	inspect_finish(f->in);
	assert_int_equal(f->in->count[F_SEQ_GAP], 3 * INSPECT_KEEP_FINDINGS - 1);
	assert_int_equal(f->in->kept[F_SEQ_GAP], INSPECT_KEEP_FINDINGS);
	inspect_free(f->in);
}

static void
test_inspect__seen_window_is_bounded(void **state)
{
	struct inspect_seen *s = inspect_seen_new(64);
	uint64_t v;

	assert_non_null(s);
	for (uint64_t i = 1; i <= 64; i++)
		inspect_seen_put(s, i * 7919, i);
	assert_int_equal(inspect_seen_find(s, 7919, &v), 1);
	assert_int_equal(v, 1);
	for (uint64_t i = 65; i <= 64 * 3; i++)
		inspect_seen_put(s, i * 7919, i);
	assert_int_equal(inspect_seen_find(s, 7919, &v), 0); /* evicted */
	assert_int_equal(inspect_seen_find(s, 64 * 3 * 7919, &v), 1);
	assert_int_equal(inspect_seen_find(s, 0, &v), 0);
	inspect_seen_put(s, 0, 42); /* hash 0 is a valid hash */
	assert_int_equal(inspect_seen_find(s, 0, &v), 1);
	assert_int_equal(v, 42);
	inspect_seen_free(s);
	inspect_seen_free(NULL);
}

static void
test_inspect__histogram_quantiles(void **state)
{
	static struct hist h;

	memset(&h, 0, sizeof(h));
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	for (uint64_t i = 1; i <= 1000; i++)
		hist_add(&h, i * 1000000); /* 1..1000 ms */
	uint64_t p50 = hist_quantile(&h, 0.5), p99 = hist_quantile(&h, 0.99);
	assert_true(p50 > 470000000 && p50 < 530000000);
	assert_true(p99 > 930000000 && p99 <= 1000000000);
	assert_int_equal(hist_quantile(&h, 1), 1000000000);
	assert_int_equal(h.min, 1000000);
	hist_add(&h, 0);
	hist_add(&h, UINT64_MAX);
	assert_int_equal(h.max, UINT64_MAX);
}

static void
test_inspect__class_names(void **state)
{
	unsigned m;

	assert_int_equal(inspect_class_parse("gaps,dups", &m), 0);
	assert_int_equal(m, INSPECT_GAPS | INSPECT_DUPS);
	assert_int_equal(inspect_class_parse("any", &m), 0);
	assert_int_equal(m, INSPECT_ANY);
	assert_int_equal(inspect_class_parse("disconnects", &m), 0);
	assert_int_equal(m, INSPECT_DISCONNECTS);
	assert_int_equal(inspect_class_parse("gaps,nope", &m), -1);
	assert_int_equal(inspect_class_parse("", &m), -1);
	assert_string_equal(inspect_class_name(INSPECT_OVERLAP), "overlap");
}

static void
test_inspect__reports_render(void **state)
{
	struct fx *f = fx_new(feed_find("hydromancer"), 0);
	struct text_buf b = { 0 };

	text(f, 0, 1, "allFills", "{\"type\":\"allFills\",\"seq\":1,\"fills\":[]}");
	text(f, 1, 1, "allFills", "{\"type\":\"allFills\",\"seq\":3,\"fills\":[]}");
	inspect_finish(f->in);
	inspect_report_text(f->in, &b);
	text_buf_add(&b, "", 1);
	assert_non_null(strstr(b.p, "seq_gap"));
	assert_non_null(strstr(b.p, "#2"));
	b.len = 0;
	inspect_report_json(f->in, &b);
	text_buf_add(&b, "", 1);
	assert_non_null(strstr(b.p, "\"type\": \"seq_gap\""));
	assert_non_null(strstr(b.p, "\"clean\": false"));
	text_buf_free(&b);
	inspect_free(f->in);
}

/* --- merged journals: the recorders of the connections (META recorder.<conn>) --- */

static char *
tmp_journal(char *dir, size_t n)
{
	snprintf(dir, n, "%s/wstape-inspect-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	strncat(dir, "/j", n - strlen(dir) - 1);
	return dir;
}

static void
rm_journal(const char *path)
{
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "rm -rf '%.*s'", (int)(strrchr(path, '/') - path), path);
	assert_int_equal(system(cmd), 0);
}

static void
jput(struct journal *j, int64_t ms, uint32_t conn, int kind, const char *payload)
{
	struct journal_record r;
	char data[64];

	if (kind == JOURNAL_TEXT && !*payload) { /* frames that differ: not duplicates */
		snprintf(data, sizeof(data), "{\"t\":%" PRId64 ",\"conn\":%" PRIu32 "}", ms, conn);
		payload = data;
	}

	memset(&r, 0, sizeof(r));
	r.wall_ns = T0 + ms * MS;
	r.mono_ns = ms * MS;
	r.conn = conn;
	r.dir = JOURNAL_IN;
	r.kind = (uint8_t)kind;
	r.payload = (const uint8_t *)payload;
	r.payload_len = strlen(payload);
	assert_int_equal(journal_append(j, &r), 0);
}

/* Inspect the journal at path (raw feed: spans of 5 s or more); the text and JSON reports. */
static json_t *
inspect_path_conn(const char *path, const struct feed *feed, int conn_set, uint32_t conn,
		  struct text_buf *txt)
{
	struct journal *j;
	struct inspect *in;
	struct inspect_options o;
	struct text_buf b = { 0 };
	json_t *doc;

	memset(&o, 0, sizeof(o));
	o.feed = feed;
	o.conn_set = conn_set;
	o.conn = conn;
	assert_int_equal(journal_open(path, JOURNAL_RDONLY, NULL, &j, NULL), 0);
	assert_int_equal(inspect_new(&o, &in), 0);
	assert_int_equal(inspect_run(in, j), 0);
	inspect_report_text(in, txt);
	text_buf_add(txt, "", 1);
	inspect_report_json(in, &b);
	doc = json_loadb(b.p, b.len, 0, NULL);
	assert_non_null(doc);
	text_buf_free(&b);
	inspect_free(in);
	assert_int_equal(journal_close(j), 0);
	return doc;
}

static json_t *
inspect_path_feed(const char *path, const struct feed *feed, struct text_buf *txt)
{
	return inspect_path_conn(path, feed, 0, 0, txt);
}

static json_t *
inspect_path(const char *path, struct text_buf *txt)
{
	return inspect_path_feed(path, &feed_raw, txt);
}

#define OPEN_P "{\"url\":\"ws://x\",\"status\":101}"
#define CLOSE_P "{\"code\":1000,\"reason\":\"\",\"by\":\"client\"}"

/* Recorder a: conn 1 (0.1 s .. 10 s, closed), conn 3 (20.1 s .. 25 s). Recorder b: conn 2
 * (0.15 s .. 30 s, closed), conn 4 (40 s .. 45 s). a's spans: 10 s .. 20.1 s, filled by b's
 * conn 2 (101 messages), and 25 s .. 45 s, filled by conns 2 (50) and 4 (51); b's span
 * 30 s .. 40 s is filled by nobody. */
static void
test_inspect__recorders_of_a_merged_journal(void **state)
{
	char dir[300];
	const char *path = tmp_journal(dir, sizeof(dir));
	struct journal *j;
	struct text_buf b = { 0 };
	json_t *doc, *recs, *ra, *rb, *sp, *fill, *conns;
	size_t i;

	assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
	assert_int_equal(journal_meta_set(j, "recorder.1", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.2", "b"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.3", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.4", "b"), 0);
	for (int64_t t = 0; t <= 45000; t += 50) {
		if (t == 0)
			jput(j, t, 1, JOURNAL_OPEN, OPEN_P);
		if (t >= 100 && t <= 10000 && t % 100 == 0)
			jput(j, t, 1, JOURNAL_TEXT, "");
		if (t == 10000)
			jput(j, t, 1, JOURNAL_CLOSE, CLOSE_P);
		if (t == 50)
			jput(j, t, 2, JOURNAL_OPEN, OPEN_P);
		if (t >= 150 && t <= 29950 && t % 100 == 50)
			jput(j, t, 2, JOURNAL_TEXT, "");
		if (t == 30000)
			jput(j, t, 2, JOURNAL_CLOSE, CLOSE_P);
		if (t == 20000)
			jput(j, t, 3, JOURNAL_OPEN, OPEN_P);
		if (t >= 20100 && t <= 25000 && t % 100 == 0)
			jput(j, t, 3, JOURNAL_TEXT, "");
		if (t == 39950)
			jput(j, t, 4, JOURNAL_OPEN, OPEN_P);
		if (t >= 40000 && t % 100 == 0)
			jput(j, t, 4, JOURNAL_TEXT, "");
	}
	assert_int_equal(journal_close(j), 0);

	doc = inspect_path(path, &b);
	/* the text */
	assert_non_null(strstr(b.p, "\nrecorders (2; spans without a connection of 5.000s or more)\n"));
	assert_non_null(
		strstr(b.p, "  a: 2 connections (1, 3), 150 data messages, 2 spans without a connection\n"));
	assert_non_null(
		strstr(b.p, "  b: 2 connections (2, 4), 350 data messages, 1 span without a connection\n"));
	assert_non_null(strstr(b.p, "(10.100s): filled by b (conn 2: 101 messages)\n"));
	assert_non_null(
		strstr(b.p, "(20.000s): filled by b (conn 2: 50 messages), b (conn 4: 51 messages)\n"));
	assert_non_null(strstr(b.p, "(10.000s): not filled\n"));
	assert_non_null(strstr(b.p, "recorder_gap"));
	assert_non_null(strstr(b.p, "recorder b had no connection from "));
	assert_non_null(strstr(b.p, " conn  recorder first"));
	assert_non_null(strstr(b.p, "  verdict      gaps found\n  gaps         1: recorder_gap 1\n"));

	/* the JSON */
	conns = json_object_get(doc, "connections");
	assert_true(json_array_size(conns) >= 4);
	for (i = 0; i < json_array_size(conns); i++) {
		json_t *c = json_array_get(conns, i);
		json_int_t id = json_integer_value(json_object_get(c, "conn"));

		assert_string_equal(json_string_value(json_object_get(c, "recorder")), id % 2 ? "a" : "b");
	}
	recs = json_object_get(doc, "recorders");
	assert_int_equal(json_array_size(recs), 2);
	ra = json_array_get(recs, 0);
	rb = json_array_get(recs, 1);
	assert_string_equal(json_string_value(json_object_get(ra, "id")), "a");
	assert_int_equal(json_integer_value(json_object_get(ra, "messages")), 150);
	assert_int_equal(json_array_size(json_object_get(ra, "conns")), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ra, "conns"), 1)), 3);
	assert_int_equal(json_array_size(json_object_get(ra, "spans")), 2);
	sp = json_array_get(json_object_get(ra, "spans"), 0);
	assert_string_equal(json_string_value(json_object_get(sp, "from")), "2026-11-22T10:00:10.000000000Z");
	assert_string_equal(json_string_value(json_object_get(sp, "to")), "2026-11-22T10:00:20.100000000Z");
	fill = json_object_get(sp, "filled_by");
	assert_int_equal(json_array_size(fill), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fill, 0), "recorder")), "b");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fill, 0), "conn")), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fill, 0), "messages")), 101);
	sp = json_array_get(json_object_get(ra, "spans"), 1);
	fill = json_object_get(sp, "filled_by");
	assert_int_equal(json_array_size(fill), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fill, 1), "conn")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fill, 1), "messages")), 51);
	assert_string_equal(json_string_value(json_object_get(rb, "id")), "b");
	assert_int_equal(json_integer_value(json_object_get(rb, "messages")), 350);
	assert_int_equal(json_array_size(json_object_get(rb, "spans")), 1);
	sp = json_array_get(json_object_get(rb, "spans"), 0);
	assert_string_equal(json_string_value(json_object_get(sp, "from")), "2026-11-22T10:00:30.000000000Z");
	assert_string_equal(json_string_value(json_object_get(sp, "to")), "2026-11-22T10:00:40.000000000Z");
	assert_int_equal(json_array_size(json_object_get(sp, "filled_by")), 0);
	/* the span nobody filled is a finding of class gaps */
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(doc, "summary"), "counts"), "recorder_gap")),
			 1);
	{
		json_t *fs = json_object_get(doc, "findings");
		int found = 0;

		for (i = 0; i < json_array_size(fs); i++) {
			json_t *f = json_array_get(fs, i);

			if (strcmp(json_string_value(json_object_get(f, "type")), "recorder_gap"))
				continue;
			found++;
			assert_string_equal(json_string_value(json_object_get(f, "class")), "gaps");
			assert_int_equal(json_integer_value(json_object_get(f, "conn")), 4);
			assert_true(json_real_value(json_object_get(f, "duration_ms")) == 10000.0);
			assert_non_null(strstr(
				json_string_value(json_object_get(f, "message")),
				"recorder b had no connection from 2026-11-22T10:00:30.000000000Z to "
				"2026-11-22T10:00:40.000000000Z (10.000s) and no other recorder filled it"));
		}
		assert_int_equal(found, 1);
	}
	json_decref(doc);
	text_buf_free(&b);
	rm_journal(path);
}

/* One recorder (its own journal: META recorder): each connection says so, no section; no
 * META: nothing new. */
static void
test_inspect__one_recorder_has_no_section(void **state)
{
	char dir[300];
	const char *path = tmp_journal(dir, sizeof(dir));
	struct journal *j;
	struct text_buf b = { 0 };
	json_t *doc;

	for (int with_meta = 1; with_meta >= 0; with_meta--) {
		assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
		if (with_meta)
			assert_int_equal(journal_meta_set(j, "recorder", "host-1.eu"), 0);
		jput(j, 0, 1, JOURNAL_OPEN, OPEN_P);
		jput(j, 100, 1, JOURNAL_TEXT, "{}");
		jput(j, 200, 1, JOURNAL_CLOSE, CLOSE_P);
		jput(j, 20000, 2, JOURNAL_OPEN, OPEN_P);
		jput(j, 20100, 2, JOURNAL_TEXT, "{}");
		assert_int_equal(journal_close(j), 0);
		b.len = 0;
		doc = inspect_path(path, &b);
		assert_null(strstr(b.p, "\nrecorders"));
		assert_null(json_object_get(doc, "recorders"));
		assert_null(json_object_get(json_object_get(json_object_get(doc, "summary"), "counts"),
					    "recorder_gap"));
		if (with_meta) {
			assert_non_null(strstr(b.p, " conn  recorder  first"));
			assert_string_equal(
				json_string_value(json_object_get(
					json_array_get(json_object_get(doc, "connections"), 1), "recorder")),
				"host-1.eu");
		} else {
			assert_null(strstr(b.p, "recorder"));
			assert_null(json_object_get(json_array_get(json_object_get(doc, "connections"), 0),
						    "recorder"));
		}
		json_decref(doc);
		rm_journal(path);
		if (with_meta)
			path = tmp_journal(dir, sizeof(dir));
	}
	text_buf_free(&b);
}

/* A failed attempt covers nothing (the span goes on past it); a recorder that appears late
 * had a span from the journal's first data message, filled by what came before it; a
 * connection whose recorder id is not valid is of no recorder and fills nothing. */
static void
test_inspect__recorder_spans_past_failed_attempts(void **state)
{
	char dir[300];
	const char *path = tmp_journal(dir, sizeof(dir));
	struct journal *j;
	struct text_buf b = { 0 };
	json_t *doc, *recs, *sp, *conns;

	assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
	assert_int_equal(journal_meta_set(j, "recorder.1", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.2", "b"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.3", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.5", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.6", "not valid!"), 0);
	for (int64_t t = 0; t <= 30000; t += 50) {
		if (t >= 100 && t <= 10000 && t % 100 == 0)
			jput(j, t, 1, JOURNAL_TEXT, "");
		if (t == 10000)
			jput(j, t, 1, JOURNAL_CLOSE, CLOSE_P);
		if (t == 12000)
			jput(j, t, 3, JOURNAL_OPEN, OPEN_P);
		if (t == 12050)
			jput(j, t, 3, JOURNAL_ERROR, "{\"error\":\"refused\",\"phase\":\"connect\"}");
		if (t == 15000)
			jput(j, t, 2, JOURNAL_OPEN, OPEN_P);
		if (t >= 15050 && t <= 29950 && t % 100 == 50)
			jput(j, t, 2, JOURNAL_TEXT, "");
		if (t >= 16000 && t <= 17000 && t % 100 == 0)
			jput(j, t, 6, JOURNAL_TEXT, "");
		if (t >= 20000 && t % 100 == 0)
			jput(j, t, 5, JOURNAL_TEXT, "");
	}
	assert_int_equal(journal_close(j), 0);

	doc = inspect_path(path, &b);
	recs = json_object_get(doc, "recorders");
	assert_int_equal(json_array_size(recs), 2);
	/* a: 10 s .. 20 s, past the failed attempt (conn 3), filled by b only */
	sp = json_object_get(json_array_get(recs, 0), "spans");
	assert_int_equal(json_array_size(sp), 1);
	sp = json_array_get(sp, 0);
	assert_string_equal(json_string_value(json_object_get(sp, "from")), "2026-11-22T10:00:10.000000000Z");
	assert_string_equal(json_string_value(json_object_get(sp, "to")), "2026-11-22T10:00:20.000000000Z");
	assert_int_equal(json_array_size(json_object_get(sp, "filled_by")), 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(sp, "filled_by"), 0), "messages")),
			 50);
	/* b: from the first data message of the journal to its own, filled by a's conn 1 */
	sp = json_object_get(json_array_get(recs, 1), "spans");
	assert_int_equal(json_array_size(sp), 1);
	sp = json_array_get(sp, 0);
	assert_string_equal(json_string_value(json_object_get(sp, "from")), "2026-11-22T10:00:00.100000000Z");
	assert_string_equal(json_string_value(json_object_get(sp, "to")), "2026-11-22T10:00:15.050000000Z");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(sp, "filled_by"), 0), "conn")),
			 1);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(sp, "filled_by"), 0), "messages")),
			 100);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(doc, "summary"), "counts"), "recorder_gap")),
			 0);
	/* conn 6: no recorder */
	conns = json_object_get(doc, "connections");
	for (size_t i = 0; i < json_array_size(conns); i++) {
		json_t *c = json_array_get(conns, i);

		if (json_integer_value(json_object_get(c, "conn")) == 6)
			assert_null(json_object_get(c, "recorder"));
		else
			assert_non_null(json_object_get(c, "recorder"));
	}
	json_decref(doc);
	text_buf_free(&b);
	rm_journal(path);
}

/* The feed's control messages (hydromancer heartbeats) are no data messages: a connection
 * that only had heartbeats covers nothing, and fills nothing. */
static void
test_inspect__heartbeats_neither_cover_nor_fill(void **state)
{
	char dir[300];
	const char *path = tmp_journal(dir, sizeof(dir));
	struct journal *j;
	struct text_buf b = { 0 };
	json_t *doc, *recs, *sp;

	assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
	assert_int_equal(journal_meta_set(j, "recorder.1", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.2", "b"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.3", "a"), 0);
	for (int64_t t = 0; t <= 20000; t += 50) {
		if (t >= 100 && t <= 5000 && t % 100 == 0)
			jput(j, t, 1, JOURNAL_TEXT, "");
		if (t == 5000)
			jput(j, t, 1, JOURNAL_CLOSE, CLOSE_P);
		if (t >= 6000 && t < 15000 && t % 500 == 0)
			jput(j, t, 3, JOURNAL_TEXT, "{\"type\":\"ping\"}");
		if (t >= 15000 && t % 100 == 0)
			jput(j, t, 3, JOURNAL_TEXT, "");
		if (t >= 150 && t <= 10000 && t % 100 == 50)
			jput(j, t, 2, JOURNAL_TEXT, "");
		if (t > 10000 && t % 1000 == 50)
			jput(j, t, 2, JOURNAL_TEXT, "{\"type\":\"ping\"}");
	}
	assert_int_equal(journal_close(j), 0);

	doc = inspect_path_feed(path, feed_find("hydromancer"), &b);
	recs = json_object_get(doc, "recorders");
	assert_int_equal(json_array_size(recs), 2);
	/* a: 5 s .. 15 s (conn 3's heartbeats cover nothing), b's data messages up to 10 s */
	sp = json_object_get(json_array_get(recs, 0), "spans");
	assert_int_equal(json_array_size(sp), 1);
	sp = json_array_get(sp, 0);
	assert_string_equal(json_string_value(json_object_get(sp, "from")), "2026-11-22T10:00:05.000000000Z");
	assert_string_equal(json_string_value(json_object_get(sp, "to")), "2026-11-22T10:00:15.000000000Z");
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(sp, "filled_by"), 0), "messages")),
			 50);
	/* b: from its last data message (its heartbeats after 10 s are records of its
	   connection: covered to the last of them, 19.05 s); the rest is shorter than 2 s */
	assert_int_equal(json_array_size(json_object_get(json_array_get(recs, 1), "spans")), 0);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 1), "messages")), 99);
	json_decref(doc);
	text_buf_free(&b);
	rm_journal(path);
}

/* --- a merged journal whose recorders' connections interleave --- */

struct mrec {
	int64_t ns;
	uint32_t conn;
	int dir, kind;
	const char *channel;
	char payload[200];
};

struct merged {
	struct mrec *r;
	size_t n, cap;
	uint64_t records[8], data[8]; /* per connection */
};

static void
madd(struct merged *m, int64_t ms, uint32_t conn, int dir, int kind, const char *channel, const char *payload)
{
	struct mrec *x;

	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 256;
		m->r = realloc(m->r, m->cap * sizeof(*m->r));
		assert_non_null(m->r);
	}
	x = &m->r[m->n++];
	m->records[conn]++;
	x->ns = T0 + ms * MS;
	x->conn = conn;
	x->dir = dir;
	x->kind = kind;
	x->channel = channel;
	snprintf(x->payload, sizeof(x->payload), "%s", payload);
}

static int
mrec_cmp(const void *a, const void *b)
{
	const struct mrec *x = a, *y = b;

	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

/* The records in receive-time order (ties: the order added), as wstape pull writes them. */
static void
mwrite(struct merged *m, const char *path)
{
	struct journal *j;

	/* a stable sort: by time, then by the order added */
	for (size_t i = 1; i < m->n; i++) {
		struct mrec x = m->r[i];
		size_t k = i;

		while (k > 0 && mrec_cmp(&m->r[k - 1], &x) > 0) {
			m->r[k] = m->r[k - 1];
			k--;
		}
		m->r[k] = x;
	}
	assert_int_equal(journal_open(path, JOURNAL_CREATE, NULL, &j, NULL), 0);
	assert_int_equal(journal_meta_set(j, "feed", "hydromancer"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.1", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.2", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.3", "b"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.4", "a"), 0);
	assert_int_equal(journal_meta_set(j, "recorder.5", "b"), 0);
	for (size_t i = 0; i < m->n; i++) {
		struct journal_record r;

		memset(&r, 0, sizeof(r));
		r.wall_ns = m->r[i].ns;
		r.mono_ns = m->r[i].ns - T0;
		r.conn = m->r[i].conn;
		r.dir = (uint8_t)m->r[i].dir;
		r.kind = (uint8_t)m->r[i].kind;
		r.channel = m->r[i].channel;
		r.channel_len = r.channel ? (uint16_t)strlen(r.channel) : 0;
		r.payload = (const uint8_t *)m->r[i].payload;
		r.payload_len = strlen(m->r[i].payload);
		assert_int_equal(journal_append(j, &r), 0);
	}
	assert_int_equal(journal_close(j), 0);
	free(m->r);
	m->r = NULL;
	m->n = m->cap = 0;
}

#define HOPEN "{\"url\":\"ws://x\",\"status\":101}"
#define HNET "{\"code\":1006,\"reason\":\"\",\"by\":\"network\"}"
#define HCLIENT "{\"code\":1000,\"reason\":\"\",\"by\":\"client\"}"
#define HNEW "{\"type\":\"connected\",\"sessionId\":\"s\"}"

/* One recorder's connection: opened at from_ms on its clock (b's runs 120 ms ahead), the
 * live messages k (every 100 ms) it keeps (keep(k)), numbered from 1 on the connection as
 * the server does, a WebSocket ping every 5 s and its pong, closed at to_ms. */
static void
mconn_session(struct merged *m, uint32_t conn, int64_t skew, int64_t from_ms, int64_t to_ms,
	      const char *close, int (*keep)(int64_t k), const char *session)
{
	char buf[200];
	int64_t seq = 0;

	madd(m, from_ms + skew, conn, JOURNAL_IN, JOURNAL_OPEN, NULL, HOPEN);
	madd(m, from_ms + skew + 1, conn, JOURNAL_IN, JOURNAL_TEXT, NULL, session);
	for (int64_t k = from_ms / 100 + 1; k * 100 < to_ms; k++) {
		seq++;
		if (k % 50 == 0) {
			madd(m, k * 100 + skew + 5, conn, JOURNAL_OUT, JOURNAL_PING, NULL, "");
			madd(m, k * 100 + skew + 45, conn, JOURNAL_IN, JOURNAL_PONG, NULL, "");
		}
		if (!keep(k))
			continue;
		snprintf(buf, sizeof(buf),
			 "{\"type\":\"allFills\",\"seq\":%" PRId64 ",\"cursor\":\"1:%" PRId64
			 ":0\",\"fills\":[[\"0xa\",{\"time\":%" PRId64 ",\"txIndex\":0,\"tid\":%" PRId64
			 "}]]}",
			 seq, k, k, k);
		madd(m, k * 100 + skew, conn, JOURNAL_IN, JOURNAL_TEXT, "allFills", buf);
		m->data[conn]++;
	}
	madd(m, to_ms + skew, conn, JOURNAL_IN, JOURNAL_CLOSE, NULL, close);
}

static void
mconn(struct merged *m, uint32_t conn, int64_t skew, int64_t from_ms, int64_t to_ms, const char *close,
      int (*keep)(int64_t k))
{
	mconn_session(m, conn, skew, from_ms, to_ms, close, keep, HNEW);
}

/* the stream kept a's copy of most messages, b's of every third, and b's alone while a was
   disconnected (10 s .. 10.5 s); message k is at k * 100 ms */
static int
keep_a(int64_t k)
{
	return k % 3 != 0;
}

static int
keep_b(int64_t k)
{
	return k % 3 == 0 || (k >= 100 && k < 106);
}

static uint64_t
count_of(json_t *doc, const char *type)
{
	return (uint64_t)json_integer_value(
		json_object_get(json_object_get(json_object_get(doc, "summary"), "counts"), type));
}

/* Recorders a (conns 1 and 2: a reconnect at 10 s, a new session) and b (conn 3), connected
 * at once; each live message is in the journal once, from one of them; b's clock is ahead
 * (its copies come after a's later messages). Each connection is one row, its recorder's
 * timeline says the reconnect and downtime (filled by b: no finding), the seq holes each
 * connection has are not judged, the pings are answered, the cursor never goes back within
 * a recorder, no stall. */
static void
test_inspect__interleaved_recorders(void **state)
{
	char dir[300];
	const char *path = tmp_journal(dir, sizeof(dir));
	struct merged m = { 0 };
	struct text_buf b = { 0 };
	json_t *doc, *conns, *rcs, *recs;
	static const uint32_t order[] = { 1, 3, 2 };
	char line[200];

	mconn(&m, 1, 0, 0, 10000, HNET, keep_a);
	mconn(&m, 2, 0, 10500, 30050, HCLIENT, keep_a);
	mconn(&m, 3, 120, 20, 30100, HCLIENT, keep_b);
	mwrite(&m, path);

	doc = inspect_path_feed(path, feed_find("hydromancer"), &b);
	conns = json_object_get(doc, "connections");
	assert_int_equal(json_array_size(conns), 3);
	assert_int_equal(json_integer_value(json_object_get(doc, "connections_total")), 3);
	for (size_t i = 0; i < 3; i++) {
		json_t *c = json_array_get(conns, i);

		assert_int_equal(json_integer_value(json_object_get(c, "conn")), order[i]);
		assert_string_equal(json_string_value(json_object_get(c, "recorder")),
				    order[i] == 3 ? "b" : "a");
		assert_int_equal(json_integer_value(json_object_get(c, "records")), m.records[order[i]]);
	}
	/* conn 1's downtime until conn 2 opened */
	assert_true(json_real_value(json_object_get(json_array_get(conns, 0), "downtime_after_ms")) == 500.0);
	rcs = json_object_get(doc, "reconnects");
	assert_int_equal(json_array_size(rcs), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rcs, 0), "from_conn")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(rcs, 0), "to_conn")), 2);
	/* nothing but the network's close of conn 1 */
	assert_int_equal(count_of(doc, "disconnect"), 1);
	for (int t = 0; t < F_COUNT; t++)
		if (t != F_DISCONNECT)
			assert_int_equal(count_of(doc, inspect_finding_info[t].name), 0);
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(doc, "summary"), "missing"), "messages")),
			 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "summary"), "seq")),
			    "not judged: merged from 2 recorders; see each recorder's own journal");
	assert_non_null(strstr(
		b.p,
		"  seq          not judged: merged from 2 recorders; see each recorder's own journal\n"));
	/* the recorders section as before */
	recs = json_object_get(doc, "recorders");
	assert_int_equal(json_array_size(recs), 2);
	assert_int_equal(m.data[1] + m.data[2] + m.data[3], 300); /* each message once */
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 0), "messages")),
			 m.data[1] + m.data[2]);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(recs, 1), "messages")), m.data[3]);
	assert_int_equal(json_array_size(json_object_get(json_array_get(recs, 0), "spans")), 0);
	assert_int_equal(json_array_size(json_object_get(json_array_get(recs, 1), "spans")), 0);
	snprintf(line, sizeof(line),
		 "  a: 2 connections (1, 2), %" PRIu64 " data messages, 0 spans without a connection\n",
		 m.data[1] + m.data[2]);
	assert_non_null(strstr(b.p, line));
	snprintf(line, sizeof(line),
		 "  b: 1 connection (3), %" PRIu64 " data messages, 0 spans without a connection\n",
		 m.data[3]);
	assert_non_null(strstr(b.p, line));
	json_decref(doc);
	/* one connection of it (--conn 2): still a merged journal's, with holes */
	b.len = 0;
	doc = inspect_path_conn(path, feed_find("hydromancer"), 1, 2, &b);
	assert_int_equal(json_array_size(json_object_get(doc, "connections")), 1);
	assert_int_equal(count_of(doc, "seq_gap") + count_of(doc, "seq_start"), 0);
	assert_non_null(json_object_get(json_object_get(doc, "summary"), "seq"));
	json_decref(doc);
	rm_journal(path);
	text_buf_free(&b);
}

/* Both recorders lose their connection at 15 s and reconnect at 20 s (new sessions); a is
 * back first: its span nobody filled is a recorder_gap, and its downtime is not covered (b's
 * span and downtime end after a's first messages: a filled them). */
static int
keep_a_hole(int64_t k)
{
	return keep_a(k) && (k < 150 || k >= 200);
}

static int
keep_b_hole(int64_t k)
{
	return keep_b(k) && (k < 150 || k >= 200);
}

static void
test_inspect__interleaved_recorders_miss_the_same_span(void **state)
{
	char dir[300];
	const char *path = tmp_journal(dir, sizeof(dir));
	struct merged m = { 0 };
	struct text_buf b = { 0 };
	json_t *doc, *recs, *sp, *fs;
	int gaps = 0;

	mconn(&m, 1, 0, 0, 10000, HNET, keep_a_hole);
	mconn(&m, 2, 0, 10500, 15000, HNET, keep_a_hole);
	mconn(&m, 3, 120, 20, 15000, HNET, keep_b_hole);
	mconn(&m, 4, 0, 19900, 30050, HCLIENT, keep_a_hole);
	mconn(&m, 5, 120, 19900, 30000, HCLIENT, keep_b_hole);
	mwrite(&m, path);

	doc = inspect_path_feed(path, feed_find("hydromancer"), &b);
	assert_int_equal(json_array_size(json_object_get(doc, "connections")), 5);
	assert_int_equal(json_array_size(json_object_get(doc, "reconnects")), 3);
	assert_int_equal(count_of(doc, "recorder_gap"), 1);
	assert_int_equal(count_of(doc, "downtime_uncovered"), 1);
	assert_int_equal(count_of(doc, "disconnect"), 3);
	assert_int_equal(count_of(doc, "seq_gap") + count_of(doc, "seq_start") + count_of(doc, "seq_back") +
				 count_of(doc, "stall") + count_of(doc, "ping_unanswered") +
				 count_of(doc, "cursor_back") + count_of(doc, "dup_event"),
			 0);
	recs = json_object_get(doc, "recorders");
	assert_int_equal(json_array_size(recs), 2);
	sp = json_object_get(json_array_get(recs, 0), "spans");
	assert_int_equal(json_array_size(sp), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(sp, 0), "from")),
			    "2026-11-22T10:00:15.000000000Z");
	assert_string_equal(json_string_value(json_object_get(json_array_get(sp, 0), "to")),
			    "2026-11-22T10:00:20.000000000Z");
	assert_int_equal(json_array_size(json_object_get(json_array_get(sp, 0), "filled_by")), 0);
	sp = json_object_get(json_array_get(recs, 1), "spans");
	assert_int_equal(json_array_size(sp), 1);
	assert_int_equal(json_array_size(json_object_get(json_array_get(sp, 0), "filled_by")), 1);
	fs = json_object_get(doc, "findings");
	for (size_t i = 0; i < json_array_size(fs); i++) {
		json_t *f = json_array_get(fs, i);
		const char *type = json_string_value(json_object_get(f, "type"));

		if (!strcmp(type, "downtime_uncovered"))
			assert_int_equal(json_integer_value(json_object_get(f, "conn")), 4);
		if (strcmp(type, "recorder_gap"))
			continue;
		gaps++;
		assert_int_equal(json_integer_value(json_object_get(f, "conn")), 4);
		assert_non_null(
			strstr(json_string_value(json_object_get(f, "message")),
			       "recorder a had no connection from 2026-11-22T10:00:15.000000000Z to "
			       "2026-11-22T10:00:20.000000000Z (5.000s) and no other recorder filled it"));
	}
	assert_int_equal(gaps, 1);
	json_decref(doc);
	rm_journal(path);
	text_buf_free(&b);
}

/* a resumed session: its replay's chunks 1 and 3 were dropped by pull (b had brought their
   events), chunk 2 kept (it has message 100, which b missed) */
static int
keep_b_not_100(int64_t k)
{
	return keep_b(k) && k != 100;
}

static void
test_inspect__interleaved_recorders_replay_chunks_dropped(void **state)
{
	char dir[300];
	const char *path = tmp_journal(dir, sizeof(dir));
	struct merged m = { 0 };
	struct text_buf b = { 0 };
	json_t *doc, *c;

	mconn(&m, 1, 0, 0, 10000, HNET, keep_a);
	mconn_session(&m, 2, 0, 10500, 30050, HCLIENT, keep_a,
		      "{\"type\":\"reconnected\",\"sessionId\":\"s\"}");
	madd(&m, 10502, 2, JOURNAL_IN, JOURNAL_TEXT, "allFills",
	     "{\"type\":\"replay\",\"channel\":\"allFills\",\"chunk\":2,\"totalChunks\":3,"
	     "\"data\":[[\"0xa\",{\"time\":100,\"txIndex\":0,\"tid\":100}]]}");
	mconn(&m, 3, 120, 20, 30100, HCLIENT, keep_b_not_100);
	mwrite(&m, path);

	doc = inspect_path_feed(path, feed_find("hydromancer"), &b);
	assert_int_equal(json_array_size(json_object_get(doc, "connections")), 3);
	assert_int_equal(count_of(doc, "replay_incomplete"), 0);
	assert_int_equal(count_of(doc, "downtime_uncovered"), 0);
	assert_int_equal(count_of(doc, "dup_event") + count_of(doc, "overlap"), 0);
	c = json_array_get(json_object_get(doc, "connections"), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "conn")), 2);
	assert_int_equal(json_integer_value(json_object_get(c, "replays")), 1);
	assert_int_equal(json_integer_value(json_object_get(c, "replays_complete")), 1);
	assert_string_equal(json_string_value(json_object_get(c, "session")), "reconnected");
	json_decref(doc);
	rm_journal(path);
	text_buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inspect__same_key_is_not_a_duplicate),
		cmocka_unit_test(test_inspect__same_event_again_is_a_duplicate),
		cmocka_unit_test(test_inspect__ledger_key_includes_the_role),
		cmocka_unit_test(test_inspect__completed_trades_key_on_close_time),
		cmocka_unit_test(test_inspect__replay_live_overlap_is_counted_apart),
		cmocka_unit_test(test_inspect__seq_rules),
		cmocka_unit_test(test_inspect__seq_range_and_link_rules),
		cmocka_unit_test(test_inspect__newest_key_after_an_older_one_is_shared),
		cmocka_unit_test(test_inspect__replay_has_gap_and_missing_chunks),
		cmocka_unit_test(test_inspect__stall_and_exact_duplicate_frame),
		cmocka_unit_test(test_inspect__not_json_is_counted_for_known_feeds),
		cmocka_unit_test(test_inspect__malformed_events_array_is_a_not_json_finding),
		cmocka_unit_test(test_inspect__lasersell_rules),
		cmocka_unit_test(test_inspect__lasersell_backoff),
		cmocka_unit_test(test_inspect__heartbeats_do_not_hide_a_stall),
		cmocka_unit_test(test_inspect__channel_selection_keeps_the_sessions),
		cmocka_unit_test(test_inspect__closed_positions_free_their_slots),
		cmocka_unit_test(test_inspect__downtime_after_many_attempts),
		cmocka_unit_test(test_inspect__from_mid_session_cuts_open_positions),
		cmocka_unit_test(test_inspect__to_cuts_open_positions_and_pings),
		cmocka_unit_test(test_inspect__selection_cuts_a_replay),
		cmocka_unit_test(test_inspect__from_among_attempts_does_not_judge_the_backoff),
		cmocka_unit_test(test_inspect__lasersell_channel_selection_follows_positions),
		cmocka_unit_test(test_inspect__timeline_per_channel),
		cmocka_unit_test(test_inspect__findings_are_bounded),
		cmocka_unit_test(test_inspect__seen_window_is_bounded),
		cmocka_unit_test(test_inspect__histogram_quantiles),
		cmocka_unit_test(test_inspect__class_names),
		cmocka_unit_test(test_inspect__reports_render),
		cmocka_unit_test(test_inspect__recorders_of_a_merged_journal),
		cmocka_unit_test(test_inspect__one_recorder_has_no_section),
		cmocka_unit_test(test_inspect__recorder_spans_past_failed_attempts),
		cmocka_unit_test(test_inspect__heartbeats_neither_cover_nor_fill),
		cmocka_unit_test(test_inspect__interleaved_recorders),
		cmocka_unit_test(test_inspect__interleaved_recorders_miss_the_same_span),
		cmocka_unit_test(test_inspect__interleaved_recorders_replay_chunks_dropped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
