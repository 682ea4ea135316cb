#!/bin/bash
# Copy Debian programs, with every library they load and the loader,
# into a folder for the busybox-only test guest.  OUT/root keeps their
# paths; the guest links OUT/root/lib and OUT/root/lib64 into its /
# (scripts/stress-guest.sh) and runs them from OUT/root.
#   guest-tools.sh OUT PROGRAM...
set -euo pipefail
out=$1
shift
rm -rf "$out/root"
mkdir -p "$out/root"

copy() {
	install -D -m 755 "$(readlink -f "$1")" "$out/root$1"
}

for prog in "$@"; do
	copy "$prog"
	# ldd prints "name => /path (addr)", and "/path (addr)" for the loader.
	ldd "$prog" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		while read -r lib; do copy "$lib"; done
done
