#!/bin/bash
# Build stock 6.12's own pkeys tests, unmodified, straight from
# build/stock, as static binaries for the busybox-only guest, and put
# them with the guest's runner (scripts/conformance-guest.sh) in OUTDIR.
# Flags as tools/testing/selftests/mm/Makefile gives them: CFLAGS
# -Wall -O2 -I$top_srcdir, the uapi headers (stock's 'make
# headers_install'), -U_FORTIFY_SOURCE, -no-pie; LDLIBS -lrt -lpthread
# -lm; vm_util.c and thp_settings.c linked into every test; -m64/-m32
# -mxsave and -ldl for protection_keys and pkey_sighandler_tests.  Plus
# -static.
#   conformance-build.sh OUTDIR
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/common.sh"
out=$(realpath -m "$1")
stock=$BUILD/stock
mm=$stock/tools/testing/selftests/mm
hdrs=$BUILD/obj/stock-headers

make -s -C "$stock" O="$hdrs" headers_install >/dev/null

cflags=(-Wall -O2 -I "$stock" -isystem "$hdrs/usr/include"
	-isystem "$stock/tools/include/uapi" -U_FORTIFY_SOURCE -no-pie -static)
ldlibs=(-lrt -lpthread -lm)

mkdir -p "$out"
cd "$mm"
for test in protection_keys pkey_sighandler_tests; do
	for bits in 64 32; do
		gcc "${cflags[@]}" -m$bits -mxsave "$test.c" vm_util.c thp_settings.c \
			"${ldlibs[@]}" -ldl -o "$out/${test}_$bits"
	done
done
gcc "${cflags[@]}" mseal_test.c vm_util.c thp_settings.c "${ldlibs[@]}" \
	-o "$out/mseal_test_64"
cp "$top/scripts/conformance-guest.sh" "$out/run.sh"
