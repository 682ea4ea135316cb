#!/bin/bash
# Is the series bisectable?  Build the base and then every commit of
# build/linux's series in each kernel configuration with W=1, boot the
# x86_64 image of each commit with the selftests, and print one line per
# commit: built or not, warnings it added (in files the series touches,
# not seen at an earlier commit), booted with a clean kernel log or not.
#   make check-bisect [CONFIGS="series nopkeys i386"]   (default: all three)
# The Makefile passes each configuration's fragments in SERIES_CONFIG,
# NOPKEYS_CONFIG and I386_CONFIG.  Not part of 'make test': from cold
# this is several kernel builds per commit.  Logs and warning lists go
# to build/bisect/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"
tree=$BUILD/linux out=$BUILD/bisect
src=$out/src

declare -A arch=([series]=x86_64 [nopkeys]=x86_64 [i386]=i386)
declare -A fragments=(
	[series]=${SERIES_CONFIG:?run as make check-bisect}
	[nopkeys]=${NOPKEYS_CONFIG:?run as make check-bisect}
	[i386]=${I386_CONFIG:?run as make check-bisect}
)
configs=("$@")
((${#configs[@]})) || configs=(series nopkeys i386)

[[ -f $BUILD/initramfs.cpio ]] || die "run 'make initramfs' first"
mkdir -p "$out/logs"
[[ -d $src ]] || git -C "$tree" worktree add -q --detach "$src" base

# The warnings of a build log, without line numbers, so that a patch
# that moves code does not count as adding the warnings below it.
warnings_of() {
	grep -E ': warning: ' "$1" | sed -E 's/:[0-9]+(:[0-9]+)?:/:/' | sort -u || true
}

# A commit that changes nothing the kernel build reads (documentation,
# MAINTAINERS, selftests) need not be built again.
kernel_unchanged() {
	[[ $1 != base ]] && ! git -C "$src" diff --name-only "$1^" "$1" |
		grep -Ev '^(Documentation/|MAINTAINERS$|tools/)' -q
}

# Before the series adds its Kconfig option, every configuration is a
# configuration without protection keys: "nopkeys" is then "series".
has_pkeys_option() {
	grep -q '^config X86_INTEL_MEMORY_PROTECTION_KEYS$' "$src/arch/x86/Kconfig"
}

# The warnings a build of N in CONFIG is compared with: every warning seen
# in the same configuration at earlier commits (an incremental build
# only repeats the warnings of the files it recompiles), and for
# "nopkeys" also those of "series" at the same commit (what turning the
# option off adds).
baseline_of() {
	local n=$1 cfg=$2 i
	for ((i = 0; i < n; i++)); do
		cat "$out/logs/$i-$cfg.warnings" 2>/dev/null || true
	done
	[[ $cfg != nopkeys ]] || cat "$out/logs/$n-series.warnings" 2>/dev/null || true
}

# Only warnings in files the series has touched up to commit $1 count:
# W=1 also reports what upstream code in rebuilt files has always had.
in_touched_files() {
	grep -F -f <(git -C "$src" diff --name-only base "$1") || true
}

# build N CONFIG: "ok", "ok +K" (K new warnings) or "FAILED"
build() {
	local n=$1 cfg=$2 log=$out/logs/$1-$2
	# shellcheck disable=SC2086
	if ! KMAKEFLAGS="W=1" "$top/scripts/build-kernel.sh" "$src" \
		"$out/obj-$cfg" "${arch[$cfg]}" "$out/$cfg-bzImage" \
		${fragments[$cfg]} > "$log.log" 2>&1; then
		echo FAILED
		return
	fi
	warnings_of "$log.log" > "$log.warnings"
	if [[ $n == 0 ]]; then
		echo ok
		return
	fi
	comm -13 <(baseline_of "$n" "$cfg" | sort -u) "$log.warnings" |
		in_touched_files HEAD > "$log.new"
	if [[ -s $log.new ]]; then
		echo "ok +$(wc -l < "$log.new")"
	else
		echo ok
	fi
}

# boot N: the x86_64 image of commit N comes up, runs the selftests (their
# results before the syscalls exist do not matter) and powers off with
# a clean kernel log.
boot() {
	local run=$out/runs/$1
	"$top/scripts/run-qemu.sh" "$out/series-bzImage" "$BUILD/initramfs.cpio" max "$run"
	if "$top/scripts/tap-summary.sh" "$run" 2>/dev/null |
		grep -Eq '^not ok - .*: (guest|kernel log)'; then
		echo FAILED
	else
		echo ok
	fi
}

n=0 bad=0
printf '%-3s %-62s' '#' 'commit'
printf ' %-10s' "${configs[@]}" boot
echo
for commit in base $(git -C "$tree" rev-list --reverse base..mpk); do
	git -C "$src" checkout -q --detach "$commit"
	line=$(printf '%-3s %-62.62s' "$n" "$(git -C "$src" log -1 --format=%s)")
	booted=-
	for cfg in "${configs[@]}"; do
		if kernel_unchanged "$commit"; then
			result=same
		elif [[ $cfg == nopkeys ]] && ! has_pkeys_option; then
			result=no-option
		else
			result=$(build "$n" "$cfg")
		fi
		[[ $result == ok || $result == same || $result == no-option ]] || bad=1
		line+=$(printf ' %-10s' "$result")
		[[ $cfg == series && $result == ok* ]] && booted=$(boot "$n")
	done
	[[ $booted == ok || $booted == - ]] || bad=1
	line+=" $booted"
	echo "$line"
	n=$((n + 1))
done
echo "new warnings: $out/logs/*.new; build logs: $out/logs/*.log"
exit $bad
