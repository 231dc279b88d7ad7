/* record_int.h - what the files of `wstape record` share: the parsed command line and the
 * steps of cmd_record (cmd/record.c parses, cmd/record_steps.c does the rest) */
#ifndef WSTAPE_RECORD_INT_H
#define WSTAPE_RECORD_INT_H

#include <stddef.h>
#include <stdint.h>

#include "cmd/publishing.h"
#include "feeds/feed_client.h"
#include "journal/journal.h"
#include "recorder/recorder.h"
#include "util/text.h"

struct strv {
	const char **v;
	size_t *lens;
	int n;
};

int strv_add(struct strv *s, const char *p, size_t len);
/* owned: free the strings too */
void strv_free(struct strv *s, int owned);

/* Everything the command line says, and what the command owns on its behalf. */
struct record_args {
	struct recorder_options ro;
	struct journal_options jo;
	struct strv headers, secret_headers, sends;
	struct strv owned; /* strings to free: header sources, feed option values, ... */
	struct feed_client_arg *fargs; /* the feed's own options (feeds/feed_client.h), as given */
	int nfargs;
	const char *url, *out, *feed_name_arg, *log_level;
	const struct feed *feed;
	int quiet, verbose, resume;
	uint64_t segment_size; /* --segment-size (0: the default) */
	int64_t segment_age_ns, retain_ns; /* --segment-age, --retain (0: none) */
	struct text_buf shown; /* the URL as it may be printed: secrets redacted */
	/* --publish: the NATS servers, the stream, the names; the publisher while it runs */
	const char *publish, *stream, *recorder_id, *subject_name;
	struct publish_names pn;
	struct js_publisher *pub;
};

/* Keeps s (malloc'd) until record_args_free(); returns s, or NULL when s is NULL (or
 * cannot be kept: then it is freed). */
char *record_keep(struct record_args *ra, char *s);
/* Adds a value of the feed's option o (a later one replaces an earlier one, but for a
 * list). Returns 0, or -1 after saying why. */
int record_feed_arg_add(struct record_args *ra, const struct feed_client_opt *o, const char *v, size_t len,
			uint64_t ms);
/* Parses argv into *ra. Returns 0, or EXIT_USAGE after saying what is wrong. */
int record_parse_args(struct record_args *ra, int argc, char **argv);
void record_args_free(struct record_args *ra);

/* The steps (cmd/record_steps.c). Each returns 0 to go on, or the exit code after saying
 * why it stops. */
int record_check_args(struct record_args *ra);
int record_open_journal(struct record_args *ra, struct journal **j);
int record_settle_feed(struct record_args *ra, struct journal *j);
int record_store_meta(const struct record_args *ra, struct journal *j);
/* --publish: the names settled (META journal_id, recorder) and the publisher started. */
int record_publish_start(struct record_args *ra, struct journal *j);
/* The recorder's view of the publisher, for --metrics (wstape_publish_*). */
void record_publish_options(struct record_args *ra, struct recorder_options *ro);
/* Waits up to 10 s for the stream to acknowledge what was journaled, and says how far it
 * got. Returns 0, or 1 when records are left for the next run. */
int record_publish_stop(struct record_args *ra, struct journal *j);
/* Runs the recorder: its result (recorder_run) and figures in *st. */
int record_run(struct record_args *ra, struct journal *j, struct recorder_stats *st);
/* Tells the recorder's result; returns the exit code. */
int record_report(const struct record_args *ra, struct journal *j, int err, const struct recorder_stats *st);
void record_settle_empty(const struct record_args *ra, struct journal **j, int rc,
			 const struct recorder_stats *st);
/* Prints a journal error; returns the exit code it means. j may be NULL. */
int record_journal_fail(const char *path, const char *what, struct journal *j, int err);

#endif
