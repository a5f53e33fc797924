# SPDX-License-Identifier: LGPL-2.1-or-later
# timeout: 300
# Issue 13: kservicectl against real systemd and notifyd's D-Bus API (org.kservice.Notifyd1):
# status, show, history, check and reset, each in short and --json form (every JSON output
# validated against ctl/kservicectl.schema.json on the host), on services in each state: healthy
# (web), unhealthy with an open incident (api), flapping (queue), not running (batch), a broken
# definition (broken), no health checks (plain); names given as NAME, konivrer@NAME and
# konivrer@NAME.service; systemctl's exit codes; a user who is not root (status allowed, check
# and reset refused, by kservicectl and by notifyd); and kservice-notifyd stopped (unit state
# still shown, health "unknown" with a note, exit status unchanged).
ks_require /usr/bin/kservicectl
ks_require /usr/libexec/kservice-notifyd
n=kservice-notifyd.service
schema=$KS_SRCDIR/ctl/kservicectl.schema.json

# ctl [--as-nobody] ARGS...: runs kservicectl inside; sets out (stdout), err (stderr), rc.
ctl() {
        local as=()
        if [ "$1" = --as-nobody ]; then
                as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
                shift
        fi
        rc=0
        out=$(ks_exec sh -c '"$@" 2>/run/ctl.err' sh "${as[@]}" kservicectl --no-pager "$@") || rc=$?
        err=$(ks_exec cat /run/ctl.err)
        ks_log "kservicectl $* (${as[*]:-root}): exit $rc"
        [ -z "$out" ] || ks_log "$out"
        [ -z "$err" ] || ks_log "stderr: $err"
}

# jv PYEXPR: evaluates PYEXPR with d = the JSON document in $out (host side), prints the result
# (strings as they are, the rest as JSON).
jv() {
        python3 -c 'import json, sys
d = json.loads(sys.argv[1])
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r))' "$out" "$1"
}

# valid WHAT: $out is one JSON object valid against the schema.
have_jsonschema=0
python3 -c 'import jsonschema' 2>/dev/null && have_jsonschema=1
[ $have_jsonschema = 1 ] || ks_log "python3-jsonschema is not installed on the host: JSON is parsed, not validated"
valid() {
        python3 - "$schema" "$out" "$have_jsonschema" <<'EOF' || ks_fail "$1: the JSON output is not valid against the schema"
import json, sys
doc = json.loads(sys.argv[2])
if sys.argv[3] == '1':
    import jsonschema
    jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(doc)
EOF
        ks_log "ok: $1 is valid JSON of the schema"
}

# json ARGS...: ctl --json ARGS, then checks it is valid and names the command.
json() {
        ctl --json "$@"
        valid "kservicectl --json $*"
        ks_assert_eq "$1" "$(jv 'd["command"]')" "command of kservicectl --json $*"
}

def() {  # NAME PORT FAILURE-THRESHOLD
        ks_def "$1" <<EOF
exec = $(ks_testd_exec "$1" "$2")
restart_delay = "100ms"
[health]
interval = "1s"
timeout = "500ms"
failure_threshold = $3
[[health.check]]
type = "http"
url = "http://127.0.0.1:$2/health"
EOF
}

for s in web api queue batch; do ks_testd_set $s ok; done
def web 8080 3
def api 8081 100        # fails for good without ever reaching the threshold: unhealthy, no restart
def queue 8082 3        # alternates: flapping, never 3 failures in a row
def batch 8083 3
ks_def plain <<EOF
exec = $(ks_testd_exec plain 8084)
EOF
ks_def broken <<'EOF'
exec = ["/bin/true"]
restrat = "always"
EOF
ks_reload
ks_start konivrer@web.service konivrer@api.service konivrer@queue.service konivrer@plain.service
for s in web api queue plain; do ks_wait_state konivrer@$s.service active 15; done

health_is() {  # NAME STATE: notifyd reports that health (through kservicectl show)
        ks_exec kservicectl show "$1" 2>/dev/null | grep -qx "Health=$2"
}
for s in web api queue; do ks_wait_until 30 "notifyd reports $s healthy" health_is $s healthy; done

ks_log "api becomes unhealthy (below its threshold: an open incident, no restart)"
ks_testd_set api fail
ks_wait_until 15 "api unhealthy" health_is api unhealthy

ks_log "queue alternates every round: flapping"
alternate() { ks_testd_set queue "sequence 500 200 500 200 500 200 500 200 500 200 500 200 500 200 500 200"; }
alternate
ks_wait_until 30 "queue flapping" health_is queue flapping
alternate       # 16 more alternating rounds: it stays flapping while the commands below run

# ---- status --------------------------------------------------------------------------------

ctl status
ks_assert_eq 1 "$rc" "status of all, with a broken definition"
ks_assert_match '^web +active \(running\) +[0-9]+ +healthy, score [0-9.]+$' "$(grep '^web ' <<<"$out")" "web's line"
ks_assert_match '^api +active \(running\) +[0-9]+ +unhealthy, score [0-9.]+: HTTP 500' "$(grep '^api ' <<<"$out")" "api's line"
ks_assert_match '^queue +active \(running\) +[0-9]+ +flapping' "$(grep '^queue ' <<<"$out")" "queue's line"
ks_assert_match '^batch +inactive \(dead\) +[0-9-]+ +unknown(, score [0-9.]+)?$' "$(grep '^batch ' <<<"$out")" "batch's line"
ks_assert_match '^plain +active \(running\) +[0-9]+ +-$' "$(grep '^plain ' <<<"$out")" "plain's line"
ks_assert_match '^broken .*/etc/kservice/broken.toml:2:1: .*restrat' "$(grep '^broken ' <<<"$out")" "broken's line"
ks_assert_no_match '^Note:' "$out" "status with notifyd running"
json status
ks_assert_eq 6 "$(jv 'len(d["services"])')" "services in status --json"
ks_assert_eq '["api", "batch", "broken", "plain", "queue", "web"]' "$(jv '[s["name"] for s in d["services"]]')" "names, sorted"

for name in web konivrer@web konivrer@web.service; do
        ctl status $name
        ks_assert_eq 0 "$rc" "status $name"
        ks_assert_match '^● web - konivrer@web.service$' "$(head -1 <<<"$out")" "status $name, first line"
        ks_assert_match '^ +Active: active \(running\) since .*; .* ago$' "$out" "status $name"
        ks_assert_match "^ +Main PID: $(ks_show konivrer@web.service MainPID)\$" "$out" "status $name"
        ks_assert_match '^ +Health: healthy since ' "$out" "status $name"
        ks_assert_match '^ +Score: [01]\.[0-9]{2}$' "$out" "status $name"
        ks_assert_match '^ +Check: GET http://127.0.0.1:8080/health: passed, HTTP 200' "$out" "status $name"
done
ks_assert_no_match $'\e' "$out" "status on a pipe (no colour)"
json status web
ks_assert_eq healthy "$(jv 'd["services"][0]["health"]["state"]')" "health.state of web"
ks_assert_eq notifyd "$(jv 'd["services"][0]["health"]["source"]')" "health.source of web"
ks_assert_eq active "$(jv 'd["services"][0]["unit_state"]["active_state"]')" "unit_state.active_state of web"
ks_assert_eq "$(ks_show konivrer@web.service MainPID)" "$(jv 'd["services"][0]["unit_state"]["main_pid"]')" "main_pid of web"
ks_assert_eq "$(ks_show konivrer@web.service NRestarts)" "$(jv 'd["services"][0]["unit_state"]["n_restarts"]')" "n_restarts of web"
ctl -o json-pretty status web
valid "kservicectl -o json-pretty status web"
[ "$(wc -l <<<"$out")" -gt 10 ] || ks_fail "-o json-pretty is not indented"

ctl status api
ks_assert_eq 0 "$rc" "status api"
ks_assert_match '^ +Health: unhealthy since .*\([0-9]+/100 failures\)$' "$out" "status api"
ks_assert_match '^ +Incident: since .*, HTTP 500 \(expected 2xx\).* \(action: none\)$' "$out" "status api"
json status api
ks_assert_eq unhealthy "$(jv 'd["services"][0]["health"]["state"]')" "health.state of api"
ks_assert_eq ongoing "$(jv 'd["services"][0]["health"]["open_incident"]["outcome"]')" "api's open incident"
ks_assert_eq 0 "$(jv 'd["services"][0]["health"]["restarts_by_kservice"]')" "api not restarted"

ctl status queue
ks_assert_match '^ +Health: flapping since ' "$out" "status queue"
ks_assert_match '^ +Flapping: yes \([0-9]+% state change\)$' "$out" "status queue"
json status queue
ks_assert_eq true "$(jv 'd["services"][0]["health"]["flapping"]')" "health.flapping of queue"

ctl status batch
ks_assert_eq 3 "$rc" "status of a service that is not running"
ks_assert_match '^ +Active: inactive \(dead\)' "$out" "status batch"
ks_assert_match '^ +Health: unknown' "$out" "status batch"
json status batch
ks_assert_eq 3 "$rc" "status --json of a service that is not running"
ks_assert_eq unknown "$(jv 'd["services"][0]["health"]["state"]')" "health.state of batch"

ctl status broken
ks_assert_eq 1 "$rc" "status of a broken definition"
ks_assert_match '^ +Error: /etc/kservice/broken.toml:2:1: unknown key "restrat"' "$out" "status broken"
json status broken
ks_assert_match '^/etc/kservice/broken.toml:2:1: ' "$(jv 'd["services"][0]["definition"]["error"]')" "definition.error of broken"
ks_assert_eq invalid-definition "$(jv 'd["services"][0]["health"]["source"]')" "health.source of broken"

ctl status plain
ks_assert_eq 0 "$rc" "status plain"
ks_assert_match '^ +Health: no health checks defined$' "$out" "status plain"
json status plain
ks_assert_eq null "$(jv 'd["services"][0]["health"]["state"]')" "health.state of plain"

ctl status nosuch
ks_assert_eq 4 "$rc" "status of a name without a definition"
ks_assert_match 'No definition nosuch.toml' "$err" "status nosuch"
ctl status web batch
ks_assert_eq 3 "$rc" "status of an active and an inactive service"
ctl status web nosuch batch
ks_assert_eq 4 "$rc" "status with an unknown name and an inactive service"

# ---- show, history -------------------------------------------------------------------------

for s in web api queue batch; do
        ctl show $s
        ks_assert_eq 0 "$rc" "show $s"
        for key in Name Unit Health HealthSinceUSec ConsecutiveFailures FailureThreshold LastRoundUSec LastResult \
                   LastReason LastLatencyUSec Checks RestartsByKservice RestartsSeen Flapping FlapPercent Score Incidents; do
                grep -q "^$key=" <<<"$out" || ks_fail "show $s has no $key="
        done
        json show $s
        ks_assert_eq $s "$(jv 'd["properties"]["Name"]')" "properties.Name of show $s"
done
ctl show api
ks_assert_match '^Health=unhealthy$' "$out" "show api"
ks_assert_match '^LastResult=failed$' "$out" "show api"
ks_assert_match '^Incidents=\{ started_usec=[0-9]+ ; ended_usec=0 ; action=none ; outcome=ongoing ; reason=HTTP 500' "$out" "show api"

# The first round may race ks-testd's start and leave a short incident: forget it (web has been
# healthy since; reset itself is tested below).
ks_exec kservicectl reset web >/dev/null
ctl history web
ks_assert_eq 0 "$rc" "history web"
ks_assert_eq "No incidents recorded for web." "$out" "history of a service that never failed"
json history web
ks_assert_eq '[]' "$(jv 'd["incidents"]')" "incidents of web"
ctl history api
ks_assert_match '^STARTED +ENDED +DURATION +ACTION +OUTCOME +REASON$' "$(head -1 <<<"$out")" "history api header"
ks_assert_match ' ongoing .* none +ongoing +HTTP 500' "$(tail -1 <<<"$out")" "history api, the newest last"
json history api
ks_assert_eq ongoing "$(jv 'd["incidents"][-1]["outcome"]')" "the newest incident of api"
ks_assert_eq null "$(jv 'd["incidents"][-1]["ended"]')" "an ongoing incident has no end"
json history queue
ctl history nosuch
ks_assert_eq 4 "$rc" "history of a name without a definition"

# ---- check, reset (root) -------------------------------------------------------------------

ctl check web
ks_assert_eq 0 "$rc" "check of a healthy service"
ks_assert_match '^web: passed: HTTP 200 \([0-9.]+ms\)$' "$out" "check web"
json check konivrer@web.service
ks_assert_eq 0 "$rc" "check --json web"
ks_assert_eq true "$(jv 'd["passed"]')" "passed of check web"
ctl check api
ks_assert_eq 1 "$rc" "check of a failing service"
ks_assert_match '^api: failed: HTTP 500' "$out" "check api"
json check api
ks_assert_eq false "$(jv 'd["passed"]')" "passed of check api"
ctl check batch
ks_assert_eq 3 "$rc" "check of a service that is not running (NotRunning)"
ks_assert_match 'not running' "$err" "check batch"
ctl check nosuch
ks_assert_eq 4 "$rc" "check of a name without a definition"

ks_log "reset: a crash of web is counted, then forgotten"
seen() { ks_exec kservicectl show web | grep -qE "^RestartsSeen=[1-9]"; }
ks_testd_set web "exit 3"
ks_wait_until 15 "notifyd saw web's restart" seen
ks_testd_set web ok
ks_wait_state konivrer@web.service active 10
ctl reset web
ks_assert_eq 0 "$rc" "reset web"
ks_assert_match '^web: history reset' "$out" "reset web"
ctl show web
ks_assert_match '^RestartsSeen=0$' "$out" "RestartsSeen after reset"
ks_assert_match '^RestartsByKservice=0$' "$out" "RestartsByKservice after reset"
ks_assert_match '^Incidents=$' "$out" "Incidents after reset"
json reset api
ks_assert_eq api "$(jv 'd["name"]')" "name of reset --json api"
ctl reset nosuch
ks_assert_eq 4 "$rc" "reset of a name without a definition"

# ---- a user who is not root ----------------------------------------------------------------

ctl --as-nobody status web
ks_assert_eq 0 "$rc" "status web as nobody"
ks_assert_match '^ +Health: healthy' "$out" "status web as nobody"
ctl --as-nobody --json show web
valid "show --json web as nobody"
ctl --as-nobody history api
ks_assert_eq 0 "$rc" "history api as nobody"
for verb in reset check; do
        ctl --as-nobody $verb web
        ks_assert_eq 1 "$rc" "$verb web as nobody"
        ks_assert_match "^Access denied: kservicectl $verb needs root" "$err" "$verb web as nobody"
        ks_assert_eq "" "$out" "stdout of a refused $verb"
done
# notifyd refuses it too, whoever asks it directly (the bus policy, or its own EUID check).
rc=0; e=$(ks_exec setpriv --reuid=65534 --regid=65534 --clear-groups busctl call org.kservice.Notifyd1 \
        /org/kservice/Notifyd1 org.kservice.Notifyd1.Manager ResetHistory s web 2>&1) || rc=$?
ks_log "busctl ResetHistory as nobody: exit $rc: $e"
[ $rc != 0 ] || ks_fail "notifyd accepted ResetHistory from nobody"
ks_assert_match 'Access denied|AccessDenied|denied' "$e" "ResetHistory as nobody"

# ---- kservice-notifyd stopped --------------------------------------------------------------

ks_exec systemctl stop $n
ctl status web
ks_assert_eq 0 "$rc" "status web without notifyd (the unit is active)"
ks_assert_match '^ +Active: active \(running\)' "$out" "status web without notifyd"
ks_assert_match '^ +Health: unknown \(kservice-notifyd is not running\)$' "$out" "status web without notifyd"
ks_assert_match '^Note: kservice-notifyd is not running' "$out" "status web without notifyd"
json status web
ks_assert_eq 0 "$rc" "status --json web without notifyd"
ks_assert_eq notifyd-not-running "$(jv 'd["services"][0]["health"]["source"]')" "health.source without notifyd"
ks_assert_eq unknown "$(jv 'd["services"][0]["health"]["state"]')" "health.state without notifyd"
ks_assert_eq 1 "$(jv 'len(d["notes"])')" "notes without notifyd"
ctl status
ks_assert_eq 1 "$rc" "status of all without notifyd (broken is still broken)"
ks_assert_match '^web +active \(running\) +[0-9]+ +unknown$' "$(grep '^web ' <<<"$out")" "web's line without notifyd"
ctl --as-nobody status web
ks_assert_eq 0 "$rc" "status web as nobody without notifyd"
ctl show web
ks_assert_eq 0 "$rc" "show web without notifyd"
ks_assert_match '^Health=unknown$' "$out" "show web without notifyd"
json show web
ks_assert_eq notifyd-not-running "$(jv 'd["source"]')" "show --json source without notifyd"
ctl history web
ks_assert_eq 0 "$rc" "history web without notifyd"
ks_assert_match '^Note: kservice-notifyd is not running' "$out" "history web without notifyd"
json history web
ks_assert_eq null "$(jv 'd["incidents"]')" "history --json incidents without notifyd"
ctl check web
ks_assert_eq 1 "$rc" "check web without notifyd"
ks_assert_match 'kservice-notifyd is not running' "$err" "check web without notifyd"
ctl reset web
ks_assert_eq 1 "$rc" "reset web without notifyd"
# kservicectl never starts notifyd (no bus activation).
ks_assert_eq inactive "$(ks_show $n ActiveState)" "notifyd after kservicectl ran"
