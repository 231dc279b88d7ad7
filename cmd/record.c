/* record.c - `wstape record URL -o JOURNAL`: capture a live WebSocket feed into a journal
 *
 * This file reads the command line into struct record_args: the command's own options
 * from record_opts[], a feed's own from its client half (feeds/feed_client.h). The steps
 * that follow (cmd/record_steps.c): open the journal, settle the feed (--resume: the
 * journal's feed and kept options), write the metadata, run the recorder, tell its result. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/opts.h"
#include "cmd/record_int.h"
#include "feeds/feed.h"
#include "feeds/feed_client.h"
#include "journal/journal.h"
#include "recorder/recorder.h"
#include "util/log.h"
#include "util/text.h"

/* The help, around the feeds' own options (cmd_record_usage). */
static const char usage_head[] =
	"usage: wstape record URL -o JOURNAL [options]\n"
	"\n"
	"Capture every frame of a WebSocket feed (both directions, with receive time, channel and\n"
	"cursor) and every connection event into JOURNAL, reconnecting until stopped.\n"
	"URL, -H and --api-key also take @FILE (read from FILE) or env:NAME (from the environment\n"
	"variable NAME), so that no secret shows in the process's command line.\n"
	"\n"
	"  -o, --output DIR         the journal directory (required; created; must not exist unless --resume)\n"
	"  --url URL|@FILE|env:NAME  the URL, as the URL argument is (required: one or the other)\n"
	"  --feed NAME              {feeds,} (the first is the default), or spec:FILE.json (a feed\n"
	"                           declared as data, docs/SPEC.md; kept in the journal)\n"
	"  --resume                 continue the journal's last session (the session id and cursor from it)\n"
	"  -H, --header 'N: V'      add a header to the upgrade request (repeatable; default: none); @FILE or\n"
	"                           env:NAME: one header per line\n"
	"  --secret-header NAME     redact this header's value too (repeatable; default: none; Authorization,\n"
	"                           x-api-key, Cookie and Proxy-Authorization always are)\n"
	"  --redact-param NAME      redact this URL query parameter too (repeatable; default: none; token,\n"
	"                           key, sig, signature, password, ... always are: see README, Security)\n"
	"  --follow-redirects       follow an HTTP redirect of the upgrade (default: no, the attempt fails);\n"
	"                           to another origin without Authorization, x-api-key, Cookie, the secret\n"
	"                           headers (--secret-header), the secret query parameters and --send\n"
	"  --connect-timeout D      give up an attempt whose TCP connect, TLS handshake or upgrade takes\n"
	"                           longer than D (default 10s); it counts as a failed attempt\n"
	"  --send JSON|@FILE        send this text after each connect (with a feed that has a handshake:\n"
	"                           once it is done; repeatable; default: nothing)\n";
/* (here each feed's options: struct feed_client_opt.arg and .help) */
static const char usage_tail[] =
	"  --ws-ping-s N            WebSocket ping frames every N seconds (default: none; turns off permessage-deflate:\n"
	"                           libwebsockets 4.1 cannot close such a connection cleanly)\n"
	"  --ca FILE                trust the CA certificates in FILE (default: the system store)\n"
	"  --insecure               accept any server certificate\n"
	"  --no-deflate             do not offer permessage-deflate\n"
	"  --ws-engine E            who speaks WebSocket, on ws:// and wss:// alike: wstape (the default: its own\n"
	"                           TLS, upgrade and framing over the TCP connection libwebsockets opens, whole\n"
	"                           blocks at a time, the fast one) or lws (libwebsockets' own client, byte by\n"
	"                           byte: slower, kept for comparison and as a fallback)\n"
	"  --duration D             stop after D (e.g. 90s, 15m, 2h; default: run until stopped)\n"
	"  --max-records N          stop after journaling N records (the close that follows is journaled too;\n"
	"                           default: no limit)\n"
	"  --max-message SIZE       largest message kept (default 256m; larger ones are journaled as errors)\n"
	"  --retries N              give up after N failed attempts in a row (default, or 0: never)\n"
	"  --exit-on-close          stop (exit 0) when the server closes with 1000, as wstape replay\n"
	"                           does at the end of a recording, instead of reconnecting\n"
	"  --fsync always|interval|never   durability policy (default interval: fsync every second)\n"
	"  --flush-ms N             seal the open block after N ms (default 100): the most a kill -9 loses\n"
	"  --zstd-level N           compression level (default 1: see docs/FORMAT.md)\n"
	"  --segment-size SIZE      start a new segment file past SIZE (default 256m)\n"
	"  --segment-age D          also start a new one at every multiple of D on the clock (1h: on\n"
	"                           the hour, 1d: at 00:00 UTC; default: by size only), also when no\n"
	"                           message comes, so that whole hourly or daily files can be shipped\n"
	"                           and pruned\n"
	"  --retain D               prune as it records: remove the segments whose records are all\n"
	"                           older than D (wstape prune --keep D; checked every D/100, 1 s to\n"
	"                           1 min; each prune is logged at level info; default: keep all)\n"
	"  --publish URLS           also publish every record to a NATS JetStream stream, asynchronously,\n"
	"                           from the journal (nats://HOST:PORT[,nats://HOST2:PORT2...]; tls:// too;\n"
	"                           default: none); NATS down never stops the recording: the stream\n"
	"                           catches up from the journal (README, Past one machine)\n"
	"  --stream NAME            the stream (required with --publish; make it: wstape stream create)\n"
	"  --recorder-id ID         this recorder's id in the stream, 1..64 of A-Z a-z 0-9 _ . - (default:\n"
	"                           the journal's, else the host name)\n"
	"  --subject-name NAME      the journal's name in subjects wstape.NAME.CHANNEL (default: the\n"
	"                           journal's, else its directory's name)\n"
	"  --metrics HOST:PORT      serve /metrics (Prometheus text format) and /healthz there, e.g.\n"
	"                           127.0.0.1:9100, [::1]:9100, :9100 (every address); default: none\n"
	"                           (docs/METRICS.md)\n"
	"  --health-max-down D      /healthz answers 503 after D without a connection (default 60s; before\n"
	"                           the first connection, from the start) or when journal writes fail\n"
	"  --live-inspect on|off    apply the feed's inspect rules to each record as it is journaled: seq\n"
	"                           gaps, hasGap replays, duplicates... as warnings in the log and metrics\n"
	"                           (default: on with --metrics, else off)\n"
	"  -q, --quiet              no status line, errors only\n"
	"  -v, -vv, --verbose       -v: info (the default); -vv or -v -v: debug, libwebsockets' own too\n"
	"  --log-level LEVEL        error, warn, info or debug (default info: connects, closes, reconnects,\n"
	"                           failed attempts, findings)\n"
	"  --log-format text|json|plain   text (the default): an RFC 3339 UTC time, the level, the\n"
	"                           message; json: one object a line (ts, level, cmd, conn, msg);\n"
	"                           plain: wstape: LEVEL: message\n"
	"\n"
	"SIGINT/SIGTERM close the connection with 1000, seal and sync the journal and exit 0.\n"
	"A first run that fails before any frame removes the journal it created.\n"
	"Exit codes: 0 stopped, 2 usage, 3 journal write failed, 4 credentials refused (HTTP 401/403,\n"
	"or the feed's refusal in a message),\n"
	"5 network (--retries exhausted, libwebsockets could not start, --metrics cannot listen).\n";

const char *
cmd_record_usage(void)
{
	static struct text_buf b;
	const struct feed *f;
	char head[128];

	if (b.len)
		return b.p;
	cmd_help_feeds(&b, usage_head);
	for (int i = 0; (f = feed_builtin(i)); i++)
		for (const struct feed_client_opt *o = f->client ? f->client->options : NULL; o && o->name;
		     o++) {
			const struct feed *first;
			/* an option that several feeds take is listed with the first */
			if (feed_client_opt_any(o->name, &first) != o || !o->help)
				continue;
			snprintf(head, sizeof(head), "%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
			cmd_help_entry(&b, 24, head, f->name, o->help);
		}
	text_buf_adds(&b, usage_tail);
	if (text_buf_err(&b)) {
		text_buf_free(&b);
		return usage_head;
	}
	return b.p;
}

int
strv_add(struct strv *s, const char *p, size_t len)
{
	const char **v = realloc(s->v, sizeof(*v) * (size_t)(s->n + 1));
	size_t *l;

	if (!v)
		return -1;
	s->v = v;
	if (!(l = realloc(s->lens, sizeof(*l) * (size_t)(s->n + 1))))
		return -1;
	s->lens = l;
	v[s->n] = p;
	l[s->n] = len;
	s->n++;
	return 0;
}

void
strv_free(struct strv *s, int owned)
{
	if (owned)
		for (int i = 0; i < s->n; i++)
			free((char *)s->v[i]);
	free(s->v);
	free(s->lens);
}

char *
record_keep(struct record_args *a, char *s)
{
	if (s && strv_add(&a->owned, s, strlen(s))) {
		free(s);
		return NULL;
	}
	return s;
}

/* ---- the options: a table (cmd/opts.h) over struct record_args ----
 * What a kind cannot say is a converter each (CMD_OPT_FN): it gets the value, the record_args
 * and the option's name, and returns 0, or EXIT_USAGE after saying what is wrong. */

static int
opt_url(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	char why[512], *u;

	if (ra->url) {
		fprintf(stderr, "wstape: unexpected URL argument (a URL is given already)\n");
		return EXIT_USAGE;
	}
	if (!(u = record_keep(ra, cmd_secret_arg(val, why, sizeof(why))))) {
		fprintf(stderr, "wstape: URL: %s\n", why);
		return EXIT_USAGE;
	}
	/* a URL file ending in a line break holds the URL without it */
	u[strcspn(u, "\r\n")] = '\0';
	ra->url = u;
	return 0;
}

/* --feed: a feed of the table, by name */
static int
opt_feed(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;

	ra->feed_name_arg = val;
	return cmd_feed_replace("record", val, &ra->feed);
}

/* NULL when h is "Name: value" with a name of token characters (RFC 9110) and a value
 * without control characters but tab (a CR or LF would add headers of its own to the
 * request); else what is wrong, naming neither (it may be a secret). */
static const char *
header_bad(const char *h)
{
	const char *colon = strchr(h, ':');

	if (!colon || colon == h)
		return "is not 'Name: value'";
	for (const char *p = h; p < colon; p++)
		if (*p <= 0x20 || *p >= 0x7f || strchr("\"(),/;<=>?@[\\]{}", *p))
			return "has a name that is not a token (letters, digits, !#$%&'*+-.^_`|~)";
	for (const unsigned char *p = (const unsigned char *)colon + 1; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return *p == '\r' || *p == '\n' ? "holds a line break (one header per -H)"
							: "holds a control character";
	return NULL;
}

/* -H @FILE or env:NAME: one header a line; blank lines are skipped */
static int
header_source(struct record_args *ra, const char *src)
{
	char why[512], *text = record_keep(ra, cmd_secret_arg(src, why, sizeof(why))), *save = NULL;
	int nh = 0;

	if (!text) {
		fprintf(stderr, "wstape: header %s\n", why);
		return -1;
	}
	for (char *t = strtok_r(text, "\r\n", &save); t; t = strtok_r(NULL, "\r\n", &save)) {
		const char *bad = header_bad(t);
		if (bad) {
			/* the line may be a secret: only its place is named */
			fprintf(stderr, "wstape: line %d of header source '%s' %s\n", nh + 1, src, bad);
			return -1;
		}
		strv_add(&ra->headers, t, strlen(t));
		nh++;
	}
	if (!nh) {
		fprintf(stderr, "wstape: header source '%s' holds no header\n", src);
		return -1;
	}
	return 0;
}

static int
opt_header(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	if (val[0] == '@' || !strncmp(val, "env:", 4))
		return header_source(ra, val) ? EXIT_USAGE : 0;
	const char *bad = header_bad(val);
	if (bad) {
		fprintf(stderr, "wstape: header %d of the command line %s\n", ra->headers.n + 1, bad);
		return EXIT_USAGE;
	}
	strv_add(&ra->headers, val, strlen(val));
	return 0;
}

static int
opt_secret_header(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	strv_add(&ra->secret_headers, val, strlen(val));
	return 0;
}

static int
opt_redact_param(const char *val, void *dst, void *ud)
{
	if (feed_secret_param_add(val)) {
		fprintf(stderr, "wstape: bad --redact-param '%s'\n", val);
		return EXIT_USAGE;
	}
	return 0;
}

static int
opt_send(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	size_t n;
	char *s = cmd_text_or_file(val, &n);

	if (!s) {
		fprintf(stderr, "wstape: cannot read '%s': %s\n", val + 1, strerror(errno));
		return EXIT_USAGE;
	}
	strv_add(&ra->sends, s, n);
	return 0;
}

static int
opt_connect_timeout(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	int64_t ns;

	if (text_parse_duration(val, &ns) || ns < 1000000 || ns > 3600 * 1000000000LL) {
		fprintf(stderr, "wstape: bad duration '%s' for --connect-timeout (1ms to 1h)\n", val);
		return EXIT_USAGE;
	}
	ra->ro.connect_timeout_ms = (uint32_t)(ns / 1000000);
	return 0;
}

/* seconds or a duration, in ms (at least 1) */
static int
parse_interval(const char *a, const char *val, uint64_t *ms)
{
	int64_t ns;

	if (text_parse_duration(val, &ns) || ns <= 0) {
		fprintf(stderr, "wstape: bad interval '%s' for %s (seconds, e.g. 5 or 500ms)\n", val, a);
		return -1;
	}
	*ms = ns / 1000000 ? (uint64_t)(ns / 1000000) : 1;
	return 0;
}

static int
opt_ws_ping(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	const char *a = ud;

	uint64_t ms;

	if (parse_interval(a, val, &ms))
		return EXIT_USAGE;
	ra->ro.ws_ping_ms = (uint32_t)ms;
	/* libwebsockets 4.1.6 spins at 100% CPU and never finishes the close of a connection
	 * that sent ping frames under permessage-deflate (tests/t34): pings and deflate do not
	 * go together */
	ra->ro.no_deflate = 1;
	return 0;
}

static int
opt_ws_engine(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;

	if (!strcmp(val, "wstape"))
		ra->ro.ws_engine = RECORDER_ENGINE_WSTAPE;
	else if (!strcmp(val, "lws"))
		ra->ro.ws_engine = RECORDER_ENGINE_LWS;
	else {
		fprintf(stderr, "wstape: bad value '%s' for --ws-engine (wstape or lws)\n", val);
		return EXIT_USAGE;
	}
	return 0;
}

static int
opt_live_inspect(const char *val, void *dst, void *ud)
{
	if (strcmp(val, "on") && strcmp(val, "off"))
		return -1;
	*(int *)dst = !strcmp(val, "on") ? 1 : -1;
	return 0;
}

static int
opt_ca(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	ra->ro.ca_file = val;
	if (access(val, R_OK)) {
		fprintf(stderr, "wstape: cannot read CA file '%s': %s\n", val, strerror(errno));
		return EXIT_USAGE;
	}
	return 0;
}

static int
opt_duration(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	int64_t ns;

	if (text_parse_duration(val, &ns) || ns <= 0) {
		fprintf(stderr, "wstape: bad duration '%s' (e.g. 90s, 15m, 2h)\n", val);
		return EXIT_USAGE;
	}
	ra->ro.duration_ns = ns;
	return 0;
}

static int
opt_number(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	const char *a = ud;

	uint64_t u;

	if (text_parse_u64(val, &u) || (strcmp(a, "--max-records") && u > 1000000)) {
		fprintf(stderr, "wstape: bad number '%s' for %s\n", val, a);
		return EXIT_USAGE;
	}
	if (!strcmp(a, "--max-records"))
		ra->ro.max_records = u;
	else if (!strcmp(a, "--retries"))
		ra->ro.retries = (unsigned)u;
	else if (!strcmp(a, "--flush-ms"))
		ra->jo.flush_ms = u ? (uint32_t)u : 1;
	else
		ra->jo.zstd_level = (int)u;
	return 0;
}

static int
opt_max_message(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	uint64_t u;

	if (text_parse_size(val, &u) || !u || u > JOURNAL_MAX_PAYLOAD) {
		fprintf(stderr, "wstape: bad size '%s' for --max-message (at most 1g)\n", val);
		return EXIT_USAGE;
	}
	ra->ro.max_message = u;
	return 0;
}

static int
opt_fsync(const char *val, void *dst, void *ud)
{
	struct record_args *ra = dst;
	if (!strcmp(val, "always"))
		ra->jo.fsync = JOURNAL_FSYNC_ALWAYS;
	else if (!strcmp(val, "interval"))
		ra->jo.fsync = JOURNAL_FSYNC_INTERVAL;
	else if (!strcmp(val, "never"))
		ra->jo.fsync = JOURNAL_FSYNC_NEVER;
	else {
		fprintf(stderr, "wstape: bad --fsync '%s' (always, interval or never)\n", val);
		return EXIT_USAGE;
	}
	return 0;
}

/* ---- the feed's own options (struct feed_client_ops.options) ---- */

/* Adds a value of option o (a later one replaces an earlier one, but for a list). */
int
record_feed_arg_add(struct record_args *ra, const struct feed_client_opt *o, const char *v, size_t len,
		    uint64_t ms)
{
	struct feed_client_arg *fa = NULL, *grown;

	for (int k = 0; o->type != FEED_OPT_LIST && k < ra->nfargs; k++)
		if (!strcmp(ra->fargs[k].name, o->name))
			fa = &ra->fargs[k];
	if (!fa) {
		if (!(grown = realloc(ra->fargs, sizeof(*grown) * (size_t)(ra->nfargs + 1)))) {
			fprintf(stderr, "wstape: %s\n", strerror(ENOMEM));
			return -1;
		}
		ra->fargs = grown;
		fa = &ra->fargs[ra->nfargs++];
	}
	*fa = (struct feed_client_arg){ .name = o->name, .value = v, .len = len, .ms = ms };
	return 0;
}

/* The value of a feed option, by its type. */
static int
feed_opt(struct record_args *ra, const struct feed_client_opt *o, const char *a, const char *val)
{
	char why[512], *v;
	size_t n = strlen(val);
	uint64_t ms = 0;
	int64_t ns;

	switch (o->type) {
	case FEED_OPT_MESSAGE:
		if (!(v = record_keep(ra, cmd_text_or_file(val, &n)))) {
			fprintf(stderr, "wstape: cannot read '%s': %s\n", val + 1, strerror(errno));
			return -1;
		}
		return record_feed_arg_add(ra, o, v, n, 0);
	case FEED_OPT_SECRET:
		if (!(v = record_keep(ra, cmd_secret_arg(val, why, sizeof(why))))) {
			fprintf(stderr, "wstape: %s: %s\n", a, why);
			return -1;
		}
		v[strcspn(v, "\r\n")] = '\0';
		return record_feed_arg_add(ra, o, v, strlen(v), 0);
	case FEED_OPT_DURATION:
		if (text_parse_duration(val, &ns) || ns < 1000000) {
			fprintf(stderr, "wstape: bad duration '%s' for %s\n", val, a);
			return -1;
		}
		ms = (uint64_t)(ns / 1000000);
		break;
	case FEED_OPT_INTERVAL:
		if (parse_interval(a, val, &ms))
			return -1;
		break;
	default: break;
	}
	return record_feed_arg_add(ra, o, val, n, ms);
}

/* A feed's own option (ud: its struct feed_client_opt), as a converter. */
static int
opt_feed_own(const char *val, void *dst, void *ud)
{
	const struct feed_client_opt *o = ud;

	return feed_opt(dst, o, o->name, val) ? EXIT_USAGE : 0;
}

int
record_parse_args(struct record_args *ra, int argc, char **argv)
{
	int vv = 0, nfeed = 0, k = 0, ex;
	const struct feed *f;
	struct cmd_args args = { .cmd = "record", .usage = cmd_record_usage(), .what = "URL", .maxpos = 1 };

	for (int i = 0; (f = feed_builtin(i)); i++)
		for (const struct feed_client_opt *o = f->client ? f->client->options : NULL; o && o->name;
		     o++)
			nfeed++;
	const struct cmd_option own[] = {
		CMD_FN("--url", NULL, ra, "a URL", opt_url, "--url"),
		CMD_STR("--output", "-o", &ra->out, "a journal directory"),
		CMD_FN("--feed", NULL, ra, "a feed", opt_feed, NULL),
		CMD_FLAG("--resume", NULL, &ra->resume),
		CMD_FN("--header", "-H", ra, "'Name: value'", opt_header, NULL),
		CMD_FN("--secret-header", NULL, ra, "a header name", opt_secret_header, NULL),
		CMD_FN("--redact-param", NULL, ra, "a parameter name", opt_redact_param, NULL),
		CMD_FLAG("--follow-redirects", NULL, &ra->ro.follow_redirects),
		CMD_FN("--connect-timeout", NULL, ra, "a duration", opt_connect_timeout, NULL),
		CMD_FN("--send", NULL, ra, "JSON or @FILE", opt_send, NULL),
		CMD_FN("--ws-ping-s", NULL, ra, "seconds", opt_ws_ping, "--ws-ping-s"),
		CMD_FN("--ca", NULL, ra, "a file", opt_ca, NULL),
		CMD_FN("--ws-engine", NULL, ra, "wstape or lws", opt_ws_engine, NULL),
		CMD_FLAG("--insecure", NULL, &ra->ro.insecure),
		CMD_FLAG("--no-deflate", NULL, &ra->ro.no_deflate),
		CMD_FN("--duration", NULL, ra, "a duration", opt_duration, NULL),
		CMD_FN("--max-records", NULL, ra, "a number", opt_number, "--max-records"),
		CMD_FN("--max-message", NULL, ra, "a size", opt_max_message, NULL),
		CMD_FN("--retries", NULL, ra, "a number", opt_number, "--retries"),
		CMD_FLAG("--exit-on-close", NULL, &ra->ro.exit_on_close),
		CMD_FN("--fsync", NULL, ra, "always, interval or never", opt_fsync, NULL),
		CMD_FN("--flush-ms", NULL, ra, "a number", opt_number, "--flush-ms"),
		CMD_FN("--zstd-level", NULL, ra, "a number", opt_number, "--zstd-level"),
		CMD_SIZE("--segment-size", &ra->segment_size, "a size from 4k to 1t", 4096, 1ULL << 40),
		CMD_DURATION("--segment-age", &ra->segment_age_ns, "a duration (e.g. 1h, 1d)", 1000000, 0),
		CMD_DURATION("--retain", &ra->retain_ns, "a duration (e.g. 7d, 36h)", 1000000, 0),
		CMD_STR("--publish", NULL, &ra->publish, "NATS servers (nats://HOST:PORT,...)"),
		CMD_STR("--stream", NULL, &ra->stream, "a JetStream stream name"),
		CMD_STR("--recorder-id", NULL, &ra->recorder_id, "a recorder id"),
		CMD_STR("--subject-name", NULL, &ra->subject_name, "a subject name"),
		CMD_FN("--metrics", NULL, &ra->ro.metrics, "HOST:PORT", cmd_opt_metrics, "record"),
		CMD_DURATION("--health-max-down", &ra->ro.health_max_down_ns, "a duration from 1s to 1d",
			     1000000000ULL, 86400000000000ULL),
		CMD_FN("--live-inspect", NULL, &ra->ro.live_inspect, "on or off", opt_live_inspect, NULL),
		CMD_FLAG("--quiet", "-q", &ra->quiet),
		CMD_COUNT("--verbose", "-v", &ra->verbose),
		CMD_COUNT("-vv", NULL, &vv),
		CMD_STR("--log-level", NULL, &ra->log_level, "a log level"),
		CMD_FN("--log-format", NULL, NULL, "text, json or plain", cmd_opt_log_format, "record"),
	};
	struct cmd_option opts[sizeof(own) / sizeof(own[0]) + (size_t)nfeed + 1];
	memcpy(opts, own, sizeof(own));
	k = (int)(sizeof(own) / sizeof(own[0]));
	/* a feed's own options; one that several feeds take, once (feeds give it one type) */
	for (int i = 0; (f = feed_builtin(i)); i++)
		for (const struct feed_client_opt *o = f->client ? f->client->options : NULL; o && o->name;
		     o++) {
			const struct feed *first;
			if (feed_client_opt_any(o->name, &first) == o)
				opts[k++] = (struct cmd_option)CMD_FN(o->name, NULL, ra,
								      o->arg ? o->arg : "a value",
								      opt_feed_own, (void *)o);
		}
	opts[k] = (struct cmd_option)CMD_END;
	if ((ex = cmd_parse(argc, argv, opts, &args)))
		return ex;
	ra->verbose += 2 * vv;
	if (args.npos && opt_url(args.pos[0], ra, "--url"))
		return EXIT_USAGE;
	return 0;
}

void
record_args_free(struct record_args *ra)
{
	text_buf_free(&ra->shown);
	strv_free(&ra->headers, 0);
	strv_free(&ra->secret_headers, 0);
	strv_free(&ra->sends, 1);
	strv_free(&ra->owned, 1);
	free(ra->fargs);
	cmd_feed_free(ra->feed);
	ra->feed = NULL;
	feed_secret_params_clear();
}

int
cmd_record(int argc, char **argv)
{
	struct record_args ra = { .feed = &feed_raw }; /* --feed's default */
	struct recorder_stats st;
	struct journal *j = NULL;
	int rc;

	cmd_log_format("record", "text");
	if (record_parse_args(&ra, argc, argv)) {
		rc = EXIT_USAGE;
	} else if (!(rc = record_check_args(&ra)) && !(rc = record_open_journal(&ra, &j)) &&
		   !(rc = record_settle_feed(&ra, j)) && !(rc = record_store_meta(&ra, j)) &&
		   !(rc = record_publish_start(&ra, j))) {
		rc = record_report(&ra, j, record_run(&ra, j, &st), &st);
		record_publish_stop(&ra, j); /* the journal has it all: the next run publishes the rest */
		record_settle_empty(&ra, &j, rc, &st);
		if (!ra.quiet)
			log_info("%llu records, %llu frames in, %llu out, %llu connects, %llu not JSON",
				 (unsigned long long)st.records, (unsigned long long)st.frames_in,
				 (unsigned long long)st.frames_out, (unsigned long long)st.connects,
				 (unsigned long long)st.not_json);
	}
	if (j) {
		int err = journal_close(j);
		if (err && rc == EXIT_OK)
			rc = record_journal_fail(ra.out, "close", NULL, err);
	}
	record_args_free(&ra);
	return rc;
}
