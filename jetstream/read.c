/* read.c - a stream read back as records: an ordered, ephemeral consumer (no acks, no state
 * on the server past the read), each message's wstape headers decoded and checked */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jetstream/internal.h"

struct js_reader {
	struct js_conn *c;
	natsSubscription *sub;
	natsMsg *msg; /* the message *out points into */
	int follow;
	int done; /* bounded: the last message stored at open was returned */
	uint64_t last_seq; /* the stream's last sequence at open */
};

/* A decimal number, digits only, no sign, within max. Returns 0, or -1. */
static int
parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	if (!s || !*s || strlen(s) > 20)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int
parse_i64(const char *s, int64_t *out)
{
	uint64_t v;
	int neg = s && *s == '-';
	if (parse_u64(neg ? s + 1 : s, (uint64_t)INT64_MAX, &v))
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static const char dup_hdr[] = "";

/* a header's one value; NULL when absent, dup_hdr when it is there more than once */
static const char *
hdr(natsMsg *m, const char *key)
{
	const char **v = NULL;
	int n = 0;
	if (natsMsgHeader_Values(m, key, &v, &n) != NATS_OK || n < 1) {
		free(v);
		return NULL;
	}
	const char *one = n == 1 && v[0] ? v[0] : dup_hdr;
	free(v);
	return one;
}

/* The wstape headers of m into out (the payload is m's own). Returns 0 or JS_EHEADER with
 * which header in detail. */
static int
decode(natsMsg *m, struct js_pulled *out, char *detail, size_t cap)
{
	const char *rec = hdr(m, JS_HDR_RECORDER), *jid = hdr(m, JS_HDR_JOURNAL),
		   *recno = hdr(m, JS_HDR_RECNO), *wall = hdr(m, JS_HDR_WALL), *mono = hdr(m, JS_HDR_MONO),
		   *conn = hdr(m, JS_HDR_CONN), *dir = hdr(m, JS_HDR_DIR), *kind = hdr(m, JS_HDR_KIND),
		   *ch = hdr(m, JS_HDR_CHANNEL), *cur = hdr(m, JS_HDR_CURSOR), *feed = hdr(m, JS_HDR_FEED),
		   *id = hdr(m, JS_HDR_MSG_ID);
	const char *bad = NULL;
	uint64_t u;
	size_t n;
	int d, k;

	const char *all[] = { rec, jid, recno, wall, mono, conn, dir, kind, ch, cur, feed, id };
	const char *names[] = { JS_HDR_RECORDER, JS_HDR_JOURNAL, JS_HDR_RECNO, JS_HDR_WALL,
				JS_HDR_MONO,     JS_HDR_CONN,    JS_HDR_DIR,   JS_HDR_KIND,
				JS_HDR_CHANNEL,  JS_HDR_CURSOR,  JS_HDR_FEED,  JS_HDR_MSG_ID };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		if (all[i] == dup_hdr) {
			js_detail(detail, cap, "the %s header more than once", names[i]);
			return JS_EHEADER;
		}
	if (!rec || !jid || !recno || !wall || !conn || !dir || !kind) {
		js_detail(detail, cap, "no %s header",
			  !rec             ? JS_HDR_RECORDER
				  : !jid   ? JS_HDR_JOURNAL
				  : !recno ? JS_HDR_RECNO
				  : !wall  ? JS_HDR_WALL
				  : !conn  ? JS_HDR_CONN
				  : !dir   ? JS_HDR_DIR
					   : JS_HDR_KIND);
		return JS_EHEADER;
	}
	if (!js_recorder_ok(rec)) {
		bad = JS_HDR_RECORDER;
		goto bad;
	}
	memcpy(out->recorder, rec, strlen(rec) + 1);
	if (strlen(jid) != 16 || strspn(jid, "0123456789abcdefABCDEF") != 16) {
		bad = JS_HDR_JOURNAL;
		goto bad;
	}
	memcpy(out->journal_id, jid, 17);
	if (parse_u64(recno, UINT64_MAX, &out->rec.recno) || out->rec.recno == 0) {
		bad = JS_HDR_RECNO;
		goto bad;
	}
	if (parse_i64(wall, &out->rec.wall_ns)) {
		bad = JS_HDR_WALL;
		goto bad;
	}
	out->rec.mono_ns = 0;
	if (mono && parse_i64(mono, &out->rec.mono_ns)) {
		bad = JS_HDR_MONO;
		goto bad;
	}
	if (parse_u64(conn, UINT32_MAX, &u)) {
		bad = JS_HDR_CONN;
		goto bad;
	}
	out->rec.conn = (uint32_t)u;
	if ((d = journal_dir_parse(dir, strlen(dir))) < 0) {
		bad = JS_HDR_DIR;
		goto bad;
	}
	if ((k = journal_kind_parse(kind, strlen(kind))) < 0 || k > JOURNAL_KIND_MAX) {
		bad = JS_HDR_KIND;
		goto bad;
	}
	out->rec.dir = (uint8_t)d;
	out->rec.kind = (uint8_t)k;
	n = 0;
	if (ch && (n = js_hdr_unescape(ch, strlen(ch), out->channel, sizeof out->channel)) == (size_t)-1) {
		bad = JS_HDR_CHANNEL;
		goto bad;
	}
	out->rec.channel_len = (uint16_t)n;
	out->rec.channel = n ? out->channel : NULL;
	n = 0;
	if (cur && (n = js_hdr_unescape(cur, strlen(cur), out->cursor, sizeof out->cursor)) == (size_t)-1) {
		bad = JS_HDR_CURSOR;
		goto bad;
	}
	out->rec.cursor_len = (uint16_t)n;
	out->rec.cursor = n ? out->cursor : NULL;
	out->feed[0] = '\0';
	if (feed) {
		n = strlen(feed);
		for (size_t i = 0; i < n; i++)
			if (feed[i] <= 0x20 || feed[i] >= 0x7f)
				n = sizeof out->feed;
		if (n >= sizeof out->feed) {
			bad = JS_HDR_FEED;
			goto bad;
		}
		memcpy(out->feed, feed, n + 1);
	}
	if (id) {
		n = strlen(id);
		for (size_t i = 0; i < n; i++)
			if (id[i] <= 0x20 || id[i] >= 0x7f)
				n = JS_MSG_ID_MAX;
		if (n == 0 || n >= JS_MSG_ID_MAX) {
			bad = JS_HDR_MSG_ID;
			goto bad;
		}
		memcpy(out->msg_id, id, n + 1);
	} else {
		snprintf(out->msg_id, sizeof out->msg_id, "%s.%s.%llu", out->recorder, out->journal_id,
			 (unsigned long long)out->rec.recno);
	}
	int len = natsMsg_GetDataLength(m);
	if (len < 0 || (size_t)len > JOURNAL_MAX_PAYLOAD) {
		js_detail(detail, cap, "a payload of %d bytes", len);
		return JS_EHEADER;
	}
	out->rec.payload_len = (size_t)len;
	out->rec.payload = (const uint8_t *)natsMsg_GetData(m);
	if (!out->rec.payload)
		out->rec.payload = (const uint8_t *)"";
	return 0;
bad:
	js_detail(detail, cap, "a bad %s header", bad);
	return JS_EHEADER;
}

int
js_reader_open(const struct js_reader_options *o, struct js_reader **out, char *detail, size_t cap)
{
	struct js_conn_options co = { .servers = o ? o->servers : NULL, .name = "wstape pull" };
	struct js_stream_info si;
	jsSubOptions so;
	jsErrCode jerr = 0;
	natsStatus s;
	int err;

	*out = NULL;
	if (!o || !o->stream || !js_name_ok(o->stream)) {
		js_detail(detail, cap, "'%s': not a stream name", o && o->stream ? o->stream : "");
		return JS_EINVAL;
	}
	struct js_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return ENOMEM;
	r->follow = o->follow;
	if ((err = js_connect(&co, &r->c, detail, cap)) != 0)
		goto fail;
	if ((err = js_stream_info(r->c, o->stream, &si, detail, cap)) != 0)
		goto fail;
	r->last_seq = si.last_seq;
	if (!o->follow && (si.msgs == 0 || (o->from_seq && o->from_seq > si.last_seq))) {
		r->done = 1; /* nothing to read: JS_EOF at once */
		*out = r;
		return 0;
	}
	jsSubOptions_Init(&so);
	so.Stream = o->stream;
	so.Ordered = true;
	if (o->from_seq) {
		so.Config.DeliverPolicy = js_DeliverByStartSequence;
		so.Config.OptStartSeq = o->from_seq;
	} else if (o->from_ns) {
		so.Config.DeliverPolicy = js_DeliverByStartTime;
		so.Config.OptStartTime = o->from_ns;
	} else {
		so.Config.DeliverPolicy = js_DeliverAll;
	}
	/* without a filter: the stream's subject when it has one, else every subject */
	const char *subject = o->filter && *o->filter ? o->filter : si.subjects;
	if (!o->filter && strchr(si.subjects, ','))
		subject = ">";
	s = js_SubscribeSync(&r->sub, r->c->js, subject, NULL, &so, &jerr);
	if (s != NATS_OK) {
		err = js_status(s, jerr, "subscribe", detail, cap);
		if (err == JS_ENOSTREAM)
			js_detail(detail, cap, "no stream '%s' on the server", o->stream);
		goto fail;
	}
	if (!o->follow) {
		/* nothing of the filter or after the start: the consumer has nothing to deliver */
		jsConsumerInfo *ci = NULL;
		jerr = 0;
		if (natsSubscription_GetConsumerInfo(&ci, r->sub, NULL, &jerr) == NATS_OK && ci) {
			if (ci->NumPending == 0 && ci->Delivered.Stream == 0)
				r->done = 1;
			jsConsumerInfo_Destroy(ci);
		}
	}
	*out = r;
	return 0;
fail:
	js_reader_close(r);
	return err;
}

int
js_reader_next(struct js_reader *r, struct js_pulled *out, uint32_t timeout_ms, char *detail, size_t cap)
{
	jsMsgMetaData *md = NULL;
	natsMsg *m = NULL;
	natsStatus s;
	int err;

	if (r->msg) {
		natsMsg_Destroy(r->msg);
		r->msg = NULL;
	}
	if (r->done)
		return JS_EOF;
	s = natsSubscription_NextMsg(&m, r->sub, timeout_ms ? timeout_ms : 1);
	if (s == NATS_TIMEOUT)
		return JS_ETIMEOUT;
	if (s != NATS_OK)
		return js_status(s, 0, "next message", detail, cap);
	r->msg = m;
	memset(out, 0, offsetof(struct js_pulled, msg_id));
	out->msg_id[0] = '\0';
	if ((s = natsMsg_GetMetaData(&md, m)) != NATS_OK) {
		err = js_status(s, 0, "message metadata", detail, cap);
		return err;
	}
	out->stream_seq = md->Sequence.Stream;
	out->stored_ns = md->Timestamp;
	if (!r->follow && (md->NumPending == 0 || md->Sequence.Stream >= r->last_seq))
		r->done = 1;
	jsMsgMetaData_Destroy(md);
	return decode(m, out, detail, cap);
}

void
js_reader_close(struct js_reader *r)
{
	if (!r)
		return;
	natsMsg_Destroy(r->msg);
	if (r->sub) {
		natsSubscription_Unsubscribe(r->sub);
		natsSubscription_Destroy(r->sub);
	}
	js_close(r->c);
	free(r);
}
