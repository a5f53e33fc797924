# SPDX-License-Identifier: LGPL-2.1-or-later
# timeout: 300
# Issue 13: the health score moves as notifyd/model/score.h defines it. After ResetHistory (a new
# service's N = D = 1), 10 passing rounds and a failure, and then more passes, the Score property
# equals the time-decayed average of score.h at every moment, computed by
# tests/integration/health-model.py from the rounds ks-testd answered (its /count) and their times
# (LastRoundUSec minus whole intervals), within 1e-3: for a service with the default half-life
# (1 h, where 10 passes and a failure make 11/12 = 0.917) and one with score_half_life = "20s",
# where the decay between rounds shows. The score is kept across a restart of notifyd
# (SCORE_NUMERATOR / SCORE_DENOMINATOR in the state file at its clean stop give the same
# number) and goes on from there. A restart by kservice weighs 10 failed rounds: after P passes,
# a failure that restarts the service (failure_threshold 1) and rounds in the new invocation's
# start period (which do not count), the score is (1 + P) / (12 + P) (decayed).
ks_require /usr/libexec/kservice-notifyd
n=kservice-notifyd.service
model=$KS_SRCDIR/tests/integration/health-model.py
INTERVAL_USEC=2000000
declare -A port=([web]=8080 [fast]=8081 [rst]=8082) half=([web]=3600000000 [fast]=20000000 [rst]=3600000000)

for s in web fast rst; do
        ks_testd_set $s ok
        extra=
        [ $s = fast ] && extra='score_half_life = "20s"'
        ft=3 sp=3s
        # rst: restarted at its first failure; the rounds of its next 6 s do not count.
        [ $s = rst ] && ft=1 sp=6s
        ks_def $s <<EOF
exec = $(ks_testd_exec $s "${port[$s]}")
restart_delay = "100ms"
[health]
interval = "2s"
# The first round may come before ks-testd listens ("Connection refused"); the start period keeps
# this scenario apart from how notifyd counts that round (44-stop-races tests it).
start_period = "$sp"
failure_threshold = $ft
timeout = "1s"
$extra
[[health.check]]
type = "http"
url = "http://127.0.0.1:${port[$s]}/health"
EOF
done
ks_reload
ks_start konivrer@web.service konivrer@fast.service konivrer@rst.service
for s in web fast rst; do
        ks_wait_until 30 "the API knows $s" ks_api_get $s Name
        ks_api_wait $s Health healthy 30
done

now_usec() { date +%s%6N; }
count_reaches() { [ "$(ks_testd_count "$1")" -ge "$2" ]; }

# The verdicts of each service's rounds since its reset, one letter each (p, f), and where that
# history starts: reset_count (ks-testd's /count at the reset) and reset_usec.
declare -A verdicts reset_count reset_usec

# reset NAME: ResetHistory between two rounds.
reset() {
        local s=$1 a b t0 t1
        for _ in 1 2 3 4 5; do
                a=$(ks_testd_count "${port[$s]}")
                t0=$(now_usec)
                ks_api_call ResetHistory s "$s" >/dev/null
                t1=$(now_usec)
                b=$(ks_testd_count "${port[$s]}")
                if [ "$a" = "$b" ]; then
                        reset_count[$s]=$b
                        reset_usec[$s]=$(( (t0 + t1) / 2 ))
                        return 0
                fi
                ks_log "a round of $s came in during ResetHistory; again"
                sleep 0.5
        done
        ks_fail "could not reset $s between two rounds"
}

# set_at NAME DIRECTIVE: switches NAME's endpoint between two rounds; appends the verdicts of the
# rounds answered under the previous directive (all passes here) to verdicts[NAME].
set_at() {
        local s=$1 a b
        for _ in 1 2 3 4 5; do
                a=$(ks_testd_count "${port[$s]}")
                ks_testd_set "$s" "$2"
                b=$(ks_testd_count "${port[$s]}")
                if [ "$a" = "$b" ]; then
                        verdicts[$s]+=$(head -c $((a - reset_count[$s])) /dev/zero | tr '\0' p)
                        return 0
                fi
                sleep 0.3
        done
        ks_fail "could not switch $s between two rounds"
}

# expect NAME ROUNDS LAST_INDEX LAST_USEC [FROM_INDEX FROM_USEC]: score.h's score after the first
# ROUNDS verdicts of NAME, round i (1-based) at LAST_USEC - (LAST_INDEX - i) intervals (and
# rounds before FROM_INDEX at FROM_USEC - (FROM_INDEX - i) intervals: the times before a gap).
# Prints "SCORE N D".
expect() {
        local s=$1 r=$2 li=$3 lt=$4 gi=${5:-0} gt=${6:-0} i ev=() v t
        for ((i = 1; i <= r; i++)); do
                v=${verdicts[$s]:i-1:1}
                [ -n "$v" ] || v=p      # rounds after the scripted ones: the endpoint says ok
                if [ "$i" -le "$gi" ]; then t=$((gt - (gi - i) * INTERVAL_USEC)); else t=$((lt - (li - i) * INTERVAL_USEC)); fi
                ev+=("$v@$t")
        done
        "$model" score "${half[$s]}" "${reset_usec[$s]}" "${ev[@]}"
}

# sample NAME: one reading of Score that belongs to a known number of rounds: /count the same
# before and after, and the last round ended less than 1.5 s ago, so the next one (2 s after it
# started) has not begun. Prints "ROUNDS SCORE LAST_ROUND_USEC", or fails (returns 1).
sample() {
        local s=$1 c1 c2 sc l now
        c1=$(ks_testd_count "${port[$s]}")
        sc=$(ks_api_get "$s" Score)
        l=$(ks_api_get "$s" LastRoundUSec)
        c2=$(ks_testd_count "${port[$s]}")
        now=$(now_usec)
        [ "$c1" = "$c2" ] && [ $((now - l)) -lt 1500000 ] || return 1
        echo "$((c1 - reset_count[$s])) $sc $l"
}

# sample_wait NAME: sample, tried for up to 10 s.
sample_wait() {
        local deadline x
        deadline=$(( $(ks_now_ms) + 10000 ))
        while [ "$(ks_now_ms)" -lt "$deadline" ]; do
                x=$(sample "$1") && { echo "$x"; return 0; }
                sleep 0.2
        done
        ks_fail "no reading of $1's Score in 10 s"
}

# check NAME ROUNDS SCORE LAST_USEC [FROM_INDEX FROM_USEC]: SCORE is score.h's within 1e-3.
check() {
        local s=$1 r=$2 sc=$3 l=$4 e
        e=$(expect "$s" "$r" "$r" "$l" "${5:-0}" "${6:-0}")
        e=${e%% *}
        awk -v a="$sc" -v b="$e" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-3) }' ||
                ks_fail "$s: Score $sc after rounds '${verdicts[$s]:0:$r}' (half-life ${half[$s]} us), score.h: $e"
        ks_log "ok: $s: Score $sc after $r rounds '${verdicts[$s]:0:$r}', score.h: $e"
}

for s in web fast; do
        ks_log "---- $s: ResetHistory, 10 passes, a failure, passes (half-life ${half[$s]} us)"
        reset $s
        sc=$(ks_api_get $s Score)
        awk -v s="$sc" 'BEGIN { exit !(s == 1) }' || ks_fail "$s: Score $sc after ResetHistory, expected 1"
        set_at $s "sequence 200 200 200 200 200 200 200 200 200 200 500 200"
        verdicts[$s]+=ppppppppppf
        nf=${#verdicts[$s]}     # the round that fails
        ks_log "$s: the failure will be round $nf since the reset"
        after_failure=0 samples=0
        deadline=$(( $(ks_now_ms) + 60000 ))
        while [ "$(ks_now_ms)" -lt "$deadline" ]; do
                if x=$(sample $s); then
                        read -r r sc l <<<"$x"
                        samples=$((samples + 1))
                        check $s "$r" "$sc" "$l"
                        [ "$r" = "$nf" ] && after_failure=1
                        [ "$r" -ge $((nf + 3)) ] && break
                fi
                sleep 0.2
        done
        ks_assert_eq 1 "$after_failure" "$s: a reading between the failure and the next round"
        [ "$samples" -ge 4 ] || ks_fail "$s: only $samples readings"
        ks_assert_eq 1 "$(ks_api_incidents $s | grep -c ',recovered,')" "$s: the failure's incident, recovered"
done

ks_log "---- the score across a restart of notifyd"
declare -A last_r last_l from_r from_l
for s in web fast; do
        x=$(sample_wait $s) || ks_fail "no reading of $s's Score"
        read -r r _ l <<<"$x"
        last_r[$s]=$r
        last_l[$s]=$l
done
ks_exec systemctl stop $n
for s in web fast; do
        r=$(( $(ks_testd_count "${port[$s]}") - reset_count[$s] ))
        # Rounds after the last reading (at most one) came an interval apart.
        e=$(expect $s "$r" "${last_r[$s]}" "${last_l[$s]}")
        nn=$(ks_state_get $s SCORE_NUMERATOR)
        dd=$(ks_state_get $s SCORE_DENOMINATOR)
        awk -v n="$nn" -v d="$dd" -v e="${e%% *}" 'BEGIN { if (d <= 0 || n < 0 || n > d) exit 1; x = n / d - e; if (x < 0) x = -x; exit !(x <= 1e-3) }' ||
                ks_fail "$s.state at notifyd's stop: SCORE_NUMERATOR $nn / SCORE_DENOMINATOR $dd, score.h after $r rounds: $e"
        ks_log "ok: $s.state: $nn / $dd; score.h after $r rounds: $e"
        from_r[$s]=$r
        from_l[$s]=$(( last_l[$s] + (r - last_r[$s]) * INTERVAL_USEC ))
done
ks_start $n
ks_wait_state $n active 30
for s in web fast; do
        ks_wait_until 30 "the API knows $s again" ks_api_get $s Name
        ks_api_wait $s Health healthy 30
        ks_wait_until 15 "2 rounds of $s since notifyd's restart" count_reaches "${port[$s]}" $((reset_count[$s] + from_r[$s] + 2))
        x=$(sample_wait $s) || ks_fail "no reading of $s's Score"
        read -r r sc l <<<"$x"
        check $s "$r" "$sc" "$l" "${from_r[$s]}" "${from_l[$s]}"
done

ks_log "---- rst: ResetHistory, passes, then a failure that kservice restarts it for (weight 10)"
reset rst
ks_wait_until 20 "5 passes of rst" count_reaches 8082 $((reset_count[rst] + 5))
# Between two rounds: the next round fails (failure_threshold 1: kservice restarts rst), and so
# do the new process's rounds, inside its start period: they do not count.
set_at rst fail
np=${#verdicts[rst]}
ks_api_wait rst RestartsByKservice 1 15
ks_log "rst: restarted by kservice after $np passes since the reset"
# The failing round and the restart happened at the incident's start.
tf=$(ks_api_incidents rst | head -1 | cut -d, -f1)
ev=()
for ((i = 1; i <= np; i++)); do ev+=("p@$((tf - (np + 1 - i) * INTERVAL_USEC))"); done
e=$("$model" score "${half[rst]}" "${reset_usec[rst]}" "${ev[@]}" "f@$tf" "r@$tf")
e=${e%% *}
ks_log "rst: score.h after $np passes, a failure and a restart: $e (without decay $((np + 1))/$((np + 12)))"
for _ in 1 2 3; do
        sc=$(ks_api_get rst Score)
        awk -v a="$sc" -v b="$e" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-3) }' ||
                ks_fail "rst: Score $sc after $np passes, a failure and a restart (during the new start period), score.h: $e"
        ks_log "ok: rst: Score $sc (Health $(ks_api_get rst Health)), score.h: $e"
        sleep 1.5
done
ks_testd_set rst ok
ks_api_wait rst Health healthy 15
s0=$sc
sc=$(ks_api_get rst Score)
# A pass never lowers the score (whether the pass that made rst ready counts is not said).
awk -v a="$sc" -v b="$s0" 'BEGIN { exit !(a >= b - 1e-12 && a <= 1) }' || ks_fail "rst: Score $sc once healthy again: below $s0"
[[ $(ks_api_incidents rst) =~ ,restart,restarted, ]] || ks_fail "rst: incident $(ks_api_incidents rst)"
ks_log "ok: rst: Score $sc once healthy again, the incident ended 'restarted'"
