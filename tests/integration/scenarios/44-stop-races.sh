# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 13, kservice-notifyd(8) HEALTH STATE AND HISTORY: starting and stopping a healthy service
# leave no incident and count no restart. Rounds of a service still starting say nothing (its
# first check may come before it listens: no start_period here), and a failure that only raced a
# stop (the round saw the closed socket before systemd's signal reached notifyd) "was the stop
# itself and leaves no incident". With a round every 100 ms, 40 `systemctl restart`s and 40
# stop/start pairs of a healthy service give the races many chances (seen on 252 before the fix:
# about one stop in 60 left an incident "none,recovered,receive failed: Connection reset by peer"
# or "... Connection refused", started within a millisecond of systemd's "Stopping").
ks_require /usr/libexec/kservice-notifyd
# timeout: 240
u=konivrer@web.service

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
# Every start counts against the start limit (max_restarts + 1 in restart_window), manual ones too.
max_restarts = "infinity"
[health]
interval = "100ms"
timeout = "100ms"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_wait_until 30 "the API knows web" ks_api_get web Name
ks_api_wait web Health healthy 30
ks_assert_eq "[]" "$(ks_api_get web Incidents)" "Incidents after the first start"

# The journal around an incident's start, to show what it raced.
show_incidents() {
        local s
        s=$(ks_api_incidents web | head -1 | cut -d, -f1)
        [ -n "$s" ] || return 0
        ks_exec journalctl -b --no-pager -o short-precise --since "@$((s / 1000000 - 1))" --until "@$((s / 1000000 + 1))" \
                -u $u -u kservice-notifyd.service | tail -n 30 >&2 || true
}

for ((i = 1; i <= 40; i++)); do
        ks_restart $u
        ks_api_wait web Health healthy 10
        ks_exec systemctl stop $u
        ks_start $u
        ks_api_wait web Health healthy 10
done
inc=$(ks_api_get web Incidents)
[ "$inc" = "[]" ] || { show_incidents; ks_fail "incidents after 40 restarts and 40 stop/start of a healthy service: $inc"; }
ks_log "ok: no incident after 40 restarts and 40 stop/start"
ks_assert_eq 0 "$(ks_api_get web RestartsByKservice)" "RestartsByKservice"
if [ "$(ks_spawn_flakes $u)" = 0 ]; then
        ks_assert_eq 0 "$(ks_api_get web RestartsSeen)" "RestartsSeen"
else
        ks_log "spawn flakes of $u: RestartsSeen $(ks_api_get web RestartsSeen) not checked"
fi
ks_assert_eq false "$(ks_api_get web Flapping)" "Flapping"
ks_log "Score $(ks_api_get web Score), FlapPercent $(ks_api_get web FlapPercent)"
