# SPDX-License-Identifier: GPL-2.0
# Builds the benchmark's own helpers into build/bench/ (run from the repo
# root: make -f bench/bench.mk).  The top-level Makefile builds kscope.
CC ?= gcc
CLANG ?= clang
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
B := build/bench
CFLAGS := -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE

all: $(B)/workload $(B)/floor

$(B):
	@mkdir -p $@

$(B)/workload: bench/workload.c bench/bench.mk | $(B)
	$(CC) $(CFLAGS) $< -o $@ -lpthread

# build/vmlinux.h comes from the top-level make (bench: all).  No CO-RE
# (BPF_NO_PRESERVE_ACCESS_INDEX): with a CO-RE relocation anywhere in the
# object libbpf would parse the kernel's BTF for every floor, which would
# spoil the tracepoint floor's start-up time and memory; the one struct
# access (task->comm, ladder only) uses this build machine's layout.
$(B)/floor.bpf.o: bench/floor.bpf.c build/vmlinux.h include/memleak.h \
		bench/bench.mk | $(B)
	$(CLANG) -g -O2 -Wall -Werror -target bpf -Ibuild -Iinclude \
		-DBPF_NO_PRESERVE_ACCESS_INDEX -c $< -o $@

$(B)/floor.skel.h: $(B)/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@

$(B)/floor: bench/floor.c $(B)/floor.skel.h include/memleak.h bench/bench.mk
	$(CC) $(CFLAGS) -I$(B) -Iinclude $< -lbpf -lelf -lz -o $@

.PHONY: all
.DELETE_ON_ERROR:
