/* hydromancer_cursor.c - the Hydromancer docs' three cursor formats, for the recorder (which
 * cursor to resume from), replay (what a client's cursor means on each channel) and tests */
#include <string.h>

#include "feeds/feed.h"
#include "feeds/json_scan.h"

int
hm_cursor_parse(const char *p, size_t n, struct hm_cursor *c)
{
	int64_t part[3] = { 0, 0, 0 };
	int k = 0;
	const char *end = p + n;

	memset(c, 0, sizeof(*c));
	if (!n)
		return -1;
	while (p <= end) {
		const char *q = memchr(p, ':', (size_t)(end - p));
		if (!q)
			q = end;
		if (k == 3 || q == p || json_scan_int(p, (size_t)(q - p), &part[k]) != 0 || part[k] < 0 ||
		    *p == '"' || *p == '-')
			return -1;
		k++;
		p = q + 1;
	}
	c->fmt = k;
	if (k == 1) {
		c->ts = part[0];
	} else {
		c->block = part[0];
		c->ts = part[1];
		c->tx = k == 3 ? part[2] : 0;
	}
	return 0;
}

int
hm_cursor_newer(const struct hm_cursor *ev, const struct hm_cursor *client)
{
	if (ev->fmt != client->fmt)
		return ev->ts >= client->ts; /* inclusive: a duplicate, never a loss */
	if (ev->fmt == 1)
		return ev->ts > client->ts;
	if (ev->block != client->block)
		return ev->block > client->block;
	if (ev->ts != client->ts)
		return ev->ts > client->ts;
	return ev->tx > client->tx;
}
