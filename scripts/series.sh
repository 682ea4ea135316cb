#!/bin/bash
# Regenerate patches/ and the mirror folders from build/linux.
#   series.sh [OUT]   writes into OUT (default: the repository top)
# patches/   git format-patch of base..HEAD (full blob hashes, so the output
#            does not depend on how many objects a clone has), with a cover letter taken
#            from the branch description (git branch --edit-description)
# mirrors    every file the series creates, under the folder for its
#            part of the tree, plus an index naming the patch that adds it
# MAINTAINERS-snippet  the MAINTAINERS section the series adds
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"
out=${1:-$top}
tree=$BUILD/linux

# tree prefix -> mirror folder (the pkeys trace events are mm/pkeys.c's)
mirrors=(
	"arch/x86/:arch-x86"
	"mm/:mm"
	"include/trace/events/:mm/trace-events"
	"include/uapi/:include-uapi"
	"tools/testing/selftests/:tools-testing-selftests"
	"Documentation/:Documentation"
)

[[ -d $tree/.git ]] || die "no tree: run 'make tree' first"
cd "$tree"

write_patches() {
	local dir=$out/patches n
	rm -rf "$dir"
	mkdir -p "$dir"
	n=$(git rev-list --count base..HEAD)
	[[ $n -gt 0 ]] || return 0
	git format-patch -q --zero-commit --full-index --cover-letter \
		--cover-from-description=subject -o "$dir" base..HEAD
	# git dates the cover letter "now"; the newest patch's date keeps
	# the output stable across runs.
	local date
	date=$(git log -1 --format=%aD HEAD)
	sed -i "s/^Date: .*/Date: $date/" "$dir/0000-cover-letter.patch"
}

mirror_of() {
	local path=$1 m
	for m in "${mirrors[@]}"; do
		if [[ $path == "${m%%:*}"* ]]; then
			echo "${m##*:}/${path#"${m%%:*}"}"
			return
		fi
	done
	die "$path: the series creates a file outside the mirrored folders"
}

# Number of the patch (0001...) whose commit first adds a path.
patch_adding() {
	local commit
	commit=$(git log --diff-filter=A --format=%H base..HEAD -- "$1" | tail -1)
	printf '%04d' "$(git rev-list --count "base..$commit")"
}

write_mirrors() {
	local m path rel folder
	for m in "${mirrors[@]}"; do
		folder=$out/${m##*:}
		rm -rf "$folder"
		mkdir -p "$folder"
		printf '# %s\n\nFiles the series creates under `%s`, as of its last patch:\n\n' \
			"${m##*:}/" "${m%%:*}" > "$folder/INDEX.md"
	done
	git diff --name-only --diff-filter=A base HEAD | while read -r path; do
		rel=$(mirror_of "$path")
		mkdir -p "$out/$(dirname "$rel")"
		git show "HEAD:$path" > "$out/$rel"
		[[ $(git ls-tree HEAD -- "$path") != 100755* ]] || chmod +x "$out/$rel"
		printf -- '- `%s` (patch %s)\n' "$path" "$(patch_adding "$path")" \
			>> "$out/${rel%%/*}/INDEX.md"
	done
	for m in "${mirrors[@]}"; do
		folder=$out/${m##*:}
		[[ $(wc -l < "$folder/INDEX.md") -gt 4 ]] ||
			echo "- none yet" >> "$folder/INDEX.md"
	done
}

write_maintainers_snippet() {
	git show HEAD:MAINTAINERS |
		awk -v title="$MPK_MAINTAINERS_TITLE" '
			$0 == title { on = 1 }
			/^$/ { on = 0 }
			on' > "$out/MAINTAINERS-snippet"
	[[ -s $out/MAINTAINERS-snippet ]] ||
		echo "(the series adds no MAINTAINERS section yet)" > "$out/MAINTAINERS-snippet"
}

write_patches
write_mirrors
write_maintainers_snippet
