# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 13, kservice-notifyd(8) STATE FILES: the state directory is /var/lib/kservice, mode 0700;
# the file of a removed definition stays (a typo in a rename must not erase a history) until 7
# days after its last write, then it and its set-aside files go when notifyd reads the
# definitions; a definition that fails to load keeps its file however old; temporary files of a
# killed writer go after a minute, fresh ones stay; other files are left alone. The clean-up
# runs when notifyd reads the definitions (start, reload).
ks_require /usr/libexec/kservice-notifyd
n=kservice-notifyd.service
d=$KS_STATE_DIR

for s in web old; do ks_testd_set $s ok; done
def() {  # NAME PORT
        ks_def "$1" <<EOF
exec = $(ks_testd_exec "$1" "$2")
[health]
interval = "1s"
start_period = "3s"
timeout = "500ms"
[[health.check]]
type = "http"
url = "http://127.0.0.1:$2/health"
EOF
}
def web 8080
def old 8081
ks_reload
ks_start konivrer@web.service konivrer@old.service
for s in web old; do
        ks_wait_until 30 "the API knows $s" ks_api_get $s Name
        ks_api_wait $s Health healthy 30
        ks_wait_until 10 "$s.state" ks_exec test -s "$d/$s.state"
done
ks_assert_eq 700 "$(ks_exec stat -c %a "$d")" "mode of $d"

ks_log "old's definition removed: its file stays"
ks_exec systemctl stop konivrer@old.service
ks_exec rm /etc/kservice/old.toml
ks_reload
gone() { ! ks_api_get old Name; }
ks_wait_until 15 "old gone from the API" gone
ks_exec systemctl reload $n
ks_wait_state $n active 10
ks_exec test -f "$d/old.state" || ks_fail "old.state was removed at once with its definition"

ks_log "aged files: old.state 8 days, broken.state (a definition that fails to load) 8 days, temporary files"
ks_state_cat web | ks_write "$d/broken.state" 0600
# broken: a definition that the generator and notifyd reject (exec is required).
ks_def broken <<EOF
description = "no exec"
[health]
interval = "1s"
[[health.check]]
type = "http"
url = "http://127.0.0.1:8082/health"
EOF
ks_state_cat old | ks_write "$d/old.state.bad-1700000000000000" 0600
ks_state_cat web | ks_write "$d/web.state.tmp-Ab3dE9" 0600
ks_state_cat web | ks_write "$d/web.state.tmp-fresh1" 0600
echo "not ours" | ks_write "$d/README" 0644
ks_exec touch -d '-8 days' "$d/old.state" "$d/old.state.bad-1700000000000000" "$d/broken.state" "$d/README"
ks_exec touch -d '-2 minutes' "$d/web.state.tmp-Ab3dE9"
ks_reload
ks_exec systemctl reload $n
ks_wait_state $n active 10
cleaned() { ! ks_exec test -e "$d/old.state"; }
ks_wait_until 10 "old.state removed" cleaned
ls=$(ks_exec ls -1 "$d" | tr '\n' ' ')
ks_log "$d: $ls"
ks_assert_eq "README broken.state web.state web.state.tmp-fresh1 " "$ls" "the files left in $d"
ks_assert_match "Removed [0-9]+ state file\\(s\\) of definitions gone for more than 7 days from $d" \
        "$(ks_exec journalctl -b --no-pager -o cat -u $n)" "notifyd's journal"
ks_api_wait web Health healthy 10
