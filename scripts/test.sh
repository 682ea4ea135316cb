#!/bin/bash
# Everything CI checks ('make test'): the series is in order, the
# kernels build, the selftests (64- and 32-bit binaries) pass on CPU
# models with PKU (max, Icelake-Server, qemu64,+pku: PKU without XSAVE)
# and skip cleanly on one without, or with PKU turned off by "nopku",
# stock's own pkeys tests do as well on the series as on stock
# ('make conformance') and the differential tester finds no
# undocumented difference ('make difftest', smaller).  The closing line
# counts all three.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
m() { make --no-print-directory "$@"; }
# 'make difftest' is 20 seeds x 5000 ops (x 2 word sizes); here smaller.
difftest_seeds=6 difftest_ops=3000
step() { echo "== $* ($((SECONDS))s)"; }

step tree;            m tree
step check-series;    m check-series
step kernel;          m kernel
step stock;           m stock
step kernel-nopkeys;  m kernel-nopkeys
step kernel-i386;     m kernel-i386
step initramfs;       m initramfs
step bench-smoke;     m bench-smoke

# selftests NAME CPU [KERNEL_ARGS]
runs=()
selftests() {
	local run=build/runs/bzImage-$1
	step "selftests on -cpu $2 ${3:-}"
	# A named model warns of each feature TCG lacks: not news.
	KERNEL_ARGS=${3:-} scripts/run-qemu.sh build/bzImage build/initramfs.cpio "$2" "$run" \
		2> >(grep -v "TCG doesn't support requested feature" >&2)
	runs+=("$run")
}
selftests max max
selftests max-nopku max nopku
selftests qemu64 qemu64
selftests qemu64-pku qemu64,+pku
selftests icelake Icelake-Server
step conformance
# Its verdict is the closing line of its table, counted below.
rm -f build/conformance/table.md
m conformance || true
step "difftest, $difftest_seeds seeds x $difftest_ops ops"
# Its verdict is the closing line of build/difftest/summary.txt, counted
# below; a kernel log with a BUG or a guest that did not finish shows
# only in its exit status.
rm -f build/difftest/summary.txt
difftest_rc=0
m difftest DIFFTEST_SEEDS=$difftest_seeds DIFFTEST_OPS=$difftest_ops || difftest_rc=$?
step "stress, short, on the debug kernel"
scripts/stress.sh short
runs+=(build/runs/stress-short)
step summary
scripts/tap-summary.sh "${runs[@]}" > build/summary.txt || true
sed '$d' build/summary.txt
selftests=$(tail -n1 build/summary.txt)
if [[ -f build/conformance/table.md ]]; then
	conformance=$(tail -n1 build/conformance/table.md)
else
	echo "not ok - conformance: no build/conformance/table.md"
	conformance="0 passed, 1 failed, 0 skipped"
fi
difftest=$(tail -n1 build/difftest/summary.txt 2>/dev/null || true)
if [[ ! $difftest =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
	echo "not ok - difftest: no closing line in build/difftest/summary.txt"
	difftest="0 passed, 1 failed, 0 skipped"
elif (( difftest_rc != 0 && BASH_REMATCH[2] == 0 )); then
	echo "not ok - difftest: exit status $difftest_rc (kernel log or guest trouble)"
	difftest="${BASH_REMATCH[1]} passed, 1 failed, 0 skipped"
else
	difftest="$difftest, 0 skipped"
fi
echo "# selftests and stress: $selftests"
echo "# conformance: $conformance"
echo "# difftest: $difftest"
printf '%s\n' "$selftests" "$conformance" "$difftest" | awk '
	{ p += $1; f += $3; s += $5 }
	END { printf "%d passed, %d failed, %d skipped\n", p, f, s; exit f > 0 }'
