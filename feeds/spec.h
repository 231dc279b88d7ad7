/* spec.h - a feed declared as data: `--feed spec:FILE.json` (docs/SPEC.md)
 *
 * A spec is a JSON document that describes one JSON feed without code: JSON pointers to a
 * message's type, channel, cursor, sequence and events, the fields of an event's dedup key,
 * the sequence rule, the messages to send after each open, how a client's subscribe names
 * channels, and an application-level ping with its answer. feed_spec_load() builds a
 * struct feed at run time whose classification and three halves read the spec; it is a
 * feed like the built-in ones (a `const struct feed *`), named "spec:NAME".
 */
#ifndef WSTAPE_SPEC_H
#define WSTAPE_SPEC_H

#include <stddef.h>

struct feed;

/* The prefix of a spec feed's name, and of --feed's argument. */
#define FEED_SPEC_PREFIX "spec:"

/* Build a feed from the spec text[0..len). origin names it in errors (the file). Returns 0
 * and *out (free it with feed_spec_free), EINVAL with what is wrong in err ("ORIGIN: MEMBER:
 * WHAT", NUL-terminated, cut to errlen), or ENOMEM. Never crashes on bad input. */
int
feed_spec_load(const char *text, size_t len, const char *origin, struct feed **out, char *err, size_t errlen);
/* feed_spec_free(NULL) is a no-op; a built-in feed is left alone. */
void feed_spec_free(const struct feed *feed);

/* 1 when feed was built from a spec. */
int feed_is_spec(const struct feed *feed);
/* The spec as compact JSON on one line (members in their order), as a journal's META
 * keeps it ("feed_spec"); NULL for a built-in feed. Owned by the feed. */
const char *feed_spec_text(const struct feed *feed);

#endif
