/* json_scan.h - an allocation-free pull scanner for JSON, used by the feeds
 *
 * Why not a token array (jsmn): a Hydromancer replay chunk holds up to 2,000 events in
 * up to 1 MB, i.e. ~100k tokens, while classification needs a dozen top-level fields and
 * three or four fields per event. This scanner walks the members of one object or the
 * elements of one array and skips every value it is not asked about in one pass (strings
 * with memchr), so memory is constant and nothing is tokenized twice.
 *
 * Strictness: the members and elements being walked are checked (quotes, ':' and ',');
 * values that are skipped are checked for balanced brackets and terminated strings only.
 * A truncated document is always detected.
 */
#ifndef WSTAPE_JSON_SCAN_H
#define WSTAPE_JSON_SCAN_H

#include <stddef.h>
#include <stdint.h>

/* Containers nested deeper than this are treated as malformed. */
#define JSON_SCAN_MAX_DEPTH 256

/* An iterator over the members of an object or the elements of an array. */
struct json_scan_it {
	const char *p, *end;
	int first;
};

/* Skip JSON whitespace. */
static inline const char *
json_scan_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
		p++;
	return p;
}

/* p points at the first byte of a value (no whitespace before it). Returns the byte past
 * the value, or NULL when it is malformed or runs past end. */
const char *json_scan_value(const char *p, const char *end);

/* Start walking the object or array whose '{' / '[' is at p (leading whitespace allowed).
 * Returns 0, or -1 when p does not start an object (resp. array). */
int json_scan_object_begin(struct json_scan_it *it, const char *p, const char *end);
int json_scan_array_begin(struct json_scan_it *it, const char *p, const char *end);

/* Next member: *key gets the key's contents (between the quotes, escapes as they are),
 * *val the value's text (strings with their quotes). Returns 1, 0 at the closing brace
 * (it->p then points past it), or -1 when malformed. */
int json_scan_object_next(struct json_scan_it *it, const char **key, size_t *key_len, const char **val,
			  size_t *val_len);

/* Next element of an array; same returns as json_scan_object_next. */
int json_scan_array_next(struct json_scan_it *it, const char **val, size_t *val_len);

/* A whole document: one value with only whitespace around it. Returns 0 or -1. */
int json_scan_document(const char *p, size_t len);

/* Integer value of a JSON number without fraction or exponent, or of a string holding
 * such a number. Returns 0 and *out, or -1. */
int json_scan_int(const char *v, size_t n, int64_t *out);

/* 1 when the value is the literal true. */
static inline int
json_scan_is_true(const char *v, size_t n)
{
	return n == 4 && v[0] == 't' && v[1] == 'r' && v[2] == 'u' && v[3] == 'e';
}

#endif
