# MPK series harness.  The path from sources to a TAP line:
#   base/ + Debian's 6.12  --scripts/source.sh-->       build/linux (git)
#   build/linux            --scripts/build-kernel.sh--> build/bzImage
#   protection_keys tests  --scripts/mkinitramfs.sh-->  build/initramfs.cpio
#   both                   --scripts/run-qemu.sh-->     build/runs/*/tap.log
#   tap.log                --scripts/tap-summary.sh-->  "N passed, M failed"
# Main entries: 'make run' (fresh machine to test result), 'make test'
# (everything CI checks).  See README.md.

SHELL := /bin/bash
B := build
TREE := $(B)/linux
STOCK := $(B)/stock
OBJ := $(B)/obj
S := scripts
C := configs
SELFTESTS := protection_keys

KERNEL ?= $(B)/bzImage
CPU ?= $(or $(QEMU_CPU),max)

X86_64 := $(C)/mpk.config $(C)/x86_64.config
SERIES_CONFIG := $(X86_64) $(C)/kvm.config
NOPKEYS_CONFIG := $(X86_64) $(C)/nopkeys.config
I386_CONFIG := $(C)/mpk.config $(C)/i386.config

.PHONY: all run test deps tree series check-series check-bisect kernel \
	stock kernel-nopkeys kernel-i386 kernel-suspend kernel-debug \
	initramfs selftest conformance difftest check-resume stress clean FORCE

all: kernel

run: deps kernel
	$(MAKE) --no-print-directory selftest KERNEL=$(B)/bzImage CPU=$(CPU)

test: deps
	$(S)/test.sh

deps:
	$(S)/deps.sh

tree: $(TREE)/.git
$(TREE)/.git:
	$(S)/source.sh

series: tree
	$(S)/series.sh

check-series: tree
	$(S)/check-series.sh

# Every commit of the series builds (W=1) in every configuration (or in
# those of CONFIGS) and boots.  Slow: not part of 'make test'.
check-bisect: initramfs
	SERIES_CONFIG="$(SERIES_CONFIG)" NOPKEYS_CONFIG="$(NOPKEYS_CONFIG)" \
		I386_CONFIG="$(I386_CONFIG)" $(S)/check-bisect.sh $(CONFIGS)

# Kernel images are rebuilt every time make is asked for them: Kbuild
# knows what changed in the tree, make does not.
kernel: $(B)/bzImage
$(B)/bzImage: tree FORCE
	$(S)/build-kernel.sh $(TREE) $(abspath $(OBJ)/series) x86_64 $@ $(SERIES_CONFIG)

stock: $(B)/stock-bzImage
$(B)/stock-bzImage: tree FORCE
	$(S)/build-kernel.sh $(STOCK) $(abspath $(OBJ)/stock) x86_64 $@ $(SERIES_CONFIG)

kernel-nopkeys: $(B)/nopkeys-bzImage
$(B)/nopkeys-bzImage: tree FORCE
	$(S)/build-kernel.sh $(TREE) $(abspath $(OBJ)/nopkeys) x86_64 $@ \
		$(NOPKEYS_CONFIG)

kernel-i386: $(B)/i386-bzImage
$(B)/i386-bzImage: tree FORCE
	$(S)/build-kernel.sh $(TREE) $(abspath $(OBJ)/i386) i386 $@ \
		$(I386_CONFIG)

kernel-suspend: $(B)/suspend-bzImage
$(B)/suspend-bzImage: tree FORCE
	$(S)/build-kernel.sh $(TREE) $(abspath $(OBJ)/suspend) x86_64 $@ \
		$(X86_64) $(C)/suspend.config

# The series config plus the debug checkers of configs/debug.config.
kernel-debug: $(B)/debug-bzImage
$(B)/debug-bzImage: tree FORCE
	$(S)/build-kernel.sh $(TREE) $(abspath $(OBJ)/debug) x86_64 $@ \
		$(SERIES_CONFIG) $(C)/debug.config

# Robustness run on the debug kernel: kselftests, trinity, stress-ng,
# pkey_stress, kmemleak (scripts/stress.sh); figures go to README.md.
stress: deps
	$(S)/stress.sh long
	$(S)/tap-summary.sh $(B)/runs/stress-long

# The selftests come from the series tree and run on any kernel image.
initramfs: $(B)/initramfs.cpio
$(B)/initramfs.cpio: $(B)/bzImage FORCE
	rm -rf $(B)/kselftest
	$(MAKE) -s -C $(TREE) O=$(abspath $(OBJ)/series) kselftest-install \
		TARGETS="$(SELFTESTS)" INSTALL_PATH=$(abspath $(B)/kselftest) >/dev/null
	$(S)/mkinitramfs.sh $(B)/kselftest $@

# make selftest KERNEL=<image> CPU=<qemu cpu model>
selftest: $(B)/initramfs.cpio
	$(S)/run-qemu.sh $(KERNEL) $< $(CPU) $(B)/runs/$(notdir $(KERNEL))-$(CPU)
	$(S)/tap-summary.sh $(B)/runs/$(notdir $(KERNEL))-$(CPU)

# Stock 6.12's own pkeys tests, built unmodified from build/stock, on
# the series and on stock: fails when the series does worse.
conformance: deps $(B)/bzImage $(B)/stock-bzImage
	$(S)/conformance.sh $(B)/bzImage $(B)/stock-bzImage

# The pkeys ABI, series against stock: the same random operation
# sequences on both kernels, logs compared (scripts/difftest/README.md).
# 'make test' runs a smaller size.
DIFFTEST_SEEDS ?= 20
DIFFTEST_OPS ?= 5000
difftest: deps $(B)/bzImage $(B)/stock-bzImage
	$(S)/difftest/difftest.sh $(DIFFTEST_SEEDS) $(DIFFTEST_OPS)

# PKRU survives suspend to RAM and resume.
check-resume: $(B)/suspend-bzImage $(B)/initramfs.cpio
	$(S)/check-resume.sh $^

# Benchmarks, see bench/README.md: 'make bench' writes bench/results/;
# 'make bench-smoke' (part of 'make test') runs each program briefly.
.PHONY: bench bench-smoke
bench: deps $(B)/bzImage $(B)/stock-bzImage
	$(S)/bench.sh

bench-smoke:
	$(S)/bench-smoke.sh

clean:
	rm -rf $(OBJ) $(B)/runs $(B)/kselftest $(B)/*bzImage $(B)/initramfs.cpio \
		$(B)/conformance $(B)/difftest

FORCE:
