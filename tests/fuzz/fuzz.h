/* SPDX-License-Identifier: GPL-2.0 */
/* Shared bits of the libFuzzer harnesses (tests/fuzz/README.md). */
#ifndef KS_FUZZ_H
#define KS_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/*
 * The bytes as a file that the library opens by path, as it opens a
 * target's files: a memfd, named /proc/self/fd/N.  The caller closes fd.
 */
static inline int ks_fuzz_file(const uint8_t *data, size_t size, char *path,
			       size_t len)
{
	int fd = memfd_create("ks-fuzz", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, len, "/proc/self/fd/%d", fd);
	return fd;
}

/*
 * The library's error lines would drown libFuzzer's: tests/fuzz/run.sh
 * runs with -close_fd_mask=3 (libFuzzer and the sanitizers keep a copy of
 * stderr of their own).  A harness's diagnostics go to stderr, seen when
 * the input is run again by hand.
 */
/* a small reader over the input, for harnesses that take choices */
struct ks_fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint64_t ks_fuzz_u64(struct ks_fuzz_in *in, int bytes)
{
	uint64_t v = 0;

	for (int i = 0; i < bytes && in->n; i++, in->p++, in->n--)
		v = v << 8 | *in->p;
	return v;
}

#endif
