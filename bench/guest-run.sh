#!/bin/sh
# Runs in the guest (busybox sh): each benchmark program named, its
# "metric value" lines on stdout.  "#" lines are notes for the host.
#   guest-run.sh --full|--smoke PROGRAM...
mode=$1
shift
echo "# kernel $(uname -r)"
echo "# thp $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
for prog in "$@"; do
	"/opt/bench/$prog" "$mode" || echo "# bench: $prog failed with exit code $?"
done
echo "# bench: done"
