// SPDX-License-Identifier: GPL-2.0
/*
 * kscope export's request handling (src/export/http.c, and webcfg.c's
 * Basic authentication), without a socket: method, path, Accept,
 * Accept-Encoding, Authorization and ?seconds= of any bytes (NUL-separated
 * fields; a missing field is an absent header), with or without a web
 * config that requires a user.  Checks, against the harness's own routing
 * table:
 *  - the status is one the handler documents, and a body of len bytes;
 *  - without credentials required, a GET of a known path is never 404,
 *    an unknown one always is; a method other than GET/HEAD is 405;
 *  - with a user configured, that user's header always gets in and no
 *    header at all never does;
 *  - a profile reaches the collector only for kmem/kpages/locks/memleak,
 *    with seconds in 1..300;
 *  - /metrics with gzip inflates to exactly the text without gzip.
 * The collector (export.c, which runs BPF) is played by the harness.
 */
#include <crypt.h>
#include "export/export.h"
#include "fuzz.h"
#include "gunzip.h"

static struct ks_export X;
static struct ks_webcfg cfg_users;
static char good_auth[128];
static int profile_calls;

/* what the main thread's collector would do, minus BPF */
int ks_export_profile(struct ks_export *x, const char *name, double seconds,
		      char **body, size_t *len, char *err, size_t errlen)
{
	(void)x;
	profile_calls++;
	if (strcmp(name, "kmem") && strcmp(name, "kpages") &&
	    strcmp(name, "locks") && strcmp(name, "memleak"))
		abort();
	if (!(seconds >= 1 && seconds <= 300))
		abort();
	if (seconds > 200) {
		snprintf(err, errlen, "busy");
		return 429;
	}
	*body = strdup("\x1f\x8b profile");
	*len = *body ? strlen(*body) : 0;
	return 200;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char user[] = "scraper", pass[] = "s3cret";
	char yaml[512], salt[64], b64[64];
	struct crypt_data cd;
	const char *hash;
	char err[256];

	(void)argc;
	(void)argv;
	X.store = ks_mstore_new(ks_metric_families, 1000, 0);
	if (!X.store)
		abort();
	pthread_rwlock_init(&X.lock, NULL);
	pthread_mutex_init(&X.jobs_lock, NULL);
	pthread_cond_init(&X.jobs_done, NULL);
	/* a bcrypt hash of the lowest cost: a check per input stays cheap */
	memset(&cd, 0, sizeof(cd));
	if (!crypt_gensalt_rn("$2b$", 4, NULL, 0, salt, sizeof(salt)))
		abort();
	hash = crypt_r(pass, salt, &cd);
	if (!hash || hash[0] != '$')
		abort();
	snprintf(yaml, sizeof(yaml), "http_server_config:\n  headers:\n"
		 "    X-Frame-Options: deny\nbasic_auth_users:\n  %s: '%s'\n",
		 user, hash);
	if (ks_webcfg_parse(yaml, strlen(yaml), "/", &cfg_users, err,
			    sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		abort();
	}
	/* "scraper:s3cret" in base64, worked out here */
	{
		static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"abcdefghijklmnopqrstuvwxyz0123456789+/";
		char up[64];
		size_t n = snprintf(up, sizeof(up), "%s:%s", user, pass), o = 0;

		for (size_t i = 0; i < n; i += 3) {
			uint32_t v = (uint8_t)up[i] << 16 |
				(i + 1 < n ? (uint8_t)up[i + 1] << 8 : 0) |
				(i + 2 < n ? (uint8_t)up[i + 2] : 0);

			b64[o++] = a[v >> 18 & 63];
			b64[o++] = a[v >> 12 & 63];
			b64[o++] = i + 1 < n ? a[v >> 6 & 63] : '=';
			b64[o++] = i + 2 < n ? a[v & 63] : '=';
		}
		b64[o] = '\0';
	}
	snprintf(good_auth, sizeof(good_auth), "Basic %s", b64);
	return 0;
}

static const char *known[] = {
	"/metrics", "/", "/debug/pprof", "/debug/pprof/",
	"/debug/pprof/kmem", "/debug/pprof/kpages", "/debug/pprof/locks",
	"/debug/pprof/memleak",
};

static bool is_known(const char *path)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (path && !strcmp(path, known[i]))
			return true;
	return false;
}

static void check_resp(const struct ks_http_resp *p)
{
	static const int ok[] = { 200, 400, 401, 403, 404, 405, 429, 500,
				  501, 503 };
	bool known_status = false;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		known_status |= p->status == ok[i];
	if (!known_status || !p->ctype || (p->len && !p->body) ||
	    p->nheaders > KS_HTTP_MAX_HEADERS)
		abort();
	if (p->body && p->len)
		(void)((volatile const char *)p->body)[p->len - 1];
	for (int i = 0; i < p->nheaders; i++)
		if (!p->hname[i] || !p->hvalue[i] ||
		    strpbrk(p->hvalue[i], "\r\n"))
			abort();
}

static const char *hdr(const struct ks_http_resp *p, const char *name)
{
	for (int i = 0; i < p->nheaders; i++)
		if (!strcasecmp(p->hname[i], name))
			return p->hvalue[i];
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *f[6] = { NULL };
	struct ks_http_req q = { 0 };
	struct ks_http_resp p;
	struct ks_webcfg *cfg;
	char *buf;
	size_t nf = 0;
	uint8_t flags;
	int calls;

	if (!size)
		return 0;
	flags = data[0];
	buf = malloc(size);
	if (!buf)
		abort();
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	for (char *s = buf; nf < 6 && s < buf + size - 1; nf++) {
		f[nf] = s;
		s += strlen(s) + 1;
	}
	if (flags & 2 && nf < 5)	/* the right credentials, sometimes */
		f[4] = good_auth;
	q.method = f[0];
	q.path = f[1];
	q.accept = f[2];
	q.accept_encoding = f[3];
	q.authorization = flags & 4 ? NULL : f[4];
	q.seconds = f[5];
	cfg = flags & 1 ? &cfg_users : NULL;

	calls = profile_calls;
	ks_http_handle(&X, cfg, &q, &p);
	check_resp(&p);
	if (cfg && !q.authorization && p.status != 401)
		abort();
	if (cfg && q.authorization == good_auth && p.status == 401)
		abort();
	if (p.status != 401 && p.status != 405 && q.method &&
	    (!strcmp(q.method, "GET") || !strcmp(q.method, "HEAD")) &&
	    (p.status == 404) == is_known(q.path))
		abort();
	if (p.status != 401 && q.method && strcmp(q.method, "GET") &&
	    strcmp(q.method, "HEAD") && p.status != 405)
		abort();
	if (profile_calls != calls &&
	    (!q.path || strncmp(q.path, "/debug/pprof/", 13) ||
	     !is_known(q.path)))
		abort();
	if (p.status == 200 && q.path && !strcmp(q.path, "/metrics") &&
	    hdr(&p, "Content-Encoding")) {
		struct ks_http_req plain = q;
		struct ks_http_resp p2;
		size_t rl;
		unsigned char *raw = ks_fuzz_gunzip(p.body, p.len, &rl);

		plain.accept_encoding = NULL;
		ks_http_handle(&X, cfg, &plain, &p2);
		check_resp(&p2);
		if (p2.status != 200 || hdr(&p2, "Content-Encoding") ||
		    rl != p2.len || memcmp(raw, p2.body, rl))
			abort();
		free(raw);
		free(p2.body);
	}
	free(p.body);
	free(buf);
	return 0;
}
