/* ws_deflate.h - permessage-deflate (RFC 7692) for the client side: the server's answer to
 * the offer, and the inflation of the server's compressed messages.
 *
 * The client offers "permessage-deflate; client_max_window_bits" and sends its own
 * messages uncompressed (RSV1 clear, which RFC 7692 allows), so only inflation is here.
 * No printing; zlib's errors are translated to WS_E_INFLATE (ws_frame.h).
 */
#ifndef WSTAPE_WS_DEFLATE_H
#define WSTAPE_WS_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "util/text.h"

/* The offer, as it goes in Sec-WebSocket-Extensions. */
#define WS_DEFLATE_OFFER "permessage-deflate; client_max_window_bits"

/* What the server agreed to. */
struct ws_deflate_params {
	int server_no_context_takeover; /* the server resets its window after each message */
	int client_no_context_takeover;
	int server_max_window_bits; /* 8..15 (15 when not named) */
	int client_max_window_bits; /* 8..15 (15 when not named) */
};

/* The value of the response's Sec-WebSocket-Extensions, v[0..n), to the offer above:
 * exactly one permessage-deflate with known, unrepeated, valid parameters (RFC 7692
 * section 7.1). Returns 0, or -1 with *why saying what is wrong (static). */
int ws_deflate_response(const char *v, size_t n, struct ws_deflate_params *pr, const char **why);

/* The inflater of one connection. Zero-initialise, ws_inflater_init, ws_inflater_free. */
struct ws_inflater {
	z_stream z;
	int ready;
	int no_takeover;
	uint8_t scratch[16384]; /* output past the message limit goes here and is lost */
};

/* Returns 0 or ENOMEM. */
int ws_inflater_init(struct ws_inflater *d, const struct ws_deflate_params *pr);
void ws_inflater_free(struct ws_inflater *d);

/* Inflate in[0..n), a piece of a compressed message, appending the output to out; last:
 * the message's last piece (the 00 00 ff ff that RFC 7692 removed is put back, and without
 * context takeover the window is reset). Output beyond limit bytes of out (0: no limit) is
 * inflated (the window needs it) but not kept. Returns 0, 1 when output was not kept, or
 * WS_E_INFLATE (corrupt data, or ENOMEM in out). */
int
ws_inflate(struct ws_inflater *d, const uint8_t *in, size_t n, int last, struct text_buf *out, size_t limit);

#endif
