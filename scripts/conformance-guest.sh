#!/bin/busybox sh
# Guest side of 'make conformance' (/opt/stock-tests/run.sh): run each
# stock pkeys test binary beside it between marker lines that
# scripts/conformance-report.py parses:
#   # conformance: begin NAME
#   ...what NAME prints...
#   # conformance: end NAME status S
# S is the exit status of the process started, or "timeout".  Each
# binary runs in its own process group, and its run ends when no
# process of the group is left (protection_keys goes on in a forked
# child: its first process exits 0 in the first iteration), or after
# SECS seconds, when the group is killed.
#   run.sh SECS
secs=$1
dir=$(dirname "$0")
# protection_keys reads /etc/passwd; the guest has no /etc.
mkdir -p /etc
echo 'root:x:0:0:root:/root:/bin/sh' > /etc/passwd

for bin in protection_keys_64 protection_keys_32 pkey_sighandler_tests_64 \
	pkey_sighandler_tests_32 mseal_test_64; do
	echo "# conformance: begin $bin"
	# Not a process group leader in the background: setsid does not
	# fork, and the binary's pid is its process group's id.
	setsid "$dir/$bin" </dev/null 2>&1 &
	pid=$!
	rm -f /tmp/killed
	(sleep "$secs"; touch /tmp/killed; kill -KILL -$pid) &
	watchdog=$!
	wait $pid
	status=$?
	while kill -0 -$pid 2>/dev/null && [ ! -e /tmp/killed ]; do
		sleep 0.2
	done
	kill $watchdog 2>/dev/null
	[ ! -e /tmp/killed ] || status=timeout
	echo "# conformance: end $bin status $status"
done
