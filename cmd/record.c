/* record.c - `wstape record URL -o JOURNAL`: capture a live WebSocket feed into a journal */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "feeds/feed.h"
#include "journal/journal.h"
#include "recorder/recorder.h"
#include "util/log.h"
#include "util/text.h"

const char cmd_record_usage[] =
	"usage: wstape record URL -o JOURNAL [options]\n"
	"\n"
	"Capture every frame of a WebSocket feed (both directions, with receive time, channel and\n"
	"cursor) and every connection event into JOURNAL, reconnecting until stopped.\n"
	"URL, -H and --api-key also take @FILE (read from FILE) or env:NAME (from the environment\n"
	"variable NAME), so that no secret shows in the process's command line.\n"
	"\n"
	"  -o, --output DIR         the journal directory (required; created; must not exist unless --resume)\n"
	"  --url URL|@FILE|env:NAME  the URL, as the URL argument is (required: one or the other)\n"
	"  --feed NAME              raw (default), hydromancer or lasersell\n"
	"  --resume                 continue the journal's last session (sessionId and cursor from it)\n"
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
	"  --send JSON|@FILE        send this text after each connect (lasersell: after hello_ok; repeatable;\n"
	"                           default: nothing)\n"
	"  --subscribe TYPE         hydromancer: subscribe to TYPE, again after each new session (repeatable;\n"
	"                           default: none; --resume: the journal's)\n"
	"  --live-format FMT        hydromancer: liveFormat on every connect (e.g. chunked-v1; default: none;\n"
	"                           --resume: the journal's)\n"
	"  --api-key KEY|@FILE|env:NAME  lasersell: sent as x-api-key (default $LASERSELL_API_KEY)\n"
	"  --configure JSON|@FILE   lasersell: configure message sent after each open (default: none)\n"
	"  --ping-s N               lasersell: app-level ping every N seconds (round trips journaled; default: none)\n"
	"  --hello-timeout D        lasersell: reconnect when hello_ok has not come after D (default 10s)\n"
	"  --ws-ping-s N            WebSocket ping frames every N seconds (default: none; turns off permessage-deflate:\n"
	"                           libwebsockets 4.1 cannot close such a connection cleanly)\n"
	"  --ca FILE                trust the CA certificates in FILE (default: the system store)\n"
	"  --insecure               accept any server certificate\n"
	"  --no-deflate             do not offer permessage-deflate\n"
	"  --duration D             stop after D (e.g. 90s, 15m, 2h; default: run until stopped)\n"
	"  --max-records N          stop after journaling N records (the close that follows is journaled too;\n"
	"                           default: no limit)\n"
	"  --max-message SIZE       largest message kept (default 256m; larger ones are journaled as errors)\n"
	"  --retries N              give up after N failed attempts in a row (default: never)\n"
	"  --exit-on-close          stop (exit 0) when the server closes with 1000, as wstape replay\n"
	"                           does at the end of a recording, instead of reconnecting\n"
	"  --fsync always|interval|never   durability policy (default interval: fsync every second)\n"
	"  --flush-ms N             seal the open block after N ms (default 100): the most a kill -9 loses\n"
	"  --zstd-level N           compression level (default 1: see docs/FORMAT.md)\n"
	"  -q, --quiet              no status line, errors only\n"
	"  -v, -vv, --verbose       log connections (-vv, or -v -v: and libwebsockets' debug too)\n"
	"  --log-level LEVEL        error, warn, info or debug (default warn; -v: info)\n"
	"\n"
	"SIGINT/SIGTERM close the connection with 1000, seal and sync the journal and exit 0.\n"
	"A first run that fails before any frame removes the journal it created.\n"
	"Exit codes: 0 stopped, 2 usage, 3 journal write failed, 4 credentials refused (HTTP 401/403,\n"
	"hydromancer \"Invalid API key\"),\n"
	"5 network (--retries exhausted, libwebsockets could not start).\n";

struct strv {
	const char **v;
	size_t *lens;
	int n;
};

static int
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

static void
strv_free(struct strv *s, int owned)
{
	if (owned)
		for (int i = 0; i < s->n; i++)
			free((char *)s->v[i]);
	free(s->v);
	free(s->lens);
}

/* "TEXT" or "@FILE": returns a malloc'd copy and its length, or NULL with errno. */
static char *
text_or_file(const char *arg, size_t *len)
{
	struct text_buf b = { 0 };
	char chunk[65536];
	FILE *f;
	size_t n;

	if (arg[0] != '@') {
		*len = strlen(arg);
		return strdup(arg);
	}
	if (!(f = fopen(arg + 1, "rb")))
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		text_buf_add(&b, chunk, n);
	if (ferror(f)) {
		int e = errno;
		fclose(f);
		text_buf_free(&b);
		errno = e;
		return NULL;
	}
	fclose(f);
	/* a file ending in a newline holds the message without it */
	while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == '\r'))
		b.len--;
	text_buf_reserve(&b, 1);
	b.p[b.len] = '\0';
	*len = b.len;
	return b.p;
}

/* A value that may hold a secret: "@FILE" (the file's content, without the line break at
 * its end), "env:NAME" (the environment variable), else the text itself. Returns a malloc'd
 * copy, or NULL with a message in why. */
static char *
secret_arg(const char *arg, char *why, size_t why_size)
{
	size_t n;
	char *v;

	if (!strncmp(arg, "env:", 4)) {
		const char *e = getenv(arg + 4);
		if (!arg[4] || !e) {
			snprintf(why, why_size, "environment variable '%s' is not set", arg + 4);
			return NULL;
		}
		v = strdup(e);
	} else if (arg[0] == '@') {
		if (!(v = text_or_file(arg, &n))) {
			snprintf(why, why_size, "cannot read '%s': %s", arg + 1, strerror(errno));
			return NULL;
		}
	} else {
		v = strdup(arg);
	}
	if (!v)
		snprintf(why, why_size, "%s", strerror(ENOMEM));
	return v;
}

static void
on_signal(int sig)
{
	recorder_stop();
}

struct status_ctx {
	struct journal *j;
	int64_t t0;
	uint64_t last_records;
	int64_t last_t;
	double rate;
	int printed;
};

static void
human_bytes(uint64_t n, char *buf, size_t size)
{
	const char *u[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)n;
	int i = 0;

	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void
print_status(const struct recorder_stats *st, void *ud)
{
	struct status_ctx *s = ud;
	struct journal_stats js;
	struct timespec ts;
	char bytes[32], cur[48];
	double ratio = 0;
	int64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
	if (s->last_t && now > s->last_t)
		s->rate = (double)(st->records - s->last_records) * 1e9 / (double)(now - s->last_t);
	s->last_t = now;
	s->last_records = st->records;
	if (!journal_stats(s->j, &js) && js.segment_bytes)
		ratio = (double)js.block_raw_bytes / (double)js.segment_bytes;
	human_bytes(st->bytes_in + st->bytes_out, bytes, sizeof(bytes));
	snprintf(cur, sizeof(cur), "%.40s", st->last_cursor[0] ? st->last_cursor : "-");
	fprintf(stderr, "\r\033[K%s  %llu records  %s  %.0f msg/s  ratio %.1fx  reconnects %llu  cursor %s  down %.1fs",
		st->connected ? "up" : "DOWN", (unsigned long long)st->records, bytes, s->rate, ratio,
		(unsigned long long)st->reconnects, cur, (double)st->downtime_ns / 1e9);
	s->printed = 1;
	__atomic_store_n(&log_status_shown, 1, __ATOMIC_RELAXED);
}

static int
journal_fail(const char *path, const char *what, struct journal *j, int err)
{
	const char *d = j ? journal_last_detail(j) : "";

	fprintf(stderr, "wstape: cannot %s journal '%s': %s%s%s\n", what, path, journal_strerror(err),
		d && *d ? ": " : "", d ? d : "");
	return err == JOURNAL_ELOCKED || err == JOURNAL_EEXIST || err == JOURNAL_ENOTJOURNAL ||
	       err == JOURNAL_EVERSION ? EXIT_USAGE : EXIT_IO;
}

int
cmd_record(int argc, char **argv)
{
	struct recorder_options ro = { 0 };
	struct journal_options jo = { 0 };
	struct recorder_stats st;
	struct status_ctx sctx = { 0 };
	struct strv headers = { 0 }, secret_headers = { 0 }, sends = { 0 }, subscribe = { 0 };
	struct text_buf shown = { 0 }; /* the URL as it may be printed: secrets redacted */
	struct journal *j = NULL;
	struct journal_recovery jr;
	struct sigaction sa;
	const char *url = NULL, *out = NULL, *feed_name_arg = NULL, *api_key = NULL;
	char *configure = NULL, *api_header = NULL, *stored_subs = NULL, *stored_live = NULL;
	char *url_owned = NULL, *api_key_owned = NULL, why[512];
	struct strv header_text = { 0 };  /* headers read from @FILE or env:NAME (owned) */
	size_t configure_len = 0;
	enum feed_id feed = FEED_RAW;
	int quiet = 0, verbose = 0, resume = 0, rc = EXIT_USAGE, err, flags;
	const char *log_level = NULL;

#define NEED_ARG() do { if (i + 1 >= argc) { \
		fprintf(stderr, "wstape: option '%s' needs a value\n", a); goto done; } } while (0)
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		uint64_t u;
		int64_t ns;

		if (a[0] != '-' || !a[1] || !strcmp(a, "--url")) {
			if (a[0] == '-') {
				NEED_ARG();
				a = argv[++i];
			}
			if (url) {
				fprintf(stderr, "wstape: unexpected URL argument (a URL is given already)\n");
				goto done;
			}
			if (!(url = url_owned = secret_arg(a, why, sizeof(why)))) {
				fprintf(stderr, "wstape: URL: %s\n", why);
				goto done;
			}
			/* a URL file ending in a line break holds the URL without it */
			url_owned[strcspn(url_owned, "\r\n")] = '\0';
			continue;
		}
		if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
			NEED_ARG();
			out = argv[++i];
		} else if (!strcmp(a, "--feed")) {
			NEED_ARG();
			feed_name_arg = argv[++i];
			if (feed_lookup(feed_name_arg, &feed)) {
				fprintf(stderr, "wstape: unknown feed '%s' (raw, hydromancer or lasersell)\n", feed_name_arg);
				goto done;
			}
		} else if (!strcmp(a, "--resume")) {
			resume = 1;
		} else if (!strcmp(a, "-H") || !strcmp(a, "--header")) {
			NEED_ARG();
			a = argv[++i];
			if (a[0] == '@' || !strncmp(a, "env:", 4)) {
				/* one header a line; blank lines are skipped */
				char *text = secret_arg(a, why, sizeof(why)), *save = NULL;
				int nh = 0;
				if (!text) {
					fprintf(stderr, "wstape: header %s\n", why);
					goto done;
				}
				strv_add(&header_text, text, strlen(text));
				for (char *t = strtok_r(text, "\r\n", &save); t; t = strtok_r(NULL, "\r\n", &save)) {
					if (!strchr(t, ':') || t[0] == ':') {
						/* the line may be a secret: only its place is named */
						fprintf(stderr, "wstape: line %d of header source '%s' is not 'Name: value'\n",
							nh + 1, a);
						goto done;
					}
					strv_add(&headers, t, strlen(t));
					nh++;
				}
				if (!nh) {
					fprintf(stderr, "wstape: header source '%s' holds no header\n", a);
					goto done;
				}
				continue;
			}
			if (!strchr(a, ':') || a[0] == ':') {
				fprintf(stderr, "wstape: header '%s' is not 'Name: value'\n", a);
				goto done;
			}
			strv_add(&headers, a, strlen(a));
		} else if (!strcmp(a, "--redact-param")) {
			NEED_ARG();
			if (feed_secret_param_add(argv[++i])) {
				fprintf(stderr, "wstape: bad --redact-param '%s'\n", argv[i]);
				goto done;
			}
		} else if (!strcmp(a, "--follow-redirects")) {
			ro.follow_redirects = 1;
		} else if (!strcmp(a, "--connect-timeout")) {
			NEED_ARG();
			if (text_parse_duration(argv[++i], &ns) || ns < 1000000 || ns > 3600 * 1000000000LL) {
				fprintf(stderr, "wstape: bad duration '%s' for --connect-timeout (1ms to 1h)\n", argv[i]);
				goto done;
			}
			ro.connect_timeout_ms = (uint32_t)(ns / 1000000);
		} else if (!strcmp(a, "--secret-header")) {
			NEED_ARG();
			strv_add(&secret_headers, argv[i + 1], strlen(argv[i + 1]));
			i++;
		} else if (!strcmp(a, "--send")) {
			size_t n;
			char *s;
			NEED_ARG();
			if (!(s = text_or_file(argv[++i], &n))) {
				fprintf(stderr, "wstape: cannot read '%s': %s\n", argv[i] + 1, strerror(errno));
				goto done;
			}
			strv_add(&sends, s, n);
		} else if (!strcmp(a, "--subscribe")) {
			NEED_ARG();
			strv_add(&subscribe, argv[i + 1], strlen(argv[i + 1]));
			i++;
		} else if (!strcmp(a, "--live-format")) {
			NEED_ARG();
			ro.feed.live_format = argv[++i];
		} else if (!strcmp(a, "--api-key")) {
			NEED_ARG();
			free(api_key_owned);
			if (!(api_key = api_key_owned = secret_arg(argv[++i], why, sizeof(why)))) {
				fprintf(stderr, "wstape: --api-key: %s\n", why);
				goto done;
			}
			api_key_owned[strcspn(api_key_owned, "\r\n")] = '\0';
		} else if (!strcmp(a, "--configure")) {
			NEED_ARG();
			free(configure);
			if (!(configure = text_or_file(argv[++i], &configure_len))) {
				fprintf(stderr, "wstape: cannot read '%s': %s\n", argv[i] + 1, strerror(errno));
				goto done;
			}
		} else if (!strcmp(a, "--hello-timeout")) {
			NEED_ARG();
			if (text_parse_duration(argv[++i], &ns) || ns < 1000000) {
				fprintf(stderr, "wstape: bad duration '%s' for --hello-timeout\n", argv[i]);
				goto done;
			}
			ro.feed.hello_timeout_ms = (uint32_t)(ns / 1000000);
		} else if (!strcmp(a, "--ping-s") || !strcmp(a, "--ws-ping-s")) {
			NEED_ARG();
			if (text_parse_duration(argv[++i], &ns) || ns <= 0) {
				fprintf(stderr, "wstape: bad interval '%s' for %s (seconds, e.g. 5 or 500ms)\n", argv[i], a);
				goto done;
			}
			if (!strcmp(a, "--ping-s"))
				ro.feed.ping_ms = (uint32_t)(ns / 1000000 ? ns / 1000000 : 1);
			else {
				ro.ws_ping_ms = (uint32_t)(ns / 1000000 ? ns / 1000000 : 1);
				/* libwebsockets 4.1.6 spins at 100% CPU and never finishes the close
				 * of a connection that sent ping frames under permessage-deflate
				 * (tests/t34): pings and deflate do not go together */
				ro.no_deflate = 1;
			}
		} else if (!strcmp(a, "--ca")) {
			NEED_ARG();
			ro.ca_file = argv[++i];
			if (access(ro.ca_file, R_OK)) {
				fprintf(stderr, "wstape: cannot read CA file '%s': %s\n", ro.ca_file, strerror(errno));
				goto done;
			}
		} else if (!strcmp(a, "--insecure")) {
			ro.insecure = 1;
		} else if (!strcmp(a, "--no-deflate")) {
			ro.no_deflate = 1;
		} else if (!strcmp(a, "--exit-on-close")) {
			ro.exit_on_close = 1;
		} else if (!strcmp(a, "--duration")) {
			NEED_ARG();
			if (text_parse_duration(argv[++i], &ns) || ns <= 0) {
				fprintf(stderr, "wstape: bad duration '%s' (e.g. 90s, 15m, 2h)\n", argv[i]);
				goto done;
			}
			ro.duration_ns = ns;
		} else if (!strcmp(a, "--max-records") || !strcmp(a, "--retries") ||
			   !strcmp(a, "--flush-ms") || !strcmp(a, "--zstd-level")) {
			NEED_ARG();
			if (text_parse_u64(argv[++i], &u) || (strcmp(a, "--max-records") && u > 1000000)) {
				fprintf(stderr, "wstape: bad number '%s' for %s\n", argv[i], a);
				goto done;
			}
			if (!strcmp(a, "--max-records"))
				ro.max_records = u;
			else if (!strcmp(a, "--retries"))
				ro.retries = (unsigned)u;
			else if (!strcmp(a, "--flush-ms"))
				jo.flush_ms = u ? (uint32_t)u : 1;
			else
				jo.zstd_level = (int)u;
		} else if (!strcmp(a, "--max-message")) {
			NEED_ARG();
			if (text_parse_size(argv[++i], &u) || !u || u > JOURNAL_MAX_PAYLOAD) {
				fprintf(stderr, "wstape: bad size '%s' for --max-message (at most 1g)\n", argv[i]);
				goto done;
			}
			ro.max_message = u;
		} else if (!strcmp(a, "--fsync")) {
			NEED_ARG();
			a = argv[++i];
			if (!strcmp(a, "always"))
				jo.fsync = JOURNAL_FSYNC_ALWAYS;
			else if (!strcmp(a, "interval"))
				jo.fsync = JOURNAL_FSYNC_INTERVAL;
			else if (!strcmp(a, "never"))
				jo.fsync = JOURNAL_FSYNC_NEVER;
			else {
				fprintf(stderr, "wstape: bad --fsync '%s' (always, interval or never)\n", a);
				goto done;
			}
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			verbose++;
		} else if (!strcmp(a, "-vv")) {
			verbose += 2;
		} else if (!strcmp(a, "--log-level")) {
			NEED_ARG();
			log_level = argv[++i];
		} else {
			fprintf(stderr, "wstape: unknown option '%s'; see 'wstape record --help'\n", a);
			goto done;
		}
	}
	if (!url || !out) {
		fprintf(stderr, "wstape: record needs a URL and -o JOURNAL\n%s", cmd_record_usage);
		goto done;
	}
	feed_redact_url(url, &shown);
	if (strncmp(url, "ws://", 5) && strncmp(url, "wss://", 6)) {
		fprintf(stderr, "wstape: cannot record from '%s': the URL must start with ws:// or wss://\n", shown.p);
		goto done;
	}
	if (quiet)
		log_threshold = LOG_ERROR;
	if (verbose)
		log_threshold = verbose > 1 ? LOG_DEBUG : LOG_INFO;
	if (log_level && log_set_level_name(log_level)) {
		fprintf(stderr, "wstape: unknown log level '%s' (error, warn, info, debug)\n", log_level);
		goto done;
	}

	flags = resume ? JOURNAL_APPEND : JOURNAL_CREATE;
	if ((err = journal_open(out, flags, &jo, &j, &jr))) {
		if (err == JOURNAL_EEXIST)
			fprintf(stderr, "wstape: journal '%s' already exists; continue it with --resume "
				"or record into a new path\n", out);
		else if (resume && (err == ENOENT || err == JOURNAL_ENOTJOURNAL))
			fprintf(stderr, "wstape: cannot resume journal '%s': there is no journal there\n", out);
		else
			rc = journal_fail(out, "open", j, err);
		if (err == JOURNAL_EEXIST || (resume && (err == ENOENT || err == JOURNAL_ENOTJOURNAL)))
			rc = EXIT_USAGE;
		goto done;
	}
	cmd_report_recovery(out, &jr);
	if (resume && !feed_name_arg) {
		const char *f = journal_meta_get(j, "feed");
		if (f && feed_lookup(f, &feed)) {
			fprintf(stderr, "wstape: journal '%s' names an unknown feed '%s'; give --feed\n", out, f);
			goto done;
		}
	}
	/* --resume goes on with the session's subscriptions and liveFormat unless they are
	 * given again: a session that expired meanwhile is subscribed as before */
	if (resume && feed == FEED_HYDROMANCER) {
		const char *v;
		if (!subscribe.n && (v = journal_meta_get(j, "subscribe")) && *v) {
			char *save = NULL;
			if (!(stored_subs = strdup(v)))
				goto done;
			for (char *t = strtok_r(stored_subs, ",", &save); t; t = strtok_r(NULL, ",", &save))
				strv_add(&subscribe, t, strlen(t));
		}
		if (!ro.feed.live_format && (v = journal_meta_get(j, "live_format")) && *v) {
			if (!(stored_live = strdup(v)))
				goto done;
			ro.feed.live_format = stored_live;
		}
	}
	if (resume) {
		const char *was = journal_meta_get(j, "url");
		if (was && strcmp(was, shown.p))
			log_warn("journal '%s' was recorded from '%s'; going on from '%s'", out, was, shown.p);
	}
	{
		struct text_buf subs = { 0 };
		char tbuf[40];
		for (int i = 0; i < subscribe.n; i++) {
			if (i)
				text_buf_add(&subs, ",", 1);
			text_buf_add(&subs, subscribe.v[i], subscribe.lens[i]);
		}
		text_buf_add(&subs, "", 1);
		err = journal_meta_set(j, "feed", feed_name(feed));
		if (!err)
			err = journal_meta_set(j, "url", shown.p);
		if (!err && feed == FEED_HYDROMANCER)
			err = journal_meta_set(j, "subscribe", subs.p);
		if (!err && ro.feed.live_format)
			err = journal_meta_set(j, "live_format", ro.feed.live_format);
		if (!err && !journal_meta_get(j, "created")) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			text_format_time((int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec, tbuf, sizeof(tbuf));
			err = journal_meta_set(j, "created", tbuf);
		}
		text_buf_free(&subs);
		if (err) {
			rc = journal_fail(out, "write metadata of", j, err);
			goto done;
		}
	}

	if (feed == FEED_LASERSELL) {
		if (!api_key)
			api_key = getenv("LASERSELL_API_KEY");
		if (api_key && *api_key) {
			if (asprintf(&api_header, "x-api-key: %s", api_key) < 0) {
				api_header = NULL;
				goto done;
			}
			strv_add(&headers, api_header, strlen(api_header));
		}
	} else if (api_key) {
		fprintf(stderr, "wstape: --api-key is for --feed lasersell; use -H or the URL for this feed\n");
		goto done;
	}
	if (subscribe.n && feed != FEED_HYDROMANCER) {
		fprintf(stderr, "wstape: --subscribe is for --feed hydromancer (use --send for other feeds)\n");
		goto done;
	}
	if (configure && feed != FEED_LASERSELL) {
		fprintf(stderr, "wstape: --configure is for --feed lasersell (use --send for other feeds)\n");
		goto done;
	}

	ro.url = url;
	ro.headers = headers.v;
	ro.nheaders = headers.n;
	ro.secret_headers = secret_headers.v;
	ro.nsecret_headers = secret_headers.n;
	ro.resume = resume;
	ro.feed.feed = feed;
	ro.feed.url = url;
	ro.feed.sends = sends.v;
	ro.feed.send_lens = sends.lens;
	ro.feed.nsends = sends.n;
	ro.feed.subscribe = subscribe.v;
	ro.feed.nsubscribe = subscribe.n;
	ro.feed.configure = configure;
	ro.feed.configure_len = configure_len;
	if (!quiet && isatty(STDERR_FILENO)) {
		sctx.j = j;
		ro.status = print_status;
		ro.status_ud = &sctx;
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit then shows up as EFBIG from write(2), handled as a disk error */
	signal(SIGXFSZ, SIG_IGN);

	err = recorder_run(j, &ro, &st);
	if (sctx.printed)
		fputc('\n', stderr);
	switch (err) {
	case 0:
		rc = EXIT_OK;
		break;
	case RECORDER_EAUTH:
		fprintf(stderr, "wstape: the server refused the credentials (HTTP %d); check the token or "
			"API key (nothing more will be retried)\n", st.last_status);
		rc = EXIT_AUTH;
		break;
	case RECORDER_EREFUSED:
		fprintf(stderr, "wstape: the server refused the credentials: \"%s\"; check the token or API "
			"key (nothing more will be retried)\n", st.refusal);
		rc = EXIT_AUTH;
		break;
	case RECORDER_EJOURNAL:
		fprintf(stderr, "wstape: cannot write journal '%s': %s%s%s; what was written before stays "
			"valid: free space and continue with --resume\n", out, journal_strerror(st.journal_err),
			*journal_last_detail(j) ? ": " : "", journal_last_detail(j));
		rc = EXIT_IO;
		break;
	case RECORDER_ERETRIES:
		fprintf(stderr, "wstape: cannot connect to '%s': %s (%s)\n", shown.p, recorder_strerror(err),
			st.last_error[0] ? st.last_error : "no detail");
		rc = EXIT_NET;
		break;
	case RECORDER_EURL:
	case RECORDER_EINVAL:
		fprintf(stderr, "wstape: cannot record from '%s': %s\n", shown.p, recorder_strerror(err));
		rc = EXIT_USAGE;
		break;
	default:
		fprintf(stderr, "wstape: record failed: %s\n", recorder_strerror(err));
		rc = EXIT_NET;
		break;
	}
	/* A run that created the journal and failed before any frame leaves nothing worth
	 * keeping but its failed attempts (said above), and would make the same command fail
	 * with "already exists": such a journal is removed. One with a frame, one this run did
	 * not create (--resume) and one whose write failed (kept for what it shows) stay. A run
	 * stopped on purpose (Ctrl-C, --duration) keeps its attempts, and says what it left. */
	int empty = !resume && journal_created(j) && !st.frames_in && !st.frames_out;
	if (empty && rc != EXIT_OK && rc != EXIT_IO) {
		int derr = journal_discard(j);
		j = NULL;
		if (derr)
			fprintf(stderr, "wstape: cannot remove journal '%s', which holds no frame: %s\n", out,
				strerror(derr));
		else
			fprintf(stderr, "wstape: removed journal '%s': it held no frame, only the %llu "
				"connection attempt%s; the same command can run again\n", out,
				(unsigned long long)st.attempts, st.attempts == 1 ? "" : "s");
	} else if (empty && rc == EXIT_OK) {
		fprintf(stderr, "wstape: journal '%s' holds no frame, only the %llu connection attempt%s: "
			"continue it with --resume, or remove it (rm -r '%s') to start again\n", out,
			(unsigned long long)st.attempts, st.attempts == 1 ? "" : "s", out);
	}
	if (!quiet)
		log_info("%llu records, %llu frames in, %llu out, %llu connects, %llu not JSON",
			 (unsigned long long)st.records, (unsigned long long)st.frames_in,
			 (unsigned long long)st.frames_out, (unsigned long long)st.connects,
			 (unsigned long long)st.not_json);
done:
	if (j) {
		err = journal_close(j);
		if (err && rc == EXIT_OK) {
			rc = journal_fail(out, "close", NULL, err);
		}
	}
	text_buf_free(&shown);
	free(stored_subs);
	free(stored_live);
	strv_free(&headers, 0);
	strv_free(&header_text, 1);
	free(url_owned);
	free(api_key_owned);
	feed_secret_params_clear();
	strv_free(&secret_headers, 0);
	strv_free(&sends, 1);
	strv_free(&subscribe, 0);
	free(configure);
	free(api_header);
	return rc;
}
