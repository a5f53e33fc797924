# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 11, item 4: `systemctl start` of a service that never becomes healthy blocks at most
# start_timeout + stop_timeout (kservice.toml(5), "start_timeout"), on every systemd version, and
# not once per automatic restart: from 254 on RestartMode=direct keeps the start job across the
# restarts (on 257 the old unit blocked 6 x start_timeout). The restarts still happen after the
# start failed, in the background, as Restart= says.
# timeout: 150
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service

ks_testd_set web fail
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
start_timeout = "4s"
stop_timeout = "2s"
restart_delay = "500ms"
[health]
interval = "1s"
timeout = "500ms"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
# notifyd first, so that its own start is not counted.
ks_start kservice-notifyd.service
ks_wait_state kservice-notifyd.service active 15

bound=6000
if [ "$KS_VERSION" -ge 254 ]; then
        ks_assert_eq 6s "$(ks_show $u JobRunningTimeoutUSec)" "JobRunningTimeoutUSec (start_timeout + stop_timeout)"
fi
t0=$(ks_now_ms)
rc=0; out=$(ks_exec_t 90 systemctl start $u 2>&1) || rc=$?
t1=$(ks_now_ms)
ks_log "systemctl start returned $rc after $((t1 - t0)) ms: $out"
[ "$rc" != 0 ] || ks_fail "$u started although /health always fails"
if ks_spawn_flake_logged $u; then
        ks_skip "systemd could not spawn $u in the container's cgroups (spawn flake); timing not measured"
fi
[ $((t1 - t0)) -ge 3500 ] || ks_fail "the start failed after $((t1 - t0)) ms, before start_timeout (4s)"
[ $((t1 - t0)) -le $((bound + 1500)) ] ||
        ks_fail "systemctl start blocked $((t1 - t0)) ms; the bound is start_timeout + stop_timeout = ${bound} ms"

ks_log "the restart policy goes on after the failed start"
restarted() { [ "$(ks_show $u NRestarts)" -ge 1 ]; }
ks_wait_until 20 "$u restarted after the failed start" restarted
ks_exec systemctl stop $u
