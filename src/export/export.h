/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kscope export: the pieces of the daemon.  The web configuration parser
 * and the request handler are plain functions over strings, so that they
 * are tested (and fuzzed) without a socket.
 */
#ifndef KS_EXPORT_H
#define KS_EXPORT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include "kscope.h"

/* ---- web configuration (webcfg.c) --------------------------------------- */
/*
 * The Prometheus exporter-toolkit's web-config file: TLS, basic auth with
 * bcrypt hashes, response headers.  https://github.com/prometheus/
 * exporter-toolkit/blob/master/docs/web-configuration.md
 */
enum ks_client_auth {
	KS_CLIENT_NONE,			/* NoClientCert */
	KS_CLIENT_VERIFY_IF_GIVEN,	/* VerifyClientCertIfGiven */
	KS_CLIENT_REQUIRE_VERIFY,	/* RequireAndVerifyClientCert */
};

struct ks_webuser {
	char *name;
	char *hash;		/* bcrypt: $2a$, $2b$ or $2y$ */
};

struct ks_webhdr {
	char *name;
	char *value;
};

#define KS_AUTH_CACHE	16

struct ks_webcfg {
	bool tls;
	char *cert_file, *key_file, *client_ca_file;	/* as resolved */
	enum ks_client_auth client_auth;
	int min_tls, max_tls;	/* 10..13 */
	bool server_order;	/* prefer_server_cipher_suites */
	char *cert_pem, *key_pem, *ca_pem;	/* read by ks_webcfg_load */
	struct ks_webuser *users;
	size_t nusers;
	struct ks_webhdr *headers;
	size_t nheaders;
	/* bcrypt costs ~50 ms a check: credentials that passed are kept
	 * (as SHA-256 digests) until the file is reloaded */
	pthread_mutex_t cache_lock;
	unsigned char ok[KS_AUTH_CACHE][32];
	int nok, next_ok;
};

/*
 * Parse web-config YAML text (len bytes); relative file names are taken
 * from dir.  0, or -1 with a one-line reason in err.  Files are not read.
 */
int ks_webcfg_parse(const char *text, size_t len, const char *dir,
		    struct ks_webcfg *c, char *err, size_t errlen);
/* read and parse path, then the certificate, key and CA files it names */
int ks_webcfg_load(const char *path, struct ks_webcfg *c, char *err,
		   size_t errlen);
void ks_webcfg_free(struct ks_webcfg *c);
/* GnuTLS priorities for the TLS versions allowed (static buffer) */
const char *ks_webcfg_priorities(const struct ks_webcfg *c, char *buf,
				 size_t len);
/*
 * Basic auth: true when no users are configured, or when the value of an
 * Authorization header names a user whose bcrypt hash its password
 * matches.
 */
bool ks_webcfg_auth(struct ks_webcfg *c, const char *authorization);

/* ---- the request handler (http.c) --------------------------------------- */
struct ks_export;

struct ks_http_req {
	const char *method;
	const char *path;		/* without the query */
	const char *accept;		/* headers, NULL when absent */
	const char *accept_encoding;
	const char *authorization;
	const char *seconds;		/* ?seconds=, NULL when absent */
	bool tls_client_ok;		/* the TLS layer's verdict on the
					 * client certificate it requires */
};

#define KS_HTTP_MAX_HEADERS	8

struct ks_http_resp {
	int status;
	const char *ctype;
	char *body;			/* malloc'd */
	size_t len;
	int nheaders;
	const char *hname[KS_HTTP_MAX_HEADERS];
	const char *hvalue[KS_HTTP_MAX_HEADERS];
};

/* answer one request; resp->body is the caller's to free */
void ks_http_handle(struct ks_export *x, struct ks_webcfg *cfg,
		    const struct ks_http_req *q, struct ks_http_resp *p);
/*
 * The rendered /metrics page: the main thread renders it once per change
 * of the store (ks_http_publish), in the variants scrapes asked for, so
 * that a scrape copies bytes and neither renders nor waits for the store's
 * lock.  A variant never asked for is rendered by its first scrape.
 */
void ks_http_publish(struct ks_export *x);
void ks_http_pages_free(struct ks_export *x);
/* true when an Accept header prefers OpenMetrics 1.0.0 to text 0.0.4 */
bool ks_http_wants_openmetrics(const char *accept);
/* true when Accept-Encoding allows gzip */
bool ks_http_accepts_gzip(const char *accept_encoding);

/* the HTTP server (libmicrohttpd) around ks_http_handle */
struct ks_httpd;
struct sockaddr;
/* listen on addr (fd < 0) or on a socket already listening; NULL after an
 * error message */
struct ks_httpd *ks_httpd_start(struct ks_export *x, struct ks_webcfg *cfg,
				const struct sockaddr *addr, int fd);
/* stop accepting and hand back the listening socket */
int ks_httpd_quiesce(struct ks_httpd *h);
/* stop, close every connection, free (the web config is the caller's) */
void ks_httpd_stop(struct ks_httpd *h);
int ks_httpd_port(const struct ks_httpd *h);

/* ---- the exporter (export.c) ---------------------------------------------- */
struct ks_export {
	struct ks_mstore *store;
	pthread_rwlock_t lock;		/* store */
	unsigned long gen;		/* store changes, under lock */
	/* the rendered page (http.c) */
	pthread_mutex_t page_lock;
	struct ks_page *page;		/* NULL until published */
	unsigned want;			/* variants scrapes asked for */
	int ntools;			/* tools running */
	double started;			/* ks_now() */
	/* profiles: requests waiting for the collector thread */
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_done;
	struct ks_job *jobs;
	pthread_t main_thread;
	bool stopping;
};

/*
 * A profile, from an HTTP thread: the main thread takes it (seconds long)
 * and hands it back.  The HTTP status; 200 with the gzipped profile.proto
 * in *body, else a reason in err.
 */
int ks_export_profile(struct ks_export *x, const char *name, double seconds,
		      char **body, size_t *len, char *err, size_t errlen);
int ks_export_main(int argc, char **argv);

#endif
