// SPDX-License-Identifier: GPL-2.0
/*
 * dyn_leaker: leaker.c linked against the shared libc, so that memleak's
 * user mode is tested on libc.so.6 (and its load bias) as well as on a
 * static program's own malloc.  Built without -static by the Makefile's
 * dyn_% rule; the VM's initramfs then carries its libc and ld.so.
 */
#include "leaker.c"
