/* ws_upgrade.h - the client's opening handshake (RFC 6455 section 4.1): the HTTP/1.1
 * upgrade request, and the checks of the server's response (101, Upgrade, Connection,
 * Sec-WebSocket-Accept, the extensions: permessage-deflate or none).
 *
 * No I/O, no printing. The request's headers come from the caller, each "Name" and
 * "value" (a name may end in ':'); CR or LF in either is refused.
 */
#ifndef WSTAPE_WS_UPGRADE_H
#define WSTAPE_WS_UPGRADE_H

#include <stddef.h>

#include "recorder/ws_deflate.h"
#include "util/text.h"

#define WS_KEY_LEN 24 /* base64 of 16 random bytes */
/* The response's head is at most this long. */
#define WS_UPGRADE_HEAD_MAX 16384

/* A new random Sec-WebSocket-Key into key (WS_KEY_LEN + 1 bytes). Returns 0 or EIO. */
int ws_upgrade_key(char key[WS_KEY_LEN + 1]);
/* The Sec-WebSocket-Accept that answers key, into accept (29 bytes with the NUL). */
void ws_upgrade_accept(const char *key, char accept[29]);

struct ws_upgrade_request {
	const char *host; /* as in the URL (an IPv6 address without brackets) */
	int port;
	int tls; /* for the default port and the Origin's scheme */
	const char *path; /* "/..." with the query */
	const char *key;
	int deflate; /* offer permessage-deflate */
	const char *const *names; /* more headers */
	const char *const *values;
	int nheaders;
};

/* The request into out (appended). Returns 0, EINVAL (CR or LF in a header, a name with
 * a space or nothing) or ENOMEM. */
int ws_upgrade_request(const struct ws_upgrade_request *q, struct text_buf *out);

enum {
	WS_UPGRADE_MORE = 0, /* the head is not complete yet: give more */
	WS_UPGRADE_OK = 1, /* 101 and all checks passed */
	WS_UPGRADE_STATUS = 2, /* another status: status, location */
	WS_UPGRADE_BAD = -1, /* not an acceptable answer: why */
};

struct ws_upgrade_response {
	int status;
	const char *location; /* of a 3xx, into the caller's buffer; NULL when absent */
	size_t location_len;
	int deflate; /* permessage-deflate was accepted: params */
	struct ws_deflate_params params;
	size_t head_len; /* the head's bytes: what follows are frames */
	char why[160];
};

/* The response so far, buf[0..n), to a request with key that offered deflate (or not).
 * Returns a WS_UPGRADE_* value and fills *r. */
int
ws_upgrade_response(const char *buf, size_t n, const char *key, int deflate, struct ws_upgrade_response *r);

#endif
