# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 5: a hanging endpoint counts as failed at its timeout, and never delays the checks of
# other services: while two services' /health hang, another one's checks keep their 1 s rhythm
# and their latency; the hanging ones are restarted after failure_threshold timed-out checks.
# "hung" and "fast" are checked by notifyd's own HTTP client (URLs to 127.0.0.1), "hungc"
# through libcurl (a host name), in the same loop.
ks_require /usr/libexec/kservice-notifyd

ks_testd_set hung ok
ks_testd_set hungc ok
ks_testd_set fast ok
# hung_def NAME PORT HOST: 3 s interval, 2 s timeout, restarted after 2 failures.
hung_def() {
        ks_def "$1" <<EOF
exec = $(ks_testd_exec "$1" "$2")
restart_delay = "100ms"
[health]
interval = "3s"
timeout = "2s"
failure_threshold = 2
[[health.check]]
type = "http"
url = "http://$3:$2/health"
EOF
}
hung_def hung 8081 127.0.0.1
hung_def hungc 8083 localhost
ks_def fast <<EOF
exec = $(ks_testd_exec fast 8082)
[health]
interval = "1s"
timeout = "500ms"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8082/health"
EOF
ks_reload
ks_start konivrer@hung.service konivrer@hungc.service konivrer@fast.service
ks_assert_eq active "$(ks_show konivrer@hung.service ActiveState)" "hung's ActiveState"
ks_assert_eq active "$(ks_show konivrer@hungc.service ActiveState)" "hungc's ActiveState"
ks_assert_eq active "$(ks_show konivrer@fast.service ActiveState)" "fast's ActiveState"

ks_log "hung's and hungc's /health hang"
t0=$(ks_now_ms)
ks_testd_set hung hang
ks_testd_set hungc hang
sleep 1
n0=$(ks_testd_count 8082)
ks_wait_until 15 "hung's first timed-out check" \
        ks_journal_grep "health check failed: timed out after 2s from GET http://127.0.0.1:8081/health \(1/2\)" -u konivrer@hung.service
t1=$(ks_now_ms)
ks_log "first timed-out check logged $((t1 - t0)) ms after the hang began"
ks_wait_prop konivrer@hung.service NRestarts 1 15
ks_wait_prop konivrer@hungc.service NRestarts 1 5
ks_journal_grep "health check failed: timed out after 2s from GET http://localhost:8083/health \(1/2\)" \
        -u konivrer@hungc.service || ks_fail "no timed-out check in hungc's journal"
t2=$(ks_now_ms)
ks_log "hung restarted $((t2 - t0)) ms after the hang began"
# At most: a whole interval before the first hanging check, one more interval, and its timeout.
[ $((t2 - t0)) -le $((2 * 3000 + 2000 + 1000)) ] || ks_fail "restart took $((t2 - t0)) ms"
n1=$(ks_testd_count 8082)
secs=$(( (t2 - t0 - 1000) / 1000 ))
ks_log "fast got $((n1 - n0)) checks in ~$secs s while hung's checks hung"
[ $((n1 - n0)) -ge $((secs - 1)) ] || ks_fail "fast got only $((n1 - n0)) checks in ${secs}s at a 1 s interval"
ks_assert_eq 0 "$(ks_show konivrer@fast.service NRestarts)" "fast's NRestarts"
st=$(ks_show konivrer@fast.service StatusText)
ks_assert_match "^healthy; HTTP 200 in [0-9.]+ms$" "$st" "fast's StatusText"
ms=$(printf '%s' "$st" | sed -E 's/.* in ([0-9]+)(\.[0-9])?ms$/\1/')
[ "$ms" -lt 200 ] || ks_fail "fast's check latency is ${ms} ms while another endpoint hangs"
ks_testd_set hung ok
ks_testd_set hungc ok
ks_wait_state konivrer@hung.service active 10
ks_wait_state konivrer@hungc.service active 10
