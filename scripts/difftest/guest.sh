#!/bin/busybox sh
# shellcheck shell=dash
# Guest side of difftest.sh (installed as /opt/difftest/guest.sh, run by
# scripts/guest-init through mpk.run=): run pkey_difftest for every word
# size and seed, each bounded by a timeout, and print each log, gzipped
# and base64-encoded between markers, as soon as it is written, so that
# a guest killed later still leaves the logs before it.
#   guest.sh TIMEOUT NOPS SEED...
per_run=$1 nops=$2
shift 2
dir=/opt/difftest
out=/tmp/difftest
mkdir -p "$out"
echo "# difftest: start nops=$nops seeds=$*"
for bits in 64 32; do
	for seed in "$@"; do
		log=$out/$bits-$seed.log
		timeout -k 5 "$per_run" "$dir/pkey_difftest_$bits" "$seed" "$nops" \
			> "$log" 2>&1
		echo "# exit status $?" >> "$log"
		echo "# difftest: log $bits-$seed begin"
		gzip -c "$log" | base64
		echo "# difftest: log $bits-$seed end"
		rm -f "$log"
	done
done
echo "# difftest: done"
