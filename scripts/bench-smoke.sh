#!/bin/bash
# The benchmarks' check in 'make test': build the programs and run each
# once, briefly (--smoke), on the series kernel without -icount.  It
# checks that they run to the end, never what they measure.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
work=build/bench
[[ -f build/bzImage ]] || { echo "bench-smoke: no build/bzImage, run 'make kernel'" >&2; exit 1; }

scripts/bench-initramfs.sh $work/initramfs.cpio
scripts/bench-run.sh build/bzImage $work/initramfs.cpio $work/runs/smoke \
	no-icount --smoke toggle toggle:--readers kcost kcost:--process-rights=here sync strictfree
