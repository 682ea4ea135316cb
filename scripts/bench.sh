#!/bin/bash
# 'make bench': boot the series kernel and stock 6.12 with the benchmark
# guest, with -icount (figures in guest instructions, repeatable) and
# without (guest wall clock), and write bench/results/.
# Part 1 (toggle) runs on the series kernel only; part 2 (kcost) on both,
# on the series also with process-wide key rights in use elsewhere and
# here; part 3 (sync) on both (stock: the signal method only); the
# strict-key pkey_free() walk (strictfree) on the series, with -icount.
# The 4-thread toggle runs only without -icount (see bench/toggle.c).
# $BENCH_SERIES_KERNEL: another series image than build/bzImage.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
work=build/bench
results=bench/results
start=$SECONDS

scripts/bench-initramfs.sh $work/initramfs.cpio

# run NAME KERNEL icount|no-icount PROGRAM...
run() {
	scripts/bench-run.sh "$2" $work/initramfs.cpio "$work/runs/$1" "$3" --full "${@:4}"
}
series_kernel=${BENCH_SERIES_KERNEL:-build/bzImage}
# Plain kcost first: the other two turn the kernel's hooks for process
# rights on until the guest powers off.
series_kcost="kcost kcost:--process-rights=elsewhere kcost:--process-rights=here"
# Under -icount the figures do not depend on host load: run both at once.
# shellcheck disable=SC2086
run series-icount "$series_kernel" icount toggle $series_kcost sync strictfree & series=$!
run stock-icount build/stock-bzImage icount kcost sync & stock=$!
wait $series
wait $stock
# shellcheck disable=SC2086
run series-no-icount "$series_kernel" no-icount toggle toggle:--readers $series_kcost sync
run stock-no-icount build/stock-bzImage no-icount kcost sync

mkdir -p $results
BENCH_SERIES_KERNEL=$series_kernel scripts/bench-report.py $results $work/runs/{series,stock}-icount/tap.log \
	$work/runs/{series,stock}-no-icount/tap.log
gnuplot -e "data='$results/toggle.dat'; out='$results/toggle.png'" bench/toggle.gp
gnuplot -e "data='$results/sync.dat'; out='$results/sync.png'" bench/sync.gp
echo "bench: $results/results.md ($((SECONDS - start)) s)"
