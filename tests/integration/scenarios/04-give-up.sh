# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 4: max_restarts within restart_window is enforced, and on_give_up does what it
# says. A service that dies at every start (ks-testd "repeat exit 1") with max_restarts = 3 is
# started exactly 1 + 3 times, then systemd gives up (start limit hit) and starts the alert unit
# named by on_give_up once (not at each failure before), instantiated with the service's unit
# name; nothing restarts the service after that.
ks_require "$KS_GENERATOR"
u=konivrer@web.service

# The alert unit an operator would write: records which unit gave up.
ks_write /etc/systemd/system/ks-alert@.service <<'EOF'
[Unit]
Description=kservice gave up on %i

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'echo "%i" >>/run/kstest/alert'
EOF
ks_testd_set web "repeat exit 1"
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart = "on-failure"
restart_delay = "200ms"
max_restarts = 3
restart_window = "1min"
on_give_up = "ks-alert@.service"
EOF
ks_reload

ks_exec systemctl start $u || true
# ActiveState passes through "failed" between restarts, and Result stays "exit-code" when the
# limit is hit by an automatic restart (252 and 257): the end is systemd's "repeated too quickly".
gave_up() { ks_journal_grep "konivrer@web.service: Start request repeated too quickly" -u $u; }
ks_wait_until 30 "systemd gives up on $u" gave_up
ks_wait_state $u failed 5
starts() { ks_exec journalctl -b --no-pager -o cat -u $u | grep -c 'action from /run/kstest/web.cmd: exit' || true; }
# An attempt the container's spawn flake ate (lib.sh) counted towards the limit but ran nothing.
flakes=$(ks_spawn_flakes $u)
ks_assert_eq $((4 - flakes)) "$(starts)" "process starts (1 + max_restarts, $flakes lost to the spawn flake)"

alert_ran() { [ "$(ks_exec cat /run/kstest/alert 2>/dev/null)" = "$u" ]; }
ks_wait_until 10 "on_give_up started ks-alert@$u" alert_ran
ks_assert_eq 1 "$(ks_sh 'wc -l </run/kstest/alert')" "number of alert runs"

ks_log "kservicectl status: the restarts that happened, against max_restarts"
# systemd's NRestarts also counts the restart the start limit refused.
ks_log "NRestarts=$(ks_show $u NRestarts)"
if ks_exec test -x /usr/bin/kservicectl; then
        out=$(ks_exec kservicectl status web) || true
        ks_log "$out"
        ks_assert_match 'Restarts: 3 \(limit of 3 in 1min reached, gave up\)' "$out" "kservicectl status web"
        out=$(ks_exec kservicectl status) || true
        ks_assert_match '^web +failed \(failed\) +3 ' "$(grep '^web ' <<<"$out")" "web's line in kservicectl status"
fi

ks_log "given up means given up: no further starts"
ks_assert_stays $u ActiveState failed 2
ks_assert_eq $((4 - flakes)) "$(starts)" "process starts after giving up"

ks_log "an operator's start after fixing the service works again"
ks_testd_set web ok
ks_exec systemctl reset-failed $u
ks_start $u
ks_wait_state $u active 10
ks_wait_http 8080 /health 200 10

ks_log "restart = \"always\" with clean exits: systemd ends with Result=start-limit-hit, NRestarts=4"
ks_def clean <<'TOML'
exec = ["/bin/true"]
restart = "always"
restart_delay = "100ms"
max_restarts = 3
restart_window = "1min"
TOML
ks_reload
c=konivrer@clean.service
ks_exec systemctl start $c || true
clean_gave_up() { ks_journal_grep "konivrer@clean.service: Start request repeated too quickly" -u $c; }
ks_wait_until 30 "systemd gives up on $c" clean_gave_up
ks_log "NRestarts=$(ks_show $c NRestarts) Result=$(ks_show $c Result)"
if ks_exec test -x /usr/bin/kservicectl; then
        out=$(ks_exec kservicectl status clean) || true
        ks_log "$out"
        ks_assert_match 'Restarts: 3 \(limit of 3 in 1min reached, gave up\)' "$out" "kservicectl status clean"
fi
