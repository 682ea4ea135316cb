# Part 3: latency of giving one key new rights in every thread of the
# process, against the number of threads.  Called by scripts/bench.sh with
#   gnuplot -e "data='sync.dat'; out='sync.png'" bench/sync.gp
# Columns of the data (series kernel, -icount): threads, then
# pkey_set_process() and the signal method with the other threads
# running, then the same with them asleep; NaN where a kernel lacks
# pkey_set_process().
set terminal pngcairo size 900,700 font ",11"
set output out
set datafile missing "NaN"
set logscale xy 2
set logscale y 10
set format y "10^{%L}"
set xtics (1, 2, 4, 16, 64)
set xrange [0.8:80]
set xlabel "threads in the process (the updating one included; 2 vCPUs)"
set ylabel "ns per update of one key in all threads (-icount: 1 ns = 1 instruction)"
set title "Synchronous update of a key's rights: pkey\\_set\\_process() vs a signal to each thread"
set key outside below Left reverse maxrows 2
set grid
plot data using 1:2 with linespoints lw 2 pt 7 title "pkey\\_set\\_process(), threads running", \
     data using 1:3 with linespoints lw 2 pt 5 title "signals, threads running", \
     data using 1:4 with linespoints lw 2 dt 2 pt 6 title "pkey\\_set\\_process(), threads sleeping", \
     data using 1:5 with linespoints lw 2 dt 2 pt 4 title "signals, threads sleeping"
