// SPDX-License-Identifier: GPL-2.0
/*
 * `kscope export` in the static build: libmicrohttpd's TLS comes from
 * GnuTLS, whose dependencies (p11-kit, libunistring) Debian ships without
 * static libraries, so the static binary leaves the daemon out.
 */
#include "kscope.h"

int ks_export_main(int argc, char **argv);

int ks_export_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	ks_set_prog("kscope export");
	ks_err("not in this statically linked kscope (libmicrohttpd and GnuTLS "
	       "have no static libraries here): use the dynamically linked "
	       "build");
	return KS_EXIT_RUNTIME;
}
