/* raw_server.c - the server side of the raw feed: the recorded frames, byte-exact
 *
 * No protocol: every server-to-client frame goes out as recorded, text and binary, the
 * client's messages are only counted (--gate holds the frames that followed one in the
 * recording until the client sends one), and a client refused by --token gets an error
 * object before the close. */
#include "feeds/feed_server.h"

static void
raw_unauthorized(void *conn, struct text_buf *b)
{
	text_buf_adds(b, "{\"type\":\"error\",\"message\":\"Invalid API key\"}");
}

const struct feed_server_ops raw_server_ops = {
	.help = "the recorded frames, byte-exact, text and binary",
	.gate = 1,
	.unauthorized = raw_unauthorized,
};
