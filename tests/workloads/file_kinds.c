// SPDX-License-Identifier: GPL-2.0
/*
 * file_kinds COMM ROUNDS: names itself COMM, then ROUNDS times makes one
 * file of every kind it knows (open, openat, O_PATH, pipes, sockets,
 * eventfd, epoll, timerfd, signalfd, memfd, inotify, pidfd) and closes
 * them.  Each file is one struct file from the filp cache, allocated on a
 * path of its own, and the other objects these calls allocate (inodes,
 * dentries, sockets, pipe buffers) add many more distinct kernel stacks:
 * dozens of stacks from one task, which is what a stack table with bucket
 * collisions loses.  Prints the files made as JSON.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include "wl.h"

#define MAX_FDS 32

static int fds[MAX_FDS];
static int nfds;

static void keep(int fd, const char *what)
{
	if (fd < 0) {
		perror(what);
		exit(1);
	}
	fds[nfds++] = fd;
}

static void keep2(int r, const int p[2], const char *what)
{
	if (r) {
		perror(what);
		exit(1);
	}
	keep(p[0], what);
	keep(p[1], what);
}

int main(int argc, char **argv)
{
	long rounds, files = 0;
	char out[128];
	sigset_t mask;
	int len, p[2];

	if (argc != 3) {
		fprintf(stderr, "usage: file_kinds COMM ROUNDS\n");
		return 2;
	}
	rounds = wl_num(argv[2], "rounds");
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	wl_name(argv[1]);
	for (long r = 0; r < rounds; r++) {
		nfds = 0;
		keep(open("/dev/null", O_RDONLY), "open");
		keep(openat(AT_FDCWD, "/dev/zero", O_RDONLY), "openat");
		keep(open("/proc/self/stat", O_RDONLY), "open /proc");
		keep(open("/", O_PATH), "open O_PATH");
		keep2(pipe(p), p, "pipe");
		keep2(pipe2(p, O_CLOEXEC), p, "pipe2");
		keep(socket(AF_UNIX, SOCK_STREAM, 0), "socket unix");
		keep(socket(AF_UNIX, SOCK_DGRAM, 0), "socket unix dgram");
		keep(socket(AF_INET, SOCK_DGRAM, 0), "socket inet");
		keep2(socketpair(AF_UNIX, SOCK_STREAM, 0, p), p, "socketpair");
		keep(eventfd(0, 0), "eventfd");
		keep(epoll_create1(0), "epoll_create1");
		keep(timerfd_create(CLOCK_MONOTONIC, 0), "timerfd_create");
		keep(signalfd(-1, &mask, 0), "signalfd");
		keep(memfd_create("ks", 0), "memfd_create");
		keep(inotify_init1(0), "inotify_init1");
		keep((int)syscall(SYS_pidfd_open, getpid(), 0), "pidfd_open");
		files += nfds;
		while (nfds)
			close(fds[--nfds]);
	}
	/* one write(2), no stdio buffers or files opened after the loop */
	len = snprintf(out, sizeof(out), "{\"files\": %ld}\n", files);
	return write(1, out, len) == len ? 0 : 1;
}
