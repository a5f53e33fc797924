# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 13, kservice-notifyd(8) HEALTH STATE AND HISTORY: incidents of a service that kservice
# restarts until systemd gives up (max_restarts 2). Each process passes once (ready, healthy:
# the incident before ends "restarted") and then fails 3 times (failure_threshold 3: kservice
# restarts it). After the 2nd restart the 3rd trigger hits the start limit: the unit ends
# failed, and once it stayed so for 5 s the last incident is "gave-up,gave-up". RestartsByKservice
# counts the 3 triggers, RestartsSeen follows systemd's NRestarts, Health is unknown; all of it
# in web.state too, and still so after a restart of notifyd.
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service
n=kservice-notifyd.service

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart_delay = "100ms"
max_restarts = 2
restart_window = "10min"
[health]
interval = "1s"
# The first round may come before ks-testd listens ("Connection refused"); the start period keeps
# this scenario apart from how notifyd counts that round (44-stop-races tests it).
start_period = "3s"
timeout = "500ms"
failure_threshold = 3
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_wait_until 30 "the API knows web" ks_api_get web Name
ks_api_wait web Health healthy 30
flakes0=$(ks_spawn_flakes $u)

ks_log "every process passes once, then fails 3 times"
ks_testd_set web "sequence 200 500 500 500"
ks_wait_state $u failed 60
ks_log "systemd gave up: $(ks_exec journalctl -b --no-pager -o cat -u $u | grep -E 'repeated too quickly|Failed with result' | tail -2 | tr '\n' ' ')"
last_gave_up() { [[ $(ks_api_incidents web | tail -n 1) =~ ^[0-9]+,[1-9][0-9]*,gave-up,gave-up, ]]; }
ks_wait_until 15 "the last incident 'gave-up,gave-up' (decided after 5 s)" last_gave_up
inc=$(ks_api_incidents web)
ks_log "incidents: $inc"
if [ "$(ks_spawn_flakes $u)" = "$flakes0" ]; then
        ks_assert_eq 3 "$(grep -c . <<<"$inc")" "incidents"
        ks_assert_eq 2 "$(grep -c ',restart,restarted,HTTP 500' <<<"$inc")" "incidents 'restart,restarted'"
        ks_assert_eq 3 "$(ks_api_get web RestartsByKservice)" "RestartsByKservice"
else
        ks_log "spawn flakes of $u: the numbers of incidents and restarts are not checked"
fi
ks_assert_match ',gave-up,gave-up,HTTP 500' "$(tail -n 1 <<<"$inc")" "the last incident"
ks_assert_eq "$(ks_show $u NRestarts)" "$(ks_api_get web RestartsSeen)" "RestartsSeen and systemd's NRestarts"
ks_assert_eq unknown "$(ks_api_get web Health)" "Health of a failed unit"
want="$(ks_api_get web RestartsByKservice) $(ks_api_get web RestartsSeen)"
saved() { [ "$(ks_state_incidents web)" = "$inc" ] &&
          [ "$(ks_state_get web RESTARTS_BY_KSERVICE) $(ks_state_get web RESTARTS_SEEN)" = "$want" ]; }
ks_wait_until 5 "web.state with the same incidents and counters" saved

ks_restart $n
ks_wait_state $n active 30
ks_wait_until 30 "the API knows web again" ks_api_get web Name
ks_assert_eq "$inc" "$(ks_api_incidents web)" "incidents after a restart of notifyd"
ks_assert_eq "$want" "$(ks_api_get web RestartsByKservice) $(ks_api_get web RestartsSeen)" "counters after a restart of notifyd"
ks_assert_eq unknown "$(ks_api_get web Health)" "Health of the failed unit after a restart of notifyd"
