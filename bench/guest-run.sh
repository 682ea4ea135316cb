#!/bin/sh
# Runs in the guest (busybox sh): each benchmark program named, its
# "metric value" lines on stdout.  "#" lines are notes for the host.
#   guest-run.sh --full|--smoke PROGRAM[:OPTION]...
# e.g. "toggle:--readers" runs /opt/bench/toggle --full --readers,
# "kcost:--process-rights=here" /opt/bench/kcost --full --process-rights=here,
# "sync:--threads=1,64" /opt/bench/sync --full --threads=1,64.
mode=$1
shift
echo "# kernel $(uname -r)"
echo "# thp $(cat /sys/kernel/mm/transparent_hugepage/enabled)"
for spec in "$@"; do
	prog=${spec%%:*}
	option=
	[ "$prog" != "$spec" ] && option=${spec#*:}
	# shellcheck disable=SC2086
	"/opt/bench/$prog" "$mode" $option ||
		echo "# bench: $spec failed with exit code $?"
done
echo "# bench: done"
