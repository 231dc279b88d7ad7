/* ws_deflate.c - permessage-deflate (RFC 7692): the negotiation's answer and inflation */
#include "recorder/ws_deflate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "recorder/ws_frame.h"

/* The next token of v (up to one of stops, spaces around it trimmed). */
static size_t
token(const char **v, const char *end, const char *stops, const char **tok)
{
	const char *s = *v, *t;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	t = s;
	while (t < end && !strchr(stops, *t))
		t++;
	*v = t;
	while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
		t--;
	*tok = s;
	return (size_t)(t - s);
}

static int
is(const char *t, size_t n, const char *name)
{
	return n == strlen(name) && !strncasecmp(t, name, n);
}

/* "8".."15", quoted or not; -1 when not one */
static int
window_bits(const char *t, size_t n)
{
	int v = 0;

	if (n >= 2 && t[0] == '"' && t[n - 1] == '"')
		t++, n -= 2;
	if (n < 1 || n > 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (t[i] < '0' || t[i] > '9')
			return -1;
		v = v * 10 + (t[i] - '0');
	}
	return v >= 8 && v <= 15 ? v : -1;
}

int
ws_deflate_response(const char *v, size_t n, struct ws_deflate_params *pr, const char **why)
{
	const char *end = v + n, *t;
	size_t tl;
	unsigned seen = 0;

	memset(pr, 0, sizeof(*pr));
	pr->server_max_window_bits = pr->client_max_window_bits = 15;
	tl = token(&v, end, ";,", &t);
	if (!is(t, tl, "permessage-deflate")) {
		*why = "the server accepted an extension that was not offered";
		return -1;
	}
	while (v < end && *v == ';') {
		const char *val = NULL;
		size_t vl = 0, nl;
		const char *nm;
		unsigned bit;
		v++;
		nl = token(&v, end, "=;,", &nm);
		if (v < end && *v == '=') {
			v++;
			vl = token(&v, end, ";,", &val);
		}
		if (is(nm, nl, "server_no_context_takeover") && !val) {
			bit = 1;
			pr->server_no_context_takeover = 1;
		} else if (is(nm, nl, "client_no_context_takeover") && !val) {
			bit = 2;
			pr->client_no_context_takeover = 1;
		} else if (is(nm, nl, "server_max_window_bits") && val) {
			bit = 4;
			if ((pr->server_max_window_bits = window_bits(val, vl)) < 0) {
				*why = "permessage-deflate: a bad server_max_window_bits";
				return -1;
			}
		} else if (is(nm, nl, "client_max_window_bits")) {
			/* offered without a value, so the server may name one */
			bit = 8;
			if (!val || (pr->client_max_window_bits = window_bits(val, vl)) < 0) {
				*why = "permessage-deflate: a bad client_max_window_bits";
				return -1;
			}
		} else {
			*why = "permessage-deflate: an unknown parameter in the server's answer";
			return -1;
		}
		if (seen & bit) {
			*why = "permessage-deflate: a parameter named twice in the server's answer";
			return -1;
		}
		seen |= bit;
	}
	if (v < end) {
		*why = "the server accepted more than one extension";
		return -1;
	}
	return 0;
}

int
ws_inflater_init(struct ws_inflater *d, const struct ws_deflate_params *pr)
{
	memset(&d->z, 0, sizeof(d->z));
	/* a window of 15 bits inflates what any smaller window compressed */
	if (inflateInit2(&d->z, -15) != Z_OK)
		return ENOMEM;
	d->ready = 1;
	d->no_takeover = pr->server_no_context_takeover;
	return 0;
}

void
ws_inflater_free(struct ws_inflater *d)
{
	if (d->ready)
		inflateEnd(&d->z);
	d->ready = 0;
}

int
ws_inflate(struct ws_inflater *d, const uint8_t *in, size_t n, int last, struct text_buf *out, size_t limit)
{
	static const uint8_t tail[4] = { 0x00, 0x00, 0xff, 0xff };
	int dropped = 0;

	if (!d->ready)
		return WS_E_INFLATE;
	for (int pass = 0; pass < (last ? 2 : 1); pass++) {
		d->z.next_in = (Bytef *)(pass ? tail : in);
		d->z.avail_in = pass ? (uInt)sizeof(tail) : (uInt)n;
		for (;;) {
			int keep = !limit || out->len < limit, rc;
			size_t room = 0, made;
			if (keep) {
				size_t want = d->z.avail_in * 4 + 1024;
				if (limit && want > limit - out->len)
					want = limit - out->len;
				if (text_buf_reserve(out, want))
					return WS_E_INFLATE;
				room = out->cap - out->len - 1;
				if (room > UINT32_MAX)
					room = UINT32_MAX;
				if (limit && room > limit - out->len)
					room = limit - out->len;
				d->z.next_out = (Bytef *)out->p + out->len;
				d->z.avail_out = (uInt)room;
			} else {
				d->z.next_out = d->scratch;
				d->z.avail_out = sizeof(d->scratch);
			}
			rc = inflate(&d->z, Z_SYNC_FLUSH);
			made = (keep ? room : sizeof(d->scratch)) - d->z.avail_out;
			if (keep) {
				out->len += made;
				out->p[out->len] = '\0';
			} else if (made) {
				dropped = 1;
			}
			if (rc == Z_STREAM_END) {
				/* a final deflate block: the next bytes (the tail, another message)
				 * begin a new stream */
				inflateReset(&d->z);
				if (pass) {
					d->z.avail_in = 0;
					break;
				}
				continue;
			}
			if (rc == Z_BUF_ERROR)
				break; /* no progress: all input taken and all output out */
			if (rc != Z_OK)
				return WS_E_INFLATE;
			if (!d->z.avail_in && d->z.avail_out)
				break;
		}
		if (d->z.avail_in)
			return WS_E_INFLATE;
	}
	if (last && d->no_takeover)
		inflateReset(&d->z);
	return dropped;
}
