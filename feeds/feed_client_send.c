/* feed_client_send.c - the --send messages every feed client sends after each connect, and
 * their withholding from another origin */
#include "feeds/feed_client_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
feed_send_list_free(struct feed_send_list *l)
{
	for (int i = 0; i < l->n; i++)
		free(l->msgs[i]);
	free(l->msgs);
	free(l->lens);
	memset(l, 0, sizeof(*l));
}

int
feed_send_list_copy(struct feed_send_list *l, const char *const *msgs, const size_t *lens, int n)
{
	memset(l, 0, sizeof(*l));
	if (n <= 0)
		return 0;
	l->msgs = calloc((size_t)n, sizeof(char *));
	l->lens = calloc((size_t)n, sizeof(size_t));
	if (!l->msgs || !l->lens)
		goto nomem;
	for (int i = 0; i < n; i++, l->n++) {
		size_t len = lens ? lens[i] : strlen(msgs[i]);
		if (!(l->msgs[i] = malloc(len + 1)))
			goto nomem;
		memcpy(l->msgs[i], msgs[i], len);
		l->msgs[i][len] = '\0';
		l->lens[i] = len;
	}
	return 0;
nomem:
	feed_send_list_free(l);
	return ENOMEM;
}

void
feed_client_set_foreign(struct feed_client *fc, int foreign)
{
	fc->foreign = foreign;
}

int
feed_client_withheld(const struct feed_client *fc)
{
	return fc->foreign ? fc->sends.n : 0;
}

void
feed_client_send_all(struct feed_client *fc, feed_send_fn send, void *ud)
{
	if (fc->foreign)
		return; /* they may hold credentials (an auth message) */
	for (int i = 0; i < fc->sends.n; i++)
		send(ud, fc->sends.msgs[i], fc->sends.lens[i]);
}
