# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 5: readiness gating. A service with a health check is Type=notify and only kservice-notifyd
# says READY=1, on the first passing check: `systemctl start` blocks while /health hangs and
# returns once it answers 200; STATUS= shows in `systemctl status`; a unit ordered after it waits
# for it; a service that never gets healthy fails to start after its TimeoutStartSec=. And
# notifyd refuses to start without the privilege to notify for other processes.
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service

web_def() {  # [START_TIMEOUT [RESTART]]
        ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
${1:+start_timeout = \"$1\"}
${2:+restart = \"$2\"}
[health]
interval = "1s"
timeout = "500ms"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
}

ks_testd_set web hang
web_def
ks_reload
ks_assert_eq notify "$(ks_show $u Type)" "Type="
ks_assert_eq main "$(ks_show $u NotifyAccess)" "NotifyAccess="

ks_log "start with /health hanging: the start must block"
ks_start --no-block $u
ks_wait_state kservice-notifyd.service active 15
ks_wait_http 8080 /ping 200 10
ks_assert_stays $u ActiveState activating 3
ks_assert_match "timed out after 500ms" "$(ks_show $u StatusText)" "StatusText while /health hangs"

ks_log "/health answers 200: the start completes"
t0=$(ks_now_ms)
ks_testd_set web ok
ks_wait_state $u active 5
t1=$(ks_now_ms)
ks_log "ready $((t1 - t0)) ms after /health turned 200"
[ $((t1 - t0)) -le 2500 ] || ks_fail "readiness took $((t1 - t0)) ms (interval 1s)"
ks_assert_match "^healthy; HTTP 200 in " "$(ks_show $u StatusText)" "StatusText when healthy"
ks_assert_match "Status: \"healthy; HTTP 200" "$(ks_exec systemctl status --no-pager $u || true)" "systemctl status"
ks_wait_until 5 "the ready message in journalctl -u $u" \
        ks_journal_grep "ready: health check passed \(HTTP 200" -u $u
ks_assert_eq 0 "$(ks_show $u NRestarts)" "NRestarts"

ks_log "a unit ordered after web starts only once web is healthy"
ks_exec systemctl stop $u
ks_testd_set web "slow 300"
ks_write /etc/systemd/system/after-web.service <<EOF
[Unit]
After=$u
Requires=$u
[Service]
Type=oneshot
ExecStart=/bin/sh -c 'systemctl show -p ActiveState --value $u > /run/after-web.seen'
EOF
ks_reload
# Both in one start (after-web waits for web by After=); ks_start retries a spawn flake of either.
ks_start $u after-web.service
ks_assert_eq active "$(ks_exec cat /run/after-web.seen)" "web's state as seen by a unit ordered after it"
ks_exec systemctl stop after-web.service $u

ks_log "never healthy: the start fails after TimeoutStartSec"
ks_testd_set web fail
web_def 4s
ks_reload
t0=$(ks_now_ms)
ks_start --no-block $u
ks_wait_http 8080 /ping 200 10
tp=$(ks_now_ms)
# Restart=on-failure starts it again after the timeout; Result says what happened.
ks_wait_prop $u Result timeout 15
t1=$(ks_now_ms)
ks_log "start failed after $((t1 - t0)) ms (the service answered /ping after $((tp - t0)) ms)"
{ [ $((t1 - t0)) -ge 3500 ] && [ $((t1 - t0)) -le 8000 ]; } ||
        ks_fail "start failed after $((t1 - t0)) ms, TimeoutStartSec=4s"
ks_exec systemctl stop $u
if [ $((tp - t0)) -le 2000 ]; then
        ks_journal_grep "health check failed: HTTP 500 \(expected 2xx\) from GET http://127.0.0.1:8080/health \(not ready yet" -u $u ||
                ks_fail "journalctl -u $u does not show the failing checks"
else
        ks_log "(the service took $((tp - t0)) ms to listen: not asserting the HTTP 500 messages)"
fi

ks_log "without CAP_SYS_ADMIN notifyd refuses to start, with a clear message"
if out=$(ks_exec systemd-run --wait --pipe -p CapabilityBoundingSet=~CAP_SYS_ADMIN \
        /usr/libexec/kservice-notifyd --check-privilege 2>&1); then
        ks_fail "notifyd started without CAP_SYS_ADMIN: $out"
fi
ks_assert_match "refusing to start" "$out" "notifyd's message"
ks_assert_match "CAP_SYS_ADMIN" "$out" "notifyd's message"

ks_log "notifyd's sandbox: systemd-analyze security rates it OK (exposure below 3.0)"
sec=$(ks_exec systemd-analyze security --no-pager kservice-notifyd.service | tail -1)
ks_log "$sec"
level=$(printf '%s' "$sec" | sed -nE 's/.*exposure level for kservice-notifyd.service: ([0-9]+\.[0-9]+).*/\1/p')
[ -n "$level" ] || ks_fail "no exposure level in: $sec"
awk -v l="$level" 'BEGIN { exit !(l < 3.0) }' || ks_fail "exposure level $level, expected below 3.0"
