/* record_steps.c - the steps of `wstape record` after its command line: the journal, the
 * feed and its options, the metadata, the run and what its result means for the user */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/record_int.h"
#include "feeds/feed.h"
#include "feeds/feed_client.h"
#include "journal/journal.h"
#include "recorder/recorder.h"
#include "jetstream/jetstream.h"
#include "util/log.h"
#include "util/text.h"
#include "util/clock.h"

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
	char bytes[32], cur[48];
	double ratio = 0;
	int64_t now;

	now = clock_mono_ns();
	if (s->last_t && now > s->last_t)
		s->rate = (double)(st->records - s->last_records) * 1e9 / (double)(now - s->last_t);
	s->last_t = now;
	s->last_records = st->records;
	if (!journal_stats(s->j, &js) && js.segment_bytes)
		ratio = (double)js.block_raw_bytes / (double)js.segment_bytes;
	human_bytes(st->bytes_in + st->bytes_out, bytes, sizeof(bytes));
	snprintf(cur, sizeof(cur), "%.40s", st->last_cursor[0] ? st->last_cursor : "-");
	fprintf(stderr,
		"\r\033[K%s  %llu records  %s  %.0f msg/s  ratio %.1fx  reconnects %llu  cursor %s  down %.1fs",
		st->connected ? "up" : "DOWN", (unsigned long long)st->records, bytes, s->rate, ratio,
		(unsigned long long)st->reconnects, cur, (double)st->downtime_ns / 1e9);
	s->printed = 1;
	__atomic_store_n(&log_status_shown, 1, __ATOMIC_RELAXED);
}

int
record_journal_fail(const char *path, const char *what, struct journal *j, int err)
{
	const char *d = j ? journal_last_detail(j) : "";

	cmd_say(LOG_ERROR, "cannot %s journal '%s': %s%s%s", what, path, journal_strerror(err),
		d && *d ? ": " : "", d ? d : "");
	return err == JOURNAL_ELOCKED || err == JOURNAL_EEXIST || err == JOURNAL_ENOTJOURNAL ||
			err == JOURNAL_EVERSION
		? EXIT_USAGE
		: EXIT_IO;
}

/* ---- the steps of cmd_record ---- */

/* A URL and a journal are given, the URL is ws:// or wss://, the log level is known. */
int
record_check_args(struct record_args *ra)
{
	if (!ra->url || !ra->out) {
		fprintf(stderr, "wstape: record needs a URL and -o JOURNAL\n%s", cmd_record_usage());
		return EXIT_USAGE;
	}
	feed_redact_url(ra->url, &ra->shown);
	if (strncmp(ra->url, "ws://", 5) && strncmp(ra->url, "wss://", 6)) {
		fprintf(stderr, "wstape: cannot record from '%s': the URL must start with ws:// or wss://\n",
			ra->shown.p);
		return EXIT_USAGE;
	}
	log_threshold = ra->quiet ? LOG_ERROR : LOG_INFO;
	if (ra->verbose)
		log_threshold = ra->verbose > 1 ? LOG_DEBUG : LOG_INFO;
	if (ra->log_level && log_set_level_name(ra->log_level)) {
		fprintf(stderr, "wstape: unknown log level '%s' (error, warn, info, debug)\n", ra->log_level);
		return EXIT_USAGE;
	}
	if (!ra->publish && (ra->stream || ra->recorder_id || ra->subject_name)) {
		fprintf(stderr,
			"wstape: --stream, --recorder-id and --subject-name go with --publish nats://HOST:PORT\n");
		return EXIT_USAGE;
	}
	if (ra->publish)
		return publish_check_args(ra->publish, ra->stream, ra->recorder_id, ra->subject_name);
	return 0;
}

int
record_open_journal(struct record_args *ra, struct journal **j)
{
	struct journal_recovery jr;
	int err;

	ra->jo.segment_bytes = ra->segment_size;
	ra->jo.segment_age_ms = (uint64_t)(ra->segment_age_ns / 1000000);
	err = journal_open(ra->out, ra->resume ? JOURNAL_APPEND : JOURNAL_CREATE, &ra->jo, j, &jr);

	if (!err) {
		cmd_report_recovery(ra->out, &jr);
		return 0;
	}
	if (err == JOURNAL_EEXIST) {
		fprintf(stderr,
			"wstape: journal '%s' already exists; continue it with --resume "
			"or record into a new path\n",
			ra->out);
		return EXIT_USAGE;
	}
	if (ra->resume && (err == ENOENT || err == JOURNAL_ENOTJOURNAL)) {
		fprintf(stderr, "wstape: cannot resume journal '%s': there is no journal there\n", ra->out);
		return EXIT_USAGE;
	}
	return record_journal_fail(ra->out, "open", *j, err);
}

/* Every feed option given is one of the feed's. */
static int
check_feed_args(const struct record_args *ra)
{
	for (int k = 0; k < ra->nfargs; k++) {
		const char *name = ra->fargs[k].name;
		const struct feed_client_opt *o;
		const struct feed *owner;

		if (feed_client_opt_find(ra->feed, name) || !(o = feed_client_opt_any(name, &owner)))
			continue;
		fprintf(stderr, "wstape: %s is for --feed %s%s%s%s\n", name, owner->name,
			o->elsewhere ? " (" : "", o->elsewhere ? o->elsewhere : "", o->elsewhere ? ")" : "");
		return EXIT_USAGE;
	}
	return 0;
}

static int
feed_arg_given(const struct record_args *ra, const char *name)
{
	for (int k = 0; k < ra->nfargs; k++)
		if (!strcmp(ra->fargs[k].name, name))
			return 1;
	return 0;
}

/* --resume goes on with the options the journal keeps (a session that expired meanwhile
 * is subscribed as before) unless they are given again. */
static int
resume_feed_args(struct record_args *ra, struct journal *j)
{
	const struct feed_client_opt *o = ra->feed->client->options;
	const char *v;
	char *copy, *save = NULL;

	for (; o && o->name; o++) {
		if (!o->meta || feed_arg_given(ra, o->name) || !(v = journal_meta_get(j, o->meta)) || !*v)
			continue;
		if (!(copy = record_keep(ra, strdup(v))))
			return EXIT_USAGE;
		if (o->type != FEED_OPT_LIST) {
			if (record_feed_arg_add(ra, o, copy, strlen(copy), 0))
				return EXIT_USAGE;
			continue;
		}
		for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
			if (record_feed_arg_add(ra, o, t, strlen(t), 0))
				return EXIT_USAGE;
	}
	return 0;
}

/* The options that go in a header (an API key), given or from their environment variable. */
static int
feed_headers(struct record_args *ra)
{
	const struct feed_client_opt *o = ra->feed->client->options;

	for (; o && o->name; o++) {
		const char *v = NULL;
		char *h;
		if (!o->header)
			continue;
		for (int k = 0; k < ra->nfargs; k++)
			if (!strcmp(ra->fargs[k].name, o->name))
				v = ra->fargs[k].value;
		if (!v && o->env)
			v = getenv(o->env);
		if (!v || !*v)
			continue;
		if (asprintf(&h, "%s: %s", o->header, v) < 0 || !record_keep(ra, h))
			return EXIT_USAGE;
		strv_add(&ra->headers, h, strlen(h));
	}
	return 0;
}

/* The feed: given, or the journal's (--resume); then its options. */
int
record_settle_feed(struct record_args *ra, struct journal *j)
{
	int rc;

	if (ra->resume && !ra->feed_name_arg && (rc = cmd_journal_feed(j, ra->out, &ra->feed)))
		return rc;
	if ((rc = check_feed_args(ra)) || (ra->resume && (rc = resume_feed_args(ra, j))))
		return rc;
	if (ra->resume) {
		const char *was = journal_meta_get(j, "url");
		if (was && strcmp(was, ra->shown.p))
			log_warn("journal '%s' was recorded from '%s'; going on from '%s'", ra->out, was,
				 ra->shown.p);
	}
	return feed_headers(ra);
}

/* A feed option kept in the journal's metadata: a list joined with ',' (also when empty),
 * one value when given. */
static int
store_feed_arg(const struct record_args *ra, struct journal *j, const struct feed_client_opt *o)
{
	struct text_buf b = { 0 };
	int err, n = 0;

	for (int k = 0; k < ra->nfargs; k++) {
		if (strcmp(ra->fargs[k].name, o->name))
			continue;
		if (n++ && o->type == FEED_OPT_LIST)
			text_buf_add(&b, ",", 1);
		else
			b.len = 0;
		text_buf_add(&b, ra->fargs[k].value, ra->fargs[k].len);
	}
	text_buf_add(&b, "", 1);
	err = n || o->type == FEED_OPT_LIST ? journal_meta_set(j, o->meta, b.p) : 0;
	text_buf_free(&b);
	return err;
}

int
record_store_meta(const struct record_args *ra, struct journal *j)
{
	const struct feed_client_opt *o = ra->feed->client->options;
	int err = cmd_feed_store(j, ra->feed);

	if (!err)
		err = journal_meta_set(j, "url", ra->shown.p);
	for (; !err && o && o->name; o++)
		if (o->meta)
			err = store_feed_arg(ra, j, o);
	if (!err && !journal_meta_get(j, "created")) {
		char tbuf[40];
		text_format_time(clock_wall_ns(), tbuf, sizeof(tbuf));
		err = journal_meta_set(j, "created", tbuf);
	}
	return err ? record_journal_fail(ra->out, "write metadata of", j, err) : 0;
}

/* --retain: a thread that prunes the journal while the recorder writes it. */
struct retain {
	struct journal *j;
	int64_t keep_ns;
	const char *path;
	const char *stream;
	struct js_publisher *pub; /* --publish: what the stream has not acknowledged stays */
	int held; /* a prune held back by the publisher was said */
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int started, stop;
};

/* One prune: what it removed, at level info; why it could not, as a warning. */
static void
retain_once(struct retain *rt)
{
	struct journal_pruned p;
	char t[48], f[48];
	int64_t before = clock_wall_ns() - rt->keep_ns;
	if (rt->pub) {
		struct js_publisher_stats ps;
		js_publisher_stats(rt->pub, &ps);
		if (ps.keep_from_ns < before) {
			if (!rt->held)
				log_info(
					"--retain: keeping the records of '%s' from %s on: stream %s has not "
					"acknowledged them yet",
					rt->path,
					ps.keep_from_ns ? text_format_time(ps.keep_from_ns, t, sizeof(t))
							: "the start",
					rt->stream);
			rt->held = 1;
			before = ps.keep_from_ns;
		} else {
			rt->held = 0;
		}
		if (before <= 0)
			return;
	}
	int rc = journal_prune_writer(rt->j, before, 0, &p);

	if (rc == JOURNAL_ELOCKED)
		return; /* a 'wstape prune' of the journal is running: it does the same */
	if (rc) {
		log_warn("cannot prune '%s' (--retain): %s: %s", rt->path, journal_strerror(rc),
			 journal_last_detail(rt->j));
		return;
	}
	if (p.segments)
		log_info(
			"pruned %llu segments (%llu records, %llu bytes, received up to %s) from '%s'; it starts at record %llu (%s)",
			(unsigned long long)p.segments, (unsigned long long)p.records,
			(unsigned long long)p.bytes, text_format_time(p.until_wall_ns, t, sizeof(t)),
			rt->path, (unsigned long long)p.first_recno,
			p.first_wall_ns ? text_format_time(p.first_wall_ns, f, sizeof(f)) : "no records yet");
}

static void *
retain_main(void *arg)
{
	struct retain *rt = arg;
	int64_t every = rt->keep_ns / 100;

	if (every < 1000000000LL)
		every = 1000000000LL;
	if (every > 60000000000LL)
		every = 60000000000LL;
	pthread_mutex_lock(&rt->mu);
	while (!rt->stop) {
		struct timespec ts;
		int64_t at = clock_mono_ns() + every;
		ts.tv_sec = at / 1000000000LL;
		ts.tv_nsec = at % 1000000000LL;
		pthread_mutex_unlock(&rt->mu);
		retain_once(rt);
		pthread_mutex_lock(&rt->mu);
		while (!rt->stop && pthread_cond_timedwait(&rt->cv, &rt->mu, &ts) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&rt->mu);
	return NULL;
}

static int
retain_start(struct retain *rt)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&rt->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rt->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (pthread_create(&rt->th, NULL, retain_main, rt) != 0)
		return -1;
	rt->started = 1;
	return 0;
}

static void
retain_stop(struct retain *rt)
{
	if (!rt->started)
		return;
	pthread_mutex_lock(&rt->mu);
	rt->stop = 1;
	pthread_cond_signal(&rt->cv);
	pthread_mutex_unlock(&rt->mu);
	pthread_join(rt->th, NULL);
	pthread_mutex_destroy(&rt->mu);
	pthread_cond_destroy(&rt->cv);
}

int
record_run(struct record_args *ra, struct journal *j, struct recorder_stats *st)
{
	struct recorder_options *ro = &ra->ro;
	struct status_ctx sctx = { 0 };
	struct sigaction sa;
	int err;

	ro->url = ra->url;
	ro->headers = ra->headers.v;
	ro->nheaders = ra->headers.n;
	ro->secret_headers = ra->secret_headers.v;
	ro->nsecret_headers = ra->secret_headers.n;
	ro->resume = ra->resume;
	ro->feed = (struct feed_client_options){ .feed = ra->feed,
						 .url = ra->url,
						 .sends = ra->sends.v,
						 .send_lens = ra->sends.lens,
						 .nsends = ra->sends.n,
						 .args = ra->fargs,
						 .nargs = ra->nfargs };
	record_publish_options(ra, ro);
	if (!ra->quiet && isatty(STDERR_FILENO)) {
		sctx.j = j;
		ro->status = print_status;
		ro->status_ud = &sctx;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* a file size limit then shows up as EFBIG from write(2), handled as a disk error */
	signal(SIGXFSZ, SIG_IGN);
	struct retain rt = {
		.j = j, .keep_ns = ra->retain_ns, .path = ra->out, .stream = ra->stream, .pub = ra->pub
	};
	if (ra->retain_ns && retain_start(&rt) != 0)
		log_warn("cannot start pruning '%s' as it records (--retain): out of threads", ra->out);
	err = recorder_run(j, ro, st);
	retain_stop(&rt);
	if (sctx.printed)
		fputc('\n', stderr);
	return err;
}

/* What the recorder's result means for the user, and the exit code. */
int
record_report(const struct record_args *ra, struct journal *j, int err, const struct recorder_stats *st)
{
	switch (err) {
	case 0: return EXIT_OK;
	case RECORDER_EAUTH:
		cmd_say(LOG_ERROR,
			"the server refused the credentials (HTTP %d); check the token or "
			"API key (nothing more will be retried)",
			st->last_status);
		return EXIT_AUTH;
	case RECORDER_EREFUSED:
		cmd_say(LOG_ERROR,
			"the server refused the credentials: \"%s\"; check the token or API "
			"key (nothing more will be retried)",
			st->refusal);
		return EXIT_AUTH;
	case RECORDER_EJOURNAL:
		cmd_say(LOG_ERROR,
			"cannot write journal '%s': %s%s%s; what was written before stays "
			"valid: free space and continue with --resume",
			ra->out, journal_strerror(st->journal_err), *journal_last_detail(j) ? ": " : "",
			journal_last_detail(j));
		return EXIT_IO;
	case RECORDER_ERETRIES:
		cmd_say(LOG_ERROR, "cannot connect to '%s': %s (%s)", ra->shown.p, recorder_strerror(err),
			st->last_error[0] ? st->last_error : "no detail");
		return EXIT_NET;
	case RECORDER_EMETRICS: fprintf(stderr, "wstape: --metrics: %s\n", st->last_error); return EXIT_NET;
	case RECORDER_EURL:
	case RECORDER_EINVAL:
		cmd_say(LOG_ERROR, "cannot record from '%s': %s", ra->shown.p, recorder_strerror(err));
		return EXIT_USAGE;
	default: cmd_say(LOG_ERROR, "record failed: %s", recorder_strerror(err)); return EXIT_NET;
	}
}

/* A run that created the journal and failed before any frame leaves nothing worth keeping
 * but its failed attempts (said above), and would make the same command fail with "already
 * exists": such a journal is removed (*j becomes NULL). One with a frame, one this run did
 * not create (--resume) and one whose write failed (kept for what it shows) stay. A run
 * stopped on purpose (Ctrl-C, --duration) keeps its attempts, and says what it left. */
void
record_settle_empty(const struct record_args *ra, struct journal **j, int rc, const struct recorder_stats *st)
{
	int empty = !ra->resume && journal_created(*j) && !st->frames_in && !st->frames_out;
	unsigned long long n = (unsigned long long)st->attempts;

	if (empty && rc != EXIT_OK && rc != EXIT_IO) {
		int derr = journal_discard(*j);
		*j = NULL;
		if (derr)
			cmd_say(LOG_ERROR, "cannot remove journal '%s', which holds no frame: %s", ra->out,
				strerror(derr));
		else
			cmd_say(LOG_WARN,
				"removed journal '%s': it held no frame, only the %llu "
				"connection attempt%s; the same command can run again",
				ra->out, n, n == 1 ? "" : "s");
	} else if (empty && rc == EXIT_OK) {
		cmd_say(LOG_WARN,
			"journal '%s' holds no frame, only the %llu connection attempt%s: "
			"continue it with --resume, or remove it (rm -r '%s') to start again",
			ra->out, n, n == 1 ? "" : "s", ra->out);
	}
}
