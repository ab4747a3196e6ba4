/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared bits of the test workloads: strict argument parsing, naming the
 * task, and printing ground truth as one JSON object.
 */
#ifndef KS_WL_H
#define KS_WL_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static inline long wl_num(const char *s, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < 0) {
		fprintf(stderr, "bad %s '%s'\n", what, s);
		exit(2);
	}
	return v;
}

/* comm is set after start-up so exec's own work is not attributed to it */
static inline void wl_name(const char *name)
{
	if (prctl(PR_SET_NAME, name, 0, 0, 0)) {
		perror("prctl");
		exit(1);
	}
}

#endif
