/* pull.c - `wstape pull`: a JetStream stream read back into a journal */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "feeds/feed.h"
#include "jetstream/jetstream.h"
#include "jetstream/merge.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/text.h"

static const char usage[] =
	"usage: wstape pull nats://H:P[,...] --stream NAME -o J [--from T] [--to T] [--channel C]\n"
	"                   [--subject-name N] [--feed F] [--follow] [--reorder D]\n"
	"\n"
	"Writes the records of a JetStream stream (what 'wstape record --publish' published, from\n"
	"every recorder) into the journal J, merged in receive-time order (ties: stream order), so\n"
	"that replay, inspect, cat and the Python reader read it as any journal. Each recorder's\n"
	"connection becomes a connection of J (META recorder.<conn> says whose it was). A message\n"
	"whose Nats-Msg-Id was already written is dropped, and so is a replay chunk every event of\n"
	"which another recorder's message already brought (a chunk with something new is kept\n"
	"whole). J must not exist, or be a journal that pull made: then pull goes on after the\n"
	"last stream sequence it wrote (META pulled_seq.<stream>). Without --follow it exits once\n"
	"the messages the stream held at the start are read, and says how many it read and wrote,\n"
	"the duplicates and redundant chunks it dropped, the recorders and connections. Exits 0; 1\n"
	"when no server answers or there is no such stream; 2 for bad arguments or a J that pull\n"
	"did not make; 3 when J cannot be written.\n"
	"\n"
	"  --stream NAME       the stream to read (required; 'wstape stream create' makes it)\n"
	"  -o, --output J      the journal to write (required)\n"
	"  --from T            only records received at T or later (RFC 3339 or epoch digits;\n"
	"                      default: from the first)\n"
	"  --to T              only records received before T (default: no end)\n"
	"  --channel C         only the records of channel C (default: every channel)\n"
	"  --subject-name N    only the journals published under the subject name N (default: all)\n"
	"  --feed F            the feed kept in J's META feed (default: the messages' Wstape-Feed;\n"
	"                      {feeds|}|spec:FILE.json)\n"
	"  --follow            keep J current: wait for new messages until SIGINT or SIGTERM\n"
	"  --reorder D         with --follow, hold records this long to write them in\n"
	"                      receive-time order (default 2s)\n";

const char *
cmd_pull_usage(void)
{
	static struct text_buf b;
	return cmd_help_text(&b, usage);
}

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

/* the dirname of path, for the temporary file beside the journal */
static void
parent_dir(const char *path, char *out, size_t n)
{
	snprintf(out, n, "%s", path);
	size_t k = strlen(out);
	while (k > 1 && out[k - 1] == '/')
		out[--k] = '\0';
	char *sl = strrchr(out, '/');
	if (!sl)
		snprintf(out, n, ".");
	else if (sl == out)
		out[1] = '\0';
	else
		*sl = '\0';
}

/* J: created when it holds no journal; appended to when an earlier pull of the stream made
 * it. Returns 0 or an exit code after saying what is wrong. */
static int
open_output(const char *path, const char *stream, struct journal **j)
{
	char meta[4096], key[128];
	struct stat sb;
	snprintf(meta, sizeof meta, "%s/META", path);
	int exists = stat(meta, &sb) == 0;
	int ex = cmd_open_journal(path, exists ? JOURNAL_APPEND : JOURNAL_CREATE, NULL, j);
	if (ex)
		return ex;
	snprintf(key, sizeof key, "pulled_seq.%s", stream);
	if (exists && !journal_meta_get(*j, key)) {
		fprintf(stderr,
			"wstape: pull: '%s' is a journal that 'wstape pull' of stream '%s' did not make: pull writes a new journal (another -o) or goes on with one it made\n",
			path, stream);
		journal_close(*j);
		*j = NULL;
		return EXIT_USAGE;
	}
	return 0;
}

static int
pull_exit_for(int err)
{
	if (err == JS_EINVAL)
		return EXIT_USAGE;
	if (err < 0 && err >= JS_EINVAL)
		return EXIT_FOUND;
	return cmd_exit_for(err);
}

int
cmd_pull(int argc, char **argv)
{
	const char *stream = NULL, *out = NULL, *channel = NULL, *name = NULL, *feedarg = NULL;
	int64_t from = 0, to = 0, reorder = 2000000000LL;
	int follow = 0, ex, rc;
	const struct cmd_option opts[] = {
		CMD_STR("--stream", NULL, &stream, "a stream name"),
		CMD_STR("--output", "-o", &out, "a journal directory"),
		CMD_TIME("--from", &from, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_TIME("--to", &to, "a time (RFC 3339 or epoch s/ms/us/ns)"),
		CMD_STR("--channel", NULL, &channel, "a channel"),
		CMD_STR("--subject-name", NULL, &name, "a subject name"),
		CMD_STR("--feed", NULL, &feedarg, "a feed"),
		CMD_FLAG("--follow", NULL, &follow),
		CMD_DURATION("--reorder", &reorder, "a duration (\"2s\", \"500ms\")", 0, 0),
		CMD_END,
	};
	const char *use = cmd_pull_usage();
	struct cmd_args args = { .cmd = "pull", .usage = use, .what = "server list", .maxpos = 1 };
	char filter[JS_SUBJECT_MAX + 8], tok[3 * JOURNAL_MAX_CHANNEL + 2], dir[4096], detail[512] = "";
	const struct feed *feed = NULL;
	struct journal *j = NULL;
	struct js_reader *r = NULL;
	struct js_merge *m = NULL;
	struct js_pulled p;
	struct js_merge_stats st;
	uint64_t bad = 0;

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	if (!args.npos)
		return cmd_usage_error(use, "pull: which NATS servers (nats://HOST:PORT[,...])?");
	if (!stream)
		return cmd_usage_error(use, "pull: which stream (--stream NAME)?");
	if (!js_name_ok(stream))
		return cmd_usage_error(
			use, "pull: --stream '%s': a stream name is 1..%d of letters, digits, '_' and '-'",
			stream, JS_MAX_NAME);
	if (!out)
		return cmd_usage_error(use, "pull: which journal to write (-o J)?");
	if (name && !js_name_ok(name))
		return cmd_usage_error(use,
				       "pull: --subject-name '%s': 1..%d of letters, digits, '_' and '-'",
				       name, JS_MAX_NAME);
	if (channel && strlen(channel) > JOURNAL_MAX_CHANNEL)
		return cmd_usage_error(use, "pull: --channel: at most %d bytes", JOURNAL_MAX_CHANNEL);
	if (from && to && to <= from)
		return cmd_usage_error(use, "pull: --to must be later than --from");
	if (!follow && reorder != 2000000000LL)
		return cmd_usage_error(use, "pull: --reorder is for --follow");
	if (feedarg && (ex = cmd_feed_arg("pull", feedarg, &feed)))
		return ex;

	/* the subject filter: wstape.<name|*>.<channel token|>> */
	filter[0] = '\0';
	if (channel && !js_subject_token(channel, strlen(channel), tok, sizeof tok))
		return cmd_usage_error(use, "pull: --channel: too long");
	if (name || channel)
		snprintf(filter, sizeof filter, "%s.%s.%s", JS_SUBJECT_ROOT, name ? name : "*",
			 channel ? tok : ">");

	if ((ex = open_output(out, stream, &j)))
		goto done;
	if (!feed && journal_meta_get(j, "feed") && (ex = cmd_journal_feed(j, out, &feed)))
		goto done;
	if (feed && feedarg && (rc = cmd_feed_store(j, feed))) {
		cmd_journal_error(j, "cannot write the META of journal", out, rc);
		ex = cmd_exit_for(rc);
		goto done;
	}
	if (journal_created(j)) {
		char key[128];
		snprintf(key, sizeof key, "pulled_seq.%s", stream);
		if ((rc = journal_meta_set(j, key, "0")) ||
		    (rc = journal_meta_set(j, "pulled_stream", stream))) {
			cmd_journal_error(j, "cannot write the META of journal", out, rc);
			ex = cmd_exit_for(rc);
			goto done;
		}
	}

	parent_dir(out, dir, sizeof dir);
	struct js_merge_options mo = {
		.j = j,
		.feed = feed,
		.stream = stream,
		.follow = follow,
		.reorder_ns = reorder,
		.from_ns = from,
		.to_ns = to,
		.channel = channel,
		.channel_len = channel ? strlen(channel) : 0,
		.spill_dir = dir,
	};
	if ((rc = js_merge_open(&mo, &m, detail, sizeof detail))) {
		fprintf(stderr, "wstape: pull: %s\n", detail[0] ? detail : js_strerror(rc));
		ex = pull_exit_for(rc);
		goto done;
	}
	js_merge_stats(m, &st);
	/* a receive time is a little before the stream stored it: start a margin earlier */
	struct js_reader_options ro = {
		.servers = args.pos[0],
		.stream = stream,
		.filter = filter[0] ? filter : NULL,
		.from_seq = st.pulled_seq ? st.pulled_seq + 1 : 0,
		.from_ns = from ? from - 300LL * 1000000000LL : 0,
		.follow = follow,
	};
	if ((rc = js_reader_open(&ro, &r, detail, sizeof detail))) {
		if (rc == JS_ENOSTREAM)
			fprintf(stderr,
				"wstape: pull: no stream '%s' on %s: make it with 'wstape stream create %s %s'\n",
				stream, args.pos[0], args.pos[0], stream);
		else
			fprintf(stderr, "wstape: pull: %s\n", detail[0] ? detail : js_strerror(rc));
		ex = pull_exit_for(rc);
		goto done;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (follow)
		cmd_say(LOG_INFO, "following stream '%s' into '%s'", stream, out);
	int64_t last_flush = 0;
	while (!stop_flag) {
		rc = js_reader_next(r, &p, follow ? 200 : 1000, detail, sizeof detail);
		if (rc == JS_EOF)
			break;
		if (rc == 0) {
			if (!feed && p.feed[0]) {
				feed = feed_find(p.feed);
				if (!feed) {
					cmd_say(LOG_WARN,
						"the records name the feed '%s', which this wstape does not know: replay chunks are not checked (--feed spec:FILE.json names it)",
						p.feed);
					feed = &feed_raw;
				} else if ((rc = cmd_feed_store(j, feed))) {
					cmd_journal_error(j, "cannot write the META of journal", out, rc);
					ex = cmd_exit_for(rc);
					goto done;
				}
				js_merge_set_feed(m, feed);
			}
			rc = js_merge_add(m, &p);
			if (rc) {
				cmd_journal_error(j, "cannot write journal", out, rc);
				ex = cmd_exit_for(rc);
				goto done;
			}
		} else if (rc == JS_EHEADER) {
			if (++bad <= 10)
				cmd_say(LOG_WARN,
					"stream '%s' message %" PRIu64
					" is not a wstape record (%s): skipped%s",
					stream, p.stream_seq, detail,
					bad == 10 ? " (no more of these are shown)" : "");
			if (p.stream_seq)
				js_merge_skip(m, p.stream_seq);
		} else if (rc != JS_ETIMEOUT) {
			fprintf(stderr, "wstape: pull: stream '%s' on %s: %s\n", stream, args.pos[0],
				detail[0] ? detail : js_strerror(rc));
			ex = pull_exit_for(rc);
			goto finish;
		}
		int64_t now = clock_wall_ns();
		if (follow && (rc == JS_ETIMEOUT || now - last_flush >= 100000000LL)) {
			if ((rc = js_merge_flush(m, now))) {
				cmd_journal_error(j, "cannot write journal", out, rc);
				ex = cmd_exit_for(rc);
				goto done;
			}
			last_flush = now;
		}
	}
	ex = EXIT_OK;
finish:
	if ((rc = js_merge_finish(m))) {
		cmd_journal_error(j, "cannot write journal", out, rc);
		ex = cmd_exit_for(rc);
		goto done;
	}
	js_merge_stats(m, &st);
	cmd_say(LOG_INFO,
		"pulled stream '%s' into '%s'%s: %" PRIu64 " messages read, %" PRIu64
		" records written, %" PRIu64 " duplicates dropped, %" PRIu64
		" redundant replay chunks dropped, %" PRIu64 " outside the selection, %" PRIu64
		" not wstape records; %u recorders, %u new connections; up to stream sequence %" PRIu64,
		stream, out, stop_flag ? " (stopped)" : "", st.messages + st.skipped, st.records,
		st.duplicates, st.redundant, st.filtered, st.skipped, st.recorders, st.connections,
		st.pulled_seq);
done:
	js_reader_close(r);
	if (ex && j && journal_created(j) && (!m || (js_merge_stats(m, &st), st.records == 0))) {
		journal_discard(j); /* nothing pulled: J is as it was (not there) */
		j = NULL;
	}
	js_merge_close(m);
	if (j) {
		rc = journal_close(j);
		if (rc && !ex) {
			cmd_journal_error(NULL, "cannot close journal", out, rc);
			ex = cmd_exit_for(rc);
		}
	}
	if (feed && feed != &feed_raw)
		cmd_feed_free(feed);
	js_library_close();
	return ex;
}
