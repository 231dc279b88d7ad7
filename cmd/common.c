/* common.c - helpers shared by the subcommands: option parsing, journal errors */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cmd/cmd.h"
#include "feeds/spec.h"
#include "util/log.h"
#include "util/text.h"

int
cmd_exit_for(int err)
{
	switch (err) {
	case JOURNAL_ECORRUPT:
	case JOURNAL_EINDEX:
	case JOURNAL_EGAP: return EXIT_FOUND;
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EFBIG:
	case EROFS:
	case JOURNAL_EZSTD: return EXIT_IO;
	default: return EXIT_USAGE;
	}
}

/* 1 when s holds 'path' (quoted), i.e. names the journal itself. */
static int
name_quoted(const char *s, const char *path)
{
	char q[4200];
	snprintf(q, sizeof(q), "'%s'", path);
	return strstr(s, q) != NULL;
}

void
cmd_journal_error(struct journal *j, const char *what, const char *path, int err)
{
	const char *d = journal_last_detail(j);
	char head[4200];
	/* a detail that already says "WHAT 'PATH': ..." is the whole message */
	snprintf(head, sizeof(head), "%s '%s'", what, path);
	if (d && strncmp(d, head, strlen(head)) == 0)
		cmd_say(LOG_ERROR, "%s", d);
	else if (d && *d && (strstr(d, journal_strerror(err)) || name_quoted(d, path)))
		/* the detail says what the error's name would say again: once is enough */
		cmd_say(LOG_ERROR, "%s '%s': %s", what, path, d);
	else if (d && *d)
		cmd_say(LOG_ERROR, "%s '%s': %s: %s", what, path, journal_strerror(err), d);
	else
		cmd_say(LOG_ERROR, "%s '%s': %s", what, path, journal_strerror(err));
}

int
cmd_open_journal(const char *path, int flags, const struct journal_options *opt, struct journal **out)
{
	struct journal_recovery rec;
	int rc = journal_open(path, flags, opt, out, &rec);
	if (rc) {
		cmd_journal_error(NULL, "cannot open journal", path, rc);
		return cmd_exit_for(rc);
	}
	cmd_report_recovery(path, &rec);
	return 0;
}

void
cmd_report_recovery(const char *path, const struct journal_recovery *rec)
{
	if (rec->torn_bytes)
		cmd_say(LOG_WARN,
			"journal '%s': cut a torn tail of %llu bytes at offset %llu of segment %u (a block that was being written when the writer stopped)",
			path, (unsigned long long)rec->torn_bytes, (unsigned long long)rec->torn_offset,
			rec->torn_segment);
	if (rec->index_damaged)
		cmd_say(LOG_WARN,
			"journal '%s': index was damaged (%s); rebuilt from the segments (%llu blocks)", path,
			rec->index_detail, (unsigned long long)rec->blocks_indexed);
	else if (rec->reindexed && rec->blocks_indexed)
		cmd_say(LOG_WARN, "journal '%s': rebuilt the index (%llu blocks)", path,
			(unsigned long long)rec->blocks_indexed);
}

void
cmd_note_index(const char *path, const struct journal_stats *st, const char *what)
{
	if (st->index_damaged)
		fprintf(stderr,
			"wstape: note: journal '%s': the index is damaged and was not used; %s from the segments; 'wstape verify --repair' rebuilds it\n",
			path, what);
	else if (st->index_unreadable)
		fprintf(stderr,
			"wstape: note: journal '%s': the index cannot be read and was not used; %s from the segments\n",
			path, what);
}

int
cmd_opt(int argc, char **argv, int *i, const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		return 1;
	}
	if (a[n] != 0)
		return 0;
	if (*i + 1 >= argc) {
		fprintf(stderr, "wstape: option '%s' needs a value\n", name);
		return -1;
	}
	*val = argv[++*i];
	return 1;
}

void
cmd_help_entry(struct text_buf *b, int width, const char *head, const char *who, const char *text)
{
	int n = (int)strlen(head);

	text_buf_addf(b, "  %s%*s", head, n < width ? width - n + 1 : 2, "");
	if (who)
		text_buf_addf(b, "%s: ", who);
	for (const char *p = text; *p;) {
		size_t len = strcspn(p, "\n");

		text_buf_add(b, p, len);
		text_buf_adds(b, "\n");
		p += len;
		if (*p == '\n' && *++p)
			text_buf_addf(b, "%*s", width + 3, "");
	}
}

int
cmd_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	fputs("wstape: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

/* "TEXT" or "@FILE": returns a malloc'd copy and its length, or NULL with errno. */
char *
cmd_text_or_file(const char *arg, size_t *len)
{
	struct text_buf b = { 0 };
	char chunk[65536];
	FILE *f;
	size_t n;

	if (arg[0] != '@') {
		*len = strlen(arg);
		return strdup(arg);
	}
	if (!(f = fopen(arg + 1, "rb")))
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		text_buf_add(&b, chunk, n);
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		text_buf_free(&b);
		errno = e;
		return NULL;
	}
	fclose(f);
	/* a file ending in a newline holds the message without it */
	while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
		b.len--;
	if (text_buf_reserve(&b, 1)) {
		text_buf_free(&b);
		errno = ENOMEM;
		return NULL;
	}
	b.p[b.len] = '\0';
	*len = b.len;
	return b.p;
}

/* A value that may hold a secret: "@FILE" (the file's content, without the line break at
 * its end), "env:NAME" (the environment variable), else the text itself. Returns a malloc'd
 * copy, or NULL with a message in why. */
char *
cmd_secret_arg(const char *arg, char *why, size_t why_size)
{
	size_t n;
	char *v;

	if (!strncmp(arg, "env:", 4)) {
		const char *e = getenv(arg + 4);
		if (!arg[4] || !e) {
			snprintf(why, why_size, "environment variable '%s' is not set", arg + 4);
			return NULL;
		}
		v = strdup(e);
	} else if (arg[0] == '@') {
		if (!(v = cmd_text_or_file(arg, &n))) {
			snprintf(why, why_size, "cannot read '%s': %s", arg + 1, strerror(errno));
			return NULL;
		}
	} else {
		v = strdup(arg);
	}
	if (!v)
		snprintf(why, why_size, "%s", strerror(ENOMEM));
	return v;
}

/* ---- the feed: a built-in one by name, or one declared as data (spec:FILE.json) ---- */

/* The spec file's bytes (at most 1 MiB), malloc'd; NULL with what is wrong in why. */
static char *
read_spec_file(const char *path, size_t *len, char *why, size_t whylen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, n;
	char *buf;

	if (!f) {
		snprintf(why, whylen, "cannot read it: %s", strerror(errno));
		return NULL;
	}
	if (!(buf = malloc(cap + 1))) {
		fclose(f);
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	n = fread(buf, 1, cap + 1, f);
	if (ferror(f) || n > cap) {
		snprintf(why, whylen, ferror(f) ? "cannot read it: %s" : "larger than 1 MiB: no spec is",
			 strerror(errno));
		fclose(f);
		free(buf);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
cmd_feed_arg(const char *cmd, const char *arg, const struct feed **out)
{
	char err[1024], names[128];
	struct feed *f;
	size_t len;
	char *text;
	int rc;

	*out = NULL;
	if (strncmp(arg, FEED_SPEC_PREFIX, strlen(FEED_SPEC_PREFIX)) != 0) {
		if ((*out = feed_find(arg)))
			return 0;
		feed_list_names(names, sizeof(names));
		fprintf(stderr, "wstape: %s: unknown feed '%s' (%s, or spec:FILE.json)\n", cmd, arg, names);
		return EXIT_USAGE;
	}
	arg += strlen(FEED_SPEC_PREFIX);
	if (!*arg) {
		fprintf(stderr, "wstape: %s: --feed spec: needs a file, spec:FILE.json\n", cmd);
		return EXIT_USAGE;
	}
	if (!(text = read_spec_file(arg, &len, err, sizeof(err)))) {
		fprintf(stderr, "wstape: %s: spec '%s': %s\n", cmd, arg, err);
		return EXIT_USAGE;
	}
	rc = feed_spec_load(text, len, arg, &f, err, sizeof(err));
	free(text);
	if (rc) {
		fprintf(stderr, "wstape: %s: bad spec %s\n", cmd, err);
		return rc == ENOMEM ? EXIT_IO : EXIT_USAGE;
	}
	*out = f;
	return 0;
}

int
cmd_journal_feed(struct journal *j, const char *path, const struct feed **out)
{
	const char *name = journal_meta_get(j, "feed"), *text;
	char origin[4200], err[1024];
	struct feed *f;
	int rc;

	*out = &feed_raw;
	if (!name)
		return 0;
	if (strncmp(name, FEED_SPEC_PREFIX, strlen(FEED_SPEC_PREFIX)) != 0) {
		if ((*out = feed_find(name)))
			return 0;
		fprintf(stderr, "wstape: journal '%s' names an unknown feed '%s'; use --feed\n", path, name);
		return EXIT_USAGE;
	}
	if (!(text = journal_meta_get(j, "feed_spec"))) {
		fprintf(stderr,
			"wstape: journal '%s' names the feed '%s' but keeps no spec of it (META feed_spec);"
			" use --feed spec:FILE.json\n",
			path, name);
		return EXIT_USAGE;
	}
	snprintf(origin, sizeof(origin), "journal '%s' META feed_spec", path);
	if ((rc = feed_spec_load(text, strlen(text), origin, &f, err, sizeof(err)))) {
		fprintf(stderr, "wstape: bad spec in %s; use --feed spec:FILE.json\n", err);
		return rc == ENOMEM ? EXIT_IO : EXIT_USAGE;
	}
	*out = f;
	return 0;
}

int
cmd_feed_store(struct journal *j, const struct feed *feed)
{
	int err = journal_meta_set(j, "feed", feed->name);

	if (!err && feed_is_spec(feed))
		err = journal_meta_set(j, "feed_spec", feed_spec_text(feed));
	return err;
}

void
cmd_feed_free(const struct feed *feed)
{
	feed_spec_free(feed);
}

void
cmd_help_feeds(struct text_buf *b, const char *t)
{
	const struct feed *f;
	const char *p;

	while ((p = strstr(t, "{feeds")) && (p[6] == '|' || p[6] == ',') && p[7] == '}') {
		text_buf_add(b, t, (size_t)(p - t));
		for (int i = 0; (f = feed_builtin(i)); i++)
			text_buf_addf(b, "%s%s", i ? (p[6] == '|' ? "|" : ", ") : "", f->name);
		t = p + 8;
	}
	text_buf_adds(b, t);
}

const char *
cmd_help_text(struct text_buf *cache, const char *t)
{
	if (cache->len)
		return cache->p;
	cmd_help_feeds(cache, t);
	if (text_buf_err(cache)) {
		text_buf_free(cache);
		return t;
	}
	return cache->p;
}

int
cmd_feed_replace(const char *cmd, const char *arg, const struct feed **slot)
{
	const struct feed *f;
	int ex = cmd_feed_arg(cmd, arg, &f);

	if (ex)
		return ex;
	cmd_feed_free(*slot);
	*slot = f;
	return 0;
}
