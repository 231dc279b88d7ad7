/* report.c - the inspect report: readable text (summary first, then tables) and JSON
 * (schema in docs/INSPECT.md) */
#include "inspect/internal.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *
tm(int64_t ns, char *buf)
{
	return text_format_time(ns, buf, 40);
}

static const char *
dur(int64_t ns, char *buf)
{
	inspect_fmt_dur(ns, buf, 32);
	return buf;
}

static const unsigned class_order[] = {
	INSPECT_GAPS, INSPECT_DUPS, INSPECT_OVERLAP, INSPECT_DISCONNECTS, INSPECT_POSITIONS,
	INSPECT_TIMING, INSPECT_MALFORMED,
};
#define NCLASSES (sizeof(class_order) / sizeof(class_order[0]))

static uint64_t
class_count(const struct inspect *in, unsigned cls)
{
	uint64_t n = 0;

	for (int t = 0; t < F_COUNT; t++)
		if (inspect_finding_info[t].cls == cls &&
		    !(t == F_NOT_JSON && in->opt.feed == FEED_RAW))
			n += in->count[t];
	return n;
}

/* What the selection cut, in words: "1 position open at its end, 2 replays". */
static void
text_cut(const struct inspect *in, struct text_buf *b)
{
	const struct {
		uint64_t n;
		const char *one, *many;
	} parts[] = {
		{ in->cut_positions_open, "position open at its end", "positions open at its end" },
		{ in->cut_position_events, "event for a position opened before it",
		  "events for positions opened before it" },
		{ in->cut_replays, "replay begun before it or going on at its end",
		  "replays begun before it or going on at its end" },
		{ in->cut_downtime, "downtime covered by such a replay", "downtimes covered by such a replay" },
		{ in->cut_pings, "ping at its end", "pings at its end" },
		{ in->cut_reconnects, "reconnect whose attempt number is before it",
		  "reconnects whose attempt number is before it" },
	};
	int k = 0;

	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (!parts[i].n)
			continue;
		if (!k++)
			text_buf_addf(b, "  %-12s by the selection, not findings: ", "cut");
		else
			text_buf_adds(b, ", ");
		text_buf_addf(b, "%" PRIu64 " %s", parts[i].n, parts[i].n == 1 ? parts[i].one : parts[i].many);
	}
	if (k)
		text_buf_adds(b, "\n");
}

static void
text_summary(const struct inspect *in, struct text_buf *b)
{
	unsigned found = inspect_classes(in);
	int n = 0;

	text_buf_adds(b, "summary\n  verdict      ");
	if (!found && !in->corrupt)
		text_buf_adds(b, "clean");
	for (size_t i = 0; i < NCLASSES; i++) {
		if (found & class_order[i]) {
			text_buf_addf(b, "%s%s", n++ ? ", " : "", inspect_class_name(class_order[i]));
		}
	}
	if (in->corrupt)
		text_buf_addf(b, "%sjournal corrupt", n++ ? ", " : "");
	if (n)
		text_buf_adds(b, " found");
	text_buf_adds(b, "\n");
	for (size_t i = 0; i < NCLASSES; i++) {
		uint64_t total = class_count(in, class_order[i]);
		int k = 0;

		if (!total)
			continue;
		text_buf_addf(b, "  %-12s %" PRIu64 ":", inspect_class_name(class_order[i]), total);
		for (int t = 0; t < F_COUNT; t++)
			if (inspect_finding_info[t].cls == class_order[i] && in->count[t])
				text_buf_addf(b, "%s %s %" PRIu64, k++ ? "," : "", inspect_finding_info[t].name,
					      in->count[t]);
		text_buf_adds(b, "\n");
	}
	{
		uint64_t shared = 0, late = 0, events = 0;

		for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
			if (!in->ch[i])
				continue;
			shared += in->ch[i]->shared_key_events;
			late += in->ch[i]->late_events;
			events += in->ch[i]->events;
		}
		if (events)
			text_buf_addf(b, "  %-12s %" PRIu64 " (%" PRIu64 " shared a dedup key with a different"
				      " event: same transaction, not duplicates; %" PRIu64 " older than one"
				      " already seen)\n", "events", events, shared, late);
	}
	if (in->seq_missing) {
		int k = 0;

		text_buf_addf(b, "  %-12s %" PRIu64 " message%s by seq (", "missing", in->seq_missing,
			      in->seq_missing == 1 ? "" : "s");
		for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++)
			if (in->ch[i] && in->ch[i]->seq_missing)
				text_buf_addf(b, "%s%.*s %" PRIu64, k++ ? ", " : "", (int)in->ch[i]->name_len,
					      in->ch[i]->name, in->ch[i]->seq_missing);
		text_buf_adds(b, ")\n");
	}
	if (in->not_json)
		text_buf_addf(b, "  %-12s %" PRIu64 " payload%s\n", "not JSON", in->not_json,
			      in->not_json > 1 ? "s" : "");
	text_cut(in, b);
	if (in->corrupt) {
		char tail[64] = "";

		if (in->corrupt_segment)
			text_buf_addf(b, "  %-12s %s at segment %" PRIu32 " offset %" PRIu64 "%s%s\n", "corruption",
				      journal_strerror(in->corrupt_err), in->corrupt_segment, in->corrupt_offset,
				      *in->corrupt_detail ? ": " : "", in->corrupt_detail);
		else    /* no place in a segment: a segment cut short */
			text_buf_addf(b, "  %-12s %s%s%s\n", "corruption", journal_strerror(in->corrupt_err),
				      *in->corrupt_detail ? ": " : "", in->corrupt_detail);
		if (in->corrupt_tail_from)      /* a missing tail of unknown length */
			snprintf(tail, sizeof(tail), "%sthe records from #%" PRIu64 " on",
				 in->corrupt_records ? ", and " : "", in->corrupt_tail_from);
		if (in->corrupt_records) {
			uint64_t ranges = in->corrupt_ranges - (in->corrupt_tail_from != 0);

			text_buf_addf(b, "  %-12s %" PRIu64 " record%s in %" PRIu64 " range%s (first #%" PRIu64
				      "..#%" PRIu64 ")%s; everything else is reported\n", "unreadable",
				      in->corrupt_records, in->corrupt_records == 1 ? "" : "s", ranges,
				      ranges == 1 ? "" : "s", in->corrupt_first, in->corrupt_last, tail);
		} else if (in->corrupt_tail_from) {
			text_buf_addf(b, "  %-12s %s; everything else is reported\n", "unreadable", tail);
		} else
			text_buf_addf(b, "  %-12s the records before it are reported\n", "unreadable");
	}
}

static void
text_connections(const struct inspect *in, struct text_buf *b)
{
	char t1[40], d1[32], d2[32];

	if (!in->nconns)
		return;
	text_buf_addf(b, "\nconnections (%" PRIu64 ")\n", in->conns_total);
	text_buf_addf(b, "  %-5s %-9s %-30s %-9s %-9s %-6s %-10s %-11s %-12s %s\n", "conn", "first",
		      "opened", "records", "closed by", "code", "duration", "downtime", "session",
		      "reason / error");
	for (int i = 0; i < in->nconns; i++) {
		const struct conn *c = &in->conns[i];
		char first[24], recs[24], code[12], by[16];
		int64_t start = c->open_ns ? c->open_ns : c->first_ns;
		int64_t end = c->close_ns ? c->close_ns : c->last_ns;

		snprintf(first, sizeof(first), "#%" PRIu64, c->first_recno);
		snprintf(recs, sizeof(recs), "%" PRIu64, c->records);
		if (c->close_code >= 0)
			snprintf(code, sizeof(code), "%d", c->close_code);
		else
			snprintf(code, sizeof(code), "-");
		snprintf(by, sizeof(by), "%s", c->close_recno ? c->close_by : (c->ok ? "(no close)" : "-"));
		text_buf_addf(b, "  %-5" PRIu32 " %-9s %-30s %-9s %-9s %-6s %-10s %-11s %-12s %s\n", c->id,
			      first, c->ok ? tm(start, t1) : "(failed)", recs, by, code,
			      c->ok ? dur(end - start, d1) : "-",
			      c->downtime_after_ns >= 0 ? dur(c->downtime_after_ns, d2) : "-",
			      *c->session ? c->session : "-", c->ok ? c->close_reason : c->error);
	}
	if (in->conns_dropped)
		text_buf_addf(b, "  ... %" PRIu64 " more connections not kept in detail\n", in->conns_dropped);
	if (in->nrcs) {
		text_buf_addf(b, "\nreconnects (%" PRIu64 ")\n", in->rcs_total);
		text_buf_addf(b, "  %-8s %-6s %-9s %-10s %-9s %-9s %s\n", "attempt", "conn", "record",
			      "scheduled", "expected", "actual", "backoff");
		for (int i = 0; i < in->nrcs; i++) {
			const struct reconnect *r = &in->rcs[i];
			char rec[24], st[24], ex[24], ac[24];

			snprintf(rec, sizeof(rec), "#%" PRIu64, r->recno);
			snprintf(st, sizeof(st), r->stated_ms >= 0 ? "%" PRId64 "ms" : "-", r->stated_ms);
			snprintf(ex, sizeof(ex), r->expected_ms >= 0 ? "%" PRId64 "ms" : "-", r->expected_ms);
			snprintf(ac, sizeof(ac), "%" PRId64 "ms", r->actual_ms);
			text_buf_addf(b, "  %-8d %-6" PRIu32 " %-9s %-10s %-9s %-9s %s\n", r->attempt,
				      r->to_conn, rec, st, ex, ac,
				      r->expected_ms < 0 ? "-" : r->off ? "OFF" : "ok");
		}
	}
}

static void
text_channels(const struct inspect *in, struct text_buf *b)
{
	char p50[32], p99[32], mx[32];
	int any = 0;

	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++)
		any |= in->ch[i] != NULL;
	if (!any)
		return;
	text_buf_adds(b, "\nchannels (received)\n");
	text_buf_addf(b, "  %-22s %9s %9s %7s %11s %9s %7s %10s %10s %10s %5s %5s\n", "channel",
		      "messages", "events", "replay", "bytes", "avg/s", "peak/s", "gap p50", "gap p99",
		      "gap max", "dups", "ovlp");
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		const struct channel *c = in->ch[i];
		double span, avg;
		char name[CH_NAME + 2];

		if (!c)
			continue;
		span = (double)(c->last_ns - c->first_ns) / 1e9;
		avg = span > 0 ? (double)(c->messages - 1) / span : 0;
		snprintf(name, sizeof(name), "%s", c->name_len ? c->name : "(none)");
		text_buf_addf(b, "  %-22s %9" PRIu64 " %9" PRIu64 " %7" PRIu64 " %11" PRIu64 " %9.1f %7" PRIu64
			      " %10s %10s %10s %5" PRIu64 " %5" PRIu64 "\n", name, c->messages, c->events,
			      c->replay_chunks, c->bytes, avg, c->peak_per_sec,
			      c->gaps.count ? dur((int64_t)inspect_hist_quantile(&c->gaps, 0.5), p50) : "-",
			      c->gaps.count ? dur((int64_t)inspect_hist_quantile(&c->gaps, 0.99), p99) : "-",
			      c->gaps.count ? dur((int64_t)c->gaps.max, mx) : "-",
			      c->dup_events + c->dup_frames, c->overlap_events);
	}
}

static void
text_lasersell(const struct inspect *in, struct text_buf *b)
{
	char a[32], c[32], d[32];

	if (in->opt.feed != FEED_LASERSELL)
		return;
	text_buf_adds(b, "\nlasersell\n");
	text_buf_addf(b, "  ping rtt     %" PRIu64 " pings, %" PRIu64 " pongs", in->pings, in->pongs);
	if (in->rtt.count)
		text_buf_addf(b, "; rtt p50 %s, p99 %s, max %s",
			      dur((int64_t)inspect_hist_quantile(&in->rtt, 0.5), a),
			      dur((int64_t)inspect_hist_quantile(&in->rtt, 0.99), c),
			      dur((int64_t)in->rtt.max, d));
	text_buf_addf(b, "; %" PRIu64 " unanswered\n", in->count[F_PING_UNANSWERED]);
	text_buf_addf(b, "  pnl_update   pnl_flush_ms %" PRId64 "; %" PRIu64 " intervals", in->pnl_flush_ms,
		      in->pnl_gap.count);
	if (in->pnl_gap.count)
		text_buf_addf(b, ", p50 %s, p99 %s, max %s",
			      dur((int64_t)inspect_hist_quantile(&in->pnl_gap, 0.5), a),
			      dur((int64_t)inspect_hist_quantile(&in->pnl_gap, 0.99), c),
			      dur((int64_t)in->pnl_gap.max, d));
	text_buf_addf(b, "; %" PRIu64 " above 2x pnl_flush_ms\n", in->count[F_PNL_LATE]);
	text_buf_addf(b, "  positions    %" PRIu64 " opened, %" PRIu64 " closed, %" PRIu64
		       " never closed; %" PRIu64 " event(s) for unknown positions\n", in->pos_opened,
		      in->pos_closed, in->count[F_POSITION_OPEN], in->pos_unknown_events);
	if (in->pos_dropped)
		text_buf_addf(b, "  ... %" PRIu64 " position(s) not tracked: more than %d open at once\n",
			      in->pos_dropped, INSPECT_MAX_POSITIONS * 3 / 4);
}

static void
text_stalls(const struct inspect *in, struct text_buf *b)
{
	char t1[40], d1[32];

	if (!in->nstalls)
		return;
	text_buf_addf(b, "\nlargest stalls (above %s)\n", dur(in->opt.stall_ns, d1));
	for (int i = 0; i < in->nstalls; i++) {
		const struct stall *s = &in->stalls[i];

		text_buf_addf(b, "  %-10s conn %-4" PRIu32 " #%" PRIu64 " -> #%" PRIu64 "  resumed %s\n",
			      dur(s->dur_ns, d1), s->conn, s->recno_before, s->recno, tm(s->ns, t1));
	}
}

static void
text_findings(const struct inspect *in, struct text_buf *b)
{
	char t1[40];
	uint64_t total = 0, dropped = 0;

	for (int t = 0; t < F_COUNT; t++) {
		total += in->count[t];
		dropped += in->count[t] - in->kept[t];
	}
	if (!in->nfindings)
		return;
	text_buf_addf(b, "\nfindings (%" PRIu64 ")\n", total);
	for (int i = 0; i < in->nfindings; i++) {
		const struct finding *f = &in->findings[i];

		text_buf_addf(b, "  #%-7" PRIu64 " %s  %-12s %-20s %s\n", f->recno, tm(f->ns, t1),
			      inspect_class_name(inspect_finding_info[f->type].cls),
			      inspect_finding_info[f->type].name, f->msg);
	}
	if (dropped)
		text_buf_addf(b, "  ... %" PRIu64 " more (the first %d of each type are listed)\n", dropped,
			      INSPECT_KEEP_FINDINGS);
}

#define TEXT_TIMELINE_CHANNELS 8        /* columns of channels in the text; all in JSON */
#define TEXT_CHANNEL_WIDTH 24

static void
text_timeline(const struct inspect *in, struct text_buf *b)
{
	const struct channel *cols[TEXT_TIMELINE_CHANNELS];
	int w[TEXT_TIMELINE_CHANNELS];
	char t1[40], d1[32];
	int last = -1, ncols = 0, nch = 0;

	for (int i = 0; i < INSPECT_TIMELINE; i++)
		if (in->tl_msgs[i])
			last = i;
	if (last < 0)
		return;
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		if (!in->ch[i])
			continue;
		nch++;
		if (ncols < TEXT_TIMELINE_CHANNELS) {
			size_t n = in->ch[i]->name_len ? in->ch[i]->name_len : 6;   /* "(none)" */

			w[ncols] = n > TEXT_CHANNEL_WIDTH ? TEXT_CHANNEL_WIDTH : n < 9 ? 9 : (int)n;
			cols[ncols++] = in->ch[i];
		}
	}
	text_buf_addf(b, "\nrate over time (per %s; then messages per channel", dur(in->tl_width, d1));
	if (nch > ncols)
		text_buf_addf(b, ", the first %d of %d: all in --json", ncols, nch);
	text_buf_adds(b, ")\n");
	text_buf_addf(b, "  %-30s %9s %9s", "from", "messages", "events");
	for (int c = 0; c < ncols; c++) {
		char name[CH_NAME + 2];

		snprintf(name, sizeof(name), "%s", cols[c]->name_len ? cols[c]->name : "(none)");
		text_buf_addf(b, " %*.*s", w[c], w[c], name);
	}
	text_buf_adds(b, "\n");
	for (int i = 0; i <= last; i++) {
		int k = i;

		while (k + 1 <= last && !in->tl_msgs[k] && !in->tl_msgs[k + 1])
			k++;
		text_buf_addf(b, "  %-30s %9" PRIu64 " %9" PRIu64,
			      tm(in->tl_start + (int64_t)i * in->tl_width, t1), in->tl_msgs[i], in->tl_events[i]);
		for (int c = 0; c < ncols; c++)
			text_buf_addf(b, " %*" PRIu64, w[c], cols[c]->tl_msgs[i]);
		if (k > i) {
			/* a quiet stretch: one line */
			text_buf_addf(b, "  (quiet for %s)", dur((int64_t)(k - i + 1) * in->tl_width, d1));
			i = k;
		}
		text_buf_adds(b, "\n");
	}
}

void
inspect_report_text(const struct inspect *in, struct text_buf *b)
{
	char t1[40], t2[40], d1[32];

	text_buf_addf(b, "journal      %s (feed %s)\n", in->opt.journal_name ? in->opt.journal_name : "-",
		      feed_name(in->opt.feed));
	if (in->records) {
		text_buf_addf(b, "records      #%" PRIu64 "..#%" PRIu64 ": %" PRIu64 " (%" PRIu64 " received frames, %"
			      PRIu64 " sent, %" PRIu64 " connection events), %" PRIu64 " payload bytes\n",
			      in->first_recno, in->last_recno, in->records, in->in_frames, in->out_frames,
			      in->by_kind[JOURNAL_OPEN] + in->by_kind[JOURNAL_CLOSE] + in->by_kind[JOURNAL_ERROR],
			      in->bytes);
		text_buf_addf(b, "time         %s .. %s (%s)\n", tm(in->first_ns, t1), tm(in->last_ns, t2),
			      dur(in->last_ns - in->first_ns, d1));
	} else {
		text_buf_adds(b, "records      none selected\n");
	}
	if (in->opt.channel || in->opt.conn_set || in->opt.from_ns || in->opt.to_ns) {
		text_buf_adds(b, "selection   ");
		if (in->opt.channel)
			text_buf_addf(b, " channel %s", in->opt.channel);
		if (in->opt.conn_set)
			text_buf_addf(b, " conn %" PRIu32, in->opt.conn);
		if (in->opt.from_ns)
			text_buf_addf(b, " from %s", tm(in->opt.from_ns, t1));
		if (in->opt.to_ns)
			text_buf_addf(b, " to %s", tm(in->opt.to_ns, t1));
		text_buf_adds(b, "\n");
	}
	text_buf_adds(b, "\n");
	text_summary(in, b);
	text_connections(in, b);
	text_channels(in, b);
	text_lasersell(in, b);
	text_stalls(in, b);
	text_findings(in, b);
	text_timeline(in, b);
}

/* --- JSON --- */

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
jhist(const struct inspect_hist *h)
{
	if (!h->count)
		return json_null();
	return json_pack("{s:I, s:o, s:o, s:o, s:o}", "count", (json_int_t)h->count,
			 "p50_ms", jms((int64_t)inspect_hist_quantile(h, 0.5)),
			 "p99_ms", jms((int64_t)inspect_hist_quantile(h, 0.99)),
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

void
inspect_report_json(const struct inspect *in, struct text_buf *b)
{
	json_t *root = json_object(), *a, *o;
	unsigned found = inspect_classes(in);
	char *s;

	json_object_set_new(root, "journal", json_string(in->opt.journal_name ? in->opt.journal_name : ""));
	json_object_set_new(root, "feed", json_string(feed_name(in->opt.feed)));
	o = json_object();
	if (in->opt.channel)
		json_object_set_new(o, "channel", json_string(in->opt.channel));
	if (in->opt.conn_set)
		json_object_set_new(o, "conn", json_integer(in->opt.conn));
	if (in->opt.from_ns)
		json_object_set_new(o, "from", jtime(in->opt.from_ns));
	if (in->opt.to_ns)
		json_object_set_new(o, "to", jtime(in->opt.to_ns));
	json_object_set_new(o, "stall_ms", jms(in->opt.stall_ns));
	json_object_set_new(o, "cut", json_pack("{s:b, s:b, s:I, s:I, s:I, s:I, s:I, s:I}",
		"start", in->cut_before || in->cut_conns_before, "end", in->cut_after || in->cut_conns,
		"positions_open", (json_int_t)in->cut_positions_open,
		"position_events", (json_int_t)in->cut_position_events,
		"replays", (json_int_t)in->cut_replays, "downtime", (json_int_t)in->cut_downtime,
		"pings", (json_int_t)in->cut_pings, "reconnects", (json_int_t)in->cut_reconnects));
	json_object_set_new(root, "selection", o);

	o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "count", (json_int_t)in->records,
		      "first", (json_int_t)in->first_recno, "last", (json_int_t)in->last_recno,
		      "received_frames", (json_int_t)in->in_frames, "sent_frames", (json_int_t)in->out_frames,
		      "payload_bytes", (json_int_t)in->bytes, "not_json", (json_int_t)in->not_json);
	a = json_object();
	for (int k = 0; k <= JOURNAL_KIND_MAX; k++)
		if (in->by_kind[k])
			json_object_set_new(a, journal_kind_name(k), json_integer((json_int_t)in->by_kind[k]));
	json_object_set_new(o, "by_kind", a);
	if (in->records) {
		json_object_set_new(o, "first_time", jtime(in->first_ns));
		json_object_set_new(o, "last_time", jtime(in->last_ns));
		json_object_set_new(o, "duration_ms", jms(in->last_ns - in->first_ns));
	}
	json_object_set_new(root, "records", o);

	o = json_object();
	json_object_set_new(o, "clean", json_boolean(!found && !in->corrupt));
	a = json_array();
	for (size_t i = 0; i < NCLASSES; i++)
		if (found & class_order[i])
			json_array_append_new(a, json_string(inspect_class_name(class_order[i])));
	json_object_set_new(o, "found", a);
	a = json_object();
	for (size_t i = 0; i < NCLASSES; i++)
		json_object_set_new(a, inspect_class_name(class_order[i]),
				    json_integer((json_int_t)class_count(in, class_order[i])));
	json_object_set_new(o, "classes", a);
	a = json_object();
	for (int t = 0; t < F_COUNT; t++)
		json_object_set_new(a, inspect_finding_info[t].name, json_integer((json_int_t)in->count[t]));
	json_object_set_new(o, "counts", a);
	/* what the seq numbers say was lost (seq_gap and seq_start findings), overall and per
	   channel, so that CI reads it without parsing messages */
	a = json_object();
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		const struct channel *c = in->ch[i];
		json_t *name;

		if (!c || !c->seq_missing)
			continue;
		name = jstrn(c->name, c->name_len);
		if (name && json_string_value(name))
			json_object_set_new(a, json_string_value(name), json_integer((json_int_t)c->seq_missing));
		json_decref(name);
	}
	json_object_set_new(o, "missing", json_pack("{s:I, s:o}", "messages", (json_int_t)in->seq_missing,
						     "channels", a));
	json_object_set_new(root, "summary", o);

	if (in->corrupt) {
		o = json_pack("{s:s, s:I, s:I, s:s, s:I, s:I, s:I}",
			"error", journal_strerror(in->corrupt_err), "segment", (json_int_t)in->corrupt_segment,
			"offset", (json_int_t)in->corrupt_offset, "detail", in->corrupt_detail,
			"unreadable_ranges", (json_int_t)in->corrupt_ranges,
			"unreadable_records", (json_int_t)in->corrupt_records,
			"first_unreadable", (json_int_t)in->corrupt_first);
		/* a first range that is a tail of unknown length has no last record */
		json_object_set_new(o, "last_unreadable",
				    in->corrupt_last ? json_integer((json_int_t)in->corrupt_last) : json_null());
		json_object_set_new(o, "missing_from",
				    in->corrupt_tail_from ? json_integer((json_int_t)in->corrupt_tail_from) : json_null());
		json_object_set_new(root, "corruption", o);
	}
	else
		json_object_set_new(root, "corruption", json_null());

	a = json_array();
	for (int i = 0; i < in->nconns; i++) {
		const struct conn *c = &in->conns[i];

		o = json_pack("{s:I, s:I, s:I, s:I, s:b}", "conn", (json_int_t)c->id,
			      "first_record", (json_int_t)c->first_recno, "last_record", (json_int_t)c->last_recno,
			      "records", (json_int_t)c->records, "ok", c->ok);
		if (c->open_recno) {
			json_object_set_new(o, "open_record", json_integer((json_int_t)c->open_recno));
			json_object_set_new(o, "open_time", jtime(c->open_ns));
			json_object_set_new(o, "status", json_integer(c->status));
		}
		if (c->close_recno) {
			json_object_set_new(o, "close_record", json_integer((json_int_t)c->close_recno));
			json_object_set_new(o, "close_time", jtime(c->close_ns));
			json_object_set_new(o, "close_code", json_integer(c->close_code));
			json_object_set_new(o, "close_reason", json_string(c->close_reason));
			json_object_set_new(o, "closed_by", json_string(c->close_by));
		}
		if (c->ok)
			json_object_set_new(o, "duration_ms", jms((c->close_ns ? c->close_ns : c->last_ns) -
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
		json_object_set_new(o, "replays", json_integer(c->replays));
		json_object_set_new(o, "replays_complete", json_integer(c->replays_complete));
		json_object_set_new(o, "replays_with_gap", json_integer(c->replays_gap));
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "connections", a);
	json_object_set_new(root, "connections_total", json_integer((json_int_t)in->conns_total));

	a = json_array();
	for (int i = 0; i < in->nrcs; i++) {
		const struct reconnect *r = &in->rcs[i];

		o = json_pack("{s:i, s:I, s:I, s:I, s:o, s:I}", "attempt", r->attempt,
			      "from_conn", (json_int_t)r->from_conn, "to_conn", (json_int_t)r->to_conn,
			      "record", (json_int_t)r->recno, "time", jtime(r->ns),
			      "actual_ms", (json_int_t)r->actual_ms);
		json_object_set_new(o, "scheduled_ms", r->stated_ms >= 0 ? json_integer(r->stated_ms) : json_null());
		json_object_set_new(o, "expected_ms", r->expected_ms >= 0 ? json_integer(r->expected_ms) : json_null());
		json_object_set_new(o, "backoff_ok", r->expected_ms >= 0 ? json_boolean(!r->off) : json_null());
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "reconnects", a);

	a = json_array();
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		const struct channel *c = in->ch[i];
		double span;

		if (!c)
			continue;
		span = (double)(c->last_ns - c->first_ns) / 1e9;
		o = json_object();
		json_object_set_new(o, "channel", jstrn(c->name, c->name_len));
		json_object_set_new(o, "messages", json_integer((json_int_t)c->messages));
		json_object_set_new(o, "events", json_integer((json_int_t)c->events));
		json_object_set_new(o, "replay_chunks", json_integer((json_int_t)c->replay_chunks));
		json_object_set_new(o, "replay_events", json_integer((json_int_t)c->replay_events));
		json_object_set_new(o, "bytes", json_integer((json_int_t)c->bytes));
		json_object_set_new(o, "first_record", json_integer((json_int_t)c->first_recno));
		json_object_set_new(o, "last_record", json_integer((json_int_t)c->last_recno));
		json_object_set_new(o, "first_time", jtime(c->first_ns));
		json_object_set_new(o, "last_time", jtime(c->last_ns));
		json_object_set_new(o, "rate_avg", json_real(span > 0 ? (double)(c->messages - 1) / span : 0));
		json_object_set_new(o, "rate_peak", json_integer((json_int_t)c->peak_per_sec));
		json_object_set_new(o, "interarrival", jhist(&c->gaps));
		json_object_set_new(o, "dup_events", json_integer((json_int_t)c->dup_events));
		json_object_set_new(o, "dup_frames", json_integer((json_int_t)c->dup_frames));
		json_object_set_new(o, "overlap_events", json_integer((json_int_t)c->overlap_events));
		json_object_set_new(o, "shared_key_events", json_integer((json_int_t)c->shared_key_events));
		json_object_set_new(o, "late_events", json_integer((json_int_t)c->late_events));
		json_object_set_new(o, "seq_missing", json_integer((json_int_t)c->seq_missing));
		json_object_set_new(o, "not_json", json_integer((json_int_t)c->not_json));
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "channels", a);

	a = json_array();
	for (int i = 0; i < in->nstalls; i++)
		json_array_append_new(a, json_pack("{s:o, s:I, s:I, s:I, s:o}", "duration_ms",
			jms(in->stalls[i].dur_ns), "conn", (json_int_t)in->stalls[i].conn,
			"record_before", (json_int_t)in->stalls[i].recno_before,
			"record", (json_int_t)in->stalls[i].recno, "time", jtime(in->stalls[i].ns)));
	json_object_set_new(root, "stalls", a);

	if (in->opt.feed == FEED_LASERSELL) {
		o = json_object();
		json_object_set_new(o, "pings", json_integer((json_int_t)in->pings));
		json_object_set_new(o, "pongs", json_integer((json_int_t)in->pongs));
		json_object_set_new(o, "rtt", jhist(&in->rtt));
		json_object_set_new(o, "pnl_flush_ms", in->pnl_flush_ms >= 0 ? json_integer(in->pnl_flush_ms) : json_null());
		json_object_set_new(o, "pnl_interval", jhist(&in->pnl_gap));
		json_object_set_new(o, "pnl_late", json_integer((json_int_t)in->count[F_PNL_LATE]));
		json_object_set_new(o, "positions_opened", json_integer((json_int_t)in->pos_opened));
		json_object_set_new(o, "positions_closed", json_integer((json_int_t)in->pos_closed));
		json_object_set_new(o, "positions_never_closed", json_integer((json_int_t)in->count[F_POSITION_OPEN]));
		json_object_set_new(o, "unknown_position_events", json_integer((json_int_t)in->pos_unknown_events));
		json_object_set_new(o, "positions_not_tracked", json_integer((json_int_t)in->pos_dropped));
		json_object_set_new(root, "lasersell", o);
	}

	a = json_array();
	for (int i = 0; i < in->nfindings; i++) {
		const struct finding *f = &in->findings[i];

		o = json_pack("{s:s, s:s, s:I, s:o, s:I}", "class",
			      inspect_class_name(inspect_finding_info[f->type].cls), "type",
			      inspect_finding_info[f->type].name, "record", (json_int_t)f->recno,
			      "time", jtime(f->ns), "conn", (json_int_t)f->conn);
		if (f->recno_before)
			json_object_set_new(o, "record_before", json_integer((json_int_t)f->recno_before));
		if (*f->channel)
			json_object_set_new(o, "channel", json_string(f->channel));
		if (f->dur_ns)
			json_object_set_new(o, "duration_ms", jms(f->dur_ns));
		if (f->type == F_SEQ_GAP || f->type == F_SEQ_START)
			json_object_set_new(o, "missing", json_integer((json_int_t)f->missing));
		json_object_set_new(o, "message", json_string(f->msg));
		json_array_append_new(a, o);
	}
	json_object_set_new(root, "findings", a);

	o = json_object();
	json_object_set_new(o, "start", in->tl_start ? jtime(in->tl_start) : json_null());
	json_object_set_new(o, "bucket_ms", jms(in->tl_width));
	{
		json_t *m = json_array(), *e = json_array();
		int last = -1;

		for (int i = 0; i < INSPECT_TIMELINE; i++)
			if (in->tl_msgs[i])
				last = i;
		for (int i = 0; i <= last; i++) {
			json_array_append_new(m, json_integer((json_int_t)in->tl_msgs[i]));
			json_array_append_new(e, json_integer((json_int_t)in->tl_events[i]));
		}
		json_object_set_new(o, "messages", m);
		json_object_set_new(o, "events", e);
		/* per channel, the same buckets */
		a = json_array();
		for (int k = 0; k <= INSPECT_MAX_CHANNELS; k++) {
			const struct channel *c = in->ch[k];
			json_t *cm, *ce;

			if (!c)
				continue;
			cm = json_array();
			ce = json_array();
			for (int i = 0; i <= last; i++) {
				json_array_append_new(cm, json_integer((json_int_t)c->tl_msgs[i]));
				json_array_append_new(ce, json_integer((json_int_t)c->tl_events[i]));
			}
			json_array_append_new(a, json_pack("{s:o, s:o, s:o}", "channel", jstrn(c->name, c->name_len),
							   "messages", cm, "events", ce));
		}
		json_object_set_new(o, "channels", a);
	}
	json_object_set_new(root, "timeline", o);

	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	if (s) {
		text_buf_adds(b, s);
		text_buf_adds(b, "\n");
		free(s);
	}
	json_decref(root);
}
