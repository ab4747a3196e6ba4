// SPDX-License-Identifier: GPL-2.0
/*
 * lock_file COMM THREADS WRITES FILE: THREADS threads named COMM append
 * 64 bytes to FILE through one shared file descriptor, WRITES times each
 * (or for Ns seconds).  A write(2) on a regular file shared by several
 * threads takes the struct file's f_pos_lock (a mutex in the filp slab
 * cache), and the write itself the inode's i_rwsem for writing (an rwsem
 * in the inode's slab cache: shmem_inode_cache on tmpfs): two heap locks
 * whose caches are known.  The file is truncated at the start and
 * removed at the end.  Prints ground truth as one JSON line.
 */
#define _GNU_SOURCE	/* CPU affinity */
#include <fcntl.h>
#include "lock_wl.h"

static struct lwl_run run;
static int fd;
static char buf[64];

static int write_once(long idx)
{
	(void)idx;
	return lwl_write(fd, buf, sizeof(buf));
}

int main(int argc, char **argv)
{
	char out[1536], tids[1024];
	int n;

	if (argc != 5) {
		fprintf(stderr, "usage: lock_file COMM THREADS WRITES FILE\n");
		return 2;
	}
	lwl_args(&run, 3, argv + 1, "lock_file COMM THREADS WRITES FILE");
	memset(buf, 'f', sizeof(buf));
	fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(argv[4]);
		return 1;
	}
	run.op = write_once;
	lwl_run(&run);
	close(fd);
	unlink(argv[4]);
	lwl_tids(&run, tids, sizeof(tids));
	n = snprintf(out, sizeof(out),
		     "{\"threads\": %ld, \"tids\": %s, \"per_thread\": %ld, "
		     "\"writes\": %ld, \"seconds\": %.6f}\n",
		     run.threads, tids, run.len.ops, run.ok, run.seconds);
	return write(1, out, n) == n ? 0 : 1;
}
