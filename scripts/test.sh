#!/bin/bash
# Everything CI checks ('make test'): the series is in order, the three
# kernels build, and the selftests (64- and 32-bit binaries) pass on a
# CPU model with PKU and skip cleanly on one without.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
m() { make --no-print-directory "$@"; }
step() { echo "== $* ($((SECONDS))s)"; }

step tree;            m tree
step check-series;    m check-series
step kernel;          m kernel
step kernel-nopkeys;  m kernel-nopkeys
step kernel-i386;     m kernel-i386
step initramfs;       m initramfs

runs=()
for cpu in max qemu64; do
	step "selftests on -cpu $cpu"
	run=build/runs/bzImage-$cpu
	scripts/run-qemu.sh build/bzImage build/initramfs.cpio "$cpu" "$run"
	runs+=("$run")
done
step "stress, short, on the debug kernel"
scripts/stress.sh short
runs+=(build/runs/stress-short)
step summary
scripts/tap-summary.sh "${runs[@]}"
