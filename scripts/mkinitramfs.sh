#!/bin/bash
# Build the test guest's initramfs: busybox-static, scripts/guest-init
# as /init, and a kselftest-install tree as /kselftest.
#   mkinitramfs.sh KSELFTEST_DIR OUT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
kselftest=$1 out=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,dev,proc,sys,tmp,root}
cp /bin/busybox "$root/bin/busybox"
cp "$top/scripts/guest-init" "$root/init"
mknod -m 600 "$root/dev/console" c 5 1
cp -a "$kselftest" "$root/kselftest"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$out"
