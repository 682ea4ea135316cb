#!/bin/bash
# Build the test guest's initramfs: busybox-static, scripts/guest-init
# as /init, a kselftest-install tree as /kselftest (empty for "-"), and
# any further directories under /opt (e.g. benchmark programs).
#   mkinitramfs.sh KSELFTEST_DIR|- OUT [DIR...]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kselftest=$1 out=$2
shift 2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,proc,sys,tmp,root,kselftest}
cp /bin/busybox "$root/bin/busybox"
cp "$top/scripts/guest-init" "$root/init"
mknod -m 600 "$root/dev/console" c 5 1
[[ $kselftest == - ]] || cp -a "$kselftest/." "$root/kselftest"
for dir in "$@"; do
	mkdir -p "$root/opt"
	cp -a "$dir" "$root/opt/"
done
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out"
