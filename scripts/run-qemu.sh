#!/bin/bash
# Boot a kernel with the test initramfs in QEMU (TCG, 2 vCPUs) and
# collect what it prints.
#   run-qemu.sh KERNEL INITRD CPU OUTDIR
# OUTDIR gets console.log (kernel log), tap.log (test output) and
# status (QEMU's exit code, 124 when the guest was killed as hung).
# $QEMU_TIMEOUT (seconds, default 300), $QEMU_EXTRA (more options, e.g.
# "-icount shift=0"), $QEMU_MEM (MiB, default 1024), $KERNEL_ARGS (more
# kernel command line, e.g. "nopku"), $MPK_ARGS
# (run_kselftest.sh options) and $MPK_RUN (a command to run instead of
# the kselftests, see guest-init) tune it.
set -uo pipefail
kernel=$1 initrd=$2 cpu=$3 out=$4

mkdir -p "$out"
rm -f "$out"/{console.log,tap.log,status}
# shellcheck disable=SC2086
timeout -k 5 "${QEMU_TIMEOUT:-300}" qemu-system-x86_64 \
	-machine pc -accel tcg -cpu "$cpu" -smp 2 -m "${QEMU_MEM:-1024}" \
	-display none -monitor none -no-reboot \
	-serial "file:$out/console.log" -serial "file:$out/tap.log" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 ${KERNEL_ARGS:-} mpk.args=\"${MPK_ARGS:-}\" mpk.run=\"${MPK_RUN:-}\"" \
	${QEMU_EXTRA:-}
echo $? > "$out/status"
