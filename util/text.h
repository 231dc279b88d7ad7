/* text.h - small text helpers shared by the commands: times, durations, base64, UTF-8, JSON strings */
#ifndef WSTAPE_TEXT_H
#define WSTAPE_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Parse a point in time: RFC 3339 ("2026-11-22T10:00:00Z", "2026-11-22T10:00:00.123456789+01:00",
 * also with a space for 'T'), or epoch time as digits: 10 digits or fewer = seconds,
 * 11-13 = ms, 14-16 = µs, 17+ = ns; or digits with a unit suffix "s", "ms", "us", "ns".
 * Returns 0 and *ns (ns since the epoch), or EINVAL when the text is not a time or one that
 * 64-bit ns cannot hold (before 1677-09-21 or after 2262-04-11). */
int text_parse_time(const char *s, int64_t *ns);

/* Format ns since the epoch as RFC 3339 UTC with nanoseconds: "2026-11-22T10:00:00.123456789Z".
 * buf needs 36 bytes. Returns buf. */
char *text_format_time(int64_t ns, char *buf, size_t size);

/* Parse a duration: a number with a unit "ns", "us", "ms", "s", "m", "h", "d" ("1.5s", "250ms", "7d"),
 * a bare number meaning seconds. Returns 0 and *ns, or EINVAL. */
int text_parse_duration(const char *s, int64_t *ns);

/* Parse a size: a number with an optional unit "k", "m", "g" (powers of 1024, "KiB"/"KB"
 * accepted as the same). Returns 0 and *out, or EINVAL. */
int text_parse_size(const char *s, uint64_t *out);

/* Parse an unsigned decimal integer that fills the whole string. Returns 0 or EINVAL. */
int text_parse_u64(const char *s, uint64_t *out);

/* 1 when buf[0..n) is valid UTF-8 (no overlongs, no surrogates), else 0. */
int text_utf8_valid(const uint8_t *buf, size_t n);

/* Base64 (standard alphabet, padded). text_base64_encode writes 4*ceil(n/3) bytes plus a
 * NUL into out (which must hold text_base64_len(n) + 1) and returns the length.
 * text_base64_decode writes at most 3*n/4 bytes, returns the length or -1 on bad input. */
size_t text_base64_len(size_t n);
size_t text_base64_encode(const uint8_t *in, size_t n, char *out);
long text_base64_decode(const char *in, size_t n, uint8_t *out);

/* The value of a hex digit (either case), or -1 when c is not one. */
int text_hex_value(int c);

/* A growable byte buffer. Zero-initialise; text_buf_free() releases (and clears the error).
 * The error is sticky: when memory runs out, the append that needed it does nothing,
 * err becomes ENOMEM, and every later append does nothing either, so that a builder of a
 * message appends freely and checks text_buf_err() once when it is done. p holds what was
 * appended before the failure, NUL-terminated (NULL when nothing was). */
struct text_buf {
	char *p;
	size_t len, cap;
	int err;
};
/* Room for extra more bytes (and the NUL). Returns 0 or ENOMEM (then sticky). */
int text_buf_reserve(struct text_buf *b, size_t extra);
/* Append p[0..n) as base64 (text_base64_encode). */
void text_buf_add_base64(struct text_buf *b, const void *p, size_t n);
/* 0, or ENOMEM when an append failed since the buffer was zeroed or freed. */
int text_buf_err(const struct text_buf *b);
void text_buf_add(struct text_buf *b, const void *p, size_t n);
void text_buf_adds(struct text_buf *b, const char *s);
void text_buf_addf(struct text_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void text_buf_free(struct text_buf *b);

/* Append s[0..n) as a JSON string, quotes included. The bytes must be valid UTF-8;
 * control characters, '"' and '\\' are escaped. */
void text_json_string(struct text_buf *b, const void *s, size_t n);

#endif
