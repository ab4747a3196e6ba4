// SPDX-License-Identifier: GPL-2.0
/*
 * The web configuration of kscope export, in the Prometheus
 * exporter-toolkit's format (so the files people already have for
 * node_exporter work unchanged): parsed with libyaml, passwords checked
 * with libcrypt's bcrypt, base64 and digests from GnuTLS.
 *
 * Unknown keys are errors, as in exporter-toolkit (it unmarshals
 * strictly): a typo must not silently turn TLS or authentication off.
 */
#include <crypt.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "dl.h"
#include "export.h"

#define MAX_FILE	(1 << 20)	/* web-config, certificates, keys */

__attribute__((format(printf, 3, 4)))
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- YAML walking ------------------------------------------------------------ */

struct walk {
	yaml_document_t *doc;
	const char *dir;
	struct ks_webcfg *c;
	char *err;
	size_t errlen;
};

static const char *scalar(yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ?
	       (const char *)n->data.scalar.value : NULL;
}

/* null, ~, or an empty plain scalar: the key is as good as absent */
static bool is_null(yaml_node_t *n)
{
	const char *s = scalar(n);

	if (!n)
		return true;
	if (!s || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") ||
	       !strcmp(s, "Null") || !strcmp(s, "NULL");
}

static int want_string(struct walk *w, yaml_node_t *n, const char *key,
		       const char **out)
{
	const char *s = scalar(n);

	if (!s)
		return fail(w->err, w->errlen, "%s: expected a string "
			    "(line %lu)", key,
			    n ? (unsigned long)n->start_mark.line + 1 : 0UL);
	if (strlen(s) != n->data.scalar.length)
		return fail(w->err, w->errlen, "%s: NUL byte in value", key);
	*out = s;
	return 0;
}

static int want_bool(struct walk *w, yaml_node_t *n, const char *key,
		     bool *out)
{
	const char *s = scalar(n);

	if (s && (!strcmp(s, "true") || !strcmp(s, "True") ||
		  !strcmp(s, "TRUE")))
		*out = true;
	else if (s && (!strcmp(s, "false") || !strcmp(s, "False") ||
		       !strcmp(s, "FALSE")))
		*out = false;
	else
		return fail(w->err, w->errlen, "%s: expected true or false",
			    key);
	return 0;
}

/* a file name, relative to the web-config file's directory */
static int want_path(struct walk *w, yaml_node_t *n, const char *key,
		     char **out)
{
	const char *s;

	if (want_string(w, n, key, &s))
		return -1;
	if (!*s)
		return fail(w->err, w->errlen, "%s: empty file name", key);
	free(*out);
	if (s[0] == '/' || !w->dir || !*w->dir) {
		*out = strdup(s);
	} else if (asprintf(out, "%s/%s", w->dir, s) < 0) {
		*out = NULL;
	}
	return *out ? 0 : fail(w->err, w->errlen, "out of memory");
}

static int tls_version(struct walk *w, yaml_node_t *n, const char *key,
		       int *out)
{
	static const char *const names[] = { "TLS10", "TLS11", "TLS12",
					     "TLS13", NULL };
	const char *s;

	if (want_string(w, n, key, &s))
		return -1;
	for (int i = 0; names[i]; i++)
		if (!strcmp(s, names[i])) {
			*out = 10 + i;
			return 0;
		}
	return fail(w->err, w->errlen, "%s: unknown TLS version '%.40s' "
		    "(TLS10, TLS11, TLS12, TLS13)", key, s);
}

#define FOR_PAIRS(doc, map, p)						\
	for (yaml_node_pair_t *p = (map)->data.mapping.pairs.start;	\
	     p < (map)->data.mapping.pairs.top; p++)

static yaml_node_t *node(struct walk *w, int id)
{
	return yaml_document_get_node(w->doc, id);
}

static int want_map(struct walk *w, yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_MAPPING_NODE)
		return fail(w->err, w->errlen, "%s: expected a mapping (line "
			    "%lu)", key,
			    n ? (unsigned long)n->start_mark.line + 1 : 0UL);
	return 0;
}

static int tls_section(struct walk *w, yaml_node_t *m)
{
	struct ks_webcfg *c = w->c;
	bool have_client_auth = false;

	if (is_null(m))
		return 0;
	if (want_map(w, m, "tls_server_config"))
		return -1;
	c->tls = true;
	FOR_PAIRS(w->doc, m, p) {
		const char *k = scalar(node(w, p->key));
		yaml_node_t *v = node(w, p->value);
		int err = 0;

		if (!k)
			return fail(w->err, w->errlen, "tls_server_config: "
				    "keys must be strings");
		if (is_null(v))
			continue;
		if (!strcmp(k, "cert_file")) {
			err = want_path(w, v, k, &c->cert_file);
		} else if (!strcmp(k, "key_file")) {
			err = want_path(w, v, k, &c->key_file);
		} else if (!strcmp(k, "client_ca_file")) {
			err = want_path(w, v, k, &c->client_ca_file);
		} else if (!strcmp(k, "client_auth_type")) {
			const char *s;

			if (want_string(w, v, k, &s))
				return -1;
			have_client_auth = true;
			if (!strcmp(s, "NoClientCert"))
				c->client_auth = KS_CLIENT_NONE;
			else if (!strcmp(s, "VerifyClientCertIfGiven"))
				c->client_auth = KS_CLIENT_VERIFY_IF_GIVEN;
			else if (!strcmp(s, "RequireAndVerifyClientCert"))
				c->client_auth = KS_CLIENT_REQUIRE_VERIFY;
			else if (!strcmp(s, "RequestClientCert") ||
				 !strcmp(s, "RequireAnyClientCert"))
				return fail(w->err, w->errlen, "client_auth_"
					    "type %s is not supported by kscope "
					    "(NoClientCert, VerifyClientCertIf"
					    "Given, RequireAndVerifyClientCert)",
					    s);
			else
				return fail(w->err, w->errlen, "client_auth_"
					    "type: unknown value '%.40s'", s);
		} else if (!strcmp(k, "min_version")) {
			err = tls_version(w, v, k, &c->min_tls);
		} else if (!strcmp(k, "max_version")) {
			err = tls_version(w, v, k, &c->max_tls);
		} else if (!strcmp(k, "prefer_server_cipher_suites")) {
			err = want_bool(w, v, k, &c->server_order);
		} else if (!strcmp(k, "cipher_suites") ||
			   !strcmp(k, "curve_preferences")) {
			return fail(w->err, w->errlen, "tls_server_config: %s "
				    "is not supported by kscope (GnuTLS's "
				    "default choice applies)", k);
		} else {
			return fail(w->err, w->errlen, "tls_server_config: "
				    "unknown key '%.40s'", k);
		}
		if (err)
			return -1;
	}
	if (!c->cert_file || !c->key_file)
		return fail(w->err, w->errlen, "tls_server_config needs both "
			    "cert_file and key_file");
	if (c->client_auth != KS_CLIENT_NONE && !c->client_ca_file)
		return fail(w->err, w->errlen, "client_auth_type needs "
			    "client_ca_file");
	if (c->client_ca_file && !have_client_auth)
		/* exporter-toolkit's default with a CA file */
		c->client_auth = KS_CLIENT_REQUIRE_VERIFY;
	if (c->min_tls > c->max_tls)
		return fail(w->err, w->errlen, "min_version is above "
			    "max_version");
	return 0;
}

/* the headers exporter-toolkit lets a web-config set */
static const char *const header_names[] = {
	"Strict-Transport-Security", "X-Content-Type-Options",
	"X-Frame-Options", "X-XSS-Protection", "Content-Security-Policy",
	NULL,
};

static int http_section(struct walk *w, yaml_node_t *m)
{
	struct ks_webcfg *c = w->c;

	if (is_null(m))
		return 0;
	if (want_map(w, m, "http_server_config"))
		return -1;
	FOR_PAIRS(w->doc, m, p) {
		const char *k = scalar(node(w, p->key));
		yaml_node_t *v = node(w, p->value);
		bool b;

		if (!k)
			return fail(w->err, w->errlen, "http_server_config: "
				    "keys must be strings");
		if (is_null(v))
			continue;
		if (!strcmp(k, "http2")) {
			/* libmicrohttpd speaks HTTP/1.1 only: accepted, and
			 * said in docs/export.md */
			if (want_bool(w, v, k, &b))
				return -1;
			continue;
		}
		if (strcmp(k, "headers"))
			return fail(w->err, w->errlen, "http_server_config: "
				    "unknown key '%.40s'", k);
		if (want_map(w, v, "headers"))
			return -1;
		FOR_PAIRS(w->doc, v, h) {
			const char *name = scalar(node(w, h->key));
			const char *val;
			struct ks_webhdr *nh;
			int i;

			for (i = 0; name && header_names[i]; i++)
				if (!strcasecmp(name, header_names[i]))
					break;
			if (!name || !header_names[i])
				return fail(w->err, w->errlen, "headers: "
					    "'%.40s' may not be set (allowed: "
					    "Strict-Transport-Security, "
					    "X-Content-Type-Options, "
					    "X-Frame-Options, X-XSS-Protection, "
					    "Content-Security-Policy)",
					    name ? name : "?");
			if (want_string(w, node(w, h->value), name, &val))
				return -1;
			if (strpbrk(val, "\r\n"))
				return fail(w->err, w->errlen, "headers: %s: "
					    "line break in value",
					    header_names[i]);
			nh = realloc(c->headers, (c->nheaders + 1) *
				     sizeof(*nh));
			if (!nh)
				return fail(w->err, w->errlen,
					    "out of memory");
			c->headers = nh;
			nh[c->nheaders].name = strdup(header_names[i]);
			nh[c->nheaders].value = strdup(val);
			c->nheaders++;
			if (!nh[c->nheaders - 1].name ||
			    !nh[c->nheaders - 1].value)
				return fail(w->err, w->errlen,
					    "out of memory");
		}
	}
	return 0;
}

static bool is_bcrypt(const char *h)
{
	/* $2a$/$2b$/$2y$, a two-digit cost, 53 characters of salt+hash */
	if (strlen(h) != 60 || h[0] != '$' || h[1] != '2' ||
	    !strchr("aby", h[2]) || h[3] != '$' || h[6] != '$')
		return false;
	if (h[4] < '0' || h[4] > '3' || h[5] < '0' || h[5] > '9')
		return false;
	for (int i = 7; i < 60; i++)
		if (!strchr("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			    "vwxyz0123456789", h[i]))
			return false;
	return true;
}

static int users_section(struct walk *w, yaml_node_t *m)
{
	struct ks_webcfg *c = w->c;

	if (is_null(m))
		return 0;
	if (want_map(w, m, "basic_auth_users"))
		return -1;
	FOR_PAIRS(w->doc, m, p) {
		const char *name = scalar(node(w, p->key));
		const char *hash;
		struct ks_webuser *u;

		if (!name || !*name || strchr(name, ':'))
			return fail(w->err, w->errlen, "basic_auth_users: "
				    "user names must be non-empty strings "
				    "without ':'");
		if (want_string(w, node(w, p->value), name, &hash))
			return -1;
		if (!is_bcrypt(hash))
			return fail(w->err, w->errlen, "basic_auth_users: "
				    "%.40s: the password must be a bcrypt hash "
				    "($2y$...; htpasswd -nBC 10 USER)", name);
		for (size_t i = 0; i < c->nusers; i++)
			if (!strcmp(c->users[i].name, name))
				return fail(w->err, w->errlen, "basic_auth_"
					    "users: %.40s twice", name);
		u = realloc(c->users, (c->nusers + 1) * sizeof(*u));
		if (!u)
			return fail(w->err, w->errlen, "out of memory");
		c->users = u;
		u[c->nusers].name = strdup(name);
		u[c->nusers].hash = strdup(hash);
		c->nusers++;
		if (!u[c->nusers - 1].name || !u[c->nusers - 1].hash)
			return fail(w->err, w->errlen, "out of memory");
	}
	return 0;
}

static int walk_root(struct walk *w)
{
	yaml_node_t *root = yaml_document_get_root_node(w->doc);

	/* an empty file: plain HTTP, no authentication */
	if (!root || is_null(root))
		return 0;
	if (want_map(w, root, "web config"))
		return -1;
	FOR_PAIRS(w->doc, root, p) {
		const char *k = scalar(node(w, p->key));
		yaml_node_t *v = node(w, p->value);
		int err;

		if (!k)
			return fail(w->err, w->errlen, "keys must be strings");
		if (!strcmp(k, "tls_server_config"))
			err = tls_section(w, v);
		else if (!strcmp(k, "http_server_config"))
			err = http_section(w, v);
		else if (!strcmp(k, "basic_auth_users"))
			err = users_section(w, v);
		else
			return fail(w->err, w->errlen, "unknown key '%.40s' "
				    "(tls_server_config, http_server_config, "
				    "basic_auth_users)", k);
		if (err)
			return -1;
	}
	return 0;
}

static void cfg_init(struct ks_webcfg *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->cache_lock, NULL);
	c->min_tls = 12;	/* exporter-toolkit's defaults */
	c->max_tls = 13;
}

int ks_webcfg_parse(const char *text, size_t len, const char *dir,
		    struct ks_webcfg *c, char *err, size_t errlen)
{
	struct walk w = { .dir = dir, .c = c, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	yaml_document_t doc;
	int ret;

	cfg_init(c);
	if (ks_dl_load(err, errlen))
		return -1;
	if (!yaml_parser_initialize(&parser))
		return fail(err, errlen, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text,
				     len);
	if (!yaml_parser_load(&parser, &doc)) {
		ret = fail(err, errlen, "YAML: %s at line %lu column %lu",
			   parser.problem ? parser.problem : "syntax error",
			   (unsigned long)parser.problem_mark.line + 1,
			   (unsigned long)parser.problem_mark.column + 1);
		yaml_parser_delete(&parser);
		return ret;
	}
	w.doc = &doc;
	ret = walk_root(&w);
	/* a second document is a mistake, not something to ignore */
	if (!ret) {
		yaml_document_t more;

		if (!yaml_parser_load(&parser, &more))
			ret = fail(err, errlen, "YAML: %s after the document",
				   parser.problem ? parser.problem :
				   "syntax error");
		else {
			if (yaml_document_get_root_node(&more))
				ret = fail(err, errlen, "more than one YAML "
					   "document");
			yaml_document_delete(&more);
		}
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ret;
}

/* ---- files --------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len, char *err,
		       size_t errlen)
{
	FILE *f = fopen(path, "re");
	char *buf;
	size_t n;

	if (!f) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_FILE + 1);
	n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
	if (buf && ferror(f)) {
		fail(err, errlen, "%s: %s", path, strerror(errno));
		free(buf);
		buf = NULL;
	} else if (buf && n > MAX_FILE) {
		fail(err, errlen, "%s: larger than %d bytes", path, MAX_FILE);
		free(buf);
		buf = NULL;
	} else if (!buf) {
		fail(err, errlen, "out of memory");
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		if (len)
			*len = n;
	}
	return buf;
}

/* the certificate and key load and belong together, the CA file holds
 * certificates: caught at start (or at a reload), not at a handshake */
static int check_tls(const struct ks_webcfg *c, char *err, size_t errlen)
{
	gnutls_certificate_credentials_t cred;
	gnutls_datum_t cert = { (unsigned char *)c->cert_pem,
				strlen(c->cert_pem) };
	gnutls_datum_t key = { (unsigned char *)c->key_pem,
			       strlen(c->key_pem) };
	int rc;

	if (ks_dl.gnutls_certificate_allocate_credentials(&cred) < 0)
		return fail(err, errlen, "out of memory");
	rc = ks_dl.gnutls_certificate_set_x509_key_mem(cred, &cert, &key,
						 GNUTLS_X509_FMT_PEM);
	if (rc < 0) {
		ks_dl.gnutls_certificate_free_credentials(cred);
		return fail(err, errlen, "%s, %s: %s", c->cert_file,
			    c->key_file, ks_dl.gnutls_strerror(rc));
	}
	if (c->ca_pem) {
		gnutls_datum_t ca = { (unsigned char *)c->ca_pem,
				      strlen(c->ca_pem) };

		rc = ks_dl.gnutls_certificate_set_x509_trust_mem(cred, &ca,
							   GNUTLS_X509_FMT_PEM);
		if (rc <= 0) {
			ks_dl.gnutls_certificate_free_credentials(cred);
			return fail(err, errlen, "%s: %s", c->client_ca_file,
				    rc ? ks_dl.gnutls_strerror(rc) :
				    "no certificate in it");
		}
	}
	ks_dl.gnutls_certificate_free_credentials(cred);
	return 0;
}

int ks_webcfg_load(const char *path, struct ks_webcfg *c, char *err,
		   size_t errlen)
{
	char *text, *dir, *slash;
	size_t len = 0;
	int ret;

	text = read_file(path, &len, err, errlen);
	if (!text) {
		cfg_init(c);	/* ks_webcfg_free() is then safe */
		return -1;
	}
	dir = strdup(path);
	if (!dir) {
		free(text);
		return fail(err, errlen, "out of memory");
	}
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		dir[0] = '\0';
	ret = ks_webcfg_parse(text, len, dir, c, err, errlen);
	free(text);
	free(dir);
	if (ret || !c->tls)
		return ret;
	c->cert_pem = read_file(c->cert_file, NULL, err, errlen);
	if (!c->cert_pem)
		return -1;
	c->key_pem = read_file(c->key_file, NULL, err, errlen);
	if (!c->key_pem)
		return -1;
	if (c->client_ca_file) {
		c->ca_pem = read_file(c->client_ca_file, NULL, err, errlen);
		if (!c->ca_pem)
			return -1;
	}
	return check_tls(c, err, errlen);
}

void ks_webcfg_free(struct ks_webcfg *c)
{
	for (size_t i = 0; i < c->nusers; i++) {
		free(c->users[i].name);
		free(c->users[i].hash);
	}
	for (size_t i = 0; i < c->nheaders; i++) {
		free(c->headers[i].name);
		free(c->headers[i].value);
	}
	free(c->users);
	free(c->headers);
	free(c->cert_file);
	free(c->key_file);
	free(c->client_ca_file);
	free(c->cert_pem);
	if (c->key_pem)
		explicit_bzero(c->key_pem, strlen(c->key_pem));
	free(c->key_pem);
	free(c->ca_pem);
	explicit_bzero(c->ok, sizeof(c->ok));
	pthread_mutex_destroy(&c->cache_lock);
	memset(c, 0, sizeof(*c));
}

const char *ks_webcfg_priorities(const struct ks_webcfg *c, char *buf,
				 size_t len)
{
	size_t o = snprintf(buf, len, "NORMAL:-VERS-ALL");

	for (int v = c->max_tls; v >= c->min_tls && o < len; v--)
		o += snprintf(buf + o, len - o, ":+VERS-TLS1.%d", v - 10);
	if (c->server_order && o < len)
		snprintf(buf + o, len - o, ":%%SERVER_PRECEDENCE");
	return buf;
}

/* ---- basic auth ------------------------------------------------------------ */

static bool same(const unsigned char *a, const unsigned char *b, size_t n)
{
	unsigned char d = 0;

	for (size_t i = 0; i < n; i++)
		d |= a[i] ^ b[i];
	return !d;
}

static bool bcrypt_ok(const char *hash, const char *password)
{
	struct crypt_data *cd = calloc(1, sizeof(*cd));
	const char *out;
	bool ok;

	if (!cd)
		return false;
	out = crypt_rn(password, hash, cd, sizeof(*cd));
	ok = out && strlen(out) == strlen(hash) &&
	     same((const unsigned char *)out, (const unsigned char *)hash,
		  strlen(hash));
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

bool ks_webcfg_auth(struct ks_webcfg *c, const char *authorization)
{
	gnutls_datum_t in, dec = { NULL, 0 };
	unsigned char digest[32];
	const struct ks_webuser *u = NULL;
	char *user, *pass;
	bool ok = false, cached = false;

	if (!c->nusers)
		return true;
	if (!authorization || strncasecmp(authorization, "Basic ", 6) ||
	    ks_dl_load(NULL, 0))	/* loaded by the parse: never fails here */
		return false;
	authorization += 6;
	while (*authorization == ' ')
		authorization++;
	in.data = (unsigned char *)authorization;
	in.size = strlen(authorization);
	if (!in.size || in.size > 4096 || ks_dl.gnutls_base64_decode2(&in, &dec) < 0)
		return false;
	/* user:password, with a terminating NUL of our own */
	user = malloc(dec.size + 1);
	if (!user)
		goto out;
	memcpy(user, dec.data, dec.size);
	user[dec.size] = '\0';
	pass = memchr(user, ':', dec.size);
	if (!pass || strlen(user) != dec.size) {	/* no NUL inside */
		free(user);
		goto out;
	}
	*pass++ = '\0';
	for (size_t i = 0; i < c->nusers; i++)
		if (!strcmp(c->users[i].name, user))
			u = &c->users[i];
	if (u && ks_dl.gnutls_hash_fast(GNUTLS_DIG_SHA256, dec.data, dec.size,
				  digest) == 0) {
		pthread_mutex_lock(&c->cache_lock);
		for (int i = 0; i < c->nok && !cached; i++)
			cached = same(c->ok[i], digest, sizeof(digest));
		pthread_mutex_unlock(&c->cache_lock);
		ok = cached || bcrypt_ok(u->hash, pass);
		if (ok && !cached) {
			pthread_mutex_lock(&c->cache_lock);
			memcpy(c->ok[c->next_ok], digest, sizeof(digest));
			c->next_ok = (c->next_ok + 1) % KS_AUTH_CACHE;
			if (c->nok < KS_AUTH_CACHE)
				c->nok++;
			pthread_mutex_unlock(&c->cache_lock);
		}
	}
	explicit_bzero(user, dec.size + 1);
	free(user);
out:
	if (dec.data) {
		explicit_bzero(dec.data, dec.size);
		(*ks_dl.gnutls_free_fn)(dec.data);
	}
	return ok;
}
