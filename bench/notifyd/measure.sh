#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the benchmark container: measures one health checker over a window.
#   measure.sh SECONDS ACCESS_LOG PID WHO
# Prints key=value lines: the checks nginx served in the window to WHO (monit: requests whose
# User-Agent starts with "Monit"; notifyd: all others), over how many ports and the fewest any
# port got, the checker's CPU time (all its
# threads, from schedstat: nanoseconds, not 10 ms ticks), its peak RSS (VmHWM), its anonymous
# memory at the end (RssAnon: RSS without shared library pages) and PID 1's CPU.
set -euo pipefail
secs=$1 log=$2 pid=$3 who=$4

cpu_ns() {  # PID: on-CPU nanoseconds summed over its threads
        local s=0 a _ t
        for t in /proc/"$1"/task/*/schedstat; do
                read -r a _ <"$t" || continue
                s=$((s + a))
        done
        echo "$s"
}

[ -d "/proc/$pid" ] || { echo "no process $pid" >&2; exit 1; }
# The system bus carries PID 1's PropertiesChanged signals to notifyd: its CPU is part of the cost.
bus=$(pidof -s dbus-daemon || echo 1)
s0=$(stat -c %s "$log"); c0=$(cpu_ns "$pid"); p0=$(cpu_ns 1); b0=$(cpu_ns "$bus"); t0=$(date +%s%N)
sleep "$secs"
s1=$(stat -c %s "$log"); c1=$(cpu_ns "$pid"); p1=$(cpu_ns 1); b1=$(cpu_ns "$bus"); t1=$(date +%s%N)
[ -d "/proc/$pid" ] || { echo "process $pid died during the window" >&2; exit 1; }
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status")
rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
# The checker's own memory, without the pages of shared libraries it maps (which VmRSS counts).
anon=$(awk '/^RssAnon:/ { print $2 }' "/proc/$pid/status")

# The window's slice of the log: PORT STATUS "USER-AGENT" per request.
# head reads the file only up to s1 and tail takes all of it: no stage closes its input early
# (with tail | head, tail could die of SIGPIPE while the log grows, and pipefail ends the script).
head -c "$s1" "$log" | tail -c +"$((s0 + 1))" | awk -v who="$who" '
        { m = ($3 ~ /^"Monit/) }
        (who == "monit" && !m) || (who != "monit" && m) { next }
        { n++; per[$1]++; if ($2 != 200) bad++ }
        END {
                min = -1
                for (p in per) { ports++; if (min < 0 || per[p] < min) min = per[p] }
                printf "checks=%d\nports=%d\nmin_per_port=%d\nnon_200=%d\n", n, ports, min < 0 ? 0 : min, bad
        }'
echo "elapsed_ns=$((t1 - t0))"
echo "cpu_ns=$((c1 - c0))"
echo "pid1_cpu_ns=$((p1 - p0))"
echo "dbus_cpu_ns=$((b1 - b0))"
echo "hwm_kb=$hwm"
echo "rss_kb=$rss"
echo "anon_kb=$anon"
echo "load1=$(cut -d" " -f1 /proc/loadavg)"
