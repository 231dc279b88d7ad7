/* metrics.c - replay's --metrics: clients, frames and bytes sent, lateness, clients let go
 * for --max-buffer, faults injected; /healthz is 200 while the server serves
 * (metrics/http.h) */
#include "replay/server_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/version.h"
#include "metrics/http.h"
#include "metrics/metrics.h"
#include "util/clock.h"

static const double late_bounds[LATE_BOUNDS] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5,
};
static const char *const fault_name[FAULT_KINDS] = { "drop", "stall", "dup", "skip" };

struct replay_metrics {
	struct metrics *reg;
	struct metric *clients, *clients_total, *frames, *bytes, *late, *dropped, *faults;
	struct metrics_http *http;
};

static int
add_families(struct replay_metrics *m)
{
	struct metrics *g = m->reg;
	struct metric *build, *start;

	build = metrics_add(g, "wstape_build_info", METRIC_GAUGE, "wstape's version (the value is 1)",
			    "version", 1, NULL, 0);
	start = metrics_add(g, "process_start_time_seconds", METRIC_GAUGE,
			    "Start time of the process since the Unix epoch, seconds", NULL, 0, NULL, 0);
	m->clients = metrics_add(g, "wstape_replay_clients", METRIC_GAUGE, "Clients connected now", NULL, 0,
				 NULL, 0);
	m->clients_total = metrics_add(g, "wstape_replay_clients_total", METRIC_COUNTER, "Clients accepted",
				       NULL, 0, NULL, 0);
	m->frames = metrics_add(g, "wstape_replay_frames_sent_total", METRIC_COUNTER,
				"Frames sent to the clients (the timeline's and the feed's answers)", NULL, 0,
				NULL, 0);
	m->bytes = metrics_add(g, "wstape_replay_bytes_sent_total", METRIC_COUNTER,
			       "Payload bytes of the frames sent", NULL, 0, NULL, 0);
	m->late = metrics_add(g, "wstape_replay_lateness_seconds", METRIC_HISTOGRAM,
			      "How late a timeline frame went out after its paced due time, seconds", NULL, 0,
			      late_bounds, LATE_BOUNDS);
	m->dropped = metrics_add(g, "wstape_replay_clients_dropped_total", METRIC_COUNTER,
				 "Clients let go for not taking what was due (max_buffer: --max-buffer, "
				 "max_buffer_total: --max-buffer-total)",
				 "reason", 4, NULL, 0);
	m->faults = metrics_add(g, "wstape_replay_faults_total", METRIC_COUNTER,
				"Faults injected, by kind (drop, stall, dup, skip)", "kind", FAULT_KINDS,
				NULL, 0);
	if (!build || !start || !m->clients || !m->clients_total || !m->frames || !m->bytes || !m->late ||
	    !m->dropped || !m->faults)
		return ENOMEM;
	const char *v[] = { WSTAPE_VERSION_STRING };
	metric_set(metrics_series(build, v), 1);
	metric_set(metrics_series0(start), (double)clock_ns(CLOCK_REALTIME) / 1e9);
	/* every label value at 0 from the start, so that rate() sees the first one */
	const char *r1[] = { "max_buffer" }, *r2[] = { "max_buffer_total" };
	metrics_series(m->dropped, r1);
	metrics_series(m->dropped, r2);
	for (int i = 0; i < FAULT_KINDS; i++)
		metrics_series(m->faults, &fault_name[i]);
	return 0;
}

static void
render(void *ud, struct text_buf *out)
{
	struct srv *s = ud;
	struct replay_metrics *m = s->m;
	const char *r1[] = { "max_buffer" }, *r2[] = { "max_buffer_total" };

	metric_set(metrics_series0(m->clients), s->clients);
	metric_set(metrics_series0(m->clients_total), (double)s->n.clients_total);
	metric_set(metrics_series0(m->frames), (double)s->n.frames);
	metric_set(metrics_series0(m->bytes), (double)s->n.bytes);
	metric_hist_set(m->late, metrics_series0(m->late), s->n.late, s->n.late_sum);
	metric_set(metrics_series(m->dropped, r1), (double)s->n.dropped_buffer);
	metric_set(metrics_series(m->dropped, r2), (double)s->n.dropped_total);
	for (int i = 0; i < FAULT_KINDS; i++)
		metric_set(metrics_series(m->faults, &fault_name[i]), (double)s->n.faults[i]);
	metrics_render(m->reg, out);
}

static int
health(void *ud, struct text_buf *out)
{
	struct srv *s = ud;

	text_buf_addf(out, "{\"status\":\"ok\",\"clients\":%d,\"clients_total\":%llu,\"port\":%d}",
		      s->clients, (unsigned long long)s->n.clients_total,
		      s->o->bound_port ? s->o->bound_port : s->o->port);
	return 1;
}

int
replay_metrics_start(struct srv *s)
{
	struct replay_metrics *m;
	char why[256];

	if (!s->o->metrics)
		return 0;
	if (!(s->m = m = calloc(1, sizeof(*m))) || !(m->reg = metrics_new()) || add_families(m))
		return ENOMEM;
	struct metrics_http_ops ops = { .render = render, .health = health, .ud = s, .no_ipv6 = 1 };
	if (metrics_http_start(s->ctx, s->o->metrics, &ops, &m->http, why, sizeof(why))) {
		log_error("--metrics: %s", why);
		return REPLAY_ELISTEN;
	}
	log_info("replay: metrics on http://%s/metrics and /healthz (port %d)", s->o->metrics,
		 metrics_http_port(m->http));
	return 0;
}

void
replay_metrics_late(struct srv *s, int64_t late)
{
	double v = (double)late / 1e9;
	int i;

	for (i = 0; i < LATE_BOUNDS && v > late_bounds[i]; i++)
		;
	s->n.late[i]++;
	s->n.late_sum += v;
}

void
replay_metrics_free(struct srv *s)
{
	if (!s->m)
		return;
	metrics_http_free(s->m->http);
	metrics_free(s->m->reg);
	free(s->m);
	s->m = NULL;
}
