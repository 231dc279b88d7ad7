/* metrics.c - the recorder's --metrics: what it journals counted by direction, kind and
 * channel, its connections, the journal's writer, the feed's inspect rules applied to each
 * record as it is journaled (with a warning in the log for each finding, at most
 * LIVE_WARN_PER_MIN a minute of each type: a flood of one kind does not hide another), and
 * /healthz (metrics/http.h) */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/inspect.h"
#include "journal/health.h"
#include "journal/version.h"
#include "metrics/http.h"
#include "metrics/metrics.h"
#include "util/log.h"

#define CHANNELS INSPECT_MAX_CHANNELS /* the first ones keep their name, later ones "(other)" */
#define FRAME_KINDS 4 /* text, binary, ping, pong */
#define LIVE_WARN_PER_MIN 10
#define LIVE_TYPES 32 /* finding types (inspect's F_COUNT is below) */
#define DEFAULT_MAX_DOWN_NS (60 * 1000000000LL)

struct chan_series {
	struct metric_series *frames[2][FRAME_KINDS], *bytes[2][FRAME_KINDS];
	struct metric_series *last_ts, *last_age;
	int64_t last_wall; /* 0: no data frame received yet */
};

struct rec_metrics {
	struct metrics *reg;
	struct metrics_names *names;
	struct chan_series ch[CHANNELS + 1];
	struct metric *frames, *bytes, *connected, *connects, *reconnects, *failures, *downtime;
	struct metric *last_ts, *last_age, *pending, *disk, *fsync, *werr;
	struct metric *seq_gaps, *missing, *replay_gaps, *dups, *findings;
	struct metric *pub_connected, *pub_acked, *pub_lag, *pub_msgs, *pub_dups, *pub_resent;
	uint64_t last_recno; /* the last record journaled */
	struct metrics_http *http;
	struct inspect *insp;
	int64_t max_down_ns;
	/* warnings of live findings: LIVE_WARN_PER_MIN a minute of each type, then a count */
	int64_t warn_window;
	const char *warn_type[LIVE_TYPES]; /* inspect's static names */
	unsigned warned[LIVE_TYPES], unlogged;
};

static const char *const dir_name[2] = { "in", "out" };

static int
add_families(struct rec_metrics *m)
{
	struct metrics *g = m->reg;
	unsigned cap = (CHANNELS + 1) * 2 * FRAME_KINDS;
	struct metric *build, *start;

	build = metrics_add(g, "wstape_build_info", METRIC_GAUGE, "wstape's version (the value is 1)",
			    "version", 1, NULL, 0);
	start = metrics_add(g, "process_start_time_seconds", METRIC_GAUGE,
			    "Start time of the process since the Unix epoch, seconds", NULL, 0, NULL, 0);
	m->frames = metrics_add(g, "wstape_record_frames_total", METRIC_COUNTER,
				"Frames journaled, by direction (in: from the server), kind and channel",
				"direction,kind,channel", cap, NULL, 0);
	m->bytes = metrics_add(g, "wstape_record_bytes_total", METRIC_COUNTER,
			       "Payload bytes of the frames journaled, by direction, kind and channel",
			       "direction,kind,channel", cap, NULL, 0);
	m->connected = metrics_add(g, "wstape_record_connected", METRIC_GAUGE,
				   "1 while a connection is open (upgraded), else 0", NULL, 0, NULL, 0);
	m->connects = metrics_add(g, "wstape_record_connects_total", METRIC_COUNTER,
				  "Connections that opened (upgrade done)", NULL, 0, NULL, 0);
	m->reconnects = metrics_add(g, "wstape_record_reconnects_total", METRIC_COUNTER,
				    "Connections that opened after the first", NULL, 0, NULL, 0);
	m->failures =
		metrics_add(g, "wstape_record_connect_failures_total", METRIC_COUNTER,
			    "Connection attempts that failed, by the phase journaled (dns, connect, tls, "
			    "http, protocol, ...)",
			    "phase", 32, NULL, 0);
	m->downtime =
		metrics_add(g, "wstape_record_downtime_seconds_total", METRIC_COUNTER,
			    "Time without an open connection, seconds (from the start)", NULL, 0, NULL, 0);
	m->last_ts = metrics_add(g, "wstape_record_last_frame_timestamp_seconds", METRIC_GAUGE,
				 "When the last frame from the server on the channel was received, Unix time",
				 "channel", CHANNELS + 1, NULL, 0);
	m->last_age = metrics_add(g, "wstape_record_last_frame_age_seconds", METRIC_GAUGE,
				  "Seconds since the last frame from the server on the channel", "channel",
				  CHANNELS + 1, NULL, 0);
	m->pending = metrics_add(g, "wstape_journal_blocks_pending", METRIC_GAUGE,
				 "Sealed journal blocks not yet written to disk", NULL, 0, NULL, 0);
	m->disk = metrics_add(g, "wstape_journal_disk_bytes", METRIC_GAUGE,
			      "Bytes of the journal's files (segments, index, metadata)", NULL, 0, NULL, 0);
	m->fsync = metrics_add(g, "wstape_journal_fsync_duration_seconds", METRIC_HISTOGRAM,
			       "Time an fdatasync of the journal took, seconds", NULL, 0,
			       journal_fsync_bounds, JOURNAL_FSYNC_BOUNDS);
	m->werr = metrics_add(g, "wstape_journal_write_errors_total", METRIC_COUNTER,
			      "Journal write or index errors (a write error ends the recording)", NULL, 0,
			      NULL, 0);
	m->seq_gaps = metrics_add(g, "wstape_record_seq_gaps_total", METRIC_COUNTER,
				  "Live inspect: seq numbers that skipped (seq_gap, seq_start), by channel",
				  "channel", CHANNELS + 1, NULL, 0);
	m->missing = metrics_add(g, "wstape_record_missing_messages_total", METRIC_COUNTER,
				 "Live inspect: messages the seq gaps skipped, by channel", "channel",
				 CHANNELS + 1, NULL, 0);
	m->replay_gaps = metrics_add(g, "wstape_record_replay_gaps_total", METRIC_COUNTER,
				     "Live inspect: replays that said they have a gap (hasGap), by channel",
				     "channel", CHANNELS + 1, NULL, 0);
	m->dups = metrics_add(g, "wstape_record_duplicate_events_total", METRIC_COUNTER,
			      "Live inspect: events seen again (dup_event), by channel", "channel",
			      CHANNELS + 1, NULL, 0);
	m->findings = metrics_add(g, "wstape_record_findings_total", METRIC_COUNTER,
				  "Live inspect: every finding, by class and type (docs/INSPECT.md)",
				  "class,type", 64, NULL, 0);
	if (!build || !start || !m->frames || !m->bytes || !m->connected || !m->connects || !m->reconnects ||
	    !m->failures || !m->downtime || !m->last_ts || !m->last_age || !m->pending || !m->disk ||
	    !m->fsync || !m->werr || !m->seq_gaps || !m->missing || !m->replay_gaps || !m->dups ||
	    !m->findings)
		return ENOMEM;
	const char *v[] = { WSTAPE_VERSION_STRING };
	metric_set(metrics_series(build, v), 1);
	metric_set(metrics_series0(start), (double)rec_now_ns(CLOCK_REALTIME) / 1e9);
	return 0;
}

/* --publish: how far the stream got (recorder_options.publish_stats), by stream */
static int
add_publish_families(struct rec_metrics *m)
{
	struct metrics *g = m->reg;
	m->pub_connected =
		metrics_add(g, "wstape_publish_connected", METRIC_GAUGE,
			    "1 while the publisher is connected to a NATS server", "stream", 4, NULL, 0);
	m->pub_acked = metrics_add(g, "wstape_publish_acked_record", METRIC_GAUGE,
				   "The stream has acknowledged every record up to this record number",
				   "stream", 4, NULL, 0);
	m->pub_lag = metrics_add(g, "wstape_publish_lag_records", METRIC_GAUGE,
				 "Records journaled that the stream has not acknowledged yet", "stream", 4,
				 NULL, 0);
	m->pub_msgs = metrics_add(g, "wstape_publish_messages_total", METRIC_COUNTER,
				  "Messages published (those sent again included)", "stream", 4, NULL, 0);
	m->pub_dups =
		metrics_add(g, "wstape_publish_duplicates_total", METRIC_COUNTER,
			    "Acknowledgements that said the stream had the message already (Nats-Msg-Id)",
			    "stream", 4, NULL, 0);
	m->pub_resent = metrics_add(g, "wstape_publish_resent_total", METRIC_COUNTER,
				    "Messages sent again after a timeout, an error or a reconnect", "stream",
				    4, NULL, 0);
	if (!m->pub_connected || !m->pub_acked || !m->pub_lag || !m->pub_msgs || !m->pub_dups ||
	    !m->pub_resent)
		return ENOMEM;
	return 0;
}

/* the channel's index in the bounded set (CHANNELS: "(other)") */
static int
chan_index(struct rec_metrics *m, const char *p, size_t n)
{
	if (n == sizeof(METRICS_OTHER) - 1 && !memcmp(p, METRICS_OTHER, n))
		return CHANNELS;
	int i = metrics_names_get(m->names, p, n);
	return i < 0 ? CHANNELS : i;
}

static struct metric_series *
chan_series(struct rec_metrics *m, struct metric *f, int idx)
{
	const char *v[] = { metrics_names_text(m->names, idx) };
	return metrics_series(f, v);
}

/* ---- live inspect ---- */

static void
live_warn_summary(struct rec_metrics *m, int64_t now)
{
	if (m->unlogged)
		log_warn("live inspect: %u more finding%s in the last minute, not logged one by one "
			 "(wstape_record_findings_total counts every one)",
			 m->unlogged, m->unlogged == 1 ? "" : "s");
	m->warn_window = now;
	memset(m->warned, 0, sizeof(m->warned));
	m->unlogged = 0;
}

static void
on_finding(const struct inspect_event *ev, void *ud)
{
	struct rec *r = ud;
	struct rec_metrics *m = r->m;
	int64_t now = rec_now_ns(CLOCK_MONOTONIC);
	int idx = chan_index(m, ev->channel, strlen(ev->channel));

	if (m->reg) {
		const char *v[] = { ev->cls, ev->type };
		metric_add(metrics_series(m->findings, v), 1);
		if (!strcmp(ev->type, "seq_gap") || !strcmp(ev->type, "seq_start")) {
			metric_add(chan_series(m, m->seq_gaps, idx), 1);
			metric_add(chan_series(m, m->missing, idx), (double)ev->missing);
		} else if (!strcmp(ev->type, "replay_has_gap"))
			metric_add(chan_series(m, m->replay_gaps, idx), 1);
		else if (!strcmp(ev->type, "dup_event"))
			metric_add(chan_series(m, m->dups, idx), 1);
	}
	/* closes, drops and failed attempts: the recorder logs each itself, at info */
	if (ev->cls_bit == INSPECT_DISCONNECTS)
		return;
	if (now - m->warn_window >= 60 * 1000000000LL)
		live_warn_summary(m, now);
	int t;
	for (t = 0; t < LIVE_TYPES - 1 && m->warn_type[t] && m->warn_type[t] != ev->type; t++)
		;
	m->warn_type[t] = ev->type;
	if (m->warned[t] >= LIVE_WARN_PER_MIN) {
		m->unlogged++;
		return;
	}
	m->warned[t]++;
	log_warn("live inspect: %s (%s) at record %llu%s%s: %s", ev->type, ev->cls,
		 (unsigned long long)ev->recno, ev->channel[0] ? ", channel " : "", ev->channel, ev->msg);
}

/* ---- what a scrape reads ---- */

static void
render(void *ud, struct text_buf *out)
{
	struct rec *r = ud;
	struct rec_metrics *m = r->m;
	int64_t now = rec_now_ns(CLOCK_MONOTONIC), wall = rec_now_ns(CLOCK_REALTIME);
	uint64_t down = r->st.downtime_ns;
	struct journal_health h;

	if (!r->established && r->down_since)
		down += (uint64_t)(now - r->down_since);
	metric_set(metrics_series0(m->connected), r->established ? 1 : 0);
	metric_set(metrics_series0(m->connects), (double)r->st.connects);
	metric_set(metrics_series0(m->reconnects), (double)r->st.reconnects);
	metric_set(metrics_series0(m->downtime), (double)down / 1e9);
	for (int i = 0; i <= CHANNELS; i++)
		if (m->ch[i].last_wall)
			metric_set(m->ch[i].last_age, (double)(wall - m->ch[i].last_wall) / 1e9);
	if (r->o->publish_stats && m->pub_connected) {
		struct recorder_publish_stats ps = { 0 };
		r->o->publish_stats(&ps, r->o->publish_ud);
		const char *v[] = { ps.stream ? ps.stream : "" };
		metric_set(metrics_series(m->pub_connected, v), ps.connected ? 1 : 0);
		metric_set(metrics_series(m->pub_acked, v), (double)ps.acked_recno);
		metric_set(metrics_series(m->pub_lag, v),
			   m->last_recno > ps.acked_recno ? (double)(m->last_recno - ps.acked_recno) : 0);
		metric_set(metrics_series(m->pub_msgs, v), (double)ps.published);
		metric_set(metrics_series(m->pub_dups, v), (double)ps.duplicates);
		metric_set(metrics_series(m->pub_resent, v), (double)ps.resent);
	}
	if (!journal_health(r->j, &h)) {
		metric_set(metrics_series0(m->pending), h.blocks_pending);
		metric_set(metrics_series0(m->disk), (double)h.disk_bytes);
		metric_hist_set(m->fsync, metrics_series0(m->fsync), h.fsync_counts, h.fsync_sum_s);
		metric_set(metrics_series0(m->werr), (h.write_err != 0) + (h.index_failed != 0));
	}
	metrics_render(m->reg, out);
}

/* Unhealthy: not connected for longer than --health-max-down (before the first open:
 * since the start), or the journal's writes fail. */
static int
health(void *ud, struct text_buf *out)
{
	struct rec *r = ud;
	struct rec_metrics *m = r->m;
	int64_t now = rec_now_ns(CLOCK_MONOTONIC);
	double down = !r->established && r->down_since ? (double)(now - r->down_since) / 1e9 : 0;
	struct journal_health h;
	char reason[320] = "";

	if (!journal_health(r->j, &h) && h.write_err)
		snprintf(reason, sizeof(reason), "journal writes fail: %s", journal_strerror(h.write_err));
	else if (r->result == RECORDER_EJOURNAL)
		snprintf(reason, sizeof(reason), "journal writes fail: %s",
			 journal_strerror(r->st.journal_err));
	else if (!r->established && (int64_t)(down * 1e9) > m->max_down_ns)
		snprintf(reason, sizeof(reason), "not connected for %.0f s (more than %.0f s)%s%s", down,
			 (double)m->max_down_ns / 1e9, r->st.last_error[0] ? "; last error: " : "",
			 r->st.last_error);
	text_buf_addf(out, "{\"status\":\"%s\"", reason[0] ? "unhealthy" : "ok");
	if (reason[0]) {
		text_buf_adds(out, ",\"reason\":");
		text_json_string(out, reason, strnlen(reason, sizeof(reason)));
	}
	text_buf_addf(out,
		      ",\"connected\":%s,\"down_seconds\":%.3f,\"connects\":%llu,\"records\":%llu,"
		      "\"max_down_seconds\":%.3f}",
		      r->established ? "true" : "false", down, (unsigned long long)r->st.connects,
		      (unsigned long long)r->st.records, (double)m->max_down_ns / 1e9);
	return !reason[0];
}

/* ---- the recorder's calls ---- */

int
rec_metrics_start(struct rec *r)
{
	const struct recorder_options *o = r->o;
	struct rec_metrics *m;
	int live = o->live_inspect > 0 || (o->live_inspect == 0 && o->metrics), err = 0;
	char why[256];

	if (!o->metrics && !live)
		return 0;
	if (!(r->m = m = calloc(1, sizeof(*m))))
		return ENOMEM;
	m->max_down_ns = o->health_max_down_ns ? o->health_max_down_ns : DEFAULT_MAX_DOWN_NS;
	m->warn_window = rec_now_ns(CLOCK_MONOTONIC);
	if (!(m->names = metrics_names_new(CHANNELS)))
		return ENOMEM;
	if (live) {
		struct inspect_options io = { .feed = r->feed, .on_finding = on_finding, .on_finding_ud = r };
		if ((err = inspect_new(&io, &m->insp)))
			return err;
	}
	if (!o->metrics)
		return 0;
	if (!(m->reg = metrics_new()) || (err = add_families(m)))
		return ENOMEM;
	if (o->publish_stats && (err = add_publish_families(m)))
		return err;
	struct metrics_http_ops ops = { .render = render, .health = health, .ud = r };
	if ((err = metrics_http_start(r->ctx, o->metrics, &ops, &m->http, why, sizeof(why)))) {
		snprintf(r->st.last_error, sizeof(r->st.last_error), "%s", why);
		return RECORDER_EMETRICS;
	}
	log_info("metrics on http://%s/metrics and /healthz (port %d)", o->metrics,
		 metrics_http_port(m->http));
	return 0;
}

void
rec_metrics_record(struct rec *r, const struct journal_record *rec)
{
	struct rec_metrics *m = r->m;

	m->last_recno = rec->recno;
	if (m->reg && rec->kind < FRAME_KINDS) {
		int idx = m->names ? chan_index(m, rec->channel_len ? rec->channel : "", rec->channel_len)
				   : CHANNELS;
		struct chan_series *c = &m->ch[idx];
		int d = rec->dir ? 1 : 0;
		if (!c->frames[d][rec->kind]) {
			const char *v[] = { dir_name[d], journal_kind_name(rec->kind),
					    metrics_names_text(m->names, idx) };
			c->frames[d][rec->kind] = metrics_series(m->frames, v);
			c->bytes[d][rec->kind] = metrics_series(m->bytes, v);
		}
		metric_add(c->frames[d][rec->kind], 1);
		metric_add(c->bytes[d][rec->kind], (double)rec->payload_len);
		if (d == JOURNAL_IN && rec->kind <= JOURNAL_BINARY) {
			if (!c->last_ts) {
				c->last_ts = chan_series(m, m->last_ts, idx);
				c->last_age = chan_series(m, m->last_age, idx);
			}
			c->last_wall = rec->wall_ns;
			metric_set(c->last_ts, (double)rec->wall_ns / 1e9);
		}
	}
	if (m->insp)
		inspect_record(m->insp, rec);
}

void
rec_metrics_failure(struct rec *r, const char *phase)
{
	if (r->m && r->m->reg) {
		const char *v[] = { phase };
		metric_add(metrics_series(r->m->failures, v), 1);
	}
}

void
rec_metrics_tick(struct rec *r, int64_t now)
{
	struct rec_metrics *m = r->m;

	if (m && m->unlogged && now - m->warn_window >= 60 * 1000000000LL)
		live_warn_summary(m, now);
}

void
rec_metrics_free(struct rec *r)
{
	struct rec_metrics *m = r->m;

	if (!m)
		return;
	if (m->unlogged)
		live_warn_summary(m, 0);
	inspect_free(m->insp);
	metrics_http_free(m->http);
	metrics_names_free(m->names);
	metrics_free(m->reg);
	free(m);
	r->m = NULL;
}
