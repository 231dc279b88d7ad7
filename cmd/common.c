/* common.c - helpers shared by the subcommands: option parsing, journal errors */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>

#include "cmd/cmd.h"
#include "util/text.h"

int
cmd_exit_for(int err)
{
	switch (err) {
	case JOURNAL_ECORRUPT:
	case JOURNAL_EINDEX:
	case JOURNAL_EGAP:
		return EXIT_FOUND;
	case ENOSPC:
	case EDQUOT:
	case EIO:
	case EFBIG:
	case EROFS:
	case JOURNAL_EZSTD:
		return EXIT_IO;
	default:
		return EXIT_USAGE;
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
		fprintf(stderr, "wstape: %s\n", d);
	else if (d && *d && (strstr(d, journal_strerror(err)) || name_quoted(d, path)))
		/* the detail says what the error's name would say again: once is enough */
		fprintf(stderr, "wstape: %s '%s': %s\n", what, path, d);
	else if (d && *d)
		fprintf(stderr, "wstape: %s '%s': %s: %s\n", what, path, journal_strerror(err), d);
	else
		fprintf(stderr, "wstape: %s '%s': %s\n", what, path, journal_strerror(err));
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
		fprintf(stderr, "wstape: journal '%s': cut a torn tail of %llu bytes at offset %llu of segment %u (a block that was being written when the writer stopped)\n",
			path, (unsigned long long)rec->torn_bytes, (unsigned long long)rec->torn_offset, rec->torn_segment);
	if (rec->index_damaged)
		fprintf(stderr, "wstape: journal '%s': index was damaged (%s); rebuilt from the segments (%llu blocks)\n",
			path, rec->index_detail, (unsigned long long)rec->blocks_indexed);
	else if (rec->reindexed && rec->blocks_indexed)
		fprintf(stderr, "wstape: journal '%s': rebuilt the index (%llu blocks)\n", path,
			(unsigned long long)rec->blocks_indexed);
}

void
cmd_note_index(const char *path, const struct journal_stats *st, const char *what)
{
	if (st->index_damaged)
		fprintf(stderr, "wstape: note: journal '%s': the index is damaged and was not used; %s from the segments; 'wstape verify --repair' rebuilds it\n",
			path, what);
	else if (st->index_unreadable)
		fprintf(stderr, "wstape: note: journal '%s': the index cannot be read and was not used; %s from the segments\n",
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
