#!/bin/bash
# Differential test of the pkeys ABI: the same deterministic random
# operation sequences (scripts/difftest/pkey_difftest.c) on the series
# kernel and on stock 6.12, 64- and 32-bit, and a line-by-line
# comparison of the logs.  Differences listed in scripts/difftest/deviations
# are reported as documented; any other one fails.
#   difftest.sh [SEEDS] [NOPS]
# SEEDS: a count N (seeds 1..N, default 20) or a comma-separated list;
# NOPS: operations per run (default 5000).
# Environment: SERIES_KERNEL, STOCK_KERNEL (images, default build/bzImage
# and build/stock-bzImage), DIFFTEST_CPU (QEMU CPU model, default max),
# DIFFTEST_RUN_TIMEOUT (seconds per tester run in the guest, default
# 30 + NOPS/100), DIFFTEST_QEMU_TIMEOUT (seconds per guest, default from
# NOPS and SEEDS, with room for two runs that hit their timeout),
# DIFFTEST_COMPARE_ONLY=1 (compare the logs already in build/difftest).
# Logs: build/difftest/<series|stock>/<bits>-<seed>.log; diffs:
# build/difftest/diff/<bits>-<seed>.diff; the summary, closing line
# last: build/difftest/summary.txt.  Exit status 1 on any
# undocumented difference, a tester that did not finish cleanly or a
# kernel log with a BUG/WARNING.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
work=$top/build/difftest
seeds_arg=${1:-20}
nops=${2:-5000}
cpu=${DIFFTEST_CPU:-max}
per_run=${DIFFTEST_RUN_TIMEOUT:-$((30 + nops / 100))}
series_img=${SERIES_KERNEL:-$top/build/bzImage}
stock_img=${STOCK_KERNEL:-$top/build/stock-bzImage}
deviations=$here/deviations
kernel_trouble='BUG:|WARNING:|Oops|Kernel panic|general protection fault|KASAN|UBSAN|Call Trace:'

if [[ $seeds_arg =~ ^[0-9]+$ ]]; then
	seeds=$(seq 1 "$seeds_arg" | tr '\n' ' ')
else
	seeds=${seeds_arg//,/ }
fi
nseeds=$(wc -w <<<"$seeds")
mkdir -p "$work"
rm -f "$work/summary.txt"

run_kernel() {
	local name=$1 img=$2 out=$work/runs/$1 start=$SECONDS
	# About 1 s per 2500 operations under TCG: allow 10 times that.
	local timeout=${DIFFTEST_QEMU_TIMEOUT:-$((120 + 2 * nseeds * (nops / 250 + 5) + 2 * per_run))}

	# A snapshot: build/bzImage may be rebuilt while the guest runs.
	cp "$img" "$work/$name-bzImage"
	QEMU_TIMEOUT=$timeout MPK_RUN="/opt/difftest/guest.sh $per_run $nops $seeds" \
		"$top/scripts/run-qemu.sh" "$work/$name-bzImage" "$work/initramfs.cpio" \
		"$cpu" "$out"
	echo "difftest: $name ($(basename "$img"), -cpu $cpu): guest ran $((SECONDS - start)) s, qemu status $(cat "$out/status")"
	rm -rf "${work:?}/$name"
	mkdir -p "$work/$name"
	# Each log travels gzipped and base64-encoded between two markers.
	tr -d '\r' < "$out/tap.log" | awk -v dir="$work/$name" '
		/^# difftest: log .* begin$/ { f = dir "/" $4 ".b64"; printf "" > f; next }
		/^# difftest: log .* end$/ { close(f); f = ""; next }
		f != "" { print >> f }
	'
	local b
	for b in "$work/$name"/*.b64; do
		[[ -e $b ]] || continue
		base64 -d "$b" | gunzip > "${b%.b64}.log" 2>/dev/null ||
			echo "# difftest: log truncated (guest killed?)" >> "${b%.b64}.log"
		rm -f "$b"
	done
}

if [[ ${DIFFTEST_COMPARE_ONLY:-0} != 1 ]]; then
	guest=$work/guest/difftest
	rm -rf "$work/guest"
	mkdir -p "$guest"
	gcc -O2 -Wall -Wextra -Werror -static -pthread \
		-o "$guest/pkey_difftest_64" "$here/pkey_difftest.c"
	gcc -m32 -O2 -Wall -Wextra -Werror -static -pthread \
		-o "$guest/pkey_difftest_32" "$here/pkey_difftest.c"
	install -m 755 "$here/guest.sh" "$guest/guest.sh"
	"$top/scripts/mkinitramfs.sh" - "$work/initramfs.cpio" "$guest"
	start=$SECONDS
	run_kernel series "$series_img"
	run_kernel stock "$stock_img"
	echo "difftest: both kernels: $((SECONDS - start)) s"
fi

kernel_fail=0
for k in series stock; do
	c=$work/runs/$k/console.log
	if [[ -f $c ]] && grep -Eq "$kernel_trouble" "$c"; then
		echo "difftest: $k kernel log has trouble:"
		grep -E -A8 "$kernel_trouble" "$c" | head -40 | sed 's/^/#   /'
		kernel_fail=1
	fi
	if ! grep -q '^# difftest: done' "$work/runs/$k/tap.log" 2>/dev/null; then
		echo "difftest: $k guest did not finish (qemu status $(cat "$work/runs/$k/status" 2>/dev/null || echo missing))"
		kernel_fail=1
	fi
done

rm -rf "$work/diff"
mkdir -p "$work/diff"
# report.txt: per run a RUN line, the first difference, and one NEW line
# per undocumented difference that is not just PKRU carried over.
report=$work/report.txt
: > "$report"
for bits in 64 32; do
	for seed in $seeds; do
		a=$work/series/$bits-$seed.log b=$work/stock/$bits-$seed.log
		[[ -f $a ]] || echo "# difftest: no log" > "$a"
		[[ -f $b ]] || echo "# difftest: no log" > "$b"
		diff "$a" "$b" > "$work/diff/$bits-$seed.diff" || true
		[[ -s $work/diff/$bits-$seed.diff ]] || rm -f "$work/diff/$bits-$seed.diff"
		awk -v run="$bits-$seed" -v devfile="$deviations" -f "$here/compare.awk" \
			"$a" "$b" >> "$report"
	done
done
awk -v nseeds="$nseeds" -v nops="$nops" -v kfail="$kernel_fail" \
	-v newfile="$work/new-differences.txt" -f "$here/summary.awk" "$report" |
	tee "$work/summary.txt"
