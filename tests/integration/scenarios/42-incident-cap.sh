# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 13: the incident history is bounded: at most 50 per service, the oldest dropped first.
# An endpoint alternating 500/200 every 100 ms opens and ends an incident every other round;
# past 50 the API and web.state keep the newest 50, oldest first, the file parses, and after a
# restart of notifyd it is read back as it was (not set aside: 50 is within the format's limit).
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service
n=kservice-notifyd.service

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
[health]
interval = "100ms"
timeout = "100ms"
start_period = "3s"
failure_threshold = 3
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_wait_until 30 "the API knows web" ks_api_get web Name
ks_api_wait web Health healthy 30

# counts: "N FIRST_STARTED" of the Incidents property.
counts() { ks_api_incidents web | awk -F, 'NR == 1 { f = $1 } END { print NR, (NR ? f : "-") }'; }
ks_testd_set web "cycle 500 200"
fifty() { read -r c _ <<<"$(counts)"; [ "$c" -ge 50 ]; }
ks_wait_until 30 "50 incidents" fifty
read -r c first <<<"$(counts)"
ks_assert_eq 50 "$c" "incidents once there are 50"
dropped() { read -r c f <<<"$(counts)"; [ "$c" = 50 ] && [ "$f" != "$first" ]; }
ks_wait_until 10 "the oldest incident dropped" dropped
ks_testd_set web ok
ks_api_wait web Health healthy 10
# Ended: every incident over, the last one too.
all_ended() { ! ks_api_incidents web | grep -q ',0,none,ongoing,'; }
ks_wait_until 5 "every incident ended" all_ended
inc=$(ks_api_incidents web)
ks_assert_eq 50 "$(grep -c . <<<"$inc")" "incidents in the end"
sort -n -c -t, -k1,1 <<<"$inc" || ks_fail "incidents not oldest first"
ks_assert_eq 50 "$(grep -c ',none,recovered,HTTP 500' <<<"$inc")" "incidents 'none,recovered,HTTP 500 ...'"
file_same() { [ "$(ks_state_incidents web)" = "$inc" ]; }
ks_wait_until 5 "web.state with the same 50 incidents" file_same
ks_state_check "$KS_STATE_DIR/web.state" || ks_fail "web.state does not parse"

ks_restart $n
ks_wait_state $n active 30
ks_wait_until 30 "the API knows web again" ks_api_get web Name
ks_assert_eq "$inc" "$(ks_api_incidents web)" "incidents after a restart of notifyd"
ks_assert_eq "" "$(ks_exec find "$KS_STATE_DIR" -name '*.bad-*')" "set-aside files"
