# SPDX-License-Identifier: LGPL-2.1-or-later
# timeout: 240
# Issue 5: `systemctl stop` of a service stops its checks; stopping kservice-notifyd (it relaxes
# each fed service's watchdog with WATCHDOG_USEC=) and killing it with SIGKILL (Restart=always
# brings it back within the services' WatchdogSec) leave healthy services running, and notifyd
# resumes: the watchdog is restored and an unhealthy service is restarted again.
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service
n=kservice-notifyd.service


ks_testd_set web ok
# An explicit short watchdog (10 s, instead of the derived one with its 30 s grace): without
# notifyd's pings the service dies within 10 s, so surviving the stop and the crash below is
# notifyd's doing. (Not shorter: on a loaded CI machine notifyd's restart alone took 7 s.)
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart_delay = "100ms"
[health]
interval = "1s"
timeout = "500ms"
failure_threshold = 2
watchdog = "10s"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_assert_eq 10s "$(ks_show $u WatchdogUSec)" "WatchdogUSec"
pid=$(ks_show $u MainPID)

ks_log "clean stop of notifyd: the service survives several watchdog periods"
ks_exec systemctl stop $n
ks_assert_stays $u MainPID "$pid" 14
ks_assert_eq active "$(ks_show $u ActiveState)" "ActiveState while notifyd is stopped"
ks_assert_eq 0 "$(ks_show $u NRestarts)" "NRestarts while notifyd is stopped"
ks_assert_match "paused" "$(ks_show $u StatusText)" "StatusText while notifyd is stopped"
ks_journal_grep "health checks paused: kservice-notifyd is stopping" -u $u ||
        ks_fail "no 'paused' message in journalctl -u $u"

ks_log "notifyd starts again: watchdog restored, checks resume"
ks_start $n
ks_wait_prop $u WatchdogUSec 10s 10
ks_assert_stays $u MainPID "$pid" 6
ks_testd_set web fail
ks_wait_prop $u NRestarts 1 10
ks_testd_set web ok
ks_wait_state $u active 30
pid=$(ks_show $u MainPID)

ks_log "notifyd is killed with SIGKILL: restarted by systemd, the service survives"
npid=$(ks_show $n MainPID)
# SIGKILL to the main process itself (systemctl kill also signals the cgroup, which these
# containers' read-only cgroup v1 hierarchy refuses).
ks_exec bash -c 'kill -KILL "$1"' sh "$npid"
notifyd_restarted() { [ "$(ks_show $n ActiveState)" = active ] && [ "$(ks_show $n MainPID)" != "$npid" ]; }
ks_wait_until 10 "notifyd restarted" notifyd_restarted
ks_assert_stays $u MainPID "$pid" 14
ks_assert_eq active "$(ks_show $n ActiveState)" "notifyd's ActiveState after SIGKILL"
[ "$(ks_show $n MainPID)" != "$npid" ] || ks_fail "notifyd's MainPID did not change after SIGKILL"
ks_assert_eq 1 "$(ks_show $u NRestarts)" "the service's NRestarts after notifyd's crash"
ks_log "and notifyd still acts on failures after its restart"
ks_testd_set web fail
ks_wait_prop $u NRestarts 2 10
ks_testd_set web ok
ks_wait_state $u active 30

ks_log "systemctl stop of the service stops its checks"
ks_exec systemctl stop $u
# A stand-in on the same port counts whatever still asks for /health.
ks_exec systemd-run --unit=standin --property=Restart=no "$KS_TESTD" --port 8080
ks_wait_http 8080 /ping 200 10
c0=$(ks_testd_count 8080)
sleep 3
c1=$(ks_testd_count 8080)
ks_assert_eq "$c0" "$c1" "/health requests to a stopped service's port in 3 s"
ks_exec systemctl stop standin.service
