# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 5: an unhealthy service is restarted through WATCHDOG=trigger within
# failure_threshold x interval + 1 s, counted in NRestarts, with "health check failed: ... (2/3)"
# and "restarting: 3 consecutive failures" in `journalctl -u`; a recovery before the threshold
# restarts nothing; failures inside start_period do not count.
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart_delay = "100ms"
[health]
interval = "1s"
timeout = "500ms"
failure_threshold = 3
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_assert_eq active "$(ks_show $u ActiveState)" "ActiveState after start"
pid0=$(ks_show $u MainPID)

ks_log "/health fails: restart within 3 x 1 s + 1 s"
# Timed on CLOCK_MONOTONIC (shared with the container): from just before /health turns bad to the
# start of the new main process as systemd recorded it, so the polling below adds nothing.
mono_ms() { local up; read -r up _ </proc/uptime; echo $(( 10#${up/./} * 10 )); }
t0=$(mono_ms)
ks_testd_set web fail
ks_wait_prop $u NRestarts 1 10
new_main() { local p; p=$(ks_show $u MainPID); [ "$p" != 0 ] && [ "$p" != "$pid0" ]; }
ks_wait_until 10 "the restarted main process" new_main
t1=$(( $(ks_show $u ExecMainStartTimestampMonotonic) / 1000 ))
ks_log "restarted $((t1 - t0)) ms after /health started failing"
[ $((t1 - t0)) -le 4000 ] || ks_fail "restart took $((t1 - t0)) ms, limit failure_threshold x interval + 1 s = 4000 ms"
[ $((t1 - t0)) -ge 1900 ] || ks_fail "restart after $((t1 - t0)) ms: too early for 3 failures 1 s apart"
ks_testd_set web ok
ks_wait_state $u active 10
pid1=$(ks_show $u MainPID)
[ "$pid1" != "$pid0" ] || ks_fail "MainPID did not change ($pid0)"
j=$(ks_exec journalctl -b --no-pager -o cat -u $u)
ks_assert_match "health check failed: HTTP 500 \(expected 2xx\) from GET http://127.0.0.1:8080/health \(1/3\)" "$j" "journal"
ks_assert_match "health check failed: HTTP 500 \(expected 2xx\) from GET http://127.0.0.1:8080/health \(2/3\)" "$j" "journal"
ks_assert_match "restarting: 3 consecutive failures \(last: HTTP 500 \(expected 2xx\)\)" "$j" "journal"
ks_assert_match "[Ww]atchdog" "$j" "systemd's watchdog message in the journal"
# Structured fields of notifyd's messages about the service.
f=$(ks_exec journalctl -b --no-pager -o verbose KSERVICE_NAME=web)
ks_assert_match "OBJECT_SYSTEMD_UNIT=$u" "$f" "journal fields"
ks_assert_match "KSERVICE_FAILURES=3" "$f" "journal fields"

ks_log "two failures, then healthy again: no restart"
ks_testd_set web fail
ks_wait_until 10 "the second failure of the new invocation" ks_exec sh -c \
        "[ \$(journalctl -b --no-pager -o cat -u $u | grep -c 'from GET http://127.0.0.1:8080/health (2/3)') -ge 2 ]"
ks_testd_set web ok
ks_wait_until 5 "healthy again" ks_journal_grep "healthy again: HTTP 200" -u $u
ks_assert_stays $u NRestarts 1 4
ks_assert_eq "$pid1" "$(ks_show $u MainPID)" "MainPID after the recovery"
ks_assert_match "^healthy; HTTP 200" "$(ks_show $u StatusText)" "StatusText"

ks_log "start period: failures in the first 4 s do not count"
ks_exec systemctl stop $u
ks_testd_set web fail
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart_delay = "100ms"
[health]
interval = "1s"
timeout = "500ms"
failure_threshold = 2
start_period = "4s"
ready_on_pass = false
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
t0=$(ks_now_ms)
ks_start $u
ks_assert_match "^starting \(start period\)" "$(ks_show $u StatusText)" "StatusText in the start period"
ks_assert_eq active "$(ks_show $u ActiveState)" "ActiveState (readiness not gated)"
ks_assert_stays $u NRestarts 0 2
ks_wait_prop $u NRestarts 1 8
t1=$(ks_now_ms)
ks_log "restarted $((t1 - t0)) ms after start (start period 4 s, then 2 failures 1 s apart)"
{ [ $((t1 - t0)) -ge 4500 ] && [ $((t1 - t0)) -le 7500 ]; } ||
        ks_fail "restart $((t1 - t0)) ms after start; expected between 4.5 s and 7.5 s"
ks_exec systemctl stop $u
