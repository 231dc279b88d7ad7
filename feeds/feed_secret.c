/* feed_secret.c - which query parameters and headers hold secrets, and URL redaction, for
 * the recorder's journal and logs and for what `record` prints */
#include "feeds/feed_client.h"
#include "util/text.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

static int secret_name(const char *name, size_t n);

/* A server reads a parameter's name percent-decoded (and '+' as a space): "%73ig" is
 * "sig". The name is matched as the server reads it. */
int
feed_secret_query_param(const char *name, size_t n)
{
	char dec[256];
	size_t o = 0;

	if (!memchr(name, '%', n) && !memchr(name, '+', n))
		return secret_name(name, n);
	for (size_t i = 0; i < n && o < sizeof(dec); i++) {
		if (name[i] == '%' && i + 2 < n && text_hex_value(name[i + 1]) >= 0 &&
		    text_hex_value(name[i + 2]) >= 0) {
			dec[o++] = (char)(text_hex_value(name[i + 1]) << 4 | text_hex_value(name[i + 2]));
			i += 2;
		} else {
			dec[o++] = name[i] == '+' ? ' ' : name[i];
		}
	}
	return o >= sizeof(dec) ? 1 : secret_name(dec, o); /* a name that long: redacted */
}

static int
secret_name(const char *name, size_t n)
{
	/* the exact names: tokens, keys, passwords, signatures of signed URLs (S3's, GCS's) */
	static const char *const names[] = { "token",
					     "access_token",
					     "refresh_token",
					     "id_token",
					     "auth_token",
					     "session_token",
					     "api_key",
					     "apikey",
					     "api-key",
					     "x-api-key",
					     "key",
					     "secret",
					     "client_secret",
					     "sig",
					     "signature",
					     "password",
					     "passwd",
					     "pwd",
					     "pass",
					     "auth",
					     "authorization",
					     "jwt",
					     "credential",
					     "credentials",
					     "x-amz-credential",
					     "x-amz-signature",
					     "x-amz-security-token",
					     "x-goog-credential",
					     "x-goog-signature",
					     NULL };
	/* and any name that ends like one: accessToken, sessionToken, app_secret, private_key */
	static const char *const suffixes[] = { "token", "secret", "signature", "password",
						"_key",  "-key",   "apikey",    NULL };

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
	static const char *const names[] = { "authorization", "x-api-key", "cookie", "proxy-authorization",
					     NULL };

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
