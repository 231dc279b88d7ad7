/* replay.c - `wstape replay`: serve a journal as a paced mock WebSocket server */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/cmd.h"
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

/* --token @FILE or env:NAME: the token read, for the whole run */
static char *token_owned;

const char cmd_replay_usage[] =
	"usage: wstape replay JOURNAL [--listen HOST:PORT] [--feed raw|hydromancer|lasersell|spec:FILE.json]\n"
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
	"  --feed F           the server side to speak: raw, hydromancer, lasersell or spec:FILE.json (default: the\n"
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
	"                     framed by wstape and several go out in one write)\n"
	"  --ping-s N         hydromancer: a ping every N seconds (default 30)\n"
	"  --pong-timeout D   hydromancer: close a client that sent no pong for D (default 150s)\n"
	"  --grace D          hydromancer: a session can be resumed for D after its connection\n"
	"                     ends (default 30s)\n"
	"  --cache D          hydromancer: a resume's replay reaches back D; an older cursor gets\n"
	"                     hasGap (default 30s)\n"
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
	"  --log-level L      error, warn, info or debug (default warn)\n"
	"\n"
	"feeds (server side):\n"
	"  raw          the recorded frames, byte-exact, text and binary\n"
	"  hydromancer  the Hydromancer API: a connect answer with a fresh client and session id,\n"
	"               subscribe -> subscriptionUpdate (subscribed or failed), only subscribed\n"
	"               channels, seq from 1 per connection and subscription, cursor as\n"
	"               recorded, pings and a pong timeout (\"Connection timeout\", then a\n"
	"               close); the session's id and a cursor in the query within --grace -> the\n"
	"               resume answer + replay chunks (<= 2000 items, <= 1 MB, cursor per chunk,\n"
	"               hasGap when the cursor is older than --cache); bad token -> error;\n"
	"               liveFormat read from every connection's query (never from the session):\n"
	"               the recording's format (liveFormat of its recorded URL) or an error\n"
	"  lasersell    the LaserSell stream: its hello with the recorded limits and session_id\n"
	"               on connect, the stream after configure, pong with server_time_ms to\n"
	"               ping; in session mode an x-api-key keeps its timeline for --grace: a\n"
	"               reconnect goes on where the last connection stopped, after the holdings\n"
	"               (balances, open positions)\n"
	"\n"
	"faults (reproducible with --seed):\n"
	"  --drop-every D     drop each connection every D (default: never)\n"
	"  --drop-after N     drop each connection after N frames (default: never)\n"
	"  --close-code C     drop with a close frame C (default: abrupt, no close frame)\n"
	"  --stall D          once per connection, stop sending for D (default: no stall)\n"
	"  --dup-rate P       send a frame twice with probability P (default 0)\n"
	"  --skip-rate P      leave a frame out with probability P (default 0)\n"
	"  --seed N           the seed of the faults' random choices and of the ids a feed makes\n"
	"                     (Hydromancer's client and session UUIDs) (default: faults 1, ids\n"
	"                     random)\n";

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
		fprintf(stderr, "wstape: replaying '%s' (%s feed%s%s, speed %s, %s mode) on %s://%s:%d/\n", ev->journal,
			ev->feed, ev->detail[0] ? ", " : "", ev->detail, speed, ev->mode, ev->scheme, ev->host, ev->port);
		printf("%s://%s:%d/\n", ev->scheme, ev->host, ev->port);
		fflush(stdout);
		return;
	}
	char drift[64] = "";
	if (ev->has_drift)
		snprintf(drift, sizeof(drift), ", end drift %.4f%%", ev->drift_pct);
	fprintf(stderr,
		"wstape: client %u (%s) left after %.3f s: %llu frames, %llu bytes, lateness p50 %.1f us p99 %.1f us max %.1f us%s\n",
		ev->client, ev->peer, ev->secs, (unsigned long long)ev->frames, (unsigned long long)ev->bytes, ev->p50_us,
		ev->p99_us, ev->max_us, drift);
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
		recorded = feedname ? o->feed : NULL;   /* with --feed: that spec is what it is */
	if (!recorded)
		ex = cmd_journal_feed(j, o->journal, &recorded);
	journal_close(j);
	if (ex)
		return ex;
	if (!feedname)
		o->feed = recorded;
	else if (strcmp(o->feed->name, recorded->name))
		fprintf(stderr, "wstape: warning: replay: journal '%s' was recorded as %s; --feed %s serves it with the %s server side, which expects %s messages\n",
			o->journal, recorded->name, feedname, feedname, feedname);
	served = o->feed;
	if (o->gate && !(served->server && served->server->gate)) {
		const struct feed *g = NULL;
		for (int i = 0; !g && feed_builtin(i); i++)
			if (feed_builtin(i)->server && feed_builtin(i)->server->gate)
				g = feed_builtin(i);
		return cmd_usage_error(cmd_replay_usage, "replay: --gate is for the %s feed; journal '%s' is served as %s (use --feed %s to gate it)",
				       g ? g->name : "none", o->journal, served->name, g ? g->name : "none");
	}
	return 0;
}

static int
parse_rate(const char *v, double *out)
{
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || d < 0 || d > 1)
		return -1;
	*out = d;
	return 0;
}

#define OPT(name) ((r = cmd_opt(argc, argv, i, name, &v)) != 0 && (r > 0 || (exit(EXIT_USAGE), 0)))

struct serve_args {
	char host[256];           /* --listen's host */
	const char *feedname;     /* --feed as given, NULL when not */
};

/* What is served, and where (one option with a value at argv[*i]): 0 when taken, -1 when
 * it is none of these, else the exit code of a usage error. */
static int
opt_serve(int argc, char **argv, int *i, struct replay_options *o, struct serve_args *sa)
{
	const char *v;
	int r;
	uint64_t u;

	if (OPT("--listen")) {
		const char *colon = strrchr(v, ':');
		if (v[0] == '[' || (colon && memchr(v, ':', (size_t)(colon - v))))
			return cmd_usage_error(cmd_replay_usage, "replay: --listen '%s': IPv6 is not supported; listen on an IPv4 address or a name, e.g. 127.0.0.1:8765", v);
		if (!colon || colon == v || (size_t)(colon - v) >= sizeof(sa->host) ||
		    text_parse_u64(colon + 1, &u) || u > 65535)
			return cmd_usage_error(cmd_replay_usage, "replay: --listen is HOST:PORT, e.g. 127.0.0.1:8765");
		memcpy(sa->host, v, (size_t)(colon - v));
		sa->host[colon - v] = 0;
		o->host = sa->host;
		o->port = (int)u;
	} else if (OPT("--feed")) {
		const struct feed *f;
		int ex = cmd_feed_arg("replay", v, &f);
		if (ex)
			return ex;
		cmd_feed_free(o->feed);   /* an earlier --feed */
		o->feed = f;
		sa->feedname = v;
	} else if (OPT("--speed")) {
		char *end;
		if (!strcmp(v, "max"))
			o->speed = 0;
		else if (!((o->speed = strtod(v, &end)) >= 0.001 && o->speed <= 1e6) || *end || end == v)
			return cmd_usage_error(cmd_replay_usage, "replay: --speed is a number from 0.001 to 1000000, or 'max'");
	} else if (OPT("--from")) {
		if (text_parse_time(v, &o->from_wall))
			return cmd_usage_error(cmd_replay_usage, "replay: '%s' is not a time", v);
	} else if (OPT("--to")) {
		if (text_parse_time(v, &o->to_wall))
			return cmd_usage_error(cmd_replay_usage, "replay: '%s' is not a time", v);
	} else if (OPT("--from-record")) {
		if (text_parse_u64(v, &o->from_recno))
			return cmd_usage_error(cmd_replay_usage, "replay: --from-record needs a record number");
	} else if (OPT("--from-cursor")) {
		if (!*v)
			return cmd_usage_error(cmd_replay_usage, "replay: --from-cursor is [CHANNEL=]CURSOR");
		o->from_cursor = v;
	} else if (OPT("--conn")) {
		if (text_parse_u64(v, &u) || u > UINT32_MAX)
			return cmd_usage_error(cmd_replay_usage, "replay: --conn needs a connection number");
		o->conn = (int64_t)u;
	} else if (OPT("--mode")) {
		if (!strcmp(v, "session"))
			o->mode = REPLAY_SESSION;
		else if (!strcmp(v, "live"))
			o->mode = REPLAY_LIVE;
		else
			return cmd_usage_error(cmd_replay_usage, "replay: --mode is session or live");
	} else if (OPT("--token")) {
		char why[512];
		free(token_owned);
		if (!(token_owned = cmd_secret_arg(v, why, sizeof(why))))
			return cmd_usage_error(cmd_replay_usage, "replay: --token: %s", why);
		o->token = token_owned;
	} else if (OPT("--tls-cert")) {
		o->tls_cert = v;
	} else if (OPT("--tls-key")) {
		o->tls_key = v;
	} else {
		return -1;
	}
	return 0;
}

/* The faults, as opt_serve does. */
static int
opt_faults(int argc, char **argv, int *i, struct replay_options *o)
{
	const char *v;
	int r;
	uint64_t u;

	if (OPT("--drop-every")) {
		if (text_parse_duration(v, &o->drop_every_ns) || !o->drop_every_ns)
			return cmd_usage_error(cmd_replay_usage, "replay: --drop-every needs a duration (e.g. 5s)");
	} else if (OPT("--drop-after")) {
		if (text_parse_u64(v, &o->drop_after) || !o->drop_after)
			return cmd_usage_error(cmd_replay_usage, "replay: --drop-after needs a number of frames");
	} else if (OPT("--close-code")) {
		if (text_parse_u64(v, &u) || u < 1000 || u > 4999)
			return cmd_usage_error(cmd_replay_usage, "replay: --close-code is 1000..4999");
		o->close_code = (int)u;
	} else if (OPT("--stall")) {
		if (text_parse_duration(v, &o->stall_ns))
			return cmd_usage_error(cmd_replay_usage, "replay: --stall needs a duration");
	} else if (OPT("--dup-rate")) {
		if (parse_rate(v, &o->dup_rate))
			return cmd_usage_error(cmd_replay_usage, "replay: --dup-rate is a probability 0..1");
	} else if (OPT("--skip-rate")) {
		if (parse_rate(v, &o->skip_rate))
			return cmd_usage_error(cmd_replay_usage, "replay: --skip-rate is a probability 0..1");
	} else if (OPT("--seed")) {
		if (text_parse_u64(v, &o->seed))
			return cmd_usage_error(cmd_replay_usage, "replay: --seed needs a number");
		o->seed_given = 1;
	} else {
		return -1;
	}
	return 0;
}

/* Sessions, pings, limits and the log, as opt_serve does. */
static int
opt_limits(int argc, char **argv, int *i, struct replay_options *o)
{
	const char *v;
	int r;
	uint64_t u;

	if (OPT("--grace")) {
		if (text_parse_duration(v, &o->grace_ns) || !o->grace_ns)
			return cmd_usage_error(cmd_replay_usage, "replay: --grace needs a duration");
	} else if (OPT("--cache")) {
		if (text_parse_duration(v, &o->cache_ns) || !o->cache_ns)
			return cmd_usage_error(cmd_replay_usage, "replay: --cache needs a duration");
	} else if (OPT("--ping-s")) {
		if (text_parse_duration(v, &o->ping_ns) || !o->ping_ns)
			return cmd_usage_error(cmd_replay_usage, "replay: --ping-s needs seconds");
	} else if (OPT("--pong-timeout")) {
		if (text_parse_duration(v, &o->pong_timeout_ns) || !o->pong_timeout_ns)
			return cmd_usage_error(cmd_replay_usage, "replay: --pong-timeout needs a duration");
	} else if (OPT("--max-buffer")) {
		if (text_parse_size(v, &o->max_buffer) || !o->max_buffer)
			return cmd_usage_error(cmd_replay_usage, "replay: --max-buffer needs a size");
	} else if (OPT("--max-buffer-total")) {
		if (text_parse_size(v, &o->max_buffer_total) || !o->max_buffer_total)
			return cmd_usage_error(cmd_replay_usage, "replay: --max-buffer-total needs a size");
	} else if (OPT("--max-client-message")) {
		if (text_parse_size(v, &o->max_client_message) || !o->max_client_message)
			return cmd_usage_error(cmd_replay_usage, "replay: --max-client-message needs a size");
	} else if (OPT("--max-clients")) {
		if (text_parse_u64(v, &u) || !u || u > 100000)
			return cmd_usage_error(cmd_replay_usage, "replay: --max-clients needs a number");
		o->max_clients = (int)u;
	} else if (OPT("--log-level")) {
		if (log_set_level_name(v))
			return cmd_usage_error(cmd_replay_usage, "replay: --log-level is error, warn, info or debug");
	} else {
		return -1;
	}
	return 0;
}
#undef OPT

int
cmd_replay(int argc, char **argv)
{
	struct replay_options o;
	struct serve_args sa = { "", NULL };

	memset(&o, 0, sizeof(o));
	o.port = 8765;
	o.speed = 1;
	o.from_wall = INT64_MIN;
	o.to_wall = INT64_MAX;
	o.conn = -1;
	o.seed = 1;
	for (int i = 1; i < argc; i++) {
		int r;
		if ((r = opt_serve(argc, argv, &i, &o, &sa)) >= 0 || (r = opt_faults(argc, argv, &i, &o)) >= 0 ||
		    (r = opt_limits(argc, argv, &i, &o)) >= 0) {
			if (r)
				return r;
		} else if (!strcmp(argv[i], "--loop")) {
			o.loop = 1;
		} else if (!strcmp(argv[i], "--once")) {
			o.once = 1;
		} else if (!strcmp(argv[i], "--gate")) {
			o.gate = 1;
		} else if (!strcmp(argv[i], "--deflate")) {
			o.deflate = 1;
		} else if (argv[i][0] == '-') {
			return cmd_usage_error(cmd_replay_usage, "replay: unknown option '%s'", argv[i]);
		} else if (!o.journal) {
			o.journal = argv[i];
		} else {
			return cmd_usage_error(cmd_replay_usage, "replay: one journal at a time");
		}
	}
	if (!o.journal)
		return cmd_usage_error(cmd_replay_usage, "replay: which journal?");
	if (!o.tls_cert != !o.tls_key)
		return cmd_usage_error(cmd_replay_usage, "replay: --tls-cert and --tls-key go together");
	for (int k = 0; k < 2; k++) {
		const char *file = k ? o.tls_key : o.tls_cert, *why;
		if (file && (why = pem_problem(file, k))) {
			fprintf(stderr, "wstape: replay: cannot use %s '%s': %s\n", k ? "--tls-key" : "--tls-cert", file, why);
			return EXIT_USAGE;
		}
	}
	int ex = check_feed(&o, sa.feedname);
	if (ex)
		return ex;
	o.stop = &stop_flag;
	o.report = on_report;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	int rc = replay_run(&o);
	cmd_feed_free(o.feed);
	free(token_owned);
	token_owned = NULL;
	switch (rc) {
	case 0:
		return EXIT_OK;
	case REPLAY_EEMPTY:
		fprintf(stderr, "wstape: replay '%s': no server frames in the selected range\n", o.journal);
		return EXIT_USAGE;
	case REPLAY_EJOURNAL:
		return EXIT_USAGE;
	case REPLAY_ELISTEN:
	case REPLAY_ELWS:
		return EXIT_NET;
	default:
		fprintf(stderr, "wstape: replay: %s\n", replay_strerror(rc));
		return EXIT_IO;
	}
}
