/* spec.c - loading a feed declared as data: the spec's JSON checked member by member and
 * turned into a struct spec (feeds/spec_int.h) whose feed table reads it (docs/SPEC.md)
 *
 * Every error names the origin (the file), the member and what is wrong; nothing is
 * assumed of the text (jansson parses it, duplicate keys refused).
 */
#include "feeds/feed_int.h"
#include "feeds/spec_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A journal's META keeps the spec on one line of at most this many bytes. */
#define SPEC_MAX_COMPACT 4096

struct load {
	const char *origin;
	char *err;
	size_t errlen;
	int nomem;
};

static int __attribute__((format(printf, 3, 4))) bad(struct load *l, const char *member, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	if (!l->errlen)
		return EINVAL;
	n = (size_t)snprintf(l->err, l->errlen, "%s: %s%s", l->origin, member ? member : "",
			     member ? ": " : "");
	if (n < l->errlen) {
		va_start(ap, fmt);
		vsnprintf(l->err + n, l->errlen - n, fmt, ap);
		va_end(ap);
	}
	return EINVAL;
}

static int
nomem(struct load *l)
{
	l->nomem = 1;
	if (l->errlen)
		snprintf(l->err, l->errlen, "%s: out of memory", l->origin);
	return ENOMEM;
}

static const char *
type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "an object";
	case JSON_ARRAY: return "an array";
	case JSON_STRING: return "a string";
	case JSON_INTEGER:
	case JSON_REAL: return "a number";
	case JSON_TRUE:
	case JSON_FALSE: return "a boolean";
	default: return "null";
	}
}

/* ---- pointers ---- */

static void
ptr_free(struct spec_ptr *p)
{
	for (int i = 0; i < p->ntok; i++)
		free(p->tok[i]);
	free(p->tok);
	free(p->len);
	memset(p, 0, sizeof(*p));
}

/* An RFC 6901 pointer from the string value v of member 'member'. */
static int
ptr_parse(struct load *l, const char *member, const json_t *v, struct spec_ptr *p)
{
	const char *s, *q;
	size_t n;
	int ntok = 0;

	if (!json_is_string(v))
		return bad(l, member, "a JSON pointer is a string (\"/a/0/b\"), not %s", type_name(v));
	s = json_string_value(v);
	n = json_string_length(v);
	if (strlen(s) != n)
		return bad(l, member, "the pointer holds a NUL");
	if (n && s[0] != '/')
		return bad(l, member, "the pointer '%s' does not start with '/' (\"\" is the whole value)",
			   s);
	for (q = s; *q; q++) {
		if (*q == '/')
			ntok++;
		else if (*q == '~' && q[1] != '0' && q[1] != '1')
			return bad(l, member, "the pointer '%s' has a '~' that is not ~0 or ~1", s);
	}
	if (ntok > 64)
		return bad(l, member, "the pointer '%s' is deeper than 64 levels", s);
	p->set = 1;
	if (!ntok)
		return 0;
	if (!(p->tok = calloc((size_t)ntok, sizeof(*p->tok))) ||
	    !(p->len = calloc((size_t)ntok, sizeof(*p->len))))
		return nomem(l);
	for (q = s + 1; p->ntok < ntok; p->ntok++) {
		const char *e = strchr(q, '/');
		size_t tl = e ? (size_t)(e - q) : strlen(q), o = 0;
		char *t = malloc(tl + 1);

		if (!t)
			return nomem(l);
		for (size_t i = 0; i < tl; i++) {
			if (q[i] == '~') {
				t[o++] = q[i + 1] == '1' ? '/' : '~';
				i++;
			} else {
				t[o++] = q[i];
			}
		}
		t[o] = '\0';
		p->tok[p->ntok] = t;
		p->len[p->ntok] = o;
		q = e ? e + 1 : q + tl;
	}
	return 0;
}

/* One pointer or a list of 1..SPEC_MAX_PTRS. */
static int
ptr_list(struct load *l, const char *member, const json_t *v, struct spec_ptr *out, int *n)
{
	char m[96];
	int rc;

	if (json_is_string(v)) {
		*n = 1;
		return ptr_parse(l, member, v, &out[0]);
	}
	if (!json_is_array(v))
		return bad(l, member, "a pointer or a list of pointers, not %s", type_name(v));
	if (json_array_size(v) < 1 || json_array_size(v) > SPEC_MAX_PTRS)
		return bad(l, member, "a list of 1 to %d pointers, not %zu", SPEC_MAX_PTRS,
			   json_array_size(v));
	for (size_t i = 0; i < json_array_size(v); i++) {
		snprintf(m, sizeof(m), "%s[%zu]", member, i);
		if ((rc = ptr_parse(l, m, json_array_get(v, i), &out[i])))
			return rc;
		*n = (int)i + 1;
	}
	return 0;
}

/* ---- messages and matches ---- */

static void
value_free(struct spec_value *v)
{
	free(v->text);
	json_decref(v->json);
	for (int i = 0; i < v->nm; i++) {
		ptr_free(&v->m[i].ptr);
		json_decref(v->m[i].value);
	}
	free(v->m);
	memset(v, 0, sizeof(*v));
}

/* An object whose keys are all pointers ("/op"): a match object. */
static int
is_match_object(const json_t *v)
{
	const char *k;
	json_t *x;

	if (!json_is_object(v) || !json_object_size(v))
		return 0;
	json_object_foreach((json_t *)v, k, x) if (k[0] != '/') return 0;
	return 1;
}

static int
match_parse(struct load *l, const char *member, const json_t *v, struct spec_match **out, int *n)
{
	const char *k;
	json_t *x;
	char m[160];
	int rc;

	if (!json_is_object(v) || !json_object_size(v))
		return bad(l, member, "a match object ({\"/op\": \"subscribe\"}: pointer to value), not %s",
			   json_is_object(v) ? "an empty object" : type_name(v));
	if (!(*out = calloc(json_object_size(v), sizeof(**out))))
		return nomem(l);
	json_object_foreach((json_t *)v, k, x)
	{
		json_t *ks = json_string(k);

		snprintf(m, sizeof(m), "%s: key '%s'", member, k);
		if (!ks)
			return nomem(l);
		(*out)[*n].value = json_incref(x);
		rc = ptr_parse(l, m, ks, &(*out)[(*n)++].ptr);
		json_decref(ks);
		if (rc)
			return rc;
	}
	return 0;
}

/* A message: a string sent as it is, another JSON value sent as compact text; with
 * may_match, a match object is one that is only recognised. */
static int
value_parse(struct load *l, const char *member, const json_t *v, int may_match, struct spec_value *out)
{
	if (json_is_string(v)) {
		if (!json_string_length(v))
			return bad(l, member, "an empty message");
		out->kind = SPEC_V_TEXT;
		out->len = json_string_length(v);
		if (!(out->text = malloc(out->len + 1)))
			return nomem(l);
		memcpy(out->text, json_string_value(v), out->len + 1);
		return 0;
	}
	if (is_match_object(v)) {
		if (!may_match)
			return bad(l, member, "a match object (keys that are pointers) cannot be sent");
		out->kind = SPEC_V_MATCH;
		return match_parse(l, member, v, &out->m, &out->nm);
	}
	out->kind = SPEC_V_JSON;
	out->json = json_incref((json_t *)v);
	if (!(out->text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY)))
		return nomem(l);
	out->len = strlen(out->text);
	return 0;
}

/* ---- the members ---- */

/* Every key of object v is among the NULL-ended 'known'. */
static int
known_keys(struct load *l, const char *member, const json_t *v, const char *const *known)
{
	const char *k;
	json_t *x;
	char list[256];
	size_t n = 0;

	list[0] = '\0';
	for (int i = 0; known[i]; i++)
		n += (size_t)snprintf(list + n, n < sizeof(list) ? sizeof(list) - n : 0, "%s%s",
				      i ? ", " : "", known[i]);
	json_object_foreach((json_t *)v, k, x)
	{
		int ok = 0;

		for (int i = 0; known[i] && !ok; i++)
			ok = strcmp(k, known[i]) == 0;
		if (!ok) {
			char m[160];

			snprintf(m, sizeof(m), "%s%s'%s'", member ? member : "", member ? ": key " : "key ",
				 k);
			return bad(l, NULL, "%s: unknown key (known: %s)", m, list);
		}
	}
	return 0;
}

static int
seq_parse(struct load *l, struct spec *s, const json_t *v)
{
	static const char *const known[] = {
		"rule", "seq", "prev", "reset", "first", "last", "per_conn", NULL
	};
	const char *rule, *need[2] = { NULL, NULL };
	json_t *x;
	int rc;

	if (!json_is_object(v))
		return bad(l, "seq", "an object ({\"rule\": \"consecutive\", \"seq\": \"/seq\"}), not %s",
			   type_name(v));
	if ((rc = known_keys(l, "seq", v, known)))
		return rc;
	if (!(x = json_object_get(v, "rule")) || !json_is_string(x))
		return bad(l, "seq.rule", "missing: one of consecutive, link, range");
	rule = json_string_value(x);
	if (!strcmp(rule, "consecutive")) {
		s->seq_rule = SPEC_SEQ_CONSECUTIVE;
		need[0] = "seq";
	} else if (!strcmp(rule, "link")) {
		s->seq_rule = SPEC_SEQ_LINK;
		need[0] = "seq";
		need[1] = "prev";
	} else if (!strcmp(rule, "range")) {
		s->seq_rule = SPEC_SEQ_RANGE;
		need[0] = "first";
		need[1] = "last";
	} else {
		return bad(l, "seq.rule", "unknown rule '%s' (consecutive, link or range)", rule);
	}
	for (int i = 0; i < 2; i++)
		if (need[i] && !json_object_get(v, need[i]))
			return bad(l, "seq", "rule %s needs \"%s\" (a pointer)", rule, need[i]);
	static const char *const ptrs[] = { "seq", "prev", "first", "last" };
	struct spec_ptr *dst[] = { &s->seq, &s->prev, &s->first, &s->last };
	for (int i = 0; i < 4; i++) {
		char m[32];

		if (!(x = json_object_get(v, ptrs[i])))
			continue;
		snprintf(m, sizeof(m), "seq.%s", ptrs[i]);
		if (strcmp(ptrs[i], need[0]) && (!need[1] || strcmp(ptrs[i], need[1])))
			return bad(l, m, "not a member of rule %s", rule);
		if ((rc = ptr_parse(l, m, x, dst[i])))
			return rc;
	}
	if ((x = json_object_get(v, "reset"))) {
		if (s->seq_rule != SPEC_SEQ_LINK)
			return bad(l, "seq.reset", "only rule link has a reset value");
		if (!json_is_integer(x))
			return bad(l, "seq.reset",
				   "an integer (the prev that starts a chain, e.g. -1), not %s",
				   type_name(x));
		s->has_reset = 1;
		s->reset = json_integer_value(x);
	}
	if ((x = json_object_get(v, "per_conn"))) {
		if (!json_is_boolean(x))
			return bad(l, "seq.per_conn", "true or false, not %s", type_name(x));
		s->per_conn = json_is_true(x);
	}
	return 0;
}

static int
send_parse(struct load *l, struct spec *s, const json_t *v)
{
	char m[32];
	int rc;

	if (!json_is_array(v))
		return bad(l, "send", "a list of messages, not %s", type_name(v));
	if (json_array_size(v) > 64)
		return bad(l, "send", "at most 64 messages, not %zu", json_array_size(v));
	if (json_array_size(v) && !(s->send = calloc(json_array_size(v), sizeof(*s->send))))
		return nomem(l);
	for (size_t i = 0; i < json_array_size(v); i++) {
		snprintf(m, sizeof(m), "send[%zu]", i);
		s->nsend = (int)i + 1;
		if ((rc = value_parse(l, m, json_array_get(v, i), 0, &s->send[i])))
			return rc;
	}
	return 0;
}

static int
subscribe_parse(struct load *l, struct spec *s, const json_t *v)
{
	static const char *const known[] = { "match", "list", "channel", NULL };
	json_t *x;
	int rc;

	if (!json_is_object(v))
		return bad(l, "subscribe", "an object ({\"match\", \"list\", \"channel\"}), not %s",
			   type_name(v));
	if ((rc = known_keys(l, "subscribe", v, known)))
		return rc;
	if ((x = json_object_get(v, "match")) &&
	    (rc = match_parse(l, "subscribe.match", x, &s->sub_match, &s->nsub_match)))
		return rc;
	if (!(x = json_object_get(v, "list")))
		return bad(l, "subscribe.list", "missing: the pointer to the list of channels subscribed");
	if ((rc = ptr_parse(l, "subscribe.list", x, &s->sub_list)))
		return rc;
	if (!(x = json_object_get(v, "channel")))
		return bad(l, "subscribe.channel",
			   "missing: the pointers inside an element of the list (\"\": the element)");
	if ((rc = ptr_list(l, "subscribe.channel", x, s->sub_ch, &s->nsub_ch)))
		return rc;
	s->has_sub = 1;
	return 0;
}

static int
ping_parse(struct load *l, struct spec *s, const json_t *v)
{
	static const char *const known[] = { "from", "every_s", "message", "answer", NULL };
	const char *from;
	json_t *x;
	double e;
	int rc;

	if (!json_is_object(v))
		return bad(l, "ping", "an object ({\"from\", \"every_s\", \"message\", \"answer\"}), not %s",
			   type_name(v));
	if ((rc = known_keys(l, "ping", v, known)))
		return rc;
	if (!(x = json_object_get(v, "from")) || !json_is_string(x))
		return bad(l, "ping.from", "missing: \"client\" or \"server\" (who sends the ping)");
	from = json_string_value(x);
	if (!strcmp(from, "client"))
		s->ping_from = SPEC_PING_CLIENT;
	else if (!strcmp(from, "server"))
		s->ping_from = SPEC_PING_SERVER;
	else
		return bad(l, "ping.from", "'%s' is neither \"client\" nor \"server\"", from);
	if (!(x = json_object_get(v, "every_s")))
		return bad(l, "ping.every_s", "missing: the seconds of silence before a ping (a number)");
	if (!json_is_number(x))
		return bad(l, "ping.every_s", "a number of seconds, not %s", type_name(x));
	e = json_number_value(x);
	if (!(e >= 0.1 && e <= 3600))
		return bad(l, "ping.every_s", "%g is outside 0.1 .. 3600 seconds", e);
	s->ping_every_ms = (uint32_t)(e * 1000 + 0.5);
	if (!(x = json_object_get(v, "message")))
		return bad(l, "ping.message", "missing: the ping (text, a JSON value, or a match object)");
	if ((rc = value_parse(l, "ping.message", x, s->ping_from == SPEC_PING_SERVER, &s->ping_msg)))
		return rc;
	if (!(x = json_object_get(v, "answer")))
		return bad(l, "ping.answer", "missing: the answer to the ping (text or a JSON value)");
	return value_parse(l, "ping.answer", x, 0, &s->ping_answer);
}

static int
name_parse(struct load *l, struct spec *s, const json_t *v)
{
	const char *n;
	size_t len;

	if (!v)
		return bad(l, "name", "missing: the feed's name ([a-z0-9-], shown as spec:NAME)");
	if (!json_is_string(v))
		return bad(l, "name", "a string, not %s", type_name(v));
	n = json_string_value(v);
	len = strlen(n);
	if (!len || len > 64 || len != json_string_length(v))
		return bad(l, "name", "1 to 64 characters of [a-z0-9-]");
	for (size_t i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
			return bad(l, "name", "'%s' has a character outside [a-z0-9-]", n);
	if (!(s->name = malloc(len + sizeof(FEED_SPEC_PREFIX))))
		return nomem(l);
	snprintf(s->name, len + sizeof(FEED_SPEC_PREFIX), FEED_SPEC_PREFIX "%s", n);
	return 0;
}

/* The members of the top-level object, in an order that keeps the messages readable. */
static int
members_parse(struct load *l, struct spec *s, const json_t *root)
{
	static const char *const known[] = {
		"wstape_feed_spec", "name", "doc",  "type", "channel",   "cursor", "seq",
		"events",           "key",  "data", "send", "subscribe", "ping",   NULL
	};
	json_t *x;
	int rc;

	if ((rc = known_keys(l, NULL, root, known)))
		return rc;
	x = json_object_get(root, "wstape_feed_spec");
	if (!x)
		return bad(l, "wstape_feed_spec", "missing: the format's version, 1");
	if (!json_is_integer(x) || json_integer_value(x) != 1)
		return bad(l, "wstape_feed_spec", "version 1 is the one known");
	if ((rc = name_parse(l, s, json_object_get(root, "name"))))
		return rc;
	if ((x = json_object_get(root, "doc")) && !json_is_string(x))
		return bad(l, "doc", "a string, not %s", type_name(x));
	if ((x = json_object_get(root, "type")) && (rc = ptr_parse(l, "type", x, &s->type)))
		return rc;
	if ((x = json_object_get(root, "channel")) &&
	    (rc = ptr_list(l, "channel", x, s->channel, &s->nchannel)))
		return rc;
	if ((x = json_object_get(root, "cursor")) && (rc = ptr_parse(l, "cursor", x, &s->cursor)))
		return rc;
	if ((x = json_object_get(root, "seq")) && (rc = seq_parse(l, s, x)))
		return rc;
	if ((x = json_object_get(root, "events")) && (rc = ptr_parse(l, "events", x, &s->events)))
		return rc;
	if ((x = json_object_get(root, "key"))) {
		if (!s->events.set)
			return bad(l, "key", "a dedup key needs \"events\" (the pointer to the events)");
		if ((rc = ptr_list(l, "key", x, s->key, &s->nkey)))
			return rc;
	}
	if ((x = json_object_get(root, "data")) && (rc = ptr_parse(l, "data", x, &s->data)))
		return rc;
	if ((x = json_object_get(root, "send")) && (rc = send_parse(l, s, x)))
		return rc;
	if ((x = json_object_get(root, "subscribe")) && (rc = subscribe_parse(l, s, x)))
		return rc;
	if ((x = json_object_get(root, "ping")) && (rc = ping_parse(l, s, x)))
		return rc;
	if (s->seq_rule && !s->nchannel)
		return bad(l, "seq", "a sequence is per channel: the spec needs \"channel\"");
	if (s->has_sub && !s->nchannel)
		return bad(l, "subscribe",
			   "replay gates a client's frames by channel: the spec needs \"channel\"");
	return 0;
}

static void
spec_classify_fields(const struct feed_fields *f, struct feed_msg *m)
{
	(void)f;
	m->cls = FEED_MSG_OTHER;
}

/* The feed table of the spec and its halves. */
static void
tables_setup(struct spec *s)
{
	s->client = spec_client_ops;
	s->inspect = spec_inspect_ops;
	s->inspect.seq_per_conn = s->per_conn;
	spec_server_setup(s);
	s->feed = (struct feed){
		.name = s->name,
		.classify = spec_classify_fields,
		.backoff_first_ms = 100,
		.backoff_cap_ms = 5000,
		.client = &s->client,
		.server = &s->server,
		.inspect = &s->inspect,
		.classify_payload = spec_classify,
		.events_foreach = spec_events_foreach,
	};
}

static void
spec_free(struct spec *s)
{
	struct spec_ptr *ptrs[] = { &s->type, &s->cursor, &s->events, &s->data,    &s->seq,
				    &s->prev, &s->first,  &s->last,   &s->sub_list };

	for (size_t i = 0; i < sizeof(ptrs) / sizeof(ptrs[0]); i++)
		ptr_free(ptrs[i]);
	for (int i = 0; i < SPEC_MAX_PTRS; i++) {
		ptr_free(&s->channel[i]);
		ptr_free(&s->key[i]);
		ptr_free(&s->sub_ch[i]);
	}
	for (int i = 0; i < s->nsend; i++)
		value_free(&s->send[i]);
	free(s->send);
	for (int i = 0; i < s->nsub_match; i++) {
		ptr_free(&s->sub_match[i].ptr);
		json_decref(s->sub_match[i].value);
	}
	free(s->sub_match);
	value_free(&s->ping_msg);
	value_free(&s->ping_answer);
	free(s->name);
	free(s->compact);
	free(s);
}

int
feed_spec_load(const char *text, size_t len, const char *origin, struct feed **out, char *err, size_t errlen)
{
	struct load l = { origin ? origin : "spec", err, errlen, 0 };
	json_error_t je;
	json_t *root;
	struct spec *s;
	int rc;

	*out = NULL;
	if (errlen)
		err[0] = '\0';
	if (!text || !(root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je))) {
		if (!text)
			return bad(&l, NULL, "no text");
		return bad(&l, NULL, "not JSON: line %d column %d: %s", je.line, je.column, je.text);
	}
	if (!json_is_object(root)) {
		rc = bad(&l, NULL, "a spec is a JSON object, not %s", type_name(root));
		json_decref(root);
		return rc;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		json_decref(root);
		return nomem(&l);
	}
	rc = members_parse(&l, s, root);
	if (!rc && !(s->compact = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER)))
		rc = nomem(&l);
	if (!rc && strlen(s->compact) > SPEC_MAX_COMPACT)
		rc = bad(&l, NULL, "%zu bytes as compact JSON: a journal keeps a spec of at most %d",
			 strlen(s->compact), SPEC_MAX_COMPACT);
	json_decref(root);
	if (rc) {
		spec_free(s);
		return l.nomem ? ENOMEM : rc;
	}
	tables_setup(s);
	*out = &s->feed;
	return 0;
}

int
feed_is_spec(const struct feed *feed)
{
	return feed && feed->classify_payload == spec_classify;
}

void
feed_spec_free(const struct feed *feed)
{
	if (feed_is_spec(feed))
		spec_free((struct spec *)feed);
}

const char *
feed_spec_text(const struct feed *feed)
{
	return feed_is_spec(feed) ? spec_of(feed)->compact : NULL;
}
