#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the benchmark container: measures one health checker over a window.
#   measure.sh SECONDS ACCESS_LOG PID WHO [STATUS_UNIT]
# Prints key=value lines: the checks nginx served in the window to WHO (monit: requests whose
# User-Agent starts with "Monit"; notifyd: all others), over how many ports and the fewest any
# port got, the checker's CPU time (all its
# threads, from schedstat: nanoseconds, not 10 ms ticks), its peak RSS (VmHWM), its anonymous
# memory at the end (RssAnon: RSS without shared library pages), PID 1's and dbus-daemon's CPU.
# With STATUS_UNIT (notifyd's unit): what notifyd sent systemd over the window, by kind, read from
# the counters in its own STATUS= line (notifyd/main.c; refreshed every 5 s, so the counts are
# over the rounds between the two lines read, sent_rounds, not over the window itself):
# sent_rounds, sent_ready, sent_watchdog, sent_watchdog_only, sent_status, sent_trigger,
# sent_watchdog_usec. Reading it is one D-Bus call to PID 1 just outside each end of the window.
set -euo pipefail
secs=$1 log=$2 pid=$3 who=$4 status_unit=${5:-}

sent_counts() {  # prints "ROUNDS READY WATCHDOG ALONE STATUS TRIGGER WATCHDOG_USEC", or nothing
        [ -n "$status_unit" ] || return 0
        systemctl show -p StatusText --value "$status_unit" 2>/dev/null | sed -n \
                's/.* \([0-9]*\) rounds done; sent \([0-9]*\) READY=1, \([0-9]*\) WATCHDOG=1 (\([0-9]*\) alone), \([0-9]*\) STATUS=, \([0-9]*\) WATCHDOG=trigger, \([0-9]*\) WATCHDOG_USEC=.*/\1 \2 \3 \4 \5 \6 \7/p'
}

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
n0=$(sent_counts)
s0=$(stat -c %s "$log"); c0=$(cpu_ns "$pid"); p0=$(cpu_ns 1); b0=$(cpu_ns "$bus"); t0=$(date +%s%N)
sleep "$secs"
s1=$(stat -c %s "$log"); c1=$(cpu_ns "$pid"); p1=$(cpu_ns 1); b1=$(cpu_ns "$bus"); t1=$(date +%s%N)
n1=$(sent_counts)
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
if [ -n "$n0" ] && [ -n "$n1" ]; then
        read -r -a a <<<"$n0"
        read -r -a b <<<"$n1"
        k=0
        for name in rounds ready watchdog watchdog_only status trigger watchdog_usec; do
                echo "sent_$name=$((b[k] - a[k]))"
                k=$((k + 1))
        done
fi
