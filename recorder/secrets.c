/* secrets.c - headers and their secrets: the upgrade headers, the URL's userinfo as
 * Authorization, and lws's log lines with secrets removed (and RFC 6455 violations named) */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

/* ---- redaction of lws's log lines ---- */

/* The recording whose secrets lws's log lines lose (lws's log callback has no user data). */
struct rec *rec_log;

/* libwebsockets 4.1 fails a connection whose server breaks RFC 6455 without telling the
 * application why: the reason is only in its log (info and warn lines of the client frame
 * parser). These are those lines, and what each means. */
static const struct {
	const char *line, *what;
} violations[] = {
	{ "illegal opcode", "a frame with a reserved opcode" },
	{ "illegal rsv bits set", "a frame with RSV bits set and no extension negotiated" },
	{ "control msg can't be fragmented", "a fragmented control frame" },
	{ "Control frame asking for extended length", "a control frame longer than 125 bytes" },
	{ "disordered continuation", "a continuation frame with no message to continue" },
	{ "hey you owed us a FIN", "a new data frame inside a fragmented message" },
	{ "b63 of length must be zero", "a frame length with its most significant bit set" },
	{ "utf8 error", "a text frame that is not UTF-8" },
};

/* Every occurrence of secret s in the line buf (of size n) becomes "REDACTED"; a line that
 * would grow past n is cut there, so the secret never shows in part. */
static void
redact_all(char *buf, size_t n, const char *s)
{
	static const char red[] = "REDACTED";
	const size_t rl = sizeof(red) - 1, sl = strlen(s);
	char *p = buf;

	if (!sl)
		return;
	while ((p = strstr(p, s))) {
		size_t tail = strlen(p + sl), at = (size_t)(p - buf);
		if (at + rl >= n) {
			*p = '\0';
			return;
		}
		if (at + rl + tail >= n)
			tail = n - 1 - at - rl;
		memmove(p + rl, p + sl, tail);
		memcpy(p, red, rl);
		p[rl + tail] = '\0';
		p += rl;
	}
}

void
rec_lws_log_emit(int level, const char *line)
{
	char buf[1024];
	size_t n = strlen(line);
	int lv = level == LLL_ERR ? LOG_INFO : LOG_DEBUG;

	if (rec_log && (level & (LLL_INFO | LLL_WARN)) && !rec_log->proto_error[0])
		for (size_t i = 0; i < sizeof(violations) / sizeof(violations[0]); i++)
			if (strstr(line, violations[i].line)) {
				snprintf(rec_log->proto_error, sizeof(rec_log->proto_error), "%s",
					 violations[i].what);
				break;
			}
	/* info lines are asked for only to catch those above */
	if (level == LLL_INFO || (lv > log_threshold && level != LLL_ERR))
		return;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	for (int i = 0; rec_log && i < rec_log->nsecrets; i++)
		redact_all(buf, sizeof(buf), rec_log->secrets[i]);
	if (rec_log && level == LLL_ERR) {
		const char *e = strstr(buf, "SSL error: ");
		if (e)
			snprintf(rec_log->tls_error, sizeof(rec_log->tls_error), "%s", e + 11);
	}
	if (lv <= log_threshold)
		log_msg(lv, "lws: %s", buf);
}

void
rec_add_secret(struct rec *r, const char *v, size_t n)
{
	char **s;

	while (n && *v == ' ')
		v++, n--;
	if (n < 3)
		return;
	for (int i = 0; i < r->nsecrets; i++) /* every attempt collects the URL's again */
		if (strlen(r->secrets[i]) == n && !memcmp(r->secrets[i], v, n))
			return;
	if (!(s = realloc(r->secrets, sizeof(*s) * (size_t)(r->nsecrets + 1))))
		return;
	r->secrets = s;
	if ((s[r->nsecrets] = strndup(v, n)))
		r->nsecrets++;
}

/* Secret values in the URL's query, so that they can be removed from lws's log lines. */
void
rec_collect_url_secrets(struct rec *r, const char *url)
{
	const char *p = strchr(url, '?');

	if (!p)
		return;
	for (p++; *p && *p != '#';) {
		size_t len = strcspn(p, "&#"), nlen = strcspn(p, "=&#");
		if (nlen < len && feed_secret_query_param(p, nlen))
			rec_add_secret(r, p + nlen + 1, len - nlen - 1);
		p += len;
		if (*p == '&')
			p++;
	}
}

/* The URL's userinfo (user:password, percent-decoded) as the header "Authorization: Basic
 * BASE64", as WebSocket clients do, unless the user gave an Authorization header: a secret,
 * so never sent to another origin. Returns 0, ENOMEM or RECORDER_EURL (too long). */
int
rec_userinfo_header(struct rec *r)
{
	const char *ui;
	size_t n = rec_url_userinfo(r->o->url, &ui);
	char dec[512], b64[700 + 8];
	struct header *hd;
	int dn;

	if (!n)
		return 0;
	for (int i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, "Authorization:"))
			return 0;
	if (n >= sizeof(dec))
		return RECORDER_EURL;
	memcpy(dec, ui, n);
	dec[n] = '\0';
	rec_add_secret(r, dec, n);
	if (lws_urldecode(dec, dec, (int)sizeof(dec)))
		return RECORDER_EURL;
	dn = (int)strlen(dec);
	if (lws_b64_encode_string(dec, dn, b64 + 6, (int)sizeof(b64) - 6) < 0)
		return RECORDER_EURL;
	memcpy(b64, "Basic ", 6);
	{
		const char *colon = strchr(dec, ':');
		if (colon && colon[1])
			rec_add_secret(r, colon + 1, strlen(colon + 1));
	}
	hd = &r->headers[r->nheaders];
	if (!(hd->name = strdup("Authorization:")) || !(hd->value = strdup(b64)))
		return ENOMEM;
	hd->secret = 1;
	r->nheaders++;
	rec_add_secret(r, b64 + 6, strlen(b64 + 6));
	return 0;
}

int
rec_parse_headers(struct rec *r)
{
	const struct recorder_options *o = r->o;

	/* one more for the URL's userinfo (userinfo_header) */
	if (!(r->headers = calloc((size_t)o->nheaders + 1, sizeof(*r->headers))))
		return ENOMEM;
	for (int i = 0; i < o->nheaders; i++) {
		const char *h = o->headers[i], *colon = strchr(h, ':');
		struct header *hd = &r->headers[i];
		if (!colon || colon == h)
			return RECORDER_EINVAL;
		if (asprintf(&hd->name, "%.*s:", (int)(colon - h), h) < 0) {
			hd->name = NULL;
			return ENOMEM;
		}
		colon++;
		while (*colon == ' ' || *colon == '\t')
			colon++;
		if (!(hd->value = strdup(colon)))
			return ENOMEM;
		r->nheaders++;
		hd->secret = feed_secret_header(h, (size_t)(strchr(h, ':') - h));
		for (int k = 0; k < o->nsecret_headers; k++) {
			size_t n = strlen(o->secret_headers[k]);
			while (n && o->secret_headers[k][n - 1] == ':')
				n--;
			if ((size_t)(strchr(h, ':') - h) == n && !strncasecmp(h, o->secret_headers[k], n))
				hd->secret = 1;
		}
		if (hd->secret) {
			rec_add_secret(r, hd->value, strlen(hd->value));
			/* "Bearer XYZ": the token alone may also appear in a log line */
			const char *sp = strrchr(hd->value, ' ');
			if (sp)
				rec_add_secret(r, sp + 1, strlen(sp + 1));
		}
	}
	return 0;
}

void
rec_free_secrets(struct rec *r)
{
	for (int i = 0; i < r->nheaders; i++) {
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r->headers);
	r->headers = NULL;
	r->nheaders = 0;
	for (int i = 0; i < r->nsecrets; i++)
		free(r->secrets[i]);
	free(r->secrets);
	r->secrets = NULL;
	r->nsecrets = 0;
}
