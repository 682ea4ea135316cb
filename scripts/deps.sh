#!/bin/bash
# Install what the harness needs from Debian's packages, and only what
# is missing, so a second run costs nothing.
set -euo pipefail

packages=(
	bc bison flex cpio rsync xz-utils perl git make gcc gcc-multilib
	libc6-dev-i386 libelf-dev libssl-dev ccache sparse
	busybox-static qemu-system-x86 python3-ply python3-git
	gnuplot-nox trinity stress-ng
)

source_pkg=linux-source-6.12
want_version=$(cat "$(dirname "$0")/../base/DEBIAN_VERSION")

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
# The Debian tarball is only needed when the user brings no tree.
if [[ -z "${KERNEL_SRC:-}${KERNEL_TARBALL:-}" ]] &&
   ! dpkg-query -W -f='${Status}' "$source_pkg" 2>/dev/null | grep -q 'ok installed'; then
	missing+=("$source_pkg")
fi

[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
for i in "${!missing[@]}"; do
	# Prefer the exact kernel source the base was made against; fall
	# back to what the archive has, and let scripts/source.sh judge it.
	if [[ ${missing[$i]} == "$source_pkg" ]] &&
	   apt-cache madison "$source_pkg" | grep -qF " $want_version "; then
		missing[$i]="$source_pkg=$want_version"
	fi
done
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
