/* msgid.c - the Nats-Msg-Id of a record: the feed's identity of what it carries, so that
 * two recorders of one feed publish an event once, or the recorder's own (recorder,
 * journal, recno), so that a record sent again by the same recorder is kept once */
#include <stdio.h>
#include <string.h>

#include "feeds/feed.h"
#include "jetstream/jetstream.h"

struct idhash {
	uint64_t h;
	int keyed; /* events seen */
};

static void
add(struct idhash *s, uint64_t v)
{
	/* order matters: the same events in another order are another message */
	s->h = (s->h ^ v) * 0x100000001b3ULL;
	s->h ^= s->h >> 29;
}

static int
add_event(const struct feed_event *ev, void *ud)
{
	struct idhash *s = ud;
	if (ev->key_time >= 0) {
		add(s, 1);
		add(s, (uint64_t)ev->key_time);
		add(s, (uint64_t)ev->key_tx);
		add(s, ev->key_role.len ? feed_hash(ev->key_role.p, ev->key_role.len) : 0);
	} else {
		add(s, 2);
		add(s, ev->hash);
	}
	s->keyed = 1;
	return 0;
}

static void
per_recorder(const char *recorder, const char *journal_id, uint64_t recno, char *out)
{
	snprintf(out, JS_MSG_ID_MAX, "%s.%s.%llu", recorder, journal_id, (unsigned long long)recno);
}

int
js_msg_id(const struct feed *feed, const char *recorder, const char *journal_id,
	  const struct journal_record *rec, char *out)
{
	struct feed_msg m;
	struct idhash s = { 0xcbf29ce484222325ULL, 0 };

	if (!feed || feed == &feed_raw || rec->dir != JOURNAL_IN || rec->kind != JOURNAL_TEXT ||
	    feed_classify(feed, rec->payload, rec->payload_len, &m) != 0 ||
	    (m.cls != FEED_MSG_DATA && m.cls != FEED_MSG_REPLAY)) {
		per_recorder(recorder, journal_id, rec->recno, out);
		return 0;
	}
	add(&s, feed_hash(m.channel.p, m.channel.len));
	add(&s, feed_hash(m.cursor.p, m.cursor.len));
	if (feed_events_foreach(feed, &m, add_event, &s) != 0 || (!s.keyed && !m.cursor.len)) {
		per_recorder(recorder, journal_id, rec->recno, out);
		return 0;
	}
	snprintf(out, JS_MSG_ID_MAX, "%.60s.%c.%016llx", feed->name, m.cls == FEED_MSG_REPLAY ? 'r' : 'd',
		 (unsigned long long)s.h);
	return 1;
}
