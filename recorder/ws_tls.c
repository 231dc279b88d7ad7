/* ws_tls.c - TLS of the wstape engine's wss:// connections: OpenSSL over a pair of memory
 * BIOs (the socket is the caller's) */
#include "recorder/ws_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

struct ws_tls_config {
	SSL_CTX *ctx;
	int insecure;
};

struct ws_tls {
	SSL *ssl;
	BIO *rbio, *wbio; /* owned by ssl: from the peer, to the peer */
	int insecure;
	int failed; /* a fatal error: no close_notify after it */
	int shut; /* our close_notify is out */
	char why[200];
};

/* The reason of the last OpenSSL error of this thread, e.g. "no such file". */
static const char *
err_reason(void)
{
	unsigned long e = ERR_peek_last_error();
	const char *s = e ? ERR_reason_error_string(e) : NULL;

	return s ? s : "unknown error";
}

int
ws_tls_config_new(const char *ca_file, int insecure, struct ws_tls_config **out, char *why, size_t whylen)
{
	/* ALPN as libwebsockets' client offers it for a WebSocket upgrade */
	static const unsigned char alpn[] = "\x08http/1.1";
	struct ws_tls_config *c = calloc(1, sizeof(*c));

	*out = NULL;
	if (!c || !(c->ctx = SSL_CTX_new(TLS_client_method()))) {
		free(c);
		snprintf(why, whylen, "out of memory for TLS");
		return ENOMEM;
	}
	c->insecure = insecure;
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_alpn_protos(c->ctx, alpn, sizeof(alpn) - 1);
	ERR_clear_error();
	if (insecure) {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
		if (ca_file ? !SSL_CTX_load_verify_locations(c->ctx, ca_file, NULL)
			    : !SSL_CTX_set_default_verify_paths(c->ctx)) {
			snprintf(why, whylen, "cannot load the CA certificates %s%s%s: %s",
				 ca_file ? "in '" : "of the system store", ca_file ? ca_file : "",
				 ca_file ? "'" : "", err_reason());
			ERR_clear_error();
			ws_tls_config_free(c);
			return EINVAL;
		}
	}
	*out = c;
	return 0;
}

void
ws_tls_config_free(struct ws_tls_config *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ctx);
	free(c);
}

/* The certificate must name host: an IP literal as an address (no SNI for it, RFC 6066
 * section 3), anything else as a DNS name (and SNI). Returns 0 or -1. */
static int
set_peer_name(struct ws_tls *t, const char *host)
{
	char name[256];
	size_t n = strlen(host);
	unsigned char addr[16];
	int ip;
	X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);

	if (n >= 2 && host[0] == '[' && host[n - 1] == ']') {
		host++;
		n -= 2;
	}
	if (n >= sizeof(name))
		return -1;
	memcpy(name, host, n);
	name[n] = '\0';
	ip = inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
	if (!ip && !SSL_set_tlsext_host_name(t->ssl, name))
		return -1;
	if (t->insecure)
		return 0;
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (ip)
		return X509_VERIFY_PARAM_set1_ip_asc(vp, name) ? 0 : -1;
	return X509_VERIFY_PARAM_set1_host(vp, name, n) ? 0 : -1;
}

int
ws_tls_new(struct ws_tls_config *c, const char *host, struct ws_tls **out)
{
	struct ws_tls *t = calloc(1, sizeof(*t));

	*out = NULL;
	if (!t)
		return ENOMEM;
	t->insecure = c->insecure;
	ERR_clear_error();
	if (!(t->ssl = SSL_new(c->ctx)) || !(t->rbio = BIO_new(BIO_s_mem())) ||
	    !(t->wbio = BIO_new(BIO_s_mem()))) {
		BIO_free(t->rbio);
		SSL_free(t->ssl);
		free(t);
		return ENOMEM;
	}
	/* an empty input is "more to come", not the end of the stream */
	BIO_set_mem_eof_return(t->rbio, -1);
	SSL_set_bio(t->ssl, t->rbio, t->wbio);
	SSL_set_connect_state(t->ssl);
	if (set_peer_name(t, host)) {
		ws_tls_free(t);
		ERR_clear_error();
		return EINVAL;
	}
	*out = t;
	return 0;
}

void
ws_tls_free(struct ws_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	free(t);
}

int
ws_tls_feed(struct ws_tls *t, const void *p, size_t n)
{
	while (n) {
		int chunk = n > INT_MAX ? INT_MAX : (int)n;
		int w = BIO_write(t->rbio, p, chunk);
		if (w <= 0)
			return ENOMEM;
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	return 0;
}

/* After a failed SSL_* call that returned rc: WS_TLS_MORE, WS_TLS_CLOSED, or WS_TLS_ERROR
 * with t->why said. */
static int
failure(struct ws_tls *t, int rc)
{
	int e = SSL_get_error(t->ssl, rc);
	long v;

	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE: return WS_TLS_MORE;
	case SSL_ERROR_ZERO_RETURN: return WS_TLS_CLOSED;
	default: break;
	}
	t->failed = 1;
	v = SSL_get_verify_result(t->ssl);
	if (!t->insecure && v != X509_V_OK && !SSL_is_init_finished(t->ssl))
		snprintf(t->why, sizeof(t->why), "certificate verify failed: %s (err %ld)",
			 X509_verify_cert_error_string(v), v);
	else if (e == SSL_ERROR_SSL)
		snprintf(t->why, sizeof(t->why), "%s", err_reason());
	else
		snprintf(t->why, sizeof(t->why), "TLS error %d", e);
	ERR_clear_error();
	return WS_TLS_ERROR;
}

int
ws_tls_handshake(struct ws_tls *t)
{
	int rc;

	if (t->failed)
		return WS_TLS_ERROR;
	if (SSL_is_init_finished(t->ssl))
		return WS_TLS_OK;
	ERR_clear_error();
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1)
		return WS_TLS_OK;
	rc = failure(t, rc);
	if (rc == WS_TLS_CLOSED) {
		snprintf(t->why, sizeof(t->why), "the server ended TLS during the handshake");
		t->failed = 1;
		return WS_TLS_ERROR;
	}
	return rc;
}

int
ws_tls_read(struct ws_tls *t, void *buf, size_t cap, size_t *got)
{
	*got = 0;
	if (t->failed)
		return WS_TLS_ERROR;
	while (*got < cap) {
		size_t n = 0;
		int rc;
		ERR_clear_error();
		rc = SSL_read_ex(t->ssl, (char *)buf + *got, cap - *got, &n);
		if (rc == 1) {
			*got += n;
			continue;
		}
		rc = failure(t, rc);
		return rc == WS_TLS_MORE ? WS_TLS_OK : rc;
	}
	return WS_TLS_OK;
}

int
ws_tls_write(struct ws_tls *t, const void *p, size_t n)
{
	size_t w = 0;

	if (t->failed || t->shut)
		return WS_TLS_ERROR;
	if (!n)
		return 0;
	ERR_clear_error();
	/* a memory BIO takes everything: all of it is written at once */
	if (SSL_write_ex(t->ssl, p, n, &w) != 1 || w != n) {
		failure(t, 0);
		return WS_TLS_ERROR;
	}
	return 0;
}

void
ws_tls_shutdown(struct ws_tls *t)
{
	if (t->failed || t->shut || !SSL_is_init_finished(t->ssl))
		return;
	t->shut = 1;
	ERR_clear_error();
	SSL_shutdown(t->ssl); /* 0: sent, the peer's not received: that one is not waited for */
	ERR_clear_error();
}

size_t
ws_tls_out(struct ws_tls *t, const uint8_t **p)
{
	char *d = NULL;
	long n = BIO_get_mem_data(t->wbio, &d);

	*p = (const uint8_t *)d;
	return n > 0 ? (size_t)n : 0;
}

void
ws_tls_out_taken(struct ws_tls *t, size_t n)
{
	char skip[4096];
	const uint8_t *p;

	if (n >= ws_tls_out(t, &p)) {
		BIO_reset(t->wbio); /* a writable memory BIO: emptied */
		return;
	}
	while (n) {
		int r = BIO_read(t->wbio, skip, n > sizeof(skip) ? (int)sizeof(skip) : (int)n);
		if (r <= 0)
			break;
		n -= (size_t)r;
	}
}

const char *
ws_tls_why(const struct ws_tls *t)
{
	return t->why;
}

const char *
ws_tls_describe(const struct ws_tls *t, char *buf, size_t size)
{
	const unsigned char *a = NULL;
	unsigned int al = 0;

	SSL_get0_alpn_selected(t->ssl, &a, &al);
	snprintf(buf, size, "%s %s%s%.*s", SSL_get_version(t->ssl), SSL_get_cipher_name(t->ssl),
		 al ? ", ALPN " : "", (int)al, a ? (const char *)a : "");
	return buf;
}
