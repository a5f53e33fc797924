# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 11: health.success_threshold.
# - Readiness waits for success_threshold passes in a row, the first time too: with
#   success_threshold = 3 and /health answering 500 200 200 500 200 200 200, `systemctl start`
#   returns only after the 7th request (the failure starts the count of passes over).
# - A single pass between failures does not reset the failure count: with failure_threshold = 3
#   and success_threshold = 2, a ready service answering 500 500 200 500 is restarted through
#   WATCHDOG=trigger at the 4th round, (3/3).
# ks-testd's "sequence" answers one code per request, so no step depends on timing.
ks_require /usr/libexec/kservice-notifyd

thresh_def() {  # NAME PORT SUCCESS_THRESHOLD
        ks_def "$1" <<EOF
exec = $(ks_testd_exec "$1" "$2")
restart_delay = "100ms"
[health]
interval = "1s"
timeout = "500ms"
failure_threshold = 3
success_threshold = $3
[[health.check]]
type = "http"
url = "http://127.0.0.1:$2/health"
EOF
}

# checks_of NAME INVOCATION: notifyd's messages about that invocation of NAME that name an HTTP
# result, without what varies from run to run (the URL, latencies, failures before ks-testd
# listened).
checks_of() {
        ks_exec journalctl -b --no-pager -o cat KSERVICE_NAME="$1" \
                OBJECT_SYSTEMD_INVOCATION_ID="$2" |
                grep -E 'HTTP [0-9]{3}' |
                sed -E 's/ from GET [^ ]+//; s/ in [0-9]+ ms\)/)/; s/\(not ready yet, [0-9]+ failed\)/(not ready yet)/'
}

ks_log "success_threshold = 3: systemctl start returns after the third pass in a row"
u=konivrer@slowready.service
ks_testd_set slowready "sequence 500 200 200 500 200 200 200"
thresh_def slowready 8080 3
ks_reload
ks_start $u
n=$(ks_testd_count 8080)
ks_log "systemctl start returned after $n /health requests"
[ "$n" -ge 7 ] ||
        ks_fail "systemctl start returned after $n /health requests (500 200 200 500 200 200 200: the third pass in a row is the 7th)"
ks_assert_eq active "$(ks_show $u ActiveState)" "ActiveState after start"
inv=$(ks_show $u InvocationID)
ks_wait_until 5 "the ready message in journalctl -u $u" \
        ks_journal_grep "ready: health check passed 3 times in a row \(HTTP 200" -u $u
ks_assert_eq "health check failed: HTTP 500 (expected 2xx) (not ready yet)
health check passed: HTTP 200 (1/3 in a row to be ready)
health check passed: HTTP 200 (2/3 in a row to be ready)
health check failed: HTTP 500 (expected 2xx) (not ready yet)
health check passed: HTTP 200 (1/3 in a row to be ready)
health check passed: HTTP 200 (2/3 in a row to be ready)
ready: health check passed 3 times in a row (HTTP 200)" "$(checks_of slowready "$inv")" "notifyd's messages until ready"
ks_assert_match "^healthy; HTTP 200" "$(ks_show $u StatusText)" "StatusText"
ks_exec systemctl stop $u

ks_log "failure_threshold = 3, success_threshold = 2: 500 500 200 500 restarts at the 4th round"
u=konivrer@flaky.service
ks_testd_set flaky ok
thresh_def flaky 8081 2
ks_reload
ks_start $u
ks_assert_eq 0 "$(ks_show $u NRestarts)" "NRestarts after start"
inv=$(ks_show $u InvocationID)
ks_testd_set flaky "sequence 500 500 200 500 200"
ks_wait_prop $u NRestarts 1 15
ks_testd_set flaky ok
ks_wait_state $u active 15
ks_assert_eq "health check failed: HTTP 500 (expected 2xx) (1/3)
health check failed: HTTP 500 (expected 2xx) (2/3)
health check passed: HTTP 200 (1/2 in a row to be healthy again; failures stay at 2/3)
health check failed: HTTP 500 (expected 2xx) (3/3)
restarting: 3 failures without 2 passes in a row (last: HTTP 500 (expected 2xx))" \
        "$(checks_of flaky "$inv" | sed -n '/^ready: /,$p' | tail -n +2)" "notifyd's messages after ready"
ks_assert_match "[Ww]atchdog" "$(ks_exec journalctl -b --no-pager -o cat -u $u)" "systemd's watchdog message in the journal"
ks_exec systemctl stop $u
