/* metrics.h - a small registry of counters, gauges and histograms, rendered in the
 * Prometheus text exposition format (version 0.0.4) into a text_buf
 *
 * A family has a name, a help text, a type and up to METRICS_MAX_LABELS label names; its
 * series are found by their label values (a hash table) and created on first use, at most
 * max_series of them: a label set past the cap is not created (metrics_series returns the
 * family's overflow series, whose labels all read "(other)"). A label whose values come
 * from the outside (a channel) is bounded before it gets here by a struct metrics_names:
 * its first 'cap' names keep their name, later ones are "(other)".
 *
 * No locks: the registry belongs to one thread (the event loop's); what another thread
 * measures (the journal's writer) is copied in before rendering. The library never prints;
 * no libwebsockets here (the HTTP endpoint is metrics/http.c).
 */
#ifndef WSTAPE_METRICS_H
#define WSTAPE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util/text.h"

#define METRICS_MAX_LABELS 3
#define METRICS_OTHER "(other)"

enum metric_type { METRIC_COUNTER = 0, METRIC_GAUGE, METRIC_HISTOGRAM };

struct metrics;
struct metric;

struct metric_series {
	double value; /* counters and gauges */
	/* histograms: count per bucket (not cumulative; the last one is +Inf), sum, count */
	uint64_t *buckets;
	double sum;
	uint64_t count;
	/* the registry's */
	char *labels[METRICS_MAX_LABELS];
	struct metric_series *next, *hnext;
	uint64_t hash;
};

/* Returns a registry or NULL (ENOMEM). */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* A family. labels: the label names separated by commas ("direction,kind,channel"), or
 * NULL; bounds: a histogram's upper bounds, increasing (nbounds of them; +Inf is added).
 * max_series: 0 = 1024. A family without labels has its one series at once (so it reads 0
 * before anything happened). Returns NULL on ENOMEM or a bad name (not
 * [a-zA-Z_:][a-zA-Z0-9_:]*), bad labels or bounds. */
struct metric *metrics_add(struct metrics *m, const char *name, enum metric_type type, const char *help,
			   const char *labels, unsigned max_series, const double *bounds, int nbounds);

/* The series of family f with these label values (as many as its labels; NUL-terminated
 * strings), created when new. NULL only on ENOMEM. Past max_series: the overflow series. */
struct metric_series *metrics_series(struct metric *f, const char *const *values);
/* The one series of a family without labels. */
struct metric_series *metrics_series0(struct metric *f);

static inline void
metric_add(struct metric_series *s, double v)
{
	if (s)
		s->value += v;
}
static inline void
metric_set(struct metric_series *s, double v)
{
	if (s)
		s->value = v;
}
/* Count one observation v into a histogram's series. */
void metric_observe(struct metric *f, struct metric_series *s, double v);
/* Set a histogram's series from counts made elsewhere: counts[i] observations at most
 * bounds[i] and above bounds[i-1] (nbounds + 1 of them, the last one above every bound). */
void metric_hist_set(struct metric *f, struct metric_series *s, const uint64_t *counts, double sum);
/* Series that overflowed the family's cap so far. */
uint64_t metrics_overflowed(const struct metric *f);

/* Render every family, in the order they were added. */
void metrics_render(const struct metrics *m, struct text_buf *out);

/* A label value escaped as the exposition format wants it (\\, \", \n), appended to out. */
void metrics_escape_label(struct text_buf *out, const char *s, size_t n);

/* A bounded set of names for a label from the outside (channels): the first cap names
 * seen keep their name (bytes that are not UTF-8 read '?'), later ones METRICS_OTHER.
 * Each name gets an index, stable for the run, below cap (METRICS_OTHER: cap). */
struct metrics_names;
struct metrics_names *metrics_names_new(unsigned cap);
void metrics_names_free(struct metrics_names *n);
/* The index of name p[0..len); its text through metrics_names_text. -1 on ENOMEM. */
int metrics_names_get(struct metrics_names *n, const char *p, size_t len);
const char *metrics_names_text(const struct metrics_names *n, int idx);
unsigned metrics_names_count(const struct metrics_names *n); /* names kept (not counting other) */

#endif
