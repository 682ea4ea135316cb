#!/bin/bash
# Prepare the kernel sources under build/:
#   stock/  the unmodified 6.12 tree: Debian's linux-source-6.12, or the
#           user's own (KERNEL_TARBALL=<file> or KERNEL_SRC=<dir>)
#   linux/  the working git tree: one root commit "base" (stock with the
#           pkeys support removed by base/), tagged "base", then one
#           commit per patch of patches/
# An existing build/linux is never touched: it is where work happens.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"

stock=$BUILD/stock
origin_file=$BUILD/stock.origin
tree=$BUILD/linux
debian_tarball=/usr/src/linux-source-6.12.tar.xz

unpack_stock() {
	local tmp=$stock.tmp tarball=${KERNEL_TARBALL:-$debian_tarball}

	mkdir -p "$BUILD"
	rm -rf "$tmp"
	mkdir -p "$tmp"
	if [[ -n ${KERNEL_SRC:-} ]]; then
		rsync -a --exclude=.git "$KERNEL_SRC/" "$tmp/"
	else
		[[ -f $tarball ]] ||
			die "no kernel source at $tarball (run 'make deps', or set KERNEL_TARBALL or KERNEL_SRC)"
		tar -xf "$tarball" -C "$tmp" --strip-components=1
	fi
	local version
	version=$(make -s -C "$tmp" kernelversion)
	[[ $version == 6.12* ]] || die "need a Linux 6.12 tree, got $version"
	describe_origin > "$origin_file"
	mv "$tmp" "$stock"
}

# Where the stock tree comes from: the Debian package version, or the
# user's tarball or tree.
describe_origin() {
	if [[ -n ${KERNEL_SRC:-} ]]; then
		echo "tree $KERNEL_SRC"
	elif [[ -n ${KERNEL_TARBALL:-} ]]; then
		echo "tarball $KERNEL_TARBALL"
	else
		echo "Debian linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12)"
	fi
}

apply_base() {
	local made_for origin
	made_for=$(cat "$top/base/DEBIAN_VERSION")
	origin=$(cat "$origin_file")
	if ! git apply --check "$top/base/remove-pkeys.patch" 2>"$BUILD/base-apply.log"; then
		cat "$BUILD/base-apply.log" >&2
		die "base/ was made against Debian linux-source-6.12 $made_for" \
		    "and does not apply to $origin. Use that version" \
		    "(apt-get install linux-source-6.12=$made_for) or refresh base/."
	fi
	[[ $origin == *"$made_for" ]] ||
		echo "source: note: base/ was made against $made_for, applying to $origin"
	git apply "$top/base/remove-pkeys.patch"
	xargs -a "$top/base/deleted-files" rm --
}

# The cover letter's text lives in the branch description, where
# 'git format-patch --cover-from-description=subject' finds it.
restore_cover_text() {
	local cover=$top/patches/0000-cover-letter.patch
	[[ -f $cover ]] || return 0
	git config branch.mpk.description "$("$top/scripts/cover-text.sh" "$cover")"
}

make_tree() {
	local tmp=$tree.tmp

	rm -rf "$tmp"
	cp -a "$stock" "$tmp"
	cd "$tmp"
	git init -q -b mpk
	git config gc.auto 0
	git config user.name "$MPK_GIT_NAME"
	git config user.email "$MPK_GIT_EMAIL"
	apply_base
	# Debian's .gitignore ignores everything at the top level (the tree
	# is meant to sit beside debian/ packaging) and drops upstream's
	# exceptions for tracked dot-files; a tree to work in needs neither.
	sed -i -e '/^# Debian packaging:/,$d' .gitignore
	sed -i -e '${/^#$/d}' .gitignore
	printf '# Tracked dot-files\n!.gitignore\n' >> .gitignore
	git add -A -f
	GIT_AUTHOR_DATE=$MPK_BASE_DATE GIT_COMMITTER_DATE=$MPK_BASE_DATE \
		git commit -q -m "base: Linux $(make -s kernelversion) without protection keys" \
		-m "Stock tree from $(cat "$origin_file"), with base/ applied."
	git tag base
	restore_cover_text
	local p
	for p in "$top"/patches/[0-9][0-9][0-9][0-9]-*.patch; do
		[[ -f $p && $p != */0000-cover-letter.patch ]] || continue
		git am -q --committer-date-is-author-date "$p" ||
			die "$(basename "$p") does not apply (git am)"
	done
	cd "$top"
	mv "$tmp" "$tree"
}

[[ -f $stock/Makefile ]] || unpack_stock
if [[ -d $tree/.git ]]; then
	echo "source: $tree exists, left as it is (remove it to recreate)"
else
	make_tree
	echo "source: $tree: base + $(git -C "$tree" rev-list --count base..HEAD) patches"
fi
