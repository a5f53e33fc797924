# SPDX-License-Identifier: LGPL-2.1-or-later
# timeout: 300
# Issue 13: a bad state file never stops notifyd. For each of: random garbage, a truncated file, a
# file whose first line names another format version (checksum right), a checksum mismatch, and
# a symbolic link, written while notifyd is stopped: notifyd starts, the service is checked, the
# bad file is renamed web.state.bad-USEC (USEC: realtime of the rename) with its content intact,
# notifyd's journal has one message naming the path and the reason, and a new web.state is
# written; the service starts fresh (no restarts counted, no incidents).
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service
n=kservice-notifyd.service
state=$KS_STATE_DIR/web.state

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart_delay = "100ms"
[health]
interval = "1s"
# The first round may come before ks-testd listens ("Connection refused"); the start period keeps
# this scenario apart from how notifyd counts that round (44-stop-races tests it).
start_period = "3s"
timeout = "500ms"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_wait_until 30 "the API knows web" ks_api_get web Name
ks_api_wait web Health healthy 30
ks_wait_until 10 "web.state written" ks_exec test -s "$state"
ks_state_check "$state" || ks_fail "notifyd's own web.state does not parse"

work=$(mktemp -d)
# The scenario is sourced: clean up in the runner's EXIT trap's time, not with a trap of our own.
bad_files() { ks_exec bash -c 'shopt -s nullglob; for f in "$1".bad-*; do echo "$f"; done' sh "$state"; }
flakes_n0=$(ks_spawn_flakes $n)

# corrupt CASE REASON-ERE: stops notifyd, puts $work/CASE in place of web.state (or, for the
# symlink case, a symbolic link), starts notifyd and checks everything above.
corrupt() {
        local case=$1 reason=$2 cur t0 t1 before after new usec msgs
        ks_log "---- $case"
        ks_exec systemctl stop $n
        if [ "$case" = symlink ]; then
                ks_exec ln -sfn /etc/hostname "$state"
        else
                ks_write "$state" 0600 <"$work/$case"
        fi
        before=$(bad_files)
        cur=$(ks_exec journalctl -q -n 1 -o cat --show-cursor | sed -n 's/^-- cursor: //p')
        [ -n "$cur" ] || ks_fail "no journal cursor"
        t0=$(date +%s%6N)
        ks_start $n
        ks_wait_state $n active 30
        new_bad() { [ "$(bad_files | wc -l)" -gt "$(printf '%s' "$before" | grep -c .)" ]; }
        ks_wait_until 15 "web.state set aside ($case)" new_bad
        t1=$(date +%s%6N)
        after=$(bad_files)
        new=$(comm -13 <(sort <<<"$before") <(sort <<<"$after"))
        ks_assert_eq 1 "$(grep -c . <<<"$new")" "new web.state.bad-* files ($case)"
        usec=${new##*.bad-}
        { [[ $usec =~ ^[0-9]+$ ]] && [ "$usec" -ge "$t0" ] && [ "$usec" -le "$t1" ]; } ||
                ks_fail "$new: USEC $usec is not the realtime of the rename (between $t0 and $t1)"
        if [ "$case" = symlink ]; then
                ks_assert_eq /etc/hostname "$(ks_exec readlink "$new")" "the set-aside symbolic link's target"
                ks_assert_eq "$KS_MACHINE" "$(ks_exec cat /etc/hostname)" "/etc/hostname, untouched"
        else
                ks_exec cat "$new" | cmp -s - "$work/$case" || ks_fail "$new differs from what was written ($case)"
                ks_log "ok: $new holds the bad file's content"
        fi
        # The service is checked and its state starts fresh.
        ks_api_wait web Health healthy 30
        [ "$(ks_api_get web LastRoundUSec)" -gt "$t0" ] || ks_fail "no round since notifyd started ($case)"
        ks_assert_eq "0 0 []" "$(ks_api_get web RestartsByKservice) $(ks_api_get web RestartsSeen) $(ks_api_get web Incidents)" \
                "RestartsByKservice, RestartsSeen, Incidents after a bad state file ($case)"
        ks_wait_until 10 "a new web.state ($case)" ks_exec test -f "$state" -a ! -L "$state"
        ks_wait_until 10 "the new web.state parses ($case)" ks_state_check "$state"
        ks_exec cat "$state" | cmp -s - "$work/$case" && ks_fail "web.state still holds the bad content ($case)"
        # One message, naming the path and the reason.
        msgs=$(ks_exec journalctl -b --no-pager -o cat -u $n --after-cursor="$cur" | grep -F "$state" || true)
        ks_log "notifyd said: $msgs"
        ks_assert_eq 1 "$(grep -c . <<<"$msgs")" "messages of notifyd naming $state ($case)"
        ks_assert_match "$reason" "$msgs" "the message ($case)"
}

# The cases, made from notifyd's own file.
ks_state_cat web >"$work/good"
head -c 2000 /dev/urandom >"$work/garbage"
printf 'not a state file\n\0\1\2' >>"$work/garbage"
head -c $(( $(stat -c %s "$work/good") / 2 )) "$work/good" >"$work/truncated"
{ echo "# kservice-notifyd state 2"; tail -n +2 "$work/good"; } |
        python3 "$KS_SRCDIR/tests/integration/state-check.py" --reseal >"$work/foreign"
sed 's/^RESTARTS_SEEN=.*/RESTARTS_SEEN=7/' "$work/good" >"$work/checksum"
cmp -s "$work/good" "$work/checksum" && ks_fail "no RESTARTS_SEEN= line in web.state to corrupt"
grep -q '^CHECKSUM=' "$work/foreign" || ks_fail "reseal failed"

corrupt garbage 'NUL|not a kservice-notifyd state file|truncated'
corrupt truncated 'truncated'
corrupt foreign 'foreign format version'
corrupt checksum 'checksum mismatch'
corrupt symlink 'symbolic link'

ks_assert_eq 5 "$(bad_files | grep -c .)" "web.state.bad-* files in the end"
if [ "$(ks_spawn_flakes $n)" = "$flakes_n0" ]; then
        ks_assert_eq 0 "$(ks_show $n NRestarts)" "notifyd's NRestarts (it never failed on a bad file)"
fi
ks_assert_eq active "$(ks_show $u ActiveState)" "the service, in the end"
rm -rf "$work"
