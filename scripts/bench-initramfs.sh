#!/bin/bash
# The benchmark guest: busybox and the programs under /opt/bench, no
# kselftests.
#   bench-initramfs.sh OUT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$1
work=$(dirname "$out")

"$top/scripts/bench-build.sh" "$work/bench"
"$top/scripts/mkinitramfs.sh" - "$out" "$work/bench"
