# SPDX-License-Identifier: LGPL-2.1-or-later
# notifyd loads libcurl with dlopen() only when a check needs it (notifyd/check/curl-dl.c): with no
# checks, and with native checks (http:// and TCP to an address), libcurl is not in notifyd's
# memory map; an HTTP check of a host name (localhost) loads it. With libcurl unloadable (KS_CURL_SONAME, a test-only
# override) that check fails with "libcurl not available: ..." while notifyd keeps running and
# keeps the other service healthy. notifyd's VmRSS/VmHWM are logged at each stage.
ks_require /usr/libexec/kservice-notifyd
n=kservice-notifyd.service

notifyd_pid() { ks_show $n MainPID; }
notifyd_mem() {
        ks_sh 'grep -E "^(VmHWM|VmRSS|RssAnon|RssFile)" /proc/$1/status | tr -s " \t" " " | tr "\n" " "' "$(notifyd_pid)"
}
curl_mapped() { ks_sh 'grep -q "/libcurl[^/]*\.so" /proc/$1/maps' "$(notifyd_pid)"; }

ks_log "notifyd with no checks: libcurl not mapped"
ks_start $n
ks_wait_state $n active 15
ks_log "memory, no checks: $(notifyd_mem)"
! curl_mapped || ks_fail "libcurl is mapped into notifyd with no checks at all"

ks_log "native checks, HTTP and TCP to an address: still not mapped"
ks_def tcp <<EOF
exec = $(ks_testd_exec tcp 8080)
[health]
interval = "1s"
timeout = "500ms"
[[health.check]]
type = "tcp"
host = "127.0.0.1"
port = 8080
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start konivrer@tcp.service
ks_wait_state konivrer@tcp.service active 15
ks_assert_match "^healthy; HTTP 200" "$(ks_show konivrer@tcp.service StatusText)" "tcp's StatusText"
ks_log "memory, native checks: $(notifyd_mem)"
! curl_mapped || ks_fail "libcurl is mapped into notifyd with only checks of 127.0.0.1 (TCP, http://)"

ks_log "an HTTP check of a host name: libcurl loaded"
ks_def name <<EOF
exec = $(ks_testd_exec name 8081)
[health]
interval = "1s"
timeout = "500ms"
failure_threshold = 1000
[[health.check]]
type = "http"
url = "http://localhost:8081/health"
EOF
ks_reload
ks_start konivrer@name.service
ks_wait_state konivrer@name.service active 15
ks_assert_match "^healthy; HTTP 200" "$(ks_show konivrer@name.service StatusText)" "name's StatusText"
curl_mapped || ks_fail "libcurl is not mapped into notifyd after an HTTP check of localhost passed"
ks_log "memory, libcurl loaded: $(notifyd_mem)"

ks_log "libcurl cannot be loaded: that check fails with the reason, notifyd and the TCP check carry on"
ks_write /etc/systemd/system/$n.d/curl-missing.conf <<EOF
[Service]
Environment=KS_CURL_SONAME=libkservice-test-does-not-exist.so.9
EOF
ks_reload
ks_restart $n
ks_wait_state $n active 15
pid=$(notifyd_pid)
ks_wait_until 10 "name's StatusText to say libcurl is not available" \
        ks_sh 'systemctl show --value -p StatusText konivrer@name.service | grep -q "libcurl not available: libkservice-test-does-not-exist.so.9"'
ks_wait_until 10 "the reason in journalctl -u konivrer@name.service" \
        ks_journal_grep "health check failed: libcurl not available: libkservice-test-does-not-exist.so.9" -u konivrer@name.service
ks_assert_stays $n MainPID "$pid" 3
ks_assert_match "^healthy; HTTP 200" "$(ks_show konivrer@tcp.service StatusText)" "tcp's StatusText"
! curl_mapped || ks_fail "libcurl is mapped although it could not be loaded"
ks_assert_eq active "$(ks_show $n ActiveState)" "notifyd's ActiveState"
