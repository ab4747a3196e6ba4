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
#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

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

/* a slab cache's object size with metadata (struct kmem_cache.size),
 * what the kmem tracepoints report as bytes_alloc; -1 if unknown */
static inline long wl_slab_size(const char *cache)
{
	char p[128], buf[32];
	long v = -1;
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/sys/kernel/slab/%s/slab_size", cache);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		v = strtol(buf, NULL, 10);
	}
	close(fd);
	return v;
}

#endif
