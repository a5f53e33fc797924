# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 3: systemctl stop is final (the kill switch). Even with restart = "always" and
# a short restart_delay, nothing brings the service back after a stop: not while it runs, and not
# while it is waiting for a restart in a crash loop.
ks_require "$KS_GENERATOR"
u=konivrer@web.service

ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart = "always"
restart_delay = "300ms"
max_restarts = "infinity"
EOF
ks_reload
ks_start $u
ks_wait_state $u active 10
ks_wait_http 8080 /ping 200 10

ks_exec systemctl stop $u
ks_assert_eq inactive "$(ks_show $u ActiveState)" "ActiveState right after stop"
# Observe for ten times the restart delay: it must stay down, the port closed.
ks_assert_stays $u ActiveState inactive 3
ks_assert_eq closed "$(ks_http 8080 /ping 1)" "port 8080 after stop"

ks_log "stop during a crash loop, while a restart is pending"
ks_testd_set web "repeat exit 1"
ks_start $u
restarted_twice() { [ "$(ks_show $u NRestarts)" -ge 2 ]; }
ks_wait_until 10 "the crash loop restarted the service twice" restarted_twice
ks_exec systemctl stop $u
ks_wait_state $u inactive 5
# Counted in the journal, not with NRestarts: systemd may unload the stopped unit (garbage
# collection; seen on 257 within the 3 s), and a unit loaded again starts counting from 0.
restarts() { ks_exec journalctl -b --no-pager -o cat -u $u | grep -c "Scheduled restart job" || true; }
sleep 1         # journald's share of lag, so that n has every line from before the stop
n=$(restarts)
ks_assert_stays $u ActiveState inactive 3
ks_assert_eq "$n" "$(restarts)" "restart jobs in the journal after the stop"
