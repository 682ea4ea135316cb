#!/bin/bash
# PKRU across suspend to RAM: boot a kernel that can suspend (ACPI S3,
# RTC wake-up alarm) on -cpu max and run the selftests with the opt-in
# suspend test enabled; each protection_keys binary puts the guest to
# sleep once and checks its PKRU after the wake-up.
#   check-resume.sh KERNEL INITRD
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"
kernel=$1 initrd=$2 run=$BUILD/runs/resume

MPK_RUN="env PKEYS_TEST_SUSPEND=1 ./run_kselftest.sh" \
	"$top/scripts/run-qemu.sh" "$kernel" "$initrd" max "$run"
"$top/scripts/tap-summary.sh" "$run"
grep -q 'PM: suspend exit' "$run/console.log" ||
	die "the guest never resumed from suspend (see $run/console.log)"
