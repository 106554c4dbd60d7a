# plots.gp: draws one picture of doc/benchmarks.md from the data file bench/report.py writes.
#
#   gnuplot -e "data='benchmarks.dat'; out='recv.svg'; picture='recv'" bench/plots.gp
#
# picture: recv, filters, send, login or idle, the name of a block of the data file. Every
# picture has horizontal bars, one row per line of its block, the first line on top.

set terminal svg size 800,380 dynamic enhanced font 'Helvetica,13' background rgb 'white'
set output out
set style fill solid 0.85 noborder
set border 3 lc rgb '#555555'
set tics nomirror
set ytics scale 0
set grid xtics lc rgb '#dddddd' lt 1
set offsets 0, 0, 0, 0
set tmargin 4
set key below horizontal reverse Left samplen 1.5
blue = '#4477aa'; red = '#cc6677'; green = '#228833'; grey = '#999999'
ok(x) = x >= 0  # false for -1 (a figure not measured)

# Every stats before the ranges are set: stats skips the points outside them.
stats data index picture using 2 nooutput
n = STATS_records
if (picture eq 'send') {
    stats data index picture using (ok($3) ? $2 * 100 / $3 : NaN) nooutput name 'P'
}
if (picture eq 'login') {
    stats data index picture using 2 : 3 nooutput name 'L'
}
# The rate by CPU time, beside the wall-clock rate.
cpu_column = picture eq 'recv' ? 3 : picture eq 'filters' ? 5 : picture eq 'send' ? 4 : 0
if (cpu_column > 0) {
    stats data index picture using cpu_column nooutput name 'C'
}
set yrange [n - 0.5 : -0.5]
# recv, filters and send: two bars per row, the wall-clock rate and the rate its CPU time allows
# (1 / CPU per stanza), which other work on the machine disturbs less.
b = 0.18
wall(c) = sprintf(' %.0f k/s', column(c) / 1000)
pct(c) = ok(column(c)) ? sprintf(' (%.0f %%)', column(c)) : ''

if (picture eq 'recv') {
    set title 'Receive: stanzas per second, one XEP-0114 connection (longer is better)'
    set xlabel 'thousand stanzas/s'
    set xrange [0 : (C_max > STATS_max ? C_max : STATS_max) / 1000 * 1.3]
    plot data index picture using ($2 / 2000) : 0 : (0) : ($2 / 1000) : ($0 - 2 * b) : ($0) : ytic(1) \
             with boxxyerror lc rgb blue title 'wall clock (the source''s)', \
         data index picture using ($3 / 2000) : 0 : (0) : ($3 / 1000) : ($0) : ($0 + 2 * b) \
             with boxxyerror lc rgb grey title 'by the client''s CPU time', \
         data index picture using ($2 / 1000) : ($0 - b) : (wall(2)) with labels left font ',11' notitle, \
         data index picture using ($3 / 1000) : ($0 + b) : (wall(3)) with labels left font ',11' notitle
}

if (picture eq 'filters') {
    set title 'Receive with XPath filters: stanzas per second (longer is better)'
    set xlabel 'thousand stanzas/s; %: of the rate without filters'
    set xrange [0 : (C_max > STATS_max ? C_max : STATS_max) / 1000 * 1.45]
    plot data index picture using ($2 / 2000) : 0 : (0) : ($2 / 1000) : ($0 - 2 * b) : ($0) : \
             ytic(stringcolumn(1) . (stringcolumn(1) eq '1' ? ' filter' : ' filters')) \
             with boxxyerror lc rgb blue title 'wall clock', \
         data index picture using ($5 / 2000) : 0 : (0) : ($5 / 1000) : ($0) : ($0 + 2 * b) \
             with boxxyerror lc rgb grey title 'by CPU time', \
         data index picture using ($2 / 1000) : ($0 - b) : (wall(2) . pct(3)) with labels left \
             font ',11' notitle, \
         data index picture using ($5 / 1000) : ($0 + b) : (wall(5) . pct(4)) with labels left \
             font ',11' notitle
}

if (picture eq 'send') {
    target = P_records > 0 ? 0.9 * P_mean / 1000 : NaN
    set title 'Send: stanzas per second to a sink (longer is better)'
    set xlabel 'thousand stanzas/s; %: of the client''s plain output()'
    set xrange [0 : (C_max > STATS_max ? C_max : STATS_max) / 1000 * 1.45]
    if (ok(target)) {
        set arrow 1 from target, graph 0 to target, graph 1 nohead dt 2 lw 1.5 lc rgb red front
        set label 1 'target: 90 % (wall clock)' at target, graph 1 offset 0, 0.7 center \
            tc rgb red front
    }
    plot data index picture using ($2 / 2000) : 0 : (0) : ($2 / 1000) : ($0 - 2 * b) : ($0) : ytic(1) \
             with boxxyerror lc rgb blue title 'wall clock (the sink''s)', \
         data index picture using ($4 / 2000) : 0 : (0) : ($4 / 1000) : ($0) : ($0 + 2 * b) \
             with boxxyerror lc rgb grey title 'by the client''s CPU time', \
         data index picture using ($2 / 1000) : ($0 - b) : (wall(2) . pct(3)) with labels left \
             font ',11' notitle, \
         data index picture using ($4 / 1000) : ($0 + b) : (wall(4) . pct(5)) with labels left \
             font ',11' notitle
}

if (picture eq 'login') {
    set title 'Login over TLS to Prosody: client CPU per login (shorter is better)'
    set xlabel 'CPU ms per login (process CPU / logins)'
    set xrange [0 : (L_max_x > L_max_y ? L_max_x : L_max_y) * 1.25]
    b = 0.13  # three bars
    plot data index picture using ($2 / 2) : 0 : (0) : 2 : ($0 - 3 * b) : ($0 - b) : ytic(1) \
             with boxxyerror lc rgb blue title 'SCRAM-SHA-1', \
         data index picture using ($3 / 2) : 0 : (0) : 3 : ($0 - b) : ($0 + b) with boxxyerror lc rgb green \
             title 'PLAIN', \
         data index picture using ($4 / 2) : 0 : (0) : 4 : ($0 + b) : ($0 + 3 * b) with boxxyerror lc rgb grey \
             title 'SCRAM-SHA-1, stable salt: later logins', \
         data index picture using 2 : ($0 - 2 * b) : (sprintf(' %.1f', $2)) with labels left font ',11' notitle, \
         data index picture using 3 : 0 : (sprintf(' %.1f', $3)) with labels left font ',11' notitle, \
         data index picture using 4 : ($0 + 2 * b) : (ok($4) ? sprintf(' %.1f', $4) : '') with labels left \
             font ',11' notitle
}

if (picture eq 'idle') {
    set title 'Idle logged-in TLS connections held by one process: memory per connection'
    # Logarithmic when a peer's hundreds of KB stand beside pcj's tens.
    wide = STATS_max > 200
    x0 = wide ? 5 : 0
    set xlabel wide ? 'KB per connection (logarithmic; shorter is better)' \
                    : 'KB per connection (shorter is better)'
    if (wide) {
        set logscale x
        set xrange [x0 : STATS_max * 4]
    } else {
        set xrange [x0 : STATS_max * 1.3]
    }
    set arrow 1 from 24, graph 0 to 24, graph 1 nohead dt 2 lw 1.5 lc rgb red front
    set label 1 'target: 24 KB' at 24, graph 1 offset 0, 0.7 center tc rgb red front
    plot data index picture using (($2 + x0) / 2) : 0 : (x0) : 2 : ($0 - 2 * b) : ($0) : ytic(1) \
             with boxxyerror lc rgb blue title 'RSS', \
         data index picture using (($3 + x0) / 2) : 0 : (x0) : 3 : ($0) : ($0 + 2 * b) with boxxyerror lc rgb grey \
             title 'heap in use', \
         data index picture using 2 : ($0 - b) : (sprintf(' %.1f KB', $2)) with labels left font ',11' notitle, \
         data index picture using 3 : ($0 + b) : (sprintf(' %.1f KB', $3)) with labels left font ',11' notitle
}
