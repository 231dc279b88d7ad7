/* redirect.c - HTTP redirects of the upgrade: where they point, whether they are followed,
 * and origins (a redirect to another origin gets no secrets) */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

static char *str_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *
str_printf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* The ws:// or wss:// URL that a Location names, relative to base (http becomes ws, https
 * wss); NULL when it names another scheme. Malloc'd. */
static char *
redirect_target(const char *base, const char *loc)
{
	const char *host = strstr(base, "://"), *path, *q, *slash = NULL;
	size_t c = strcspn(loc, ":/?#");

	if (!host)
		return NULL;
	host += 3;
	path = host + strcspn(host, "/?#");
	if (loc[c] == ':') {
		if (!strncasecmp(loc, "ws://", 5) || !strncasecmp(loc, "wss://", 6))
			return strdup(loc);
		if (!strncasecmp(loc, "http://", 7))
			return str_printf("ws://%s", loc + 7);
		if (!strncasecmp(loc, "https://", 8))
			return str_printf("wss://%s", loc + 8);
		return NULL;
	}
	if (loc[0] == '/' && loc[1] == '/')
		return str_printf("%.*s:%s", (int)(host - 3 - base), base, loc);
	if (loc[0] == '/')
		return str_printf("%.*s%s", (int)(path - base), base, loc);
	q = path + strcspn(path, "?#");
	for (const char *x = path; x < q; x++)
		if (*x == '/')
			slash = x;
	if (slash)
		return str_printf("%.*s%s", (int)(slash + 1 - base), base, loc);
	return str_printf("%.*s/%s", (int)(path - base), base, loc);
}

/* The userinfo of url (scheme://USERINFO@host...): its start and length; 0 when none. */
size_t
rec_url_userinfo(const char *url, const char **start)
{
	const char *p = strstr(url, "://"), *host_end, *at;

	if (!p)
		return 0;
	p += 3;
	host_end = p + strcspn(p, "/?#");
	if (!(at = memchr(p, '@', (size_t)(host_end - p))))
		return 0;
	*start = p;
	return (size_t)(at - p);
}

/* Removes "USERINFO@" from url in place: lws would take it for the host. The credentials
 * go in an Authorization header instead (parse_headers). */
void
rec_cut_userinfo(char *url)
{
	const char *s;
	size_t n = rec_url_userinfo(url, &s);

	if (n) {
		char *at = (char *)s + n + 1;
		memmove((char *)s, at, strlen(at) + 1);
	}
}

/* 1 when a and b have the same origin: scheme, host and port (default ports filled in);
 * userinfo is not part of an origin. */
int
rec_same_origin(const char *a, const char *b)
{
	char *ca = strdup(a), *cb = strdup(b);
	const char *pa, *ha, *xa, *pb, *hb, *xb;
	int porta, portb, same = 0;

	if (ca)
		rec_cut_userinfo(ca);
	if (cb)
		rec_cut_userinfo(cb);
	if (ca && cb && !lws_parse_uri(ca, &pa, &ha, &porta, &xa) &&
	    !lws_parse_uri(cb, &pb, &hb, &portb, &xb))
		same = !strcasecmp(pa, pb) && !strcasecmp(ha, hb) && porta == portb;
	free(ca);
	free(cb);
	return same;
}

/* url without userinfo and without the query parameters that hold secrets. Malloc'd. */
static char *
strip_url_secrets(const char *url)
{
	struct text_buf b = { 0 };
	const char *p = url, *q = strstr(url, "://"), *host_end, *at;
	int first = 1;

	if (q) {
		text_buf_add(&b, p, (size_t)(q + 3 - p));
		p = q + 3;
		host_end = p + strcspn(p, "/?#");
		if ((at = memchr(p, '@', (size_t)(host_end - p))))
			p = at + 1;
	}
	q = p + strcspn(p, "?#");
	text_buf_add(&b, p, (size_t)(q - p));
	p = q;
	if (*p == '?') {
		for (p++; *p && *p != '#';) {
			size_t len = strcspn(p, "&#"), nlen = strcspn(p, "=&#");
			if (len && !feed_secret_query_param(p, nlen < len ? nlen : len)) {
				text_buf_add(&b, first ? "?" : "&", 1);
				text_buf_add(&b, p, len);
				first = 0;
			}
			p += len;
			if (*p == '&')
				p++;
		}
	}
	text_buf_adds(&b, p);
	return b.p;
}

/* The redacted form of a URL the server named, safe to put in JSON. Malloc'd. */
static char *
redact_foreign(const char *url)
{
	struct text_buf b = { 0 };

	feed_redact_url(url, &b);
	if (!text_utf8_valid((const uint8_t *)b.p, b.len))
		for (size_t i = 0; i < b.len; i++)
			if ((unsigned char)b.p[i] >= 0x80)
				b.p[i] = '?';
	return b.p;
}

/* The attempt ended in HTTP 'status' (3xx) with r->redir_location. Journals the redirect
 * with its target (redacted) and, when allowed, schedules the next attempt there at once.
 * Returns 1 when it is followed, 0 when the attempt failed. */
int
rec_redirect_attempt(struct rec *r, int status)
{
	char *target = redirect_target(r->url.p, r->redir_location), *shown;
	const char *why_not = NULL;
	struct text_buf err = { 0 }, ex = { 0 };
	int cross = 0, follow = 0;

	if (!target) {
		why_not = "it names a scheme other than ws, wss, http or https";
	} else {
		cross = !rec_same_origin(r->o->url, target);
		if (!strncasecmp(r->url.p, "wss:", 4) && !strncasecmp(target, "ws:", 3))
			why_not = "it goes from wss to unencrypted ws";
		else if (!r->o->follow_redirects)
			why_not = "redirects are followed only with --follow-redirects";
		else if (r->redirects >= MAX_REDIRECTS)
			why_not = "more than 5 redirects in a row";
		else
			follow = 1;
	}
	shown = redact_foreign(target ? target : r->redir_location);
	text_buf_addf(&err, "HTTP %d redirect to %s", status, shown);
	if (why_not)
		text_buf_addf(&err, " not followed: %s", why_not);
	text_buf_adds(&ex, ",\"location\":");
	text_json_string(&ex, shown, strlen(shown));
	text_buf_addf(&ex, ",\"followed\":%s,\"cross_origin\":%s", follow ? "true" : "false",
		      cross ? "true" : "false");
	if (follow && cross)
		text_buf_adds(&ex, ",\"credentials_withheld\":true");
	rec_journal_error_ex(r, err.p, "http", status, ex.p);
	if (follow) {
		log_info("connection %u: %s%s", r->conn, err.p,
			 cross ? " (another origin: without the credentials)" : "");
		if (!r->redirects) {
			free(r->redirected_from);
			r->redirected_from = strdup(r->url_redacted);
		}
		r->redirects++;
		free(r->next_url);
		r->next_url = cross ? strip_url_secrets(target) : target;
		if (cross)
			free(target);
		target = NULL;
		lws_sul_schedule(r->ctx, 0, &r->sul_retry, rec_retry_cb, 1);
	} else {
		log_warn("connection %u: %s", r->conn, err.p);
	}
	free(target);
	free(shown);
	text_buf_free(&err);
	text_buf_free(&ex);
	return follow;
}
