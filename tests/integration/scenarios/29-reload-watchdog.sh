# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 11: a daemon-reload that changes a running service's health checks must not get it killed
# by its watchdog. systemd fixes an invocation's WatchdogSec when it starts, so a raised interval
# would leave the running invocation with the old, shorter watchdog and no check within it;
# notifyd hands the invocation the new watchdog (WATCHDOG_USEC=), so that `systemctl show -p
# WatchdogUSec` agrees with the generated unit, and pings at the cadence the new one needs.
ks_require /usr/libexec/kservice-notifyd
# timeout: 240

U=konivrer@web.service

def() {  # NAME PORT INTERVAL TIMEOUT [WATCHDOG]
        ks_def "$1" <<EOF
exec = $(ks_testd_exec "$1" "$2")
[health]
interval = "$3"
timeout = "$4"
${5:+watchdog = \"$5\"}
[[health.check]]
type = "http"
url = "http://127.0.0.1:$2/health"
EOF
}

# same_watchdog UNIT WHAT: the running invocation's WatchdogUSec is the generated unit's WatchdogSec=.
same_watchdog() {
        local gen
        gen=$(ks_exec systemctl cat "$1" | sed -n 's/^WatchdogSec=//p' | tail -n1)
        ks_assert_eq "$gen" "$(ks_show "$1" WatchdogUSec)" "$2: WatchdogUSec of the running invocation (generated: WatchdogSec=$gen)"
}

# not_killed UNIT PID WHAT: still the same process, never restarted, no watchdog timeout logged.
not_killed() {
        ks_assert_eq "$2" "$(ks_show "$1" MainPID)" "$3: MainPID"
        ks_assert_eq 0 "$(ks_show "$1" NRestarts)" "$3: NRestarts"
        ks_assert_eq active "$(ks_show "$1" ActiveState)" "$3: ActiveState"
        if ks_journal_grep "[Ww]atchdog timeout" -u "$1"; then
                ks_fail "$3: systemd saw a watchdog timeout"
        fi
}

ks_testd_set web ok
def web 8080 1s 500ms 4s
ks_reload
ks_start $U
ks_assert_eq 4s "$(ks_show $U WatchdogUSec)" "the old WatchdogSec"
pid=$(ks_show $U MainPID)

ks_log "raised: interval 20s, timeout 2s, derived watchdog 3 x 20 s + 2 s + 300 s = 6min 2s"
def web 8080 20s 2s
ks_reload
ks_wait_until 10 "notifyd applied the new interval" \
        ks_journal_grep "health checks reconfigured: 1 check\(s\) every 20000 ms" -u $U
# No check is due for up to 20 s: with the old 4 s watchdog systemd would kill it well within this.
ks_assert_stays $U MainPID "$pid" 12
not_killed $U "$pid" "raised"
same_watchdog $U "raised"
ks_assert_eq "6min 2s" "$(ks_show $U WatchdogUSec)" "raised: the new derived watchdog"
ks_log "a daemon-reload that changes nothing keeps the invocation's watchdog"
ks_reload
ks_assert_eq "6min 2s" "$(ks_show $U WatchdogUSec)" "after an idle daemon-reload"

ks_log "lowered: interval 1s, timeout 500ms, watchdog 6s: pings at least every 3 s"
def web 8080 1s 500ms 6s
ks_reload
ks_wait_until 10 "notifyd applied the new interval" \
        ks_journal_grep "health checks reconfigured: 1 check\(s\) every 1000 ms" -u $U
same_watchdog $U "lowered"
ks_assert_eq 6s "$(ks_show $U WatchdogUSec)" "lowered"
g=$(ks_ping_gap $U 10)
ks_log "watchdog 6 s: the longest time without a ping was $g ms"
[ "$g" -le 3500 ] || ks_fail "${g} ms without a ping for a 6 s watchdog (half: 3 s)"
not_killed $U "$pid" "lowered"

ks_log "shortened health.watchdog only: 6s -> 3s, pings at least every 1.5 s"
def web 8080 1s 500ms 3s
ks_reload
ks_wait_until 10 "notifyd applied the new watchdog" \
        ks_journal_grep "health checks reconfigured: .* watchdog 3000 ms" -u $U
same_watchdog $U "shortened"
ks_assert_eq 3s "$(ks_show $U WatchdogUSec)" "shortened"
g=$(ks_ping_gap $U 8)
ks_log "watchdog 3 s: the longest time without a ping was $g ms"
[ "$g" -le 2000 ] || ks_fail "${g} ms without a ping for a 3 s watchdog (half: 1.5 s)"
not_killed $U "$pid" "shortened"

ks_log "a reload while a service is still starting (checks failing, not ready): its watchdog follows too"
ks_testd_set slow fail
def slow 8081 1s 500ms 30s
ks_reload
ks_exec systemctl start --no-block konivrer@slow.service
ks_wait_prop konivrer@slow.service ActiveState activating 10
ks_wait_until 10 "a failed check of slow" \
        ks_journal_grep "health check failed" -u konivrer@slow.service
spid=$(ks_show konivrer@slow.service MainPID)
def slow 8081 5s 1s
ks_reload
ks_wait_until 10 "notifyd applied slow's new interval" \
        ks_journal_grep "health checks reconfigured: 1 check\(s\) every 5000 ms" -u konivrer@slow.service
ks_assert_eq activating "$(ks_show konivrer@slow.service ActiveState)" "slow, still starting"
same_watchdog konivrer@slow.service "while starting"
ks_assert_eq "5min 16s" "$(ks_show konivrer@slow.service WatchdogUSec)" "while starting: 3 x 5 s + 1 s + 300 s"
ks_testd_set slow ok
ks_wait_state konivrer@slow.service active 10
not_killed konivrer@slow.service "$spid" "slow"
not_killed $U "$pid" "web at the end"
