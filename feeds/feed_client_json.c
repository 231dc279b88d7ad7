/* feed_client_json.c - JSON string helpers of the feed clients: decode a string's escapes,
 * compare a slice */
#include "feeds/feed_client_int.h"

#include <string.h>

int
feed_client_str_is(struct feed_str v, const char *s)
{
	size_t n = strlen(s);

	return v.len == n && memcmp(v.p, s, n) == 0;
}

/* The four hex digits at v.p[i], or -1. */
static long
hex4(struct feed_str v, size_t i)
{
	long x = 0;

	if (i + 4 > v.len)
		return -1;
	for (size_t k = i; k < i + 4; k++) {
		char h = v.p[k];
		int d = h >= '0' && h <= '9'   ? h - '0'
			: h >= 'a' && h <= 'f' ? h - 'a' + 10
			: h >= 'A' && h <= 'F' ? h - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		x = x * 16 + d;
	}
	return x;
}

long
feed_client_json_decode(struct feed_str v, char *dst, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < v.len; i++) {
		unsigned c = (unsigned char)v.p[i];
		char u[4];
		size_t ul = 1;

		if (c == '\\') {
			if (++i >= v.len)
				return -1;
			switch (v.p[i]) {
			case '"':
			case '\\':
			case '/': c = (unsigned char)v.p[i]; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u': {
				long cp = hex4(v, i + 1), lo;
				if (cp < 0)
					return -1;
				i += 4;
				if (cp >= 0xd800 && cp <= 0xdbff) {
					if (i + 2 >= v.len || v.p[i + 1] != '\\' || v.p[i + 2] != 'u' ||
					    (lo = hex4(v, i + 3)) < 0xdc00 || lo > 0xdfff)
						return -1;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				} else if (cp >= 0xdc00 && cp <= 0xdfff) {
					return -1;
				}
				if (!cp)
					return -1;
				if (cp < 0x80) {
					u[0] = (char)cp;
				} else if (cp < 0x800) {
					u[0] = (char)(0xc0 | cp >> 6);
					u[1] = (char)(0x80 | (cp & 63));
					ul = 2;
				} else if (cp < 0x10000) {
					u[0] = (char)(0xe0 | cp >> 12);
					u[1] = (char)(0x80 | (cp >> 6 & 63));
					u[2] = (char)(0x80 | (cp & 63));
					ul = 3;
				} else {
					u[0] = (char)(0xf0 | cp >> 18);
					u[1] = (char)(0x80 | (cp >> 12 & 63));
					u[2] = (char)(0x80 | (cp >> 6 & 63));
					u[3] = (char)(0x80 | (cp & 63));
					ul = 4;
				}
				if (n + ul > cap)
					return -1;
				memcpy(dst + n, u, ul);
				n += ul;
				continue;
			}
			default: return -1;
			}
		}
		if (!c || n + 1 > cap)
			return -1;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return (long)n;
}
