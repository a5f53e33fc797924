# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 13 (/work/spec-13.md: RestartsSeen counts "the increments of the unit's NRestarts, counted
# across NRestarts resets by comparing with the last value and InvocationID"): restarts that
# happen while notifyd is stopped are counted when it comes back, also when a manual stop/start
# reset systemd's NRestarts in between so that it reads the same number again. The unit's
# InvocationID tells the two apart: the same NRestarts with another invocation means a reset
# and that many restarts since. Also: an automatic restart that kservice did not cause (the
# program crashed) counts in RestartsSeen and not in RestartsByKservice.
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service
n=kservice-notifyd.service

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart_delay = "100ms"
[health]
interval = "1s"
# The first round may come before ks-testd listens ("Connection refused"); the start period keeps
# this scenario apart from how notifyd counts that round (44-stop-races tests it).
start_period = "3s"
timeout = "500ms"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_wait_until 30 "the API knows web" ks_api_get web Name
ks_api_wait web Health healthy 30

# crash_once: the program dies of SIGSEGV once; systemd restarts it (Restart=on-failure).
crash_once() {
        local nr pid
        nr=$(ks_show $u NRestarts)
        pid=$(ks_show $u MainPID)
        ks_testd_set web ok crash
        restarted() { [ "$(ks_show $u NRestarts)" -gt "$nr" ] && [ "$(ks_show $u MainPID)" != "$pid" ]; }
        ks_wait_until 15 "web restarted after its crash" restarted
        ks_wait_state $u active 30
}

ks_log "a crash while notifyd watches: RestartsSeen +NRestarts, RestartsByKservice 0"
crash_once
nr1=$(ks_show $u NRestarts)
ks_api_wait web RestartsSeen "$nr1" 10
ks_assert_eq 0 "$(ks_api_get web RestartsByKservice)" "RestartsByKservice after a crash"
saved() { [ "$(ks_state_get web RESTARTS_SEEN)" = "$nr1" ] && [ "$(ks_state_get web SYSTEMD_NRESTARTS)" = "$nr1" ]; }
ks_wait_until 5 "web.state with RESTARTS_SEEN=$nr1" saved
ks_api_wait web Health healthy 30

ks_log "notifyd stopped; meanwhile web is stopped, started, and crashes once"
ks_exec systemctl stop $n
inv0=$(ks_state_get web SYSTEMD_INVOCATION_ID)
ks_exec systemctl stop $u
# Without notifyd nobody says READY=1 for web: it stays activating until notifyd is back (so no
# blocking start), and a crash restarts it all the same.
ks_exec systemctl start --no-block $u
running() { [ "$(ks_show $u MainPID)" != 0 ]; }
ks_wait_until 15 "web's process" running
ks_wait_http 8080 /ping 200 10
ks_log "systemd's NRestarts after stop/start: $(ks_show $u NRestarts)"
crash_once_offline() {
        local pid
        pid=$(ks_show $u MainPID)
        ks_testd_set web ok crash
        crashed() { [ "$(ks_show $u NRestarts)" -ge 1 ] && [ "$(ks_show $u MainPID)" != "$pid" ] && [ "$(ks_show $u MainPID)" != 0 ]; }
        ks_wait_until 15 "web restarted after its crash" crashed
}
crash_once_offline
nr2=$(ks_show $u NRestarts)
inv2=$(ks_show $u InvocationID)
ks_log "NRestarts was $nr1 (invocation $inv0), now $nr2 (invocation $inv2)"
[ "$inv2" != "$inv0" ] || ks_fail "the invocation did not change"

ks_start $n
ks_wait_state $n active 30
ks_wait_state $u active 60
ks_wait_until 30 "the API knows web again" ks_api_get web Name
ks_api_wait web Health healthy 30
ks_api_wait web RestartsSeen $((nr1 + nr2)) 10
ks_assert_eq 0 "$(ks_api_get web RestartsByKservice)" "RestartsByKservice"
saved2() { [ "$(ks_state_get web RESTARTS_SEEN)" = $((nr1 + nr2)) ]; }
ks_wait_until 5 "web.state with RESTARTS_SEEN=$((nr1 + nr2))" saved2
