/* ws_frame.h - RFC 6455 framing for the client side: a parser of the server's frames that
 * walks a received block frame by frame and hands payloads over without copying them, a
 * builder of the client's (masked) frames, the close frame's payload and incremental UTF-8
 * validation.
 *
 * No I/O, no allocation, no printing: the caller reads the socket and gives the parser what
 * it read, in blocks of any size; frames may straddle blocks at any byte.
 *
 * Errors are negative WS_E_* values, each a violation of RFC 6455 (or RFC 7692) by the
 * peer; ws_strerror() says what was wrong, ws_error_close_code() the close code to fail the
 * connection with. Once the parser has returned an error it returns it again.
 */
#ifndef WSTAPE_WS_FRAME_H
#define WSTAPE_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
	WS_OP_CONT = 0x0,
	WS_OP_TEXT = 0x1,
	WS_OP_BINARY = 0x2,
	WS_OP_CLOSE = 0x8,
	WS_OP_PING = 0x9,
	WS_OP_PONG = 0xa,
};

enum {
	WS_E_OPCODE = -1, /* a reserved opcode */
	WS_E_RSV = -2, /* RSV bits set that no extension allows */
	WS_E_CTRL_FRAG = -3, /* a control frame without FIN */
	WS_E_CTRL_LEN = -4, /* a control frame longer than 125 bytes */
	WS_E_CONT = -5, /* a continuation frame with no message under way */
	WS_E_NOFIN = -6, /* a new data frame inside a fragmented message */
	WS_E_LEN64 = -7, /* a 64-bit length with its most significant bit set */
	WS_E_MASKED = -8, /* a masked frame from the server */
	WS_E_TOOBIG = -9, /* a frame longer than the parser's max_frame (close 1009) */
	WS_E_CTRL_RSV1 = -10, /* a compressed control frame (RFC 7692 section 6) */
	WS_E_CLOSE_LEN = -11, /* a close payload of one byte */
	WS_E_CLOSE_CODE = -12, /* a close code that may not be sent */
	WS_E_UTF8 = -13, /* text (or a close reason) that is not UTF-8 (close 1007) */
	WS_E_INFLATE = -14, /* a compressed message that does not inflate (close 1007) */
	WS_E_MAX_ = -15,
};

/* What was wrong, for an error of this header ("a frame with a reserved opcode"). */
const char *ws_strerror(int err);
/* The close code to fail the connection with for err: 1002, 1007 or 1009. */
int ws_error_close_code(int err);

/* One piece of what the parser found. Data (WS_OP_TEXT, WS_OP_BINARY: the type of the
 * message the bytes belong to, whatever the frame's opcode): some or all of one frame's
 * payload, in order; every data frame yields at least one chunk (an empty one when its
 * payload is empty), so that an empty message is seen too. Control (WS_OP_CLOSE,
 * WS_OP_PING, WS_OP_PONG): one chunk with the frame's whole payload, possibly between two
 * chunks of a fragmented message. p points into the caller's block (data) or into the parser
 * (control) and is valid during the callback only. */
struct ws_chunk {
	int opcode;
	const uint8_t *p;
	size_t n;
	int first; /* the message's first bytes */
	int last; /* the message's last bytes (the end of its FIN frame) */
	int frame_first; /* the first bytes of this frame */
	int frame_last; /* the last bytes of this frame */
	int compressed; /* the message is compressed (RSV1 on its first frame, RFC 7692) */
};

/* Returns 0 to go on; anything else stops the parse, which returns it (make it > 0). */
typedef int (*ws_chunk_fn)(void *ud, const struct ws_chunk *c);

/* Zero-initialise; set the options before the first block. */
struct ws_parser {
	uint64_t max_frame; /* a longer frame is WS_E_TOOBIG; 0: no limit */
	int rsv1_ok; /* permessage-deflate was negotiated */
	/* state */
	int err;
	uint8_t hdr[14];
	unsigned hlen; /* header bytes kept from an earlier block */
	int in_payload;
	uint64_t left; /* payload bytes of the current frame still to come */
	uint8_t op, fin, frame_first;
	uint8_t msg_op; /* WS_OP_TEXT or WS_OP_BINARY while a message is under way, else 0 */
	uint8_t msg_compressed, msg_first;
	uint8_t ctrl[125];
	unsigned clen;
};

/* Parse buf[0..len): calls fn for every chunk found. Returns 0 when all of it was taken (an
 * unfinished frame is kept for the next block), a WS_E_* error, or fn's nonzero value
 * (then the bytes after that chunk are not parsed). */
int ws_parse(struct ws_parser *p, const uint8_t *buf, size_t len, ws_chunk_fn fn, void *ud);

/* A message is under way (some but not all of its frames have come). */
int ws_parser_in_message(const struct ws_parser *p);

/* The largest header of a frame (with the mask). */
#define WS_FRAME_HEADER_MAX 14

/* A client frame: the header and payload p[0..n) masked with mask into out, which must hold
 * WS_FRAME_HEADER_MAX + n bytes (out and p must not overlap). Returns the frame's length. */
size_t ws_frame_build(uint8_t *out, int opcode, int fin, const void *p, size_t n, const uint8_t mask[4]);

/* The payload of a close frame: its code (1005 when it has none) and reason. Returns 0, or
 * WS_E_CLOSE_LEN, WS_E_CLOSE_CODE (1005, 1006, 1015, below 1000, 1004, 1016-2999, 5000
 * and above) or WS_E_UTF8 (the reason). */
int ws_close_parse(const uint8_t *p, size_t n, int *code, const uint8_t **reason, size_t *rlen);
/* A code an endpoint may send in a close frame. */
int ws_close_code_valid(int code);

/* Incremental UTF-8 validation: zero-initialise, feed the bytes of one message in pieces
 * cut anywhere; ws_utf8_feed fails as soon as the bytes so far cannot begin valid UTF-8,
 * ws_utf8_end when the message ends inside a character. Both return 0 or WS_E_UTF8. */
struct ws_utf8 {
	uint8_t need, lo, hi;
};
int ws_utf8_feed(struct ws_utf8 *u, const uint8_t *s, size_t n);
int ws_utf8_end(const struct ws_utf8 *u);

#endif
