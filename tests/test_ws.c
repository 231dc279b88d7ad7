/* test_ws.c - the client side of RFC 6455 and RFC 7692 as wstape's own receive path does it:
 * the frame parser (fragmentation, control frames inside fragmented messages, lengths,
 * every violation a server can commit, frames cut at every byte), close codes, UTF-8 across
 * fragments, the client's masked frames, permessage-deflate with and without context
 * takeover, and the opening handshake */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "recorder/ws_deflate.h"
#include "recorder/ws_frame.h"
#include "recorder/ws_upgrade.h"

/* ---- helpers ---- */

/* A server frame (unmasked): b0 is FIN | RSV | opcode. Returns its length. */
static size_t
srv(uint8_t *out, int b0, const void *p, size_t n)
{
	size_t h = 2;

	out[0] = (uint8_t)b0;
	if (n < 126) {
		out[1] = (uint8_t)n;
	} else if (n <= 0xffff) {
		out[1] = 126;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		h = 4;
	} else {
		out[1] = 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	if (n)
		memcpy(out + h, p, n);
	return h + n;
}

#define FIN 0x80
#define RSV1 0x40

/* What a parse saw: messages reassembled and control frames, as a log of lines
 * "T:text" "B:<n bytes>" "ping:x" "pong:x" "close:x" "z" (compressed message). */
struct seen {
	char log[4096];
	uint8_t msg[200000];
	size_t mlen;
	int chunks, zero_copy;
	const uint8_t *in, *in_end;
};

static int
collect(void *ud, const struct ws_chunk *c)
{
	struct seen *s = ud;
	char line[256];

	s->chunks++;
	if (c->p >= s->in && c->p < s->in_end)
		s->zero_copy++;
	if (c->opcode & 8) {
		snprintf(line, sizeof(line), "%s:%.*s|",
			 c->opcode == WS_OP_PING           ? "ping"
				 : c->opcode == WS_OP_PONG ? "pong"
							   : "close",
			 (int)c->n, (const char *)c->p);
		strcat(s->log, line);
		return 0;
	}
	if (c->first)
		s->mlen = 0;
	assert_true(s->mlen + c->n <= sizeof(s->msg));
	memcpy(s->msg + s->mlen, c->p, c->n);
	s->mlen += c->n;
	if (c->last) {
		if (c->opcode == WS_OP_TEXT)
			snprintf(line, sizeof(line), "%sT:%.*s|", c->compressed ? "z" : "",
				 (int)(s->mlen > 100 ? 100 : s->mlen), (const char *)s->msg);
		else
			snprintf(line, sizeof(line), "%sB:%zu|", c->compressed ? "z" : "", s->mlen);
		strcat(s->log, line);
	}
	return 0;
}

/* Parse buf whole, then cut in pieces of every size from 1 to 17: the same log each time.
 * Returns the parse's result (the same each time too). */
static int
parse_all_ways(const uint8_t *buf, size_t n, int rsv1_ok, char *log, size_t logsize)
{
	struct seen *s = calloc(1, sizeof(*s)), *t = calloc(1, sizeof(*t));
	struct ws_parser p = { .rsv1_ok = rsv1_ok };
	int rc;

	assert_non_null(s);
	assert_non_null(t);
	s->in = buf;
	s->in_end = buf + n;
	rc = ws_parse(&p, buf, n, collect, s);
	for (size_t step = 1; step <= 17; step++) {
		struct ws_parser q = { .rsv1_ok = rsv1_ok };
		int r2 = 0;
		memset(t, 0, sizeof(*t));
		for (size_t off = 0; off < n && !r2; off += step)
			r2 = ws_parse(&q, buf + off, off + step > n ? n - off : step, collect, t);
		assert_int_equal(r2, rc);
		assert_string_equal(t->log, s->log);
	}
	snprintf(log, logsize, "%s", s->log);
	free(s);
	free(t);
	return rc;
}

static int
parse_one(const uint8_t *buf, size_t n, int rsv1_ok)
{
	char log[4096];
	return parse_all_ways(buf, n, rsv1_ok, log, sizeof(log));
}

/* ---- frames ---- */

static void
test_ws__single_frames(void **state)
{
	uint8_t buf[512];
	size_t n = 0;
	char log[4096];
	struct ws_parser p = { 0 };
	struct seen *s = calloc(1, sizeof(*s));

	n += srv(buf + n, FIN | WS_OP_TEXT, "hello", 5);
	n += srv(buf + n, FIN | WS_OP_BINARY, "\0\1\2", 3);
	n += srv(buf + n, FIN | WS_OP_TEXT, "", 0);
	n += srv(buf + n, FIN | WS_OP_PONG, "p1", 2);
	assert_int_equal(parse_all_ways(buf, n, 0, log, sizeof(log)), 0);
	assert_string_equal(log, "T:hello|B:3|T:|pong:p1|");
	/* whole frames in one block are handed over where they lie, one chunk each */
	s->in = buf;
	s->in_end = buf + n;
	assert_int_equal(ws_parse(&p, buf, n, collect, s), 0);
	assert_int_equal(s->chunks, 4);
	assert_int_equal(s->zero_copy, 3);
	assert_false(ws_parser_in_message(&p));
	free(s);
}

static void
test_ws__lengths(void **state)
{
	static uint8_t buf[3 * 70100], pay[70000];
	size_t n = 0;
	char log[4096];

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 7);
	n += srv(buf + n, FIN | WS_OP_BINARY, pay, 125);
	n += srv(buf + n, FIN | WS_OP_BINARY, pay, 126);
	n += srv(buf + n, FIN | WS_OP_BINARY, pay, 65535);
	n += srv(buf + n, FIN | WS_OP_BINARY, pay, 65536);
	n += srv(buf + n, FIN | WS_OP_BINARY, pay, 70000);
	assert_int_equal(parse_all_ways(buf, n, 0, log, sizeof(log)), 0);
	assert_string_equal(log, "B:125|B:126|B:65535|B:65536|B:70000|");
}

static void
test_ws__fragments_and_control_inside(void **state)
{
	uint8_t buf[512];
	size_t n = 0;
	char log[4096];

	n += srv(buf + n, WS_OP_TEXT, "frag", 4);
	n += srv(buf + n, FIN | WS_OP_PING, "in-between", 10);
	n += srv(buf + n, WS_OP_CONT, "men", 3);
	n += srv(buf + n, WS_OP_CONT, "", 0);
	n += srv(buf + n, FIN | WS_OP_PONG, "", 0);
	n += srv(buf + n, FIN | WS_OP_CONT, "ted", 3);
	n += srv(buf + n, WS_OP_BINARY, "ab", 2);
	n += srv(buf + n, FIN | WS_OP_CONT, "c", 1);
	n += srv(buf + n, FIN | WS_OP_CLOSE, "\x03\xe8", 2);
	assert_int_equal(parse_all_ways(buf, n, 0, log, sizeof(log)), 0);
	assert_string_equal(log, "ping:in-between|pong:|T:fragmented|B:3|close:\x03\xe8|");
}

static void
test_ws__violations(void **state)
{
	uint8_t buf[512], big[200];
	size_t n;
	static const int reserved[] = { 3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf };

	memset(big, 'x', sizeof(big));
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
		n = srv(buf, FIN | reserved[i], "x", 1);
		assert_int_equal(parse_one(buf, n, 0), WS_E_OPCODE);
	}
	/* RSV bits without an extension; RSV2/RSV3 even with deflate */
	for (int rsv = 1; rsv < 8; rsv++) {
		n = srv(buf, FIN | rsv << 4 | WS_OP_TEXT, "x", 1);
		assert_int_equal(parse_one(buf, n, 0), WS_E_RSV);
		if (rsv != 4)
			assert_int_equal(parse_one(buf, n, 1), WS_E_RSV);
	}
	/* RSV1 on a continuation frame, with deflate */
	n = srv(buf, RSV1 | WS_OP_TEXT, "x", 1);
	n += srv(buf + n, FIN | RSV1 | WS_OP_CONT, "y", 1);
	assert_int_equal(parse_one(buf, n, 1), WS_E_RSV);
	/* a deflated control frame */
	n = srv(buf, FIN | RSV1 | WS_OP_PING, "x", 1);
	assert_int_equal(parse_one(buf, n, 1), WS_E_CTRL_RSV1);
	assert_int_equal(parse_one(buf, n, 0), WS_E_RSV);
	/* control frames: fragmented, too long */
	n = srv(buf, WS_OP_PING, "x", 1);
	assert_int_equal(parse_one(buf, n, 0), WS_E_CTRL_FRAG);
	n = srv(buf, FIN | WS_OP_PING, big, 126);
	assert_int_equal(parse_one(buf, n, 0), WS_E_CTRL_LEN);
	n = srv(buf, FIN | WS_OP_CLOSE, big, 126);
	assert_int_equal(parse_one(buf, n, 0), WS_E_CTRL_LEN);
	/* continuation with nothing to continue; a new message inside a fragmented one */
	n = srv(buf, FIN | WS_OP_CONT, "x", 1);
	assert_int_equal(parse_one(buf, n, 0), WS_E_CONT);
	n = srv(buf, WS_OP_TEXT, "x", 1);
	n += srv(buf + n, FIN | WS_OP_BINARY, "y", 1);
	assert_int_equal(parse_one(buf, n, 0), WS_E_NOFIN);
	/* a masked frame from the server */
	memcpy(buf, "\x81\x81\x01\x02\x03\x04\x79", 7);
	assert_int_equal(parse_one(buf, 7, 0), WS_E_MASKED);
	/* a 64-bit length with its most significant bit set */
	memcpy(buf, "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x01", 10);
	assert_int_equal(parse_one(buf, 10, 0), WS_E_LEN64);
	for (int e = WS_E_OPCODE; e > WS_E_MAX_; e--)
		assert_string_not_equal(ws_strerror(e), "no error");
	assert_int_equal(ws_error_close_code(WS_E_OPCODE), 1002);
	assert_int_equal(ws_error_close_code(WS_E_UTF8), 1007);
	assert_int_equal(ws_error_close_code(WS_E_TOOBIG), 1009);
}

static int
count(void *ud, const struct ws_chunk *c)
{
	(*(int *)ud)++;
	return 0;
}

static void
test_ws__oversize_and_sticky(void **state)
{
	uint8_t buf[600], pay[300] = { 0 };
	struct ws_parser p = { .max_frame = 256 };
	int chunks = 0;
	size_t n = srv(buf, FIN | WS_OP_BINARY, pay, 256);

	assert_int_equal(ws_parse(&p, buf, n, count, &chunks), 0);
	assert_int_equal(chunks, 1);
	n = srv(buf, FIN | WS_OP_BINARY, pay, 257);
	assert_int_equal(ws_parse(&p, buf, n, count, &chunks), WS_E_TOOBIG);
	/* the error stays: nothing more is parsed */
	n = srv(buf, FIN | WS_OP_TEXT, "ok", 2);
	assert_int_equal(ws_parse(&p, buf, n, count, &chunks), WS_E_TOOBIG);
	assert_int_equal(chunks, 1);
}

static int
stop_at_close(void *ud, const struct ws_chunk *c)
{
	(*(int *)ud)++;
	return c->opcode == WS_OP_CLOSE ? 7 : 0;
}

static void
test_ws__callback_stops(void **state)
{
	uint8_t buf[64];
	struct ws_parser p = { 0 };
	int chunks = 0;
	size_t n = srv(buf, FIN | WS_OP_CLOSE, "", 0);

	n += srv(buf + n, FIN | WS_OP_TEXT, "after", 5);
	assert_int_equal(ws_parse(&p, buf, n, stop_at_close, &chunks), 7);
	assert_int_equal(chunks, 1);
}

/* ---- close codes ---- */

static void
test_ws__close_codes(void **state)
{
	static const int ok[] = { 1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010,
				  1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999 };
	static const int bad[] = { 0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535 };
	uint8_t b[8];
	const uint8_t *reason;
	size_t rl;
	int code;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		b[0] = (uint8_t)(ok[i] >> 8);
		b[1] = (uint8_t)ok[i];
		memcpy(b + 2, "bye", 3);
		assert_int_equal(ws_close_parse(b, 5, &code, &reason, &rl), 0);
		assert_int_equal(code, ok[i]);
		assert_int_equal(rl, 3);
		assert_memory_equal(reason, "bye", 3);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b[0] = (uint8_t)(bad[i] >> 8);
		b[1] = (uint8_t)bad[i];
		assert_int_equal(ws_close_parse(b, 2, &code, &reason, &rl), WS_E_CLOSE_CODE);
	}
	assert_int_equal(ws_close_parse(b, 0, &code, &reason, &rl), 0);
	assert_int_equal(code, 1005);
	assert_int_equal(ws_close_parse((const uint8_t *)"\x03", 1, &code, &reason, &rl), WS_E_CLOSE_LEN);
	assert_int_equal(ws_close_parse((const uint8_t *)"\x03\xe8\xff", 3, &code, &reason, &rl), WS_E_UTF8);
	assert_int_equal(ws_close_parse((const uint8_t *)"\x03\xe8\xc3", 3, &code, &reason, &rl), WS_E_UTF8);
	assert_int_equal(ws_close_parse((const uint8_t *)"\x03\xe8\xc3\xa9", 4, &code, &reason, &rl), 0);
}

/* ---- UTF-8 ---- */

static int
utf8_pieces(const char *s, size_t n, size_t cut)
{
	struct ws_utf8 u = { 0 };

	if (ws_utf8_feed(&u, (const uint8_t *)s, cut) || ws_utf8_feed(&u, (const uint8_t *)s + cut, n - cut))
		return -1;
	return ws_utf8_end(&u) ? -1 : 0;
}

static void
test_ws__utf8_across_fragments(void **state)
{
	static const char good[] = "a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xed\x9f\xbf\xf4\x8f\xbf\xbfz";
	static const char *const bad[] = {
		"\x80",         "\xc0\x80",         "\xc1\xbf",         "\xe0\x80\x80",     "\xe0\x9f\xbf",
		"\xed\xa0\x80", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
		"\xc3",         "\xe2\x82",         "\xf0\x9f\x98",     "\xc3\x28",
	};
	struct ws_utf8 u = { 0 };

	for (size_t cut = 0; cut <= sizeof(good) - 1; cut++)
		assert_int_equal(utf8_pieces(good, sizeof(good) - 1, cut), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (size_t cut = 0; cut <= strlen(bad[i]); cut++)
			assert_int_equal(utf8_pieces(bad[i], strlen(bad[i]), cut), -1);
	/* fail fast: an impossible byte fails at once, before the message ends */
	assert_int_equal(ws_utf8_feed(&u, (const uint8_t *)"ok\xed\xa0", 4), WS_E_UTF8);
	memset(&u, 0, sizeof(u));
	assert_int_equal(ws_utf8_feed(&u, (const uint8_t *)"ok\xe2\x82", 4), 0);
	assert_int_equal(ws_utf8_end(&u), WS_E_UTF8);
}

/* ---- the client's frames ---- */

static void
test_ws__client_frames_masked(void **state)
{
	static uint8_t pay[70000], out[70000 + WS_FRAME_HEADER_MAX];
	static const size_t lens[] = { 0, 1, 125, 126, 65535, 65536, 70000 };
	static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };

	for (size_t i = 0; i < sizeof(pay); i++)
		pay[i] = (uint8_t)(i * 13 + 5);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		size_t n = lens[k], h, len;
		size_t got = ws_frame_build(out, WS_OP_BINARY, 1, pay, n, mask);
		assert_int_equal(out[0], 0x82);
		assert_true(out[1] & 0x80); /* masked */
		len = out[1] & 0x7f;
		h = 2;
		if (len == 126) {
			len = (size_t)out[2] << 8 | out[3];
			h = 4;
		} else if (len == 127) {
			len = 0;
			for (int i = 0; i < 8; i++)
				len = len << 8 | out[2 + i];
			h = 10;
		}
		assert_int_equal(len, n);
		assert_int_equal(h, n < 126 ? 2 : n <= 0xffff ? 4 : 10);
		assert_memory_equal(out + h, mask, 4);
		assert_int_equal(got, h + 4 + n);
		for (size_t i = 0; i < n; i++)
			assert_int_equal(out[h + 4 + i] ^ mask[i & 3], pay[i]);
	}
	assert_int_equal(ws_frame_build(out, WS_OP_CLOSE, 1, "\x03\xe8", 2, mask), 8);
	assert_int_equal(out[0], 0x88);
	/* the RFC's example: a masked "Hello" */
	static const uint8_t m2[4] = { 0x37, 0xfa, 0x21, 0x3d };
	assert_int_equal(ws_frame_build(out, WS_OP_TEXT, 1, "Hello", 5, m2), 11);
	assert_memory_equal(out, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
}

/* ---- permessage-deflate ---- */

/* Compress msg as a server does (RFC 7692 section 7.2.1): raw deflate, a sync flush, the
 * trailing 00 00 ff ff removed. z is the server's stream (context takeover: the same for
 * every message). Returns the length in out. */
static size_t
server_deflate(z_stream *z, const char *msg, uint8_t *out, size_t size)
{
	if (!*msg) {
		/* section 7.2.3.6: an empty message, as an empty stored block */
		out[0] = 0x00;
		return 1;
	}
	z->next_in = (Bytef *)msg;
	z->avail_in = (uInt)strlen(msg);
	z->next_out = out;
	z->avail_out = (uInt)size;
	assert_int_equal(deflate(z, Z_SYNC_FLUSH), Z_OK);
	size_t n = size - z->avail_out;
	assert_true(n >= 4);
	assert_memory_equal(out + n - 4, "\x00\x00\xff\xff", 4);
	return n - 4;
}

static void
inflate_pieces(struct ws_inflater *d, const uint8_t *in, size_t n, size_t piece, struct text_buf *out)
{
	out->len = 0;
	for (size_t off = 0; off < n || off == 0; off += piece) {
		size_t k = off + piece > n ? n - off : piece;
		assert_int_equal(ws_inflate(d, in + off, k, off + k >= n, out, 0), 0);
		if (off + k >= n)
			break;
	}
}

static void
deflate_run(int no_takeover)
{
	static const char *const msgs[] = {
		"{\"type\":\"allFills\",\"fills\":[{\"coin\":\"SOL\",\"px\":\"151.2\"}]}",
		"{\"type\":\"allFills\",\"fills\":[{\"coin\":\"SOL\",\"px\":\"151.2\"}]}",
		"{\"type\":\"allFills\",\"fills\":[{\"coin\":\"ETH\",\"px\":\"3021.5\"}]}",
		"",
	};
	struct ws_deflate_params pr = { .server_no_context_takeover = no_takeover,
					.server_max_window_bits = 15 };
	struct ws_inflater *d = calloc(1, sizeof(*d));
	struct text_buf out = { 0 };
	uint8_t c[4][512];
	size_t cn[4];
	z_stream z = { 0 };

	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	for (int i = 0; i < 4; i++) {
		if (no_takeover)
			deflateReset(&z);
		cn[i] = server_deflate(&z, msgs[i], c[i], sizeof(c[i]));
	}
	deflateEnd(&z);
	/* with context takeover the repeated message is a back-reference to the first */
	if (!no_takeover)
		assert_true(cn[1] < cn[0] / 2);
	else
		assert_int_equal(cn[1], cn[0]);
	for (size_t piece = 1; piece <= 64; piece *= 4) {
		assert_int_equal(ws_inflater_init(d, &pr), 0);
		for (int i = 0; i < 4; i++) {
			inflate_pieces(d, c[i], cn[i], piece, &out);
			assert_int_equal(out.len, strlen(msgs[i]));
			assert_memory_equal(out.p, msgs[i], out.len);
		}
		ws_inflater_free(d);
	}
	/* a context-takeover stream cannot be read by an inflater that resets */
	if (!no_takeover) {
		struct ws_deflate_params reset = { .server_no_context_takeover = 1 };
		assert_int_equal(ws_inflater_init(d, &reset), 0);
		inflate_pieces(d, c[0], cn[0], 512, &out);
		out.len = 0;
		assert_int_equal(ws_inflate(d, c[1], cn[1], 1, &out, 0), WS_E_INFLATE);
		ws_inflater_free(d);
	}
	text_buf_free(&out);
	free(d);
}

static void
test_ws__deflate_context_takeover(void **state)
{
	deflate_run(0);
}

static void
test_ws__deflate_no_context_takeover(void **state)
{
	deflate_run(1);
}

static void
test_ws__deflate_limit_and_corrupt(void **state)
{
	static char big[100001];
	struct ws_deflate_params pr = { .server_max_window_bits = 15 };
	struct ws_inflater *d = calloc(1, sizeof(*d));
	struct text_buf out = { 0 };
	static uint8_t c[200000];
	z_stream z = { 0 };
	size_t n, n2;

	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	n = server_deflate(&z, big, c, sizeof(c));
	n2 = server_deflate(&z, "after", c + n, sizeof(c) - n);
	deflateEnd(&z);
	assert_int_equal(ws_inflater_init(d, &pr), 0);
	/* past the limit: the first 1000 bytes kept, the rest inflated and lost */
	assert_int_equal(ws_inflate(d, c, n, 1, &out, 1000), 1);
	assert_int_equal(out.len, 1000);
	/* the window went on: the next message still inflates */
	out.len = 0;
	assert_int_equal(ws_inflate(d, c + n, n2, 1, &out, 1000), 0);
	assert_int_equal(out.len, 5);
	assert_memory_equal(out.p, "after", 5);
	/* not deflate data */
	out.len = 0;
	assert_int_equal(ws_inflate(d, (const uint8_t *)"\xff\xff\xff\xff", 4, 1, &out, 0), WS_E_INFLATE);
	ws_inflater_free(d);
	text_buf_free(&out);
	free(d);
}

static void
test_ws__deflate_negotiation(void **state)
{
	struct ws_deflate_params pr;
	const char *why;
#define RESP(s) ws_deflate_response(s, strlen(s), &pr, &why)

	assert_int_equal(RESP("permessage-deflate"), 0);
	assert_int_equal(pr.server_max_window_bits, 15);
	assert_false(pr.server_no_context_takeover);
	assert_int_equal(RESP("permessage-deflate; server_no_context_takeover; client_max_window_bits=10; "
			      "server_max_window_bits=\"12\"; client_no_context_takeover"),
			 0);
	assert_true(pr.server_no_context_takeover);
	assert_true(pr.client_no_context_takeover);
	assert_int_equal(pr.client_max_window_bits, 10);
	assert_int_equal(pr.server_max_window_bits, 12);
	assert_int_equal(RESP("PerMessage-Deflate ;SERVER_NO_CONTEXT_TAKEOVER"), 0);
	assert_int_equal(RESP("x-webkit-deflate-frame"), -1);
	assert_int_equal(RESP("permessage-deflate; foo"), -1);
	assert_int_equal(RESP("permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
			 -1);
	assert_int_equal(RESP("permessage-deflate; server_max_window_bits=7"), -1);
	assert_int_equal(RESP("permessage-deflate; server_max_window_bits=16"), -1);
	assert_int_equal(RESP("permessage-deflate; server_max_window_bits"), -1);
	assert_int_equal(RESP("permessage-deflate; client_max_window_bits"), -1);
	assert_int_equal(RESP("permessage-deflate; server_no_context_takeover=1"), -1);
	assert_int_equal(RESP("permessage-deflate, permessage-deflate"), -1);
#undef RESP
}

/* ---- the opening handshake ---- */

static void
test_ws__upgrade_request(void **state)
{
	const char *names[] = { "x-api-key:", "Authorization" }, *values[] = { "k123", "Bearer t" };
	struct ws_upgrade_request q = { .host = "127.0.0.1",
					.port = 8080,
					.path = "/ws?a=1",
					.key = "dGhlIHNhbXBsZSBub25jZQ==",
					.deflate = 1,
					.names = names,
					.values = values,
					.nheaders = 2 };
	struct text_buf b = { 0 };
	char key[WS_KEY_LEN + 1], key2[WS_KEY_LEN + 1];

	assert_int_equal(ws_upgrade_request(&q, &b), 0);
	assert_non_null(strstr(b.p, "GET /ws?a=1 HTTP/1.1\r\n"));
	assert_non_null(strstr(b.p, "\r\nHost: 127.0.0.1:8080\r\n"));
	assert_non_null(strstr(b.p, "\r\nUpgrade: websocket\r\n"));
	assert_non_null(strstr(b.p, "\r\nConnection: Upgrade\r\n"));
	assert_non_null(strstr(b.p, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
	assert_non_null(strstr(b.p, "\r\nSec-WebSocket-Version: 13\r\n"));
	assert_non_null(
		strstr(b.p, "\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"));
	assert_non_null(strstr(b.p, "\r\nx-api-key: k123\r\n"));
	assert_non_null(strstr(b.p, "\r\nAuthorization: Bearer t\r\n"));
	assert_int_equal(strcmp(b.p + b.len - 4, "\r\n\r\n"), 0);
	b.len = 0;
	q.deflate = 0;
	q.port = 443;
	q.tls = 1;
	q.host = "::1";
	assert_int_equal(ws_upgrade_request(&q, &b), 0);
	assert_null(strstr(b.p, "Sec-WebSocket-Extensions"));
	assert_non_null(strstr(b.p, "\r\nHost: [::1]\r\n"));
	/* no header injection */
	values[0] = "k\r\nEvil: 1";
	b.len = 0;
	assert_int_equal(ws_upgrade_request(&q, &b), EINVAL);
	values[0] = "k";
	names[0] = "bad name";
	assert_int_equal(ws_upgrade_request(&q, &b), EINVAL);
	text_buf_free(&b);
	/* keys: 16 random bytes, new each time */
	assert_int_equal(ws_upgrade_key(key), 0);
	assert_int_equal(ws_upgrade_key(key2), 0);
	assert_int_equal(strlen(key), WS_KEY_LEN);
	assert_string_not_equal(key, key2);
}

static void
test_ws__upgrade_response(void **state)
{
	static const char key[] = "dGhlIHNhbXBsZSBub25jZQ==";
	char accept[29], buf[1024];
	struct ws_upgrade_response r;
	int n;

	/* the RFC's example */
	ws_upgrade_accept(key, accept);
	assert_string_equal(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	n = snprintf(
		buf, sizeof(buf),
		"HTTP/1.1 101 Switching Protocols\r\nupgrade: WebSocket\r\nConnection: keep-alive, Upgrade\r\n"
		"Sec-WebSocket-Accept: %s\r\n\r\n\x81\x02hi",
		accept);
	for (int i = 0; i < n - 4; i++)
		assert_int_equal(ws_upgrade_response(buf, (size_t)i, key, 1, &r), WS_UPGRADE_MORE);
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_OK);
	assert_int_equal(r.status, 101);
	assert_int_equal(r.head_len, (size_t)n - 4);
	assert_false(r.deflate);
	/* with deflate */
	n = snprintf(
		buf, sizeof(buf),
		"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		"Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover\r\n\r\n",
		accept);
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_OK);
	assert_true(r.deflate);
	assert_true(r.params.server_no_context_takeover);
	/* ... not offered */
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 0, &r), WS_UPGRADE_BAD);
	assert_non_null(strstr(r.why, "not offered"));
	/* a wrong accept, none, no Upgrade, no Connection, a subprotocol not offered */
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		     "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOx=\r\n\r\n");
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_BAD);
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_BAD);
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 101 OK\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_BAD);
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_BAD);
	n = snprintf(
		buf, sizeof(buf),
		"HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
		"Sec-WebSocket-Protocol: chat\r\n\r\n",
		accept);
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_BAD);
	/* another status: a redirect's Location */
	n = snprintf(buf, sizeof(buf),
		     "HTTP/1.1 302 Found\r\nLocation:  /elsewhere \r\nContent-Length: 0\r\n\r\n");
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_STATUS);
	assert_int_equal(r.status, 302);
	assert_int_equal(r.location_len, 10);
	assert_memory_equal(r.location, "/elsewhere", 10);
	n = snprintf(buf, sizeof(buf), "HTTP/1.1 401 Unauthorized\r\n\r\n");
	assert_int_equal(ws_upgrade_response(buf, (size_t)n, key, 1, &r), WS_UPGRADE_STATUS);
	assert_int_equal(r.status, 401);
	assert_null(r.location);
	/* not HTTP; a head that never ends */
	assert_int_equal(ws_upgrade_response("SSH-2.0-x\r\n\r\n", 13, key, 1, &r), WS_UPGRADE_BAD);
	{
		static char huge[WS_UPGRADE_HEAD_MAX + 10];
		memset(huge, 'a', sizeof(huge));
		assert_int_equal(ws_upgrade_response(huge, sizeof(huge), key, 1, &r), WS_UPGRADE_BAD);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws__single_frames),
		cmocka_unit_test(test_ws__lengths),
		cmocka_unit_test(test_ws__fragments_and_control_inside),
		cmocka_unit_test(test_ws__violations),
		cmocka_unit_test(test_ws__oversize_and_sticky),
		cmocka_unit_test(test_ws__callback_stops),
		cmocka_unit_test(test_ws__close_codes),
		cmocka_unit_test(test_ws__utf8_across_fragments),
		cmocka_unit_test(test_ws__client_frames_masked),
		cmocka_unit_test(test_ws__deflate_context_takeover),
		cmocka_unit_test(test_ws__deflate_no_context_takeover),
		cmocka_unit_test(test_ws__deflate_limit_and_corrupt),
		cmocka_unit_test(test_ws__deflate_negotiation),
		cmocka_unit_test(test_ws__upgrade_request),
		cmocka_unit_test(test_ws__upgrade_response),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
