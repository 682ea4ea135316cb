#!/bin/bash
# Everything CI checks ('make test'): the series is in order, the three
# kernels build, and the selftests (64- and 32-bit binaries) pass on a
# CPU model with PKU and skip cleanly on one without, or with PKU
# turned off by "nopku".
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
step bench-smoke;     m bench-smoke

# selftests NAME CPU [KERNEL_ARGS]
runs=()
selftests() {
	local run=build/runs/bzImage-$1
	step "selftests on -cpu $2 ${3:-}"
	KERNEL_ARGS=${3:-} scripts/run-qemu.sh build/bzImage build/initramfs.cpio "$2" "$run"
	runs+=("$run")
}
selftests max max
selftests max-nopku max nopku
selftests qemu64 qemu64
step "stress, short, on the debug kernel"
scripts/stress.sh short
runs+=(build/runs/stress-short)
step summary
scripts/tap-summary.sh "${runs[@]}"
