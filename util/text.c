/* text.c - times, durations, base64, UTF-8 and JSON string helpers */
#include "text.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int
text_parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!s || !*s)
		return EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return EINVAL;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
parse_rfc3339(const char *s, int64_t *ns)
{
	int Y, M, D, h, m, sec, off = 0;
	int64_t frac = 0;

	if (digits(&s, 4, &Y) || *s++ != '-' || digits(&s, 2, &M) || *s++ != '-' || digits(&s, 2, &D))
		return -1;
	if (*s == '\0') {
		h = m = sec = 0;
	} else {
		if (*s != 'T' && *s != 't' && *s != ' ')
			return -1;
		s++;
		if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &m))
			return -1;
		sec = 0;
		if (*s == ':') {
			s++;
			if (digits(&s, 2, &sec))
				return -1;
		}
		if (*s == '.' || *s == ',') {
			int nd = 0;
			s++;
			if (!isdigit((unsigned char)*s))
				return -1;
			for (; isdigit((unsigned char)*s); s++, nd++)
				if (nd < 9)
					frac = frac * 10 + (*s - '0');
			for (; nd < 9; nd++)
				frac *= 10;
		}
		if (*s == 'Z' || *s == 'z') {
			s++;
		} else if (*s == '+' || *s == '-') {
			int sign = *s++ == '-' ? -1 : 1, oh, om;
			if (digits(&s, 2, &oh))
				return -1;
			if (*s == ':')
				s++;
			if (digits(&s, 2, &om))
				return -1;
			off = sign * (oh * 60 + om) * 60;
		} else if (*s != '\0') {
			return -1;
		}
		if (*s)
			return -1;
	}
	if (M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -1;
	int64_t t = days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec - off;
	/* ns since the epoch in an int64_t: 1677-09-21 to 2262-04-11 */
	if (t < INT64_MIN / 1000000000LL || t > (INT64_MAX - frac) / 1000000000LL)
		return -1;
	*ns = t * 1000000000LL + frac;
	return 0;
}

int
text_parse_time(const char *s, int64_t *ns)
{
	size_t n = strlen(s), nd = 0;
	uint64_t v;
	char num[32];

	if (n == 0)
		return EINVAL;
	while (nd < n && isdigit((unsigned char)s[nd]))
		nd++;
	if (nd == n || (nd > 0 && nd < n && !isdigit((unsigned char)s[nd]) && s[nd] != '-')) {
		/* epoch digits, maybe with a unit */
		const char *unit = s + nd;
		if (nd == 0 || nd >= sizeof(num))
			return EINVAL;
		memcpy(num, s, nd);
		num[nd] = 0;
		if (text_parse_u64(num, &v) || v > (uint64_t)INT64_MAX)
			return EINVAL;
		if (*unit == 0) {
			if (nd <= 10)
				unit = "s";
			else if (nd <= 13)
				unit = "ms";
			else if (nd <= 16)
				unit = "us";
			else
				unit = "ns";
		}
		uint64_t mul;
		if (!strcmp(unit, "s"))
			mul = 1000000000ULL;
		else if (!strcmp(unit, "ms"))
			mul = 1000000ULL;
		else if (!strcmp(unit, "us") || !strcmp(unit, "µs"))
			mul = 1000ULL;
		else if (!strcmp(unit, "ns"))
			mul = 1;
		else
			return EINVAL;
		if (v > (uint64_t)INT64_MAX / mul)
			return EINVAL;
		*ns = (int64_t)(v * mul);
		return 0;
	}
	return parse_rfc3339(s, ns) ? EINVAL : 0;
}

char *
text_format_time(int64_t ns, char *buf, size_t size)
{
	int64_t sec = ns / 1000000000LL, frac = ns % 1000000000LL;
	struct tm tm;
	time_t t;

	if (frac < 0) {
		frac += 1000000000LL;
		sec -= 1;
	}
	t = (time_t)sec;
	gmtime_r(&t, &tm);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long long)frac);
	return buf;
}

int
text_parse_duration(const char *s, int64_t *ns)
{
	char *end;
	double v;

	if (!s || !*s || *s == '-')
		return EINVAL;
	/* digits first: strtod also takes "nan", "inf" and hex floats */
	if ((!isdigit((unsigned char)*s) && *s != '.') || strpbrk(s, "xX"))
		return EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !(v >= 0) || v > 9.2e18)
		return EINVAL;
	double mul;
	if (!*end || !strcmp(end, "s"))
		mul = 1e9;
	else if (!strcmp(end, "ms"))
		mul = 1e6;
	else if (!strcmp(end, "us") || !strcmp(end, "µs"))
		mul = 1e3;
	else if (!strcmp(end, "ns"))
		mul = 1;
	else if (!strcmp(end, "m") || !strcmp(end, "min"))
		mul = 60e9;
	else if (!strcmp(end, "h"))
		mul = 3600e9;
	else if (!strcmp(end, "d"))
		mul = 86400e9;
	else
		return EINVAL;
	if (!(v * mul <= 9.2e18))
		return EINVAL;
	*ns = (int64_t)(v * mul + 0.5);
	return 0;
}

int
text_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !isdigit((unsigned char)*s))
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return EINVAL;
	uint64_t mul = 1;
	switch (tolower((unsigned char)*end)) {
	case 0: break;
	case 'k':
		mul = 1ULL << 10;
		end++;
		break;
	case 'm':
		mul = 1ULL << 20;
		end++;
		break;
	case 'g':
		mul = 1ULL << 30;
		end++;
		break;
	default: return EINVAL;
	}
	if (*end && strcasecmp(end, "b") && strcasecmp(end, "ib"))
		return EINVAL;
	if (v > UINT64_MAX / mul)
		return EINVAL;
	*out = v * mul;
	return 0;
}

int
text_hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
text_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		/* fast path: 8 ASCII bytes at a time */
		while (i + 8 <= n) {
			uint64_t w;
			memcpy(&w, s + i, 8);
			if (w & 0x8080808080808080ULL)
				break;
			i += 8;
		}
		if (i >= n)
			break;
		uint8_t c = s[i];
		if (c < 0x80) {
			i++;
		} else if (c >= 0xC2 && c <= 0xDF) {
			if (i + 1 >= n || (s[i + 1] & 0xC0) != 0x80)
				return 0;
			i += 2;
		} else if (c >= 0xE0 && c <= 0xEF) {
			if (i + 2 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80)
				return 0;
			if (c == 0xE0 && s[i + 1] < 0xA0)
				return 0;
			if (c == 0xED && s[i + 1] > 0x9F)
				return 0;
			i += 3;
		} else if (c >= 0xF0 && c <= 0xF4) {
			if (i + 3 >= n || (s[i + 1] & 0xC0) != 0x80 || (s[i + 2] & 0xC0) != 0x80 ||
			    (s[i + 3] & 0xC0) != 0x80)
				return 0;
			if (c == 0xF0 && s[i + 1] < 0x90)
				return 0;
			if (c == 0xF4 && s[i + 1] > 0x8F)
				return 0;
			i += 4;
		} else {
			return 0;
		}
	}
	return 1;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t
text_base64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

size_t
text_base64_encode(const uint8_t *in, size_t n, char *out)
{
	size_t o = 0, i = 0;

	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = b64[v >> 18];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = 0;
	return o;
}

long
text_base64_decode(const char *in, size_t n, uint8_t *out)
{
	static signed char rev[256];
	static int init;
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (!init) {
		memset(rev, -1, sizeof(rev));
		for (int i = 0; i < 64; i++)
			rev[(unsigned char)b64[i]] = (signed char)i;
		init = 1;
	}
	if (n % 4)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '=') {
			if (i < n - 2 || (i == n - 2 && in[n - 1] != '='))
				return -1;
			break;
		}
		if (rev[c] < 0)
			return -1;
		acc = acc << 6 | (uint32_t)rev[c];
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	return (long)o;
}

int
text_buf_reserve(struct text_buf *b, size_t extra)
{
	if (b->err)
		return b->err;
	if (extra < SIZE_MAX / 4 && b->len + extra + 1 <= b->cap)
		return 0;
	if (extra >= SIZE_MAX / 4 - b->len)
		return b->err = ENOMEM;
	size_t cap = b->cap ? b->cap : 256;
	while (cap < b->len + extra + 1)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (!p)
		return b->err = ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void
text_buf_add_base64(struct text_buf *b, const void *p, size_t n)
{
	if (text_buf_reserve(b, text_base64_len(n)))
		return;
	b->len += text_base64_encode(p, n, b->p + b->len);
	b->p[b->len] = 0;
}

int
text_buf_err(const struct text_buf *b)
{
	return b->err;
}

void
text_buf_add(struct text_buf *b, const void *p, size_t n)
{
	if (text_buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
}

void
text_buf_adds(struct text_buf *b, const char *s)
{
	text_buf_add(b, s, strlen(s));
}

void
text_buf_addf(struct text_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || text_buf_reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void
text_buf_free(struct text_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
	b->err = 0;
}

void
text_json_string(struct text_buf *b, const void *sv, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *s = sv;
	size_t i = 0, run;

	if (text_buf_reserve(b, n + 2))
		return;
	b->p[b->len++] = '"';
	while (i < n) {
		run = i;
		while (run < n && s[run] >= 0x20 && s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			text_buf_add(b, s + i, run - i);
			i = run;
			if (i >= n)
				break;
		}
		uint8_t c = s[i++];
		char e[6];
		switch (c) {
		case '"': text_buf_add(b, "\\\"", 2); break;
		case '\\': text_buf_add(b, "\\\\", 2); break;
		case '\n': text_buf_add(b, "\\n", 2); break;
		case '\r': text_buf_add(b, "\\r", 2); break;
		case '\t': text_buf_add(b, "\\t", 2); break;
		case '\b': text_buf_add(b, "\\b", 2); break;
		case '\f': text_buf_add(b, "\\f", 2); break;
		default:
			e[0] = '\\';
			e[1] = 'u';
			e[2] = '0';
			e[3] = '0';
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			text_buf_add(b, e, 6);
		}
	}
	text_buf_add(b, "\"", 1);
}
