#!/bin/bash
# Fail when the series is not in order:
#  - a patch of patches/ does not apply to the base,
#  - patches/ or a mirror folder is out of date with build/linux,
#  - checkpatch.pl --strict reports anything on a patch,
#  - a patch repeats a block of the stock pkeys code that base/ removes
#    (scripts/check-origin.py; its report goes to build/check-origin.txt).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"
tree=$BUILD/linux
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[[ -d $tree/.git ]] || die "no tree: run 'make tree' first"
mapfile -t patches < <(find "$top/patches" -name '[0-9][0-9][0-9][0-9]-*.patch' \
	! -name 0000-cover-letter.patch 2>/dev/null | sort)

# Apply every patch to the base in a scratch index: no checkout needed.
check_applies() {
	local p
	export GIT_INDEX_FILE=$tmp/index
	git -C "$tree" read-tree base
	for p in "${patches[@]}"; do
		git -C "$tree" apply --cached "$p" 2>"$tmp/apply.log" || {
			cat "$tmp/apply.log" >&2
			die "$(basename "$p") does not apply to the base"
		}
	done
	[[ $(git -C "$tree" write-tree) == $(git -C "$tree" rev-parse 'HEAD^{tree}') ]] ||
		die "build/linux has changes that patches/ lacks: run 'make series'"
	unset GIT_INDEX_FILE
}

check_up_to_date() {
	local d
	"$top/scripts/series.sh" "$tmp/out"
	for d in patches arch-x86 mm include-uapi tools-testing-selftests Documentation; do
		mkdir -p "$top/$d"
		diff -r "$tmp/out/$d" "$top/$d" >"$tmp/diff" 2>&1 || {
			head -40 "$tmp/diff" >&2
			die "$d/ is out of date with build/linux: run 'make series'"
		}
	done
	cmp -s "$tmp/out/MAINTAINERS-snippet" "$top/MAINTAINERS-snippet" ||
		die "MAINTAINERS-snippet is out of date with build/linux: run 'make series'"
}

check_style() {
	[[ ${#patches[@]} -gt 0 ]] || return 0
	# checkpatch's SPDX check runs python3 with Debian's ply module.
	# PRINTK_WITHOUT_KERN_LEVEL: the oops printers (__show_regs())
	# print with the level their caller passes as "%s", log_lvl, which
	# checkpatch cannot see.
	(cd "$tree" && PATH=/usr/bin:$PATH scripts/checkpatch.pl --strict --quiet --no-summary \
		--ignore PRINTK_WITHOUT_KERN_LEVEL \
		--show-types "${patches[@]}") >"$tmp/checkpatch" 2>&1 || true
	if [[ -s $tmp/checkpatch ]]; then
		cat "$tmp/checkpatch" >&2
		die "checkpatch.pl --strict is not clean"
	fi
}

check_origin() {
	"$top/scripts/check-origin.py" "$top" "$BUILD/stock" >"$BUILD/check-origin.txt" || {
		cat "$BUILD/check-origin.txt" >&2
		die "a patch repeats stock code"
	}
}

[[ -n $(git -C "$tree" status --porcelain --untracked-files=no) ]] &&
	die "build/linux has uncommitted changes: commit them, then 'make series'"
check_applies
check_up_to_date
check_style
check_origin
echo "check-series: ${#patches[@]} patches apply to the base, are up to date and" \
	"checkpatch --strict clean; $(tail -1 "$BUILD/check-origin.txt" | sed 's/^check-origin: //')"
