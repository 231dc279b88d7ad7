/* raw_client.c - the client side every feed shares (the raw feed is just this): options,
 * --send after each connect, backoff, session/cursor memory and URL redaction */
#include "feeds/feed_client_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
		int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 :
			h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
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
			case '"': case '\\': case '/': c = (unsigned char)v.p[i]; break;
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
			default:
				return -1;
			}
		}
		if (!c || n + 1 > cap)
			return -1;
		dst[n++] = (char)c;
	}
	dst[n] = '\0';
	return (long)n;
}

static char *
dup_n(const char *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

int
feed_client_new(const struct feed_client_options *opt, struct feed_client **out)
{
	struct feed_client *fc;

	*out = NULL;
	if (!opt || !opt->url || (unsigned)opt->feed >= FEED_COUNT)
		return EINVAL;
	if (!(fc = calloc(1, sizeof(*fc))))
		return ENOMEM;
	fc->feed = opt->feed;
	feed_cursor_track_init(&fc->trk, opt->feed);
	fc->ping_ms = opt->ping_ms;
	fc->hello_timeout_ms = opt->hello_timeout_ms ? opt->hello_timeout_ms : 10000;
	if (!(fc->url = strdup(opt->url)))
		goto nomem;
	if (opt->nsends > 0) {
		fc->sends = calloc((size_t)opt->nsends, sizeof(char *));
		fc->send_lens = calloc((size_t)opt->nsends, sizeof(size_t));
		if (!fc->sends || !fc->send_lens)
			goto nomem;
		for (int i = 0; i < opt->nsends; i++, fc->nsends++) {
			size_t n = opt->send_lens ? opt->send_lens[i] : strlen(opt->sends[i]);
			if (!(fc->sends[i] = dup_n(opt->sends[i], n)))
				goto nomem;
			fc->send_lens[i] = n;
		}
	}
	if (opt->nsubscribe > 0) {
		if (!(fc->subscribe = calloc((size_t)opt->nsubscribe, sizeof(char *))))
			goto nomem;
		for (int i = 0; i < opt->nsubscribe; i++, fc->nsubscribe++)
			if (!(fc->subscribe[i] = strdup(opt->subscribe[i])))
				goto nomem;
	}
	if (opt->live_format && !(fc->live_format = strdup(opt->live_format)))
		goto nomem;
	if (opt->configure) {
		if (!(fc->configure = dup_n(opt->configure, opt->configure_len)))
			goto nomem;
		fc->configure_len = opt->configure_len;
	}
	*out = fc;
	return 0;
nomem:
	feed_client_free(fc);
	return ENOMEM;
}

void
feed_client_free(struct feed_client *fc)
{
	if (!fc)
		return;
	for (int i = 0; i < fc->nsends; i++)
		free(fc->sends[i]);
	free(fc->sends);
	free(fc->send_lens);
	for (int i = 0; i < fc->nsubscribe; i++)
		free(fc->subscribe[i]);
	free(fc->subscribe);
	free(fc->live_format);
	free(fc->configure);
	free(fc->url);
	free(fc);
}

static void
set_str(char *dst, size_t cap, const void *p, size_t n)
{
	if (!p)
		n = 0;
	if (n > cap)
		n = cap;
	if (n)
		memcpy(dst, p, n);
	dst[n] = '\0';
}

void
feed_client_set_session(struct feed_client *fc, const char *session_id, size_t n)
{
	set_str(fc->session, FEED_CLIENT_MAX_SESSION, session_id, n);
}

void
feed_client_set_cursor(struct feed_client *fc, const void *cursor, size_t n)
{
	feed_cursor_track_init(&fc->trk, fc->feed);
	set_str(fc->trk.cursor, FEED_CLIENT_MAX_CURSOR, cursor, n);
}

void
feed_client_set_track(struct feed_client *fc, const struct feed_cursor_track *t)
{
	fc->trk = *t;
	fc->trk.feed = fc->feed;
}

const char *
feed_client_refusal(const struct feed_client *fc)
{
	return fc->refusal;
}

const char *
feed_client_session(const struct feed_client *fc)
{
	return fc->session;
}

const char *
feed_client_cursor(const struct feed_client *fc)
{
	return fc->trk.cursor;
}

void
feed_client_url(const struct feed_client *fc, struct text_buf *out)
{
	if (fc->feed == FEED_HYDROMANCER) {
		hydromancer_client_url(fc, out);
		return;
	}
	text_buf_adds(out, fc->url);
	text_buf_reserve(out, 1);
	out->p[out->len] = '\0';
}

void
feed_client_on_open(struct feed_client *fc, feed_send_fn send, void *ud)
{
	fc->hello_ok = 0;
	fc->last_ping_ms = 0;
	if (fc->feed == FEED_LASERSELL)
		lasersell_client_on_open(fc, send, ud);   /* --send follows hello_ok there */
	else
		feed_client_send_all(fc, send, ud);
}

void
feed_client_set_foreign(struct feed_client *fc, int foreign)
{
	fc->foreign = foreign;
	fc->withheld = 0;
}

int
feed_client_withheld(const struct feed_client *fc)
{
	return fc->withheld;
}

void
feed_client_send_all(struct feed_client *fc, feed_send_fn send, void *ud)
{
	if (fc->foreign) {
		fc->withheld = fc->nsends;   /* they may hold credentials (an auth message) */
		return;
	}
	for (int i = 0; i < fc->nsends; i++)
		send(ud, fc->sends[i], fc->send_lens[i]);
}

int
feed_client_on_message(struct feed_client *fc, const struct feed_msg *m, feed_send_fn send, void *ud)
{
	switch (fc->feed) {
	case FEED_HYDROMANCER:
		return hydromancer_client_on_message(fc, m, send, ud);
	case FEED_LASERSELL:
		return lasersell_client_on_message(fc, m, send, ud);
	default:
		return 0;
	}
}

void
feed_client_on_close(struct feed_client *fc, int established)
{
	fc->hello_ok = 0;
	fc->last_ping_ms = 0;
}

uint32_t
feed_client_backoff_ms(const struct feed_client *fc, unsigned attempt)
{
	return feed_backoff_ms(fc->feed, attempt);
}

int
feed_client_ready(const struct feed_client *fc)
{
	return fc->feed != FEED_LASERSELL || fc->hello_ok;
}

int
feed_client_tick(struct feed_client *fc, uint64_t ms, feed_send_fn send, void *ud)
{
	if (fc->feed == FEED_LASERSELL)
		return lasersell_client_tick(fc, ms, send, ud);
	return 0;
}

static int
name_in(const char *name, size_t n, const char *const *list)
{
	for (; *list; list++)
		if (strlen(*list) == n && strncasecmp(name, *list, n) == 0)
			return 1;
	return 0;
}

/* Names added with feed_secret_param_add() (--redact-param): for the whole process. */
static char **extra_params;
static int nextra_params;

int
feed_secret_param_add(const char *name)
{
	char **v, *c;

	if (!name || !*name)
		return EINVAL;
	if (!(c = strdup(name)))
		return ENOMEM;
	if (!(v = realloc(extra_params, sizeof(*v) * (size_t)(nextra_params + 1)))) {
		free(c);
		return ENOMEM;
	}
	extra_params = v;
	v[nextra_params++] = c;
	return 0;
}

void
feed_secret_params_clear(void)
{
	for (int i = 0; i < nextra_params; i++)
		free(extra_params[i]);
	free(extra_params);
	extra_params = NULL;
	nextra_params = 0;
}

static int
ends_with(const char *name, size_t n, const char *suffix)
{
	size_t l = strlen(suffix);

	return n >= l && strncasecmp(name + n - l, suffix, l) == 0;
}

int
feed_secret_query_param(const char *name, size_t n)
{
	/* the exact names: tokens, keys, passwords, signatures of signed URLs (S3's, GCS's) */
	static const char *const names[] = { "token", "access_token", "refresh_token", "id_token",
		"auth_token", "session_token", "api_key", "apikey", "api-key", "x-api-key", "key",
		"secret", "client_secret", "sig", "signature", "password", "passwd", "pwd", "pass",
		"auth", "authorization", "jwt", "credential", "credentials", "x-amz-credential",
		"x-amz-signature", "x-amz-security-token", "x-goog-credential", "x-goog-signature", NULL };
	/* and any name that ends like one: accessToken, sessionToken, app_secret, private_key */
	static const char *const suffixes[] = { "token", "secret", "signature", "password",
		"_key", "-key", "apikey", NULL };

	if (name_in(name, n, names))
		return 1;
	for (const char *const *s = suffixes; *s; s++)
		if (ends_with(name, n, *s))
			return 1;
	for (int i = 0; i < nextra_params; i++)
		if (strlen(extra_params[i]) == n && strncasecmp(name, extra_params[i], n) == 0)
			return 1;
	return 0;
}

int
feed_secret_header(const char *name, size_t n)
{
	static const char *const names[] = { "authorization", "x-api-key", "cookie",
		"proxy-authorization", NULL };

	while (n && (name[n - 1] == ':' || name[n - 1] == ' '))
		n--;
	return name_in(name, n, names);
}

void
feed_redact_url(const char *url, struct text_buf *out)
{
	const char *p = url, *q, *auth_end, *host_end;

	/* userinfo: scheme://user:pass@host */
	if ((q = strstr(p, "://"))) {
		text_buf_add(out, p, (size_t)(q + 3 - p));
		p = q + 3;
		host_end = p + strcspn(p, "/?#");
		auth_end = memchr(p, '@', (size_t)(host_end - p));
		if (auth_end) {
			text_buf_adds(out, "REDACTED@");
			p = auth_end + 1;
		}
	}
	q = p + strcspn(p, "?#");
	text_buf_add(out, p, (size_t)(q - p));
	p = q;
	if (*p == '?') {
		text_buf_add(out, "?", 1);
		p++;
		while (*p && *p != '#') {
			size_t len = strcspn(p, "&#"), nlen = strcspn(p, "=&#");
			if (nlen < len && feed_secret_query_param(p, nlen)) {
				text_buf_add(out, p, nlen + 1);
				text_buf_adds(out, "REDACTED");
			} else {
				text_buf_add(out, p, len);
			}
			p += len;
			if (*p == '&') {
				text_buf_add(out, "&", 1);
				p++;
			}
		}
	}
	text_buf_adds(out, p);
	text_buf_reserve(out, 1);
	out->p[out->len] = '\0';
}
