// SPDX-License-Identifier: GPL-2.0
/* The exporter's network libraries, opened on first use (dl.h says why). */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "dl.h"

/* the sonames of Debian 12's libmicrohttpd12 and libgnutls30 */
#define KS_DL_MHD_SO	"libmicrohttpd.so.12"
#define KS_DL_GNUTLS_SO	"libgnutls.so.30"

struct ks_dl ks_dl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char why[256];

static void *open_lib(const char *so, const char *pkg)
{
	/* RTLD_NODELETE: never unloaded, as if linked */
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);

	if (!h)
		snprintf(why, sizeof(why), "cannot load %s (Debian package "
			 "%s): %s", so, pkg, dlerror());
	return h;
}

static void *sym(void *h, const char *so, const char *name)
{
	void *p = why[0] ? NULL : dlsym(h, name);

	if (!p && !why[0])
		snprintf(why, sizeof(why), "%s has no %s", so, name);
	return p;
}

static void load(void)
{
	void *mhd = open_lib(KS_DL_MHD_SO, "libmicrohttpd12");
	void *tls = mhd ? open_lib(KS_DL_GNUTLS_SO, "libgnutls30") : NULL;

	if (!mhd || !tls)
		return;
#define KS_DL_MHD_SYM(f) ks_dl.f = (__typeof__(ks_dl.f))sym(mhd, KS_DL_MHD_SO, #f);
#define KS_DL_TLS_SYM(f) ks_dl.f = (__typeof__(ks_dl.f))sym(tls, KS_DL_GNUTLS_SO, #f);
	KS_DL_MHD(KS_DL_MHD_SYM)
	KS_DL_GNUTLS(KS_DL_TLS_SYM)
#undef KS_DL_MHD_SYM
#undef KS_DL_TLS_SYM
	ks_dl.gnutls_free_fn = sym(tls, KS_DL_GNUTLS_SO, "gnutls_free");
}

int ks_dl_load(char *err, size_t errlen)
{
	pthread_once(&once, load);
	if (!why[0])
		return 0;
	if (err && errlen)
		snprintf(err, errlen, "%s", why);
	return -1;
}
