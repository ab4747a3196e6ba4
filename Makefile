# SPDX-License-Identifier: GPL-2.0
# kscope build.  `make` builds build/kscope; `make run` and `make check`
# first install any missing Debian packages (as root on Debian 12).

CC ?= gcc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= $(shell command -v bpftool || echo /usr/sbin/bpftool)
# BTF to generate vmlinux.h from; or give VMLINUX_H=path to use your own
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
PREFIX ?= /usr/local
# systemd reads units from /usr/local/lib/systemd/system too
SYSTEMD_UNITDIR ?= $(PREFIX)/lib/systemd/system
PYTHON ?= /usr/bin/python3

B := build
ARCH := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/')

CFLAGS ?= -O2 -g
CFLAGS += -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	  -Iinclude -Isrc -Isrc/lib -I$(B) $(SANITIZE) $(CROSS_CFLAGS)
LDLIBS := -lbpf -lelf -lz -ldw
# kscope export: HTTP server, TLS, web-config YAML, bcrypt
# libmicrohttpd and libgnutls are opened by the exporter itself
# (src/export/dl.h): headers from the -dev packages, no link
EXPORT_LDLIBS := -lyaml -lcrypt -lpthread
STATIC_LDLIBS := -lbpf -ldw -lelf -lz -llzma -lbz2 -lzstd -lpthread

BPF_SRCS := $(wildcard bpf/*.bpf.c)
TOOLS := $(patsubst bpf/%.bpf.c,%,$(BPF_SRCS))
SKELS := $(patsubst %,$(B)/%.skel.h,$(TOOLS))
LIB_SRCS := $(wildcard src/lib/*.c)
TOOL_SRCS := $(wildcard src/tools/*.c)
LIB_OBJS := $(patsubst src/%.c,$(B)/%.o,$(LIB_SRCS))
TOOL_OBJS := $(patsubst src/%.c,$(B)/%.o,$(TOOL_SRCS))
EXPORT_SRCS := $(wildcard src/export/*.c)
EXPORT_OBJS := $(patsubst src/%.c,$(B)/%.o,$(EXPORT_SRCS))
MAIN_OBJ := $(B)/main.o
WORKLOADS := $(patsubst tests/workloads/%.c,$(B)/workloads/%,\
	       $(wildcard tests/workloads/*.c))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(B)/unit/%,\
	       $(wildcard tests/unit/test_*.c))

# Debian packages the build and the tests need
BUILD_DEPS := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev \
	      libdw-dev liblzma-dev libbz2-dev libzstd-dev pkg-config make gcc \
	      libmicrohttpd-dev libgnutls28-dev libyaml-dev libcrypt-dev
# prometheus: the server and promtool read kscope export's metrics;
# protoc, python3-protobuf and go tool pprof read the pprof profiles;
# python3-jsonschema: every JSON line against tests/schemas/;
# chromium renders kscope report --html (tests/test_html.py, docs-images);
# groff-base and col (bsdextrautils) render the man pages (test_man_pages)
TEST_DEPS := python3 python3-pytest libcmocka-dev valgrind bpftrace \
	     groff-base bsdextrautils \
	     qemu-system-x86 busybox-static cpio libclang-rt-14-dev libjson-c-dev \
	     prometheus libcap2-bin protobuf-compiler python3-protobuf golang-go \
	     python3-jsonschema qemu-system-arm gcc-aarch64-linux-gnu \
	     libc6-dev-arm64-cross chromium

.PHONY: all deps test-deps run check unit integration vm clean install man \
	static workloads bench asan fuzz fuzz-build export-reference soak soak-tools \
	static-arm64 kernels-doc docs-images
.DELETE_ON_ERROR:
.SECONDARY:

all: $(B)/kscope

deps:
	@sh scripts/install-deps.sh $(BUILD_DEPS)

test-deps:
	@sh scripts/install-deps.sh $(BUILD_DEPS) $(TEST_DEPS)

$(B) $(B)/lib $(B)/tools $(B)/export $(B)/workloads $(B)/unit:
	@mkdir -p $@

ifdef VMLINUX_H
$(B)/vmlinux.h: $(VMLINUX_H) | $(B)
	cp $< $@
else
$(B)/vmlinux.h: | $(B)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@
endif

# -g for the BTF (CO-RE needs it); the DWARF it also makes is stripped:
# embedded in the binary it was 90% of each object (kpages 709 -> 76 KB),
# which libbpf reads whole at each open
$(B)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) include/*.h $(B)/vmlinux.h
	$(CLANG) -g -O2 -Wall -Werror -target bpf -D__TARGET_ARCH_$(ARCH) \
		-Iinclude -I$(B) -c $< -o $@
	$(LLVM_STRIP) -g $@

$(B)/%.skel.h: $(B)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@

$(B)/lib/%.o: src/lib/%.c src/lib/kscope.h include/*.h | $(B)/lib
	$(CC) $(CFLAGS) -c $< -o $@
# kernel symbols by name from the kernel (bpf/ksym.bpf.c)
$(B)/lib/ksyms.o: $(B)/ksym.skel.h

$(B)/tools/%.o: src/tools/%.c $(wildcard src/tools/*.h) src/lib/kscope.h \
		include/*.h $(SKELS) | $(B)/tools
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/export/%.o: src/export/%.c src/export/export.h src/export/dl.h \
		src/lib/kscope.h \
		include/*.h | $(B)/export
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/main.o: src/main.c src/lib/kscope.h src/tools/tools.def | $(B)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/noexport.o: src/noexport.c src/lib/kscope.h | $(B)
	$(CC) $(CFLAGS) -c $< -o $@

$(B)/kscope: $(MAIN_OBJ) $(TOOL_OBJS) $(LIB_OBJS) $(EXPORT_OBJS)
	$(CC) $(CFLAGS) $^ $(LDLIBS) $(EXPORT_LDLIBS) -o $@

# kscope with AddressSanitizer and UBSan (tests/test_sanitize.py runs it)
asan:
	$(MAKE) B=$(B)/asan SANITIZE="-fsanitize=address,undefined \
		-fno-omit-frame-pointer -fno-sanitize-recover=all" \
		$(B)/asan/kscope

# statically linked copy for the VM test tier's initramfs
static: $(B)/kscope-static
# (without kscope export: see src/noexport.c)
$(B)/kscope-static: $(MAIN_OBJ) $(TOOL_OBJS) $(LIB_OBJS) $(B)/noexport.o
	$(CC) $(CFLAGS) -static $^ $(STATIC_LDLIBS) -o $@

# The arm64 VM's kscope and workloads (tests/vm, label 6.12-arm64),
# cross-built static in build/arm64: Debian's gcc-aarch64-linux-gnu, the
# arm64 -dev packages unpacked into a sysroot (scripts/cross-arm64.sh, the
# host's apt state untouched), BPF objects for __TARGET_ARCH_arm64 with a
# vmlinux.h from the arm64 kernel's own BTF (tests/vm/kernel-btf.py cuts
# it out of Debian's arm64 Image, fetched by tests/vm/fetch-kernels.sh).
ARM64_B := $(B)/arm64
ARM64_SYSROOT := $(ARM64_B)/sysroot
static-arm64:
	sh scripts/cross-arm64.sh $(ARM64_SYSROOT)
	@set -e; k=$$(sh tests/vm/fetch-kernels.sh 6.12-arm64 | awk '{print $$2}'); \
	 if [ ! -s $(ARM64_B)/vmlinux.btf ] || [ $$k -nt $(ARM64_B)/vmlinux.btf ]; then \
		$(PYTHON) tests/vm/kernel-btf.py $$k $(ARM64_B)/vmlinux.btf; \
		rm -f $(ARM64_B)/vmlinux.h; fi
	$(MAKE) B=$(ARM64_B) ARCH=arm64 CC=aarch64-linux-gnu-gcc \
		VMLINUX_BTF=$(ARM64_B)/vmlinux.btf \
		CROSS_CFLAGS="-isystem $(ARM64_SYSROOT)/usr/include" \
		STATIC_LDLIBS="-L$(ARM64_SYSROOT)/usr/lib/aarch64-linux-gnu $(STATIC_LDLIBS)" \
		$(ARM64_B)/kscope-static workloads

workloads: $(WORKLOADS)
# dyn_*: dynamically linked, so user-space probes meet the shared libc
$(B)/workloads/dyn_%: tests/workloads/dyn_%.c tests/workloads/*.c tests/workloads/*.h | $(B)/workloads
	$(CC) -O2 -g -Wall -Wextra -Werror -pthread $< -o $@
$(B)/workloads/%: tests/workloads/%.c tests/workloads/*.h | $(B)/workloads
	$(CC) -O2 -g -Wall -Wextra -Werror -static -pthread $< -o $@

$(B)/unit/%: tests/unit/%.c $(LIB_OBJS) | $(B)/unit
	$(CC) $(CFLAGS) -Itests/unit -DFIXTURES=\"$(CURDIR)/tests/unit/fixtures\" $^ $(LDLIBS) -lcmocka -o $@

# the exporter's request handler and web-config parser, without a socket
$(B)/unit/test_export: tests/unit/test_export.c $(LIB_OBJS) \
		$(B)/export/http.o $(B)/export/webcfg.o $(B)/export/dl.o | $(B)/unit
	$(CC) $(CFLAGS) -Itests/unit $^ $(LDLIBS) $(EXPORT_LDLIBS) -lcmocka -o $@

unit: $(UNIT_TESTS)
	@sh tests/run-unit.sh $(UNIT_TESTS)

# libFuzzer harnesses (tests/fuzz/README.md): the library and the tools
# built again with clang's coverage and sanitizers, one binary per harness
FZ := $(B)/fuzz
FUZZ_SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all \
		 -fno-omit-frame-pointer
FUZZ_CFLAGS := -O1 -g -Wall -Wextra -Werror -Wno-missing-field-initializers \
	       -std=gnu11 -D_GNU_SOURCE \
	       -Iinclude -Isrc -Isrc/lib -I$(B) -Itests/fuzz $(FUZZ_SANITIZE)
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_OBJS := $(patsubst src/%.c,$(FZ)/%.o,$(LIB_SRCS) $(TOOL_SRCS)) \
	     $(FZ)/main.o $(FZ)/noexport.o
FUZZ_SECONDS ?= 60

$(FZ)/lib/%.o: src/lib/%.c src/lib/kscope.h include/*.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FZ)/lib/ksyms.o: $(B)/ksym.skel.h
$(FZ)/tools/%.o: src/tools/%.c $(wildcard src/tools/*.h) src/lib/kscope.h \
		include/*.h $(SKELS)
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FZ)/noexport.o: src/noexport.c src/lib/kscope.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
# the command table without main(): libFuzzer has its own
$(FZ)/main.o: src/main.c src/lib/kscope.h src/tools/tools.def
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -Dmain=ks_cli_main \
		-c $< -o $@
$(FZ)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/*.h $(FUZZ_OBJS)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) \
		$(FUZZ_EXTRA) $(LDLIBS) -ljson-c -o $@
# the SVG is checked with libxml2
$(FZ)/fuzz_flame: FUZZ_EXTRA = -I/usr/include/libxml2 -lxml2
# the exporter's request handler (http.c, webcfg.c), without a socket
$(FZ)/export/%.o: src/export/%.c src/export/export.h src/lib/kscope.h
	@mkdir -p $(@D)
	$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@
$(FZ)/fuzz_http: $(FZ)/export/http.o $(FZ)/export/webcfg.o $(FZ)/export/dl.o
$(FZ)/fuzz_http: FUZZ_EXTRA = $(FZ)/export/http.o $(FZ)/export/webcfg.o \
	$(FZ)/export/dl.o \
	$(EXPORT_LDLIBS)

fuzz-build: $(patsubst %,$(FZ)/fuzz_%,$(FUZZERS))

# every harness for FUZZ_SECONDS each (regression inputs first)
fuzz: fuzz-build
	sh tests/fuzz/run.sh $(FZ) $(FUZZ_SECONDS) $(FUZZERS)

# the text report, and the same run as one HTML page beside it
run: deps
	$(MAKE) all
	$(B)/kscope report -d 5 --html $(B)/report.html
	@echo "HTML report: $(CURDIR)/$(B)/report.html"

# Every tier: unit (no root), host integration (root), VM (6.1, 6.12).
# KSCOPE_SKIP_VM=1 skips the VM tier visibly for quick loops (never in CI).
check: test-deps
	$(MAKE) all static static-arm64 asan workloads $(UNIT_TESTS) fuzz-build
	sh tests/run-unit.sh $(UNIT_TESTS)
	$(PYTHON) -m pytest -ra -p no:cacheprovider tests

# docs/kernels.md from kscope features -j of the host and of the last VM
# tier run (build/vm; KERNELS_VM_DIRS="dir ..." to combine runs)
kernels-doc: $(B)/kscope
	$(PYTHON) scripts/kernels-doc.py $(foreach d,$(or $(KERNELS_VM_DIRS),$(B)/vm),--vm-dir $(d))

# kscope.8 and one man page per command, made from the -h texts (see
# scripts/mkman.sh); `help` is the only command without a page of its own
MAN_DIR ?= $(B)/man
man: $(B)/kscope
	@rm -rf $(MAN_DIR) && mkdir -p $(MAN_DIR)
	sh scripts/mkman.sh $(B)/kscope > $(MAN_DIR)/kscope.8
	for t in $$($(B)/kscope -h | awk '/^Commands:/{c=1;next} c&&/^  [a-z]/{print $$1} c&&/^$$/{exit}' | grep -vx help); do \
		sh scripts/mkman.sh $(B)/kscope $$t > $(MAN_DIR)/kscope-$$t.8 || exit 1; \
	done

# docs/export.md's metric reference, from the table in the code
export-reference: $(B)/kscope
	$(B)/kscope export --metrics-reference > $(B)/metrics-reference.md
	awk -v ref=$(B)/metrics-reference.md \
		'/<!-- metrics-reference end -->/ { skip = 0 } !skip { print } \
		 /<!-- metrics-reference begin -->/ { while ((getline l < ref) > 0) \
			print l; skip = 1 }' docs/export.md > $(B)/export.md
	mv $(B)/export.md docs/export.md

install: $(B)/kscope man
	install -D -m 0755 $(B)/kscope $(DESTDIR)$(PREFIX)/sbin/kscope
	for m in $(MAN_DIR)/*.8; do \
		install -D -m 0644 $$m $(DESTDIR)$(PREFIX)/share/man/man8/$$(basename $$m); \
	done
	mkdir -p $(DESTDIR)$(SYSTEMD_UNITDIR)
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' dist/systemd/kscope-export.service.in \
		> $(DESTDIR)$(SYSTEMD_UNITDIR)/kscope-export.service
	chmod 0644 $(DESTDIR)$(SYSTEMD_UNITDIR)/kscope-export.service

# kscope export for SOAK_SECONDS (default an hour) under workloads, scraped
# every second: RSS and fd slopes, slowest scrape (outside make check)
SOAK_SECONDS ?= 3600
soak: soak-tools
	$(PYTHON) tests/soak_export.py --duration $(SOAK_SECONDS) \
		--json $(B)/soak.json

# every tool at 0.1 s intervals under changing workloads (tests/soak.py),
# SOAK_SECONDS too; make soak runs it before the export soak
soak-tools: all workloads
	$(PYTHON) tests/soak.py --seconds $(SOAK_SECONDS) \
		--json $(B)/soak-tools.json

# docs/report.md's images from a real run (root, chromium): build/docs/
docs-images: all workloads
	sh scripts/docs-images.sh $(B)

bench: all workloads
	sh bench/run.sh

clean:
	rm -rf $(B)
