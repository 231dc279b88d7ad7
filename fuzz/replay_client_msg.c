/* replay_client_msg.c - fuzz what `wstape replay` does with a message from a client: the
 * input is one text message; the Hydromancer and LaserSell servers parse it
 * (hm_client_parse, ls_client_parse) and build what they answer: subscriptionUpdate
 * (subscribed, failed, unsubscribed), error, pong, and the cursor of a subscription
 *
 * Check: whatever a client sends, every answer is valid JSON, and the subscription type it
 * echoes is the one the client sent (the JSON string's value). */
#include <jansson.h>

#include "feeds/feed_server.h"
#include "fuzz/fuzz.h"

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
			FUZZ_CHECK(hm_chunker_finish(&k, hm.sub_type.p, hm.sub_type.len, 1, on_chunk, &h) == 0);
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
	default:
		break;
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
	default:
		break;
	}
	json_decref(msg);
	text_buf_free(&b);
	free(p);
	fuzz_sink = h;
	return 0;
}
