/* dups.c - what came twice: exact duplicate frames (within one connection) and repeated
 * events, told apart from distinct events that share a dedup key (docs/INSPECT.md,
 * "Duplicates: the same event, not the same key") */
#include "inspect/internal.h"

#include <inttypes.h>
#include <string.h>

/* An exact duplicate of a frame received earlier on the same connection: counted, and 1
 * returned (nothing else is read from it). Within one connection: a feed may announce its
 * state again after a reconnect, or start its sequence again, so repeats across
 * connections are not frames sent twice (repeated events are found by the event rules). */
int
inspect_frame_dup(struct inspect *in, struct channel *c, const struct journal_record *rec, const char *name,
		  size_t name_len)
{
	uint64_t h, val;
	struct inspect_at at = { rec->recno, 0, rec->wall_ns, 0, rec->conn, name, name_len };

	if (!rec->payload_len)
		return 0;
	h = feed_hash(rec->payload, rec->payload_len) ^
		((uint64_t)rec->conn << 8 | rec->kind) * 0x9e3779b97f4a7c15ULL;
	if (!inspect_seen_find_or_put(in->frames, h, rec->recno, &val))
		return 0;
	c->dup_frames++;
	at.recno_before = val;
	inspect_finding(in, F_DUP_FRAME, &at, "exact duplicate of frame #%" PRIu64 " (%zu bytes)", val,
			rec->payload_len);
	return 1;
}

struct ev_ctx {
	struct inspect *in;
	struct channel *c;
	const struct journal_record *rec;
	int replay;
	uint64_t dups, overlaps, first_dup_orig, first_overlap_orig;
};

/* 1 when role hash rh is in roles (the roles seen at one (time, txIndex)); else remembers
 * it (up to KEY_ROLES; beyond, a role counts as seen) and returns 0. */
static int
key_role_seen(uint64_t *roles, int *n, uint64_t rh)
{
	for (int i = 0; i < *n; i++)
		if (roles[i] == rh)
			return 1;
	if (*n == KEY_ROLES)
		return 1;
	roles[(*n)++] = rh;
	return 0;
}

static int
on_event(const struct feed_event *ev, void *ud)
{
	struct ev_ctx *x = ud;
	struct channel *c = x->c;
	int keyed = ev->key_time >= 0;
	int at_or_before;
	/* channels whose key has no role all have the empty one, 0 */
	uint64_t val, rh = ev->key_role.len ? feed_hash(ev->key_role.p, ev->key_role.len) : 0;

	c->events++;
	if (x->replay)
		c->replay_events++;
	if (!c->seen && !(c->seen = inspect_seen_new(INSPECT_EVENT_WINDOW)))
		return 0;
	at_or_before = keyed &&
		(ev->key_time < c->max_time || (ev->key_time == c->max_time && ev->key_tx <= c->max_tx));
	if ((!keyed || at_or_before) &&
	    inspect_seen_find_or_put(c->seen, ev->hash, x->rec->recno << 1 | (uint64_t)x->replay, &val)) {
		/* the same event again: the same bytes, within the window */
		if ((int)(val & 1) != x->replay) {
			if (!x->overlaps++)
				x->first_overlap_orig = val >> 1;
			c->overlap_events++;
		} else {
			if (!x->dups++)
				x->first_dup_orig = val >> 1;
			c->dup_events++;
		}
		return 0;
	}
	/* not seen before: a distinct event (identity is the event's bytes, role included) */
	if (at_or_before) {
		int same_prev = ev->key_time == c->prev_time && ev->key_tx == c->prev_tx;
		int same_max = ev->key_time == c->max_time && ev->key_tx == c->max_tx;

		if (same_prev || same_max) {
			/* the same transaction as the previous event or as the newest one: the
			   same full key (role included) is shared; a role not seen yet in it is
			   a key of its own, neither shared nor late */
			int seen = 0;
			if (same_prev)
				seen |= key_role_seen(c->prev_roles, &c->nprev_roles, rh);
			if (same_max)
				seen |= key_role_seen(c->max_roles, &c->nmax_roles, rh);
			if (seen)
				c->shared_key_events++;
		} else {
			c->late_events++;
		}
	}
	if (keyed && !at_or_before) {
		/* a key past every key seen: a new event, nothing to look up */
		inspect_seen_put(c->seen, ev->hash, x->rec->recno << 1 | (uint64_t)x->replay);
		c->max_time = ev->key_time;
		c->max_tx = ev->key_tx;
		c->max_roles[0] = rh;
		c->nmax_roles = 1;
	}
	if (keyed && (ev->key_time != c->prev_time || ev->key_tx != c->prev_tx)) {
		c->prev_time = ev->key_time;
		c->prev_tx = ev->key_tx;
		c->prev_roles[0] = rh;
		c->nprev_roles = 1;
	}
	return 0;
}

void
inspect_events_scan(struct inspect *in, struct channel *c, const struct journal_record *rec,
		    const struct feed_msg *m, int replay)
{
	struct ev_ctx x = { in, c, rec, replay, 0, 0, 0, 0 };
	uint64_t before = c->events;
	struct inspect_at at = { rec->recno, 0, rec->wall_ns, 0, rec->conn, c->name, c->name_len };

	/* the message parsed as an object (brackets balance), but its events array does not:
	   the payload is not JSON, a finding like any other (events before the fault count) */
	if (feed_events_foreach(in->opt.feed, m, on_event, &x) < 0) {
		in->not_json++;
		c->not_json++;
		inspect_finding(in, F_NOT_JSON, &at,
				"payload of %zu bytes is not JSON: its %s array is malformed (%" PRIu64
				" event%s read before the fault)",
				rec->payload_len, replay ? "replay data" : "events", c->events - before,
				c->events - before == 1 ? "" : "s");
	}
	if (x.overlaps)
		inspect_finding(in, F_OVERLAP, &at,
				"%" PRIu64 " event%s of this %s %s already received %s (first at #%" PRIu64
				")",
				x.overlaps, x.overlaps > 1 ? "s" : "",
				replay ? "replay chunk" : "live message", x.overlaps > 1 ? "were" : "was",
				replay ? "live" : "in a replay", x.first_overlap_orig);
	if (x.dups)
		inspect_finding(in, F_DUP_EVENT, &at,
				"%" PRIu64 " event%s of this %s %s already received (first at #%" PRIu64 ")",
				x.dups, x.dups > 1 ? "s" : "", replay ? "replay chunk" : "live message",
				x.dups > 1 ? "were" : "was", x.first_dup_orig);
	inspect_timeline_add(in, c, rec->wall_ns, 0, c->events - before);
}
