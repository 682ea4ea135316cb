#!/bin/bash
# Robustness run on the debug kernel (series config + configs/debug.config),
# all in one guest (scripts/stress-guest.sh): the kselftests, trinity on
# the pkey and memory calls (64- and 32-bit), scripts/pkey-fuzz.c on the
# process-wide key rights calls trinity does not know (64- and 32-bit),
# stress-ng --pkey, the pkey_stress selftest for longer, and a kmemleak
# scan.  Gives no
# verdict: the caller runs scripts/tap-summary.sh on build/runs/stress-MODE.
#   stress.sh short   a few minutes ('make test')
#   stress.sh long    'make stress': $STRESS_CALLS trinity calls per bit
#                     width (default 500000), stressors for $STRESS_SECS
#                     seconds each (default 300); figures into README.md
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. "$top/scripts/common.sh"

mode=${1:-}
case $mode in
short) calls=2000 secs=5 ;;
long) calls=${STRESS_CALLS:-500000} secs=${STRESS_SECS:-300} ;;
*) die "usage: stress.sh short|long" ;;
esac
run=$BUILD/runs/stress-$mode
payload=$BUILD/stress
initrd=$BUILD/stress-initramfs.cpio
# KASAN shadow memory and the tools' libraries need more than the default.
guest_mem=2048
# Hang limit: boot and kselftests, trinity at no fewer than
# min_call_rate calls a second, five stressors of $secs seconds
# (pkey_fuzz_64, pkey_fuzz_32, stress-ng, pkey_stress_64, pkey_stress_32).
boot_and_selftests=900
min_call_rate=50
stressors=5
timeout=$((boot_and_selftests + 2 * calls / min_call_rate + stressors * secs * 2))
# The first line of each report the kernel log can carry.
report_start='(BUG|WARNING): |Oops|UBSAN: |kmemleak report: unreferenced object|INFO: task .* blocked|possible (circular|recursive) locking'
readme_begin='<!-- stress figures: begin -->'
readme_end='<!-- stress figures: end -->'

# pkey_fuzz_64 and pkey_fuzz_32, static like the selftests.
build_fuzzer() {
	local bits
	for bits in 64 32; do
		gcc -m$bits -O2 -g -Wall -Wextra -Wno-unused-parameter -Werror -pthread \
			-static -o "$payload/pkey_fuzz_$bits" scripts/pkey-fuzz.c
	done
}

build_guest() {
	make --no-print-directory kernel-debug initramfs
	scripts/guest-tools.sh "$payload" /usr/bin/trinity /usr/bin/stress-ng
	build_fuzzer
	cp scripts/stress-guest.sh "$payload/run.sh"
	scripts/mkinitramfs.sh "$BUILD/kselftest" "$initrd" "$payload"
}

# Sum of one figure over the pkey_stress lines "(N checks, M failed)".
sum_checks() {
	sed -n 's/.*(\([0-9]*\) checks, [0-9]* failed)$/\1/p' "$run/tap.txt" |
		awk '{ s += $1 } END { print s + 0 }'
}

trinity_figure() {
	sed -n "s/^# trinity $1-bit: \\([0-9]*\\) calls in \\([0-9]*\\) s.*/\\1 calls in \\2 s/p" \
		"$run/tap.txt"
}

fuzz_figure() {
	sed -n "s/^# pkey_fuzz $1-bit: //p" "$run/tap.txt"
}

pkey_call_counts() {
	sed -n "s/^# ok [0-9]* trinity $1-bit issued \\(pkey_[a-z]*\\) \\([0-9]*\\) times/\\1 \\2/p" \
		"$run/tap.txt" | paste -sd, - | sed 's/,/, /g'
}

# The kernel's reports, one line each without the timestamp.
report_lines() {
	tr -d '\r' < "$run/console.log" | grep -E "$report_start" |
		sed 's/^\[[ 0-9.]*\] //; s/CPU: [0-9]* PID: [0-9]* //' | sort | uniq -c |
		awk '{ $1 = $1 "x"; print }' | paste -sd';' - | sed 's/;/; /g'
}

write_figures() {
	local reports failed leaks
	reports=$(tr -d '\r' < "$run/console.log" | grep -cE "$report_start" || true)
	failed=$(grep -cE '^(# )?not ok' "$run/tap.txt" || true)
	leaks=$(sed -n 's/^# .*kmemleak: \([0-9]*\) unreferenced objects/\1/p' "$run/tap.txt")
	cat <<-FIGURES
	| figure | \`make stress\` ($mode) |
	|---|---|
	| settings | STRESS_CALLS=$calls per bit width, STRESS_SECS=$secs, $(date -u +%F) |
	| trinity, 64-bit | $(trinity_figure 64) ($(pkey_call_counts 64)) |
	| trinity, 32-bit | $(trinity_figure 32) ($(pkey_call_counts 32)) |
	| pkey_fuzz, 64-bit | $(fuzz_figure 64) |
	| pkey_fuzz, 32-bit | $(fuzz_figure 32) |
	| stress-ng --pkey, pkey_stress_64, pkey_stress_32 | $secs s each |
	| pkey_stress invariant checks | $(sum_checks) |
	| guest run, boot to power-off | $elapsed s |
	| kernel reports found | $reports$(report_lines | sed 's/^./: &/') |
	| kmemleak unreferenced objects | ${leaks:-not scanned} |
	| TAP results not ok | $failed |
	FIGURES
}

update_readme() {
	grep -qF "$readme_begin" README.md || die "README.md has no '$readme_begin' line"
	awk -v b="$readme_begin" -v e="$readme_end" -v f="$run/figures.md" '
		$0 == b { print; while ((getline l < f) > 0) print l; skip = 1; next }
		$0 == e { skip = 0 }
		!skip' README.md > README.md.new
	mv README.md.new README.md
}

build_guest
start=$SECONDS
QEMU_MEM=$guest_mem QEMU_TIMEOUT=$timeout MPK_RUN="/opt/stress/run.sh $calls $secs" \
	scripts/run-qemu.sh "$BUILD/debug-bzImage" "$initrd" max "$run"
elapsed=$((SECONDS - start))
# The serial port ends lines with CR.
tr -d '\r' < "$run/tap.log" > "$run/tap.txt"
write_figures > "$run/figures.md"
cat "$run/figures.md"
[[ $mode != long ]] || update_readme
