/* message.c - a journal record as a JetStream message: its subject, the payload as it is,
 * the record's fields as headers (jetstream.h, JS_HDR_*; docs/FORMAT.md, "JetStream
 * messages") and its Nats-Msg-Id */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "feeds/feed.h"
#include "jetstream/internal.h"

static natsStatus
set_u64(natsMsg *m, const char *key, uint64_t v)
{
	char b[24];
	snprintf(b, sizeof b, "%" PRIu64, v);
	return natsMsgHeader_Set(m, key, b);
}

static natsStatus
set_escaped(natsMsg *m, const char *key, const void *p, size_t n)
{
	char b[3 * (JOURNAL_MAX_CHANNEL > JOURNAL_MAX_CURSOR ? JOURNAL_MAX_CHANNEL : JOURNAL_MAX_CURSOR) + 1];
	if (!n)
		return NATS_OK;
	if (!js_hdr_escape(p, n, b, sizeof b))
		return NATS_INVALID_ARG;
	return natsMsgHeader_Set(m, key, b);
}

int
js_message_build(const struct js_msg_source *src, const struct journal_record *rec, natsMsg **out,
		 char *detail, size_t cap)
{
	char subject[JS_SUBJECT_MAX], id[JS_MSG_ID_MAX];
	natsMsg *m = NULL;
	natsStatus s;

	*out = NULL;
	if (rec->payload_len > (size_t)INT32_MAX ||
	    !js_subject(src->name, rec->channel, rec->channel_len, subject, sizeof subject)) {
		js_detail(detail, cap, "record %" PRIu64 ": no subject for it", rec->recno);
		return JS_EINVAL;
	}
	js_msg_id(src->feed, src->recorder, src->journal_id, rec, id);
	s = natsMsg_Create(&m, subject, NULL, (const char *)rec->payload, (int)rec->payload_len);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, JS_HDR_MSG_ID, id);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, JS_HDR_RECORDER, src->recorder);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, JS_HDR_JOURNAL, src->journal_id);
	if (s == NATS_OK)
		s = set_u64(m, JS_HDR_RECNO, rec->recno);
	if (s == NATS_OK)
		s = set_u64(m, JS_HDR_WALL, (uint64_t)rec->wall_ns);
	if (s == NATS_OK)
		s = set_u64(m, JS_HDR_MONO, (uint64_t)rec->mono_ns);
	if (s == NATS_OK)
		s = set_u64(m, JS_HDR_CONN, rec->conn);
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, JS_HDR_DIR, journal_dir_name(rec->dir));
	if (s == NATS_OK)
		s = natsMsgHeader_Set(m, JS_HDR_KIND, journal_kind_name(rec->kind));
	if (s == NATS_OK)
		s = set_escaped(m, JS_HDR_CHANNEL, rec->channel, rec->channel_len);
	if (s == NATS_OK)
		s = set_escaped(m, JS_HDR_CURSOR, rec->cursor, rec->cursor_len);
	if (s == NATS_OK && src->feed)
		s = natsMsgHeader_Set(m, JS_HDR_FEED, src->feed->name);
	if (s != NATS_OK) {
		natsMsg_Destroy(m);
		return js_status(s, 0, "building a message", detail, cap);
	}
	*out = m;
	return 0;
}
