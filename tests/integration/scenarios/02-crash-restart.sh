# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 2: a crash is restarted as restart= says, and NRestarts counts it. The service
# is ks-testd; it exits with an error code, then dies of SIGSEGV, on command. A clean exit is not
# a failure for restart = "on-failure", so that one is not restarted.
ks_require "$KS_GENERATOR"
u=konivrer@web.service

ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart = "on-failure"
restart_delay = "200ms"
EOF
ks_reload
ks_assert_eq on-failure "$(ks_show $u Restart)" "Restart="
ks_start $u
ks_wait_state $u active 10
ks_wait_http 8080 /ping 200 10
ks_assert_eq 0 "$(ks_show $u NRestarts)" "NRestarts after start"
pid0=$(ks_show $u MainPID)

ks_log "the service exits with status 3"
ks_testd_set web "exit 3"
ks_wait_prop $u NRestarts 1 10
ks_wait_state $u active 10
ks_wait_http 8080 /ping 200 10
pid1=$(ks_show $u MainPID)
{ [ "$pid1" != "$pid0" ] && [ "$pid1" != 0 ]; } || ks_fail "MainPID did not change on restart ($pid0 -> $pid1)"
ks_journal_grep "konivrer@web.service: Main process exited, code=exited, status=3/" -u $u ||
        ks_fail "the journal does not show the exit with status 3"

ks_log "the service dies of SIGSEGV"
ks_testd_set web crash
ks_wait_prop $u NRestarts 2 10
ks_wait_state $u active 10
ks_wait_http 8080 /ping 200 10
ks_journal_grep "konivrer@web.service: Main process exited, code=(dumped|killed), status=11/SEGV" -u $u ||
        ks_fail "the journal does not show the SIGSEGV"

ks_log "a clean exit is not a failure: no restart with on-failure"
starts() { ks_exec journalctl -b --no-pager -o cat -u $u | grep -c 'ks-testd.*listening on' || true; }
ks_assert_eq 3 "$(starts)" "process starts so far"
ks_testd_set web "exit 0"
ks_wait_state $u inactive 10
ks_assert_eq success "$(ks_show $u Result)" "Result after a clean exit"
ks_assert_stays $u ActiveState inactive 2
ks_assert_eq 3 "$(starts)" "process starts after the clean exit"
