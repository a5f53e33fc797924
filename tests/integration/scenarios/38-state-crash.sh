# SPDX-License-Identifier: LGPL-2.1-or-later
# timeout: 720
# Issue 13, crash safety: 200 services change state (a toggler inside the container fails a
# random 20 of their endpoints every 2 s, which kservice restarts, and kills 3 random services'
# processes, which systemd restarts) while the test kill -9's kservice-notifyd 30 times, each
# time 0 to 700 ms after systemd started it again, every 5th time after letting it run for 3 s
# (so kills land while it loads its state files, while it saves them, and in between).
# After each kill every /var/lib/kservice/*.state parses (tests/integration/state-check.py: the
# format and its CRC-32) and no counter went backwards since the previous snapshot
# (RESTARTS_BY_KSERVICE, RESTARTS_SEEN, the number of incidents until it reaches 50); in the end
# no file was set aside (*.bad-*), notifyd never said so, and once everything settled the
# counters of ListServices are those of the files.
ks_require /usr/libexec/kservice-notifyd
N=200
BASE=9000
KILLS=${KS_STATE_CRASH_KILLS:-30}
n=kservice-notifyd.service
check=$KS_SRCDIR/tests/integration/state-check.py
dir=$KS_ROOT$KS_STATE_DIR

ks_exec mkdir -p /run/kstest
ks_exec systemd-run --unit=endpoints --property=Restart=no "$KS_TESTD" --port "$((BASE + 1))-$((BASE + N))" \
        --control /run/kstest/endpoints.cmd
ks_wait_http $((BASE + 1)) /ping 200 20
ks_wait_http $((BASE + N)) /ping 200 20

ks_log "writing $N definitions"
ks_exec bash -c '
        for i in $(seq 1 "$1"); do
                printf "%s\n" "exec = [\"/bin/sleep\", \"infinity\"]" "restart_delay = \"100ms\"" \
                        "max_restarts = \"infinity\"" "[health]" "interval = \"1s\"" "timeout = \"500ms\"" \
                        "failure_threshold = 1" "[[health.check]]" "type = \"http\"" \
                        "url = \"http://127.0.0.1:$(($2 + i))/health\"" > /etc/kservice/s$i.toml
        done' sh "$N" "$BASE"
ks_reload
# As in 25: systemd in these containers now and then fails a spawn under load; Restart= and
# ks_all_active start those again.
ks_exec_t 120 bash -c 'units=(); for i in $(seq 1 "$1"); do units+=("konivrer@s$i.service"); done
        systemctl start "${units[@]}"' sh "$N" || ks_log "some start jobs failed; waiting for Restart="
all_active() { ks_all_active "konivrer@s*" "$N"; }
ks_wait_until 90 "all $N services active" all_active
n_files() { find "$dir" -maxdepth 1 -name '*.state' | wc -l; }
all_files() { [ "$(n_files)" -ge "$N" ]; }
ks_wait_until 30 "$N state files" all_files

# The toggler, inside the container: every 2 s a new random set of 20 failing endpoints (with
# failure_threshold 1, kservice restarts those services), and 3 random services' processes
# killed (systemd restarts them: restarts seen that kservice did not cause).
ks_write /run/kstest/toggle.sh 0755 <<'EOF'
#!/bin/bash
base=$1 n=$2
end=$((SECONDS + 600))
while [ "$SECONDS" -lt "$end" ]; do
        for _ in $(seq 1 20); do echo "port $((base + 1 + RANDOM % n)) fail"; done >/run/kstest/endpoints.cmd.new
        mv -f /run/kstest/endpoints.cmd.new /run/kstest/endpoints.cmd
        for _ in 1 2 3; do
                pid=$(systemctl show -p MainPID --value "konivrer@s$((1 + RANDOM % n)).service")
                [ "$pid" != 0 ] && kill -KILL "$pid" 2>/dev/null
        done
        sleep 2
done
EOF
ks_exec systemd-run --unit=toggler --property=Restart=no /bin/bash /run/kstest/toggle.sh "$BASE" "$N"

# snapshot FILE: every state file's "NAME RESTARTS_BY_KSERVICE RESTARTS_SEEN INCIDENTS" into FILE,
# failing when one does not parse.
work=$(mktemp -d)
snapshot() {
        local out
        out=$(python3 "$check" --counters "$dir"/*.state 2>"$work/complaints") ||
                ks_fail "state files that do not parse: $(head -c 2000 "$work/complaints")"
        LC_ALL=C sort <<<"$out" >"$1"
}
# compare OLD NEW WHEN: no counter of a service went backwards (incidents: until 50).
compare() {
        local bad
        bad=$(LC_ALL=C join "$1" "$2" | awk '$2 > $5 || $3 > $6 || ($4 > $7 && $4 < 50) { print }')
        [ -z "$bad" ] || ks_fail "counters went backwards $3 (NAME RBK SEEN INCIDENTS before, after): $(head -20 <<<"$bad")"
}

ks_log "kill -9 of notifyd, $KILLS times, 0 to 700 ms after each start"
snapshot "$work/snap.0"
killed=0
notifyd_running() { [ "$(ks_show $n MainPID)" != 0 ]; }
t0=$(ks_now_ms)
for ((k = 1; k <= KILLS; k++)); do
        npid=$(ks_show $n MainPID)
        if [ "$npid" = 0 ]; then
                ks_wait_until 30 "notifyd running again" notifyd_running
                npid=$(ks_show $n MainPID)
        fi
        # Every 5th kill lets notifyd run for 3 s first: rounds, restarts and saves happen, and
        # the counters move; the others land while it loads the state files or just after.
        if [ $((k % 5)) = 0 ]; then
                ks_wait_state $n active 30
                sleep 3
        fi
        sleep "0.$(printf '%03d' $((RANDOM % 701)))"
        ks_exec bash -c 'kill -KILL "$1"' sh "$npid" 2>/dev/null && killed=$((killed + 1))
        # Wait for systemd to start it again (a new MainPID), bounded.
        new_pid() { local p; p=$(ks_show $n MainPID); [ "$p" != 0 ] && [ "$p" != "$npid" ]; }
        ks_wait_until 30 "notifyd started again after kill $k" new_pid
        snapshot "$work/snap.$k"
        compare "$work/snap.$((k - 1))" "$work/snap.$k" "after kill $k"
done
ks_log "$killed kills in $(( ($(ks_now_ms) - t0) / 1000 )) s; every snapshot parsed, no counter went backwards"

ks_log "settling: the toggler stops, every endpoint passes"
ks_exec systemctl stop toggler.service
ks_testd_set endpoints ok
ks_wait_state $n active 30
ks_wait_until 120 "all $N services active again" all_active
all_healthy() {
        [ "$(ks_api_call ListServices | python3 -c '
import json, sys
print(sum(1 for s in json.load(sys.stdin) if s[3] == "healthy"))')" = "$N" ]
}
ks_wait_until 60 "all $N services healthy" all_healthy
sleep 3         # the last saves, at most a second after the last change
snapshot "$work/snap.end"
compare "$work/snap.$KILLS" "$work/snap.end" "while settling"
compare "$work/snap.0" "$work/snap.end" "over the whole test"

bad=$(find "$dir" -maxdepth 1 -name '*.bad-*')
[ -z "$bad" ] || ks_fail "state files were set aside: $bad"
ks_log "ok: no *.bad-* file"
said=$(ks_exec journalctl -b --no-pager -o cat -u $n |
        grep -F "$KS_STATE_DIR/" | grep -E 'bad-|set aside|checksum|truncated|foreign|not a kservice-notifyd state' | head -5 || true)
[ -z "$said" ] || ks_fail "notifyd complained about state files: $said"
ks_log "leftover temporary files (a killed writer's, removed later): $(find "$dir" -maxdepth 1 -name '*.tmp-*' | wc -l)"

# The API's counters are the files' once everything is saved.
ks_api_call ListServices | python3 -c '
import json, sys
for s in json.load(sys.stdin):
    if s[0].startswith("s"): print(s[0], s[6], s[7])' | LC_ALL=C sort >"$work/api"
cut -d" " -f1-3 "$work/snap.end" >"$work/files"
diff -u "$work/files" "$work/api" >&2 || ks_fail "ListServices' counters differ from the state files (above: -files +API)"
changed=$(awk '$4 > 0' "$work/snap.end" | wc -l)
restarted=$(awk '$2 > 0' "$work/snap.end" | wc -l)
seen=$(awk '$3 > 0' "$work/snap.end" | wc -l)
ks_log "services with incidents: $changed, restarted by kservice: $restarted, with restarts seen: $seen; notifyd's NRestarts: $(ks_show $n NRestarts)"
# That the test exercised what it checks.
[ "$changed" -ge 20 ] || ks_fail "only $changed services had an incident"
[ "$restarted" -ge 10 ] || ks_fail "only $restarted services were restarted by kservice"
[ "$seen" -ge 10 ] || ks_fail "only $seen services have restarts seen"
rm -rf "$work"
