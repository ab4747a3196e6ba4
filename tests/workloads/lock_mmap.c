// SPDX-License-Identifier: GPL-2.0
/*
 * lock_mmap COMM THREADS OPS: THREADS threads named COMM, started
 * together, each map 64 KiB of anonymous memory, touch its first page and
 * unmap it, then write a byte to a shared non-blocking pipe, OPS times
 * (or for OPS seconds when it ends in 's'); a helper thread (named COMM
 * with its last letter replaced by '#') drains the pipe.
 *
 * mmap(2) and munmap(2) take the process's mm->mmap_lock for writing
 * (mmap_write_lock), so threads of one process contend for that one
 * rwsem: the mmap_lock waits kscope must name.  Page faults take the
 * per-VMA lock or the mmap_lock for reading.  The pipe's mutex is a
 * second, different lock the same threads contend (filters must tell
 * them apart).
 *
 * Prints ground truth as one JSON line: map/unmap pairs done and the
 * wall time of the phase.
 */
#define _GNU_SOURCE	/* CPU affinity */
#include <fcntl.h>
#include <sys/mman.h>
#include "lock_wl.h"

#define LEN	(64 * 1024)

static int pfd[2];
static char reader_comm[16];

static int map_unmap(long idx)
{
	char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)idx;
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	p[0] = 1;
	if (munmap(p, LEN)) {
		perror("munmap");
		exit(1);
	}
	lwl_write(pfd[1], "m", 1);	/* a full pipe: EAGAIN, fine */
	return 1;
}

static void drain(void)
{
	wl_name(reader_comm);
	lwl_drain(pfd[0]);
}

int main(int argc, char **argv)
{
	struct lwl_run run = { .op = map_unmap, .helper = drain };
	char out[256];
	int n;

	lwl_args(&run, argc - 1, argv + 1, "lock_mmap COMM THREADS OPS");
	lwl_helper_comm(reader_comm, run.comm);
	if (pipe2(pfd, O_NONBLOCK)) {
		perror("pipe2");
		return 1;
	}
	lwl_run(&run);
	close(pfd[0]);
	close(pfd[1]);
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"per_thread\": %ld, \"ops\": %ld, "
		     "\"seconds\": %.6f}\n", run.threads, run.len.ops, run.ok,
		     run.seconds);
	return write(1, out, n) == n ? 0 : 1;
}
