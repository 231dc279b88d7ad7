/* timeline.c - a client's timeline: the journal's records as the feed serves them, read ahead one frame */
#include <stdlib.h>
#include <string.h>

#include "replay/server_int.h"

/* A journal record as the feed reads it. */
void
timeline_record_of(const struct journal_record *r, struct feed_record *fr)
{
	fr->recno = r->recno;
	fr->wall_ns = r->wall_ns;
	fr->conn = r->conn;
	fr->dir = r->dir == JOURNAL_IN ? FEED_REC_IN : FEED_REC_OUT;
	switch (r->kind) {
	case JOURNAL_TEXT: fr->kind = FEED_REC_TEXT; break;
	case JOURNAL_BINARY: fr->kind = FEED_REC_BINARY; break;
	case JOURNAL_OPEN: fr->kind = FEED_REC_OPEN; break;
	case JOURNAL_CLOSE: fr->kind = FEED_REC_CLOSE; break;
	default: fr->kind = FEED_REC_OTHER; break;
	}
	fr->channel = r->channel;
	fr->channel_len = r->channel_len;
	fr->payload = r->payload;
	fr->payload_len = r->payload_len;
}

/* Is this record a server-to-client frame of the range, that the feed may serve (1), or
 * not (0). */
static int
eligible(struct client *c, const struct journal_record *r)
{
	struct replay_options *o = c->s->o;
	if (r->dir != JOURNAL_IN || (r->kind != JOURNAL_TEXT && r->kind != JOURNAL_BINARY))
		return 0;
	return o->conn < 0 || r->conn == (uint32_t)o->conn;
}

static void
client_rewind(struct client *c)
{
	struct srv *s = c->s;
	if (s->start_recno > 1)
		journal_reader_seek_recno(c->rd, s->start_recno);
	else
		journal_reader_seek_recno(c->rd, 1);
	c->eof = 0;
	if (c->s->ops->rewind)
		c->s->ops->rewind(c->fc);
}

/* A frame the feed made as the client's next frame. */
static int
next_of(struct client *c, const struct feed_frame *ff)
{
	struct out_frame *f = queue_frame_new_cur(ff->p, ff->skip ? 0 : ff->n, ff->binary, ff->cursor.p,
						  ff->skip ? 0 : ff->cursor.len);
	if (!f)
		return ENOMEM;
	f->skip = ff->skip;
	f->tag = ff->skip ? -1 : ff->tag;
	f->data = 1;
	f->recno = ff->recno;
	f->due = pace_due(&c->tl, ff->wall_ns);
	/* remember where this frame's gate stands */
	f->close_after = (int)(c->gate_need > 0x7fffffff ? 0x7fffffff : c->gate_need);
	c->next = f;
	c->next_wall = ff->wall_ns;
	c->next_recno = ff->recno;
	return 0;
}

/* The record as the feed serves it: 1 and *ff, 0 when it is not served, or a negative errno. */
static int
frame_of(struct client *c, const struct journal_record *r, struct feed_frame *ff)
{
	if (c->s->ops->frame) {
		struct feed_record fr;
		timeline_record_of(r, &fr);
		return c->s->ops->frame(c->fc, &fr, ff);
	}
	memset(ff, 0, sizeof(*ff));
	ff->p = r->payload;
	ff->n = r->payload_len;
	ff->binary = r->kind == JOURNAL_BINARY;
	ff->tag = -1;
	ff->wall_ns = r->wall_ns;
	ff->recno = r->recno;
	return 1;
}

/* Read ahead the next frame of the timeline into c->next (unless it is there). */
int
timeline_read_next(struct client *c)
{
	const struct feed_server_ops *ops = c->s->ops;
	struct journal_record r;
	struct feed_frame ff;
	int rc;

	if (c->next || c->eof || c->lf)
		return 0;
	if (!c->rd) {
		c->eof = 1; /* a client of the shared timeline that left it */
		return 0;
	}
	for (int wraps = 0;;) {
		if (ops->pending && (rc = ops->pending(c->fc, &ff)) != 0)
			return rc < 0 ? -rc : next_of(c, &ff);
		rc = journal_reader_next(c->rd, &r);
		if (rc == JOURNAL_EOF || (rc == 0 && r.wall_ns >= c->s->o->to_wall)) {
			/* play the recording again, right after its end; a whole pass with nothing
			 * for this client means there never will be */
			if (c->s->o->loop && wraps++ == 0) {
				c->tl.start_mono += pace_loop_period(&c->tl, c->s->span_wall);
				client_rewind(c);
				continue;
			}
			c->eof = 1;
			return 0;
		}
		if (rc) {
			log_error("replay: reading the journal: %s: %s", journal_strerror(rc),
				  journal_last_detail(c->s->j));
			c->eof = 1;
			return rc;
		}
		if (c->s->o->gate && r.dir == JOURNAL_OUT &&
		    (r.kind == JOURNAL_TEXT || r.kind == JOURNAL_BINARY)) {
			c->gate_need++;
			continue;
		}
		if (!eligible(c, &r) || (rc = frame_of(c, &r, &ff)) == 0)
			continue;
		return rc < 0 ? -rc : next_of(c, &ff);
	}
}

/* Where the client's timeline stands: the first record it has not been sent (its
 * read-ahead frame, the feed's pending frame, or its reader's next record); a resume's
 * replay holds only what lies before it. INT64_MAX / UINT64_MAX when its timeline is over. */
void
timeline_edge(struct client *c, int64_t *wall, uint64_t *recno)
{
	const struct feed_server_ops *ops = c->s->ops;
	struct journal_record r;
	*wall = INT64_MAX;
	*recno = UINT64_MAX;
	if (c->lf) {
		*recno = c->lf->end ? UINT64_MAX : c->lf->recno;
	} else if (!c->rd) {
		/* not on a timeline */
	} else if (c->next) {
		*recno = c->next_recno;
	} else if (ops->pending_recno && ops->pending_recno(c->fc, recno)) {
		/* the pending frame's point is the record before what the reader reads */
	} else if (!c->eof && journal_reader_next(c->rd, &r) == 0) {
		*recno = r.recno;
		journal_reader_seek_recno(c->rd, r.recno);
	}
}

static void
start_timeline(struct client *c, struct pace *tl, int at_edge)
{
	struct srv *s = c->s;
	c->tl = *tl;
	if (s->ops->rewind)
		s->ops->rewind(c->fc);
	if (at_edge && tl->speed > 0) {
		int64_t now = pace_now(), period = s->o->loop ? pace_loop_period(&c->tl, s->span_wall) : 0;
		/* with --loop the live edge is in the timeline's current pass, not past the end */
		pace_loop_align(&c->tl, period, now);
		int64_t edge = pace_edge(&c->tl, now);
		if (journal_reader_seek_time(c->rd, edge) != 0) {
			if (period) {
				/* between two passes: the next one is what comes */
				client_rewind(c);
				c->tl.start_mono += period;
			} else {
				c->eof = 1;
			}
		}
	} else if (at_edge && c->sess && c->sess->next_recno) {
		/* as fast as possible, a session goes on where its last connection stopped */
		if (journal_reader_seek_recno(c->rd, c->sess->next_recno) != 0)
			c->eof = 1;
	} else {
		client_rewind(c);
		/* the timeline plays from the moment the connection can send, not from the
		 * handshake: the first WRITEABLE comes a little later */
		c->anchor = tl->speed > 0;
	}
	c->started = 1;
}

/* A resumed session goes on with the first record it was not sent, paced as if no time had
 * passed; with --loop from the next pass when none is left, else at the end. */
static void
resume_timeline(struct client *c)
{
	struct srv *s = c->s;
	struct pace tl;

	pace_init(&tl, s->o->speed, s->t0_wall, 0);
	c->tl = tl;
	c->started = 1;
	if (journal_reader_seek_recno(c->rd, c->sess->next_recno) == 0)
		c->resume_wall = c->last_sent_wall = c->sess->last_wall;
	else if (s->o->loop)
		start_timeline(c, &tl, 0); /* the next pass, from its start */
	else
		c->eof = 1;
}

void
timeline_start(struct client *c, enum feed_timeline how)
{
	struct srv *s = c->s;
	struct pace tl;

	switch (how) {
	case FEED_TL_LIVE:
		/* one timeline read and framed for all clients (live.c), else one of its own */
		if (s->shared && c->wsi && live_join(c) == 0)
			break;
		if (!c->rd && journal_reader_open(s->j, &c->rd) != 0) {
			c->close_now = 1;
			break;
		}
		start_timeline(c, &s->live, 1);
		break;
	case FEED_TL_SESSION: start_timeline(c, &c->sess->tl, 1); break;
	case FEED_TL_RESUME: resume_timeline(c); break;
	default:
		pace_init(&tl, s->o->speed, s->t0_wall, 0);
		if (c->sess)
			c->sess->tl = tl;
		start_timeline(c, &tl, 0);
		break;
	}
}
