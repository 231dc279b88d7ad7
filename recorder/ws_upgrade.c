/* ws_upgrade.c - the client's opening handshake (RFC 6455 section 4.1) */
#include "recorder/ws_upgrade.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include <openssl/sha.h>

#include "recorder/ws_frame.h"

int
ws_upgrade_key(char key[WS_KEY_LEN + 1])
{
	uint8_t nonce[16];

	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return EIO;
	text_base64_encode(nonce, sizeof(nonce), key);
	return 0;
}

void
ws_upgrade_accept(const char *key, char accept[29])
{
	static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
	char in[WS_KEY_LEN + sizeof(guid)];
	uint8_t md[SHA_DIGEST_LENGTH];
	size_t kl = strnlen(key, WS_KEY_LEN);

	memcpy(in, key, kl);
	memcpy(in + kl, guid, sizeof(guid) - 1);
	SHA1((const unsigned char *)in, kl + sizeof(guid) - 1, md);
	text_base64_encode(md, sizeof(md), accept);
}

static int
bad_field(const char *s, int name)
{
	if (name && !*s)
		return 1;
	for (; *s; s++)
		if (*s == '\r' || *s == '\n' || (name && (*s == ' ' || *s == '\t' || *s == ':')))
			return 1;
	return 0;
}

/* name without its trailing ':' */
static size_t
name_len(const char *name)
{
	size_t n = strlen(name);

	while (n && name[n - 1] == ':')
		n--;
	return n;
}

static int
has_header(const struct ws_upgrade_request *q, const char *name)
{
	for (int i = 0; i < q->nheaders; i++)
		if (name_len(q->names[i]) == strlen(name) && !strncasecmp(q->names[i], name, strlen(name)))
			return 1;
	return 0;
}

int
ws_upgrade_request(const struct ws_upgrade_request *q, struct text_buf *out)
{
	int v6 = strchr(q->host, ':') != NULL, dflt = q->port == (q->tls ? 443 : 80);
	char name[256];

	if (bad_field(q->host, 0) || bad_field(q->path, 0) || strchr(q->path, ' '))
		return EINVAL;
	for (int i = 0; i < q->nheaders; i++) {
		size_t nl = name_len(q->names[i]);
		if (nl >= sizeof(name))
			return EINVAL;
		memcpy(name, q->names[i], nl);
		name[nl] = '\0';
		if (bad_field(name, 1) || bad_field(q->values[i], 0))
			return EINVAL;
	}
	text_buf_addf(out, "GET %s HTTP/1.1\r\n", q->path);
	if (!has_header(q, "Host")) {
		text_buf_addf(out, "Host: %s%s%s", v6 ? "[" : "", q->host, v6 ? "]" : "");
		if (!dflt)
			text_buf_addf(out, ":%d", q->port);
		text_buf_adds(out, "\r\n");
	}
	text_buf_adds(out, "Upgrade: websocket\r\nConnection: Upgrade\r\n");
	text_buf_addf(out, "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", q->key);
	if (!has_header(q, "Origin"))
		text_buf_addf(out, "Origin: %s://%s%s%s\r\n", q->tls ? "https" : "http", v6 ? "[" : "",
			      q->host, v6 ? "]" : "");
	if (q->deflate)
		text_buf_adds(out, "Sec-WebSocket-Extensions: " WS_DEFLATE_OFFER "\r\n");
	for (int i = 0; i < q->nheaders; i++)
		text_buf_addf(out, "%.*s: %s\r\n", (int)name_len(q->names[i]), q->names[i], q->values[i]);
	text_buf_adds(out, "\r\n");
	return text_buf_err(out) ? ENOMEM : 0;
}

static int
bad(struct ws_upgrade_response *r, const char *why)
{
	snprintf(r->why, sizeof(r->why), "upgrade: %s", why);
	return WS_UPGRADE_BAD;
}

/* the token tok in a comma-separated list v[0..n), case-insensitively */
static int
list_has(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok);

	for (const char *e = v + n; v < e;) {
		while (v < e && (*v == ' ' || *v == '\t' || *v == ','))
			v++;
		const char *s = v;
		while (v < e && *v != ',')
			v++;
		const char *t = v;
		while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - s) == tl && !strncasecmp(s, tok, tl))
			return 1;
	}
	return 0;
}

static int
field_is(const char *name, size_t nl, const char *want)
{
	return nl == strlen(want) && !strncasecmp(name, want, nl);
}

int
ws_upgrade_response(const char *buf, size_t n, const char *key, int deflate, struct ws_upgrade_response *r)
{
	const char *end = memmem(buf, n, "\r\n\r\n", 4), *line, *upgrade = NULL, *conn = NULL, *acc = NULL,
		   *ext = NULL;
	size_t upgrade_len = 0, conn_len = 0, acc_len = 0, ext_len = 0;
	int exts = 0;
	char want[29];

	memset(r, 0, sizeof(*r));
	if (!end)
		return n > WS_UPGRADE_HEAD_MAX ? bad(r, "the response's head is longer than 16 KiB")
					       : WS_UPGRADE_MORE;
	r->head_len = (size_t)(end - buf) + 4;
	if (r->head_len > WS_UPGRADE_HEAD_MAX)
		return bad(r, "the response's head is longer than 16 KiB");
	if (n < 12 || strncmp(buf, "HTTP/1.", 7) || buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' ||
	    buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' ||
	    (buf[12] != ' ' && buf[12] != '\r'))
		return bad(r, "the response is not HTTP/1.1");
	r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	line = (const char *)memchr(buf, '\n', (size_t)(end + 2 - buf)) + 1;
	while (line < end + 2) {
		const char *eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2), *colon, *v, *ve;
		if (!eol)
			break;
		colon = memchr(line, ':', (size_t)(eol - line));
		if (!colon || colon == line)
			return bad(r, "a response header without a name");
		v = colon + 1;
		while (v < eol && (*v == ' ' || *v == '\t'))
			v++;
		ve = eol;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		size_t nl = (size_t)(colon - line), vl = (size_t)(ve - v);
		if (field_is(line, nl, "Upgrade"))
			upgrade = v, upgrade_len = vl;
		else if (field_is(line, nl, "Connection"))
			conn = v, conn_len = vl;
		else if (field_is(line, nl, "Sec-WebSocket-Accept"))
			acc = v, acc_len = vl;
		else if (field_is(line, nl, "Sec-WebSocket-Extensions"))
			ext = v, ext_len = vl, exts++;
		else if (field_is(line, nl, "Sec-WebSocket-Protocol"))
			return r->status == 101
				? bad(r, "the server chose a subprotocol that was not offered")
				: WS_UPGRADE_STATUS;
		else if (field_is(line, nl, "Location"))
			r->location = v, r->location_len = vl;
		line = eol + 2;
	}
	if (r->status != 101)
		return WS_UPGRADE_STATUS;
	if (!upgrade || upgrade_len != 9 || strncasecmp(upgrade, "websocket", 9))
		return bad(r, "the response has no 'Upgrade: websocket'");
	if (!conn || !list_has(conn, conn_len, "upgrade"))
		return bad(r, "the response has no 'Connection: Upgrade'");
	ws_upgrade_accept(key, want);
	if (!acc || acc_len != 28 || memcmp(acc, want, 28))
		return bad(r, "Sec-WebSocket-Accept does not answer the key");
	if (exts > 1)
		return bad(r, "the server accepted more than one extension");
	if (ext && ext_len) {
		const char *why;
		if (!deflate)
			return bad(r, "the server accepted an extension that was not offered");
		if (ws_deflate_response(ext, ext_len, &r->params, &why))
			return bad(r, why);
		r->deflate = 1;
	}
	return WS_UPGRADE_OK;
}
