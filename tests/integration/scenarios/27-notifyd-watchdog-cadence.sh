# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 5: notifyd pings a healthy service's watchdog only as often as systemd's WatchdogSec needs
# (half of it left after the next check at the latest), not at every check; systemd's own value
# decides, so a drop-in with a shorter WatchdogSec (an admin's `systemctl edit`; systemd applies it
# when the service next starts) must not get the service killed. Checked on real systemd: WatchdogTimestamp
# (the last ping) and NRestarts.
ks_require /usr/libexec/kservice-notifyd
# timeout: 240

ks_testd_set web ok
# The definition's watchdog: 34 s (the derived one, 3 x 1 s + 1 s + 300 s, would need minutes
# to show a gap); a ping is due every ~15 s.
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
[health]
interval = "1s"
timeout = "1s"
watchdog = "34s"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start konivrer@web.service
ks_assert_eq 34s "$(ks_show konivrer@web.service WatchdogUSec)" "the generated WatchdogSec"

g=$(ks_ping_gap konivrer@web.service 20)
ks_log "default watchdog 34 s: the longest time without a ping was $g ms"
# Not every check (1 s), and well inside the watchdog.
[ "$g" -ge 5000 ] || ks_fail "pinged every ${g} ms at most: the watchdog is pinged at every check"
[ "$g" -le 17000 ] || ks_fail "${g} ms without a ping for a 34 s watchdog"

ks_log "a drop-in sets WatchdogSec=4s (shorter than the definition's), daemon-reload, restart"
ks_write /etc/systemd/system/konivrer@web.service.d/50-watchdog.conf <<EOF
[Service]
WatchdogSec=4s
EOF
ks_reload
# systemd fixes an invocation's watchdog when it starts: the running one keeps 34 s.
ks_assert_eq 34s "$(ks_show konivrer@web.service WatchdogUSec)" "WatchdogSec of the running invocation"
g=$(ks_ping_gap konivrer@web.service 5)
ks_restart konivrer@web.service
ks_assert_eq 4s "$(ks_show konivrer@web.service WatchdogUSec)" "WatchdogSec from the drop-in after a restart"
g=$(ks_ping_gap konivrer@web.service 15)
ks_log "watchdog 4 s: the longest time without a ping was $g ms"
[ "$g" -le 3500 ] || ks_fail "${g} ms without a ping for a 4 s watchdog"
ks_assert_eq 0 "$(ks_show konivrer@web.service NRestarts)" "NRestarts with the 4 s drop-in"
ks_assert_eq active "$(ks_show konivrer@web.service ActiveState)" "web with the 4 s drop-in"
ks_journal_grep "[Ww]atchdog timeout" -u konivrer@web.service && ks_fail "systemd saw a watchdog timeout"

ks_log "the drop-in goes away: pings thin out again"
ks_exec rm -f /etc/systemd/system/konivrer@web.service.d/50-watchdog.conf
ks_reload
ks_restart konivrer@web.service
g=$(ks_ping_gap konivrer@web.service 20)
ks_log "back to 34 s: the longest time without a ping was $g ms"
[ "$g" -ge 5000 ] || ks_fail "still pinged every ${g} ms after the drop-in went away"
ks_assert_eq 0 "$(ks_show konivrer@web.service NRestarts)" "NRestarts at the end"
