// SPDX-License-Identifier: GPL-2.0
/*
 * Processes a tool follows: a command it runs itself (held before exec
 * until the probes are in place) or a process it was pointed at, and the
 * small /proc and PATH lookups around them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <ftw.h>
#include <time.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "kscope.h"

int ks_find_program(const char *cmd, char *out, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(cmd, '/')) {
		if ((size_t)snprintf(out, len, "%s", cmd) >= len)
			return -ENAMETOOLONG;
		return access(out, X_OK) ? -errno : 0;
	}
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (;;) {
		size_t n = strcspn(path, ":");
		int w = n ? snprintf(out, len, "%.*s/%s", (int)n, path, cmd) :
			    snprintf(out, len, "./%s", cmd);

		if (w > 0 && (size_t)w < len && access(out, X_OK) == 0)
			return 0;
		if (!path[n])
			break;
		path += n + 1;
	}
	return -ENOENT;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

bool ks_is_loader(const char *path)
{
	const char *b = base_name(path);

	return !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld64.so", 7);
}

bool ks_is_libc(const char *path)
{
	const char *b = base_name(path);

	return !strncmp(b, "libc.so", 7) || !strncmp(b, "libc-", 5) ||
	       !strncmp(b, "ld-musl", 7);
}

void ks_strv_free(char **v)
{
	for (int i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/*
 * The program's own ELF interpreter lists what it will load, with the
 * same search (and environment) the program's start-up will use.  Only
 * for a command the user asked us to run: its interpreter is theirs.
 */
int ks_loader_list(const char *interp, const char *exe, char ***out)
{
	char buf[65536], **v = NULL;
	size_t len = 0;
	int p[2], n = 0, st;
	ssize_t k;
	pid_t pid;

	*out = NULL;
	if (pipe2(p, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return -errno;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_WRONLY);

		dup2(p[1], 1);
		if (nul >= 0)
			dup2(nul, 2);
		execl(interp, interp, "--list", exe, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (len + 1 < sizeof(buf) &&
	       (k = read(p[0], buf + len, sizeof(buf) - len - 1)) > 0)
		len += k;
	close(p[0]);
	buf[len] = '\0';
	waitpid(pid, &st, 0);
	for (char *save, *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *a = strstr(l, "=> "), *e, **nv;

		a = a ? a + 3 : l;
		while (*a == ' ' || *a == '\t')
			a++;
		if (*a != '/')
			continue;	/* vdso, "not found" */
		e = strstr(a, " (");
		if (e)
			*e = '\0';
		nv = realloc(v, (n + 2) * sizeof(*v));
		if (!nv)
			break;
		v = nv;
		v[n] = strdup(a);
		if (v[n])
			n++;
		v[n] = NULL;
	}
	*out = v;
	return n;
}

pid_t ks_tgid_of(pid_t pid)
{
	char p[64], line[256];
	FILE *f;
	int t = pid;

	snprintf(p, sizeof(p), "/proc/%d/status", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return pid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &t) == 1)
			break;
	fclose(f);
	return t;
}

void ks_comm_of(pid_t pid, char *buf, size_t len)
{
	char p[64];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
	buf[0] = '\0';
	f = fopen(p, "re");
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

/*
 * Does pid map path's file?  By device and inode (the target may name it
 * by another path: a symlink, its own mount namespace), else by the path
 * text.  1 yes, 0 no, -errno when its maps cannot be read.
 */
int ks_proc_maps_file(pid_t pid, const char *path)
{
	char p[64], line[4352];
	struct stat sb;
	bool have_sb = stat(path, &sb) == 0;
	int found = 0;
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/maps", (int)pid);
	f = fopen(p, "re");
	if (!f)
		return -errno;
	while (!found && fgets(line, sizeof(line), f)) {
		unsigned int maj, min;
		unsigned long long ino;
		char *file = strchr(line, '/');

		if (sscanf(line, "%*s %*s %*s %x:%x %llu", &maj, &min,
			   &ino) != 3)
			continue;
		if (have_sb && ino && ino == (unsigned long long)sb.st_ino &&
		    makedev(maj, min) == sb.st_dev)
			found = 1;
		else if (file) {
			file[strcspn(file, "\n")] = '\0';
			found = !strcmp(file, path);
		}
	}
	fclose(f);
	return found;
}

void ks_proc_init(struct ks_proc *p)
{
	memset(p, 0, sizeof(*p));
	p->release_fd = p->status_fd = p->pidfd = -1;
}

static void open_pidfd(struct ks_proc *p)
{
	p->pidfd = syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd < 0)
		p->pidfd = -1;	/* before 5.3: kill(pid, 0) polls instead */
}

/*
 * Fork the command, stopped before exec until the probes are in place:
 * the child waits for one byte on a pipe.  A second pipe (close-on-exec)
 * reports a failed exec back, so the tool can say why.  The child dies
 * with kscope, even by SIGKILL, which no cleanup of ours can follow.
 */
int ks_proc_spawn(struct ks_proc *p, const char *exe, char *const *argv,
		  bool stdout_to_stderr)
{
	pid_t parent = getpid();
	int go[2], st[2];
	pid_t pid;

	if (pipe2(go, O_CLOEXEC))
		goto err;
	if (pipe2(st, O_CLOEXEC)) {
		close(go[0]);
		close(go[1]);
		goto err;
	}
	pid = fork();
	if (pid < 0) {
		close(go[0]);
		close(go[1]);
		close(st[0]);
		close(st[1]);
		goto err;
	}
	if (pid == 0) {
		sigset_t none;
		char c;
		int e;

		/* the parent may have died before prctl(): then getppid()
		 * is no longer it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		/* kscope blocks SIGINT/SIGTERM to take them synchronously;
		 * the command must get them as usual */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* kscope ignores SIGPIPE (a closed output is an error it
		 * reports); an ignored signal stays ignored across exec */
		signal(SIGPIPE, SIG_DFL);
		close(go[1]);
		close(st[0]);
		if (stdout_to_stderr)
			dup2(2, 1);
		if (read(go[0], &c, 1) != 1)
			_exit(127);	/* kscope gave up */
		execv(exe, argv);
		e = errno;
		if (write(st[1], &e, sizeof(e)) < 0)
			_exit(127);
		_exit(127);
	}
	close(go[0]);
	close(st[1]);
	p->pid = pid;
	p->ours = true;
	p->release_fd = go[1];
	p->status_fd = st[0];
	open_pidfd(p);
	return 0;
err:
	ks_err("cannot start a command: %s", strerror(errno));
	return -1;
}

int ks_proc_release(struct ks_proc *p, const char *exe)
{
	int e = 0;
	ssize_t n;

	if (write(p->release_fd, "g", 1) != 1) {
		ks_err("cannot start the command: %s", strerror(errno));
		return -1;
	}
	close(p->release_fd);
	p->release_fd = -1;
	/* EOF: the exec closed the pipe, the program runs */
	n = read(p->status_fd, &e, sizeof(e));
	close(p->status_fd);
	p->status_fd = -1;
	if (n == sizeof(e)) {
		ks_err("cannot run %s: %s", exe, strerror(e));
		return -1;
	}
	return 0;
}

void ks_proc_watch(struct ks_proc *p, pid_t pid)
{
	p->pid = pid;
	p->ours = false;
	open_pidfd(p);
}

bool ks_proc_exited(struct ks_proc *p)
{
	if (p->exited || !p->pid)
		return p->exited;
	if (p->ours) {
		int st;

		if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
			p->status = st;
			p->exited = true;
		}
	} else if (p->pidfd >= 0) {
		struct pollfd f = { .fd = p->pidfd, .events = POLLIN };

		p->exited = poll(&f, 1, 0) > 0;
	} else if (kill(p->pid, 0) && errno == ESRCH) {
		p->exited = true;
	}
	return p->exited;
}

void ks_proc_end(struct ks_proc *p)
{
	if (p->release_fd >= 0) {
		/* never released: the child sees EOF and exits */
		close(p->release_fd);
		p->release_fd = -1;
	}
	if (p->status_fd >= 0) {
		close(p->status_fd);
		p->status_fd = -1;
	}
	if (p->ours && !ks_proc_exited(p)) {
		/* the run ended first (-d, Ctrl-C): don't leave the command
		 * running untraced behind us */
		kill(p->pid, SIGTERM);
		for (int i = 0; i < 50 && !ks_proc_exited(p); i++)
			usleep(20000);
		if (!ks_proc_exited(p)) {
			kill(p->pid, SIGKILL);
			if (waitpid(p->pid, &p->status, 0) == p->pid)
				p->exited = true;
		}
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
	p->pidfd = -1;
}

/*
 * cgroup v2 ids as paths.  bpf_get_current_cgroup_id() is the kernfs id
 * of the task's cgroup2 directory, which is its inode number there; the
 * directory with that inode, found by walking the cgroup2 mount, is the
 * path ("/system.slice/foo.service", relative to the mount).  The walk is
 * remembered, and done again for an unknown id at most once a second: a
 * cgroup made after the last walk is found, one already removed is not.
 */
struct cg_name {
	uint64_t id;
	char *path;
};

static struct cg_name *cg_names;
static size_t cg_n, cg_cap;
static char cg_root[PATH_MAX];
static size_t cg_root_len;
static time_t cg_walked;

static int cg_visit(const char *path, const struct stat *sb, int type,
		    struct FTW *ftw)
{
	struct cg_name *n;

	(void)ftw;
	if (type != FTW_D)
		return 0;
	if (cg_n == cg_cap) {
		size_t cap = cg_cap ? cg_cap * 2 : 64;

		n = realloc(cg_names, cap * sizeof(*n));
		if (!n)
			return 1;
		cg_names = n;
		cg_cap = cap;
	}
	n = &cg_names[cg_n];
	n->id = sb->st_ino;
	n->path = strdup(path[cg_root_len] ? path + cg_root_len : "/");
	if (n->path)
		cg_n++;
	return 0;
}

static void cg_walk(void)
{
	char line[PATH_MAX + 256];
	FILE *f;

	for (size_t i = 0; i < cg_n; i++)
		free(cg_names[i].path);
	cg_n = 0;
	if (!cg_root[0]) {
		f = fopen("/proc/self/mounts", "re");
		if (!f)
			return;
		while (fgets(line, sizeof(line), f)) {
			char dev[64], dir[PATH_MAX], type[32];

			if (sscanf(line, "%63s %4095s %31s", dev, dir,
				   type) == 3 && !strcmp(type, "cgroup2")) {
				snprintf(cg_root, sizeof(cg_root), "%s", dir);
				break;
			}
		}
		fclose(f);
		if (!cg_root[0])
			return;
		cg_root_len = strlen(cg_root);
	}
	nftw(cg_root, cg_visit, 16, FTW_PHYS | FTW_MOUNT);
}

const char *ks_cgroup_path(uint64_t id)
{
	time_t now = time(NULL);

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < cg_n; i++)
			if (cg_names[i].id == id)
				return cg_names[i].path;
		if (pass || now == cg_walked)
			break;
		cg_walked = now;
		cg_walk();
	}
	return NULL;
}
