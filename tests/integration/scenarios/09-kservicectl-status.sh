# SPDX-License-Identifier: LGPL-2.1-or-later
# kservicectl status against real systemd: one line per definition with the unit's state and
# restart count, a broken definition shown with its FILE:LINE:COL error, the detailed view of one
# service, and systemctl-style exit codes (0 all active, 3 one inactive, 1 a broken definition,
# 4 no such definition).
ks_require /usr/bin/kservicectl
ks_require "$KS_GENERATOR"
u=konivrer@web.service

ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart = "always"
restart_delay = "200ms"
EOF
ks_def idle <<EOF
exec = $(ks_testd_exec idle 8081)
EOF
ks_reload
ks_start $u
ks_wait_state $u active 10

rc=0; out=$(ks_exec kservicectl status) || rc=$?
ks_log "$out"
ks_assert_eq 3 "$rc" "exit status with idle inactive"
ks_assert_match '^web +active \(running\) +0 ' "$(grep '^web ' <<<"$out")" "web's line"
ks_assert_match '^idle +inactive \(dead\) +[0-] ' "$(grep '^idle ' <<<"$out")" "idle's line"

# A crash is counted; the restarted service is active again.
pid=$(ks_show $u MainPID)
ks_testd_set web "exit 3"
one_restart() { [ "$(ks_show $u NRestarts)" -ge 1 ]; }
ks_wait_until 10 "web restarted once" one_restart
ks_wait_state $u active 10
[ "$(ks_show $u MainPID)" != "$pid" ] || ks_fail "MainPID did not change after the crash"

rc=0; out=$(ks_exec kservicectl status web) || rc=$?
ks_log "$out"
ks_assert_eq 0 "$rc" "exit status of status web"
ks_assert_match 'Definition: /etc/kservice/web.toml' "$out"
ks_assert_match 'Active: active \(running\)' "$out"
# kservicectl shows systemd's count: one restart, unless the container's spawn flake (lib.sh)
# added attempts in which the program never ran, or made the harness start the unit again
# (which counts from 0).
n=$(ks_show $u NRestarts)
[ "$(ks_spawn_flakes $u)" -gt 0 ] || ks_assert_eq 1 "$n" "NRestarts after one crash"
ks_assert_match "Restarts: $n\$" "$(grep 'Restarts:' <<<"$out")"
ks_assert_match "Main PID: $(ks_show $u MainPID)" "$out"

# A broken definition: its first error with its position, and exit status 1.
ks_def broken <<'EOF'
exec = ["/bin/true"]
restrat = "always"
EOF
rc=0; out=$(ks_exec kservicectl status) || rc=$?
ks_log "$out"
ks_assert_eq 1 "$rc" "exit status with a broken definition"
ks_assert_match '^broken .*/etc/kservice/broken.toml:2:1: .*restrat.*restart' "$(grep '^broken ' <<<"$out")" "broken's line"

rc=0; ks_exec kservicectl status nosuch >/dev/null 2>&1 || rc=$?
ks_assert_eq 4 "$rc" "exit status for an unknown name (systemctl: no such unit)"

# A masked definition is shown as masked and does not change the exit status (kservicectl(1)).
ks_exec ln -s /dev/null /etc/kservice/off.toml
rc=0; out=$(ks_exec kservicectl status off) || rc=$?
ks_log "$out"
ks_assert_match '^off: masked by /etc/kservice/off.toml' "$out" "status off"
ks_assert_eq 0 "$rc" "exit status for a masked definition"
rc=0; ks_exec kservicectl status web off >/dev/null || rc=$?
ks_assert_eq 0 "$rc" "exit status for an active service and a masked definition"
