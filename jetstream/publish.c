/* publish.c - the publisher: a thread that follows a journal and publishes each record to
 * a JetStream stream asynchronously, keeping in the journal's mark "nats.<stream>" how far
 * the stream has acknowledged.
 *
 * The window: records base..next-1 are sent and not yet all acknowledged (at most
 * max_inflight); acked[] says which were. The mark is base-1: the contiguous acknowledged
 * prefix. Going back (an ack error, no ack for ack_timeout_ms, a reconnect) drops what
 * libnats still holds and starts again at base: what the stream had already stored is
 * dropped by its Nats-Msg-Id window and acknowledged as a duplicate.
 *
 * The thread reads through its own read-only handle of the journal, so it shares nothing
 * with the writer but the files. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feeds/feed.h"
#include "jetstream/internal.h"
#include "util/log.h"

#define POLL_MS 20 /* a look at the journal for more, when it has nothing yet */
#define STREAM_RETRY_MS 5000 /* a stream that does not exist, looked for again */
#define MARK_NAME_MAX 96

struct js_publisher {
	char *path, *stream, *name, *recorder, *journal_id, *servers;
	char mark_name[MARK_NAME_MAX];
	const struct feed *feed;
	struct js_publisher_options o;
	struct journal *rj; /* our own read-only handle */
	struct journal_reader *rd;
	struct js_conn *c;
	jsCtx *js;
	pthread_t thread;
	int started;

	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	uint64_t base, next; /* the window [base, next) */
	uint8_t *acked; /* max_inflight flags, recno % max_inflight */
	int64_t *wall; /* the receive time of each record in the window, likewise */
	int64_t last_read_wall;
	int go_back; /* an ack error or a reconnect: start again at base */
	int stop; /* 1: stop when caught up or at stop_deadline; 2: now */
	int64_t stop_deadline;
	int64_t last_progress; /* mono ms of the last ack, or of the first send after none pending */
	int was_down, stream_ok;
	uint64_t last_read; /* the last recno read from the journal */
	int at_eof; /* the reader found nothing more, last time */
	int need_seek; /* a seek to base found no such record yet: seek again before reading */
	uint64_t mark_written; /* the mark's value on disk */
	struct js_publisher_stats st;
	uint64_t acks_since_mark;
	uint64_t stop_target; /* stop: the journal's last recno when asked to */
	int target_known; /* stop_target was read (by the thread, on its own handle) */
	/* every message libnats took is handed back exactly once: to on_ack, or in a pending
	 * list; p is freed only when handed == taken, so no handler runs on freed memory */
	uint64_t lib_taken, lib_handed;
};

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
set_err(struct js_publisher *p, int err, const char *detail)
{
	p->st.last_err = err;
	snprintf(p->st.last_detail, sizeof p->st.last_detail, "%s", detail ? detail : js_strerror(err));
}

/* ---- libnats' threads ---- */

static void
on_state(int up, const char *url, void *ud)
{
	struct js_publisher *p = ud;
	pthread_mutex_lock(&p->mu);
	if (!up && !p->was_down) {
		p->was_down = 1;
		log_warn("publisher: lost the NATS connection (stream %s); the journal goes on, publishing "
			 "resumes when a server answers",
			 p->stream);
	} else if (up) {
		if (p->was_down)
			log_info("publisher: NATS is back (%s); resuming from record %" PRIu64, url, p->base);
		p->was_down = 0;
		p->go_back = 1; /* what was in flight may be lost: send it again */
	}
	p->st.connected = up;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

static uint64_t
msg_recno(natsMsg *m)
{
	const char *v = NULL;
	char *end;
	if (natsMsgHeader_Get(m, JS_HDR_RECNO, &v) != NATS_OK || !v || !*v)
		return 0;
	errno = 0;
	unsigned long long r = strtoull(v, &end, 10);
	return errno || *end ? 0 : r;
}

static void
on_ack(jsCtx *js, natsMsg *m, jsPubAck *pa, jsPubAckErr *pae, void *ud)
{
	struct js_publisher *p = ud;
	uint64_t r = msg_recno(m);
	uint32_t cap = p->o.max_inflight;

	natsMsg_Destroy(m);
	pthread_mutex_lock(&p->mu);
	p->lib_handed++;
	if (pa) {
		p->st.acked++;
		p->st.duplicates += pa->Duplicate;
		if (r >= p->base && r < p->next) {
			p->acked[r % cap] = 1;
			while (p->base < p->next && p->acked[p->base % cap]) {
				p->acked[p->base % cap] = 0;
				p->base++;
				p->acks_since_mark++;
			}
			p->st.acked_recno = p->base - 1;
		}
		p->last_progress = now_ms();
	} else if (pae && r >= p->base && r < p->next) {
		char d[200];
		snprintf(d, sizeof d, "record %" PRIu64 " refused: %s%s%s", r, natsStatus_GetText(pae->Err),
			 pae->ErrText ? ": " : "", pae->ErrText ? pae->ErrText : "");
		set_err(p, pae->ErrCode == JSStreamNotFoundErr ? JS_ENOSTREAM : JS_ESTREAM, d);
		p->go_back = 1;
	}
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu); /* the last touch of p */
}

/* ---- the publisher's thread ---- */

/* Take back from libnats what it holds unacknowledged (destroyed); returns how many. */
static uint64_t
take_pending(struct js_publisher *p)
{
	natsMsgList pending;
	pthread_mutex_lock(&p->mu);
	int any = p->lib_taken > p->lib_handed;
	pthread_mutex_unlock(&p->mu);
	/* (libnats 3.4 crashes on a context that never published asynchronously) */
	if (!any || js_PublishAsyncGetPendingList(&pending, p->js) != NATS_OK)
		return 0; /* none (NATS_NOT_FOUND) */
	uint64_t n = (uint64_t)pending.Count;
	natsMsgList_Destroy(&pending);
	return n;
}

/* Drop what libnats holds unacknowledged, and start again at base. Called with mu held. */
static void
go_back(struct js_publisher *p)
{
	uint64_t from = p->base;

	p->go_back = 0;
	pthread_mutex_unlock(&p->mu);
	uint64_t back = take_pending(p);
	int rc = journal_reader_seek_recno(p->rd, from);
	pthread_mutex_lock(&p->mu);
	p->lib_handed += back;
	if (p->next > from)
		p->st.resent += p->next - from;
	memset(p->acked, 0, p->o.max_inflight);
	p->next = p->base = from;
	p->at_eof = p->need_seek = rc == JOURNAL_ENOTFOUND;
	if (rc && rc != JOURNAL_ENOTFOUND) {
		char d[200];
		snprintf(d, sizeof d, "reading the journal at record %" PRIu64 ": %s", from,
			 journal_strerror(rc));
		set_err(p, rc, d);
	}
	p->last_progress = now_ms();
}

/* The journal's last recno as the handle sees it now (0 when it cannot say). */
static uint64_t
last_recno_of(struct journal *j)
{
	struct journal_stats st;
	return journal_stats(j, &st) == 0 ? st.last_recno : 0;
}

static void
write_mark(struct js_publisher *p)
{
	pthread_mutex_lock(&p->mu);
	uint64_t m = p->base - 1;
	p->acks_since_mark = 0;
	pthread_mutex_unlock(&p->mu);
	if (m == p->mark_written)
		return;
	int rc = journal_mark_set(p->rj, p->mark_name, m);
	if (!rc)
		p->mark_written = m;
	else
		log_warn("publisher: cannot write the mark %s of %s: %s", p->mark_name, p->path,
			 journal_strerror(rc));
}

/* Whether the stream exists: looked for once connected, and again every STREAM_RETRY_MS
 * while it does not. Called without mu. */
static int
check_stream(struct js_publisher *p)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	char d[256] = "";
	natsStatus s = js_GetStreamInfo(&si, p->js, p->stream, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s == NATS_OK)
		return 1;
	int err = js_status(s, jerr, "stream info", d, sizeof d);
	pthread_mutex_lock(&p->mu);
	if (err == JS_ENOSTREAM) {
		if (p->st.last_err != JS_ENOSTREAM)
			log_warn(
				"publisher: stream %s does not exist (wstape stream create makes it); looking again "
				"every %d s",
				p->stream, STREAM_RETRY_MS / 1000);
		snprintf(d, sizeof d, "stream %s does not exist (wstape stream create)", p->stream);
	}
	set_err(p, err, d);
	pthread_mutex_unlock(&p->mu);
	return 0;
}

/* Send one record. Called without mu; the window was made room for. */
static int
send_one(struct js_publisher *p, const struct journal_record *rec)
{
	struct js_msg_source src = { p->name, p->recorder, p->journal_id, p->feed };
	jsPubOptions po;
	natsMsg *m = NULL;
	char d[256];
	int rc = js_message_build(&src, rec, &m, d, sizeof d);
	if (rc) {
		log_error("publisher: record %" PRIu64 " not published: %s", rec->recno, d);
		pthread_mutex_lock(&p->mu);
		set_err(p, rc, d);
		pthread_mutex_unlock(&p->mu);
		return JS_EINVAL;
	}
	jsPubOptions_Init(&po);
	po.ExpectStream = p->stream;
	natsStatus s = js_PublishMsgAsync(p->js, &m, &po);
	natsMsg_Destroy(m);
	if (s == NATS_OK) {
		pthread_mutex_lock(&p->mu);
		p->lib_taken++;
		pthread_mutex_unlock(&p->mu);
	} else if (s == NATS_MAX_PAYLOAD) {
		/* the server can never take it: said, and passed over as if acknowledged, so
		 * that the rest of the journal still goes out */
		log_error("publisher: record %" PRIu64 " (%zu bytes) is larger than the NATS server's "
			  "max_payload (%" PRId64
			  " bytes with the headers): not published; raise max_payload "
			  "in nats-server's configuration",
			  rec->recno, rec->payload_len, natsConnection_GetMaxPayload(p->c->nc));
		return 1;
	} else {
		rc = js_status(s, 0, "publish", d, sizeof d);
		pthread_mutex_lock(&p->mu);
		set_err(p, rc, d);
		p->go_back = 1;
		pthread_mutex_unlock(&p->mu);
	}
	return rc;
}

static void *
run(void *arg)
{
	struct js_publisher *p = arg;
	struct journal_record rec;
	int64_t last_mark = now_ms(), next_stream_check = 0, behind_since = 0;
	uint64_t behind_from = 0;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		int64_t t = now_ms();
		if (p->stop == 2 || (p->stop && t >= p->stop_deadline))
			break;
		if (p->stop == 1 && !p->target_known) {
			/* what the journal holds now is what must be acknowledged */
			pthread_mutex_unlock(&p->mu);
			uint64_t last = last_recno_of(p->rj);
			pthread_mutex_lock(&p->mu);
			p->stop_target = last;
			p->target_known = 1;
		}
		if (p->stop && p->target_known && p->base == p->next && p->base - 1 >= p->stop_target)
			break;
		if (p->base - 1 != p->st.acked_recno)
			p->st.acked_recno = p->base - 1;
		/* every mark_every acks (at most 10 times a second: each write is an fsync) and
		 * every mark_ms */
		if (p->acks_since_mark &&
		    ((p->acks_since_mark >= p->o.mark_every && t - last_mark >= 100) ||
		     t - last_mark >= p->o.mark_ms)) {
			pthread_mutex_unlock(&p->mu);
			write_mark(p);
			pthread_mutex_lock(&p->mu);
			last_mark = t;
		}
		int connected = js_connected(p->c);
		p->st.connected = connected;
		if (!connected && !behind_since) {
			/* an outage: behind from now, until caught up */
			behind_since = t;
			behind_from = p->base;
		}
		if (!connected) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
			continue;
		}
		if (!p->stream_ok) {
			if (t < next_stream_check) {
				pthread_mutex_unlock(&p->mu);
				struct timespec ts = { 0, 100 * 1000000L };
				nanosleep(&ts, NULL);
				pthread_mutex_lock(&p->mu);
				continue;
			}
			pthread_mutex_unlock(&p->mu);
			int ok = check_stream(p);
			pthread_mutex_lock(&p->mu);
			next_stream_check = t + STREAM_RETRY_MS;
			if (!ok)
				continue;
			if (p->st.last_err == JS_ENOSTREAM)
				log_info("publisher: stream %s found; publishing from record %" PRIu64,
					 p->stream, p->base);
			p->stream_ok = 1;
			p->st.last_err = 0;
			p->st.last_detail[0] = 0;
		}
		if (p->go_back) {
			if (p->st.last_err == JS_ENOSTREAM || p->st.last_err == JS_ESTREAM) {
				p->stream_ok = 0; /* look at it again, at once */
				next_stream_check = 0;
			}
			go_back(p);
			if (p->st.last_err && p->st.last_err != JS_ENOSTREAM) {
				/* an error the server answered: do not spin on it */
				pthread_mutex_unlock(&p->mu);
				struct timespec ts = { 0, 500 * 1000000L };
				nanosleep(&ts, NULL);
				pthread_mutex_lock(&p->mu);
			}
			continue;
		}
		if (p->next > p->base && t - p->last_progress > (int64_t)p->o.ack_timeout_ms) {
			log_info(
				"publisher: no acknowledgement from stream %s for %u ms; sending again from record "
				"%" PRIu64,
				p->stream, p->o.ack_timeout_ms, p->base);
			p->go_back = 1;
			continue;
		}
		/* read and send while the window has room */
		int sent = 0;
		while (p->next - p->base < p->o.max_inflight && !p->go_back && p->stop != 2 && sent < 256) {
			pthread_mutex_unlock(&p->mu);
			int rc = 0;
			if (p->need_seek) {
				/* a seek past the end: look again where we want to be */
				rc = journal_reader_seek_recno(p->rd, p->next);
				if (rc == JOURNAL_ENOTFOUND)
					rc = JOURNAL_EOF;
				else
					p->need_seek = 0;
			}
			if (rc == 0)
				rc = journal_reader_next(p->rd, &rec);
			pthread_mutex_lock(&p->mu);
			if (rc == JOURNAL_EOF) {
				p->at_eof = 1;
				break;
			}
			if (rc) {
				char d[200];
				snprintf(d, sizeof d, "reading the journal after record %" PRIu64 ": %s",
					 p->last_read, journal_strerror(rc));
				if (p->st.last_err != rc)
					log_error("publisher: %s", d);
				set_err(p, rc, d);
				p->at_eof = 1;
				break;
			}
			p->at_eof = 0;
			if (rec.recno < p->next)
				continue; /* before where we are (a seek lands on a block) */
			if (rec.recno > p->next) {
				if (p->next != p->base) {
					p->go_back = 1;
					break;
				}
				log_warn("publisher: records %" PRIu64 "..%" PRIu64
					 " of %s are gone (pruned) and were "
					 "never acknowledged by stream %s",
					 p->next, rec.recno - 1, p->path, p->stream);
				p->base = p->next = rec.recno;
			}
			p->last_read = rec.recno;
			p->last_read_wall = rec.wall_ns;
			p->wall[p->next % p->o.max_inflight] = rec.wall_ns;
			p->st.journal_recno = rec.recno;
			if (p->next == p->base)
				p->last_progress = now_ms();
			uint64_t r = p->next++;
			pthread_mutex_unlock(&p->mu);
			int src = send_one(p, &rec);
			pthread_mutex_lock(&p->mu);
			if ((src == 1 || src == JS_EINVAL) && r >= p->base) {
				/* too large, or no message for it: as if acknowledged (said) */
				p->st.too_large++;
				p->acked[r % p->o.max_inflight] = 1;
				while (p->base < p->next && p->acked[p->base % p->o.max_inflight]) {
					p->acked[p->base % p->o.max_inflight] = 0;
					p->base++;
				}
			} else if (src == 0) {
				p->st.published++;
			}
			sent++;
		}
		/* behind, and caught up again */
		int idle = p->at_eof && p->base == p->next;
		t = now_ms();
		if (!idle && !behind_since) {
			behind_since = t;
			behind_from = p->base;
		} else if (idle && behind_since) {
			if (t - behind_since > 1000)
				log_info(
					"publisher: caught up with the journal: stream %s has every record to %" PRIu64
					" (%" PRIu64 " published in %.1f s)",
					p->stream, p->base - 1, p->base - behind_from,
					(double)(t - behind_since) / 1000);
			behind_since = 0;
		}
		if (sent == 0) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += POLL_MS * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->cv, &p->mu, &ts);
		}
	}
	p->st.acked_recno = p->base - 1;
	pthread_mutex_unlock(&p->mu);
	write_mark(p);
	return NULL;
}

static void
publisher_free(struct js_publisher *p)
{
	if (!p)
		return;
	if (p->js) {
		uint64_t back = take_pending(p);
		int64_t until = now_ms() + 5000;
		pthread_mutex_lock(&p->mu);
		p->lib_handed += back;
		/* a handler that took its message before the list was taken runs to its end */
		while (p->lib_handed < p->lib_taken && now_ms() < until) {
			pthread_mutex_unlock(&p->mu);
			struct timespec ts = { 0, 1000000L };
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&p->mu);
		}
		pthread_mutex_unlock(&p->mu);
		jsCtx_Destroy(p->js);
	}
	js_close(p->c);
	journal_reader_close(p->rd);
	journal_close(p->rj);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->acked);
	free(p->wall);
	free(p->path);
	free(p->stream);
	free(p->name);
	free(p->recorder);
	free(p->journal_id);
	free(p->servers);
	free(p);
}

static int
check_options(const struct js_publisher_options *o, char *detail, size_t cap)
{
	if (!o->servers || !o->stream || !*o->stream) {
		js_detail(detail, cap, "a publisher needs NATS servers and a stream");
		return JS_EINVAL;
	}
	for (const char *s = o->stream; *s; s++)
		if (*s <= ' ' || *s == '.' || *s == '*' || *s == '>' || *s == '/' || *s == '\\' || *s > '~') {
			js_detail(detail, cap, "stream name '%s': no spaces, '.', '*', '>', '/' or '\\'",
				  o->stream);
			return JS_EINVAL;
		}
	if (strlen(o->stream) > 64) {
		js_detail(detail, cap, "stream name '%s': at most 64 characters", o->stream);
		return JS_EINVAL;
	}
	if (!o->name || !js_name_ok(o->name)) {
		js_detail(detail, cap, "subject name '%s': 1..%d of [A-Za-z0-9_-]", o->name ? o->name : "",
			  JS_MAX_NAME);
		return JS_EINVAL;
	}
	if (!o->recorder || !js_recorder_ok(o->recorder)) {
		js_detail(detail, cap, "recorder id '%s': 1..%d of [A-Za-z0-9_.-]",
			  o->recorder ? o->recorder : "", JS_MAX_RECORDER);
		return JS_EINVAL;
	}
	if (!o->journal_id || strlen(o->journal_id) != 16 ||
	    strspn(o->journal_id, "0123456789abcdef") != 16) {
		js_detail(detail, cap, "journal id '%s': 16 lower-case hex digits",
			  o->journal_id ? o->journal_id : "");
		return JS_EINVAL;
	}
	return 0;
}

int
js_publisher_start(const char *journal_path, const struct js_publisher_options *o, struct js_publisher **out,
		   char *detail, size_t cap)
{
	struct js_publisher *p;
	jsOptions jo;
	uint64_t mark = 0;
	int rc;

	*out = NULL;
	if (!journal_path || !o)
		return JS_EINVAL;
	if ((rc = check_options(o, detail, cap)) != 0)
		return rc;
	if (!(p = calloc(1, sizeof(*p))))
		return ENOMEM;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->o = *o;
	if (!p->o.max_inflight)
		p->o.max_inflight = 4096;
	if (!p->o.ack_timeout_ms)
		p->o.ack_timeout_ms = 5000;
	if (!p->o.mark_every)
		p->o.mark_every = 1000;
	if (!p->o.mark_ms)
		p->o.mark_ms = 1000;
	p->feed = o->feed;
	p->path = strdup(journal_path);
	p->stream = strdup(o->stream);
	p->name = strdup(o->name);
	p->recorder = strdup(o->recorder);
	p->journal_id = strdup(o->journal_id);
	p->servers = strdup(o->servers);
	p->acked = calloc(p->o.max_inflight, 1);
	p->wall = calloc(p->o.max_inflight, sizeof(*p->wall));
	if (!p->wall || !p->path || !p->stream || !p->name || !p->recorder || !p->journal_id || !p->servers ||
	    !p->acked) {
		rc = ENOMEM;
		goto fail;
	}
	snprintf(p->mark_name, sizeof p->mark_name, "nats.%s", o->stream);
	if ((rc = journal_open(journal_path, JOURNAL_RDONLY, NULL, &p->rj, NULL)) != 0) {
		js_detail(detail, cap, "%s: %s", journal_path, journal_strerror(rc));
		goto fail;
	}
	rc = journal_mark_get(p->rj, p->mark_name, &mark);
	if (rc && rc != JOURNAL_ENOTFOUND) {
		js_detail(detail, cap,
			  "%s/MARK.%s: %s (remove it to publish the journal again from its start)",
			  journal_path, p->mark_name, journal_strerror(rc));
		goto fail;
	}
	p->base = p->next = mark + 1;
	p->st.acked_recno = mark;
	if ((rc = journal_reader_open(p->rj, &p->rd)) != 0)
		goto fail;
	rc = journal_reader_seek_recno(p->rd, p->base);
	if (rc && rc != JOURNAL_ENOTFOUND) {
		js_detail(detail, cap, "%s: record %" PRIu64 ": %s", journal_path, p->base,
			  journal_strerror(rc));
		goto fail;
	}
	p->at_eof = p->need_seek = rc == JOURNAL_ENOTFOUND;
	p->mark_written = mark;

	struct js_conn_options co = {
		.servers = o->servers, .name = "wstape publisher", .retry = 1, .on_state = on_state, .ud = p
	};
	if ((rc = js_connect(&co, &p->c, detail, cap)) != 0)
		goto fail;
	jsOptions_Init(&jo);
	jo.Wait = p->c->timeout_ms;
	jo.PublishAsync.MaxPending = p->o.max_inflight;
	jo.PublishAsync.AckHandler = on_ack;
	jo.PublishAsync.AckHandlerClosure = p;
	jo.PublishAsync.StallWait = 1000;
	natsStatus s = natsConnection_JetStream(&p->js, p->c->nc, &jo);
	if ((rc = js_status(s, 0, "JetStream context", detail, cap)) != 0)
		goto fail;
	p->last_progress = now_ms();
	p->st.connected = js_connected(p->c);
	if ((rc = pthread_create(&p->thread, NULL, run, p)) != 0)
		goto fail;
	p->started = 1;
	*out = p;
	return 0;
fail:
	publisher_free(p);
	return rc;
}

void
js_publisher_stats(struct js_publisher *p, struct js_publisher_stats *st)
{
	pthread_mutex_lock(&p->mu);
	*st = p->st;
	st->acked_recno = p->base - 1;
	if (p->base < p->next)
		st->keep_from_ns = p->wall[p->base % p->o.max_inflight];
	else if (p->at_eof && p->stream_ok && js_connected(p->c))
		st->keep_from_ns = INT64_MAX;
	else
		st->keep_from_ns = p->last_read ? p->last_read_wall : 0;
	pthread_mutex_unlock(&p->mu);
}

int
js_publisher_stop(struct js_publisher *p, uint32_t wait_ms, struct js_publisher_stats *final)
{
	int rc;

	if (!p)
		return 0;
	pthread_mutex_lock(&p->mu);
	p->stop = wait_ms ? 1 : 2;
	p->stop_deadline = now_ms() + wait_ms;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	if (p->started)
		pthread_join(p->thread, NULL);
	if (final) {
		js_publisher_stats(p, final);
		final->keep_from_ns = 0;
	}
	if (!p->target_known) /* stopped at once: the thread is gone, its handle is free */
		p->stop_target = last_recno_of(p->rj);
	rc = p->base - 1 >= p->stop_target ? 0 : JS_ETIMEOUT;
	if (rc == 0 && p->st.last_err == JS_ENOSTREAM)
		rc = JS_ENOSTREAM;
	publisher_free(p);
	return rc;
}
