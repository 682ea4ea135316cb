#!/bin/bash
# Print the TAP of one or more guest runs (see run-qemu.sh) and close
# with "N passed, M failed, K skipped".  Exit status 1 on any failure.
#   tap-summary.sh RUNDIR...
# Counted per test: every "ok"/"not ok" line one level down (the
# kselftest_harness tests inside each binary).  A binary that fails
# without a failing test inside (it crashed), a guest that hung or did
# not finish, and a kernel log with a BUG, WARNING or oops each count as
# one more failed test.
set -uo pipefail
tail_lines=40
kernel_trouble='BUG:|WARNING:|Oops|Kernel panic|general protection fault|KASAN|UBSAN|unreferenced object|suspected memory leak|possible circular locking|possible recursive locking|INFO: task .* blocked|Call Trace:'

passed=0 failed=0 skipped=0

count_run() {
	local dir=$1 counts
	counts=$(awk '
		/^# (not )?ok [0-9]+ / {
			if ($0 ~ /# [Ss][Kk][Ii][Pp]/) skip++
			else if ($2 == "not") { fail++; binfail++ }
			else pass++
			inner++
			next
		}
		/^(not )?ok [0-9]+ selftests: / {
			if ($1 == "not" && binfail == 0) { fail++; print "# binary failed with no failing test: " $0 > "/dev/stderr" }
			else if (inner == 0 && $0 ~ /# [Ss][Kk][Ii][Pp]/) skip++
			inner = 0; binfail = 0
		}
		END { printf "%d %d %d\n", pass, fail, skip }
	' "$dir/tap.log")
	read -r p f s <<<"$counts"
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

check_guest() {
	local dir=$1 status
	status=$(cat "$dir/status" 2>/dev/null || echo missing)
	if [[ $status == 124 || $status == 137 ]]; then
		echo "not ok - $dir: guest hung, killed by timeout"
	elif ! grep -q '^# mpk-guest: finished' "$dir/tap.log"; then
		echo "not ok - $dir: guest did not finish (qemu status $status)"
	else
		echo "ok - $dir: guest finished"
		passed=$((passed + 1))
		return
	fi
	failed=$((failed + 1))
	echo "# console tail:"
	tail -n "$tail_lines" "$dir/console.log" | sed 's/^/#   /'
}

check_kernel_log() {
	local dir=$1
	if grep -Eq "$kernel_trouble" "$dir/console.log"; then
		echo "not ok - $dir: kernel log clean"
		grep -E -A8 "$kernel_trouble" "$dir/console.log" | head -60 | sed 's/^/#   /'
		failed=$((failed + 1))
	else
		echo "ok - $dir: kernel log clean"
		passed=$((passed + 1))
	fi
}

for dir in "$@"; do
	echo "# ==== $dir"
	touch "$dir/tap.log" "$dir/console.log"
	tr -d '\r' < "$dir/tap.log"
	count_run "$dir"
	check_guest "$dir"
	check_kernel_log "$dir"
done
echo "$passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
