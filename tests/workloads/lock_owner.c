// SPDX-License-Identifier: GPL-2.0
/*
 * lock_owner COMM HOLDER WAITERS ROUNDS [MS]: a thread named HOLDER holds
 * a pipe's mutex while WAITERS threads named COMM wait for it, ROUNDS
 * times; every wait that begins in a round begins while HOLDER owns the
 * mutex.
 *
 * The holder writes to the pipe from a page registered with userfaultfd
 * (missing mode): pipe_write() takes the pipe's mutex, then copies from
 * the page, faults, and sleeps in the fault, mutex held, until this
 * process resolves the fault.  Once the fault is reported, the waiters
 * each write one byte to the pipe and wait on the mutex; MS milliseconds
 * later (default 20) the fault is resolved (UFFDIO_COPY), the holder
 * finishes and unlocks, the waiters get the mutex in turn.  The page is
 * then zapped (MADV_DONTNEED) so that the next round faults again, and the
 * pipe drained by the main thread (not named COMM or HOLDER).
 *
 * Prints ground truth as one JSON line: rounds, waiters, the waits begun
 * under the holder (rounds x waiters), and the holder's thread id.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include "lock_wl.h"

static int pfd[2], uffd;
static char *page, *src;
static long psz, waiters, rounds;
static const char *comm, *holder_comm;
static pthread_barrier_t go, done;
static volatile pid_t holder_tid;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *holder(void *arg)
{
	(void)arg;
	wl_name(holder_comm);
	holder_tid = (pid_t)syscall(SYS_gettid);
	for (long r = 0; r < rounds; r++) {
		pthread_barrier_wait(&go);
		/* faults inside pipe_write() with the mutex held */
		if (write(pfd[1], page, 64) != 64)
			die("holder write");
		pthread_barrier_wait(&done);
	}
	return NULL;
}

static pthread_barrier_t wgo;

static void *waiter(void *arg)
{
	char c = 'w';

	(void)arg;
	wl_name(comm);
	for (long r = 0; r < rounds; r++) {
		pthread_barrier_wait(&wgo);	/* the holder is in its fault */
		if (write(pfd[1], &c, 1) != 1)
			die("waiter write");
		pthread_barrier_wait(&done);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg;
	pthread_t h, w[LWL_MAX_THREADS];
	long ms = 20;
	char out[256], buf[4096];
	int n;

	if (argc != 5 && argc != 6) {
		fprintf(stderr, "usage: lock_owner COMM HOLDER WAITERS ROUNDS "
			"[MS]\n");
		return 2;
	}
	comm = argv[1];
	holder_comm = argv[2];
	waiters = wl_num(argv[3], "waiters");
	rounds = wl_num(argv[4], "rounds");
	if (argc == 6)
		ms = wl_num(argv[5], "milliseconds");
	if (waiters < 1 || waiters > LWL_MAX_THREADS || rounds < 1)
		return 2;
	psz = sysconf(_SC_PAGESIZE);
	/* big enough that the round's writes never fill it: no EAGAIN */
	if (pipe2(pfd, 0))
		die("pipe2");
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (uffd < 0)
		die("userfaultfd");
	if (ioctl(uffd, UFFDIO_API, &api))
		die("UFFDIO_API");
	page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	src = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED || src == MAP_FAILED)
		die("mmap");
	memset(src, 'h', psz);
	reg.range.start = (unsigned long)page;
	reg.range.len = psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	if (ioctl(uffd, UFFDIO_REGISTER, &reg))
		die("UFFDIO_REGISTER");
	pthread_barrier_init(&go, NULL, 2);
	pthread_barrier_init(&wgo, NULL, waiters + 1);
	pthread_barrier_init(&done, NULL, waiters + 2);
	if (pthread_create(&h, NULL, holder, NULL))
		die("pthread_create");
	for (long i = 0; i < waiters; i++)
		if (pthread_create(&w[i], NULL, waiter, NULL))
			die("pthread_create");
	for (long r = 0; r < rounds; r++) {
		struct pollfd p = { .fd = uffd, .events = POLLIN };
		struct uffd_msg msg;
		struct uffdio_copy cp;
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

		pthread_barrier_wait(&go);
		/* the holder's fault: it holds the pipe mutex now */
		if (poll(&p, 1, 10000) != 1)
			die("poll (no fault in 10 s)");
		if (read(uffd, &msg, sizeof(msg)) != sizeof(msg) ||
		    msg.event != UFFD_EVENT_PAGEFAULT)
			die("uffd read");
		pthread_barrier_wait(&wgo);
		nanosleep(&ts, NULL);
		cp.dst = (unsigned long)page;
		cp.src = (unsigned long)src;
		cp.len = psz;
		cp.mode = 0;
		if (ioctl(uffd, UFFDIO_COPY, &cp))
			die("UFFDIO_COPY");
		pthread_barrier_wait(&done);
		/* the next round's write faults again */
		if (madvise(page, psz, MADV_DONTNEED))
			die("madvise");
		if (read(pfd[0], buf, sizeof(buf)) != 64 + waiters)
			die("drain");
	}
	pthread_join(h, NULL);
	for (long i = 0; i < waiters; i++)
		pthread_join(w[i], NULL);
	close(pfd[0]);
	close(pfd[1]);
	n = snprintf(out, sizeof(out),
		     "{\"rounds\": %ld, \"waiters\": %ld, \"waits_under_holder\": "
		     "%ld, \"holder_tid\": %d, \"ms\": %ld}\n", rounds, waiters,
		     rounds * waiters, (int)holder_tid, ms);
	return write(1, out, n) == n ? 0 : 1;
}
