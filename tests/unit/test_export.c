// SPDX-License-Identifier: GPL-2.0
/* Unit tests of kscope export without a socket: the web-config parser,
 * basic auth, content negotiation and the request handler. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "export/export.h"

/* bcrypt (cost 4) of "s3cret" and of "other" */
#define HASH_S3CRET "$2b$04$Y0ZWK.Ze/pbReNUkmAHMj.Se7uLFsXEkpbf8OPyI5ZFGSMnCPJWUq"
#define HASH_OTHER "$2y$04$AFKXenhk8qkZWNvB0aAfueqPf/FefaNQzWe33cEexlF30/ODjmR5C"

/* http.c asks export.c for profiles; none here */
int ks_export_profile(struct ks_export *x, const char *name, double seconds,
		      char **body, size_t *len, char *err, size_t errlen)
{
	(void)x;
	(void)body;
	(void)len;
	snprintf(err, errlen, "%s %g", name, seconds);
	return 501;
}

static int parse(const char *yaml, struct ks_webcfg *c, char *err)
{
	return ks_webcfg_parse(yaml, strlen(yaml), "/etc/kscope", c, err,
			       256);
}

static void test_webcfg_full(void **state)
{
	struct ks_webcfg c;
	char err[256] = "", prio[128];

	(void)state;
	assert_int_equal(parse(
		"tls_server_config:\n"
		"  cert_file: server.crt\n"
		"  key_file: /abs/server.key\n"
		"  client_ca_file: ca.crt\n"
		"  client_auth_type: VerifyClientCertIfGiven\n"
		"  min_version: TLS13\n"
		"http_server_config:\n"
		"  http2: false\n"
		"  headers:\n"
		"    X-Frame-Options: deny\n"
		"basic_auth_users:\n"
		"  alice: " HASH_S3CRET "\n"
		"  'bob': \"" HASH_OTHER "\"\n", &c, err), 0);
	assert_string_equal(err, "");
	assert_true(c.tls);
	assert_string_equal(c.cert_file, "/etc/kscope/server.crt");
	assert_string_equal(c.key_file, "/abs/server.key");
	assert_string_equal(c.client_ca_file, "/etc/kscope/ca.crt");
	assert_int_equal(c.client_auth, KS_CLIENT_VERIFY_IF_GIVEN);
	assert_int_equal(c.min_tls, 13);
	assert_int_equal(c.max_tls, 13);
	assert_string_equal(ks_webcfg_priorities(&c, prio, sizeof(prio)),
			    "NORMAL:-VERS-ALL:+VERS-TLS1.3");
	assert_int_equal(c.nusers, 2);
	assert_string_equal(c.users[1].name, "bob");
	assert_int_equal(c.nheaders, 1);
	assert_string_equal(c.headers[0].name, "X-Frame-Options");
	ks_webcfg_free(&c);
}

static void test_webcfg_empty_and_null(void **state)
{
	static const char *const ok[] = {
		"", "---\n", "# nothing\n", "tls_server_config:\n",
		"basic_auth_users: ~\n", "tls_server_config: null\n"
		"http_server_config: {}\n",
	};
	struct ks_webcfg c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(parse(ok[i], &c, err), 0);
		assert_false(c.tls);
		assert_int_equal(c.nusers, 0);
		ks_webcfg_free(&c);
	}
}

static void test_webcfg_errors(void **state)
{
	static const struct { const char *yaml, *msg; } bad[] = {
		{ "tls_server_config:\n  cert_file: a\n", "needs both" },
		{ "tls_srever_config:\n  cert_file: a\n", "unknown key "
		  "'tls_srever_config'" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  min_version: TLS14\n", "unknown TLS version" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  min_version: TLS13\n  max_version: TLS12\n",
		  "min_version is above" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
		  "not supported" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  client_auth_type: RequireAndVerifyClientCert\n",
		  "needs client_ca_file" },
		{ "tls_server_config:\n  cert_file: a\n  key_file: b\n"
		  "  client_auth_type: RequireAnyClientCert\n  client_ca_file: "
		  "c\n", "not supported" },
		{ "basic_auth_users:\n  alice: plaintext\n", "bcrypt" },
		{ "basic_auth_users:\n  alice: " HASH_S3CRET "\n  alice: "
		  HASH_S3CRET "\n", "twice" },
		{ "basic_auth_users:\n  'a:b': " HASH_S3CRET "\n", "without ':'" },
		{ "basic_auth_users: [alice]\n", "expected a mapping" },
		{ "http_server_config:\n  headers:\n    Set-Cookie: x\n",
		  "may not be set" },
		{ "tls_server_config: [\n", "YAML" },
		{ "- a\n- b\n", "expected a mapping" },
		{ "a: 1\n---\nb: 2\n", "unknown key 'a'" },
		{ "basic_auth_users: {}\n---\nb: 2\n", "more than one" },
		{ "tls_server_config:\n  cert_file: [a]\n  key_file: b\n",
		  "expected a string" },
	};
	struct ks_webcfg c;
	char err[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (parse(bad[i].yaml, &c, err) != -1 ||
		    !strstr(err, bad[i].msg))
			fail_msg("%s: got '%s', want '%s'", bad[i].yaml, err,
				 bad[i].msg);
		ks_webcfg_free(&c);
	}
}

/* "Basic " + base64 of s */
static const char *basic(const char *s, char *buf)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
				  "opqrstuvwxyz0123456789+/";
	size_t n = strlen(s), o = 6;

	memcpy(buf, "Basic ", 6);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (unsigned char)s[i] << 16;

		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		buf[o++] = b64[v >> 18];
		buf[o++] = b64[(v >> 12) & 63];
		buf[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
		buf[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	buf[o] = '\0';
	return buf;
}

static void test_basic_auth(void **state)
{
	struct ks_webcfg c;
	char err[256], h[256];

	(void)state;
	assert_int_equal(parse("basic_auth_users:\n  alice: " HASH_S3CRET
			       "\n  bob: " HASH_OTHER "\n", &c, err), 0);
	assert_true(ks_webcfg_auth(&c, basic("alice:s3cret", h)));
	assert_true(ks_webcfg_auth(&c, basic("alice:s3cret", h)));	/* cached */
	assert_true(ks_webcfg_auth(&c, basic("bob:other", h)));	/* $2y$ */
	assert_false(ks_webcfg_auth(&c, basic("alice:other", h)));
	assert_false(ks_webcfg_auth(&c, basic("bob:s3cret", h)));
	assert_false(ks_webcfg_auth(&c, basic("carol:s3cret", h)));
	assert_false(ks_webcfg_auth(&c, basic("alice:s3cret2", h)));
	assert_false(ks_webcfg_auth(&c, basic("alice", h)));
	assert_false(ks_webcfg_auth(&c, basic(":s3cret", h)));
	assert_false(ks_webcfg_auth(&c, NULL));
	assert_false(ks_webcfg_auth(&c, "Basic"));
	assert_false(ks_webcfg_auth(&c, "Basic !!!!"));
	assert_false(ks_webcfg_auth(&c, "Bearer YWxpY2U6czNjcmV0"));
	/* a NUL inside the decoded credentials */
	assert_false(ks_webcfg_auth(&c, "Basic YWxpY2UAOnMzY3JldA=="));
	ks_webcfg_free(&c);
	/* no users: anyone */
	assert_int_equal(parse("", &c, err), 0);
	assert_true(ks_webcfg_auth(&c, NULL));
	ks_webcfg_free(&c);
}

static void test_negotiation(void **state)
{
	(void)state;
	/* what Prometheus 2.42 sends */
	assert_true(ks_http_wants_openmetrics(
		"application/openmetrics-text;version=1.0.0,application/"
		"openmetrics-text;version=0.0.1;q=0.75,text/plain;version="
		"0.0.4;q=0.5,*/*;q=0.1"));
	assert_false(ks_http_wants_openmetrics(NULL));
	assert_false(ks_http_wants_openmetrics("*/*"));
	assert_false(ks_http_wants_openmetrics("text/plain"));
	assert_false(ks_http_wants_openmetrics(
		"application/openmetrics-text;version=0.0.1"));
	assert_false(ks_http_wants_openmetrics(
		"text/plain;q=1, application/openmetrics-text;q=0.5"));
	assert_true(ks_http_wants_openmetrics(
		"application/openmetrics-text"));
	assert_false(ks_http_wants_openmetrics(
		"application/openmetrics-text;q=0"));
	assert_true(ks_http_accepts_gzip("gzip"));
	assert_true(ks_http_accepts_gzip("deflate, gzip;q=0.5"));
	assert_false(ks_http_accepts_gzip("gzip;q=0"));
	assert_false(ks_http_accepts_gzip("identity"));
	assert_false(ks_http_accepts_gzip(NULL));
}

static const struct ks_mfamily fams[] = {
	{ .name = "t_up", .type = KS_M_GAUGE, .help = "Up.",
	  .labels = { "tool" } },
	{ NULL },
};

static void handle(struct ks_export *x, struct ks_webcfg *c,
		   struct ks_http_req q, struct ks_http_resp *p)
{
	ks_http_handle(x, c, &q, p);
	assert_non_null(p->ctype);
}

static const char *hdr(const struct ks_http_resp *p, const char *name)
{
	for (int i = 0; i < p->nheaders; i++)
		if (!strcmp(p->hname[i], name))
			return p->hvalue[i];
	return NULL;
}

static void test_handler(void **state)
{
	struct ks_export x = { 0 };
	struct ks_webcfg c;
	struct ks_http_resp p;
	const char *v[] = { "kmem" };
	char err[256], h[256];

	(void)state;
	x.store = ks_mstore_new(fams, 10, 0);
	pthread_rwlock_init(&x.lock, NULL);
	pthread_mutex_init(&x.page_lock, NULL);
	ks_mstore_set(x.store, "t_up", v, 1);

	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics" }, &p);
	assert_int_equal(p.status, 200);
	assert_string_equal(p.ctype, "text/plain; version=0.0.4; "
			    "charset=utf-8");
	assert_string_equal(p.body, "# HELP t_up Up.\n# TYPE t_up gauge\n"
			    "t_up{tool=\"kmem\"} 1\n");
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.accept = "application/openmetrics-text" }, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body, "# EOF\n"));
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.accept_encoding = "gzip" }, &p);
	assert_int_equal(p.status, 200);
	assert_string_equal(hdr(&p, "Content-Encoding"), "gzip");
	assert_memory_equal(p.body, "\x1f\x8b", 2);
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "POST", .path = "/metrics" }, &p);
	assert_int_equal(p.status, 405);
	assert_string_equal(hdr(&p, "Allow"), "GET, HEAD");
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/nothing" }, &p);
	assert_int_equal(p.status, 404);
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = NULL, .path = NULL }, &p);
	assert_int_equal(p.status, 405);
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/" }, &p);
	assert_int_equal(p.status, 200);
	free(p.body);
	/* profiles: seconds checked here, the rest is the collector's */
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/debug/pprof/kmem",
		.seconds = "abc" }, &p);
	assert_int_equal(p.status, 400);
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/debug/pprof/kmem",
		.seconds = "400" }, &p);
	assert_int_equal(p.status, 400);
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/debug/pprof/locks" },
	       &p);
	assert_int_equal(p.status, 501);
	assert_string_equal(p.body, "locks 30\n");
	free(p.body);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/debug/pprof/heap" },
	       &p);
	assert_int_equal(p.status, 404);
	free(p.body);

	/* authentication comes first, for every path */
	assert_int_equal(parse("basic_auth_users:\n  alice: " HASH_S3CRET
			       "\nhttp_server_config:\n  headers:\n"
			       "    X-Content-Type-Options: nosniff\n", &c,
			       err), 0);
	handle(&x, &c, (struct ks_http_req){ .method = "GET", .path = "/metrics" }, &p);
	assert_int_equal(p.status, 401);
	assert_non_null(hdr(&p, "WWW-Authenticate"));
	assert_string_equal(hdr(&p, "X-Content-Type-Options"), "nosniff");
	free(p.body);
	handle(&x, &c, (struct ks_http_req){ .method = "GET", .path = "/nothing" }, &p);
	assert_int_equal(p.status, 401);
	free(p.body);
	handle(&x, &c, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.authorization = basic("alice:wrong", h) }, &p);
	assert_int_equal(p.status, 401);
	free(p.body);
	handle(&x, &c, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.authorization = basic("alice:s3cret", h) }, &p);
	assert_int_equal(p.status, 200);
	free(p.body);
	/* a client certificate the TLS layer could not verify */
	c.tls = true;
	c.client_auth = KS_CLIENT_REQUIRE_VERIFY;
	handle(&x, &c, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.authorization = basic("alice:s3cret", h) }, &p);
	assert_int_equal(p.status, 403);
	free(p.body);
	handle(&x, &c, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.authorization = basic("alice:s3cret", h),
		.tls_client_ok = true }, &p);
	assert_int_equal(p.status, 200);
	free(p.body);
	c.tls = false;
	ks_webcfg_free(&c);
	ks_mstore_free(x.store);
	pthread_rwlock_destroy(&x.lock);
}

/* the published page: scrapes copy it; the store's next change (gen) and
 * publish replace it; a variant first asked for is rendered by its scrape */
static void test_page(void **state)
{
	struct ks_export x = { 0 };
	struct ks_http_resp p;
	const char *v[] = { "kmem" };

	(void)state;
	x.store = ks_mstore_new(fams, 10, 0);
	pthread_rwlock_init(&x.lock, NULL);
	pthread_mutex_init(&x.page_lock, NULL);
	ks_mstore_set(x.store, "t_up", v, 1);
	ks_http_publish(&x);		/* nobody asked yet: nothing */
	assert_null(x.page);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics" }, &p);
	assert_int_equal(p.status, 200);
	assert_non_null(strstr(p.body, "t_up{tool=\"kmem\"} 1\n"));
	free(p.body);
	assert_int_equal(x.want, 1);
	ks_http_publish(&x);
	assert_non_null(x.page);
	/* changed without a new generation: the page still says 1 */
	ks_mstore_set(x.store, "t_up", v, 0);
	ks_http_publish(&x);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics" }, &p);
	assert_int_equal(p.status, 200);
	assert_int_equal(p.len, strlen(p.body));
	assert_non_null(strstr(p.body, "t_up{tool=\"kmem\"} 1\n"));
	free(p.body);
	x.gen++;
	ks_http_publish(&x);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics" }, &p);
	assert_non_null(strstr(p.body, "t_up{tool=\"kmem\"} 0\n"));
	free(p.body);
	/* gzip asked for: rendered by the scrape, then published zipped */
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.accept_encoding = "gzip" }, &p);
	assert_int_equal(p.status, 200);
	free(p.body);
	assert_int_equal(x.want, 1 | 4);
	ks_http_publish(&x);
	handle(&x, NULL, (struct ks_http_req){ .method = "GET", .path = "/metrics",
		.accept_encoding = "gzip" }, &p);
	assert_int_equal(p.status, 200);
	assert_true(p.len >= 2 && (unsigned char)p.body[0] == 0x1f &&
		    (unsigned char)p.body[1] == 0x8b);
	free(p.body);
	ks_http_pages_free(&x);
	assert_null(x.page);
	ks_mstore_free(x.store);
	pthread_rwlock_destroy(&x.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_page),
		cmocka_unit_test(test_webcfg_full),
		cmocka_unit_test(test_webcfg_empty_and_null),
		cmocka_unit_test(test_webcfg_errors),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_negotiation),
		cmocka_unit_test(test_handler),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
