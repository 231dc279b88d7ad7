/* cmd.h - the subcommands: one file each in cmd/, dispatched from wstape.c
 *
 * Each cmd_NAME() gets argv with argv[0] = "NAME" and returns the process exit code.
 * Only these functions (and main) print to the user and choose exit codes.
 * Exit codes shared by all commands: */
#ifndef WSTAPE_CMD_H
#define WSTAPE_CMD_H

#include <stddef.h>

enum {
	EXIT_OK = 0,
	EXIT_FOUND = 1, /* verify: corruption; inspect: a --fail-on class was found */
	EXIT_USAGE = 2, /* bad arguments or unreadable input */
	EXIT_IO = 3, /* a write failed: disk full, permission, ... */
	EXIT_AUTH = 4, /* record: the server refused the credentials (HTTP 401/403) */
	EXIT_NET = 5, /* record/replay: network failure that ends the run (port in use, ...) */
};

int cmd_record(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_cat(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_pull(int argc, char **argv);

/* Usage text of each command, printed by `wstape help CMD` and `wstape CMD --help`. Those
 * of record and replay say what each feed does, from the feed table (feeds/feed.h): they
 * are made on the first call and live until the process ends. */
extern const char cmd_cat_usage[], cmd_info_usage[], cmd_verify_usage[], cmd_prune_usage[],
	cmd_publish_usage[], cmd_stream_usage[];
const char *cmd_pull_usage(void);
const char *cmd_inspect_usage(void);
const char *cmd_import_usage(void);
const char *cmd_record_usage(void);
const char *cmd_replay_usage(void);

/* 1 when argv holds -h or --help (before a "--"). */
int cmd_wants_help(int argc, char **argv);

/* "TEXT" or "@FILE" (the file's bytes, without the line breaks at its end): a malloc'd
 * copy and its length, or NULL with errno. */
char *cmd_text_or_file(const char *arg, size_t *len);
/* A value that may hold a secret, so that it need not be on the command line (where
 * /proc/PID/cmdline shows it): "@FILE", "env:NAME", else the text itself. A malloc'd
 * copy, or NULL with what is wrong in why. */
char *cmd_secret_arg(const char *arg, char *why, size_t why_size);

/* Log messages (util/log.h) go to stderr, one line each, from now on: as
 * "wstape: LEVEL: message" until cmd_log_format() says otherwise. */
void cmd_log_to_stderr(void);
enum { CMD_LOG_PLAIN, CMD_LOG_TEXT, CMD_LOG_JSON };
/* The form of the lines: "plain", "text" (a timestamp, the level, "wstape CMD: message")
 * or "json" (one object a line: ts, level, cmd, msg). Returns 0, or EINVAL for another
 * name. record and replay set "text" before their options. */
int cmd_log_format(const char *cmd, const char *name);
/* A message of the command itself (what it serves, why it stopped), shown whatever the
 * log level, in the form of the log lines: "wstape: message" in plain. */
void cmd_say(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* --log-format FORM as an option converter (cmd/opts.h CMD_FN; ud: the command's name). */
int cmd_opt_log_format(const char *value, void *dst, void *ud);

/* ---- helpers shared by the commands (cmd/common.c) ---- */
#include "journal/journal.h"

/* A note on stderr when the readers set the journal's index aside (damaged or unreadable):
 * what ("the records above come") came from the segments instead. */
void cmd_note_index(const char *path, const struct journal_stats *st, const char *what);

/* Exit code for a journal error: EXIT_FOUND for corruption, EXIT_IO for write errors
 * (ENOSPC, EIO, ...), EXIT_USAGE for anything that makes the input unreadable. */
int cmd_exit_for(int err);

/* Print "wstape: WHAT 'path': reason (detail)" for a journal error. j may be NULL
 * (then the detail of the last failed journal_open is used). */
void cmd_journal_error(struct journal *j, const char *what, const char *path, int err);

/* Open a journal, printing a clear error on failure and what recovery did (below).
 * Returns 0 or an exit code. */
int cmd_open_journal(const char *path, int flags, const struct journal_options *opt, struct journal **out);

/* Say on stderr what opening journal 'path' repaired: a torn tail cut, an index rebuilt. */
void cmd_report_recovery(const char *path, const struct journal_recovery *rec);

/* Option parsing: when argv[*i] is "--name" (value in the next argument) or "--name=value",
 * sets *val, advances *i past what it used, and returns 1; returns -1 (after printing an
 * error) when the value is missing, 0 when argv[*i] is another option. */
int cmd_opt(int argc, char **argv, int *i, const char *name, const char **val);

/* One entry of a help text into b: "  HEAD", padded to width (two spaces when it is
 * longer), then "WHO: " when who is not NULL, then text, whose lines ('\n' between them)
 * go on indented under the first. */
struct text_buf;
void cmd_help_entry(struct text_buf *b, int width, const char *head, const char *who, const char *text);
/* Append help text t to b with "{feeds|}" replaced by the built-in feeds' names joined with
 * '|' and "{feeds,}" by them joined with ", " (from the table: a new feed shows in every help). */
void cmd_help_feeds(struct text_buf *b, const char *t);
/* t with the feeds filled in (cmd_help_feeds), made once into *cache; t itself when out of
 * memory. */
const char *cmd_help_text(struct text_buf *cache, const char *t);

/* Print "wstape: CMD: MESSAGE" and the usage line, and return EXIT_USAGE. */
int cmd_usage_error(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- the feed (cmd/common.c) ---- */
struct feed;
/* --feed's argument: a built-in feed's name, or spec:FILE.json (read and loaded). Returns 0
 * and *out (release it with cmd_feed_free), or an exit code after printing what is wrong
 * (an unknown feed, a spec that cannot be read or is bad: the file, the member, why). */
int cmd_feed_arg(const char *cmd, const char *arg, const struct feed **out);
/* cmd_feed_arg into *slot, releasing the feed an earlier --feed put there. */
int cmd_feed_replace(const char *cmd, const char *arg, const struct feed **slot);
/* The feed journal j (at path) was recorded with: its META "feed", and for a spec feed
 * ("spec:NAME") the spec kept under "feed_spec"; feed_raw when it names none. Returns 0 and
 * *out (release it with cmd_feed_free), or an exit code after printing what is wrong. */
int cmd_journal_feed(struct journal *j, const char *path, const struct feed **out);
/* Keep the feed in j's META: "feed", and "feed_spec" (the spec, one line) for a spec feed.
 * Returns 0 or journal_meta_set's error. */
int cmd_feed_store(struct journal *j, const struct feed *feed);
/* Release a feed of cmd_feed_arg or cmd_journal_feed (a built-in one: nothing). */
void cmd_feed_free(const struct feed *feed);

/* ---- import's line parser (cmd/import.c), apart so that a fuzzer can call it ---- */
#include "feeds/feed.h"

/* What the records of import_line_parse point into: the line's parsed JSON and the buffers
 * of decoded base64, reused from line to line. Zero-initialise; import_line_free releases. */
struct import_line {
	void *doc; /* the line's JSON object (jansson) */
	uint8_t *pbuf, *cbuf, *curbuf;
	size_t pcap, ccap, curcap;
};

/* Parse one line of `wstape import` input (len bytes, no newline) into *rec. With
 * classify, a text record without "channel" or "cursor" gets them from the payload by
 * feed's rules. rec's pointers stay valid until the next call on st or import_line_free.
 * Returns 0, or -1 with a message (for "line N: MESSAGE") in err. Never prints. */
int import_line_parse(struct import_line *st, const char *line, size_t len, int classify,
		      const struct feed *feed, struct journal_record *rec, char *err, size_t errlen);
void import_line_free(struct import_line *st);

#endif
