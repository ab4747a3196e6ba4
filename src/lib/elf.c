// SPDX-License-Identifier: GPL-2.0
/*
 * Where functions are in an ELF object, for user-space probes: file
 * offsets of named global functions (dynsym first, then symtab), the first
 * bytes of each, and the program's ELF interpreter.  libelf does the
 * parsing.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>
#include "kscope.h"

/* file offset of virtual address v, from the PT_LOAD holding it */
static uint64_t vaddr_to_off(Elf *e, uint64_t v)
{
	size_t n;

	if (elf_getphdrnum(e, &n))
		return 0;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD &&
		    v >= ph.p_vaddr && v - ph.p_vaddr < ph.p_filesz)
			return v - ph.p_vaddr + ph.p_offset;
	}
	return 0;
}

static void scan_symtab(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, Elf_Data *ver,
			struct ks_elf_funcs *r)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;

	for (size_t i = 0; d && i < n; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(d, i, &s) || s.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(s.st_info) != STT_FUNC ||
		    (GELF_ST_BIND(s.st_info) != STB_GLOBAL &&
		     GELF_ST_BIND(s.st_info) != STB_WEAK))
			continue;
		/* an old version kept for compatibility is not what new
		 * programs call (versym bit 15: hidden) */
		if (ver && (i + 1) * 2 <= ver->d_size &&
		    (((uint16_t *)ver->d_buf)[i] & 0x8000))
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name)
			continue;
		for (size_t k = 0; k < r->n; k++)
			if (!r->off[k] && !strcmp(name, r->names[k]))
				r->off[k] = vaddr_to_off(e, s.st_value);
	}
}

static void read_interp(Elf *e, int fd, struct ks_elf_funcs *r)
{
	size_t n;

	if (elf_getphdrnum(e, &n))
		return;
	for (size_t i = 0; i < n; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_INTERP ||
		    ph.p_filesz >= sizeof(r->interp))
			continue;
		if (pread(fd, r->interp, ph.p_filesz, ph.p_offset) ==
		    (ssize_t)ph.p_filesz) {
			r->interp[ph.p_filesz] = '\0';
			r->has_interp = strlen(r->interp) > 0;
		}
	}
}

int ks_elf_find_funcs_fd(int fd, struct ks_elf_funcs *r)
{
	Elf_Scn *scn = NULL;
	Elf_Data *ver = NULL;
	GElf_Shdr sh;
	Elf *e;

	r->is_elf = false;
	r->has_interp = false;
	r->interp[0] = '\0';
	memset(r->off, 0, sizeof(r->off));
	memset(r->head, 0, sizeof(r->head));
	if (r->n > KS_ELF_MAX_FUNCS)
		return -EINVAL;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		if (e)
			elf_end(e);
		return 0;
	}
	r->is_elf = true;
	read_interp(e, fd, r);
	while ((scn = elf_nextscn(e, scn)))
		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_GNU_versym)
			ver = elf_getdata(scn, NULL);
	for (int pass = 0; pass < 2; pass++) {
		scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == (pass ? SHT_SYMTAB : SHT_DYNSYM))
				scan_symtab(e, scn, &sh, pass ? NULL : ver, r);
		}
	}
	for (size_t k = 0; k < r->n; k++)
		if (r->off[k] && pread(fd, r->head[k], sizeof(r->head[k]),
				       r->off[k]) != sizeof(r->head[k]))
			memset(r->head[k], 0, sizeof(r->head[k]));
	elf_end(e);
	return 0;
}

int ks_elf_find_funcs(const char *path, struct ks_elf_funcs *r)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int err;

	if (fd < 0) {
		r->is_elf = false;
		return -errno;
	}
	err = ks_elf_find_funcs_fd(fd, r);
	close(fd);
	return err;
}

int ks_elf_func_index(const struct ks_elf_funcs *r, const char *name)
{
	for (size_t k = 0; k < r->n; k++)
		if (!strcmp(r->names[k], name))
			return k;
	return -1;
}

uint64_t ks_elf_func_off(const struct ks_elf_funcs *r, const char *name)
{
	int k = ks_elf_func_index(r, name);

	return k < 0 ? 0 : r->off[k];
}

bool ks_elf_defines(const char *path, const char *const *names)
{
	struct ks_elf_funcs r = { .names = names };

	while (names[r.n])
		r.n++;
	if (ks_elf_find_funcs(path, &r))
		return false;
	for (size_t k = 0; k < r.n; k++)
		if (!r.off[k])
			return false;
	return true;
}
