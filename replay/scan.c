/* scan.c - what the journal holds for a replay: where the range starts, its span, what the feed learns */
#include <string.h>

#include "replay/server_int.h"

int
scan_first_recno_of(const struct journal_conn_info *ci, void *ud)
{
	uint64_t *io = ud;
	if (ci->conn != (uint32_t)*io)
		return 0;
	*io = ci->first_recno;
	return 1;
}

static int
add_channel(const struct journal_channel_info *ci, void *ud)
{
	struct text_buf *names = ud;
	text_buf_add(names, ci->name, ci->name_len);
	text_buf_add(names, "", 1);
	return 0;
}

/* --from-cursor CHANNEL=CURSOR: the first record of that channel whose cursor is at or
 * after CURSOR. A bare CURSOR (also one with a '=' whose left side names no channel, as
 * opaque cursors may hold one): the first such record of any channel. */
static int
seek_from_cursor(struct srv *s, struct journal_reader *rd, const char *arg)
{
	struct text_buf names = { 0 };
	struct journal_reader *r2;
	struct journal_record r;
	const char *eq = strchr(arg, '=');
	uint64_t best = 0;
	int rc;

	if ((rc = journal_channel_foreach(s->j, add_channel, &names)) != 0) {
		text_buf_free(&names);
		return rc;
	}
	for (size_t at = 0; eq && at < names.len; at += strlen(names.p + at) + 1) {
		if (strlen(names.p + at) == (size_t)(eq - arg) &&
		    !memcmp(names.p + at, arg, (size_t)(eq - arg))) {
			text_buf_free(&names);
			return journal_reader_seek_cursor(rd, arg, (size_t)(eq - arg), eq + 1,
							  strlen(eq + 1));
		}
	}
	if ((rc = journal_reader_open(s->j, &r2)) != 0) {
		text_buf_free(&names);
		return rc;
	}
	for (size_t at = 0; at < names.len; at += strlen(names.p + at) + 1) {
		const char *ch = names.p + at;
		if (journal_reader_seek_cursor(r2, ch, strlen(ch), arg, strlen(arg)) == 0 &&
		    journal_reader_next(r2, &r) == 0 && (!best || r.recno < best))
			best = r.recno;
	}
	journal_reader_close(r2);
	text_buf_free(&names);
	return best ? journal_reader_seek_recno(rd, best) : JOURNAL_ENOTFOUND;
}

/* What the journal holds: where the range starts, its span, and what the feed learns from
 * its frames. */
int
scan_journal(struct srv *s)
{
	struct journal_reader *rd;
	struct journal_record r;
	int rc;

	if ((rc = journal_reader_open(s->j, &rd)) != 0)
		return rc;
	s->t0_wall = INT64_MIN;
	if (s->o->from_recno > 1)
		rc = journal_reader_seek_recno(rd, s->o->from_recno);
	else if (s->o->from_wall != INT64_MIN)
		rc = journal_reader_seek_time(rd, s->o->from_wall);
	else if (s->o->from_cursor)
		rc = seek_from_cursor(s, rd, s->o->from_cursor);
	if (rc) {
		journal_reader_close(rd);
		return rc == JOURNAL_ENOTFOUND ? REPLAY_EEMPTY : rc;
	}
	s->start_recno = 0;
	uint64_t seen = 0;
	uint32_t first_conn = 0;
	while ((rc = journal_reader_next(rd, &r)) == 0) {
		if (r.wall_ns >= s->o->to_wall)
			break;
		if (!s->start_recno)
			s->start_recno = r.recno;
		if (r.dir != JOURNAL_IN || (r.kind != JOURNAL_TEXT && r.kind != JOURNAL_BINARY))
			continue;
		if (s->o->conn >= 0 && r.conn != (uint32_t)s->o->conn)
			continue;
		if (s->t0_wall == INT64_MIN) {
			s->t0_wall = r.wall_ns;
			first_conn = r.conn;
		}
		s->span_wall = r.wall_ns - s->t0_wall;
		seen++;
		if (s->ops->scan) {
			struct feed_record fr;
			timeline_record_of(&r, &fr);
			s->ops->scan(s->fs, &fr);
		}
	}
	journal_reader_close(rd);
	if (s->ops->scan_end && seen && (rc == 0 || rc == JOURNAL_EOF))
		s->ops->scan_end(s->fs, first_conn);
	s->host.t0_wall = s->t0_wall;
	if (rc && rc != JOURNAL_EOF)
		return rc;
	return seen ? 0 : REPLAY_EEMPTY;
}
