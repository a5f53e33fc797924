# SPDX-License-Identifier: LGPL-2.1-or-later
# timeout: 300
# Issue 13: what kservice counts survives what systemd forgets. A service whose endpoint fails
# until kservice restarts it gets one incident (action restart, outcome restarted: checked last,
# so that a wrong one does not hide the rest), RestartsByKservice 1 and RestartsSeen 1; then the
# counters and the incident read back the same,
# from the D-Bus API and from /var/lib/kservice/web.state, after each of: systemctl stop/start
# of the service (systemd's NRestarts goes back to 0), a clean stop of notifyd (the file says
# paused), systemctl restart kservice-notifyd, kill -9 of notifyd, and a reboot of the container
# (the service is enabled, so it starts at boot).
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service
n=kservice-notifyd.service

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
enabled = true
restart_delay = "100ms"
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
ks_assert_eq web "$(ks_api_get web Name)" "Name"
ks_assert_eq $u "$(ks_api_get web Unit)" "Unit"
ks_api_wait web Health healthy 30
ks_assert_eq 0 "$(ks_api_get web RestartsByKservice)" "RestartsByKservice of a new service"
ks_assert_eq 0 "$(ks_api_get web RestartsSeen)" "RestartsSeen of a new service"
ks_assert_eq "[]" "$(ks_api_get web Incidents)" "Incidents of a new service"

ks_log "the endpoint fails until kservice restarts the service"
pid0=$(ks_show $u MainPID)
flakes0=$(ks_spawn_flakes $u)
# SIGUSR1: this ks-testd process answers 500 from now on; the restarted one reads the command
# file ("ok") and passes.
ks_exec bash -c 'kill -USR1 "$1"' sh "$pid0"
ks_api_wait web RestartsByKservice 1 15
ks_wait_state $u active 30
new_main() { local p; p=$(ks_show $u MainPID); [ "$p" != 0 ] && [ "$p" != "$pid0" ]; }
ks_wait_until 10 "the restarted main process" new_main
ks_api_wait web Health healthy 30
incident_ended() { [[ $(ks_api_incidents web) =~ ^[0-9]+,[1-9][0-9]*, ]]; }
ks_wait_until 10 "the incident ended" incident_ended
flakes=$(( $(ks_spawn_flakes $u) - flakes0 ))
all=$(ks_api_incidents web)
ks_log "incidents: $all"
ks_assert_eq 1 "$(grep -c . <<<"$all")" "number of incidents"
inc=$all
ks_assert_match '^[1-9][0-9]{15},[1-9][0-9]{15},[a-z-]+,[a-z-]+,HTTP 500' "$inc" "the incident (started, ended, action, outcome, reason)"
# Its action and outcome: a wrong one fails the scenario at the end, after the persistence
# checks, which read back whatever was recorded.
deferred=
if ! [[ $inc =~ ^[0-9]+,[0-9]+,restart,restarted, ]]; then
        deferred="the incident of a restart by kservice: action and outcome not 'restart,restarted': $inc (systemd: $(ks_exec journalctl -b --no-pager -o cat -u $u | grep -E 'Scheduled restart job|Failed with result' | tr '\n' ' '))"
        ks_log "FAIL (at the end): $deferred"
fi
IFS=, read -r started ended _ <<<"$inc"
[ "$ended" -ge "$started" ] || ks_fail "the incident ended ($ended) before it started ($started)"
ks_assert_eq 1 "$(ks_api_get web RestartsByKservice)" "RestartsByKservice"
seen=$(ks_api_get web RestartsSeen)
nr=$(ks_show $u NRestarts)
if [ "$flakes" = 0 ]; then
        ks_assert_eq 1 "$seen" "RestartsSeen"
        ks_assert_eq 1 "$nr" "systemd's NRestarts"
else
        # A restart the container's spawn flake failed is retried by systemd: more restarts seen.
        ks_log "$flakes spawn flake(s) of $u: RestartsSeen $seen, NRestarts $nr"
        { [ "$seen" -ge 1 ] && [ "$seen" -le $((1 + flakes)) ]; } || ks_fail "RestartsSeen $seen, expected 1 to $((1 + flakes))"
fi
ks_assert_eq false "$(ks_api_get web Flapping)" "Flapping after one incident"

# What every step below must read back, from the API and from the file: the counters exactly,
# and the incidents as they were, in order. One kind of new incident is let through after them:
# a round that raced the service's stop (systemctl stop, the shutdown before the reboot), failed
# with "Connection refused" before notifyd saw the unit deactivating, and opened an incident with
# no action. That is a known race of notifyd (reported; seen under load on 252), not a loss of
# history; the scenario logs it.
incidents=$all
counters_view() { echo "rbk=$1 seen=$2"; }
want_counters=$(counters_view 1 "$seen")
api_counters() { counters_view "$(ks_api_get web RestartsByKservice)" "$(ks_api_get web RestartsSeen)"; }
file_counters() { counters_view "$(ks_state_get web RESTARTS_BY_KSERVICE)" "$(ks_state_get web RESTARTS_SEEN)"; }
race_re='^[0-9]+,[0-9]+,none,[a-z-]+,Failed to connect to 127\.0\.0\.1 port 8080: Connection refused$'
# history_ok LIST: LIST is $incidents, then only incidents of that race.
history_ok() {
        local got=$1 l
        [ "$got" = "$incidents" ] && return 0
        [ "${got:0:${#incidents}}" = "$incidents" ] && [ "${got:${#incidents}:1}" = $'\n' ] || return 1
        while IFS= read -r l; do
                [[ $l =~ $race_re ]] || return 1
        done <<<"${got:${#incidents}+1}"
}
# same_history WHAT LIST: history_ok, or fail showing both.
same_history() {
        history_ok "$2" || ks_fail "$1: incidents changed: expected '$incidents' (then at most incidents of the stop race), got '$2'"
        if [ "$2" = "$incidents" ]; then
                ks_log "ok: $1: the same incidents"
        else
                ks_log "WARNING: $1: the same incidents, and incident(s) from a round that raced the stop: ${2:${#incidents}+1}"
        fi
}
file_saved() { [ "$(file_counters)" = "$want_counters" ] && history_ok "$(ks_state_incidents web)"; }
# Saved within about a second of the change.
ks_wait_until 5 "web.state holds the counters and the incident" file_saved
ks_state_check "$KS_STATE_DIR/web.state" || ks_fail "web.state does not parse"
ks_assert_eq healthy "$(ks_state_get web HEALTH)" "HEALTH in web.state"

# check_same WHEN: the API (once the service is healthy again) and the file read back the same.
check_same() {
        ks_wait_until 30 "the API answers after $1" ks_api_get web Name
        ks_api_wait web Health healthy 30
        ks_assert_eq "$want_counters" "$(api_counters)" "the API's counters after $1"
        same_history "the API after $1" "$(ks_api_incidents web)"
        ks_wait_until 5 "web.state after $1" file_saved
        ks_assert_eq "$want_counters" "$(file_counters)" "web.state's counters after $1"
        same_history "web.state after $1" "$(ks_state_incidents web)"
        ks_state_check "$KS_STATE_DIR/web.state" || ks_fail "web.state does not parse after $1"
}

# nrestarts_zero WHEN FLAKES-BEFORE: systemd's NRestarts is 0 unless a spawn flake made it restart.
nrestarts_zero() {
        if [ "$(ks_spawn_flakes $u)" = "$2" ]; then
                ks_assert_eq 0 "$(ks_show $u NRestarts)" "systemd's NRestarts after $1 (it forgets; kservice does not)"
        else
                ks_log "a spawn flake of $u after $1: NRestarts $(ks_show $u NRestarts) not checked"
        fi
}

ks_log "1. systemctl stop and start of the service"
f0=$(ks_spawn_flakes $u)
ks_exec systemctl stop $u
ks_api_wait web Health unknown 10
ks_assert_eq "$want_counters" "$(api_counters)" "the API's counters while the service is stopped"
same_history "the API while the service is stopped" "$(ks_api_incidents web)"
ks_start $u
ks_wait_state $u active 30
check_same "systemctl stop/start of $u"
nrestarts_zero "stop/start" "$f0"

ks_log "2. clean stop of notifyd: web.state says paused, and keeps the counters"
ks_exec systemctl stop $n
ks_assert_eq paused "$(ks_state_get web HEALTH)" "HEALTH in web.state while notifyd is stopped"
ks_assert_eq "$want_counters" "$(file_counters)" "web.state's counters while notifyd is stopped"
same_history "web.state while notifyd is stopped" "$(ks_state_incidents web)"
ks_start $n
ks_wait_state $n active 30
check_same "a clean stop and start of notifyd"

ks_log "3. systemctl restart kservice-notifyd"
npid=$(ks_show $n MainPID)
ks_restart $n
ks_wait_state $n active 30
[ "$(ks_show $n MainPID)" != "$npid" ] || ks_fail "notifyd's MainPID did not change on restart"
check_same "systemctl restart $n"

ks_log "4. kill -9 of notifyd's main process (systemd restarts it)"
npid=$(ks_show $n MainPID)
ks_exec bash -c 'kill -KILL "$1"' sh "$npid"
notifyd_back() { [ "$(ks_show $n ActiveState)" = active ] && [ "$(ks_show $n MainPID)" != "$npid" ] && [ "$(ks_show $n MainPID)" != 0 ]; }
ks_wait_until 20 "notifyd restarted after SIGKILL" notifyd_back
check_same "kill -9 of notifyd"

ks_log "5. reboot of the container (web is enabled: started at boot, with notifyd)"
ks_reboot
ks_wait_state $u active 30
ks_wait_state $n active 30
check_same "a reboot"
nrestarts_zero "the reboot" 0

[ -z "$deferred" ] || ks_fail "$deferred"
