/* spec.c - fuzz the loader and the classification of feeds declared as data: the input is
 * a spec, a NUL, and one message ("SPEC\0MESSAGE"); without a NUL, or when the spec does
 * not load, the message is the whole input, classified by a fixed spec that uses every
 * rule's pointers (a joined channel, arrays, events with a key, a JSON ping)
 *
 * Checks: a spec loads or is refused with an error that names the origin; every slice of
 * the classification points into the message (or, for a joined channel, into the struct);
 * events and the sequence rule never read past the message. */
#include <string.h>

#include "feeds/feed.h"
#include "feeds/feed_inspect.h"
#include "feeds/spec.h"
#include "fuzz/fuzz.h"

static const char fixed_spec[] =
	"{\"wstape_feed_spec\":1,\"name\":\"f\",\"type\":\"/event\",\"channel\":[\"/arg/channel\",\"/arg/i~1d\"],"
	"\"cursor\":\"/data/0/seqId\",\"seq\":{\"rule\":\"link\",\"seq\":\"/data/0/seqId\",\"prev\":\"/data/0/prev\","
	"\"reset\":-1},\"events\":\"/data\",\"key\":[\"/seqId\",\"/ts\"],\"data\":\"/data\","
	"\"subscribe\":{\"match\":{\"/op\":\"subscribe\"},\"list\":\"/args\",\"channel\":[\"/channel\",\"/instId\"]},"
	"\"ping\":{\"from\":\"server\",\"every_s\":5,\"message\":{\"/op\":\"ping\"},\"answer\":{\"op\":\"pong\"}}}";

static const uint8_t *in_p;
static size_t in_n;

#define IN(s, m) \
	FUZZ_CHECK((s).len == 0 || \
		   ((const uint8_t *)(s).p >= in_p && (const uint8_t *)(s).p + (s).len <= in_p + in_n) || \
		   ((s).p >= (m)->joined && (s).p + (s).len <= (m)->joined + sizeof((m)->joined)))

static int
on_event(const struct feed_event *ev, void *ud)
{
	FUZZ_CHECK((const uint8_t *)ev->raw.p >= in_p &&
		   (const uint8_t *)ev->raw.p + ev->raw.len <= in_p + in_n);
	(*(int *)ud)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size), *msg = data;
	size_t mlen = size;
	struct feed *f = NULL;
	char err[512];
	uint8_t *p;
	struct feed_msg m;
	int nev = 0;

	if (nul &&
	    feed_spec_load((const char *)data, (size_t)(nul - data), "fuzz", &f, err, sizeof(err)) == 0) {
		msg = nul + 1;
		mlen = size - (size_t)(msg - data);
	} else {
		FUZZ_CHECK(!nul || strncmp(err, "fuzz: ", 6) == 0);
		if (feed_spec_load(fixed_spec, sizeof(fixed_spec) - 1, "fixed", &f, err, sizeof(err)))
			abort();
	}
	/* a copy of exactly the message's bytes: ASan sees any read past it */
	p = malloc(mlen ? mlen : 1);
	if (!p)
		abort();
	memcpy(p, msg, mlen);
	in_p = p;
	in_n = mlen;
	feed_classify(f, p, mlen, &m);
	IN(m.type, &m);
	IN(m.channel, &m);
	IN(m.cursor, &m);
	IN(m.events, &m);
	feed_events_foreach(f, &m, on_event, &nev);
	if (m.cls == FEED_MSG_DATA && f->inspect->seq) {
		void *st = f->inspect->state_new(f);
		struct inspect_rec r = { 1, 0, 1, 0, p, mlen };
		struct feed_seq s = { 0 };

		f->inspect->seq(st, &r, &m, &s);
		if (f->inspect->state_free)
			f->inspect->state_free(st);
	}
	free(p);
	feed_spec_free(f);
	return 0;
}
