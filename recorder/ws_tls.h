/* ws_tls.h - TLS of the wstape engine's wss:// connections: OpenSSL over memory BIOs.
 *
 * The socket stays libwebsockets' (a raw TCP connection); the bytes it reads are fed in
 * here, the plaintext comes out in large blocks, and what TLS has to send (handshake,
 * records, alerts, close_notify) waits here until the caller writes it to the socket.
 * No I/O, no printing, no libwebsockets.
 *
 * Trust and verification as libwebsockets' client does them: the CA certificates of a file,
 * else OpenSSL's default paths (SSL_CERT_FILE, SSL_CERT_DIR move them); the certificate must
 * name the host (DNS name, or IP address for an IP literal); SNI for a name, never for an
 * IP literal; ALPN offers http/1.1. Insecure: any certificate, any name.
 */
#ifndef WSTAPE_WS_TLS_H
#define WSTAPE_WS_TLS_H

#include <stddef.h>
#include <stdint.h>

/* What ws_tls_handshake and ws_tls_read return. */
enum {
	WS_TLS_OK = 0, /* done (handshake), or plaintext given (read) */
	WS_TLS_MORE = 1, /* wants more bytes from the peer */
	WS_TLS_CLOSED = 2, /* the peer's close_notify: no more plaintext */
	WS_TLS_ERROR = -1, /* a failed handshake, an alert, a bad record: ws_tls_why says */
};

/* The configuration of one recording's connections (an SSL_CTX): made once, shared by
 * every connection made from it, which it must outlive. */
struct ws_tls_config;

/* ca_file: the CA certificates to trust (PEM), or NULL for the system store; insecure:
 * no verification at all. Returns 0 and *out, or EINVAL with why (a file that cannot be
 * loaded) or ENOMEM. */
int
ws_tls_config_new(const char *ca_file, int insecure, struct ws_tls_config **out, char *why, size_t whylen);
/* NULL is a no-op. */
void ws_tls_config_free(struct ws_tls_config *c);

/* One client connection. */
struct ws_tls;

/* A connection to host (a DNS name, or an IPv4 or IPv6 literal, brackets or not), ready
 * for ws_tls_handshake. Returns 0 and *out, ENOMEM, or EINVAL (a host name longer than
 * 255 bytes). */
int ws_tls_new(struct ws_tls_config *c, const char *host, struct ws_tls **out);
/* NULL is a no-op. */
void ws_tls_free(struct ws_tls *t);

/* Bytes read from the socket, p[0..n) (copied). Returns 0 or ENOMEM. */
int ws_tls_feed(struct ws_tls *t, const void *p, size_t n);
/* Drive the handshake with what was fed: WS_TLS_OK once it is complete (and the
 * certificate verified), WS_TLS_MORE, or WS_TLS_ERROR. It may leave bytes to send
 * (ws_tls_out) whatever it returns. */
int ws_tls_handshake(struct ws_tls *t);
/* Plaintext, as much of what was fed as fits into buf[0..cap): *got bytes (0 when a whole
 * record has not arrived yet). Returns WS_TLS_OK, WS_TLS_CLOSED (after any *got bytes) or
 * WS_TLS_ERROR (an alert, a record that does not decrypt). */
int ws_tls_read(struct ws_tls *t, void *buf, size_t cap, size_t *got);
/* Plaintext p[0..n) to send, encrypted into the output. Returns 0 or WS_TLS_ERROR. */
int ws_tls_write(struct ws_tls *t, const void *p, size_t n);
/* Our close_notify, into the output (once; later calls do nothing). */
void ws_tls_shutdown(struct ws_tls *t);

/* The bytes waiting to go to the socket: *p, valid until the next call on t. Returns
 * their number. */
size_t ws_tls_out(struct ws_tls *t, const uint8_t **p);
/* The first n of them went (or are in the socket's care). */
void ws_tls_out_taken(struct ws_tls *t, size_t n);

/* Why the handshake or a read failed, e.g. "certificate verify failed: self-signed
 * certificate (err 18, depth 0)" or "tlsv1 alert protocol version"; "" before that. */
const char *ws_tls_why(const struct ws_tls *t);
/* The protocol and cipher agreed, e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384" (after the
 * handshake). */
const char *ws_tls_describe(const struct ws_tls *t, char *buf, size_t size);

#endif
