#!/bin/bash
# Configure and build one kernel out of tree, with ccache.
#   build-kernel.sh SRC OBJ ARCH IMAGE FRAGMENT...
# The config is allnoconfig plus the fragments; it is redone only when
# the fragments change.  Extra make arguments come from $KMAKEFLAGS
# (e.g. KMAKEFLAGS="W=1 C=1").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"
src=$1 obj=$2 arch=$3 image=$4
shift 4

export CCACHE_BASEDIR=$top KBUILD_BUILD_TIMESTAMP=$MPK_BASE_DATE
export KBUILD_BUILD_USER=mpk KBUILD_BUILD_HOST=mpk
KMAKEFLAGS=${KMAKEFLAGS:-}
kmake() {
	# shellcheck disable=SC2086
	make -s -C "$src" O="$obj" ARCH="$arch" CC="ccache gcc" \
		-j"$(nproc)" $KMAKEFLAGS "$@"
}

# Kconfig drops what it cannot satisfy without a word: say it instead.
# The last fragment to mention a symbol wins.  A symbol the tree does
# not define at all (the pkeys option on the base) is fine.
check_config() {
	local sym want
	while read -r sym want; do
		if [[ $want == y ]]; then
			grep -qx "$sym=y" "$obj/.config" && continue
			grep -rqs --include='Kconfig*' -x "config ${sym#CONFIG_}" "$src" || continue
			die "$sym=y from the fragments did not stick in $obj/.config"
		else
			! grep -qx "$sym=y" "$obj/.config" || die "$sym is still set in $obj/.config"
		fi
	done < <(awk '
		/^CONFIG_.*=y$/ { split($0, kv, "="); want[kv[1]] = "y" }
		/^# CONFIG_.* is not set$/ { want[$2] = "n" }
		END { for (sym in want) print sym, want[sym] }' "$obj/mpk.fragment")
}

# Redo the config when the fragments change, and when a Kconfig file
# does (a patch that adds an option must get the fragment's value, not
# the option's default).
configure() {
	mkdir -p "$obj"
	cat "$@" > "$obj/mpk.fragment.new"
	if [[ -f $obj/.config ]] && cmp -s "$obj/mpk.fragment.new" "$obj/mpk.fragment" &&
	   [[ -z $(find "$src" -name 'Kconfig*' -newer "$obj/.config" -print -quit) ]]; then
		rm "$obj/mpk.fragment.new"
		return
	fi
	mv "$obj/mpk.fragment.new" "$obj/mpk.fragment"
	kmake KCONFIG_ALLCONFIG="$obj/mpk.fragment" allnoconfig >/dev/null
	check_config
}

start=$SECONDS
configure "$@"
kmake bzImage
cp "$obj/arch/x86/boot/bzImage" "$image"
echo "build-kernel: $image ($((SECONDS - start)) s)"
