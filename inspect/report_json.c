/* report_json.c - the inspect report as one JSON document (schema in docs/INSPECT.md) */
#include "inspect/internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *
jtime(int64_t ns)
{
	char t[40];

	return json_string(text_format_time(ns, t, sizeof(t)));
}

static json_t *
jms(int64_t ns)
{
	return json_real((double)ns / 1e6);
}

static json_t *
jint(uint64_t v)
{
	return json_integer((json_int_t)v);
}

struct json_t *
inspect_json_hist(const struct hist *h)
{
	if (!h->count)
		return json_null();
	return json_pack("{s:I, s:o, s:o, s:o, s:o}", "count", (json_int_t)h->count, "p50_ms",
			 jms((int64_t)hist_quantile(h, 0.5)), "p99_ms", jms((int64_t)hist_quantile(h, 0.99)),
			 "max_ms", jms((int64_t)h->max), "min_ms", jms((int64_t)h->min));
}

/* A JSON string of bytes that may not be UTF-8 (a channel name as received): such bytes
 * become '?'. */
static json_t *
jstrn(const char *s, size_t n)
{
	char buf[CH_NAME];
	json_t *v = json_stringn(s, n);

	if (v)
		return v;
	if (n > sizeof(buf))
		n = sizeof(buf);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)s[i] >= 0x80 || !s[i] ? '?' : s[i];
	return json_stringn(buf, n);
}

static json_t *
json_selection(const struct inspect *in)
{
	json_t *o = json_object();

	if (in->opt.channel)
		json_object_set_new(o, "channel", json_string(in->opt.channel));
	if (in->opt.conn_set)
		json_object_set_new(o, "conn", json_integer(in->opt.conn));
	if (in->opt.from_ns)
		json_object_set_new(o, "from", jtime(in->opt.from_ns));
	if (in->opt.to_ns)
		json_object_set_new(o, "to", jtime(in->opt.to_ns));
	json_object_set_new(o, "stall_ms", jms(in->opt.stall_ns));
	json_object_set_new(
		o, "cut",
		json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I}", "start",
			  in->cut_before || in->cut_conns_before, "end", in->cut_after || in->cut_conns,
			  "positions_open", (json_int_t)in->cut_positions_open, "position_events",
			  (json_int_t)in->cut_position_events, "replays", (json_int_t)in->cut_replays,
			  "downtime", (json_int_t)in->cut_downtime, "pings", (json_int_t)in->cut_pings,
			  "reconnects", (json_int_t)in->cut_reconnects));
	return o;
}

static json_t *
json_records(const struct inspect *in)
{
	json_t *o, *a;

	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)in->records, "first",
		      (json_int_t)in->first_recno, "last", (json_int_t)in->last_recno, "received_frames",
		      (json_int_t)in->in_frames, "sent_frames", (json_int_t)in->out_frames, "payload_bytes",
		      (json_int_t)in->bytes, "not_json", (json_int_t)in->not_json);
	a = json_object();
	for (int k = 0; k <= JOURNAL_KIND_MAX; k++)
		if (in->by_kind[k])
			json_object_set_new(a, journal_kind_name(k), jint(in->by_kind[k]));
	json_object_set_new(o, "by_kind", a);
	if (in->records) {
		json_object_set_new(o, "first_time", jtime(in->first_ns));
		json_object_set_new(o, "last_time", jtime(in->last_ns));
		json_object_set_new(o, "duration_ms", jms(in->last_ns - in->first_ns));
	}
	return o;
}

/* What the seq numbers say was lost (seq_gap and seq_start findings), overall and per
 * channel, so that CI reads it without parsing messages. */
static json_t *
json_missing(const struct inspect *in)
{
	json_t *a = json_object();

	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		const struct channel *c = in->ch[i];
		json_t *name;

		if (!c || !c->seq_missing)
			continue;
		name = jstrn(c->name, c->name_len);
		if (name && json_string_value(name))
			json_object_set_new(a, json_string_value(name), jint(c->seq_missing));
		json_decref(name);
	}
	return json_pack("{s:I, s:o}", "messages", (json_int_t)in->seq_missing, "channels", a);
}

static json_t *
json_summary(const struct inspect *in)
{
	unsigned found = inspect_classes(in);
	json_t *o = json_object(), *a;

	json_object_set_new(o, "clean", json_boolean(!found && !in->corrupt));
	a = json_array();
	for (size_t i = 0; i < inspect_nclasses; i++)
		if (found & inspect_class_order[i])
			json_array_append_new(a, json_string(inspect_class_name(inspect_class_order[i])));
	json_object_set_new(o, "found", a);
	a = json_object();
	for (size_t i = 0; i < inspect_nclasses; i++)
		json_object_set_new(a, inspect_class_name(inspect_class_order[i]),
				    jint(inspect_class_count(in, inspect_class_order[i])));
	json_object_set_new(o, "classes", a);
	a = json_object();
	for (int t = 0; t < F_COUNT; t++)
		/* recorder_gap: only for a journal of two or more recorders */
		if (t != F_RECORDER_GAP || inspect_recorders_shown(in))
			json_object_set_new(a, inspect_finding_info[t].name, jint(in->count[t]));
	json_object_set_new(o, "counts", a);
	json_object_set_new(o, "missing", json_missing(in));
	/* a merged journal: each connection has holes another recorder's copies filled */
	if (inspect_merged(in) && in->ops->seq) {
		char buf[96];

		snprintf(buf, sizeof(buf),
			 "not judged: merged from %d recorders; see each recorder's own journal",
			 inspect_merged(in));
		json_object_set_new(o, "seq", json_string(buf));
	}
	return o;
}

static json_t *
json_corruption(const struct inspect *in)
{
	json_t *o;

	if (!in->corrupt)
		return json_null();
	o = json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I}", "error", journal_strerror(in->corrupt_err),
		      "segment", (json_int_t)in->corrupt_segment, "offset", (json_int_t)in->corrupt_offset,
		      "detail", in->corrupt_detail, "unreadable_ranges", (json_int_t)in->corrupt_ranges,
		      "unreadable_records", (json_int_t)in->corrupt_records, "first_unreadable",
		      (json_int_t)in->corrupt_first);
	/* a first range that is a tail of unknown length has no last record */
	json_object_set_new(o, "last_unreadable", in->corrupt_last ? jint(in->corrupt_last) : json_null());
	json_object_set_new(o, "missing_from",
			    in->corrupt_tail_from ? jint(in->corrupt_tail_from) : json_null());
	return o;
}

static json_t *
json_conn(const struct conn *c)
{
	json_t *o = json_pack("{s:I, s:I, s:I, s:I, s:b}", "conn", (json_int_t)c->id, "first_record",
			      (json_int_t)c->first_recno, "last_record", (json_int_t)c->last_recno, "records",
			      (json_int_t)c->records, "ok", c->ok);

	if (c->open_recno) {
		json_object_set_new(o, "open_record", jint(c->open_recno));
		json_object_set_new(o, "open_time", jtime(c->open_ns));
		json_object_set_new(o, "status", json_integer(c->status));
	}
	if (c->close_recno) {
		json_object_set_new(o, "close_record", jint(c->close_recno));
		json_object_set_new(o, "close_time", jtime(c->close_ns));
		json_object_set_new(o, "close_code", json_integer(c->close_code));
		json_object_set_new(o, "close_reason", json_string(c->close_reason));
		json_object_set_new(o, "closed_by", json_string(c->close_by));
	}
	if (c->ok)
		json_object_set_new(o, "duration_ms",
				    jms((c->close_ns ? c->close_ns : c->last_ns) -
					(c->open_ns ? c->open_ns : c->first_ns)));
	json_object_set_new(o, "downtime_after_ms",
			    c->downtime_after_ns >= 0 ? jms(c->downtime_after_ns) : json_null());
	if (*c->error)
		json_object_set_new(o, "error", json_string(c->error));
	if (*c->phase)
		json_object_set_new(o, "phase", json_string(c->phase));
	if (c->attempt)
		json_object_set_new(o, "attempt", json_integer(c->attempt));
	if (*c->session)
		json_object_set_new(o, "session", json_string(c->session));
	if (*c->recorder)
		json_object_set_new(o, "recorder", json_string(c->recorder));
	json_object_set_new(o, "replays", json_integer(c->replays));
	json_object_set_new(o, "replays_complete", json_integer(c->replays_complete));
	json_object_set_new(o, "replays_with_gap", json_integer(c->replays_gap));
	return o;
}

static json_t *
json_reconnects(const struct inspect *in)
{
	json_t *a = json_array(), *o;

	for (int i = 0; i < in->nrcs; i++) {
		const struct reconnect *r = &in->rcs[i];

		o = json_pack("{s:i, s:I, s:I, s:I, s:o, s:I}", "attempt", r->attempt, "from_conn",
			      (json_int_t)r->from_conn, "to_conn", (json_int_t)r->to_conn, "record",
			      (json_int_t)r->recno, "time", jtime(r->ns), "actual_ms",
			      (json_int_t)r->actual_ms);
		json_object_set_new(o, "scheduled_ms",
				    r->stated_ms >= 0 ? json_integer(r->stated_ms) : json_null());
		json_object_set_new(o, "expected_ms",
				    r->expected_ms >= 0 ? json_integer(r->expected_ms) : json_null());
		json_object_set_new(o, "backoff_ok",
				    r->expected_ms >= 0 ? json_boolean(!r->off) : json_null());
		json_array_append_new(a, o);
	}
	return a;
}

/* Per recorder of a merged journal (null when fewer than two): its connections, data
 * messages, the spans it had no connection in and who filled them. */
static json_t *
json_recorders(const struct inspect *in)
{
	const struct inspect_recorders *s = in->rc;
	json_t *a = json_array();

	for (int i = 0; i < s->n; i++) {
		const struct recorder *r = s->r[i];
		json_t *conns = json_array(), *spans = json_array();

		for (int c = 0; c < s->nconns; c++)
			if (s->conns[c].rec == i)
				json_array_append_new(conns, jint(s->conns[c].id));
		for (int k = 0; k < r->nspans; k++) {
			const struct rc_span *p = &r->spans[k];
			json_t *fill = json_array();

			for (int f = 0; f < p->nfill; f++)
				json_array_append_new(
					fill,
					json_pack("{s:s, s:I, s:I}", "recorder",
						  p->fill[f].rec >= 0 ? s->r[p->fill[f].rec]->id : "?",
						  "conn", (json_int_t)p->fill[f].conn, "messages",
						  (json_int_t)p->fill[f].messages));
			json_array_append_new(spans,
					      json_pack("{s:o, s:o, s:o, s:I, s:o, s:I}", "from",
							jtime(p->from_ns), "to", jtime(p->to_ns),
							"duration_ms", jms(p->to_ns - p->from_ns), "record",
							(json_int_t)p->recno, "filled_by", fill,
							"more_messages", (json_int_t)p->more_messages));
		}
		json_array_append_new(a,
				      json_pack("{s:s, s:o, s:I, s:o, s:I, s:I}", "id", r->id, "conns", conns,
						"messages", (json_int_t)r->messages, "spans", spans,
						"spans_total", (json_int_t)r->spans_total, "unfilled_total",
						(json_int_t)r->unfilled_total));
	}
	return a;
}

static json_t *
json_channel(const struct channel *c)
{
	double span = (double)(c->last_ns - c->first_ns) / 1e9;
	json_t *o = json_object();

	json_object_set_new(o, "channel", jstrn(c->name, c->name_len));
	json_object_set_new(o, "messages", jint(c->messages));
	json_object_set_new(o, "events", jint(c->events));
	json_object_set_new(o, "replay_chunks", jint(c->replay_chunks));
	json_object_set_new(o, "replay_events", jint(c->replay_events));
	json_object_set_new(o, "bytes", jint(c->bytes));
	json_object_set_new(o, "first_record", jint(c->first_recno));
	json_object_set_new(o, "last_record", jint(c->last_recno));
	json_object_set_new(o, "first_time", jtime(c->first_ns));
	json_object_set_new(o, "last_time", jtime(c->last_ns));
	json_object_set_new(o, "rate_avg", json_real(span > 0 ? (double)(c->messages - 1) / span : 0));
	json_object_set_new(o, "rate_peak", jint(c->peak_per_sec));
	json_object_set_new(o, "interarrival", inspect_json_hist(&c->gaps));
	json_object_set_new(o, "dup_events", jint(c->dup_events));
	json_object_set_new(o, "dup_frames", jint(c->dup_frames));
	json_object_set_new(o, "overlap_events", jint(c->overlap_events));
	json_object_set_new(o, "shared_key_events", jint(c->shared_key_events));
	json_object_set_new(o, "late_events", jint(c->late_events));
	json_object_set_new(o, "seq_missing", jint(c->seq_missing));
	json_object_set_new(o, "not_json", jint(c->not_json));
	return o;
}

static json_t *
json_stalls(const struct inspect *in)
{
	json_t *a = json_array();

	for (int i = 0; i < in->nstalls; i++)
		json_array_append_new(
			a,
			json_pack("{s:o, s:I, s:I, s:I, s:o}", "duration_ms", jms(in->stalls[i].dur_ns),
				  "conn", (json_int_t)in->stalls[i].conn, "record_before",
				  (json_int_t)in->stalls[i].recno_before, "record",
				  (json_int_t)in->stalls[i].recno, "time", jtime(in->stalls[i].ns)));
	return a;
}

static json_t *
json_finding(const struct finding *f)
{
	json_t *o = json_pack("{s:s, s:s, s:I, s:o, s:I}", "class",
			      inspect_class_name(inspect_finding_info[f->type].cls), "type",
			      inspect_finding_info[f->type].name, "record", (json_int_t)f->recno, "time",
			      jtime(f->ns), "conn", (json_int_t)f->conn);

	if (f->recno_before)
		json_object_set_new(o, "record_before", jint(f->recno_before));
	if (*f->channel)
		json_object_set_new(o, "channel", json_string(f->channel));
	if (f->dur_ns)
		json_object_set_new(o, "duration_ms", jms(f->dur_ns));
	if (f->type == F_SEQ_GAP || f->type == F_SEQ_START)
		json_object_set_new(o, "missing", jint(f->missing));
	json_object_set_new(o, "message", json_string(f->msg));
	return o;
}

/* Buckets 0..last of v. */
static json_t *
json_buckets(const uint64_t *v, int last)
{
	json_t *a = json_array();

	for (int i = 0; i <= last; i++)
		json_array_append_new(a, jint(v[i]));
	return a;
}

static json_t *
json_timeline(const struct inspect *in)
{
	json_t *o = json_object(), *a = json_array();
	int last = -1;

	for (int i = 0; i < INSPECT_TIMELINE; i++)
		if (in->tl_msgs[i])
			last = i;
	json_object_set_new(o, "start", in->tl_start ? jtime(in->tl_start) : json_null());
	json_object_set_new(o, "bucket_ms", jms(in->tl_width));
	json_object_set_new(o, "messages", json_buckets(in->tl_msgs, last));
	json_object_set_new(o, "events", json_buckets(in->tl_events, last));
	/* per channel, the same buckets */
	for (int k = 0; k <= INSPECT_MAX_CHANNELS; k++) {
		const struct channel *c = in->ch[k];

		if (c)
			json_array_append_new(a,
					      json_pack("{s:o, s:o, s:o}", "channel",
							jstrn(c->name, c->name_len), "messages",
							json_buckets(c->tl_msgs, last), "events",
							json_buckets(c->tl_events, last)));
	}
	json_object_set_new(o, "channels", a);
	return o;
}

void
inspect_report_json(const struct inspect *in, struct text_buf *b)
{
	json_t *root = json_object(), *a;
	char *s;

	json_object_set_new(root, "journal", json_string(in->opt.journal_name ? in->opt.journal_name : ""));
	json_object_set_new(root, "feed", json_string((in->opt.feed ? in->opt.feed : &feed_raw)->name));
	json_object_set_new(root, "selection", json_selection(in));
	json_object_set_new(root, "records", json_records(in));
	json_object_set_new(root, "summary", json_summary(in));
	json_object_set_new(root, "corruption", json_corruption(in));
	a = json_array();
	for (int i = 0; i < in->nconns; i++)
		json_array_append_new(a, json_conn(&in->conns[i]));
	json_object_set_new(root, "connections", a);
	json_object_set_new(root, "connections_total", jint(in->conns_total));
	json_object_set_new(root, "reconnects", json_reconnects(in));
	if (inspect_recorders_shown(in))
		json_object_set_new(root, "recorders", json_recorders(in));
	a = json_array();
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++)
		if (in->ch[i])
			json_array_append_new(a, json_channel(in->ch[i]));
	json_object_set_new(root, "channels", a);
	json_object_set_new(root, "stalls", json_stalls(in));
	/* the feed's figures */
	if (in->ops->report_json && in->ops->section)
		json_object_set_new(root, in->ops->section, in->ops->report_json(in->feed_state, &in->host));
	a = json_array();
	for (int i = 0; i < in->nfindings; i++)
		json_array_append_new(a, json_finding(&in->findings[i]));
	json_object_set_new(root, "findings", a);
	json_object_set_new(root, "timeline", json_timeline(in));

	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (s) {
		text_buf_adds(b, s);
		text_buf_adds(b, "\n");
		free(s);
	}
	json_decref(root);
}
