#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs inside the benchmark container, in a calibration window of its own after a checker's CPU
# window (a bus monitor is one more recipient of every message, so dbus-daemon works more while
# it listens): counts the system bus's messages by kind.
#   bus-count.sh SECONDS CHECKER_PID
# Prints key=value lines:
#   sig_units: PropertiesChanged (or any signal) PID 1 sent on a konivrer@ unit's object path
#     (systemd sends two per change, one for org.freedesktop.systemd1.Unit and one for .Service);
#   sig_other_units, sig_manager: PID 1's other signals, on other units' paths and elsewhere;
#   sig_checker: signals the checker's own connection sent (notifyd's D-Bus API, when it has one);
#   calls_checker: method calls the checker sent (to PID 1: unit re-reads); sig_others: the rest;
#   receivers: connections with a match rule that takes PropertiesChanged from PID 1, which is
#     how many copies dbus-daemon sends of each such signal (needs dbus-daemon's Debug.Stats
#     interface; -1 when it has none), and receiver_names, their processes.
set -euo pipefail
secs=$1 pid=$2

call() { busctl --system call org.freedesktop.DBus /org/freedesktop/DBus "$@"; }

pid1_name=$(call org.freedesktop.DBus GetNameOwner s org.freedesktop.systemd1 | awk '{ gsub(/"/, "", $2); print $2 }')
# NAME PID PROCESS ...: the checker's unique names (sd-bus may open more than one connection).
mine=$(busctl --system list --unique --no-legend 2>/dev/null | awk -v p="$pid" '$2 == p { printf "%s ", $1 }')

out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout "$secs" dbus-monitor --system --profile >"$out" 2>/dev/null || true

awk -F'\t' -v p1="$pid1_name" -v mine="$mine" -v secs="$secs" '
        BEGIN { n = split(mine, m, " "); for (i = 1; i <= n; i++) me[m[i]] = 1 }
        $1 == "sig" && $4 == p1 {
                if ($6 ~ /^\/org\/freedesktop\/systemd1\/unit\/konivrer_40/) units++
                else if ($6 ~ /^\/org\/freedesktop\/systemd1\/unit\//) other_units++
                else manager++
                next
        }
        $1 == "sig" && ($4 in me) { checker++; next }
        $1 == "sig" { others++; next }
        $1 == "mc" && ($4 in me) { calls++ }
        END {
                printf "bus_seconds=%d\nsig_units=%d\nsig_other_units=%d\nsig_manager=%d\n", secs, units, other_units, manager
                printf "sig_checker=%d\nsig_others=%d\ncalls_checker=%d\n", checker, others, calls
        }' "$out"

# Who receives PID 1's PropertiesChanged: connections with a rule for it (or for every signal
# of PID 1's, or with no member and interface at all). A heuristic over the rules' text.
if rules=$(busctl --system --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.Debug.Stats GetAllMatchRules 2>/dev/null); then
        names=$(python3 -c '
import json, sys
d = json.load(sys.stdin)["data"][0]
for conn, rules in d.items():
    for r in rules:
        if "eavesdrop" in r or "type=\x27signal\x27" not in r and "type" in r:
            continue
        if "path=\x27" in r and "konivrer" not in r:
            continue
        if "member=\x27PropertiesChanged\x27" in r or ("member=" not in r and "interface=" not in r):
            print(conn)
            break
' <<<"$rules" 2>/dev/null || true)
        echo "receivers=$(echo "$names" | grep -c . || true)"
        procs=""
        for n in $names; do
                p=$(busctl --system list --unique --no-legend 2>/dev/null | awk -v n="$n" '$1 == n { print $3 }')
                procs="$procs${procs:+,}${p:-$n}"
        done
        echo "receiver_names=$procs"
else
        echo "receivers=-1"
        echo "receiver_names="
fi
