/* names.c - the names of a journal in a stream: recorder ids, subject names and tokens, and
 * the escaping of bytes in header values */
#include <string.h>
#include <unistd.h>

#include "jetstream/jetstream.h"

static int
name_byte(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
		c == '-';
}

static int
chars_ok(const char *s, size_t max, int dot)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!name_byte((unsigned char)s[i]) && !(dot && s[i] == '.'))
			return 0;
	return 1;
}

int
js_recorder_ok(const char *s)
{
	return chars_ok(s, JS_MAX_RECORDER, 1);
}

int
js_name_ok(const char *s)
{
	return chars_ok(s, JS_MAX_NAME, 0);
}

void
js_default_name(const char *journal_path, char *out, size_t cap)
{
	const char *p = journal_path ? journal_path : "";
	size_t n = strlen(p);
	while (n > 1 && p[n - 1] == '/')
		n--;
	size_t b = n;
	while (b > 0 && p[b - 1] != '/')
		b--;
	size_t k = 0;
	for (size_t i = b; i < n && k < JS_MAX_NAME && k + 1 < cap; i++)
		out[k++] = name_byte((unsigned char)p[i]) ? p[i] : '_';
	if (k == 0 || (k == 1 && out[0] == '_')) {
		k = 0;
		const char *d = "journal";
		while (d[k] && k + 1 < cap)
			out[k] = d[k], k++;
	}
	if (cap)
		out[k] = '\0';
}

static const char hex[] = "0123456789ABCDEF";

static size_t
put_escape(unsigned char c, char *out, size_t k)
{
	out[k] = '%';
	out[k + 1] = hex[c >> 4];
	out[k + 2] = hex[c & 15];
	return k + 3;
}

size_t
js_subject_token(const char *ch, size_t n, char *out, size_t cap)
{
	size_t k = 0;
	if (n == 0) {
		if (cap < 2)
			return 0;
		out[0] = '_';
		out[1] = '\0';
		return 1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ch[i];
		int lone_underscore = n == 1 && c == '_';
		if (name_byte(c) && !lone_underscore) {
			if (k + 2 > cap)
				return 0;
			out[k++] = (char)c;
		} else {
			if (k + 4 > cap)
				return 0;
			k = put_escape(c, out, k);
		}
	}
	out[k] = '\0';
	return k;
}

size_t
js_subject(const char *name, const char *ch, size_t n, char *out, size_t cap)
{
	size_t a = strlen(JS_SUBJECT_ROOT), b = strlen(name);
	if (a + 1 + b + 1 >= cap)
		return 0;
	memcpy(out, JS_SUBJECT_ROOT, a);
	out[a] = '.';
	memcpy(out + a + 1, name, b);
	out[a + 1 + b] = '.';
	size_t t = js_subject_token(ch, n, out + a + b + 2, cap - (a + b + 2));
	return t ? a + b + 2 + t : 0;
}

size_t
js_hdr_escape(const void *p, size_t n, char *out, size_t cap)
{
	const unsigned char *s = p;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] > 0x20 && s[i] < 0x7f && s[i] != '%') {
			if (k + 2 > cap)
				return 0;
			out[k++] = (char)s[i];
		} else {
			if (k + 4 > cap)
				return 0;
			k = put_escape(s[i], out, k);
		}
	}
	if (cap == 0)
		return 0;
	out[k] = '\0';
	return k;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t
js_hdr_unescape(const char *s, size_t n, void *out, size_t cap)
{
	unsigned char *o = out;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			int h = i + 2 < n ? hexval(s[i + 1]) : -1, l = h >= 0 ? hexval(s[i + 2]) : -1;
			if (l < 0)
				return (size_t)-1;
			c = h << 4 | l;
			i += 2;
		}
		if (k >= cap)
			return (size_t)-1;
		o[k++] = (unsigned char)c;
	}
	return k;
}

void
js_default_recorder(char *out, size_t cap)
{
	char host[256] = "";
	size_t k = 0;

	if (gethostname(host, sizeof host - 1) != 0)
		host[0] = 0;
	for (size_t i = 0; host[i] && k < JS_MAX_RECORDER && k + 1 < cap; i++) {
		unsigned char c = (unsigned char)host[i];
		out[k++] = name_byte(c) || c == '.' ? (char)c : '_';
	}
	if (k == 0) {
		const char *d = "recorder";
		while (d[k] && k + 1 < cap)
			out[k] = d[k], k++;
	}
	if (cap)
		out[k] = '\0';
}
