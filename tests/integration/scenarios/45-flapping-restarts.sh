# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 13, notifyd/model/flap.h: a restart kservice triggers is a change in the flap history, so
# a service that kservice keeps restarting flaps even though each invocation fails steadily. Each
# process of this service passes once (it becomes ready) and then fails 3 times (failure_threshold
# 3: restarted). Counted rounds, from a passing history: p, f (a change), f, f + restart (a
# change), then for each new invocation f, f, f + restart (the restart alone is a change; the pass
# that makes it ready does not count). flap.h's model (tests/integration/health-model.py) says it
# flaps at the 3rd restart with 21.6 %; the scenario checks RestartsByKservice when Flapping turns
# true (+/- 1), Health, FlapPercent and the journal's message with that percent.
ks_require /usr/libexec/kservice-notifyd
# timeout: 240
u=konivrer@web.service
model=$KS_SRCDIR/tests/integration/health-model.py

ks_testd_set web ok
ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
restart_delay = "100ms"
max_restarts = 30
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
count_reaches() { [ "$(ks_testd_count 8080)" -ge "$1" ]; }
ks_wait_until 10 "3 more rounds" count_reaches $(( $(ks_testd_count 8080) + 3 ))

# The prediction: events of a passing history, this process's pass and 3 failures with the
# restart, then 3 failures with a restart per new process.
verdicts="ppppp" k=0 pred='' pct=''
verdicts+="pfffr"
for ((i = 0; i < 10; i++)); do verdicts+="fffr"; done
while read -r ev p f; do
        [ "${verdicts:ev-1:1}" = r ] && k=$((k + 1))
        if [ "$f" = 1 ]; then pred=$k; pct=$(printf '%.1f' "$p"); break; fi
done < <("$model" flap "$verdicts")
ks_log "flap.h: flapping at restart $pred ($pct %)"
ks_assert_eq 3 "$pred" "flap.h's prediction (sanity)"

ks_log "every process passes once, then fails 3 times"
ks_testd_set web "sequence 200 500 500 500"
deadline=$(( $(ks_now_ms) + 60000 ))
while :; do
        v=$(ks_api_get web Flapping) || v="<error>"
        r=$(ks_api_get web RestartsByKservice) || r="<error>"
        [ "$v" = true ] && break
        [ "$(ks_now_ms)" -lt "$deadline" ] || ks_fail "not flapping after 60 s (RestartsByKservice $r)"
        sleep 0.2
done
ks_log "flapping with RestartsByKservice $r"
d=$((r - pred))
{ [ "$d" -ge -1 ] && [ "$d" -le 1 ]; } || ks_fail "flapping at restart $r; flap.h: $pred (+/- 1)"
ks_assert_eq flapping "$(ks_api_get web Health)" "Health"
p=$(ks_api_get web FlapPercent)
awk -v p="$p" 'BEGIN { exit !(p >= 20) }' || ks_fail "FlapPercent $p while flapping"
ks_log "ok: FlapPercent $p"
ks_assert_match "^flapping: ${pct/./\\.}% state change over the last 21 results \\(starts at 20%\\)" \
        "$(ks_exec journalctl -b --no-pager -o cat -u $u)" "the journal of $u"
sc=$(ks_api_get web Score)
awk -v s="$sc" 'BEGIN { exit !(s <= 0.5) }' || ks_fail "Score $sc while flapping (halved: at most 0.5)"
ks_log "ok: Score $sc"
ks_exec systemctl stop $u
