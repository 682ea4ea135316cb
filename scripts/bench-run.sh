#!/bin/bash
# Boot one kernel with the benchmark guest and check that every
# program ran to its end.  The figures are left in OUTDIR/tap.log.
#   bench-run.sh KERNEL INITRD OUTDIR icount|no-icount --full|--smoke PROGRAM[:OPTION]...
# $BENCH_TIMEOUT (seconds, default 1800) kills a hung guest.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kernel=$1 initrd=$2 out=$3 clock=$4 mode=$5
shift 5

# shift=0: the guest clock advances 1 ns per guest instruction, so the
# figures do not depend on how busy the host is.
extra=
[[ $clock == icount ]] && extra="-icount shift=0"
# The 1 GiB region, its page tables and the readers' stacks fit in 3 GiB.
mem=3072
[[ $mode == --smoke ]] && mem=1024

start=$SECONDS
QEMU_EXTRA=$extra QEMU_MEM=$mem QEMU_TIMEOUT=${BENCH_TIMEOUT:-1800} \
	MPK_RUN="/opt/bench/guest-run.sh $mode $*" \
	"$top/scripts/run-qemu.sh" "$kernel" "$initrd" max "$out"
echo "bench-run: $(basename "$kernel") $clock $mode: $((SECONDS - start)) s"

if grep -q '^# bench: .* failed' "$out/tap.log" ||
   ! grep -q '^# bench: done' "$out/tap.log"; then
	echo "bench-run: $out: the guest did not finish its benchmarks" >&2
	tail -n 20 "$out/tap.log" "$out/console.log" >&2
	exit 1
fi
