/* publishing.h - what `wstape record --publish` and `wstape publish` share: the names a
 * journal is published under, and what the user is told of how far the stream got */
#ifndef WSTAPE_CMD_PUBLISHING_H
#define WSTAPE_CMD_PUBLISHING_H

#include "jetstream/jetstream.h"
#include "journal/journal.h"

struct publish_names {
	char journal_id[17];
	char recorder[JS_MAX_RECORDER + 1];
	char name[JS_MAX_NAME + 1];
};

/* Checks --stream, --recorder-id and --subject-name as given (NULL: not given). Returns 0,
 * or EXIT_USAGE after saying what is wrong. */
int publish_check_args(const char *servers, const char *stream, const char *recorder, const char *name);

/* The names the journal at path is published under: the recorder id (given, else META
 * recorder, else the host name), the subject name (given, else META subject_name, else the
 * journal directory's name) and META journal_id, made when missing, and made anew when the
 * journal lost records the stream already has (a mark "nats.<stream>" past its last record:
 * a power loss with --fsync interval or never), so that no record number is published twice
 * with two payloads. They are kept in META when j is a writer (writer 1); a reader's
 * journal must have its journal_id already. Returns 0, or an exit code after saying why not. */
int publish_names_settle(struct journal *j, const char *path, const char *stream, const char *recorder_arg,
			 const char *name_arg, int writer, struct publish_names *out);

/* Says how far the stream got (js_publisher_stop's result rc, the last stats, the journal's
 * last record). Returns 0 when the stream has every record, 1 when not. */
int publish_report(const char *stream, int rc, const struct js_publisher_stats *st, uint64_t last_recno);

#endif
