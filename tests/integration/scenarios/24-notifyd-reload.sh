# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 5: definitions are read again after `systemctl daemon-reload` (systemd's Reloading signal)
# and on SIGHUP (`systemctl reload kservice-notifyd`): a changed interval takes effect, an added
# service is checked, a removed one is not any more, and an unchanged one is not disturbed.
ks_require /usr/libexec/kservice-notifyd
# timeout: 240


# rate PORT SECONDS: /health requests per 10 s seen by ks-testd on PORT over SECONDS.
rate() {
        local a b t0 t1
        a=$(ks_testd_count "$1"); t0=$(ks_now_ms)
        sleep "$2"
        b=$(ks_testd_count "$1"); t1=$(ks_now_ms)
        echo $(( (b - a) * 10000 / (t1 - t0) ))
}

def() {  # NAME PORT INTERVAL TIMEOUT
        ks_def "$1" <<EOF
exec = $(ks_testd_exec "$1" "$2")
[health]
interval = "$3"
timeout = "$4"
[[health.check]]
type = "http"
url = "http://127.0.0.1:$2/health"
EOF
}

for s in web steady gone; do ks_testd_set $s ok; done
def web 8080 2s 1s
# steady has a TCP check: connect only.
ks_def steady <<EOF
exec = $(ks_testd_exec steady 8081)
[health]
interval = "1s"
timeout = "500ms"
[[health.check]]
type = "tcp"
host = "127.0.0.1"
port = 8081
EOF
def gone 8082 1s 500ms
ks_reload
ks_start konivrer@web.service konivrer@steady.service konivrer@gone.service

r=$(rate 8080 6)
ks_log "web: $r checks per 10 s at interval 2s"
{ [ "$r" -ge 3 ] && [ "$r" -le 7 ]; } || ks_fail "web: $r checks per 10 s at a 2 s interval"

ks_log "daemon-reload: web's interval becomes 500ms, gone loses its health checks, new is added"
def web 8080 500ms 250ms
ks_write /etc/kservice/gone.toml <<EOF
exec = $(ks_testd_exec gone 8082)
EOF
ks_testd_set new ok
def new 8083 1s 500ms
ks_reload
ks_wait_until 10 "notifyd read the definitions again" \
        ks_journal_grep "Definitions: 3 with health checks \(1 added, 1 changed, 1 removed" -u kservice-notifyd.service
r=$(rate 8080 5)
ks_log "web: $r checks per 10 s at interval 500ms"
{ [ "$r" -ge 16 ] && [ "$r" -le 24 ]; } || ks_fail "web: $r checks per 10 s at a 500 ms interval"
ks_journal_grep "health checks reconfigured: 1 check\(s\) every 500 ms" -u konivrer@web.service ||
        ks_fail "no 'reconfigured' message for web"
ks_journal_grep "health checks reconfigured" -u konivrer@steady.service &&
        ks_fail "steady's unchanged checks were reconfigured"
ks_log "gone: its old invocation keeps running, nobody checks it any more"
r=$(rate 8082 3)
ks_assert_eq 0 "$r" "checks per 10 s of the service whose health checks were removed"
ks_restart konivrer@gone.service
ks_assert_eq active "$(ks_show konivrer@gone.service ActiveState)" "gone, now without health checks"
ks_log "new: readiness gated and checked"
ks_start konivrer@new.service
ks_assert_match "^healthy; HTTP 200" "$(ks_show konivrer@new.service StatusText)" "new's StatusText"
r=$(rate 8083 4)
{ [ "$r" -ge 7 ] && [ "$r" -le 13 ]; } || ks_fail "new: $r checks per 10 s at a 1 s interval"
ks_assert_eq 0 "$(ks_show konivrer@steady.service NRestarts)" "steady's NRestarts"
ks_assert_match "^healthy; TCP connected in " "$(ks_show konivrer@steady.service StatusText)" "steady's StatusText (TCP check)"
ks_assert_eq 0 "$(ks_show konivrer@web.service NRestarts)" "web's NRestarts"

ks_log "SIGHUP (systemctl reload kservice-notifyd) without daemon-reload: web back to 2s"
def web 8080 2s 1s
ks_exec systemctl reload kservice-notifyd.service
ks_wait_until 10 "the reload" ks_journal_grep "health checks reconfigured: 1 check\(s\) every 2000 ms" -u konivrer@web.service
r=$(rate 8080 6)
ks_log "web: $r checks per 10 s at interval 2s again"
{ [ "$r" -ge 3 ] && [ "$r" -le 7 ]; } || ks_fail "web: $r checks per 10 s at a 2 s interval after SIGHUP"
ks_assert_eq active "$(ks_show kservice-notifyd.service ActiveState)" "notifyd after reload"
