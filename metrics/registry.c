/* registry.c - the families and series of a registry, their rendering in the text
 * exposition format, and the bounded name sets of outside labels */
#include "metrics/metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_SERIES 1024
#define HASH_SLOTS 256

struct metric {
	char *name, *help;
	enum metric_type type;
	int nlabels;
	char *label[METRICS_MAX_LABELS];
	unsigned max_series, nseries;
	uint64_t overflowed;
	double *bounds;
	int nbounds;
	struct metric_series *head, *tail; /* in creation order */
	struct metric_series *slot[HASH_SLOTS];
	struct metric_series *other; /* past max_series */
	struct metric *next;
};

struct metrics {
	struct metric *head, *tail;
};

struct metrics *
metrics_new(void)
{
	return calloc(1, sizeof(struct metrics));
}

static void
series_free(struct metric_series *s)
{
	for (int i = 0; i < METRICS_MAX_LABELS; i++)
		free(s->labels[i]);
	free(s->buckets);
	free(s);
}

/* A family, its series and its names (also one that metrics_add could not finish). */
static void
family_free(struct metric *f)
{
	for (struct metric_series *s = f->head, *sn; s; s = sn) {
		sn = s->next;
		series_free(s);
	}
	if (f->other)
		series_free(f->other);
	for (int i = 0; i < f->nlabels; i++)
		free(f->label[i]);
	free(f->name);
	free(f->help);
	free(f->bounds);
	free(f);
}

void
metrics_free(struct metrics *m)
{
	if (!m)
		return;
	for (struct metric *f = m->head, *fn; f; f = fn) {
		fn = f->next;
		family_free(f);
	}
	free(m);
}

static int
name_ok(const char *s, size_t n, int colon)
{
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		int alpha =
			(c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
		if (!alpha && !(i && c >= '0' && c <= '9'))
			return 0;
	}
	return 1;
}

static uint64_t
hash_values(const struct metric *f, const char *const *values)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < f->nlabels; i++) {
		for (const unsigned char *p = (const unsigned char *)values[i]; *p; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0xff) * 1099511628211ULL; /* a separator no UTF-8 text holds */
	}
	return h;
}

static struct metric_series *
series_new(struct metric *f, const char *const *values)
{
	struct metric_series *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	for (int i = 0; i < f->nlabels; i++)
		if (!(s->labels[i] = strdup(values ? values[i] : METRICS_OTHER))) {
			series_free(s);
			return NULL;
		}
	if (f->type == METRIC_HISTOGRAM && !(s->buckets = calloc((size_t)f->nbounds + 1, sizeof(uint64_t)))) {
		series_free(s);
		return NULL;
	}
	return s;
}

static void
series_link(struct metric *f, struct metric_series *s)
{
	if (f->tail)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	s->hnext = f->slot[s->hash % HASH_SLOTS];
	f->slot[s->hash % HASH_SLOTS] = s;
	f->nseries++;
}

struct metric *
metrics_add(struct metrics *m, const char *name, enum metric_type type, const char *help, const char *labels,
	    unsigned max_series, const double *bounds, int nbounds)
{
	struct metric *f;

	if (!name_ok(name, strlen(name), 1) || (type == METRIC_HISTOGRAM) != (nbounds > 0))
		return NULL;
	for (int i = 1; i < nbounds; i++)
		if (!(bounds[i] > bounds[i - 1]))
			return NULL;
	if (!(f = calloc(1, sizeof(*f))))
		return NULL;
	f->type = type;
	f->max_series = max_series ? max_series : DEFAULT_MAX_SERIES;
	if (!(f->name = strdup(name)) || !(f->help = strdup(help ? help : "")))
		goto fail;
	for (const char *p = labels; p && *p;) {
		size_t n = strcspn(p, ",");
		if (f->nlabels == METRICS_MAX_LABELS || !name_ok(p, n, 0) ||
		    (n == 2 && !memcmp(p, "le", 2)) || !(f->label[f->nlabels] = strndup(p, n)))
			goto fail;
		f->nlabels++;
		p += n;
		if (*p == ',')
			p++;
	}
	if (nbounds) {
		if (!(f->bounds = malloc(sizeof(double) * (size_t)nbounds)))
			goto fail;
		memcpy(f->bounds, bounds, sizeof(double) * (size_t)nbounds);
		f->nbounds = nbounds;
	}
	if (!f->nlabels) {
		struct metric_series *s = series_new(f, NULL);
		if (!s)
			goto fail;
		s->hash = hash_values(f, NULL);
		series_link(f, s);
	}
	if (m->tail)
		m->tail->next = f;
	else
		m->head = f;
	m->tail = f;
	return f;
fail:
	family_free(f);
	return NULL;
}

struct metric_series *
metrics_series0(struct metric *f)
{
	return f ? f->head : NULL;
}

struct metric_series *
metrics_series(struct metric *f, const char *const *values)
{
	struct metric_series *s;
	uint64_t h;

	if (!f)
		return NULL;
	if (!f->nlabels)
		return f->head;
	h = hash_values(f, values);
	for (s = f->slot[h % HASH_SLOTS]; s; s = s->hnext) {
		int i;
		if (s->hash != h)
			continue;
		for (i = 0; i < f->nlabels && !strcmp(s->labels[i], values[i]); i++)
			;
		if (i == f->nlabels)
			return s;
	}
	if (f->nseries >= f->max_series) {
		f->overflowed++;
		if (!f->other)
			f->other = series_new(f, NULL);
		return f->other;
	}
	if (!(s = series_new(f, values)))
		return NULL;
	s->hash = h;
	series_link(f, s);
	return s;
}

uint64_t
metrics_overflowed(const struct metric *f)
{
	return f ? f->overflowed : 0;
}

void
metric_observe(struct metric *f, struct metric_series *s, double v)
{
	int i;

	if (!f || !s || !s->buckets)
		return;
	for (i = 0; i < f->nbounds && v > f->bounds[i]; i++)
		;
	s->buckets[i]++;
	s->sum += v;
	s->count++;
}

void
metric_hist_set(struct metric *f, struct metric_series *s, const uint64_t *counts, double sum)
{
	if (!f || !s || !s->buckets)
		return;
	s->count = 0;
	for (int i = 0; i <= f->nbounds; i++) {
		s->buckets[i] = counts[i];
		s->count += counts[i];
	}
	s->sum = sum;
}

/* ---- rendering ---- */

void
metrics_escape_label(struct text_buf *out, const char *s, size_t n)
{
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		const char *esc = s[i] == '\\' ? "\\\\" : s[i] == '"' ? "\\\"" : s[i] == '\n' ? "\\n" : NULL;
		if (!esc)
			continue;
		text_buf_add(out, s + from, i - from);
		text_buf_adds(out, esc);
		from = i + 1;
	}
	text_buf_add(out, s + from, n - from);
}

static void
escape_help(struct text_buf *out, const char *s)
{
	for (; *s; s++)
		if (*s == '\\')
			text_buf_adds(out, "\\\\");
		else if (*s == '\n')
			text_buf_adds(out, "\\n");
		else
			text_buf_add(out, s, 1);
}

/* A sample value: integers as integers, others with the digits that read back the same. */
static void
add_value(struct text_buf *out, double v)
{
	char buf[40];

	if (isnan(v))
		text_buf_adds(out, "NaN");
	else if (isinf(v))
		text_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		text_buf_addf(out, "%.0f", v);
	else {
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		text_buf_adds(out, buf);
	}
}

/* name{labels[,le="x"]} value */
static void
add_sample(struct text_buf *out, const struct metric *f, const char *suffix, const struct metric_series *s,
	   const char *le, double v)
{
	text_buf_adds(out, f->name);
	text_buf_adds(out, suffix);
	if (f->nlabels || le) {
		text_buf_adds(out, "{");
		for (int i = 0; i < f->nlabels; i++) {
			text_buf_addf(out, "%s%s=\"", i ? "," : "", f->label[i]);
			metrics_escape_label(out, s->labels[i], strlen(s->labels[i]));
			text_buf_adds(out, "\"");
		}
		if (le)
			text_buf_addf(out, "%sle=\"%s\"", f->nlabels ? "," : "", le);
		text_buf_adds(out, "}");
	}
	text_buf_adds(out, " ");
	add_value(out, v);
	text_buf_adds(out, "\n");
}

static void
render_series(struct text_buf *out, const struct metric *f, const struct metric_series *s)
{
	uint64_t cum = 0;
	char le[40];

	if (f->type != METRIC_HISTOGRAM) {
		add_sample(out, f, "", s, NULL, s->value);
		return;
	}
	for (int i = 0; i < f->nbounds; i++) {
		struct text_buf b = { 0 };
		cum += s->buckets[i];
		add_value(&b, f->bounds[i]);
		snprintf(le, sizeof(le), "%s", b.p ? b.p : "0");
		text_buf_free(&b);
		add_sample(out, f, "_bucket", s, le, (double)cum);
	}
	add_sample(out, f, "_bucket", s, "+Inf", (double)s->count);
	add_sample(out, f, "_sum", s, NULL, s->sum);
	add_sample(out, f, "_count", s, NULL, (double)s->count);
}

void
metrics_render(const struct metrics *m, struct text_buf *out)
{
	static const char *const type_name[] = { "counter", "gauge", "histogram" };

	for (const struct metric *f = m->head; f; f = f->next) {
		text_buf_addf(out, "# HELP %s ", f->name);
		escape_help(out, f->help);
		text_buf_addf(out, "\n# TYPE %s %s\n", f->name, type_name[f->type]);
		for (const struct metric_series *s = f->head; s; s = s->next)
			render_series(out, f, s);
		if (f->other)
			render_series(out, f, f->other);
	}
}

/* ---- bounded name sets ---- */

struct metrics_names {
	unsigned cap, n;
	char **name; /* the label's text, then the name's bytes as they came */
	size_t *len;
	uint64_t *hash;
};

struct metrics_names *
metrics_names_new(unsigned cap)
{
	struct metrics_names *n = calloc(1, sizeof(*n));

	if (!n || !(n->name = calloc(cap + 1, sizeof(char *))) ||
	    !(n->len = calloc(cap + 1, sizeof(size_t))) || !(n->hash = calloc(cap + 1, sizeof(uint64_t)))) {
		metrics_names_free(n);
		return NULL;
	}
	n->cap = cap;
	return n;
}

void
metrics_names_free(struct metrics_names *n)
{
	if (!n)
		return;
	if (n->name)
		for (unsigned i = 0; i < n->n; i++)
			free(n->name[i]);
	free(n->name);
	free(n->len);
	free(n->hash);
	free(n);
}

int
metrics_names_get(struct metrics_names *n, const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	char *copy;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	/* linear: at most cap (64) names, and the caller keeps the last index it got */
	for (unsigned i = 0; i < n->n; i++)
		if (n->hash[i] == h && n->len[i] == len && !memcmp(n->name[i] + len + 1, p, len))
			return (int)i;
	if (n->n >= n->cap)
		return (int)n->cap;
	if (!(copy = malloc(2 * len + 1)))
		return -1;
	memcpy(copy, p, len);
	copy[len] = 0;
	memcpy(copy + len + 1, p, len);
	/* NUL bytes end the label's text; bytes that are not UTF-8 read '?' */
	if (memchr(copy, 0, len) || !text_utf8_valid((const uint8_t *)copy, len))
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)copy[i] >= 0x80 || !copy[i])
				copy[i] = '?';
	n->name[n->n] = copy;
	n->len[n->n] = len;
	n->hash[n->n] = h;
	return (int)n->n++;
}

const char *
metrics_names_text(const struct metrics_names *n, int idx)
{
	return idx >= 0 && (unsigned)idx < n->n ? n->name[idx] : METRICS_OTHER;
}

unsigned
metrics_names_count(const struct metrics_names *n)
{
	return n->n;
}
