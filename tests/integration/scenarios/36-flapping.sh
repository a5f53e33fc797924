# SPDX-License-Identifier: LGPL-2.1-or-later
# timeout: 240
# Issue 13: a service whose endpoint alternates pass/fail every round is flapping (Health
# "flapping", Flapping true, FlapPercent >= 20, the score halved, FLAPPING=1 in its state file, a
# journal message) at the round notifyd/model/flap.h predicts (the 4th alternating round from a
# steadily healthy history), and when it settles it stops at the round flap.h predicts (the 19th
# after the first settled one). The prediction is computed by tests/integration/health-model.py
# from the verdicts ks-testd actually gave (counted with its /count endpoint); +/- 1 round for
# the polling.
ks_require /usr/libexec/kservice-notifyd
u=konivrer@web.service
model=$KS_SRCDIR/tests/integration/health-model.py

ks_testd_set web ok
# failure_threshold 3 with the default success_threshold 1: alternating never restarts anything.
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
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
ks_api_wait web Health healthy 30
# A few steady passes: the history holds no change.
# count_reaches N: ks-testd has answered N /health requests.
count_reaches() { [ "$(ks_testd_count 8080)" -ge "$1" ]; }
ks_wait_until 10 "3 more rounds" count_reaches $(( $(ks_testd_count 8080) + 3 ))
ks_assert_eq false "$(ks_api_get web Flapping)" "Flapping of a steadily healthy service"
p=$(ks_api_get web FlapPercent)
awk -v p="$p" 'BEGIN { exit !(p == 0) }' || ks_fail "FlapPercent $p of a steadily healthy service, expected 0"

# set_at DIRECTIVE: switches web's endpoint between two rounds and prints the /count at that
# moment (the number of /health requests answered under the previous directive); tried again
# when a request came in meanwhile (then its answer is uncertain).
set_at() {
        local a b
        for _ in 1 2 3 4 5; do
                a=$(ks_testd_count 8080)
                ks_testd_set web "$1"
                b=$(ks_testd_count 8080)
                [ "$a" = "$b" ] && { echo "$a"; return 0; }
                ks_log "a round came in while switching to '$1' ($a, $b); again"
                sleep 0.3
        done
        ks_fail "could not switch to '$1' between two rounds"
}

# first_count SECONDS VALUE: polls Flapping (then /count) until Flapping is VALUE; prints the
# /count read right after, i.e. the rounds seen by then (at most one more than the round that
# changed it, plus what the polling missed). Checks, while flapping, that the score is halved.
first_count() {
        local t=$1 want=$2 deadline v c s v2
        deadline=$(( $(ks_now_ms) + t * 1000 ))
        while :; do
                v=$(ks_api_get web Flapping) || v="<error>"
                c=$(ks_testd_count 8080)
                [ "$v" = "$want" ] && { echo "$c"; return 0; }
                if [ "$v" = true ]; then
                        s=$(ks_api_get web Score)
                        v2=$(ks_api_get web Flapping)
                        # (Only when still flapping after reading it: it may just have ended.)
                        [ "$v2" != true ] || awk -v s="$s" 'BEGIN { exit !(s <= 0.5) }' ||
                                ks_fail "Score $s while flapping: not halved"
                fi
                [ "$(ks_now_ms)" -ge "$deadline" ] && ks_fail "Flapping is not $want after ${t}s ($v)"
                sleep 0.15
        done
}

ks_log "the endpoint alternates 500, 200, 500, 200, ..."
c0=$(set_at "cycle 500 200")
cf=$(first_count 20 true)
ks_log "flapping after $((cf - c0)) alternating rounds"
# What flap.h says: the verdicts since a steady history (passes, here 5 of them), then the cycle.
predict_on=$("$model" flap "ppppp$(for ((i = 0; i < 40; i++)); do [ $((i % 2)) = 0 ] && printf f || printf p; done)" |
        awk '$3 == 1 { print $1 - 5; exit }')
ks_log "flap.h predicts flapping at alternating round $predict_on"
ks_assert_eq 4 "$predict_on" "flap.h's prediction (sanity)"
d=$(( cf - c0 - predict_on ))
{ [ "$d" -ge -1 ] && [ "$d" -le 1 ]; } || ks_fail "flapping after $((cf - c0)) alternating rounds; flap.h: $predict_on (+/- 1)"
ks_assert_eq flapping "$(ks_api_get web Health)" "Health while flapping"
p=$(ks_api_get web FlapPercent)
awk -v p="$p" 'BEGIN { exit !(p >= 20 && p <= 100) }' || ks_fail "FlapPercent $p while flapping (>= 20 expected)"
ks_log "ok: FlapPercent $p"
flapping_saved() { [ "$(ks_state_get web FLAPPING)" = 1 ]; }
ks_wait_until 5 "FLAPPING=1 in web.state" flapping_saved
ks_state_check "$KS_STATE_DIR/web.state" || ks_fail "web.state does not parse while flapping"
# The message gives the percent state change at that round: flap.h's there.
pct_on=$("$model" flap "ppppp$(for ((i = 0; i < 40; i++)); do [ $((i % 2)) = 0 ] && printf f || printf p; done)" |
        awk '$3 == 1 { printf "%.1f", $2; exit }')
j=$(ks_exec journalctl -b --no-pager -o cat -u $u)
ks_assert_match "^flapping: ${pct_on/./\\.}% state change over the last 21 results \\(starts at 20%\\)" "$j" "the journal of $u"
ks_assert_match "^flapping, " "$(ks_show $u StatusText)" "StatusText while flapping"
ks_assert_eq active "$(ks_show $u ActiveState)" "ActiveState while flapping"
ks_assert_eq 0 "$(ks_api_get web RestartsByKservice)" "RestartsByKservice while alternating (failure_threshold 3 never reached)"

ks_log "a few more alternating rounds, then it settles: always 200"
ks_wait_until 10 "4 more rounds" count_reaches $((cf + 4))
cs=$(set_at ok)
m=$((cs - c0))
cycle=$(for ((i = 0; i < m; i++)); do [ $((i % 2)) = 0 ] && printf f || printf p; done)
ks_log "settled after $m alternating rounds ($cycle)"
ce=$(first_count 45 false)
settled=$((ce - cs))
predict_off=$("$model" flap "ppppp${cycle}$(printf 'p%.0s' $(seq 1 40))" |
        awk -v from=$((5 + m)) '$1 > from && $3 == 0 { print $1 - from; exit }')
ks_log "flapping ended after $settled settled rounds; flap.h predicts $predict_off"
{ [ "$predict_off" -ge 19 ] && [ "$predict_off" -le 20 ]; } || ks_fail "flap.h's prediction $predict_off (sanity: 19 or 20)"
d=$(( settled - predict_off ))
{ [ "$d" -ge -1 ] && [ "$d" -le 1 ]; } || ks_fail "flapping ended after $settled settled rounds; flap.h: $predict_off (+/- 1)"
ks_assert_eq healthy "$(ks_api_get web Health)" "Health once no longer flapping"
p=$(ks_api_get web FlapPercent)
awk -v p="$p" 'BEGIN { exit !(p <= 5) }' || ks_fail "FlapPercent $p after flapping ended (<= 5 expected)"
s=$(ks_api_get web Score)
awk -v s="$s" 'BEGIN { exit !(s > 0.5 && s < 1) }' || ks_fail "Score $s after flapping ended (no longer halved: above 0.5)"
not_flapping_saved() { [ "$(ks_state_get web FLAPPING)" = 0 ]; }
ks_wait_until 5 "FLAPPING=0 in web.state" not_flapping_saved
pct_off=$("$model" flap "ppppp${cycle}$(printf 'p%.0s' $(seq 1 40))" |
        awk -v from=$((5 + m)) '$1 > from && $3 == 0 { printf "%.1f", $2; exit }')
j=$(ks_exec journalctl -b --no-pager -o cat -u $u)
ks_assert_match "^no longer flapping: ${pct_off/./\\.}% state change over the last 21 results \\(stops at 5%\\)" "$j" "the journal of $u"
ks_assert_eq 1 "$(grep -c '^flapping: ' <<<"$j")" "'flapping:' messages"
ks_assert_eq 1 "$(grep -c '^no longer flapping: ' <<<"$j")" "'no longer flapping:' messages"
ks_assert_no_match "^flapping, " "$(ks_show $u StatusText)" "StatusText after flapping ended"
