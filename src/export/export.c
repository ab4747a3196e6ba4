// SPDX-License-Identifier: GPL-2.0
/*
 * kscope export: the tools running continuously behind /metrics and
 * /debug/pprof/ (profiles).
 *
 * Every tool runs as the same struct ks_run its command uses.  The main
 * thread owns them: every --interval it makes each one's interval report
 * (the same report `kscope TOOL 1` prints) and adds it into the metric
 * store, whose families name the report columns they come from
 * (metric_table.c).  HTTP threads only read the store, under its lock, and
 * hand profile requests to the main thread, which takes them with runs of
 * their own; libbpf and the tool code stay on one thread.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dl.h"
#include "export.h"

#define DEFAULT_LISTEN	"127.0.0.1:9961"
#define MAX_RUNS	16
#define MAX_PROGS	128

extern const char ks_version[];

enum {
	OPT_LISTEN = 2000,
	OPT_TOOLS,
	OPT_WEB_CONFIG,
	OPT_LABEL,
	OPT_MAX_SERIES,
	OPT_INTERVAL,
	OPT_REFERENCE,
};

/* what each tool runs with under export, in its own option syntax */
static const struct {
	const char *tool;
	const char *args[4];
} tool_args[] = {
	/* queueing latency feeds kscope_workqueue_queue_latency_seconds */
	{ "workq", { "-Q" } },
};

struct tool_run {
	struct ks_run r;
	bool up;
	char why[300];			/* why it cannot run */
	int progs[MAX_PROGS];		/* its BPF programs' fds */
	struct {			/* their statistics, last read */
		char name[BPF_OBJ_NAME_LEN];
		unsigned long long runs, ns;
		bool ok;
	} pstat[MAX_PROGS];
	int nprogs;
	double collect_s;		/* time spent collecting it */
};

struct ks_job {
	const char *name;		/* kmem, kpages, locks, memleak */
	double seconds;
	enum { JOB_QUEUED, JOB_RUNNING, JOB_DONE } state;
	double deadline;
	struct ks_run runs[3];
	int nruns;
	int status;			/* HTTP */
	char err[256];
	char *body;
	size_t len;
	struct ks_job *next;
};

static struct {
	struct ks_export x;
	struct tool_run runs[MAX_RUNS];
	int nruns;
	struct ks_httpd *httpd;
	struct ks_webcfg *cfg;
	const char *web_config;
	struct sockaddr_storage addr;
	char listen[300];
	double interval;
	int stats_fd;			/* BPF_ENABLE_STATS, -1: none */
	bool verbose;
} E = { .stats_fd = -1 };

/* ---- options ------------------------------------------------------------------ */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: kscope export [--listen ADDR:PORT] [--tools LIST] [options]\n"
"\n"
"The tools running continuously, for Prometheus and pprof scrapers.\n"
"/metrics: Prometheus text 0.0.4, or OpenMetrics 1.0 when asked;\n"
"/debug/pprof/{kmem,kpages,locks,memleak}: pprof profiles, as Parca and\n"
"Pyroscope (Alloy) scrape them.\n"
"\n"
"Options:\n"
"      --listen ADDR:PORT  where to serve (default %s; port 0\n"
"                          picks a free one); beyond loopback, use TLS or\n"
"                          basic auth (--web-config)\n"
"      --tools LIST        comma-separated tools to run (default: every\n"
"                          tool that can run on this kernel)\n"
"      --web-config FILE   TLS and basic auth, in the Prometheus\n"
"                          exporter-toolkit format; SIGHUP reloads it\n"
"      --label comm        add a comm label (task name) where a tool has\n"
"                          one: more series, bounded by --max-series\n"
"      --max-series N      label sets per metric family (default 1000);\n"
"                          beyond, rows count under the label set \"other\"\n"
"      --interval SECS     how often the tools' maps are read (default 1)\n"
"      --metrics-reference print the metric reference (Markdown) and exit\n"
"  -v, --verbose           libbpf diagnostics on stderr\n"
"  -h, --help              this help\n"
"\n"
"Examples:\n"
"  kscope export                              every tool, on %s\n"
"  kscope export --listen :9961 --web-config /etc/kscope/web.yml\n"
"  kscope export --tools workq,slabratetop --label comm\n"
"  curl -s localhost:9961/metrics | grep kscope_workqueue\n"
"  go tool pprof http://localhost:9961/debug/pprof/memleak\n"
"\n"
"\n"
"Signals: SIGHUP reloads --web-config; SIGINT and SIGTERM stop it.\n"
"See docs/export.md for the metrics, a scrape config and alerts.\n"
"\n"
"Overhead:\n"
"  The tools' own (see each tool's page): their BPF programs run on every\n"
"  event whether or not anyone scrapes.  Reading the maps every --interval\n"
"  costs the daemon a few ms of CPU (kscope_collect_seconds_total says how\n"
"  much).  A kmem, kpages or locks profile request runs those tools with\n"
"  stacks for its seconds; memleak's is the running memleak's, at once.\n",
		DEFAULT_LISTEN, DEFAULT_LISTEN);
}

static bool is_loopback(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)a)->sin_addr.s_addr)
			>> 24) == 127;
	if (a->ss_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(
			&((const struct sockaddr_in6 *)a)->sin6_addr);
	return false;
}

/* ADDR:PORT, [V6]:PORT or :PORT (every address) */
static int parse_listen(const char *s, struct sockaddr_storage *out)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC,
				  .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	char host[256];
	const char *colon = strrchr(s, ':');
	long port;
	size_t hl;
	int rc;

	if (!colon || ks_parse_long(colon + 1, 0, 65535, &port))
		return ks_usage_error("bad --listen '%s' (ADDR:PORT, "
				      "[ADDR]:PORT or :PORT)", s);
	hl = colon - s;
	if (hl >= sizeof(host))
		return ks_usage_error("bad --listen '%s'", s);
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	rc = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &res);
	if (rc)
		return ks_usage_error("bad --listen '%s': %s", s,
				      gai_strerror(rc));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
}

static bool tool_listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		size_t k = strcspn(p, ",");

		if (k == n && !strncmp(p, name, n))
			return true;
		p += k + (p[k] == ',');
	}
	return false;
}

/* ---- runs ------------------------------------------------------------------ */

static bool is_prog_fd(int fd)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return false;
	link[n] = '\0';
	return !strcmp(link, "anon_inode:bpf-prog");
}

/* bit set of the BPF program fds open now */
static void prog_fds(unsigned char *set, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	memset(set, 0, (max + 7) / 8);
	if (!d)
		return;
	while ((e = readdir(d))) {
		long fd;

		if (ks_parse_long(e->d_name, 0, max - 1, &fd) ||
		    fd == dirfd(d) || !is_prog_fd(fd))
			continue;
		set[fd / 8] |= 1 << (fd % 8);
	}
	closedir(d);
}

static int tool_defaults(struct ks_run *r)
{
	const char *argv[8] = { r->tool->name };
	int argc = 1;

	for (size_t i = 0; i < sizeof(tool_args) / sizeof(tool_args[0]); i++)
		if (!strcmp(tool_args[i].tool, r->tool->name))
			for (int k = 0; k < 4 && tool_args[i].args[k]; k++)
				argv[argc++] = tool_args[i].args[k];
	argv[argc] = NULL;
	return ks_run_parse(r, argc, (char **)argv);
}

/*
 * Start one tool; its BPF programs are the program fds that appear while
 * it starts (copies a tool loads for many functions included), which
 * are what the kernel's run-time statistics are kept for.
 */
static void start_tool(struct tool_run *t, const struct ks_tool *tool)
{
	static unsigned char before[8192], after[8192];
	static char prog[64];
	const int max = sizeof(before) * 8;
	int err;

	snprintf(prog, sizeof(prog), "kscope export: %s", tool->name);
	ks_set_prog(prog);
	if (ks_run_init(&t->r, tool))
		return;
	t->r.in_report = true;
	t->r.o.clear = false;
	t->r.o.json = true;
	err = tool_defaults(&t->r);
	if (!err) {
		prog_fds(before, max);
		err = ks_run_start(&t->r);
		prog_fds(after, max);
	}
	if (err) {
		snprintf(t->why, sizeof(t->why), "%s", *ks_err_last() ?
			 ks_err_last() : "cannot start");
		return;
	}
	t->up = true;
	for (int fd = 0; fd < max && t->nprogs < MAX_PROGS; fd++)
		if ((after[fd / 8] & ~before[fd / 8]) & (1 << (fd % 8)))
			t->progs[t->nprogs++] = fd;
	if (t->r.note)
		fprintf(stderr, "kscope export: %s: note: %s\n", tool->name,
			t->r.note);
}

/* ---- collection ---------------------------------------------------------------- */

static void add_drops(const struct ks_report *rep)
{
	const struct ks_tool *t = rep->r->tool;

	for (int i = 0; i < KS_MAX_DROP_REASONS; i++) {
		const char *v[] = { t->name, ks_drop_name(t, i) };

		if (v[1])
			ks_mstore_add(E.x.store, "kscope_dropped_events_total",
				      v, rep->drops[i]);
	}
}

/* the kernel's run-time statistics of a tool's programs, read outside
 * the store's lock (a syscall each) */
static void prog_read(struct tool_run *t)
{
	for (int i = 0; i < t->nprogs; i++) {
		struct bpf_prog_info info;
		uint32_t len = sizeof(info);

		memset(&info, 0, sizeof(info));
		t->pstat[i].ok = !bpf_obj_get_info_by_fd(t->progs[i], &info,
							 &len);
		memcpy(t->pstat[i].name, info.name, sizeof(t->pstat[i].name));
		t->pstat[i].name[sizeof(t->pstat[i].name) - 1] = '\0';
		t->pstat[i].runs = info.run_cnt;
		t->pstat[i].ns = info.run_time_ns;
	}
}

/* into the store: copies of one program (one per probed function) share
 * a name, so the series is set to zero and each copy's totals added */
static void prog_stats(const struct tool_run *t)
{
	for (int i = 0; i < t->nprogs; i++) {
		const char *v[] = { t->r.tool->name, t->pstat[i].name };

		if (!t->pstat[i].ok)
			continue;
		ks_mstore_set(E.x.store, "kscope_bpf_program_runs_total", v, 0);
		ks_mstore_set(E.x.store, "kscope_bpf_program_run_seconds_total",
			      v, 0);
	}
	for (int i = 0; i < t->nprogs; i++) {
		const char *v[] = { t->r.tool->name, t->pstat[i].name };

		if (!t->pstat[i].ok)
			continue;
		ks_mstore_add(E.x.store, "kscope_bpf_program_runs_total", v,
			      t->pstat[i].runs);
		ks_mstore_add(E.x.store, "kscope_bpf_program_run_seconds_total",
			      v, t->pstat[i].ns);
	}
}

/* the process_* metrics, read outside the store's lock */
struct proc_vals {
	bool stat_ok, fds_ok, rl_ok;
	unsigned long long cpu_ns;
	double rss, vsize, start, max_fds;
	long fds;
};

static void process_read(struct proc_vals *pv)
{
	static long ticks, page;
	static double boot_time;
	unsigned long long ut = 0, st = 0, start = 0, vsize = 0;
	long rss = 0;
	char buf[1024], *p;
	struct rlimit rl;
	FILE *f;
	DIR *d;

	memset(pv, 0, sizeof(*pv));
	if (!ticks) {
		ticks = sysconf(_SC_CLK_TCK);
		page = sysconf(_SC_PAGESIZE);
		f = fopen("/proc/stat", "re");
		while (f && fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "btime %lf", &boot_time) == 1)
				break;
		if (f)
			fclose(f);
	}
	f = fopen("/proc/self/stat", "re");
	if (f && fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) &&
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu "
		   "%llu %*d %*d %*d %*d %*d %*d %llu %llu %ld", &ut, &st,
		   &start, &vsize, &rss) == 5) {
		pv->stat_ok = true;
		pv->cpu_ns = (ut + st) * (1000000000ULL / ticks);
		pv->rss = (double)rss * page;
		pv->vsize = vsize;
		pv->start = (boot_time + (double)start / ticks) * 1e9;
	}
	if (f)
		fclose(f);
	d = opendir("/proc/self/fd");
	while (d && readdir(d))
		pv->fds++;
	if (d) {
		closedir(d);
		/* ., .. and the directory's own fd */
		pv->fds -= 3;
		pv->fds_ok = true;
	}
	if (!getrlimit(RLIMIT_NOFILE, &rl)) {
		pv->rl_ok = true;
		pv->max_fds = rl.rlim_cur == RLIM_INFINITY ? 1e300 :
			      (double)rl.rlim_cur;
	}
}

static void process_stats(const struct proc_vals *pv)
{
	if (pv->stat_ok) {
		ks_mstore_set(E.x.store, "process_cpu_seconds_total", NULL, 0);
		ks_mstore_add(E.x.store, "process_cpu_seconds_total", NULL,
			      pv->cpu_ns);
		ks_mstore_set(E.x.store, "process_resident_memory_bytes", NULL,
			      pv->rss);
		ks_mstore_set(E.x.store, "process_virtual_memory_bytes", NULL,
			      pv->vsize);
		ks_mstore_set(E.x.store, "process_start_time_seconds", NULL,
			      pv->start);
	}
	if (pv->fds_ok)
		ks_mstore_set(E.x.store, "process_open_fds", NULL, pv->fds);
	if (pv->rl_ok)
		ks_mstore_set(E.x.store, "process_max_fds", NULL, pv->max_fds);
}

static int profile_of(struct ks_report *reps, int n, char **body,
		      size_t *len, char *err, size_t errlen);

/*
 * One report of a continuous run into the store.  With a job, the same
 * report is its profile too (memleak's: what is outstanding now, since the
 * run started), so that no report's drops escape the counters.
 */
static void collect_run(struct tool_run *t, struct ks_job *j)
{
	struct ks_report rep;
	double t0 = ks_now();
	const char *v[] = { t->r.tool->name };

	/* reading the maps is the slow part: outside the lock */
	ks_report_make(&rep, &t->r, false);
	if (j) {
		double iv = rep.interval_s;

		rep.interval_s = ks_now() - t->r.started;
		j->status = profile_of(&rep, 1, &j->body, &j->len, j->err,
				       sizeof(j->err));
		rep.interval_s = iv;
	}
	pthread_rwlock_wrlock(&E.x.lock);
	ks_mstore_add_report(E.x.store, &rep);
	add_drops(&rep);
	E.x.gen++;
	pthread_rwlock_unlock(&E.x.lock);
	ks_report_done(&rep);
	t->collect_s += ks_now() - t0;
	pthread_rwlock_wrlock(&E.x.lock);
	ks_mstore_set(E.x.store, "kscope_collect_seconds_total", v, 0);
	ks_mstore_add(E.x.store, "kscope_collect_seconds_total", v,
		      (uint64_t)(t->collect_s * 1e9));
	E.x.gen++;
	pthread_rwlock_unlock(&E.x.lock);
}

/* run-time statistics count while anyone holds a BPF_ENABLE_STATS fd
 * (CAP_SYS_ADMIN) or kernel.bpf_stats_enabled is 1: the sysctl reads 1
 * in both cases, so without the fd kscope still reports them when it is */
static bool bpf_stats_on(void)
{
	char c = '0';
	int fd;

	if (E.stats_fd >= 0)
		return true;
	fd = open("/proc/sys/kernel/bpf_stats_enabled", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (read(fd, &c, 1) != 1)
		c = '0';
	close(fd);
	return c == '1';
}

static void collect(void)
{
	bool stats = bpf_stats_on();

	struct proc_vals pv;

	for (int i = 0; i < E.nruns; i++)
		if (E.runs[i].up)
			collect_run(&E.runs[i], NULL);
	/* the syscalls first: a scrape waits only while numbers are added */
	if (stats)
		for (int i = 0; i < E.nruns; i++)
			if (E.runs[i].up)
				prog_read(&E.runs[i]);
	process_read(&pv);
	pthread_rwlock_wrlock(&E.x.lock);
	if (stats)
		for (int i = 0; i < E.nruns; i++)
			if (E.runs[i].up)
				prog_stats(&E.runs[i]);
	process_stats(&pv);
	E.x.gen++;
	pthread_rwlock_unlock(&E.x.lock);
}

static void static_metrics(void)
{
	struct utsname u;

	uname(&u);
	{
		const char *v[] = { ks_version, u.release };

		ks_mstore_set(E.x.store, "kscope_build_info", v, 1);
	}
	for (int i = 0; i < E.nruns; i++) {
		struct tool_run *t = &E.runs[i];
		const char *v[] = { t->r.tool->name, t->up ?
				    ks_mode_name(t->r.mode) : "", t->up ? "" :
				    t->why };

		ks_mstore_set(E.x.store, "kscope_tool_up", v, t->up);
	}
}

/* ---- profiles ------------------------------------------------------------------ */

/* the profile of a job's reports: an HTTP status, 200 with the gzipped
 * profile.proto in *body */
static int profile_of(struct ks_report *reps, int n, char **body,
		      size_t *len, char *err, size_t errlen)
{
	const struct ks_report *p[3];
	int rc;

	for (int i = 0; i < n && i < 3; i++)
		p[i] = &reps[i];
	rc = ks_pprof_encode(p, n < 3 ? n : 3, (unsigned char **)body, len);
	if (rc < 0)
		snprintf(err, errlen, "out of memory");
	else if (rc > 0)
		snprintf(err, errlen, "no stacks in these reports");
	return rc < 0 ? 500 : rc > 0 ? 500 : 200;
}

int ks_export_profile(struct ks_export *x, const char *name, double seconds,
		      char **body, size_t *len, char *err, size_t errlen)
{
	struct ks_job *j, **pp;
	struct timespec until;
	int status;

	pthread_mutex_lock(&x->jobs_lock);
	for (j = x->jobs; j; j = j->next)
		if (!strcmp(j->name, name) && j->state != JOB_DONE)
			break;
	if (j || x->stopping) {
		pthread_mutex_unlock(&x->jobs_lock);
		snprintf(err, errlen, x->stopping ? "shutting down" :
			 "a %s profile is being taken already: try again "
			 "later", name);
		return x->stopping ? 503 : 429;
	}
	j = calloc(1, sizeof(*j));
	if (!j) {
		pthread_mutex_unlock(&x->jobs_lock);
		snprintf(err, errlen, "out of memory");
		return 500;
	}
	j->name = name;
	j->seconds = seconds;
	j->next = x->jobs;
	x->jobs = j;
	pthread_kill(x->main_thread, SIGUSR1);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += (time_t)seconds + 120;
	while (j->state != JOB_DONE)
		if (pthread_cond_timedwait(&x->jobs_done, &x->jobs_lock,
					   &until) == ETIMEDOUT)
			break;
	if (j->state != JOB_DONE) {
		/* the collector never came back: leave the job to it */
		j->name = "";
		pthread_mutex_unlock(&x->jobs_lock);
		snprintf(err, errlen, "timed out");
		return 503;
	}
	for (pp = &x->jobs; *pp != j; pp = &(*pp)->next)
		;
	*pp = j->next;
	pthread_mutex_unlock(&x->jobs_lock);
	status = j->status;
	*body = j->body;
	*len = j->len;
	snprintf(err, errlen, "%s", j->err);
	free(j);
	return status;
}

static void job_done(struct ks_job *j, int status)
{
	pthread_mutex_lock(&E.x.jobs_lock);
	j->status = status;
	j->state = JOB_DONE;
	pthread_cond_broadcast(&E.x.jobs_done);
	pthread_mutex_unlock(&E.x.jobs_lock);
}

static void finish_job(struct ks_job *j)
{
	struct ks_report reps[3];
	int status;

	for (int i = 0; i < j->nruns; i++)
		ks_report_make(&reps[i], &j->runs[i], true);
	status = profile_of(reps, j->nruns, &j->body, &j->len, j->err,
			    sizeof(j->err));
	for (int i = 0; i < j->nruns; i++) {
		ks_report_done(&reps[i]);
		ks_run_stop(&j->runs[i]);
		ks_run_free(&j->runs[i]);
	}
	j->nruns = 0;
	job_done(j, status);
}

/*
 * The runs a profile takes: the tools keyed by stack, with stacks, for the
 * request's seconds.  memleak's profile is what is outstanding: the
 * continuous run's now, where memleak runs; a run of its own for the
 * seconds (what was allocated then and is still held) where it does not.
 * Locks are the waits of mutexes and spin locks (contentions, delay);
 * mheld's hold times are no contention.
 */
static void start_job(struct ks_job *j)
{
	static const char *const locks[] = { "mlock", "spinlock" };
	const char *tools[3] = { j->name };
	int n = 1;

	if (!strcmp(j->name, "locks"))
		for (n = 0; n < 2; n++)
			tools[n] = locks[n];
	j->state = JOB_RUNNING;
	if (!strcmp(j->name, "memleak"))
		for (int i = 0; i < E.nruns; i++)
			if (E.runs[i].up &&
			    !strcmp(E.runs[i].r.tool->name, "memleak")) {
				collect_run(&E.runs[i], j);
				job_done(j, j->status);
				return;
			}
	for (int i = 0; i < n; i++) {
		const struct ks_tool *t = ks_find_tool(tools[i]);
		struct ks_run *r = &j->runs[j->nruns];
		char *argv[] = { (char *)tools[i], "-s", NULL };

		if (!t || ks_run_init(r, t))
			continue;
		r->in_report = true;
		r->o.json = true;
		if ((t->stacks_help && ks_run_parse(r, 2, argv)) ||
		    ks_run_start(r)) {
			snprintf(j->err, sizeof(j->err), "%s: %s", tools[i],
				 ks_err_last());
			ks_run_free(r);
			continue;
		}
		j->nruns++;
	}
	if (!j->nruns) {
		job_done(j, 503);
		return;
	}
	j->deadline = ks_now() + j->seconds;
}

/* start queued jobs, finish those whose time is up; next deadline */
static double service_jobs(bool stopping)
{
	double next = 1e300;
	struct ks_job *todo[8];
	int n = 0;

	pthread_mutex_lock(&E.x.jobs_lock);
	for (struct ks_job *j = E.x.jobs; j && n < 8; j = j->next)
		if (j->state != JOB_DONE)
			todo[n++] = j;
	pthread_mutex_unlock(&E.x.jobs_lock);
	for (int i = 0; i < n; i++) {
		struct ks_job *j = todo[i];

		if (stopping) {
			for (int k = 0; k < j->nruns; k++) {
				ks_run_stop(&j->runs[k]);
				ks_run_free(&j->runs[k]);
			}
			j->nruns = 0;
			snprintf(j->err, sizeof(j->err), "shutting down");
			job_done(j, 503);
			continue;
		}
		if (j->state == JOB_QUEUED)
			start_job(j);
		if (j->state == JOB_RUNNING && ks_now() >= j->deadline)
			finish_job(j);
		if (j->state == JOB_RUNNING && j->deadline < next)
			next = j->deadline;
	}
	return next;
}

/* ---- the web configuration ------------------------------------------------------ */

static struct ks_webcfg *load_cfg(const char *path)
{
	struct ks_webcfg *c = calloc(1, sizeof(*c));
	char err[512];

	if (!c) {
		ks_err("out of memory");
		return NULL;
	}
	if (ks_webcfg_load(path, c, err, sizeof(err))) {
		ks_err("web config %s: %s", path, err);
		ks_webcfg_free(c);
		free(c);
		return NULL;
	}
	return c;
}

struct retired {
	struct ks_httpd *h;
	struct ks_webcfg *cfg;
};

/* a replaced server finishes its connections on a thread of its own:
 * a profile request it holds needs the main thread to end */
static void *retire(void *arg)
{
	struct retired *r = arg;

	ks_httpd_stop(r->h);
	if (r->cfg) {
		ks_webcfg_free(r->cfg);
		free(r->cfg);
	}
	free(r);
	return NULL;
}

static void reload(void)
{
	struct ks_webcfg *c;
	struct ks_httpd *h;
	struct retired *old;
	pthread_t tid;
	int fd;

	if (!E.web_config) {
		fprintf(stderr, "kscope export: SIGHUP: no --web-config to "
			"reload\n");
		return;
	}
	c = load_cfg(E.web_config);
	if (!c) {
		ks_err("keeping the web configuration in use");
		return;
	}
	old = calloc(1, sizeof(*old));
	if (!old) {
		ks_webcfg_free(c);
		free(c);
		return;
	}
	/* the listening socket goes to the new server: no connection is
	 * refused meanwhile, and port 0 keeps its port */
	fd = ks_httpd_quiesce(E.httpd);
	h = ks_httpd_start(&E.x, c, NULL, fd);
	if (!h) {
		ks_err("keeping the web configuration in use");
		ks_webcfg_free(c);
		free(c);
		c = E.cfg;
		h = ks_httpd_start(&E.x, c, NULL, fd);
		if (!h) {
			ks_err("no HTTP server any more: stopping");
			kill(getpid(), SIGTERM);
		}
	}
	old->h = E.httpd;
	old->cfg = c == E.cfg ? NULL : E.cfg;
	E.httpd = h;
	E.cfg = c;
	if (pthread_create(&tid, NULL, retire, old)) {
		retire(old);
	} else {
		pthread_detach(tid);
	}
	fprintf(stderr, "kscope export: reloaded %s\n", E.web_config);
}

/* ---- main ---------------------------------------------------------------------- */

static int parse(int argc, char **argv, const char **tools, long *max_series,
		 unsigned int *labels)
{
	static const struct option lo[] = {
		{ "listen", required_argument, NULL, OPT_LISTEN },
		{ "tools", required_argument, NULL, OPT_TOOLS },
		{ "web-config", required_argument, NULL, OPT_WEB_CONFIG },
		{ "label", required_argument, NULL, OPT_LABEL },
		{ "max-series", required_argument, NULL, OPT_MAX_SERIES },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "metrics-reference", no_argument, NULL, OPT_REFERENCE },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *listen = DEFAULT_LISTEN;
	int c;

	optind = 0;	/* a fresh getopt (see ks_run_parse) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":vh", lo, NULL)) != -1) {
		switch (c) {
		case OPT_LISTEN:
			listen = optarg;
			break;
		case OPT_TOOLS:
			for (const char *p = optarg; *p;) {
				size_t k = strcspn(p, ",");
				char name[32];

				snprintf(name, sizeof(name), "%.*s", (int)k, p);
				if (!ks_find_tool(name))
					return ks_usage_error("--tools: unknown "
						"tool '%s'", name),
					       KS_EXIT_USAGE;
				p += k + (p[k] == ',');
			}
			*tools = optarg;
			break;
		case OPT_WEB_CONFIG:
			E.web_config = optarg;
			break;
		case OPT_LABEL:
			if (!strcmp(optarg, "comm"))
				*labels |= KS_ML_COMM;
			else if (!strcmp(optarg, "cgroup"))
				return ks_usage_error("--label cgroup: no tool "
					"keys by cgroup yet (filter with "
					"--cgroup in the tools instead)"),
				       KS_EXIT_USAGE;
			else
				return ks_usage_error("bad --label '%s' "
					"(comm)", optarg), KS_EXIT_USAGE;
			break;
		case OPT_MAX_SERIES:
			if (ks_parse_long(optarg, 1, 1000000, max_series))
				return ks_usage_error("bad --max-series '%s' "
					"(1-1000000)", optarg), KS_EXIT_USAGE;
			break;
		case OPT_INTERVAL:
			if (ks_parse_double(optarg, 0.1, 3600, &E.interval))
				return ks_usage_error("bad --interval '%s' "
					"(seconds, 0.1-3600)", optarg),
				       KS_EXIT_USAGE;
			break;
		case OPT_REFERENCE:
			ks_metric_reference(stdout);
			return -1;
		case 'v':
			E.verbose = true;
			break;
		case 'h':
			usage(stdout);
			return -1;
		default:	/* ':' or '?' */
			return ks_opt_error(c, argv);
		}
	}
	if (optind < argc)
		return ks_usage_error("unexpected argument '%s'",
				      argv[optind]), KS_EXIT_USAGE;
	snprintf(E.listen, sizeof(E.listen), "%s", listen);
	if (parse_listen(listen, &E.addr))
		return KS_EXIT_USAGE;
	return 0;
}

static void shutdown_all(void)
{
	pthread_mutex_lock(&E.x.jobs_lock);
	E.x.stopping = true;
	pthread_mutex_unlock(&E.x.jobs_lock);
	service_jobs(true);
	ks_httpd_stop(E.httpd);
	E.httpd = NULL;
	ks_http_pages_free(&E.x);
	for (int i = 0; i < E.nruns; i++) {
		if (E.runs[i].up)
			ks_run_stop(&E.runs[i].r);
		ks_run_free(&E.runs[i].r);
	}
	ks_mstore_free(E.x.store);
	if (E.cfg) {
		ks_webcfg_free(E.cfg);
		free(E.cfg);
	}
	if (E.stats_fd >= 0)
		close(E.stats_fd);
}

int ks_export_main(int argc, char **argv)
{
	const char *tools = NULL;
	long max_series = 1000;
	unsigned int labels = 0;
	double next;
	sigset_t set;
	int err, up = 0;

	ks_set_prog("kscope export");
	E.interval = 1;
	err = parse(argc, argv, &tools, &max_series, &labels);
	if (err)
		return err < 0 ? KS_EXIT_OK : err;
	/* the HTTP and TLS libraries before any tool loads: a missing one
	 * fails at once, not after seconds of BPF loading */
	{
		char why[256];

		if (ks_dl_load(why, sizeof(why))) {
			ks_err("%s", why);
			return KS_EXIT_RUNTIME;
		}
	}
	if (E.web_config) {
		E.cfg = load_cfg(E.web_config);
		if (!E.cfg)
			return KS_EXIT_USAGE;
	}
	if (!is_loopback(&E.addr) && !(E.cfg && (E.cfg->tls ||
						 E.cfg->nusers)))
		fprintf(stderr, "kscope export: warning: listening on %s "
			"beyond loopback without TLS or authentication: "
			"anyone who can reach it reads kernel symbols and "
			"task names (see --web-config)\n", E.listen);
	ks_libbpf_setup(E.verbose);
	ks_heap_hold();

	/* signals are taken synchronously by the main thread; every thread
	 * started from here on inherits the mask */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	E.x.store = ks_mstore_new(ks_metric_families, max_series, labels);
	if (!E.x.store)
		return KS_EXIT_RUNTIME;
	pthread_rwlock_init(&E.x.lock, NULL);
	pthread_mutex_init(&E.x.jobs_lock, NULL);
	pthread_mutex_init(&E.x.page_lock, NULL);
	pthread_cond_init(&E.x.jobs_done, NULL);
	E.x.main_thread = pthread_self();
	E.x.started = ks_now();

	/* the kernel counts programs' runs and time only while someone
	 * holds this (reference-counted) */
	E.stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (E.stats_fd < 0)
		fprintf(stderr, "kscope export: note: cannot enable BPF "
			"run-time statistics (%s): kscope_bpf_program_* "
			"metrics only while kernel.bpf_stats_enabled is 1\n",
			strerror(errno));
	for (int i = 0; ks_tools[i] && E.nruns < MAX_RUNS; i++) {
		if (tools && !tool_listed(tools, ks_tools[i]->name))
			continue;
		start_tool(&E.runs[E.nruns++], ks_tools[i]);
		up += E.runs[E.nruns - 1].up;
	}
	ks_set_prog("kscope export");
	E.x.ntools = up;
	if (!up) {
		ks_err("no tool could start on this kernel");
		shutdown_all();
		return KS_EXIT_RUNTIME;
	}
	static_metrics();
	collect();
	E.httpd = ks_httpd_start(&E.x, E.cfg, (struct sockaddr *)&E.addr,
				 -1);
	if (!E.httpd) {
		shutdown_all();
		return KS_EXIT_RUNTIME;
	}
	/* listening, every tool attached: keep what loading profile runs
	 * on request takes, drop the rest (privs.c) */
	ks_drop_caps(ks_caps_to_load(), E.verbose);
	{
		char host[NI_MAXHOST] = "?";

		getnameinfo((struct sockaddr *)&E.addr, sizeof(E.addr), host,
			    sizeof(host), NULL, 0, NI_NUMERICHOST);
		fprintf(stderr, "kscope export: serving %d tools on "
			"%s://%s%s%s:%d/metrics\n", up,
			E.cfg && E.cfg->tls ? "https" : "http",
			E.addr.ss_family == AF_INET6 ? "[" : "", host,
			E.addr.ss_family == AF_INET6 ? "]" : "",
			ks_httpd_port(E.httpd));
	}
	fflush(stderr);
	ks_heap_release();

	next = ks_now() + E.interval;
	for (;;) {
		double wake = service_jobs(false);
		int sig;

		/* a job's report changes the store too */
		ks_http_publish(&E.x);

		if (next < wake)
			wake = next;
		sig = ks_wait_until(wake, &set);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		if (sig == SIGHUP)
			reload();
		if (ks_now() >= next) {
			collect();
			ks_http_publish(&E.x);
			next += E.interval;
			if (next < ks_now())
				next = ks_now() + E.interval;
		}
	}
	shutdown_all();
	return KS_EXIT_OK;
}
