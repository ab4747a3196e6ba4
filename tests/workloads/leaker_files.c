// SPDX-License-Identifier: GPL-2.0
/*
 * leaker_files M HOLD_MS TRUTH.json: opens /dev/null M times and holds
 * the files for HOLD_MS, closes them all, waits HOLD_MS again and exits.
 * Each open allocates one struct file from the filp cache, so kernel-mode
 * memleak must show at least M outstanding filp-sized allocations from
 * the open path while they are held, and none once they are closed.
 *
 * TRUTH.json gets M, the filp cache's object size (-1 if unknown) and the
 * CLOCK_REALTIME milliseconds of each phase, to compare with the reports'
 * "time".  It is written at the end, so its own open is long over too.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "wl.h"

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts))
		;
}

/* distinct files mapped into this process (the program, the loader and
 * libraries): each holds one struct file for the process's lifetime, so a
 * by-process memleak sees them outstanding beside the M files */
static long mapped_files(void)
{
	static char buf[1 << 16], paths[64][256];
	long n = 0, len = 0;
	ssize_t r;
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = '\0';
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		char *p = strchr(l, '/');
		long k;

		if (!p)
			continue;
		for (k = 0; k < n && strcmp(paths[k], p); k++)
			;
		if (k == n && n < 64)
			snprintf(paths[n++], sizeof(paths[0]), "%s", p);
	}
	return n;
}

int main(int argc, char **argv)
{
	long m, hold, size, mapped;
	long long t_open, t_opened, t_close, t_closed;
	struct rlimit rl;
	char out[512];
	int *fds, len, fd;

	if (argc != 4) {
		fprintf(stderr, "usage: leaker_files M HOLD_MS TRUTH.json\n");
		return 2;
	}
	m = wl_num(argv[1], "file count");
	hold = wl_num(argv[2], "hold time");
	size = wl_slab_size("filp");
	mapped = mapped_files();
	fds = calloc(m, sizeof(*fds));
	if (!fds)
		return 1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)m + 16) {
		rl.rlim_cur = m + 16;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

	t_open = now_ms();
	for (long i = 0; i < m; i++) {
		fds[i] = open("/dev/null", O_RDONLY);
		if (fds[i] < 0) {
			perror("open");
			return 1;
		}
	}
	t_opened = now_ms();
	sleep_ms(hold);
	t_close = now_ms();
	for (long i = 0; i < m; i++)
		close(fds[i]);
	t_closed = now_ms();
	sleep_ms(hold);

	len = snprintf(out, sizeof(out), "{\"files\": %ld, \"filp_size\": %ld, "
		       "\"mapped_files\": %ld, "
		       "\"pid\": %d, \"open_ms\": %lld, \"opened_ms\": %lld, "
		       "\"close_ms\": %lld, \"closed_ms\": %lld}\n", m, size,
		       mapped, (int)getpid(), t_open, t_opened, t_close,
		       t_closed);
	fd = open(argv[3], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, out, len) != len) {
		perror(argv[3]);
		return 1;
	}
	close(fd);
	free(fds);
	return 0;
}
