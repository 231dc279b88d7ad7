/* publish.c - `wstape publish`: a journal (what its mark says is left of it) published to a
 * JetStream stream, or followed as a recorder writes it */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "cmd/publishing.h"
#include "feeds/feed.h"
#include "jetstream/jetstream.h"
#include "util/log.h"

#define DOWN_GIVE_UP_S 10 /* without --follow: no NATS server for this long ends the run */

const char cmd_publish_usage[] =
	"usage: wstape publish JOURNAL nats://HOST:PORT[,nats://HOST2:PORT2...] --stream NAME\n"
	"                      [--recorder-id ID] [--subject-name NAME] [--feed F] [--follow]\n"
	"\n"
	"Publish the records of JOURNAL to a NATS JetStream stream, one message each (subject\n"
	"wstape.NAME.CHANNEL, the payload as it is, the record's fields as headers: docs/FORMAT.md,\n"
	"\"JetStream messages\"), from where the journal's mark for the stream (MARK.nats.STREAM)\n"
	"says the stream stopped acknowledging: a journal recorded without --publish, or what a\n"
	"recorder could not publish before it stopped. What the stream already holds is dropped\n"
	"by its duplicate window (Nats-Msg-Id). Exits 0 once the stream has acknowledged every\n"
	"record; 1 when the stream does not exist, no NATS server answered for 10 s, or the\n"
	"server refused the records; 2 for bad arguments or a journal that cannot be read.\n"
	"\n"
	"  --stream NAME        the stream (required; make it with wstape stream create)\n"
	"  --recorder-id ID     the recorder id in the messages, 1..64 of A-Z a-z 0-9 _ . -\n"
	"                       (default: the journal's META recorder, else the host name)\n"
	"  --subject-name NAME  the journal's name in subjects (default: the journal's, else its\n"
	"                       directory's name)\n"
	"  --feed F             the feed that names the events (their Nats-Msg-Id; default: the\n"
	"                       journal's)\n"
	"  --follow             go on with what a recorder appends, until SIGINT/SIGTERM; NATS\n"
	"                       down is waited out\n"
	"  -q, --quiet          errors only\n";

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	stopping = 1;
}

/* Opens the journal read-only, or as a writer when its META must change (no journal id
 * yet, or one that must be made anew): a writer is taken only then. Settles the names, the
 * feed (when *feed is NULL: the journal's) and the records there are now (*last). */
static int
open_for_names(const char *path, const char *stream, const char *recorder, const char *name,
	       struct publish_names *pn, const struct feed **feed, uint64_t *last)
{
	struct journal *j;
	struct journal_stats st;
	char mark_name[96];
	uint64_t mark = 0;
	int rc, writer = 0;

	if ((rc = cmd_open_journal(path, JOURNAL_RDONLY, NULL, &j)))
		return rc;
	const char *id = journal_meta_get(j, "journal_id");
	snprintf(mark_name, sizeof mark_name, "nats.%s", stream);
	journal_mark_get(j, mark_name, &mark);
	if (!id || (journal_stats(j, &st) == 0 && mark > st.last_recno)) {
		struct journal *w;
		int wrc = journal_open(path, JOURNAL_APPEND, NULL, &w, NULL);
		if (wrc == 0) {
			journal_close(j);
			j = w;
			writer = 1;
		}
	}
	rc = publish_names_settle(j, path, stream, recorder, name, writer, pn);
	if (!rc && !*feed)
		rc = cmd_journal_feed(j, path, feed);
	if (!rc && (rc = journal_stats(j, &st)) != 0) {
		cmd_journal_error(j, "read", path, rc);
		rc = cmd_exit_for(rc);
	}
	if (!rc)
		*last = st.last_recno;
	int crc = journal_close(j);
	if (!rc && crc) {
		cmd_journal_error(NULL, "close", path, crc);
		rc = cmd_exit_for(crc);
	}
	return rc;
}

static void
sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

int
cmd_publish(int argc, char **argv)
{
	const char *stream = NULL, *recorder = NULL, *name = NULL, *feed_arg = NULL;
	int follow = 0, quiet = 0, ex, rc;
	const struct cmd_option opts[] = {
		CMD_STR("--stream", NULL, &stream, "a JetStream stream name"),
		CMD_STR("--recorder-id", NULL, &recorder, "a recorder id"),
		CMD_STR("--subject-name", NULL, &name, "a subject name"),
		CMD_STR("--feed", NULL, &feed_arg, "a feed"),
		CMD_FLAG("--follow", NULL, &follow),
		CMD_FLAG("--quiet", "-q", &quiet),
		CMD_END,
	};
	struct cmd_args args = {
		.cmd = "publish", .usage = cmd_publish_usage, .what = "argument", .maxpos = 2
	};
	struct publish_names pn;
	const struct feed *feed = NULL;
	struct js_publisher *p = NULL;
	char detail[512] = "", shown[512];

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	if (args.npos < 2)
		return cmd_usage_error(cmd_publish_usage, "publish: give JOURNAL and the NATS servers");
	const char *path = args.pos[0], *servers = args.pos[1];
	log_threshold = quiet ? LOG_ERROR : LOG_INFO;
	if ((rc = publish_check_args(servers, stream, recorder, name)))
		return rc;
	if (feed_arg && (rc = cmd_feed_arg("publish", feed_arg, &feed)))
		return rc;
	/* the records there are now: what a bounded run must see acknowledged */
	uint64_t target = 0;
	if ((rc = open_for_names(path, stream, recorder, name, &pn, &feed, &target)))
		goto out;
	struct js_publisher_options o = {
		.servers = servers,
		.stream = stream,
		.name = pn.name,
		.recorder = pn.recorder,
		.journal_id = pn.journal_id,
		.feed = feed,
	};
	js_servers_redact(servers, shown, sizeof shown);
	if ((rc = js_publisher_start(path, &o, &p, detail, sizeof detail)) != 0) {
		cmd_say(LOG_ERROR, "cannot publish '%s' to stream %s at %s: %s", path, stream, shown,
			*detail ? detail : js_strerror(rc));
		rc = rc == JS_EINVAL ? EXIT_USAGE : 1;
		goto out;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct js_publisher_stats st;
	int down_ms = 0, why = 0;
	for (;;) {
		js_publisher_stats(p, &st);
		if (stopping)
			break;
		if (!follow && st.acked_recno >= target)
			break;
		if (!follow && st.last_err == JS_ENOSTREAM) {
			why = JS_ENOSTREAM;
			break;
		}
		down_ms = st.connected ? 0 : down_ms + 100;
		if (!follow && down_ms >= DOWN_GIVE_UP_S * 1000) {
			why = JS_ECONNECT;
			break;
		}
		sleep_ms(100);
	}
	rc = js_publisher_stop(p, why || stopping ? 2000 : 10000, &st);
	if (why == JS_ENOSTREAM) {
		cmd_say(LOG_ERROR, "stream %s does not exist at %s: create it (wstape stream create %s %s)",
			stream, shown, shown, stream);
		rc = 1;
		goto out;
	}
	if (why == JS_ECONNECT)
		cmd_say(LOG_ERROR,
			"no NATS server answered at %s for %d s: is nats-server running there, with -js?",
			shown, DOWN_GIVE_UP_S);
	if (st.journal_recno > target)
		target = st.journal_recno;
	rc = publish_report(stream, rc, &st, target);
out:
	cmd_feed_free(feed);
	js_library_close();
	return rc;
}
