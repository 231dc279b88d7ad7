/* stream.c - the stream's settings: created, or updated when it exists with others, and its
 * state (messages, sequences, the cluster's leader and replicas) read back */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "jetstream/internal.h"

#define MAX_SUBJECTS 32

static void
copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* a status of a stream request; a server without JetStream answers nothing at all */
static int
stream_status(struct js_conn *c, natsStatus s, jsErrCode jerr, const char *what, const char *name,
	      char *detail, size_t cap)
{
	int err = js_status(s, jerr, what, detail, cap);
	if (err == JS_ENOSTREAM && !strcmp(what, "stream info"))
		js_detail(detail, cap, "no stream '%s' on the server (wstape stream create makes it)", name);
	else if (s == NATS_NO_RESPONDERS || s == NATS_TIMEOUT)
		js_detail(detail, cap,
			  "%s '%s': JetStream did not answer (%s): is the server started with -js?", what,
			  name, natsStatus_GetText(s));
	else if (!js_connected(c) && err != JS_ESTREAM)
		err = JS_ECONNECT;
	return err;
}

static void
fill_info(const jsStreamInfo *si, struct js_stream_info *out)
{
	const jsStreamConfig *cf = si->Config;
	size_t k = 0;

	memset(out, 0, sizeof(*out));
	if (cf) {
		copy_str(out->name, sizeof out->name, cf->Name);
		for (int i = 0; i < cf->SubjectsLen; i++) {
			const char *s = cf->Subjects[i] ? cf->Subjects[i] : "";
			size_t n = strlen(s);
			if (k + n + 2 > sizeof out->subjects)
				break;
			if (k)
				out->subjects[k++] = ',';
			memcpy(out->subjects + k, s, n);
			k += n;
		}
		out->subjects[k] = '\0';
		out->replicas = (int)cf->Replicas;
		out->storage = cf->Storage == js_MemoryStorage ? JS_STORAGE_MEMORY : JS_STORAGE_FILE;
		out->retention = cf->Retention == js_InterestPolicy ? JS_RETAIN_INTEREST
			: cf->Retention == js_WorkQueuePolicy       ? JS_RETAIN_WORKQUEUE
								    : JS_RETAIN_LIMITS;
		out->discard_new = cf->Discard == js_DiscardNew;
		out->max_age_ns = cf->MaxAge > 0 ? cf->MaxAge : 0;
		out->max_bytes = cf->MaxBytes > 0 ? cf->MaxBytes : 0;
		out->max_msgs = cf->MaxMsgs > 0 ? cf->MaxMsgs : 0;
		out->max_msg_size = cf->MaxMsgSize > 0 ? cf->MaxMsgSize : 0;
		out->dup_window_ns = cf->Duplicates;
	}
	out->msgs = si->State.Msgs;
	out->bytes = si->State.Bytes;
	out->first_seq = si->State.FirstSeq;
	out->last_seq = si->State.LastSeq;
	out->num_subjects = si->State.NumSubjects > 0 ? (uint64_t)si->State.NumSubjects : 0;
	out->first_ns = si->State.Msgs ? si->State.FirstTime : 0;
	out->last_ns = si->State.LastSeq ? si->State.LastTime : 0;
	out->created_ns = si->Created;
	if (si->Cluster) {
		copy_str(out->leader, sizeof out->leader, si->Cluster->Leader);
		for (int i = 0; i < si->Cluster->ReplicasLen && out->npeers < JS_MAX_PEERS; i++) {
			const jsPeerInfo *p = si->Cluster->Replicas[i];
			if (!p)
				continue;
			copy_str(out->peers[out->npeers].name, sizeof out->peers[0].name, p->Name);
			out->peers[out->npeers].current = p->Current;
			out->peers[out->npeers].offline = p->Offline;
			out->peers[out->npeers].lag = p->Lag;
			out->peers[out->npeers].active_ns = p->Active;
			out->npeers++;
		}
	}
}

int
js_stream_info(struct js_conn *c, const char *name, struct js_stream_info *out, char *detail, size_t cap)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	jsOptions o;

	if (!c || !name || !*name) {
		js_detail(detail, cap, "no stream name given");
		return JS_EINVAL;
	}
	jsOptions_Init(&o);
	o.Wait = c->timeout_ms;
	natsStatus s = js_GetStreamInfo(&si, c->js, name, &o, &jerr);
	if (s == NATS_OK && !si)
		s = NATS_NOT_FOUND;
	if (s != NATS_OK)
		return stream_status(c, s, jerr, "stream info", name, detail, cap);
	fill_info(si, out);
	jsStreamInfo_Destroy(si);
	return 0;
}

/* "a,b, c" into at most MAX_SUBJECTS subjects (in buf); returns the count or -1 */
static int
split_subjects(const char *list, char *buf, size_t cap, const char **v)
{
	int n = 0;
	size_t len = strlen(list);
	if (len >= cap)
		return -1;
	memcpy(buf, list, len + 1);
	for (char *save = NULL, *t = strtok_r(buf, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (n == MAX_SUBJECTS)
			return -1;
		v[n++] = t;
	}
	return n;
}

int
js_stream_create(struct js_conn *c, const struct js_stream_config *cfg, struct js_stream_info *out,
		 char *detail, size_t cap)
{
	jsStreamConfig sc;
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	jsOptions o;
	const char *subj[MAX_SUBJECTS];
	char buf[1024];
	int n;

	if (!c || !cfg || !cfg->name || !*cfg->name || strpbrk(cfg->name, " \t.*>/\\")) {
		js_detail(detail, cap, "'%s': a stream name is letters, digits, '_' and '-'",
			  cfg && cfg->name ? cfg->name : "");
		return JS_EINVAL;
	}
	if ((n = split_subjects(cfg->subjects && *cfg->subjects ? cfg->subjects : JS_SUBJECT_ROOT ".>", buf,
				sizeof buf, subj)) <= 0) {
		js_detail(detail, cap, "'%s': subjects are a comma-separated list (at most %d)",
			  cfg->subjects, MAX_SUBJECTS);
		return JS_EINVAL;
	}
	if (cfg->replicas < 0 || cfg->max_age_ns < 0 || cfg->max_bytes < 0 || cfg->max_msgs < 0 ||
	    cfg->max_msg_size < 0 || cfg->max_msg_size > INT32_MAX || cfg->dup_window_ns < 0) {
		js_detail(detail, cap, "a negative or too large limit");
		return JS_EINVAL;
	}
	jsStreamConfig_Init(&sc);
	sc.Name = cfg->name;
	sc.Subjects = subj;
	sc.SubjectsLen = n;
	sc.Replicas = cfg->replicas ? cfg->replicas : 1;
	sc.Storage = cfg->storage == JS_STORAGE_MEMORY ? js_MemoryStorage : js_FileStorage;
	sc.Retention = cfg->retention == JS_RETAIN_INTEREST ? js_InterestPolicy
		: cfg->retention == JS_RETAIN_WORKQUEUE     ? js_WorkQueuePolicy
							    : js_LimitsPolicy;
	sc.Discard = cfg->discard_new ? js_DiscardNew : js_DiscardOld;
	sc.MaxAge = cfg->max_age_ns;
	sc.MaxBytes = cfg->max_bytes ? cfg->max_bytes : -1;
	sc.MaxMsgs = cfg->max_msgs ? cfg->max_msgs : -1;
	sc.MaxMsgSize = cfg->max_msg_size ? (int32_t)cfg->max_msg_size : -1;
	sc.Duplicates = cfg->dup_window_ns ? cfg->dup_window_ns : 600LL * 1000000000LL;
	jsOptions_Init(&o);
	o.Wait = c->timeout_ms;

	natsStatus s = js_AddStream(&si, c->js, &sc, &o, &jerr);
	const char *what = "stream create";
	if (s != NATS_OK && jerr == JSStreamNameExistErr) {
		jerr = 0;
		what = "stream update";
		s = js_UpdateStream(&si, c->js, &sc, &o, &jerr);
	}
	if (s == NATS_OK && !si)
		s = NATS_ERR;
	if (s != NATS_OK) {
		int err = stream_status(c, s, jerr, what, cfg->name, detail, cap);
		return err == JS_ENOSTREAM ? JS_ESTREAM : err;
	}
	fill_info(si, out);
	jsStreamInfo_Destroy(si);
	return 0;
}
