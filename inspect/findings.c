/* findings.c - findings and their classes: kept (the first of each type) and counted (all),
 * named for --fail-on, sorted in record order; the durations of their messages */
#include "inspect/internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct finding_info inspect_finding_info[F_COUNT] = {
	[F_SEQ_GAP] = { "seq_gap", INSPECT_GAPS },
	[F_SEQ_START] = { "seq_start", INSPECT_GAPS },
	[F_SEQ_BACK] = { "seq_back", INSPECT_GAPS },
	[F_CURSOR_BACK] = { "cursor_back", INSPECT_GAPS },
	[F_REPLAY_HASGAP] = { "replay_has_gap", INSPECT_GAPS },
	[F_REPLAY_INCOMPLETE] = { "replay_incomplete", INSPECT_GAPS },
	[F_STALL] = { "stall", INSPECT_GAPS },
	[F_DOWNTIME] = { "downtime_uncovered", INSPECT_GAPS },
	[F_DUP_EVENT] = { "dup_event", INSPECT_DUPS },
	[F_DUP_FRAME] = { "dup_frame", INSPECT_DUPS },
	[F_OVERLAP] = { "overlap", INSPECT_OVERLAP },
	[F_DISCONNECT] = { "disconnect", INSPECT_DISCONNECTS },
	[F_CONNECT_FAILED] = { "connect_failed", INSPECT_DISCONNECTS },
	[F_POSITION_OPEN] = { "position_never_closed", INSPECT_POSITIONS },
	[F_POSITION_UNKNOWN] = { "position_unknown", INSPECT_POSITIONS },
	[F_PNL_LATE] = { "pnl_late", INSPECT_TIMING },
	[F_BACKOFF] = { "backoff", INSPECT_TIMING },
	[F_PING_UNANSWERED] = { "ping_unanswered", INSPECT_TIMING },
	[F_NOT_JSON] = { "not_json", INSPECT_MALFORMED },
	[F_RECORDER_GAP] = { "recorder_gap", INSPECT_GAPS },
};

static const struct {
	const char *name;
	unsigned bit;
} class_names[] = {
	{ "gaps", INSPECT_GAPS },           { "dups", INSPECT_DUPS },
	{ "overlap", INSPECT_OVERLAP },     { "disconnects", INSPECT_DISCONNECTS },
	{ "positions", INSPECT_POSITIONS }, { "timing", INSPECT_TIMING },
	{ "malformed", INSPECT_MALFORMED }, { "any", INSPECT_ANY },
};
#define NNAMES (sizeof(class_names) / sizeof(class_names[0]))

/* the order of classes in the report */
const unsigned inspect_class_order[] = {
	INSPECT_GAPS,      INSPECT_DUPS,   INSPECT_OVERLAP,   INSPECT_DISCONNECTS,
	INSPECT_POSITIONS, INSPECT_TIMING, INSPECT_MALFORMED,
};
const size_t inspect_nclasses = sizeof(inspect_class_order) / sizeof(inspect_class_order[0]);

int
inspect_class_parse(const char *list, unsigned *mask)
{
	const char *p = list;

	*mask = 0;
	while (p && *p) {
		size_t n = strcspn(p, ",");
		size_t i;

		for (i = 0; i < NNAMES; i++)
			if (strlen(class_names[i].name) == n && !memcmp(p, class_names[i].name, n))
				break;
		if (i == NNAMES)
			return -1;
		*mask |= class_names[i].bit;
		p += n;
		if (*p == ',')
			p++;
	}
	return *mask ? 0 : -1;
}

const char *
inspect_class_name(unsigned bit)
{
	for (size_t i = 0; i < NNAMES; i++)
		if (class_names[i].bit == bit)
			return class_names[i].name;
	return "?";
}

/* A finding type that counts: payloads that are not JSON only where the feed says so. */
static int
type_counts(const struct inspect *in, int t)
{
	return t != F_NOT_JSON || in->ops->not_json_is_finding;
}

static int
type_counts_name(const struct inspect *in, const char *name)
{
	return strcmp(name, inspect_finding_info[F_NOT_JSON].name) || in->ops->not_json_is_finding;
}

uint64_t
inspect_class_count(const struct inspect *in, unsigned cls)
{
	uint64_t n = 0;

	for (int t = 0; t < F_COUNT; t++)
		if (inspect_finding_info[t].cls == cls && type_counts(in, t))
			n += in->count[t];
	return n;
}

unsigned
inspect_classes(const struct inspect *in)
{
	unsigned m = 0;

	for (int t = 0; t < F_COUNT; t++)
		if (in->count[t] && type_counts(in, t))
			m |= inspect_finding_info[t].cls;
	return m;
}

void
inspect_fmt_dur(int64_t ns, char *buf, size_t n)
{
	const char *sign = ns < 0 ? "-" : "";

	if (ns < 0)
		ns = -ns;
	if (ns < 1000000)
		snprintf(buf, n, "%s%" PRId64 "us", sign, ns / 1000);
	else if (ns < 1000000000)
		snprintf(buf, n, "%s%" PRId64 ".%01" PRId64 "ms", sign, ns / 1000000, ns / 100000 % 10);
	else if (ns < 60 * (int64_t)1000000000)
		snprintf(buf, n, "%s%" PRId64 ".%03" PRId64 "s", sign, ns / 1000000000, ns / 1000000 % 1000);
	else
		snprintf(buf, n, "%s%" PRId64 "m%02" PRId64 ".%03" PRId64 "s", sign, ns / 60000000000,
			 ns / 1000000000 % 60, ns / 1000000 % 1000);
}

/* Reports are UTF-8: bytes of a cursor or channel that are not (or a sequence cut by
 * truncation) become '?'. */
static void
utf8_sanitize(char *s)
{
	size_t n = strlen(s);

	if (text_utf8_valid((const uint8_t *)s, n))
		return;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			s[i] = '?';
}

struct finding *
inspect_vfinding(struct inspect *in, int type, const struct inspect_at *at, const char *fmt, va_list ap)
{
	struct finding *f;
	size_t ch_len = at->channel ? at->channel_len : 0;

	in->count[type]++;
	if (in->opt.on_finding) {
		va_list aq;
		inspect_event_flush(in);
		memset(&in->ev, 0, sizeof(in->ev));
		in->ev.type = inspect_finding_info[type].name;
		in->ev.cls_bit = inspect_finding_info[type].cls;
		in->ev.cls = inspect_class_name(in->ev.cls_bit);
		in->ev.conn = at->conn;
		in->ev.recno = at->recno;
		snprintf(in->ev_channel, sizeof(in->ev_channel), "%.*s", (int)ch_len,
			 ch_len ? at->channel : "");
		va_copy(aq, ap);
		vsnprintf(in->ev_msg, sizeof(in->ev_msg), fmt, aq);
		va_end(aq);
		utf8_sanitize(in->ev_channel);
		utf8_sanitize(in->ev_msg);
		in->ev.channel = in->ev_channel;
		in->ev.msg = in->ev_msg;
		in->ev_has = 1;
	}
	if (in->kept[type] >= INSPECT_KEEP_FINDINGS)
		return NULL;
	in->kept[type]++;
	f = &in->findings[in->nfindings++];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->recno = at->recno;
	f->recno_before = at->recno_before;
	f->ns = at->ns;
	f->dur_ns = at->dur_ns;
	f->conn = at->conn;
	if (ch_len) {
		if (ch_len >= sizeof(f->channel))
			ch_len = sizeof(f->channel) - 1;
		memcpy(f->channel, at->channel, ch_len);
	}
	vsnprintf(f->msg, sizeof(f->msg), fmt, ap);
	utf8_sanitize(f->channel);
	utf8_sanitize(f->msg);
	return f;
}

struct finding *
inspect_finding(struct inspect *in, int type, const struct inspect_at *at, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	va_start(ap, fmt);
	f = inspect_vfinding(in, type, at, fmt, ap);
	va_end(ap);
	return f;
}

void
inspect_event_flush(struct inspect *in)
{
	if (!in->ev_has)
		return;
	in->ev_has = 0;
	if (type_counts_name(in, in->ev.type))
		in->opt.on_finding(&in->ev, in->opt.on_finding_ud);
}

/* Forget the findings of one type (and their count). */
void
inspect_findings_drop(struct inspect *in, int type)
{
	int n = 0;

	for (int i = 0; i < in->nfindings; i++)
		if (in->findings[i].type != type)
			in->findings[n++] = in->findings[i];
	in->nfindings = n;
	in->count[type] = in->kept[type] = 0;
}

static int
finding_cmp(const void *a, const void *b)
{
	const struct finding *x = a, *y = b;

	if (x->recno != y->recno)
		return x->recno < y->recno ? -1 : 1;
	return x->type - y->type;
}

void
inspect_findings_sort(struct inspect *in)
{
	qsort(in->findings, (size_t)in->nfindings, sizeof(in->findings[0]), finding_cmp);
}
