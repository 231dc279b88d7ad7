/* stream.c - `wstape stream create|info`: the JetStream stream that recorders publish into
 * and pull reads */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "jetstream/jetstream.h"
#include "util/text.h"

const char cmd_stream_usage[] =
	"usage: wstape stream create nats://H:P[,...] NAME [--subjects S] [--replicas N] [--max-age D]\n"
	"                     [--max-bytes SIZE] [--max-msgs N] [--dup-window D] [--storage file|memory]\n"
	"                     [--discard old|new] [--json]\n"
	"       wstape stream info nats://H:P[,...] NAME [--json]\n"
	"\n"
	"create makes the JetStream stream NAME that 'wstape record --publish' publishes into and\n"
	"'wstape pull' reads, or updates it when it exists with other settings (JetStream refuses\n"
	"some changes, such as of the storage: the server's answer is shown); then prints its info.\n"
	"Retention is by limits: messages stay until one of the limits below drops the oldest.\n"
	"info prints the stream's name, subjects, replicas (the leader, and each other replica\n"
	"current or lagging), messages, bytes, first and last sequence and time, limits and the\n"
	"duplicate window. The servers are a comma-separated list (nats:// or tls://; the first that\n"
	"answers is used). Exits 0; 1 when no server answers (start nats-server with -js), the\n"
	"server refuses a setting, or (info) there is no such stream; 2 for bad arguments.\n"
	"\n"
	"  --subjects S      the subjects the stream stores, comma-separated (default wstape.>)\n"
	"  --replicas N      copies on that many servers of a cluster, 1..5 (default 1)\n"
	"  --max-age D       drop messages older than D (\"7d\", \"36h\"; default 0: no limit)\n"
	"  --max-bytes SIZE  keep at most SIZE of messages (\"64g\"; default 0: no limit)\n"
	"  --max-msgs N      keep at most N messages (default 0: no limit)\n"
	"  --dup-window D    how long the stream remembers a Nats-Msg-Id to drop a message sent\n"
	"                    again (default 10m)\n"
	"  --storage file|memory\n"
	"                    where the servers keep the messages (default file)\n"
	"  --discard old|new\n"
	"                    at a limit drop the oldest messages, or refuse new ones (default old)\n"
	"  --json            the info as one JSON object (default: text)\n";

static int
opt_storage(const char *v, void *dst, void *ud)
{
	if (!strcmp(v, "file") || !strcmp(v, "memory")) {
		*(int *)dst = !strcmp(v, "memory") ? JS_STORAGE_MEMORY : JS_STORAGE_FILE;
		return 0;
	}
	return -1;
}

static int
opt_discard(const char *v, void *dst, void *ud)
{
	if (!strcmp(v, "old") || !strcmp(v, "new")) {
		*(int *)dst = !strcmp(v, "new");
		return 0;
	}
	return -1;
}

/* a duration in ns as "10m", "36h", "1.5s", "0" */
static const char *
fmt_dur(int64_t ns, char *buf, size_t n)
{
	static const struct {
		const char *u;
		int64_t ns;
	} units[] = { { "d", 86400000000000LL }, { "h", 3600000000000LL }, { "m", 60000000000LL },
		      { "s", 1000000000LL },     { "ms", 1000000LL },      { "us", 1000LL } };
	if (ns <= 0) {
		snprintf(buf, n, "0");
		return buf;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (ns % units[i].ns == 0) {
			snprintf(buf, n, "%" PRId64 "%s", ns / units[i].ns, units[i].u);
			return buf;
		}
	snprintf(buf, n, "%.3fs", (double)ns / 1e9);
	return buf;
}

static const char *
storage_name(int s)
{
	return s == JS_STORAGE_MEMORY ? "memory" : "file";
}

static const char *
retention_name(int r)
{
	return r == JS_RETAIN_INTEREST ? "interest" : r == JS_RETAIN_WORKQUEUE ? "workqueue" : "limits";
}

static void
json_time(struct text_buf *b, const char *key, int64_t ns)
{
	char t[48];
	if (ns)
		text_buf_addf(b, ",\"%s\":\"%s\"", key, text_format_time(ns, t, sizeof t));
	else
		text_buf_addf(b, ",\"%s\":null", key);
}

static void
print_json(const struct js_stream_info *si)
{
	struct text_buf b = { 0 };
	const char *p = si->subjects;

	text_buf_adds(&b, "{\"name\":");
	text_json_string(&b, si->name, strlen(si->name));
	text_buf_adds(&b, ",\"subjects\":[");
	for (int first = 1; *p; first = 0) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!first)
			text_buf_adds(&b, ",");
		text_json_string(&b, p, n);
		p += n + (e ? 1 : 0);
	}
	text_buf_addf(&b, "],\"replicas\":%d,\"leader\":", si->replicas);
	if (si->leader[0])
		text_json_string(&b, si->leader, strlen(si->leader));
	else
		text_buf_adds(&b, "null");
	text_buf_adds(&b, ",\"peers\":[");
	for (int i = 0; i < si->npeers; i++) {
		text_buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
		text_json_string(&b, si->peers[i].name, strlen(si->peers[i].name));
		text_buf_addf(&b, ",\"current\":%s,\"offline\":%s,\"lag\":%" PRIu64 "}",
			      si->peers[i].current ? "true" : "false",
			      si->peers[i].offline ? "true" : "false", si->peers[i].lag);
	}
	text_buf_addf(&b,
		      "],\"messages\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"first_seq\":%" PRIu64
		      ",\"last_seq\":%" PRIu64,
		      si->msgs, si->bytes, si->first_seq, si->last_seq);
	json_time(&b, "first_ts", si->first_ns);
	json_time(&b, "last_ts", si->last_ns);
	text_buf_addf(&b,
		      ",\"max_age_s\":%.3f,\"max_bytes\":%" PRId64 ",\"max_msgs\":%" PRId64
		      ",\"dup_window_s\":%.3f,\"storage\":\"%s\",\"retention\":\"%s\",\"discard\":\"%s\"}\n",
		      (double)si->max_age_ns / 1e9, si->max_bytes, si->max_msgs,
		      (double)si->dup_window_ns / 1e9, storage_name(si->storage),
		      retention_name(si->retention), si->discard_new ? "new" : "old");
	if (b.p)
		fputs(b.p, stdout);
	text_buf_free(&b);
}

static void
print_text(const struct js_stream_info *si)
{
	char t0[48], t1[48], d[32];

	printf("stream       %s\n", si->name);
	printf("subjects     %s\n", si->subjects);
	printf("replicas     %d", si->replicas);
	if (si->leader[0])
		printf(" (leader %s", si->leader);
	for (int i = 0; i < si->npeers; i++) {
		printf(", %s ", si->peers[i].name);
		if (si->peers[i].offline)
			printf("offline");
		else if (si->peers[i].current)
			printf("current");
		else
			printf("lagging by %" PRIu64, si->peers[i].lag);
	}
	printf("%s\n", si->leader[0] ? ")" : "");
	printf("storage      %s, %s retention, discard %s\n", storage_name(si->storage),
	       retention_name(si->retention), si->discard_new ? "new" : "old");
	printf("messages     %" PRIu64 " (%" PRIu64 " bytes)\n", si->msgs, si->bytes);
	printf("sequence     %" PRIu64 "..%" PRIu64 "\n", si->first_seq, si->last_seq);
	if (si->first_ns || si->last_ns)
		printf("time         %s .. %s\n",
		       si->first_ns ? text_format_time(si->first_ns, t0, sizeof t0) : "-",
		       si->last_ns ? text_format_time(si->last_ns, t1, sizeof t1) : "-");
	printf("limits       max age %s, max bytes ",
	       si->max_age_ns ? fmt_dur(si->max_age_ns, d, sizeof d) : "none");
	if (si->max_bytes)
		printf("%" PRId64, si->max_bytes);
	else
		printf("none");
	printf(", max msgs ");
	if (si->max_msgs)
		printf("%" PRId64 "\n", si->max_msgs);
	else
		printf("none\n");
	printf("dup window   %s\n", fmt_dur(si->dup_window_ns, d, sizeof d));
}

static int
exit_for(int err)
{
	return err == JS_EINVAL ? EXIT_USAGE : err == ENOMEM ? EXIT_IO : EXIT_FOUND;
}

int
cmd_stream(int argc, char **argv)
{
	struct js_stream_config cfg = { 0 };
	uint64_t replicas = 0, max_bytes = 0, max_msgs = 0;
	int64_t max_age = 0, dup = 0;
	int json = 0, ex, rc;
	const struct cmd_option opts[] = {
		CMD_STR("--subjects", NULL, &cfg.subjects, "subjects (wstape.>)"),
		CMD_U64("--replicas", &replicas, "a replica count, 1..5", 1, 5),
		CMD_DURATION("--max-age", &max_age, "a duration (\"7d\", \"36h\")", 0, 0),
		CMD_SIZE("--max-bytes", &max_bytes, "a size (\"64g\")", 0, INT64_MAX),
		CMD_U64("--max-msgs", &max_msgs, "a message count", 0, INT64_MAX),
		CMD_DURATION("--dup-window", &dup, "a duration (\"10m\")", 0, 0),
		CMD_FN("--storage", NULL, &cfg.storage, "file or memory", opt_storage, NULL),
		CMD_FN("--discard", NULL, &cfg.discard_new, "old or new", opt_discard, NULL),
		CMD_FLAG("--json", NULL, &json),
		CMD_END,
	};
	struct cmd_args args = { .cmd = "stream", .usage = cmd_stream_usage, .what = "stream", .maxpos = 3 };
	char detail[512] = "";
	struct js_conn *c = NULL;
	struct js_stream_info si;

	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	if (args.npos < 1 || (strcmp(args.pos[0], "create") && strcmp(args.pos[0], "info")))
		return cmd_usage_error(cmd_stream_usage, "stream: create or info?");
	int create = !strcmp(args.pos[0], "create");
	if (args.npos < 2)
		return cmd_usage_error(cmd_stream_usage, "stream %s: which NATS servers (nats://HOST:PORT)?",
				       args.pos[0]);
	if (args.npos < 3)
		return cmd_usage_error(cmd_stream_usage, "stream %s: which stream (NAME)?", args.pos[0]);
	if (!create &&
	    (cfg.subjects || replicas || max_age || max_bytes || max_msgs || dup || cfg.storage ||
	     cfg.discard_new))
		return cmd_usage_error(cmd_stream_usage, "stream info: the stream's settings are for create");
	cfg.name = args.pos[2];
	if (!js_name_ok(cfg.name))
		return cmd_usage_error(cmd_stream_usage,
				       "stream: '%s': a stream name is 1..%d of letters, digits, '_' and '-'",
				       cfg.name, JS_MAX_NAME);
	cfg.replicas = (int)replicas;
	cfg.max_age_ns = max_age;
	cfg.max_bytes = (int64_t)max_bytes;
	cfg.max_msgs = (int64_t)max_msgs;
	cfg.dup_window_ns = dup;

	struct js_conn_options co = { .servers = args.pos[1], .name = "wstape stream" };
	if ((rc = js_connect(&co, &c, detail, sizeof detail)) != 0) {
		fprintf(stderr, "wstape: stream: %s\n", detail[0] ? detail : js_strerror(rc));
		return exit_for(rc);
	}
	rc = create ? js_stream_create(c, &cfg, &si, detail, sizeof detail)
		    : js_stream_info(c, cfg.name, &si, detail, sizeof detail);
	if (rc) {
		if (rc == JS_ENOSTREAM)
			fprintf(stderr,
				"wstape: stream info: no stream '%s' on %s: make it with 'wstape stream create %s %s'\n",
				cfg.name, args.pos[1], args.pos[1], cfg.name);
		else
			fprintf(stderr, "wstape: stream %s '%s' on %s: %s\n", args.pos[0], cfg.name,
				args.pos[1], detail[0] ? detail : js_strerror(rc));
		ex = exit_for(rc);
	} else {
		if (json)
			print_json(&si);
		else
			print_text(&si);
		ex = EXIT_OK;
	}
	js_close(c);
	js_library_close();
	return ex;
}
