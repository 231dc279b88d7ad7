/* session.c - sessions that outlive their connections for --grace, and the ids a feed makes */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "replay/fault.h"
#include "replay/server_int.h"
#include "util/clock.h"

/* A resume of a session whose connection is still open takes the session over: a client
 * reconnects when its old connection looks dead to it, and that one may be half-open
 * (no FIN seen by either end yet), so the server closes it rather than refuse the resume.
 * The old connection lets go of the session at once, so nothing it still does touches it. */
void
session_take_over(struct session *sess, struct client *c)
{
	struct client *old = sess->owner;
	if (old) {
		log_info("replay: client %u resumes session %s: closing client %u, its old connection", c->id,
			 sess->id, old->id);
		old->sess = NULL;
		old->taken_over = 1;
		lws_callback_on_writable(old->wsi);
		/* a half-open connection may never take the close frame */
		lws_set_timeout(old->wsi, PENDING_TIMEOUT_USER_OK, 1);
	}
	sess->owner = c;
	sess->connected = 1;
	c->sess = sess;
}

void
session_free(struct srv *s, struct session *x)
{
	if (x->feed && s->ops->session_free)
		s->ops->session_free(x->feed);
	free(x);
}

struct session *
session_find(struct srv *s, const char *id)
{
	int64_t now = pace_now();
	struct session **pp = &s->sessions;
	struct session *found = NULL;
	while (*pp) {
		struct session *x = *pp;
		if (!x->connected && now - x->left_mono > s->o->grace_ns) {
			*pp = x->next; /* expired */
			session_free(s, x);
			continue;
		}
		if (id && strcmp(x->id, id) == 0)
			found = x;
		pp = &x->next;
	}
	return found;
}

/* A seed for the ids of a run without --seed: the kernel's random bits, else the clock and
 * the process id. */
uint64_t
session_id_entropy(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v) || !v) {
		v = (uint64_t)clock_wall_ns() ^ ((uint64_t)getpid() << 32);
	}
	return v;
}

/* The n-th pair of 64 random bits of the run, for the ids the feed makes: the same under
 * --seed in every run, without --seed each process has its own. */
void
session_id_bits(struct srv *s, uint64_t *a, uint64_t *b)
{
	uint64_t st = s->id_seed ^ (++s->id_counter * 0x9E3779B97F4A7C15ULL);
	*a = fault_rng_next(&st);
	*b = fault_rng_next(&st);
}
