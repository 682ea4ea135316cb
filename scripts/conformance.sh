#!/bin/bash
# 'make conformance': stock 6.12's own pkeys tests (protection_keys and
# pkey_sighandler_tests, 64- and 32-bit, and mseal_test), built
# unmodified from build/stock, on the series kernel and on stock, both
# on -cpu max.  Each binary is killed after $secs seconds in the guest,
# so a hang fails that binary only.  scripts/conformance-report.py
# prints the table (also build/conformance/table.md) and the closing
# line; exit status 1 when the series does worse than stock.
#   conformance.sh SERIES_IMAGE STOCK_IMAGE
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. "$top/scripts/common.sh"
series=$1 stock=$2
work=$BUILD/conformance
tests=$work/stock-tests
initrd=$work/initramfs.cpio
# Each binary takes a few seconds on stock; all five about 13 s here.
secs=60
nr_binaries=5
boot=60

# guest NAME IMAGE: the tests on IMAGE, into $work/runs/NAME.
guest() {
	local run=$work/runs/$1
	QEMU_TIMEOUT=$((boot + nr_binaries * secs)) MPK_RUN="/opt/stock-tests/run.sh $secs" \
		scripts/run-qemu.sh "$2" "$initrd" max "$run"
	# The guest and kernel log checks of the run, not its verdict.
	scripts/tap-summary.sh "$run" | grep -F "ok - $run: " > "$run/checks" || true
}

rm -rf "$work"
scripts/conformance-build.sh "$tests"
scripts/mkinitramfs.sh - "$initrd" "$tests"
guest stock "$stock"
guest series "$series"
scripts/conformance-report.py "$BUILD/stock/tools/testing/selftests/mm" \
	"$work/runs/stock" "$work/runs/series" "$work/table.md"
