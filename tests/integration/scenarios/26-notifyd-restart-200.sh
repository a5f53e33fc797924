# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 5: kservice-notifyd restarted while 200 services with health checks are running. The new
# notifyd reads the state of all 200 units at once over the system bus (five property reads
# each); the bus lets one connection wait for at most 128 replies and refuses the rest, so every
# read must get through anyway: each service is checked again within a bound, keeps being
# checked at its interval (none starved), and none is restarted.
ks_require /usr/libexec/kservice-notifyd
# timeout: 300
N=200
BASE=9000

ks_exec systemd-run --unit=endpoints --property=Restart=no "$KS_TESTD" --port "$((BASE + 1))-$((BASE + N))"
ks_wait_http $((BASE + 1)) /ping 200 20
ks_wait_http $((BASE + N)) /ping 200 20

ks_log "writing $N definitions"
ks_exec bash -c '
        for i in $(seq 1 "$1"); do
                printf "%s\n" "exec = [\"/bin/sleep\", \"infinity\"]" "[health]" "interval = \"1s\"" \
                        "timeout = \"1s\"" "[[health.check]]" "type = \"http\"" \
                        "url = \"http://127.0.0.1:$(($2 + i))/health\"" > /etc/kservice/s$i.toml
        done' sh "$N" "$BASE"
ks_reload
# As in 25: systemd 252 in these containers now and then fails a spawn under load (restarted per
# Restart=); wait for all to be active and count restarts only from then on.
ks_exec_t 120 bash -c 'units=(); for i in $(seq 1 "$1"); do units+=("konivrer@s$i.service"); done
        systemctl start "${units[@]}"' sh "$N" || ks_log "some start jobs failed; waiting for Restart="
all_active() { ks_all_active "konivrer@s*" "$N"; }
ks_wait_until 60 "all $N services active" all_active
nrestarts() {
        ks_exec bash -c 'for i in $(seq 1 "$1"); do systemctl show -p NRestarts --value konivrer@s$i.service; done' sh "$N"
}

# counts: one line per service, "COUNT MICROSECONDS" (the time it was read).
counts() {
        ks_exec bash -c 'for i in $(seq 1 "$1"); do
                exec 3<>"/dev/tcp/127.0.0.1/$(($2 + i))"
                printf "GET /count HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" >&3
                c=$(tail -n1 <&3 | tr -d "\r\n ")
                exec 3<&-
                echo "$c ${EPOCHREALTIME/[.,]/}"
        done' sh "$N" "$BASE"
}
# How many services were checked more than twice since the counts in $1 were taken.
checked_since() {
        paste <(echo "$1") <(counts) | awk '$3 - $1 > 2 { n++ } END { print n + 0 }'
}
all_checked_since() { [ "$(checked_since "$1")" = "$N" ]; }

ks_wait_until 60 "all $N services checked before the restart" all_checked_since "$(counts)"
restarts0=$(nrestarts)

npid0=$(ks_show kservice-notifyd.service MainPID)
ks_restart kservice-notifyd.service
ks_wait_state kservice-notifyd.service active 30
npid1=$(ks_show kservice-notifyd.service MainPID)
[ "$npid0" != "$npid1" ] || ks_fail "kservice-notifyd was not restarted (MainPID $npid0)"
t0=$(ks_now_ms)
c0=$(counts)

# Within 30 s every service is checked again. The old notifyd, which sent all 1000 reads at
# once, left most units unread: they were never checked again.
deadline=$((t0 + 30000))
while :; do
        n=$(checked_since "$c0")
        [ "$n" = "$N" ] && break
        if [ "$(ks_now_ms)" -ge "$deadline" ]; then
                ks_log "notifyd's journal since the restart:"
                ks_exec journalctl -b -u kservice-notifyd.service --since "@$((t0 / 1000 - 5))" --no-pager | tail -n 30 >&2 || true
                ks_fail "only $n of $N services were checked again within 30 s of the restart of kservice-notifyd"
        fi
        sleep 0.5
done
ks_log "all $N services checked again $(( $(ks_now_ms) - t0 )) ms after notifyd's restart"

# And then they keep being checked at their interval, as in 25.
a=$(counts)
sleep 10
b=$(counts)
res=$(paste <(echo "$a") <(echo "$b") | awk '
        { d = $3 - $1; w = ($4 - $2) / 1000000; lo = w - 2; hi = w + 2
          if (d < lo) { starved++; bad = bad " s" NR "(" d "/" int(w) "s)" }
          if (d > hi) { over++; bad = bad " s" NR "(" d "/" int(w) "s)" }
          sum += d; wsum += w }
        END { printf "%d %d %d %d%s\n", starved + 0, over + 0, sum, wsum, bad }')
read -r starved over sum wsum bad <<<"$res"
ks_log "after the restart: checks seen: $sum over $wsum service-seconds at 1 per second; starved: $starved, too many: $over${bad:+ ($bad)}"
ks_assert_eq 0 "$starved" "services checked fewer than (their window - 2 s) times after notifyd's restart"
ks_assert_eq 0 "$over" "services checked more than (their window + 2 s) times after notifyd's restart"
ks_assert_eq "$restarts0" "$(nrestarts)" "NRestarts of every service across notifyd's restart"
warned=$(ks_exec journalctl -b -u kservice-notifyd.service --no-pager -g "cannot read its unit's state" | grep -c "cannot read" || true)
ks_log "notifyd's 'cannot read its unit's state' warnings: $warned"
