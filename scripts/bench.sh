#!/bin/bash
# 'make bench': boot the series kernel and stock 6.12 with the benchmark
# guest, with -icount (figures in guest instructions, repeatable) and
# without (guest wall clock), and write bench/results/.
# Part 1 (toggle) runs on the series kernel only; part 2 (kcost) on both.
# The 4-thread toggle runs only without -icount (see bench/toggle.c).
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
# Under -icount the figures do not depend on host load: run both at once.
run series-icount build/bzImage icount toggle kcost & series=$!
run stock-icount build/stock-bzImage icount kcost & stock=$!
wait $series
wait $stock
run series-no-icount build/bzImage no-icount toggle toggle:--readers kcost
run stock-no-icount build/stock-bzImage no-icount kcost

mkdir -p $results
scripts/bench-report.py $results $work/runs/{series,stock}-icount/tap.log \
	$work/runs/{series,stock}-no-icount/tap.log
gnuplot -e "data='$results/toggle.dat'; out='$results/toggle.png'" bench/toggle.gp
echo "bench: $results/results.md ($((SECONDS - start)) s)"
