#!/bin/busybox sh
# /opt/stress/run.sh in the stress guest (mpk.run, see scripts/stress.sh):
# the kselftests, then trinity fuzzing the pkey calls among the memory
# calls (64-bit, then 32-bit), pkey_fuzz on the process-wide rights calls
# (64-bit, then 32-bit), stress-ng --pkey, pkey_stress for longer, and a
# kmemleak scan whose report goes to the kernel log.  TAP as the
# kselftest runner prints it, one "selftests: stress:" line per step.
#   run.sh CALLS SECONDS    CALLS trinity calls per bit width
#
# Trinity (Debian 1.9+git20230109) cannot fuzz process-wide key rights:
# its syscall tables stop at 450 (64-bit) and 428 (32-bit), so it has no
# pkey_set_process() (463), and its pkey_alloc() sanitiser always passes
# flags 0, never PKEY_ALLOC_PROCESS.  scripts/pkey-fuzz.c covers both,
# with pkey_free, pkey_mprotect, threads, fork, vfork, clone(CLONE_VM)
# and signals around them; trinity keeps the rest.
calls=$1 secs=$2
here=/opt/stress
tools=$here/root
fuzz_dir=/tmp/trinity
# Trinity draws file descriptors from these providers only: the guest
# has no network, perf, DRM or inotify, and trinity stalls retrying them.
fd_kinds=sockets,perf,epoll,eventfd,pseudo,timerfd,drm
pkey_calls="pkey_alloc pkey_free pkey_mprotect"
# Threads of each pkey_fuzz run.
fuzz_threads=8
mem_calls="mmap munmap mprotect mremap madvise"
# 32-bit mmap is old_mmap (arguments in memory); mmap2 is the real one.
mem_calls_32="mmap2"
kmemleak=/sys/kernel/debug/kmemleak
# kmemleak only reports objects older than 5 s, found by two scans.
kmemleak_settle=6
step=0

result() {
	step=$((step + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $step selftests: stress: $2"
	else
		echo "not ok $step selftests: stress: $2"
	fi
}

# inner N CONDITION-STATUS TEXT: one TAP line of a step.
inner() {
	if [ "$2" -eq 0 ]; then
		echo "# ok $1 $3"
	else
		echo "# not ok $1 $3"
		bad=1
	fi
}

prefixed() {
	sed 's/^/# /'
}

# "attempted" count of one syscall in trinity's --stats output.
attempted() {
	sed -n "s/^$1: (attempted:\\([0-9]*\\)\\..*/\\1/p" "$2" | head -1
}

fuzz() {
	bits=$1 log=/tmp/trinity-$1.log
	list=$pkey_calls
	for c in $mem_calls; do list="$list $c"; done
	[ "$bits" = 32 ] && list="$list $mem_calls_32"
	args=""
	for c in $list; do args="$args -c $c"; done
	mkdir -p $fuzz_dir/victims
	echo victim > $fuzz_dir/victims/file
	start=$(date +%s)
	# shellcheck disable=SC2086
	(cd $fuzz_dir && $tools/usr/bin/trinity --dangerous -q -l off -C 2 \
		-N "$calls" -a "$bits" -V $fuzz_dir/victims --stats \
		--disable-fds=$fd_kinds $args) > "$log" 2>&1
	status=$?
	ran=$(sed -n 's/.*Ran \([0-9]*\) syscalls.*/\1/p' "$log")
	echo "# trinity $bits-bit: ${ran:-0} calls in $(($(date +%s) - start)) s"
	grep -A1 -E '^(pkey_|mmap|munmap|mprotect|mremap|madvise)' "$log" | prefixed
	bad=0
	inner 1 $status "trinity $bits-bit exits cleanly (status $status)"
	[ "${ran:-0}" -ge "$calls" ]
	inner 2 $? "trinity $bits-bit ran ${ran:-0} of $calls calls"
	n=3
	for c in $pkey_calls; do
		count=$(attempted "$c" "$log")
		[ "${count:-0}" -gt 0 ]
		inner $n $? "trinity $bits-bit issued $c ${count:-0} times"
		n=$((n + 1))
	done
	result $bad "trinity-$bits"
}

# pkey_fuzz BITS: scripts/pkey-fuzz.c for $secs seconds; its TAP inside.
pkey_fuzz() {
	bits=$1 log=/tmp/pkey_fuzz-$1.log
	start=$(date +%s)
	$here/pkey_fuzz_"$bits" -d "$secs" -t $fuzz_threads > "$log" 2>&1
	status=$?
	# One figure line: "name count" of every call the program counts.
	echo "# pkey_fuzz $bits-bit: $(($(date +%s) - start)) s," \
		"$(sed -n 's/^# \([^:]*\): \([0-9]*\) (.*/\1 \2/p' "$log" | paste -sd, - |
			sed 's/,/, /g')"
	prefixed < "$log"
	result $status "pkey_fuzz_$bits -d $secs"
}

stress_ng() {
	start=$(date +%s)
	(cd /tmp && $tools/usr/bin/stress-ng --pkey 2 --timeout "${secs}s" \
		--metrics-brief) > /tmp/stress-ng.log 2>&1
	status=$?
	prefixed < /tmp/stress-ng.log
	bad=0
	inner 1 $status "stress-ng --pkey 2 for $secs s exits cleanly (status $status, $(($(date +%s) - start)) s)"
	result $bad stress-ng-pkey
}

pkey_stress() {
	/kselftest/protection_keys/pkey_stress_"$1" -d "$secs" > /tmp/pkey_stress.log 2>&1
	status=$?
	prefixed < /tmp/pkey_stress.log
	result $status "pkey_stress_$1 -d $secs"
}

# Found leaks go to the kernel log, where the host looks for reports.
kmemleak_scan() {
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	if [ ! -e $kmemleak ]; then
		echo "ok $((step + 1)) selftests: stress: kmemleak # SKIP no kmemleak"
		step=$((step + 1))
		return
	fi
	sleep $kmemleak_settle
	echo scan > $kmemleak
	echo scan > $kmemleak
	leaks=$(grep -c 'unreferenced object' $kmemleak)
	while read -r line; do
		echo "kmemleak report: $line" > /dev/kmsg
	done < $kmemleak
	bad=0
	[ "$leaks" -eq 0 ]
	inner 1 $? "kmemleak: $leaks unreferenced objects"
	result $bad kmemleak
}

ln -s $tools/lib /lib
ln -s $tools/lib64 /lib64
cd /kselftest && ./run_kselftest.sh
step=$(./run_kselftest.sh -l | wc -l)
fuzz 64
fuzz 32
pkey_fuzz 64
pkey_fuzz 32
stress_ng
pkey_stress 64
pkey_stress 32
kmemleak_scan
