# Log-log plot of part 1: cost of revoking and restoring write access
# against region size.  Called by scripts/bench.sh with
#   gnuplot -e "data='toggle.dat'; out='toggle.png'" bench/toggle.gp
# Columns of the data: size in bytes, then WRPKRU, mprotect,
# pkey_mprotect with one thread (-icount), then the same with four
# (without -icount, see bench/results/results.md).
set terminal pngcairo size 900,700 font ",11"
set output out
set logscale xy
set format y "10^{%L}"
set xtics ("4K" 4096, "64K" 65536, "1M" 1048576, "16M" 16777216, \
           "256M" 268435456, "1G" 1073741824)
set xlabel "region size"
set ylabel "ns per revoke+restore (guest clock)"
set title "Revoking and restoring write access: a PKRU write stays flat, mprotect() grows"
set key outside below Left reverse maxrows 3
set grid
plot data using 1:2 with linespoints lw 2 title "WRPKRU, 1 thread (-icount: 1 ns = 1 instruction)", \
     data using 1:3 with linespoints lw 2 title "mprotect, 1 thread", \
     data using 1:4 with linespoints lw 2 title "pkey\\_mprotect, 1 thread", \
     data using 1:5 with linespoints dt 2 title "WRPKRU, 4 threads (no -icount, TCG IPIs)", \
     data using 1:6 with linespoints dt 2 title "mprotect, 4 threads (no -icount, TCG IPIs)", \
     data using 1:7 with linespoints dt 2 title "pkey\\_mprotect, 4 threads (no -icount, TCG IPIs)"
