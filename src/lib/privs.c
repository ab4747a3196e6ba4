// SPDX-License-Identifier: GPL-2.0
/*
 * Least privilege: once a tool's programs are loaded and attached, the
 * maps are read through the fds kscope already holds (no capability is
 * checked on a map fd), so everything else goes.  What later work still
 * needs is kept, and nothing more:
 *
 *   - a run that follows a process's user space (memleak -p PID or
 *     -- COMMAND) reads /proc/PID/maps and the target's files at report
 *     time: CAP_SYS_PTRACE (ptrace read access to a process whose
 *     capabilities are not a subset of ours) and CAP_DAC_READ_SEARCH
 *     (its files, whoever owns them);
 *   - --pprof FILE writes a new profile beside FILE at each report and
 *     renames it: CAP_DAC_OVERRIDE, for a directory root does not own;
 *   - kscope export starts profile runs on request (/debug/pprof/ endpoints): it
 *     keeps what loading and attaching takes, CAP_BPF and CAP_PERFMON
 *     (or CAP_SYS_ADMIN where those two are not held).
 *
 * /proc/kallsyms shows addresses to a reader whose opening credentials
 * had CAP_SYSLOG, so it is opened before the drop (ks_kernel_syms_preopen)
 * and read later through that file.  The ambient and inheritable sets are
 * emptied, the bounding set loses what is dropped (while CAP_SETPCAP is
 * still held), and no_new_privs is set: nothing kscope might execute
 * later can gain privileges back.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/capability.h>

#include "kscope.h"

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid",
	"kill", "setgid", "setuid", "setpcap", "linux_immutable",
	"net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot",
	"sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease",
	"audit_write", "audit_control", "setfcap", "mac_override",
	"mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
	"perfmon", "bpf", "checkpoint_restore",
};

#define NCAPS 64

static int caps_get(uint64_t *eff, uint64_t *prm)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	memset(d, 0, sizeof(d));
	if (syscall(SYS_capget, &h, d))
		return -errno;
	*eff = d[0].effective | (uint64_t)d[1].effective << 32;
	*prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	return 0;
}

static int caps_set(uint64_t keep)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	d[0].effective = d[0].permitted = (uint32_t)keep;
	d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
	d[0].inheritable = d[1].inheritable = 0;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

static void cap_list(uint64_t set, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int c = 0; c < NCAPS && n < len; c++) {
		if (!(set >> c & 1))
			continue;
		if (c < (int)(sizeof(cap_names) / sizeof(cap_names[0])))
			n += snprintf(buf + n, len - n, "%scap_%s",
				      n ? "," : "", cap_names[c]);
		else
			n += snprintf(buf + n, len - n, "%scap_%d",
				      n ? "," : "", c);
	}
	if (!set)
		snprintf(buf, len, "none");
}

uint64_t ks_caps_for(const struct ks_run *r)
{
	uint64_t keep = 0;

	if (r->tool->takes_command && (r->o.pid || r->o.command))
		keep |= KS_CAPBIT(CAP_SYS_PTRACE) |
			KS_CAPBIT(CAP_DAC_READ_SEARCH);
	/* each report writes a new profile beside FILE and renames it:
	 * `sudo kscope ... --pprof ~/p.pb.gz` writes in a user's directory */
	if (r->o.pprof)
		keep |= KS_CAPBIT(CAP_DAC_OVERRIDE);
	return keep;
}

uint64_t ks_caps_to_load(void)
{
	uint64_t eff = 0, prm = 0;
	uint64_t both = KS_CAPBIT(CAP_BPF) | KS_CAPBIT(CAP_PERFMON);

	if (caps_get(&eff, &prm))
		return 0;
	if ((prm & both) == both)
		return both;
	return KS_CAPBIT(CAP_SYS_ADMIN);
}

int ks_drop_caps(uint64_t keep, bool verbose)
{
	uint64_t eff = 0, prm = 0, kept;
	char kb[1024], db[2048];
	int err;

	ks_kernel_syms_preopen();
	err = caps_get(&eff, &prm);
	if (err)
		return err;
	kept = prm & keep;
	/* the bounding set needs CAP_SETPCAP, so it goes first */
	if (eff & KS_CAPBIT(CAP_SETPCAP))
		for (int c = 0; c < NCAPS; c++)
			if (!(kept >> c & 1) &&
			    prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
				prctl(PR_CAPBSET_DROP, c, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	err = caps_set(kept);
	if (!err && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		err = -errno;
	if (verbose) {
		cap_list(kept, kb, sizeof(kb));
		cap_list(prm & ~kept, db, sizeof(db));
		if (err)
			fprintf(stderr, "%s: cannot drop capabilities: %s\n",
				ks_prog(), strerror(-err));
		else
			fprintf(stderr, "%s: capabilities kept: %s; dropped: "
				"%s; no_new_privs set\n", ks_prog(), kb, db);
	}
	return err;
}
