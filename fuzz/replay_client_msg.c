/* replay_client_msg.c - fuzz what `wstape replay` does with a message from a client: the
 * input is one text message; the Hydromancer and LaserSell servers parse it
 * (hm_client_parse, ls_client_parse) and build what they answer: subscriptionUpdate
 * (subscribed, failed, unsubscribed), error, pong, and the cursor of a subscription.
 * Then the server itself takes the input, through replay_client_pieces (a client without a
 * socket, of a journal imported from fixtures/FEED.jsonl): the input's first byte chooses
 * the feed (its value % 3), how many fragments each message is sent in (1 to 4), the size
 * of the pieces lws hands over (byte 2), and (bit 7) whether the last frame declares 4 GiB
 * more than it holds; the rest is the client's messages, one a line. --max-client-message
 * is 2048 bytes.
 *
 * Check: whatever a client sends, every answer is valid JSON, and the subscription type it
 * echoes is the one the client sent (the JSON string's value); the server refuses (1009)
 * exactly when a message, or a frame as declared, is above the limit, and every text frame
 * it queues for a Hydromancer or LaserSell client is valid JSON. */
#include <jansson.h>

#include "cmd/cmd.h"
#include "feeds/feed_server.h"
#include "fuzz/fuzz.h"
#include "journal/journal.h"
#include "replay/replay.h"

#define MAX_MSG 2048

/* The journal of each feed, imported once from fixtures/ (run from the repository), and
 * kept open. */
static struct journal *
feed_journal(int feed)
{
	static char dirs[3][FUZZ_PATH];
	static struct journal *open[3];
	static const char *names[3] = { "raw", "hydromancer", "lasersell" };
	if (open[feed])
		return open[feed];
	char path[FUZZ_PATH], err[256], *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct journal *j;
	struct journal_options opt = { .fsync = JOURNAL_FSYNC_NEVER, .threads = 1 };
	struct import_line st = { 0 };
	struct journal_record rec;
	fuzz_path(path, sizeof(path), "%s/%s.jsonl",
		  getenv("WSTAPE_FIXTURES") ? getenv("WSTAPE_FIXTURES") : "fixtures", names[feed]);
	FILE *f = fopen(path, "r");
	if (!f) {
		perror(path);
		abort();
	}
	fuzz_path(dirs[feed], sizeof(dirs[feed]), "%s/j-%s", fuzz_scratch(), names[feed]);
	FUZZ_CHECK(journal_open(dirs[feed], JOURNAL_CREATE, &opt, &j, NULL) == 0);
	if (feed != 0)
		FUZZ_CHECK(journal_meta_set(j, "feed", names[feed]) == 0);
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		FUZZ_CHECK(import_line_parse(&st, line, (size_t)n, 1, feed_find(names[feed]), &rec, err,
					     sizeof(err)) == 0);
		FUZZ_CHECK(journal_append(j, &rec) == 0);
	}
	free(line);
	fclose(f);
	import_line_free(&st);
	FUZZ_CHECK(journal_close(j) == 0);
	FUZZ_CHECK(journal_open(dirs[feed], JOURNAL_RDONLY, NULL, &open[feed], NULL) == 0);
	return open[feed];
}

struct seen {
	const struct feed *feed;
	uint64_t frames;
};

static void
on_frame(const uint8_t *p, size_t len, int binary, void *ud)
{
	struct seen *sn = ud;
	json_error_t e;
	sn->frames++;
	if (sn->feed == (&feed_raw) || binary)
		return;
	json_t *v = json_loadb((const char *)p, len, 0, &e);
	if (!v)
		fprintf(stderr, "invalid frame: %.*s\n", (int)(len > 200 ? 200 : len), (const char *)p);
	FUZZ_CHECK(v != NULL);
	json_decref(v);
}

/* The input to the server, as described at the top. */
static void
drive_server(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	int feed = data[0] % 3;
	int nfrag = 1 + (data[0] / 3) % 4, huge = data[0] & 0x80;
	size_t piece = 1 + (size_t)data[1] * 8;
	const uint8_t *p = data + 2, *end = data + size;
	struct replay_piece *pc = NULL;
	size_t npc = 0, cap = 0;
	int want_refused = 0;

	while (p <= end && !want_refused) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t mlen = (size_t)((nl ? nl : end) - p);
		int last = !nl;
		if (mlen > MAX_MSG || (last && huge))
			want_refused = 1;
		/* nfrag frames (the last ones may be empty), each in pieces of at most 'piece' */
		for (int fr = 0; fr < nfrag; fr++) {
			size_t from = mlen * (size_t)fr / (size_t)nfrag,
			       to = mlen * (size_t)(fr + 1) / (size_t)nfrag;
			uint64_t extra = last && huge && fr == nfrag - 1 ? (4ULL << 30) : 0;
			size_t off = from;
			do {
				size_t k = to - off < piece ? to - off : piece;
				if (npc == cap) {
					cap = cap ? cap * 2 : 16;
					pc = realloc(pc, cap * sizeof(*pc));
					FUZZ_CHECK(pc != NULL);
				}
				pc[npc++] = (struct replay_piece){ p + off, k, fr == nfrag - 1,
								   (uint64_t)(to - off - k) + extra };
				off += k;
			} while (off < to);
		}
		if (!nl)
			break;
		p = nl + 1;
	}
	struct replay_options o = { 0 };
	struct seen sn = { feed_builtin(feed), 0 };
	int refused = -1;
	o.journal = "fixtures";
	o.feed = feed_builtin(feed);
	o.speed = 1;
	o.seed = 1;
	o.seed_given = 1;
	o.max_client_message = MAX_MSG;
	o.from_wall = INT64_MIN;
	o.to_wall = INT64_MAX;
	o.conn = -1;
	int rc = replay_client_pieces(&o, feed_journal(feed), pc, npc, on_frame, &sn, &refused);
	if (rc)
		fprintf(stderr, "replay_client_pieces: %s (feed %d)\n", replay_strerror(rc), (int)feed);
	FUZZ_CHECK(rc == 0);
	if (refused != want_refused)
		fprintf(stderr, "refused %d, expected %d\n", refused, want_refused);
	FUZZ_CHECK(refused == want_refused);
	free(pc);
}

static volatile uint64_t fuzz_sink;

/* The answer is one valid JSON object; returns it (the caller decrefs). */
static json_t *
answer(const struct text_buf *b)
{
	json_error_t e;
	json_t *v = json_loadb(b->p, b->len, 0, &e);
	if (!v || !json_is_object(v))
		fprintf(stderr, "invalid answer: %.*s\n", (int)b->len, b->p);
	FUZZ_CHECK(v && json_is_object(v));
	return v;
}

/* The subscription type the client sent, as a JSON value, from its own message. */
static json_t *
sent_type(json_t *msg)
{
	return json_object_get(json_object_get(msg, "subscription"), "type");
}

static void
check_echo(const struct text_buf *b, const char *list, json_t *msg)
{
	json_t *a = answer(b), *l = json_object_get(a, list), *t = sent_type(msg);
	FUZZ_CHECK(json_is_array(l) && json_array_size(l) == 1);
	if (t && json_is_string(t))
		FUZZ_CHECK(json_equal(json_array_get(l, 0), t));
	json_decref(a);
}

static int
on_chunk(const struct text_buf *msg, const char *cursor, size_t curlen, void *ud)
{
	json_decref(answer(msg));
	(*(uint64_t *)ud)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	struct hm_client_msg hm;
	struct ls_client_msg ls;
	struct text_buf b = { 0 };
	json_error_t e;
	uint64_t h = 0;

	memcpy(p, data, size);
	/* what the client sent, when it is JSON: to compare the echo with */
	json_t *msg = json_loadb((const char *)p, size, 0, &e);

	hm_client_parse(p, size, &hm);
	switch (hm.kind) {
	case HM_C_SUBSCRIBE:
		FUZZ_CHECK(hm.sub_type.len > 0);
		/* an unknown type fails, a known one is subscribed: both echo it */
		hm_msg_subscription_update(&b, &hm.sub_type, 1, NULL, 0);
		check_echo(&b, "subscribed", msg);
		b.len = 0;
		hm_msg_subscription_update(&b, NULL, 0, &hm.sub_type, 1);
		check_echo(&b, "failed", msg);
		if (hm.cursor.len) {
			struct hm_cursor c, c0 = { 3, 1000, 1700000000000LL, 1 };
			if (hm_cursor_parse(hm.cursor.p, hm.cursor.len, &c) == 0) {
				FUZZ_CHECK(c.fmt >= 1 && c.fmt <= 3);
				h += (uint64_t)hm_cursor_newer(&c, &c0) + (uint64_t)hm_cursor_newer(&c0, &c);
			}
			/* a replay starts with the cursor the client sent: an empty one carries it */
			struct hm_chunker k;
			hm_chunker_init(&k, hm.cursor.p, hm.cursor.len);
			FUZZ_CHECK(hm_chunker_finish(&k, hm.sub_type.p, hm.sub_type.len, 1, on_chunk, &h) ==
				   0);
			hm_chunker_free(&k);
		}
		break;
	case HM_C_UNSUBSCRIBE:
		FUZZ_CHECK(hm.sub_type.len > 0);
		hm_msg_unsubscribed(&b, &hm.sub_type);
		check_echo(&b, "unsubscribed", msg);
		break;
	case HM_C_BAD:
		hm_msg_error(&b, "Invalid message");
		json_decref(answer(&b));
		break;
	default: break;
	}

	ls_client_parse(p, size, &ls);
	b.len = 0;
	switch (ls.kind) {
	case LS_C_PING:
		ls_msg_pong(&b, ls.client_time_ms);
		json_decref(answer(&b));
		break;
	case LS_C_BAD:
		ls_msg_error(&b, "bad_request", "message is not a JSON object with a type");
		json_decref(answer(&b));
		break;
	default: break;
	}
	json_decref(msg);
	text_buf_free(&b);
	free(p);
	fuzz_sink = h;
	drive_server(data, size);
	return 0;
}
