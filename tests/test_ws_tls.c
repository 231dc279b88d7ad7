/* test_ws_tls.c - the wstape engine's TLS layer (recorder/ws_tls.c) against an in-process
 * OpenSSL server over memory BIOs, no socket: the handshake, trust (a CA file, a
 * certificate it does not hold), the host's name or IP address in the certificate, SNI and
 * ALPN, data both ways and in large blocks, close_notify both ways, and garbage from the
 * peer */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "recorder/ws_tls.h"

/* ---- the server: a self-signed certificate for localhost and 127.0.0.1 ---- */

static EVP_PKEY *key;
static X509 *cert, *stranger; /* the server's; another one, for localhost too */
static char cert_file[64] = "", stranger_file[64] = "";

static void
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&v);
	X509V3_set_ctx(&v, x, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v, nid, value);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
}

static X509 *
make_cert(EVP_PKEY *k, const char *cn, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *n;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, n);
	add_ext(x, NID_basic_constraints, "critical,CA:TRUE");
	add_ext(x, NID_subject_alt_name, san);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	return x;
}

static void
write_pem(X509 *x, char *path)
{
	int fd;
	FILE *f;

	strcpy(path, "/tmp/test_ws_tls.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_true(PEM_write_X509(f, x));
	fclose(f);
}

static int
setup(void **state)
{
	EVP_PKEY *k2 = EVP_EC_gen("P-256");

	key = EVP_EC_gen("P-256");
	if (!key || !k2)
		return -1;
	cert = make_cert(key, "localhost", "DNS:localhost,IP:127.0.0.1");
	stranger = make_cert(k2, "localhost", "DNS:localhost");
	EVP_PKEY_free(k2);
	write_pem(cert, cert_file);
	write_pem(stranger, stranger_file);
	return 0;
}

static int
teardown(void **state)
{
	unlink(cert_file);
	unlink(stranger_file);
	X509_free(cert);
	X509_free(stranger);
	EVP_PKEY_free(key);
	return 0;
}

struct srv {
	SSL_CTX *ctx;
	SSL *ssl;
	BIO *rb, *wb;
};

static int
alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
	    unsigned int inlen, void *arg)
{
	static const unsigned char want[] = "\x08http/1.1";
	unsigned char *o;

	if (SSL_select_next_proto(&o, outlen, want, sizeof(want) - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

static void
srv_open(struct srv *s)
{
	memset(s, 0, sizeof(*s));
	s->ctx = SSL_CTX_new(TLS_server_method());
	assert_non_null(s->ctx);
	assert_true(SSL_CTX_use_certificate(s->ctx, cert));
	assert_true(SSL_CTX_use_PrivateKey(s->ctx, key));
	SSL_CTX_set_alpn_select_cb(s->ctx, alpn_select, NULL);
	s->ssl = SSL_new(s->ctx);
	s->rb = BIO_new(BIO_s_mem());
	s->wb = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(s->rb, -1);
	SSL_set_bio(s->ssl, s->rb, s->wb);
	SSL_set_accept_state(s->ssl);
}

static void
srv_close(struct srv *s)
{
	SSL_free(s->ssl);
	SSL_CTX_free(s->ctx);
}

/* What each side has to send, to the other. */
static void
pump(struct ws_tls *c, struct srv *s)
{
	const uint8_t *p;
	char *d = NULL;
	size_t n = ws_tls_out(c, &p);
	long m;

	if (n) {
		assert_int_equal(BIO_write(s->rb, p, (int)n), (int)n);
		ws_tls_out_taken(c, n);
	}
	assert_int_equal(ws_tls_out(c, &p), 0);
	if ((m = BIO_get_mem_data(s->wb, &d)) > 0) {
		assert_int_equal(ws_tls_feed(c, d, (size_t)m), 0);
		(void)BIO_reset(s->wb);
	}
}

/* Both handshakes, to the end; returns the client's WS_TLS_*. */
static int
handshake(struct ws_tls *c, struct srv *s)
{
	for (int i = 0; i < 20; i++) {
		int rc = ws_tls_handshake(c);
		pump(c, s);
		SSL_do_handshake(s->ssl);
		pump(c, s);
		if (rc != WS_TLS_MORE)
			return rc;
	}
	return -99;
}

/* A client of config (ca_file, insecure) to host, its handshake done (or failed: rc). */
static struct ws_tls_config *
connect_to(const char *ca, int insecure, const char *host, struct srv *s, struct ws_tls **c, int *rc)
{
	struct ws_tls_config *cfg;
	char why[256];

	assert_int_equal(ws_tls_config_new(ca, insecure, &cfg, why, sizeof(why)), 0);
	assert_int_equal(ws_tls_new(cfg, host, c), 0);
	srv_open(s);
	*rc = handshake(*c, s);
	return cfg;
}

static void
srv_read_all(struct srv *s, char *buf, size_t cap, size_t *got)
{
	size_t n;

	*got = 0;
	while (*got < cap && SSL_read_ex(s->ssl, buf + *got, cap - *got, &n) == 1)
		*got += n;
}

/* ---- cases ---- */

static void
test_ws_tls__handshake_sni_alpn_and_data(void **state)
{
	struct ws_tls *c;
	struct srv s;
	int rc;
	struct ws_tls_config *cfg = connect_to(cert_file, 0, "localhost", &s, &c, &rc);
	const unsigned char *a = NULL;
	unsigned al = 0;
	char buf[64], d[128];
	size_t got;

	assert_int_equal(rc, WS_TLS_OK);
	assert_string_equal(ws_tls_why(c), "");
	assert_string_equal(SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name), "localhost");
	SSL_get0_alpn_selected(s.ssl, &a, &al);
	assert_int_equal(al, 8);
	assert_memory_equal(a, "http/1.1", 8);
	assert_non_null(strstr(ws_tls_describe(c, d, sizeof(d)), "ALPN http/1.1"));
	/* client to server */
	assert_int_equal(ws_tls_write(c, "GET / HTTP/1.1\r\n", 16), 0);
	pump(c, &s);
	srv_read_all(&s, buf, sizeof(buf), &got);
	assert_int_equal(got, 16);
	assert_memory_equal(buf, "GET / HTTP/1.1\r\n", 16);
	/* server to client, and nothing more when nothing more came */
	assert_int_equal(SSL_write(s.ssl, "HTTP/1.1 101", 12), 12);
	pump(c, &s);
	assert_int_equal(ws_tls_read(c, buf, sizeof(buf), &got), WS_TLS_OK);
	assert_int_equal(got, 12);
	assert_memory_equal(buf, "HTTP/1.1 101", 12);
	assert_int_equal(ws_tls_read(c, buf, sizeof(buf), &got), WS_TLS_OK);
	assert_int_equal(got, 0);
	ws_tls_free(c);
	srv_close(&s);
	ws_tls_config_free(cfg);
}

/* Megabytes from the server come out in blocks as large as the buffer (many records each),
 * whole and in order, and a record cut in two waits for its second half. */
static void
test_ws_tls__large_blocks(void **state)
{
	enum { TOTAL = 5 << 20, CAP = 256 << 10 };
	struct ws_tls *c;
	struct srv s;
	int rc;
	struct ws_tls_config *cfg = connect_to(cert_file, 0, "127.0.0.1", &s, &c, &rc);
	uint8_t *src = malloc(TOTAL), *dst = malloc(TOTAL), *blk = malloc(CAP);
	size_t have = 0, got, n;
	char *d;
	long m;

	assert_int_equal(rc, WS_TLS_OK);
	assert_null(SSL_get_servername(s.ssl, TLSEXT_NAMETYPE_host_name)); /* no SNI for an IP */
	for (size_t i = 0; i < TOTAL; i++)
		src[i] = (uint8_t)(i * 2654435761u >> 13);
	assert_true(SSL_write_ex(s.ssl, src, TOTAL, &n) == 1 && n == TOTAL);
	m = BIO_get_mem_data(s.wb, &d);
	assert_true(m > TOTAL);
	/* all but the last 10 bytes: the last record is incomplete */
	assert_int_equal(ws_tls_feed(c, d, (size_t)m - 10), 0);
	assert_int_equal(ws_tls_read(c, blk, CAP, &got), WS_TLS_OK);
	assert_int_equal(got, CAP);
	memcpy(dst, blk, got);
	have = got;
	do {
		assert_int_equal(ws_tls_read(c, blk, CAP, &got), WS_TLS_OK);
		memcpy(dst + have, blk, got);
		have += got;
	} while (got == CAP);
	assert_true(have < TOTAL && have > TOTAL - 20000);
	assert_int_equal(ws_tls_feed(c, d + m - 10, 10), 0);
	(void)BIO_reset(s.wb);
	assert_int_equal(ws_tls_read(c, blk, CAP, &got), WS_TLS_OK);
	memcpy(dst + have, blk, got);
	have += got;
	assert_int_equal(have, TOTAL);
	assert_memory_equal(src, dst, TOTAL);
	free(src);
	free(dst);
	free(blk);
	ws_tls_free(c);
	srv_close(&s);
	ws_tls_config_free(cfg);
}

static void
expect_refused(const char *ca, const char *host, const char *words)
{
	struct ws_tls *c;
	struct srv s;
	int rc;
	struct ws_tls_config *cfg = connect_to(ca, 0, host, &s, &c, &rc);

	assert_int_equal(rc, WS_TLS_ERROR);
	if (!strstr(ws_tls_why(c), words))
		fail_msg("'%s' does not say '%s'", ws_tls_why(c), words);
	assert_int_equal(ws_tls_handshake(c), WS_TLS_ERROR); /* and stays failed */
	assert_int_equal(ws_tls_write(c, "x", 1), WS_TLS_ERROR);
	ws_tls_free(c);
	srv_close(&s);
	ws_tls_config_free(cfg);
}

static void
expect_accepted(const char *ca, int insecure, const char *host)
{
	struct ws_tls *c;
	struct srv s;
	int rc;
	struct ws_tls_config *cfg = connect_to(ca, insecure, host, &s, &c, &rc);

	assert_int_equal(rc, WS_TLS_OK);
	ws_tls_free(c);
	srv_close(&s);
	ws_tls_config_free(cfg);
}

static void
test_ws_tls__trust_and_names(void **state)
{
	char why[256];
	struct ws_tls_config *cfg;

	expect_accepted(cert_file, 0, "localhost");
	expect_accepted(cert_file, 0, "[127.0.0.1]");
	/* a CA file without the server's certificate */
	expect_refused(stranger_file, "localhost", "self-signed certificate");
	/* trusted, but for another name or address */
	expect_refused(cert_file, "other.example", "hostname mismatch");
	expect_refused(cert_file, "10.1.2.3", "IP address mismatch");
	expect_refused(cert_file, "::1", "IP address mismatch");
	/* no partial wildcards, no suffix match */
	expect_refused(cert_file, "xlocalhost", "hostname mismatch");
	/* insecure: anything */
	expect_accepted(stranger_file, 1, "other.example");
	expect_accepted(NULL, 1, "10.1.2.3");
	/* a CA file that cannot be read */
	assert_int_equal(ws_tls_config_new("/nonexistent/ca.pem", 0, &cfg, why, sizeof(why)), EINVAL);
	assert_null(cfg);
	assert_non_null(strstr(why, "'/nonexistent/ca.pem'"));
}

static void
test_ws_tls__close_notify(void **state)
{
	struct ws_tls *c;
	struct srv s;
	int rc;
	struct ws_tls_config *cfg = connect_to(cert_file, 0, "localhost", &s, &c, &rc);
	char buf[64];
	size_t got;

	assert_int_equal(rc, WS_TLS_OK);
	/* the server's last words, then its close_notify: the words first, then CLOSED */
	assert_int_equal(SSL_write(s.ssl, "bye", 3), 3);
	SSL_shutdown(s.ssl);
	pump(c, &s);
	assert_int_equal(ws_tls_read(c, buf, sizeof(buf), &got), WS_TLS_CLOSED);
	assert_int_equal(got, 3);
	assert_memory_equal(buf, "bye", 3);
	/* ours: once, and nothing can be written after it */
	ws_tls_shutdown(c);
	ws_tls_shutdown(c);
	pump(c, &s);
	assert_int_equal(SSL_read(s.ssl, buf, sizeof(buf)), 0);
	assert_int_equal(SSL_get_error(s.ssl, 0), SSL_ERROR_ZERO_RETURN);
	assert_int_equal(ws_tls_write(c, "x", 1), WS_TLS_ERROR);
	ws_tls_free(c);
	srv_close(&s);
	ws_tls_config_free(cfg);
}

static void
test_ws_tls__garbage(void **state)
{
	struct ws_tls_config *cfg;
	struct ws_tls *c;
	struct srv s;
	char why[256], buf[64];
	size_t got;
	int rc;
	static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	static const uint8_t junk[] = { 23, 3,  3,  0,  40, 1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
					11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
					26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40 };

	/* a server that does not speak TLS */
	assert_int_equal(ws_tls_config_new(cert_file, 0, &cfg, why, sizeof(why)), 0);
	assert_int_equal(ws_tls_new(cfg, "localhost", &c), 0);
	assert_int_equal(ws_tls_handshake(c), WS_TLS_MORE);
	assert_int_equal(ws_tls_feed(c, http, sizeof(http) - 1), 0);
	assert_int_equal(ws_tls_handshake(c), WS_TLS_ERROR);
	assert_true(ws_tls_why(c)[0]);
	ws_tls_free(c);
	ws_tls_config_free(cfg);
	/* a record that does not decrypt, after the handshake: an error, and an alert to send */
	cfg = connect_to(cert_file, 0, "localhost", &s, &c, &rc);
	assert_int_equal(rc, WS_TLS_OK);
	assert_int_equal(ws_tls_feed(c, junk, sizeof(junk)), 0);
	assert_int_equal(ws_tls_read(c, buf, sizeof(buf), &got), WS_TLS_ERROR);
	assert_int_equal(got, 0);
	assert_true(ws_tls_why(c)[0]);
	ws_tls_shutdown(c); /* nothing after a fatal error */
	assert_int_equal(ws_tls_read(c, buf, sizeof(buf), &got), WS_TLS_ERROR);
	ws_tls_free(c);
	srv_close(&s);
	ws_tls_config_free(cfg);
	ws_tls_free(NULL);
	ws_tls_config_free(NULL);
}

/* Output taken a part at a time goes out whole and in order. */
static void
test_ws_tls__output_in_parts(void **state)
{
	struct ws_tls_config *cfg;
	struct ws_tls *c;
	struct srv s;
	const uint8_t *p;
	char why[256];
	size_t n;

	assert_int_equal(ws_tls_config_new(cert_file, 0, &cfg, why, sizeof(why)), 0);
	assert_int_equal(ws_tls_new(cfg, "localhost", &c), 0);
	srv_open(&s);
	assert_int_equal(ws_tls_handshake(c), WS_TLS_MORE);
	n = ws_tls_out(c, &p);
	assert_true(n > 100); /* the ClientHello */
	for (size_t part = 7; (n = ws_tls_out(c, &p));) {
		size_t k = n < part ? n : part;
		assert_int_equal(BIO_write(s.rb, p, (int)k), (int)k);
		ws_tls_out_taken(c, k);
		part = part * 3 + 1;
	}
	assert_int_equal(handshake(c, &s), WS_TLS_OK);
	ws_tls_free(c);
	srv_close(&s);
	ws_tls_config_free(cfg);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ws_tls__handshake_sni_alpn_and_data),
		cmocka_unit_test(test_ws_tls__large_blocks),
		cmocka_unit_test(test_ws_tls__trust_and_names),
		cmocka_unit_test(test_ws_tls__close_notify),
		cmocka_unit_test(test_ws_tls__garbage),
		cmocka_unit_test(test_ws_tls__output_in_parts),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
