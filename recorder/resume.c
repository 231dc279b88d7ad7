/* resume.c - where a recording resumes from: the session id and cursors of a journal's tail */
#include "recorder/recorder_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/log.h"

struct chan_fill {
	struct feed_cursor_track *trk;
	const char *subs; /* the journal's subscriptions, comma-separated ("" = any) */
};

static int
name_listed(const char *list, const char *name, size_t n)
{
	for (const char *p = list; *p;) {
		size_t l = strcspn(p, ",");
		if (l == n && !memcmp(p, name, n))
			return 1;
		p += l;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
fill_channel(const struct journal_channel_info *ci, void *ud)
{
	struct chan_fill *f = ud;

	if (ci->last_cursor_len && (!f->subs[0] || name_listed(f->subs, ci->name, ci->name_len)) &&
	    !feed_cursor_track_has(f->trk, ci->name, ci->name_len))
		feed_cursor_track_set(f->trk, ci->name, ci->name_len, (const char *)ci->last_cursor,
				      ci->last_cursor_len);
	return 0;
}

int
recorder_resume_track(struct journal *j, const struct feed *fd, char *sid, size_t sid_size,
		      struct feed_cursor_track *trk)
{
	struct journal_reader *rd;
	struct journal_stats st;
	struct journal_record rec;
	const char *chans_meta = fd && fd->client ? fd->client->channels_meta : NULL;
	const char *v = journal_meta_get(j, "session_id");
	uint64_t from;
	int err;

	rec_meta_unescape(sid, sid_size, v ? v : "");
	feed_cursor_track_init(trk, fd);
	if ((err = journal_stats(j, &st)) || !st.records)
		return err;
	/* Scan back from the end in growing windows until a record with a cursor shows up.
	 * A feed with a tracker of its own has its frames go through it, so that a resume that
	 * was cut off in the middle of a replay resumes from the last replay chunk, not from a
	 * live message that ran ahead of it. */
	for (uint64_t win = 4096;; win *= 8) {
		from = st.last_recno > win ? st.last_recno - win : 1;
		if ((err = journal_reader_open(j, &rd)))
			return err;
		feed_cursor_track_init(trk, fd);
		err = journal_reader_seek_recno(rd, from);
		while (!err && !(err = journal_reader_next(rd, &rec))) {
			if (rec.dir == JOURNAL_IN)
				feed_cursor_track_record(trk, rec.kind == JOURNAL_TEXT, rec.payload,
							 rec.payload_len, rec.cursor, rec.cursor_len,
							 rec.wall_ns / 1000000);
		}
		journal_reader_close(rd);
		if (err != JOURNAL_EOF)
			return err;
		if (trk->cursor[0] || from == 1)
			break;
	}
	/* A subscribed channel whose last message lies before the window resumes from its
	 * last cursor in the index: the oldest of the channels' cursors is the one sent. */
	if (chans_meta && from > 1) {
		const char *subs = journal_meta_get(j, chans_meta);
		struct chan_fill f = { trk, subs ? subs : "" };
		if ((err = journal_channel_foreach(j, fill_channel, &f)))
			return err;
	}
	return 0;
}
