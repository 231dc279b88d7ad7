/* json_scan.c - allocation-free pull scanner for JSON (see json_scan.h) */
#include "feeds/json_scan.h"

#include <string.h>

/* p points just past an opening quote: return the byte past the closing quote.
 * Most strings in feeds are short (keys, coins, sides): a plain loop finds their end
 * faster than a call; long ones (hashes, addresses) go to memchr. */
static inline const char *
skip_string(const char *p, const char *end)
{
	const char *start = p;

	for (int i = 0; i < 16 && p < end; i++, p++) {
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			if (++p >= end)
				return NULL;
		}
	}
	for (;;) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		const char *r;

		if (!q)
			return NULL;
		/* an even number of backslashes before the quote: it closes the string */
		for (r = q; r > start && r[-1] == '\\'; r--)
			;
		if (((q - r) & 1) == 0)
			return q + 1;
		p = q + 1;
	}
}

static int
is_delim(char c)
{
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\r' || c == '\t' ||
		c == ':';
}

static const char *
skip_primitive(const char *p, const char *end)
{
	const char *s = p;

	if (!(*p == '-' || (*p >= '0' && *p <= '9') || *p == 't' || *p == 'f' || *p == 'n'))
		return NULL;
	while (p < end && !is_delim(*p)) {
		if ((unsigned char)*p < 0x20 || *p == '"' || *p == '{' || *p == '[')
			return NULL;
		p++;
	}
	if (*s == 't' && (p - s != 4 || memcmp(s, "true", 4)))
		return NULL;
	if (*s == 'f' && (p - s != 5 || memcmp(s, "false", 5)))
		return NULL;
	if (*s == 'n' && (p - s != 4 || memcmp(s, "null", 4)))
		return NULL;
	return p;
}

/* Bytes that matter when skipping a container: quotes and brackets. */
static const unsigned char special[256] = {
	['"'] = 1, ['{'] = 2, ['['] = 3, ['}'] = 4, [']'] = 5,
};

/* Skip a container whose opening bracket is at p: brackets must balance and match,
 * strings must close; the grammar in between is not checked. */
static const char *
skip_container(const char *p, const char *end)
{
	unsigned char stack[JSON_SCAN_MAX_DEPTH / 8];
	int depth = 0;

	while (p < end) {
		unsigned c = special[(unsigned char)*p];

		if (!c) {
			p++;
			continue;
		}
		switch (c) {
		case 1:
			if (!(p = skip_string(p + 1, end)))
				return NULL;
			continue;
		case 2:
		case 3:
			if (depth >= JSON_SCAN_MAX_DEPTH)
				return NULL;
			if (c == 2)
				stack[depth >> 3] |= (unsigned char)(1u << (depth & 7));
			else
				stack[depth >> 3] &= (unsigned char)~(1u << (depth & 7));
			depth++;
			break;
		default:
			if (depth == 0)
				return NULL;
			depth--;
			if (((stack[depth >> 3] >> (depth & 7)) & 1) != (c == 4))
				return NULL;
			if (depth == 0)
				return p + 1;
			break;
		}
		p++;
	}
	return NULL;
}

const char *
json_scan_value(const char *p, const char *end)
{
	if (p >= end)
		return NULL;
	switch (*p) {
	case '"': return skip_string(p + 1, end);
	case '{':
	case '[': return skip_container(p, end);
	default: return skip_primitive(p, end);
	}
}

static int
begin(struct json_scan_it *it, const char *p, const char *end, char open)
{
	p = json_scan_ws(p, end);
	if (p >= end || *p != open)
		return -1;
	it->p = p + 1;
	it->end = end;
	it->first = 1;
	return 0;
}

int
json_scan_object_begin(struct json_scan_it *it, const char *p, const char *end)
{
	return begin(it, p, end, '{');
}

int
json_scan_array_begin(struct json_scan_it *it, const char *p, const char *end)
{
	return begin(it, p, end, '[');
}

/* Before a member or element: the closing bracket (returns 0), a ',' unless first
 * (returns 1 with it->p at the item), or -1. */
static int
step(struct json_scan_it *it, char close)
{
	const char *p = json_scan_ws(it->p, it->end);

	if (p >= it->end)
		return -1;
	if (*p == close) {
		it->p = p + 1;
		return 0;
	}
	if (!it->first) {
		if (*p != ',')
			return -1;
		p = json_scan_ws(p + 1, it->end);
		if (p >= it->end || *p == close)
			return -1;
	}
	it->first = 0;
	it->p = p;
	return 1;
}

int
json_scan_object_next(struct json_scan_it *it, const char **key, size_t *key_len, const char **val,
		      size_t *val_len)
{
	const char *p, *k, *v;
	int r = step(it, '}');

	if (r <= 0)
		return r;
	p = it->p;
	if (*p != '"')
		return -1;
	k = p + 1;
	if (!(p = skip_string(k, it->end)))
		return -1;
	*key = k;
	*key_len = (size_t)(p - 1 - k);
	p = json_scan_ws(p, it->end);
	if (p >= it->end || *p != ':')
		return -1;
	v = json_scan_ws(p + 1, it->end);
	if (!(p = json_scan_value(v, it->end)))
		return -1;
	*val = v;
	*val_len = (size_t)(p - v);
	it->p = p;
	return 1;
}

int
json_scan_array_next(struct json_scan_it *it, const char **val, size_t *val_len)
{
	const char *p, *v;
	int r = step(it, ']');

	if (r <= 0)
		return r;
	v = it->p;
	if (!(p = json_scan_value(v, it->end)))
		return -1;
	*val = v;
	*val_len = (size_t)(p - v);
	it->p = p;
	return 1;
}

int
json_scan_document(const char *p, size_t len)
{
	const char *end = p + len;

	p = json_scan_ws(p, end);
	if (!(p = json_scan_value(p, end)))
		return -1;
	return json_scan_ws(p, end) == end ? 0 : -1;
}

int
json_scan_int(const char *v, size_t n, int64_t *out)
{
	uint64_t x = 0;
	int neg = 0;
	size_t i = 0;

	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v++;
		n -= 2;
	}
	if (n && v[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == n || n - i > 19)
		return -1;
	for (; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (uint64_t)(v[i] - '0');
	}
	if (x > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)x : (int64_t)x;
	return 0;
}
