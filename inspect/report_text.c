/* report_text.c - the inspect report as readable text: the summary first, then the tables
 * (connections, reconnects, channels, the feed's figures, stalls, findings, the rate over
 * time) */
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

#define NCLASSES inspect_nclasses
#define class_order inspect_class_order
#define class_count inspect_class_count

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
		{ in->cut_downtime, "downtime covered by such a replay",
		  "downtimes covered by such a replay" },
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
		text_buf_addf(b, "%" PRIu64 " %s", parts[i].n,
			      parts[i].n == 1 ? parts[i].one : parts[i].many);
	}
	if (k)
		text_buf_adds(b, "\n");
}

static void
summary_verdict(const struct inspect *in, struct text_buf *b)
{
	unsigned found = inspect_classes(in);
	int n = 0;

	text_buf_adds(b, "summary\n  verdict      ");
	if (!found && !in->corrupt)
		text_buf_adds(b, "clean");
	for (size_t i = 0; i < NCLASSES; i++)
		if (found & class_order[i])
			text_buf_addf(b, "%s%s", n++ ? ", " : "", inspect_class_name(class_order[i]));
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
				text_buf_addf(b, "%s %s %" PRIu64, k++ ? "," : "",
					      inspect_finding_info[t].name, in->count[t]);
		text_buf_adds(b, "\n");
	}
}

/* Events, what the seq numbers say was lost, payloads that are not JSON. */
static void
summary_counts(const struct inspect *in, struct text_buf *b)
{
	uint64_t shared = 0, late = 0, events = 0;
	int k = 0;

	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		if (!in->ch[i])
			continue;
		shared += in->ch[i]->shared_key_events;
		late += in->ch[i]->late_events;
		events += in->ch[i]->events;
	}
	if (events)
		text_buf_addf(b,
			      "  %-12s %" PRIu64 " (%" PRIu64 " shared a dedup key with a different"
			      " event: same transaction, not duplicates; %" PRIu64 " older than one"
			      " already seen)\n",
			      "events", events, shared, late);
	if (in->seq_missing) {
		text_buf_addf(b, "  %-12s %" PRIu64 " message%s by seq (", "missing", in->seq_missing,
			      in->seq_missing == 1 ? "" : "s");
		for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++)
			if (in->ch[i] && in->ch[i]->seq_missing)
				text_buf_addf(b, "%s%.*s %" PRIu64, k++ ? ", " : "", (int)in->ch[i]->name_len,
					      in->ch[i]->name, in->ch[i]->seq_missing);
		text_buf_adds(b, ")\n");
	}
	if (inspect_merged(in) && in->ops->seq)
		text_buf_addf(
			b, "  %-12s not judged: merged from %d recorders; see each recorder's own journal\n",
			"seq", inspect_merged(in));
	if (in->not_json)
		text_buf_addf(b, "  %-12s %" PRIu64 " payload%s\n", "not JSON", in->not_json,
			      in->not_json > 1 ? "s" : "");
}

static void
summary_corruption(const struct inspect *in, struct text_buf *b)
{
	char tail[64] = "";

	if (!in->corrupt)
		return;
	if (in->corrupt_segment)
		text_buf_addf(b, "  %-12s %s at segment %" PRIu32 " offset %" PRIu64 "%s%s\n", "corruption",
			      journal_strerror(in->corrupt_err), in->corrupt_segment, in->corrupt_offset,
			      *in->corrupt_detail ? ": " : "", in->corrupt_detail);
	else /* no place in a segment: a segment cut short */
		text_buf_addf(b, "  %-12s %s%s%s\n", "corruption", journal_strerror(in->corrupt_err),
			      *in->corrupt_detail ? ": " : "", in->corrupt_detail);
	if (in->corrupt_tail_from) /* a missing tail of unknown length */
		snprintf(tail, sizeof(tail), "%sthe records from #%" PRIu64 " on",
			 in->corrupt_records ? ", and " : "", in->corrupt_tail_from);
	if (in->corrupt_records) {
		uint64_t ranges = in->corrupt_ranges - (in->corrupt_tail_from != 0);

		text_buf_addf(b,
			      "  %-12s %" PRIu64 " record%s in %" PRIu64 " range%s (first #%" PRIu64
			      "..#%" PRIu64 ")%s; everything else is reported\n",
			      "unreadable", in->corrupt_records, in->corrupt_records == 1 ? "" : "s", ranges,
			      ranges == 1 ? "" : "s", in->corrupt_first, in->corrupt_last, tail);
	} else if (in->corrupt_tail_from) {
		text_buf_addf(b, "  %-12s %s; everything else is reported\n", "unreadable", tail);
	} else
		text_buf_addf(b, "  %-12s the records before it are reported\n", "unreadable");
}

static void
text_summary(const struct inspect *in, struct text_buf *b)
{
	summary_verdict(in, b);
	summary_counts(in, b);
	text_cut(in, b);
	summary_corruption(in, b);
}

static void
text_connections(const struct inspect *in, struct text_buf *b)
{
	char t1[40], d1[32], d2[32];
	int rw = 0; /* the width of the recorder column, 0: none */

	if (!in->nconns)
		return;
	for (int i = 0; i < in->nconns && !rw; i++)
		if (*in->conns[i].recorder)
			rw = 8;
	for (int i = 0; i < in->nconns && rw; i++)
		if ((int)strlen(in->conns[i].recorder) > rw)
			rw = (int)strlen(in->conns[i].recorder);
	text_buf_addf(b, "\nconnections (%" PRIu64 ")\n", in->conns_total);
	if (rw) /* a merged journal: who received each connection */
		text_buf_addf(b, "  %-5s %-*s", "conn", rw, "recorder");
	else
		text_buf_addf(b, "  %-5s", "conn");
	text_buf_addf(b, " %-9s %-30s %-9s %-9s %-6s %-10s %-11s %-12s %s\n", "first", "opened", "records",
		      "closed by", "code", "duration", "downtime", "session", "reason / error");
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
		text_buf_addf(b, "  %-5" PRIu32, c->id);
		if (rw)
			text_buf_addf(b, " %-*s", rw, *c->recorder ? c->recorder : "-");
		text_buf_addf(b, " %-9s %-30s %-9s %-9s %-6s %-10s %-11s %-12s %s\n", first,
			      c->ok ? tm(start, t1) : "(failed)", recs, by, code,
			      c->ok ? dur(end - start, d1) : "-",
			      c->downtime_after_ns >= 0 ? dur(c->downtime_after_ns, d2) : "-",
			      *c->session ? c->session : "-", c->ok ? c->close_reason : c->error);
	}
	if (in->conns_dropped)
		text_buf_addf(b, "  ... %" PRIu64 " more connections not kept in detail\n",
			      in->conns_dropped);
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
				      r->expected_ms < 0 ? "-"
					      : r->off   ? "OFF"
							 : "ok");
		}
	}
}

/* What filled a span: "b (conn 3: 412 messages), c (conn 5: 1 message)". */
static void
text_fillers(const struct inspect *in, const struct rc_span *p, struct text_buf *b)
{
	for (int k = 0; k < p->nfill; k++) {
		const struct rc_fill *f = &p->fill[k];

		text_buf_addf(b, "%s%s (conn %" PRIu32 ": %" PRIu64 " message%s)", k ? ", " : "",
			      f->rec >= 0 ? in->rc->r[f->rec]->id : "?", f->conn, f->messages,
			      f->messages == 1 ? "" : "s");
	}
	if (p->more_messages)
		text_buf_addf(b, ", and %" PRIu64 " messages of more connections", p->more_messages);
}

/* Per recorder of a merged journal: its connections, data messages, the spans it had no
 * connection in and who filled them. */
static void
text_recorders(const struct inspect *in, struct text_buf *b)
{
	const struct inspect_recorders *s = in->rc;
	char t1[40], t2[40], d1[32];

	if (!inspect_recorders_shown(in))
		return;
	text_buf_addf(b, "\nrecorders (%d; spans without a connection of %s or more)\n", s->n,
		      dur(s->min_span_ns, d1));
	for (int i = 0; i < s->n; i++) {
		const struct recorder *r = s->r[i];
		int k = 0;

		text_buf_addf(b, "  %s: %" PRIu64 " connection%s (", r->id, r->conns,
			      r->conns == 1 ? "" : "s");
		for (int c = 0; c < s->nconns; c++) {
			if (s->conns[c].rec != i)
				continue;
			if (k == 20) {
				text_buf_adds(b, ", ...");
				break;
			}
			text_buf_addf(b, "%s%" PRIu32, k++ ? ", " : "", s->conns[c].id);
		}
		text_buf_addf(b, "), %" PRIu64 " data message%s, %" PRIu64 " span%s without a connection\n",
			      r->messages, r->messages == 1 ? "" : "s", r->spans_total,
			      r->spans_total == 1 ? "" : "s");
		for (int k2 = 0; k2 < r->nspans; k2++) {
			const struct rc_span *p = &r->spans[k2];

			text_buf_addf(b, "    %s .. %s (%s): ", tm(p->from_ns, t1), tm(p->to_ns, t2),
				      dur(p->to_ns - p->from_ns, d1));
			if (p->nfill || p->more_messages) {
				text_buf_adds(b, "filled by ");
				text_fillers(in, p, b);
			} else {
				text_buf_adds(b, "not filled");
			}
			text_buf_adds(b, "\n");
		}
		if (r->spans_total > (uint64_t)r->nspans)
			text_buf_addf(b, "    ... %" PRIu64 " more spans (the first %d are listed)\n",
				      r->spans_total - (uint64_t)r->nspans, RECORDER_SPANS);
	}
	if (s->conns_dropped)
		text_buf_addf(b, "  ... %" PRIu64 " connections beyond the first %d not followed\n",
			      s->conns_dropped, RECORDER_CONNS);
	if (s->recorders_dropped)
		text_buf_addf(b, "  ... connections of more than %d recorders not told apart\n",
			      INSPECT_MAX_RECORDERS);
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
	text_buf_addf(b, "  %-22s %9s %9s %7s %11s %9s %7s %10s %10s %10s %5s %5s\n", "channel", "messages",
		      "events", "replay", "bytes", "avg/s", "peak/s", "gap p50", "gap p99", "gap max", "dups",
		      "ovlp");
	for (int i = 0; i <= INSPECT_MAX_CHANNELS; i++) {
		const struct channel *c = in->ch[i];
		double span, avg;
		char name[CH_NAME + 2];

		if (!c)
			continue;
		span = (double)(c->last_ns - c->first_ns) / 1e9;
		avg = span > 0 ? (double)(c->messages - 1) / span : 0;
		snprintf(name, sizeof(name), "%s", c->name_len ? c->name : "(none)");
		text_buf_addf(b,
			      "  %-22s %9" PRIu64 " %9" PRIu64 " %7" PRIu64 " %11" PRIu64 " %9.1f %7" PRIu64
			      " %10s %10s %10s %5" PRIu64 " %5" PRIu64 "\n",
			      name, c->messages, c->events, c->replay_chunks, c->bytes, avg, c->peak_per_sec,
			      c->gaps.count ? dur((int64_t)hist_quantile(&c->gaps, 0.5), p50) : "-",
			      c->gaps.count ? dur((int64_t)hist_quantile(&c->gaps, 0.99), p99) : "-",
			      c->gaps.count ? dur((int64_t)c->gaps.max, mx) : "-",
			      c->dup_events + c->dup_frames, c->overlap_events);
	}
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

#define TEXT_TIMELINE_CHANNELS 8 /* columns of channels in the text; all in JSON */
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
			size_t n = in->ch[i]->name_len ? in->ch[i]->name_len : 6; /* "(none)" */

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
			      tm(in->tl_start + (int64_t)i * in->tl_width, t1), in->tl_msgs[i],
			      in->tl_events[i]);
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
		      (in->opt.feed ? in->opt.feed : &feed_raw)->name);
	if (in->records) {
		text_buf_addf(b,
			      "records      #%" PRIu64 "..#%" PRIu64 ": %" PRIu64 " (%" PRIu64
			      " received frames, %" PRIu64 " sent, %" PRIu64 " connection events), %" PRIu64
			      " payload bytes\n",
			      in->first_recno, in->last_recno, in->records, in->in_frames, in->out_frames,
			      in->by_kind[JOURNAL_OPEN] + in->by_kind[JOURNAL_CLOSE] +
				      in->by_kind[JOURNAL_ERROR],
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
	text_recorders(in, b);
	text_channels(in, b);
	if (in->ops->report_text)
		in->ops->report_text(in->feed_state, &in->host, b);
	text_stalls(in, b);
	text_findings(in, b);
	text_timeline(in, b);
}
