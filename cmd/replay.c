/* replay.c - `wstape replay`: serve a journal as a paced mock WebSocket server */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "feeds/feed_server.h"
#include "feeds/spec.h"
#include "replay/replay.h"
#include "util/log.h"
#include "util/text.h"

/* NULL when file is a readable PEM file holding a certificate (key = 0) or a private key
 * (key = 1); else what is wrong with it (libwebsockets would only log warnings). */
static const char *
pem_problem(const char *file, int key)
{
	static char why[300];
	char buf[65536];
	struct stat sb;
	FILE *f;
	size_t n;

	if (stat(file, &sb) != 0 || !(f = fopen(file, "r"))) {
		snprintf(why, sizeof(why), "%s", strerror(errno));
		return why;
	}
	if (S_ISDIR(sb.st_mode)) {
		fclose(f);
		return "it is a directory";
	}
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (key ? !(strstr(buf, "-----BEGIN ") && strstr(buf, "PRIVATE KEY-----"))
		: !strstr(buf, "-----BEGIN CERTIFICATE-----"))
		return key ? "no PEM private key in it (-----BEGIN ... PRIVATE KEY-----)"
			   : "no PEM certificate in it (-----BEGIN CERTIFICATE-----)";
	return NULL;
}

/* The help, around what the feeds say (cmd_replay_usage). */
static const char usage_head[] =
	"usage: wstape replay JOURNAL [--listen HOST:PORT] [--feed {feeds|}|spec:FILE.json]\n"
	"                     [--speed X | --speed max] [--from T | --from-record N | --from-cursor [CH=]C]\n"
	"                     [--to T] [--conn N] [--loop] [--mode session|live] [--once] [--token T]\n"
	"                     [--tls-cert F --tls-key F] [faults] [--log-level L]\n"
	"\n"
	"Serve the recorded server-to-client frames to WebSocket clients. Frame i goes out at\n"
	"start + (t_i - t_0) / speed (receive times; no drift accumulates). Prints the URL to\n"
	"connect to, and a line per client when it leaves (frames, bytes, lateness p50/p99/max).\n"
	"\n"
	"  --listen H:P       H an IPv4 address or a name (localhost); P 0 takes any free port,\n"
	"                     and the URL printed says which; IPv6 is not supported (default\n"
	"                     127.0.0.1:8765)\n"
	"  --feed F           the server side to speak: {feeds,} or spec:FILE.json (default: the\n"
	"                     journal's feed; one that differs from it is warned about)\n"
	"  --speed X          X times the recorded pace, e.g. 10; max: as fast as each client\n"
	"                     reads; X from 0.001 to 1000000 (default 1)\n"
	"  --from T           start at the first record received at or after T (RFC 3339 or epoch;\n"
	"                     default: the first record)\n"
	"  --from-record N    start at record N (default 1)\n"
	"  --from-cursor C    start at the first record of any channel whose cursor is at or\n"
	"                     after C; CH=C: of channel CH only (default: none)\n"
	"  --to T             stop before the first record received at or after T (default: the end)\n"
	"  --conn N           only the frames of recorded connection N (default: every connection)\n"
	"  --mode M           session: every client gets the recording from its start, on its own;\n"
	"                     live: one timeline that starts with the server, clients join at its\n"
	"                     edge (default session)\n"
	"  --loop             start over at the end (default: close with 1000 at the end)\n"
	"  --once             exit when the first client leaves (default: serve until stopped)\n"
	"  --token T          clients must send token=T in the query or x-api-key: T (default: any\n"
	"                     client is let in); @FILE or env:NAME reads T from there\n"
	"  --tls-cert F       serve wss:// with the PEM certificate in F, with --tls-key (default:\n"
	"                     plain ws://)\n"
	"  --tls-key F        the PEM private key of --tls-cert (default: none)\n"
	"  --gate             raw only: hold the frames that followed a client message in the\n"
	"                     recording until the client sends a message (default off)\n"
	"  --deflate          accept permessage-deflate (default off: uncompressed frames are\n"
	"                     framed by wstape and several go out in one write)\n";
/* (here the options of one feed's server: struct feed_server_ops.options_help) */
static const char usage_limits[] =
	"  --max-buffer SIZE  let go a client with more than SIZE due and unsent (frames it does\n"
	"                     not take, the replay chunks of a resume, answers it does not read)\n"
	"                     (default 64m)\n"
	"  --max-buffer-total SIZE\n"
	"                     the same summed over all clients: above it, the clients with the\n"
	"                     most due are let go first until it is under (default 256m)\n"
	"  --max-client-message SIZE\n"
	"                     a client's frame or message (its fragments joined) above SIZE\n"
	"                     closes its connection with 1009 (default 1m)\n"
	"  --max-clients N    clients at once; more are refused (default 1024)\n"
	"  --metrics HOST:PORT\n"
	"                     serve /metrics (Prometheus text format) and /healthz there, e.g.\n"
	"                     127.0.0.1:9101 or :9101 (every address); default: none (docs/METRICS.md)\n"
	"  --log-level L      error, warn, info or debug (default info: clients, drops, faults)\n"
	"  --log-format text|json|plain   text (the default): an RFC 3339 UTC time, the\n"
	"                     level, the message; json: one object a line (ts, level, cmd,\n"
	"                     client, msg); plain: wstape: LEVEL: message\n"
	"\n"
	"feeds (server side):\n";
/* (here what each feed's server does: struct feed_server_ops.help) */
static const char usage_faults[] =
	"\n"
	"faults (reproducible with --seed):\n"
	"  --drop-every D     drop each connection every D (default: never)\n"
	"  --drop-after N     drop each connection after N frames (default: never)\n"
	"  --close-code C     drop with a close frame C (default: abrupt, no close frame)\n"
	"  --stall D          once per connection, stop sending for D (default: no stall)\n"
	"  --dup-rate P       send a frame twice with probability P (default 0)\n"
	"  --skip-rate P      leave a frame out with probability P (default 0)\n"
	"  --seed N           the seed of the faults' random choices and of the ids a feed makes\n"
	"                     (default: faults 1, ids random)\n";

const char *
cmd_replay_usage(void)
{
	static struct text_buf b;
	const struct feed *f;

	if (b.len)
		return b.p;
	cmd_help_feeds(&b, usage_head);
	for (int i = 0; (f = feed_builtin(i)); i++)
		for (const struct feed_server_opt_help *h = f->server ? f->server->options_help : NULL;
		     h && h->head; h++)
			cmd_help_entry(&b, 18, h->head, f->name, h->text);
	text_buf_adds(&b, usage_limits);
	for (int i = 0; (f = feed_builtin(i)); i++)
		if (f->server && f->server->help)
			cmd_help_entry(&b, 12, f->name, NULL, f->server->help);
	text_buf_adds(&b, usage_faults);
	if (text_buf_err(&b)) {
		text_buf_free(&b);
		return usage_head;
	}
	return b.p;
}

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	stop_flag = 1;
}

/* What the server reports: the URL it serves (to stdout, for scripts) and, on stderr, what
 * it serves and each client that left. */
static void
on_report(const struct replay_event *ev, void *ud)
{
	char speed[32];

	if (ev->kind == REPLAY_EV_LISTENING) {
		if (ev->speed > 0)
			snprintf(speed, sizeof(speed), "%gx", ev->speed);
		else
			snprintf(speed, sizeof(speed), "max");
		cmd_say(LOG_INFO, "replaying '%s' (%s feed%s%s, speed %s, %s mode) on %s://%s:%d/",
			ev->journal, ev->feed, ev->detail[0] ? ", " : "", ev->detail, speed, ev->mode,
			ev->scheme, ev->host, ev->port);
		printf("%s://%s:%d/\n", ev->scheme, ev->host, ev->port);
		fflush(stdout);
		return;
	}
	char drift[64] = "";
	if (ev->has_drift)
		snprintf(drift, sizeof(drift), ", end drift %.4f%%", ev->drift_pct);
	cmd_say(LOG_INFO,
		"client %u (%s) left after %.3f s: %llu frames, %llu bytes, lateness p50 %.1f us p99 %.1f us max %.1f us%s",
		ev->client, ev->peer, ev->secs, (unsigned long long)ev->frames, (unsigned long long)ev->bytes,
		ev->p50_us, ev->p99_us, ev->max_us, drift);
}

/* The feed the journal was recorded with: the default, and what --feed is checked against;
 * --gate only where the feed serves frames without a protocol. Returns 0 or an exit code. */
static int
check_feed(struct replay_options *o, const char *feedname)
{
	struct journal *j;
	/* a journal that names no feed (or a built-in one unknown here) is served as the table's
	 * first; a spec feed is the spec it keeps */
	const struct feed *recorded = &feed_raw, *served;
	int ex = cmd_open_journal(o->journal, JOURNAL_RDONLY, NULL, &j);
	if (ex)
		return ex;
	const char *f = journal_meta_get(j, "feed");
	if (f && feed_find(f))
		recorded = feed_find(f);
	else if (f && !strncmp(f, FEED_SPEC_PREFIX, strlen(FEED_SPEC_PREFIX)))
		recorded = feedname ? o->feed : NULL; /* with --feed: that spec is what it is */
	if (!recorded)
		ex = cmd_journal_feed(j, o->journal, &recorded);
	journal_close(j);
	if (ex)
		return ex;
	if (!feedname)
		o->feed = recorded;
	else if (strcmp(o->feed->name, recorded->name))
		fprintf(stderr,
			"wstape: warning: replay: journal '%s' was recorded as %s; --feed %s serves it with the %s server side, which expects %s messages\n",
			o->journal, recorded->name, feedname, feedname, feedname);
	served = o->feed;
	if (o->gate && !(served->server && served->server->gate)) {
		const struct feed *g = NULL;
		for (int i = 0; !g && feed_builtin(i); i++)
			if (feed_builtin(i)->server && feed_builtin(i)->server->gate)
				g = feed_builtin(i);
		return cmd_usage_error(
			cmd_replay_usage(),
			"replay: --gate is for the %s feed; journal '%s' is served as %s (use --feed %s to gate it)",
			g ? g->name : "none", o->journal, served->name, g ? g->name : "none");
	}
	return 0;
}

/* ---- the options (cmd/opts.h) ----
 * What the table cannot say by kind alone is a converter each; those that say what is
 * wrong themselves return EXIT_USAGE (cmd_usage_error), the others -1 for cmd_parse's
 * "--NAME needs WANT, not 'VALUE'". */

/* What the command line gives beside struct replay_options, before it is settled there. */
struct replay_cli {
	struct replay_options o;
	char host[256]; /* --listen's host */
	const char *feedname; /* --feed as given, NULL when not */
	uint64_t conn; /* --conn; UINT64_MAX when not given */
	uint64_t max_clients; /* 0 when not given */
	char *token; /* --token as read (@FILE, env:NAME), owned */
};

static int
opt_listen(const char *v, void *dst, void *ud)
{
	struct replay_cli *c = dst;
	const char *colon = strrchr(v, ':');
	uint64_t u;

	if (v[0] == '[' || (colon && memchr(v, ':', (size_t)(colon - v))))
		return cmd_usage_error(
			cmd_replay_usage(),
			"replay: --listen '%s': IPv6 is not supported; listen on an IPv4 address or a name, e.g. 127.0.0.1:8765",
			v);
	if (!colon || colon == v || (size_t)(colon - v) >= sizeof(c->host) || text_parse_u64(colon + 1, &u) ||
	    u > 65535)
		return cmd_usage_error(cmd_replay_usage(),
				       "replay: --listen is HOST:PORT, e.g. 127.0.0.1:8765");
	memcpy(c->host, v, (size_t)(colon - v));
	c->host[colon - v] = 0;
	c->o.host = c->host;
	c->o.port = (int)u;
	return 0;
}

/* --feed: a feed of the table, by name */
static int
opt_feed(const char *v, void *dst, void *ud)
{
	struct replay_cli *c = dst;

	c->feedname = v;
	return cmd_feed_replace("replay", v, &c->o.feed);
}

static int
opt_speed(const char *v, void *dst, void *ud)
{
	double *speed = dst;
	char *end;

	if (!strcmp(v, "max")) {
		*speed = 0;
		return 0;
	}
	*speed = strtod(v, &end);
	if (!(*speed >= 0.001 && *speed <= 1e6) || *end || end == v)
		return cmd_usage_error(cmd_replay_usage(),
				       "replay: --speed is a number from 0.001 to 1000000, or 'max'");
	return 0;
}

static int
opt_time(const char *v, void *dst, void *ud)
{
	if (text_parse_time(v, dst))
		return cmd_usage_error(cmd_replay_usage(), "replay: '%s' is not a time", v);
	return 0;
}

static int
opt_from_cursor(const char *v, void *dst, void *ud)
{
	if (!*v)
		return cmd_usage_error(cmd_replay_usage(), "replay: --from-cursor is [CHANNEL=]CURSOR");
	*(const char **)dst = v;
	return 0;
}

static int
opt_mode(const char *v, void *dst, void *ud)
{
	enum replay_mode *mode = dst;

	if (!strcmp(v, "session"))
		*mode = REPLAY_SESSION;
	else if (!strcmp(v, "live"))
		*mode = REPLAY_LIVE;
	else
		return cmd_usage_error(cmd_replay_usage(), "replay: --mode is session or live");
	return 0;
}

static int
opt_token(const char *v, void *dst, void *ud)
{
	struct replay_cli *c = dst;
	char why[512];

	free(c->token);
	if (!(c->token = cmd_secret_arg(v, why, sizeof(why))))
		return cmd_usage_error(cmd_replay_usage(), "replay: --token: %s", why);
	c->o.token = c->token;
	return 0;
}

static int
opt_close_code(const char *v, void *dst, void *ud)
{
	uint64_t u;

	if (text_parse_u64(v, &u) || u < 1000 || u > 4999)
		return cmd_usage_error(cmd_replay_usage(), "replay: --close-code is 1000..4999");
	*(int *)dst = (int)u;
	return 0;
}

/* --dup-rate, --skip-rate (ud: the option's name) */
static int
opt_rate(const char *v, void *dst, void *ud)
{
	char *end;
	double d = strtod(v, &end);

	if (end == v || *end || !(d >= 0 && d <= 1))
		return cmd_usage_error(cmd_replay_usage(), "replay: %s is a probability 0..1",
				       (const char *)ud);
	*(double *)dst = d;
	return 0;
}

static int
opt_seed(const char *v, void *dst, void *ud)
{
	struct replay_options *o = dst;

	if (text_parse_u64(v, &o->seed))
		return -1;
	o->seed_given = 1;
	return 0;
}

static int
opt_log_level(const char *v, void *dst, void *ud)
{
	if (log_set_level_name(v))
		return cmd_usage_error(cmd_replay_usage(),
				       "replay: --log-level is error, warn, info or debug");
	return 0;
}

/* argv into c; 0, or the exit code of a usage error. */
static int
replay_parse(int argc, char **argv, struct replay_cli *c)
{
	struct replay_options *o = &c->o;
	const struct cmd_option opts[] = {
		CMD_FN("--listen", NULL, c, "HOST:PORT", opt_listen, NULL),
		CMD_FN("--feed", NULL, c, "a feed", opt_feed, NULL),
		CMD_FN("--speed", NULL, &o->speed, "a speed (X or max)", opt_speed, NULL),
		CMD_FN("--from", NULL, &o->from_wall, "a time", opt_time, NULL),
		CMD_FN("--to", NULL, &o->to_wall, "a time", opt_time, NULL),
		CMD_U64("--from-record", &o->from_recno, "a record number", 0, 0),
		CMD_FN("--from-cursor", NULL, &o->from_cursor, "[CHANNEL=]CURSOR", opt_from_cursor, NULL),
		CMD_U64("--conn", &c->conn, "a connection number", 0, UINT32_MAX),
		CMD_FN("--mode", NULL, &o->mode, "session or live", opt_mode, NULL),
		CMD_FN("--token", NULL, c, "a token", opt_token, NULL),
		CMD_STR("--tls-cert", NULL, &o->tls_cert, "a PEM file"),
		CMD_STR("--tls-key", NULL, &o->tls_key, "a PEM file"),
		CMD_FLAG("--loop", NULL, &o->loop),
		CMD_FLAG("--once", NULL, &o->once),
		CMD_FLAG("--gate", NULL, &o->gate),
		CMD_FLAG("--deflate", NULL, &o->deflate),
		/* faults */
		CMD_DURATION("--drop-every", &o->drop_every_ns, "a duration (e.g. 5s)", 1, INT64_MAX),
		CMD_U64("--drop-after", &o->drop_after, "a number of frames", 1, UINT64_MAX),
		CMD_FN("--close-code", NULL, &o->close_code, "a close code", opt_close_code, NULL),
		CMD_DURATION("--stall", &o->stall_ns, "a duration", 0, 0),
		CMD_FN("--dup-rate", NULL, &o->dup_rate, "a probability", opt_rate, "--dup-rate"),
		CMD_FN("--skip-rate", NULL, &o->skip_rate, "a probability", opt_rate, "--skip-rate"),
		CMD_FN("--seed", NULL, o, "a number", opt_seed, NULL),
		/* sessions, pings, limits, the log */
		CMD_DURATION("--grace", &o->grace_ns, "a duration", 1, INT64_MAX),
		CMD_DURATION("--cache", &o->cache_ns, "a duration", 1, INT64_MAX),
		CMD_DURATION("--ping-s", &o->ping_ns, "seconds", 1, INT64_MAX),
		CMD_DURATION("--pong-timeout", &o->pong_timeout_ns, "a duration", 1, INT64_MAX),
		CMD_SIZE("--max-buffer", &o->max_buffer, "a size", 1, INT64_MAX),
		CMD_SIZE("--max-buffer-total", &o->max_buffer_total, "a size", 1, INT64_MAX),
		CMD_SIZE("--max-client-message", &o->max_client_message, "a size", 1, INT64_MAX),
		CMD_U64("--max-clients", &c->max_clients, "a number", 1, 100000),
		CMD_FN("--metrics", NULL, &o->metrics, "HOST:PORT", cmd_opt_metrics, "replay"),
		CMD_FN("--log-level", NULL, NULL, "a log level", opt_log_level, NULL),
		CMD_FN("--log-format", NULL, NULL, "text, json or plain", cmd_opt_log_format, "replay"),
		CMD_END,
	};
	struct cmd_args args = {
		.cmd = "replay", .usage = cmd_replay_usage(), .what = "journal", .maxpos = 1
	};
	int ex = cmd_parse(argc, argv, opts, &args);

	if (ex)
		return ex;
	if (!args.npos)
		return cmd_usage_error(cmd_replay_usage(), "replay: which journal?");
	o->journal = args.pos[0];
	o->conn = c->conn == UINT64_MAX ? -1 : (int64_t)c->conn;
	o->max_clients = (int)c->max_clients;
	return 0;
}

/* The PEM files of --tls-cert and --tls-key: 0, or the exit code of a usage error. */
static int
check_tls(const struct replay_options *o)
{
	if (!o->tls_cert != !o->tls_key)
		return cmd_usage_error(cmd_replay_usage(), "replay: --tls-cert and --tls-key go together");
	for (int k = 0; k < 2; k++) {
		const char *file = k ? o->tls_key : o->tls_cert, *why;
		if (file && (why = pem_problem(file, k))) {
			fprintf(stderr, "wstape: replay: cannot use %s '%s': %s\n",
				k ? "--tls-key" : "--tls-cert", file, why);
			return EXIT_USAGE;
		}
	}
	return 0;
}

int
cmd_replay(int argc, char **argv)
{
	struct replay_cli c = { .conn = UINT64_MAX };
	struct replay_options *o = &c.o;
	int ex, rc;

	cmd_log_format("replay", "text");
	log_threshold = LOG_INFO;
	o->port = 8765;
	o->speed = 1;
	o->from_wall = INT64_MIN;
	o->to_wall = INT64_MAX;
	o->seed = 1;
	if ((ex = replay_parse(argc, argv, &c)) || (ex = check_tls(o)) || (ex = check_feed(o, c.feedname))) {
		free(c.token);
		cmd_feed_free(o->feed);
		return ex;
	}
	o->stop = &stop_flag;
	o->report = on_report;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	rc = replay_run(o);
	free(c.token);
	cmd_feed_free(o->feed);
	switch (rc) {
	case 0: return EXIT_OK;
	case REPLAY_EEMPTY:
		cmd_say(LOG_ERROR, "replay '%s': no server frames in the selected range", o->journal);
		return EXIT_USAGE;
	case REPLAY_EJOURNAL: return EXIT_USAGE;
	case REPLAY_ELISTEN:
	case REPLAY_ELWS: return EXIT_NET;
	default: cmd_say(LOG_ERROR, "replay: %s", replay_strerror(rc)); return EXIT_IO;
	}
}
