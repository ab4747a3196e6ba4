// SPDX-License-Identifier: GPL-2.0
/*
 * kscope export's HTTP side: ks_http_handle() answers one request from
 * plain strings (so tests and fuzzers need no socket), and the
 * libmicrohttpd server around it, one thread per connection so that a
 * profile request that takes N seconds holds up nobody else.
 *
 * A slow or hostile client cannot stall collection: collection runs in
 * the main thread, which also renders the /metrics page after each change
 * (a scrape copies it); connections are limited in number (overall and per address),
 * idle ones time out, and request headers are bounded in size.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "dl.h"
#include "export.h"

#define CT_TEXT		"text/plain; version=0.0.4; charset=utf-8"
#define CT_OM		"application/openmetrics-text; version=1.0.0; " \
			"charset=utf-8"
/* a client address that holds CONN_PER_IP idle connections cannot take
 * the scrapers' place: it takes more than CONN_LIMIT / CONN_PER_IP
 * addresses to fill the server (the threads cost memory mostly not
 * touched: their stacks) */
#define CONN_LIMIT	256
#define CONN_PER_IP	16
#define CONN_TIMEOUT	15	/* seconds idle */

/* ---- content negotiation ---------------------------------------------------- */

/* one media range of an Accept header: type, its q and version params */
static void media_range(const char *s, size_t n, char *type, size_t tlen,
			double *q, char *version, size_t vlen)
{
	size_t i = 0, o = 0;

	*q = 1;
	version[0] = '\0';
	while (i < n && s[i] == ' ')
		i++;
	while (i < n && s[i] != ';' && s[i] != ' ' && o + 1 < tlen)
		type[o++] = s[i++];
	type[o] = '\0';
	while (i < n) {
		char name[16], val[32];
		size_t a = 0, b = 0;

		while (i < n && (s[i] == ';' || s[i] == ' '))
			i++;
		while (i < n && s[i] != '=' && s[i] != ';' && a + 1 < sizeof(name))
			name[a++] = s[i++];
		name[a] = '\0';
		if (i < n && s[i] == '=')
			i++;
		while (i < n && s[i] != ';' && s[i] != ' ' &&
		       b + 1 < sizeof(val))
			val[b++] = s[i++];
		val[b] = '\0';
		while (i < n && s[i] != ';')
			i++;
		if (!strcasecmp(name, "q")) {
			char *end;
			double v = strtod(val, &end);

			*q = end != val && v >= 0 && v <= 1 ? v : 0;
		} else if (!strcasecmp(name, "version")) {
			snprintf(version, vlen, "%s", val);
		}
	}
}

/* each media range of a header (Accept, Accept-Encoding) */
static void each_range(const char *h, void (*fn)(const char *type,
		       const char *version, double q, void *arg), void *arg)
{
	while (h && *h) {
		size_t n = strcspn(h, ",");
		char type[64], version[32];
		double q;

		media_range(h, n, type, sizeof(type), &q, version,
			    sizeof(version));
		fn(type, version, q, arg);
		h += n;
		if (*h)
			h++;
	}
}

/* the best q of OpenMetrics 1.0.0 [0] and of text 0.0.4 [1] */
static void om_or_text(const char *type, const char *version, double q,
		       void *arg)
{
	double *best = arg;
	int i = -1;

	if (!strcasecmp(type, "application/openmetrics-text") &&
	    (!*version || !strcmp(version, "1.0.0")))
		i = 0;
	else if ((!strcasecmp(type, "text/plain") &&
		  (!*version || !strcmp(version, "0.0.4"))) ||
		 !strcmp(type, "*/*") || !strcasecmp(type, "text/*"))
		i = 1;
	if (i >= 0 && q > best[i])
		best[i] = q;
}

bool ks_http_wants_openmetrics(const char *accept)
{
	double best[2] = { 0, 0 };

	each_range(accept, om_or_text, best);
	return best[0] > 0 && best[0] > best[1];
}

static void gzip_q(const char *type, const char *version, double q,
		   void *arg)
{
	(void)version;
	if (!strcasecmp(type, "gzip"))
		*(double *)arg = q;
}

bool ks_http_accepts_gzip(const char *ae)
{
	double q = 0;

	each_range(ae, gzip_q, &q);
	return q > 0;
}

/* ---- responses ---------------------------------------------------------------- */

static void header(struct ks_http_resp *p, const char *name, const char *v)
{
	if (p->nheaders < KS_HTTP_MAX_HEADERS) {
		p->hname[p->nheaders] = name;
		p->hvalue[p->nheaders++] = v;
	}
}

static void text(struct ks_http_resp *p, int status, const char *msg)
{
	p->status = status;
	p->ctype = "text/plain; charset=utf-8";
	p->body = strdup(msg);
	p->len = p->body ? strlen(p->body) : 0;
	if (!p->body)
		p->status = 500;
}

/* ---- the rendered page ------------------------------------------------------ */
/* variants: bit 0 OpenMetrics, bit 1 gzip */
#define NVARIANT	4

struct ks_page {
	int refs;			/* under page_lock */
	unsigned long gen;
	unsigned have;			/* variants rendered */
	char *body[NVARIANT];
	size_t len[NVARIANT];
	bool gz[NVARIANT];		/* gzip paid: body is compressed */
};

static void page_put(struct ks_export *x, struct ks_page *pg)
{
	bool last;

	pthread_mutex_lock(&x->page_lock);
	last = --pg->refs == 0;
	pthread_mutex_unlock(&x->page_lock);
	if (!last)
		return;
	for (int i = 0; i < NVARIANT; i++)
		free(pg->body[i]);
	free(pg);
}

/* render the store (the caller holds its lock at least for reading) */
static int render(struct ks_export *x, bool om, char **body, size_t *len)
{
	FILE *f;

	*body = NULL;
	*len = 0;
	f = open_memstream(body, len);
	if (!f)
		return -1;
	ks_mstore_write(x->store, f, om);
	if (fclose(f)) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

/* level 6 once per page rather than level 1 per scrape; false (body
 * untouched) when it does not pay */
static bool gzip_buf(char **body, size_t *len, int level)
{
	unsigned char *out;
	size_t n;

	if (ks_gzip(*body, *len, level, &out, &n))
		return false;
	free(*body);
	*body = (char *)out;
	*len = n;
	return true;
}

void ks_http_publish(struct ks_export *x)
{
	struct ks_page *pg, *old;
	unsigned want;

	pthread_mutex_lock(&x->page_lock);
	want = x->want;
	old = x->page;
	pthread_mutex_unlock(&x->page_lock);
	/* the main thread is the store's only writer: gen is stable here */
	if (!want || (old && old->gen == x->gen && (old->have & want) == want))
		return;
	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return;
	pg->refs = 1;
	pg->gen = x->gen;
	pthread_rwlock_rdlock(&x->lock);
	for (int v = 0; v < NVARIANT; v++)
		if ((want & 1u << v) && !render(x, v & 1, &pg->body[v],
						&pg->len[v]))
			pg->have |= 1u << v;
	pthread_rwlock_unlock(&x->lock);
	for (int v = 0; v < NVARIANT; v++)
		if ((pg->have & 1u << v) && (v & 2))
			pg->gz[v] = gzip_buf(&pg->body[v], &pg->len[v], 6);
	pthread_mutex_lock(&x->page_lock);
	x->page = pg;
	pthread_mutex_unlock(&x->page_lock);
	if (old)
		page_put(x, old);
}

void ks_http_pages_free(struct ks_export *x)
{
	struct ks_page *pg;

	pthread_mutex_lock(&x->page_lock);
	pg = x->page;
	x->page = NULL;
	pthread_mutex_unlock(&x->page_lock);
	if (pg)
		page_put(x, pg);
}

static void metrics(struct ks_export *x, const struct ks_http_req *q,
		    struct ks_http_resp *p)
{
	bool om = ks_http_wants_openmetrics(q->accept);
	bool gz = ks_http_accepts_gzip(q->accept_encoding);
	unsigned v = (om ? 1 : 0) | (gz ? 2 : 0);
	struct ks_page *pg;
	bool zipped = false;

	p->body = NULL;
	p->len = 0;
	pthread_mutex_lock(&x->page_lock);
	x->want |= 1u << v;
	pg = x->page;
	if (pg && (pg->have & 1u << v))
		pg->refs++;
	else
		pg = NULL;
	pthread_mutex_unlock(&x->page_lock);
	if (pg) {
		/* the page's bytes: a copy, outside every lock */
		p->body = malloc(pg->len[v] + 1);
		if (p->body) {
			memcpy(p->body, pg->body[v], pg->len[v]);
			p->body[pg->len[v]] = 0;	/* as open_memstream */
			p->len = pg->len[v];
			zipped = pg->gz[v];
		}
		page_put(x, pg);
	} else {
		/* a variant nobody asked for before: rendered here once,
		 * published from the next change on */
		int err;

		pthread_rwlock_rdlock(&x->lock);
		err = render(x, om, &p->body, &p->len);
		pthread_rwlock_unlock(&x->lock);
		if (!err && gz)
			zipped = gzip_buf(&p->body, &p->len, 1);
		if (err) {
			p->body = NULL;
			p->len = 0;
		}
	}
	if (!p->body) {
		text(p, 500, "out of memory\n");
		return;
	}
	p->status = 200;
	p->ctype = om ? CT_OM : CT_TEXT;
	header(p, "Vary", "Accept, Accept-Encoding");
	if (zipped)
		header(p, "Content-Encoding", "gzip");
}

static const char index_html[] =
"<!DOCTYPE html>\n<html><head><title>kscope export</title></head>\n"
"<body><h1>kscope export</h1>\n"
"<p>Kernel lock, memory, NUMA and workqueue metrics from eBPF.</p>\n"
"<ul><li><a href=\"/metrics\">/metrics</a></li>\n"
"<li><a href=\"/debug/pprof/\">/debug/pprof/</a></li></ul>\n"
"</body></html>\n";

static const char pprof_index[] =
"kscope export profiles (gzipped profile.proto, as Go's net/http/pprof):\n"
"\n"
"/debug/pprof/kmem?seconds=N     kernel allocations (alloc_objects,\n"
"                                alloc_space) by stack over N seconds\n"
"/debug/pprof/kpages?seconds=N   page allocations by stack\n"
"/debug/pprof/locks?seconds=N    lock contention (contentions, delay)\n"
"/debug/pprof/memleak            outstanding kernel allocations now\n"
"                                (inuse_objects, inuse_space)\n"
"\n"
"N defaults to 30 and may be 1-300.\n";

static void profile(struct ks_export *x, const char *name,
		    const struct ks_http_req *q, struct ks_http_resp *p)
{
	double secs = 30;
	char err[256];
	int status;

	if (q->seconds && ks_parse_double(q->seconds, 1, 300, &secs)) {
		text(p, 400, "seconds must be a number from 1 to 300\n");
		return;
	}
	status = ks_export_profile(x, name, secs, &p->body, &p->len, err,
				   sizeof(err));
	if (status != 200) {
		size_t n = strlen(err);

		if (n + 1 < sizeof(err)) {
			err[n] = '\n';
			err[n + 1] = '\0';
		}
		text(p, status, err);
		if (status == 429)
			header(p, "Retry-After", "5");
		return;
	}
	p->status = 200;
	p->ctype = "application/octet-stream";
	header(p, "Content-Disposition", "attachment; filename=\"profile\"");
}

void ks_http_handle(struct ks_export *x, struct ks_webcfg *cfg,
		    const struct ks_http_req *q, struct ks_http_resp *p)
{
	static const char pfx[] = "/debug/pprof/";
	const char *path = q->path ? q->path : "";

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; cfg && i < cfg->nheaders; i++)
		header(p, cfg->headers[i].name, cfg->headers[i].value);
	if (cfg && cfg->tls && cfg->client_auth != KS_CLIENT_NONE &&
	    !q->tls_client_ok) {
		text(p, 403, "a client certificate signed by the configured "
		     "CA is required\n");
		return;
	}
	if (cfg && !ks_webcfg_auth(cfg, q->authorization)) {
		text(p, 401, "Unauthorized\n");
		header(p, "WWW-Authenticate", "Basic realm=\"kscope\", "
		       "charset=\"UTF-8\"");
		return;
	}
	if (!q->method || (strcmp(q->method, "GET") &&
			   strcmp(q->method, "HEAD"))) {
		text(p, 405, "only GET and HEAD\n");
		header(p, "Allow", "GET, HEAD");
		return;
	}
	if (!strcmp(path, "/metrics")) {
		metrics(x, q, p);
	} else if (!strcmp(path, "/")) {
		text(p, 200, index_html);
		p->ctype = "text/html; charset=utf-8";
	} else if (!strcmp(path, "/debug/pprof") ||
		   !strcmp(path, "/debug/pprof/")) {
		text(p, 200, pprof_index);
	} else if (!strncmp(path, pfx, sizeof(pfx) - 1) &&
		   (!strcmp(path + sizeof(pfx) - 1, "kmem") ||
		    !strcmp(path + sizeof(pfx) - 1, "kpages") ||
		    !strcmp(path + sizeof(pfx) - 1, "locks") ||
		    !strcmp(path + sizeof(pfx) - 1, "memleak"))) {
		profile(x, path + sizeof(pfx) - 1, q, p);
	} else {
		text(p, 404, "not found (see /)\n");
	}
}

/* ---- libmicrohttpd ------------------------------------------------------------ */

struct ks_httpd {
	struct MHD_Daemon *d;
	struct ks_export *x;
	struct ks_webcfg *cfg;
};

/* the client certificate, checked against the configured CA */
static bool client_ok(struct MHD_Connection *conn,
		      const struct ks_webcfg *cfg)
{
	const union MHD_ConnectionInfo *ci;
	unsigned int status = 0;
	int rc;

	if (!cfg || !cfg->tls || cfg->client_auth == KS_CLIENT_NONE)
		return true;
	ci = ks_dl.MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	if (!ci || !ci->tls_session)
		return false;
	rc = ks_dl.gnutls_certificate_verify_peers2(ci->tls_session, &status);
	if (rc == GNUTLS_E_NO_CERTIFICATE_FOUND)
		return cfg->client_auth == KS_CLIENT_VERIFY_IF_GIVEN;
	return rc == 0 && status == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	static int seen;
	struct ks_httpd *h = cls;
	struct ks_http_req q = {
		.method = method,
		.path = url,
		.accept = ks_dl.MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
						      MHD_HTTP_HEADER_ACCEPT),
		.accept_encoding = ks_dl.MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING),
		.authorization = ks_dl.MHD_lookup_connection_value(conn,
			MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION),
		.seconds = ks_dl.MHD_lookup_connection_value(conn,
			MHD_GET_ARGUMENT_KIND, "seconds"),
	};
	struct ks_http_resp p;
	struct MHD_Response *r;
	enum MHD_Result ret;

	(void)version;
	(void)upload;
	/* answer at the first call: no request of ours has a body, and one
	 * that comes with a body is refused without reading it */
	if (*con_cls != &seen) {
		*con_cls = &seen;
		*upload_size = 0;
	}
	q.tls_client_ok = client_ok(conn, h->cfg);
	ks_http_handle(h->x, h->cfg, &q, &p);
	r = ks_dl.MHD_create_response_from_buffer(p.len, p.body,
					    MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(p.body);
		return MHD_NO;
	}
	ks_dl.MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, p.ctype);
	for (int i = 0; i < p.nheaders; i++)
		ks_dl.MHD_add_response_header(r, p.hname[i], p.hvalue[i]);
	ret = ks_dl.MHD_queue_response(conn, p.status, r);
	ks_dl.MHD_destroy_response(r);
	return ret;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	/* a client that hung up, a failed handshake: the client's problem,
	 * not worth a line per event; start-up failures are ours */
	if (strstr(line, "Failed to bind") || strstr(line, "listen") ||
	    strstr(line, "TLS") || strstr(line, "certificate"))
		ks_err("http: %s", line);
}

struct ks_httpd *ks_httpd_start(struct ks_export *x, struct ks_webcfg *cfg,
				const struct sockaddr *addr, int fd)
{
	struct ks_httpd *h = calloc(1, sizeof(*h));
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL |
			     MHD_USE_ITC | MHD_USE_ERROR_LOG;
	struct MHD_OptionItem opts[16];
	char prio[128], why[256];
	int n = 0;

	if (ks_dl_load(why, sizeof(why))) {
		ks_err("%s", why);
		free(h);
		return NULL;
	}
	if (!h) {
		ks_err("out of memory");
		return NULL;
	}
	h->x = x;
	h->cfg = cfg;
	if (addr && addr->sa_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_EXTERNAL_LOGGER,
		(intptr_t)mhd_log, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_LIMIT,
		CONN_LIMIT, NULL };
	opts[n++] = (struct MHD_OptionItem){
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, CONN_PER_IP, NULL };
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_CONNECTION_TIMEOUT,
		CONN_TIMEOUT, NULL };
	/* request line and headers: 16 KiB is plenty for a scraper */
	opts[n++] = (struct MHD_OptionItem){
		MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16384, NULL };
	if (fd >= 0)
		opts[n++] = (struct MHD_OptionItem){
			MHD_OPTION_LISTEN_SOCKET, fd, NULL };
	else
		opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_SOCK_ADDR, 0,
			(void *)addr };
	if (cfg && cfg->tls) {
		flags |= MHD_USE_TLS;
		opts[n++] = (struct MHD_OptionItem){
			MHD_OPTION_HTTPS_MEM_CERT, 0, cfg->cert_pem };
		opts[n++] = (struct MHD_OptionItem){
			MHD_OPTION_HTTPS_MEM_KEY, 0, cfg->key_pem };
		opts[n++] = (struct MHD_OptionItem){
			MHD_OPTION_HTTPS_PRIORITIES, 0,
			(void *)ks_webcfg_priorities(cfg, prio,
						     sizeof(prio)) };
		/* a trust list makes libmicrohttpd ask for a client
		 * certificate; client_ok() verifies it */
		if (cfg->ca_pem && cfg->client_auth != KS_CLIENT_NONE)
			opts[n++] = (struct MHD_OptionItem){
				MHD_OPTION_HTTPS_MEM_TRUST, 0, cfg->ca_pem };
	}
	opts[n++] = (struct MHD_OptionItem){ MHD_OPTION_END, 0, NULL };
	h->d = ks_dl.MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
	if (!h->d) {
		ks_err("cannot start the HTTP server%s%s", errno ? ": " : "",
		       errno ? strerror(errno) : "");
		free(h);
		return NULL;
	}
	return h;
}

int ks_httpd_quiesce(struct ks_httpd *h)
{
	return ks_dl.MHD_quiesce_daemon(h->d);
}

void ks_httpd_stop(struct ks_httpd *h)
{
	if (!h)
		return;
	ks_dl.MHD_stop_daemon(h->d);
	free(h);
}

int ks_httpd_port(const struct ks_httpd *h)
{
	const union MHD_DaemonInfo *i =
		ks_dl.MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);

	return i ? i->port : -1;
}
