// SPDX-License-Identifier: GPL-2.0
/*
 * Chains: one program per tracepoint for `kscope report`.
 *
 * report runs every tool's own BPF object, so kmem_cache_alloc carries
 * kmem's, slabratetop's and memleak's programs.  A tracepoint with more
 * than one program calls them through an indirect-call loop (retpolines
 * here) and runs each under its own guard; docs/bench.md measured that at
 * 5 points of an open/close loop's throughput (empty programs, 12 hooks
 * against 18).  Each program on such a hook ends in a tail call through
 * a one-slot prog array of its own object (KS_CHAIN_MAP in
 * bpf/common.bpf.h): here only the first tool's program on a hook is
 * attached, and each later one is put in the slot of the one before, so
 * one attachment runs them all in turn.  A program that cannot join (a
 * kernel that refuses the tail call, another program type on the same
 * tracepoint) is attached on its own, as outside report.
 *
 * Tail-called programs have no guard of their own: the kernel skips the
 * whole chain when the head's guard finds it already running on that
 * CPU, and counts that on the head alone (bpf_prog_info's
 * recursion_misses).  ks_chain_misses() gives each later program the
 * head's misses since it joined, so that every tool still reports the
 * events it lost (ks_prog_recursion_misses()).
 *
 * Members join while report's tools start, from its loader threads (one
 * lock for all), and leave at ks_bpf_cleanup().  report stops every chain
 * at once (ks_chain_stop()) before it reads any map: then no program runs
 * any more, whichever tool's cleanup comes first.  A head that leaves
 * before that (its tool failed to start) hands the attachment to the next
 * member; the counts of that moment are not kept anyway (report restarts
 * every tool once all are attached).
 */
#include <pthread.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "kscope.h"

#define CHAINS		16
#define MEMBERS		8
#define GONE		64	/* misses kept for members that left */

struct member {
	struct ks_run *r;
	struct bpf_program *p;
	int next_fd;		/* p's object's one-slot prog array (its fd) */
	uint32_t id;		/* p's program id */
	uint64_t base;		/* the head's misses when it began to count */
	uint64_t misses;	/* head misses counted under earlier heads */
};

struct chain {
	enum bpf_prog_type type;
	enum bpf_attach_type atype;
	char hook[64];
	struct bpf_link *link;	/* the head's attachment */
	struct member m[MEMBERS];
	int n;
};

static pthread_mutex_t chain_lock = PTHREAD_MUTEX_INITIALIZER;
static struct chain chains[CHAINS];
static int nchains;
static bool stopped;
/* members that left: their misses, for reports made after the cleanup */
static struct {
	uint32_t id;
	uint64_t misses;
} gone[GONE];
static int ngone;

static struct bpf_prog_info prog_info(int fd)
{
	struct bpf_prog_info info;
	uint32_t len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		memset(&info, 0, sizeof(info));
	return info;
}

static uint64_t head_misses(const struct chain *c)
{
	return c->n ? prog_info(bpf_program__fd(c->m[0].p)).recursion_misses
		    : 0;
}

/* a chained member's misses: the head's since it joined (the head's
 * own are its program's) */
static uint64_t member_misses(const struct chain *c, int i)
{
	uint64_t now;

	if (i == 0)
		return c->m[0].misses;
	now = head_misses(c);
	return c->m[i].misses + (now > c->m[i].base ? now - c->m[i].base : 0);
}

/*
 * The hook of a program that may chain: a tracepoint it attaches to by
 * its section name (tp_btf/X, raw_tp/X, tp/CAT/X), and the one prog
 * array of r's object it uses (its KS_CHAIN_MAP), as *fd (the object's:
 * ks_bpf_cleanup() runs before the tool destroys it).  Found by map id
 * among r's maps: opening a map by id would need CAP_SYS_ADMIN, which
 * kscope does not need otherwise.  False for any other program.
 */
static bool chainable(struct ks_run *r, struct bpf_program *p, char *hook,
		      size_t len, int *fd)
{
	enum bpf_prog_type t = bpf_program__type(p);
	const char *sec = bpf_program__section_name(p), *slash;
	struct bpf_prog_info info;
	struct bpf_map *m;
	uint32_t ids[32], ilen = sizeof(info), n;

	if (!r->obj ||
	    !(t == BPF_PROG_TYPE_TRACEPOINT ||
	      t == BPF_PROG_TYPE_RAW_TRACEPOINT ||
	      (t == BPF_PROG_TYPE_TRACING &&
	       bpf_program__expected_attach_type(p) == BPF_TRACE_RAW_TP)))
		return false;
	slash = sec ? strchr(sec, '/') : NULL;
	if (!slash || !slash[1] || strlen(slash + 1) >= len)
		return false;
	strcpy(hook, slash + 1);
	memset(&info, 0, sizeof(info));
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (uint64_t)(unsigned long)ids;
	if (bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &ilen))
		return false;
	n = info.nr_map_ids < 32 ? info.nr_map_ids : 32;
	bpf_object__for_each_map(m, r->obj) {
		struct bpf_map_info mi;
		uint32_t mlen = sizeof(mi);
		int mfd = bpf_map__fd(m);

		if (bpf_map__type(m) != BPF_MAP_TYPE_PROG_ARRAY || mfd < 0)
			continue;
		memset(&mi, 0, sizeof(mi));
		if (bpf_obj_get_info_by_fd(mfd, &mi, &mlen))
			continue;
		for (uint32_t i = 0; i < n; i++)
			if (ids[i] == mi.id) {
				*fd = mfd;
				return true;
			}
	}
	return false;
}

static struct chain *find(enum bpf_prog_type t, enum bpf_attach_type at,
			  const char *hook)
{
	for (int i = 0; i < nchains; i++)
		if (chains[i].type == t && chains[i].atype == at &&
		    !strcmp(chains[i].hook, hook))
			return &chains[i];
	if (nchains == CHAINS)
		return NULL;
	memset(&chains[nchains], 0, sizeof(chains[0]));
	chains[nchains].type = t;
	chains[nchains].atype = at;
	snprintf(chains[nchains].hook, sizeof(chains[0].hook), "%s", hook);
	return &chains[nchains++];
}

int ks_chain_join(struct ks_run *r, struct bpf_program *p)
{
	char hook[64];
	struct chain *c;
	struct member *m;
	uint32_t zero = 0;
	int fd, pfd = bpf_program__fd(p);

	if (!chainable(r, p, hook, sizeof(hook), &fd))
		return 1;
	pthread_mutex_lock(&chain_lock);
	c = stopped ? NULL : find(bpf_program__type(p),
				  bpf_program__expected_attach_type(p), hook);
	if (!c || c->n == MEMBERS) {
		pthread_mutex_unlock(&chain_lock);
		return 1;
	}
	if (!c->n) {
		struct bpf_link *l = bpf_program__attach(p);

		if (!ks_bpf_link_ok(r, l, bpf_program__name(p))) {
			pthread_mutex_unlock(&chain_lock);
			return -1;
		}
		c->link = l;
	} else if (bpf_map_update_elem(c->m[c->n - 1].next_fd, &zero, &pfd,
				       BPF_ANY)) {
		/* not a program the one before may tail-call: alone */
		pthread_mutex_unlock(&chain_lock);
		return 1;
	}
	m = &c->m[c->n++];
	memset(m, 0, sizeof(*m));
	m->r = r;
	m->p = p;
	m->next_fd = fd;
	m->id = prog_info(pfd).id;
	m->base = c->n > 1 ? head_misses(c) : 0;
	pthread_mutex_unlock(&chain_lock);
	return 0;
}

/* member i leaves chain c (chain_lock held) */
static void leave(struct chain *c, int i)
{
	uint32_t zero = 0;
	uint64_t misses = member_misses(c, i);

	if (i > 0) {
		/* the one before now calls the one after, or none */
		int prev = c->m[i - 1].next_fd;

		if (i + 1 < c->n) {
			int nfd = bpf_program__fd(c->m[i + 1].p);

			bpf_map_update_elem(prev, &zero, &nfd, BPF_ANY);
		} else {
			bpf_map_delete_elem(prev, &zero);
		}
	} else {
		/* the head: its misses so far go to every member, then the
		 * next one (if any) is attached in its place */
		for (int k = 1; k < c->n; k++) {
			c->m[k].misses = member_misses(c, k);
			c->m[k].base = 0;
		}
		if (c->link)
			bpf_link__destroy(c->link);
		c->link = NULL;
		bpf_map_delete_elem(c->m[0].next_fd, &zero);
		if (c->n > 1 && !stopped) {
			struct bpf_link *l = bpf_program__attach(c->m[1].p);

			if (!l || libbpf_get_error(l))
				ks_err("%s: cannot attach %s on its own: "
				       "its events are not counted", c->hook,
				       bpf_program__name(c->m[1].p));
			else
				c->link = l;
		}
	}
	if (ngone < GONE) {
		gone[ngone].id = c->m[i].id;
		gone[ngone++].misses = misses;
	}
	memmove(&c->m[i], &c->m[i + 1], (c->n - i - 1) * sizeof(c->m[0]));
	c->n--;
}

void ks_chain_leave(struct ks_run *r)
{
	pthread_mutex_lock(&chain_lock);
	for (int k = 0; k < nchains; k++)
		for (int i = 0; i < chains[k].n;)
			if (chains[k].m[i].r == r)
				leave(&chains[k], i);
			else
				i++;
	pthread_mutex_unlock(&chain_lock);
}

void ks_chain_stop(void)
{
	pthread_mutex_lock(&chain_lock);
	stopped = true;
	for (int k = 0; k < nchains; k++) {
		if (chains[k].link)
			bpf_link__destroy(chains[k].link);
		chains[k].link = NULL;
	}
	pthread_mutex_unlock(&chain_lock);
}

uint64_t ks_chain_misses(uint32_t prog_id)
{
	uint64_t sum = 0;

	if (!prog_id)
		return 0;
	pthread_mutex_lock(&chain_lock);
	for (int k = 0; k < nchains; k++)
		for (int i = 0; i < chains[k].n; i++)
			if (chains[k].m[i].id == prog_id)
				sum += member_misses(&chains[k], i);
	for (int i = 0; i < ngone; i++)
		if (gone[i].id == prog_id)
			sum += gone[i].misses;
	pthread_mutex_unlock(&chain_lock);
	return sum;
}
