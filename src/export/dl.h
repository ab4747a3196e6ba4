/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The exporter's network libraries, opened when the exporter needs them
 * (ks_dl_load()).  Linked the usual way, libmicrohttpd and GnuTLS, with
 * the eight libraries GnuTLS pulls in (p11-kit, nettle, hogweed, gmp,
 * unistring, idn2, tasn1, ffi), were mapped and relocated by every kscope
 * command: ~2.5 MB of resident memory in `kscope kmem` as much as in
 * `kscope export`, for code only the exporter runs.  Calls go through
 * ks_dl: ks_dl.MHD_start_daemon(...), with the library's own prototypes.
 */
#ifndef KS_EXPORT_DL_H
#define KS_EXPORT_DL_H

#include <stddef.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>

#define KS_DL_MHD(X)							\
	X(MHD_add_response_header)					\
	X(MHD_create_response_from_buffer)				\
	X(MHD_destroy_response)						\
	X(MHD_get_connection_info)					\
	X(MHD_get_daemon_info)						\
	X(MHD_lookup_connection_value)					\
	X(MHD_queue_response)						\
	X(MHD_quiesce_daemon)						\
	X(MHD_start_daemon)						\
	X(MHD_stop_daemon)

#define KS_DL_GNUTLS(X)							\
	X(gnutls_base64_decode2)					\
	X(gnutls_certificate_allocate_credentials)			\
	X(gnutls_certificate_free_credentials)				\
	X(gnutls_certificate_set_x509_key_mem)				\
	X(gnutls_certificate_set_x509_trust_mem)			\
	X(gnutls_certificate_verify_peers2)				\
	X(gnutls_hash_fast)						\
	X(gnutls_strerror)

struct ks_dl {
#define KS_DL_PTR(f) __typeof__(f) *f;
	KS_DL_MHD(KS_DL_PTR)
	KS_DL_GNUTLS(KS_DL_PTR)
#undef KS_DL_PTR
	/* GnuTLS's deallocator is a variable, not a function */
	gnutls_free_function *gnutls_free_fn;
};

extern struct ks_dl ks_dl;

/* open both libraries and resolve every function in ks_dl, once (later
 * calls return the first result, from any thread); 0, or -1 with a
 * one-line reason in err */
int ks_dl_load(char *err, size_t errlen);

#endif
