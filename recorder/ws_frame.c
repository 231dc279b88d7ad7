/* ws_frame.c - RFC 6455 frames of the client side: the server's parsed in blocks, the
 * client's built masked */
#include "recorder/ws_frame.h"

#include <string.h>

static const char *const errors[] = {
	[-WS_E_OPCODE] = "a frame with a reserved opcode",
	[-WS_E_RSV] = "a frame with RSV bits set and no extension negotiated",
	[-WS_E_CTRL_FRAG] = "a fragmented control frame",
	[-WS_E_CTRL_LEN] = "a control frame longer than 125 bytes",
	[-WS_E_CONT] = "a continuation frame with no message to continue",
	[-WS_E_NOFIN] = "a new data frame inside a fragmented message",
	[-WS_E_LEN64] = "a frame length with its most significant bit set",
	[-WS_E_MASKED] = "a masked frame from the server",
	[-WS_E_TOOBIG] = "a frame longer than the largest accepted",
	[-WS_E_CTRL_RSV1] = "a compressed control frame",
	[-WS_E_CLOSE_LEN] = "a close frame with a one-byte payload",
	[-WS_E_CLOSE_CODE] = "a close frame with a code that may not be sent",
	[-WS_E_UTF8] = "a text frame that is not UTF-8",
	[-WS_E_INFLATE] = "a compressed message that does not inflate",
};

const char *
ws_strerror(int err)
{
	if (err < 0 && err > WS_E_MAX_)
		return errors[-err];
	return "no error";
}

int
ws_error_close_code(int err)
{
	switch (err) {
	case WS_E_TOOBIG: return 1009;
	case WS_E_UTF8:
	case WS_E_INFLATE: return 1007;
	default: return 1002;
	}
}

int
ws_parser_in_message(const struct ws_parser *p)
{
	return p->msg_op != 0;
}

/* The header's length, from its first two bytes. */
static unsigned
header_size(const uint8_t *h)
{
	unsigned n = 2, l = h[1] & 0x7f;

	if (l == 126)
		n += 2;
	else if (l == 127)
		n += 8;
	if (h[1] & 0x80)
		n += 4;
	return n;
}

/* A whole header h: checks it and sets the frame's state (RFC 6455 section 5.2, RFC 7692
 * section 6). Returns 0 or an error. */
static int
begin_frame(struct ws_parser *p, const uint8_t *h)
{
	unsigned op = h[0] & 0x0f, rsv = h[0] & 0x70, l7 = h[1] & 0x7f;
	int fin = (h[0] & 0x80) != 0;
	uint64_t len = l7;

	if (h[1] & 0x80)
		return WS_E_MASKED;
	if (op > WS_OP_PONG || (op > WS_OP_BINARY && op < WS_OP_CLOSE))
		return WS_E_OPCODE;
	if (rsv & 0x30)
		return WS_E_RSV;
	if (op & 8) {
		if (rsv)
			return p->rsv1_ok ? WS_E_CTRL_RSV1 : WS_E_RSV;
		if (!fin)
			return WS_E_CTRL_FRAG;
		if (l7 > 125)
			return WS_E_CTRL_LEN;
	} else {
		/* RSV1 marks a compressed message on its first frame only */
		if (rsv && (!p->rsv1_ok || op == WS_OP_CONT))
			return WS_E_RSV;
		if (op == WS_OP_CONT && !p->msg_op)
			return WS_E_CONT;
		if (op != WS_OP_CONT && p->msg_op)
			return WS_E_NOFIN;
	}
	if (l7 == 126) {
		len = (uint64_t)h[2] << 8 | h[3];
	} else if (l7 == 127) {
		if (h[2] & 0x80)
			return WS_E_LEN64;
		len = 0;
		for (int i = 2; i < 10; i++)
			len = len << 8 | h[i];
	}
	if (p->max_frame && len > p->max_frame)
		return WS_E_TOOBIG;
	p->op = (uint8_t)op;
	p->fin = (uint8_t)fin;
	p->left = len;
	p->in_payload = 1;
	p->frame_first = 1;
	p->clen = 0;
	if (op == WS_OP_TEXT || op == WS_OP_BINARY) {
		p->msg_op = (uint8_t)op;
		p->msg_compressed = rsv != 0;
		p->msg_first = 1;
	}
	return 0;
}

/* n bytes of the current frame's payload (all that is left of it, or what this block has). */
static int
payload(struct ws_parser *p, const uint8_t *b, size_t n, ws_chunk_fn fn, void *ud)
{
	struct ws_chunk c;
	int end;

	p->left -= n;
	end = p->left == 0;
	if (p->op & 8) {
		memcpy(p->ctrl + p->clen, b, n);
		p->clen += (unsigned)n;
		if (!end)
			return 0;
		p->in_payload = 0;
		c = (struct ws_chunk){ .opcode = p->op,
				       .p = p->ctrl,
				       .n = p->clen,
				       .first = 1,
				       .last = 1,
				       .frame_first = 1,
				       .frame_last = 1 };
		return fn(ud, &c);
	}
	c = (struct ws_chunk){ .opcode = p->msg_op,
			       .p = b,
			       .n = n,
			       .first = p->msg_first,
			       .last = end && p->fin,
			       .frame_first = p->frame_first,
			       .frame_last = end,
			       .compressed = p->msg_compressed };
	p->msg_first = p->frame_first = 0;
	if (end) {
		p->in_payload = 0;
		if (p->fin)
			p->msg_op = 0;
	}
	return fn(ud, &c);
}

int
ws_parse(struct ws_parser *p, const uint8_t *buf, size_t len, ws_chunk_fn fn, void *ud)
{
	const uint8_t *b = buf, *e = buf + len;
	int rc;

	if (p->err)
		return p->err;
	while (b < e || (p->in_payload && p->left == 0)) {
		if (!p->in_payload) {
			const uint8_t *h;
			unsigned need;
			if (!p->hlen && e - b >= 2 && (size_t)(e - b) >= header_size(b)) {
				/* the usual case: the whole header is in this block */
				h = b;
				b += header_size(b);
			} else {
				/* a header cut by the end of a block: keep its bytes */
				need = p->hlen < 2 ? 2 : header_size(p->hdr);
				while (p->hlen < need && b < e) {
					p->hdr[p->hlen++] = *b++;
					if (p->hlen == 2)
						need = header_size(p->hdr);
				}
				if (p->hlen < need)
					return 0;
				h = p->hdr;
				p->hlen = 0;
			}
			if ((rc = begin_frame(p, h)))
				return p->err = rc;
			continue;
		}
		size_t n = (size_t)(e - b);
		if (n > p->left)
			n = (size_t)p->left;
		if ((rc = payload(p, b, n, fn, ud)))
			return rc;
		b += n;
	}
	return 0;
}

size_t
ws_frame_build(uint8_t *out, int opcode, int fin, const void *p, size_t n, const uint8_t mask[4])
{
	const uint8_t *s = p;
	size_t h = 2;

	out[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (n < 126) {
		out[1] = (uint8_t)(0x80 | n);
	} else if (n <= 0xffff) {
		out[1] = 0x80 | 126;
		out[2] = (uint8_t)(n >> 8);
		out[3] = (uint8_t)n;
		h = 4;
	} else {
		out[1] = 0x80 | 127;
		for (int i = 0; i < 8; i++)
			out[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	memcpy(out + h, mask, 4);
	h += 4;
	for (size_t i = 0; i < n; i++)
		out[h + i] = s[i] ^ mask[i & 3];
	return h + n;
}

int
ws_close_code_valid(int code)
{
	/* RFC 6455 section 7.4: 1005, 1006 and 1015 are never sent; 1004 and 1016-2999 are
	 * reserved (1012-1014 are registered since); 3000-4999 belong to applications */
	if (code >= 1000 && code <= 1014)
		return code != 1004 && code != 1005 && code != 1006;
	return code >= 3000 && code <= 4999;
}

int
ws_close_parse(const uint8_t *p, size_t n, int *code, const uint8_t **reason, size_t *rlen)
{
	struct ws_utf8 u = { 0 };

	*reason = p;
	*rlen = 0;
	if (n == 0) {
		*code = 1005;
		return 0;
	}
	if (n == 1)
		return WS_E_CLOSE_LEN;
	*code = p[0] << 8 | p[1];
	if (!ws_close_code_valid(*code))
		return WS_E_CLOSE_CODE;
	*reason = p + 2;
	*rlen = n - 2;
	if (ws_utf8_feed(&u, p + 2, n - 2) || ws_utf8_end(&u))
		return WS_E_UTF8;
	return 0;
}

int
ws_utf8_feed(struct ws_utf8 *u, const uint8_t *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t c = s[i];
		if (u->need) {
			if (c < u->lo || c > u->hi)
				return WS_E_UTF8;
			u->lo = 0x80;
			u->hi = 0xbf;
			u->need--;
			continue;
		}
		if (c < 0x80)
			continue;
		if (c < 0xc2)
			return WS_E_UTF8; /* a continuation byte, or an overlong 2-byte form */
		u->lo = 0x80;
		u->hi = 0xbf;
		if (c < 0xe0) {
			u->need = 1;
		} else if (c < 0xf0) {
			u->need = 2;
			if (c == 0xe0)
				u->lo = 0xa0; /* overlong */
			else if (c == 0xed)
				u->hi = 0x9f; /* surrogates */
		} else if (c < 0xf5) {
			u->need = 3;
			if (c == 0xf0)
				u->lo = 0x90; /* overlong */
			else if (c == 0xf4)
				u->hi = 0x8f; /* above U+10FFFF */
		} else {
			return WS_E_UTF8;
		}
	}
	return 0;
}

int
ws_utf8_end(const struct ws_utf8 *u)
{
	return u->need ? WS_E_UTF8 : 0;
}
