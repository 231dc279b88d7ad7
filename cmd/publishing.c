/* publishing.c - the names a journal is published under (META journal_id, recorder,
 * subject_name) and the closing line of a publisher */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "cmd/cmd.h"
#include "cmd/publishing.h"
#include "util/log.h"

int
publish_check_args(const char *servers, const char *stream, const char *recorder, const char *name)
{
	if (!servers || !*servers) {
		fprintf(stderr,
			"wstape: no NATS server given: --publish nats://HOST:PORT[,nats://HOST2:PORT2...]\n");
		return EXIT_USAGE;
	}
	if (!stream) {
		fprintf(stderr,
			"wstape: --publish needs --stream NAME (the JetStream stream: wstape stream create)\n");
		return EXIT_USAGE;
	}
	if (!js_name_ok(stream)) {
		fprintf(stderr,
			"wstape: --stream '%s': a stream name is 1..%d of letters, digits, '_' and '-'\n",
			stream, JS_MAX_NAME);
		return EXIT_USAGE;
	}
	if (recorder && !js_recorder_ok(recorder)) {
		fprintf(stderr, "wstape: --recorder-id '%s': 1..%d of A-Z a-z 0-9 _ . -\n", recorder,
			JS_MAX_RECORDER);
		return EXIT_USAGE;
	}
	if (name && !js_name_ok(name)) {
		fprintf(stderr,
			"wstape: --subject-name '%s': 1..%d of A-Z a-z 0-9 _ - (no '.': it is a subject token)\n",
			name, JS_MAX_NAME);
		return EXIT_USAGE;
	}
	return 0;
}

static int
new_journal_id(char *out)
{
	unsigned char b[8];
	if (getrandom(b, sizeof b, 0) != (ssize_t)sizeof b)
		return -1;
	for (int i = 0; i < 8; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
	return 0;
}

static int
id_ok(const char *s)
{
	return s && strlen(s) == 16 && strspn(s, "0123456789abcdef") == 16;
}

static int
meta_keep(struct journal *j, const char *path, const char *key, const char *value, int writer)
{
	const char *was = journal_meta_get(j, key);
	if (!writer || (was && !strcmp(was, value)))
		return 0;
	int err = journal_meta_set(j, key, value);
	if (err) {
		cmd_journal_error(j, "write metadata of", path, err);
		return cmd_exit_for(err);
	}
	return 0;
}

int
publish_names_settle(struct journal *j, const char *path, const char *stream, const char *recorder_arg,
		     const char *name_arg, int writer, struct publish_names *out)
{
	const char *v;
	char mark_name[96];
	uint64_t mark = 0;
	struct journal_stats st;
	int rc;

	memset(out, 0, sizeof *out);
	if (recorder_arg)
		snprintf(out->recorder, sizeof out->recorder, "%s", recorder_arg);
	else if ((v = journal_meta_get(j, "recorder")) && js_recorder_ok(v))
		snprintf(out->recorder, sizeof out->recorder, "%s", v);
	else
		js_default_recorder(out->recorder, sizeof out->recorder);
	if (name_arg)
		snprintf(out->name, sizeof out->name, "%s", name_arg);
	else if ((v = journal_meta_get(j, "subject_name")) && js_name_ok(v))
		snprintf(out->name, sizeof out->name, "%s", v);
	else
		js_default_name(path, out->name, sizeof out->name);

	v = journal_meta_get(j, "journal_id");
	if (id_ok(v))
		snprintf(out->journal_id, sizeof out->journal_id, "%s", v);
	snprintf(mark_name, sizeof mark_name, "nats.%s", stream);
	rc = journal_mark_get(j, mark_name, &mark);
	if (rc && rc != JOURNAL_ENOTFOUND) {
		cmd_say(LOG_ERROR,
			"cannot read the mark of stream %s in '%s' (%s/MARK.%s): %s; remove that file to "
			"publish the journal again from its start (the stream drops what it has within its "
			"duplicate window)",
			stream, path, path, mark_name, journal_strerror(rc));
		return EXIT_IO;
	}
	if ((rc = journal_stats(j, &st)) != 0) {
		cmd_journal_error(j, "read", path, rc);
		return cmd_exit_for(rc);
	}
	if (out->journal_id[0] && mark > st.last_recno) {
		cmd_say(LOG_WARN,
			"journal '%s' ends at record %" PRIu64
			" but stream %s acknowledged records to %" PRIu64
			": the journal lost its last records (a power loss before they were synced); they stay "
			"in the stream, and what comes now is published under a new journal id",
			path, st.last_recno, stream, mark);
		if (!writer) {
			cmd_say(LOG_ERROR,
				"'%s' is read-only here: publish it with a recorder's --publish, or when no "
				"recorder holds it",
				path);
			return EXIT_USAGE;
		}
		out->journal_id[0] = 0;
	}
	if (!out->journal_id[0]) {
		if (!writer) {
			cmd_say(LOG_ERROR,
				"journal '%s' has no journal id yet and a recorder holds it: stop the recorder "
				"first, or record with --publish",
				path);
			return EXIT_USAGE;
		}
		if (new_journal_id(out->journal_id)) {
			cmd_say(LOG_ERROR, "no random bytes for a journal id");
			return EXIT_IO;
		}
		if ((rc = meta_keep(j, path, "journal_id", out->journal_id, writer)))
			return rc;
		/* the records the journal kept are those the stream has under the old id:
		 * what comes after them goes under the new one */
		if (mark && (rc = journal_mark_set(j, mark_name, st.last_recno)) != 0) {
			cmd_journal_error(j, "write the mark of", path, rc);
			return cmd_exit_for(rc);
		}
	}
	if ((rc = meta_keep(j, path, "recorder", out->recorder, writer)) ||
	    (rc = meta_keep(j, path, "subject_name", out->name, writer)))
		return rc;
	return 0;
}

int
publish_report(const char *stream, int rc, const struct js_publisher_stats *st, uint64_t last_recno)
{
	char extra[160] = "";
	if (st->too_large)
		snprintf(extra, sizeof extra,
			 "; %" PRIu64 " records larger than the server's max_payload not published",
			 st->too_large);
	if (rc == 0) {
		if (log_threshold < LOG_INFO) /* -q: errors only */
			return 0;
		cmd_say(LOG_INFO,
			"stream %s has every record (to %" PRIu64 "): %" PRIu64 " published, %" PRIu64
			" already there (duplicates), %" PRIu64 " sent again%s",
			stream, st->acked_recno, st->published, st->duplicates, st->resent, extra);
		return 0;
	}
	cmd_say(LOG_WARN,
		"stream %s acknowledged records to %" PRIu64 " of %" PRIu64
		" (%s%s%s): the rest is published by the "
		"next run on this journal (record --resume --publish, or wstape publish)%s",
		stream, st->acked_recno, last_recno, st->connected ? "connected" : "NATS not reachable",
		st->last_err ? ": " : "", st->last_err ? st->last_detail : "", extra);
	return 1;
}
