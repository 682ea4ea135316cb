#!/bin/bash
# Build the benchmark programs static (the guest has only busybox) and
# put them, with the guest's runner, in OUTDIR, which the initramfs
# carries as /opt/bench.
#   bench-build.sh OUTDIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
src=$top/bench

mkdir -p "$out"
for prog in toggle kcost sync strictfree; do
	gcc -O2 -Wall -Wextra -Werror -static -pthread \
		-o "$out/$prog" "$src/$prog.c" "$src/bench.c"
done
cp "$src/guest-run.sh" "$out/"
