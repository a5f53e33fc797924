# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 13: notifyd's D-Bus API, org.kservice.Notifyd1, on the real system bus with the policy
# file the build installs. busctl introspect shows the manager and a service object (properties
# that signal flagged emits-change, per-round ones not), busctl tree lists the service, and
# ListServices and the properties read as the daemon knows them. busctl monitor sees no
# PropertiesChanged while rounds pass, and one with Health when the service fails. As root, CheckNow passes for a
# healthy service and fails once ks-testd answers 500; ResetHistory works. As a user who is not
# root, introspection, property reads, ListServices and GetService work and CheckNow and
# ResetHistory are refused by the bus policy; with the policy opened to that user (a drop-in in
# /etc/dbus-1/system.d), notifyd refuses them itself, saying they need root.
ks_require /usr/libexec/kservice-notifyd
ks_require /usr/share/dbus-1/system.d/org.kservice.Notifyd1.conf
ks_require /usr/bin/dbus-send
u=konivrer@web-1.service
dest=org.kservice.Notifyd1
mgr=/org/kservice/Notifyd1
svc=/org/kservice/Notifyd1/service/web_2d1
bc() { ks_exec busctl "$@"; }

ks_testd_set web-1 ok
ks_def web-1 <<EOF
exec = $(ks_testd_exec web-1 8080)
restart_delay = "100ms"
[health]
interval = "1s"
timeout = "500ms"
failure_threshold = 5
[[health.check]]
type = "http"
url = "http://127.0.0.1:8080/health"
EOF
ks_reload
ks_start $u
ks_wait_until 15 "$dest on the system bus" bc status $dest
health() { bc get-property $dest $svc org.kservice.Notifyd1.Service Health; }
healthy() { [ "$(health)" = 's "healthy"' ]; }
ks_wait_until 15 "web-1 healthy in the API" healthy
ks_assert_no_match "Failed to (acquire|request) the bus name" \
        "$(ks_exec journalctl -b --no-pager -o cat -u kservice-notifyd.service)" "notifyd's journal"

ks_log "introspection and tree"
i=$(bc introspect $dest $mgr)
ks_log "$i"
ks_assert_match "org\.kservice\.Notifyd1\.Manager +interface" "$i" "manager introspection"
ks_assert_match "\.CheckNow +method +s +bst " "$i" "manager introspection"
ks_assert_match "\.ListServices +method +- +a\(ssosdbtt\) " "$i" "manager introspection"
ks_assert_match "\.Version +property +s +\"[0-9.]+\" +const" "$i" "manager introspection"
t=$(bc tree $dest)
ks_assert_match "$svc" "$t" "busctl tree"
i=$(bc introspect $dest $svc)
ks_log "$i"
ks_assert_match "\.Health +property +s +\"healthy\" +emits-change" "$i" "service introspection"
ks_assert_match "\.Incidents +property +a\(ttsss\) +[0-9]+ .*emits-change$" "$i" "service introspection"
ks_assert_match "\.Score +property +d +[0-9.e-]+ +-" "$i" "service introspection (per round: no signal)"
ks_assert_match "\.LastResult +property +s +\"passed\" +-" "$i" "service introspection"
ks_assert_match "\.Unit +property +s +\"$u\" +const" "$i" "service introspection"

ks_log "ListServices, GetService"
l=$(bc call $dest $mgr org.kservice.Notifyd1.Manager ListServices)
ks_assert_match "^a\(ssosdbtt\) 1 \"web-1\" \"$u\" \"$svc\" \"healthy\" [0-9.e-]+ false 0 0$" "$l" "ListServices"
ks_assert_eq "o \"$svc\"" "$(bc call $dest $mgr org.kservice.Notifyd1.Manager GetService s $u)" "GetService"
out=$(bc call $dest $mgr org.kservice.Notifyd1.Manager GetService s nosuch 2>&1) && ks_fail "GetService nosuch: $out"
ks_assert_match "No service 'nosuch' with health checks" "$out" "GetService nosuch"

ks_log "PropertiesChanged: none for passing rounds (1 s apart), sent when the health changes"
mon=$(mktemp)
ks_exec timeout 30 stdbuf -oL busctl --json=short monitor $dest >"$mon" 2>&1 &
monpid=$!
sleep 4.5
ks_assert_eq 0 "$(grep -c '"member":"PropertiesChanged"' "$mon" || true)" "PropertiesChanged over 4 passing rounds"
ks_testd_set web-1 fail
ks_wait_until 10 "PropertiesChanged with Health" grep -q '"member":"PropertiesChanged".*"Health"' "$mon"
ks_testd_set web-1 ok
ks_wait_until 15 "web-1 healthy again" healthy
kill "$monpid" 2>/dev/null || true
wait "$monpid" 2>/dev/null || true
ks_log "$(grep -o '"path":"[^"]*".*"member":"PropertiesChanged".*' "$mon" | cut -c1-300)"
ks_assert_no_match '"(LastRoundUSec|Score|Checks|LastResult)"' "$(grep '"member":"PropertiesChanged"' "$mon")" \
        "PropertiesChanged (per-round properties are never sent)"
rm -f "$mon"

ks_log "CheckNow as root"
c=$(bc call $dest $mgr org.kservice.Notifyd1.Manager CheckNow s web-1)
ks_assert_match '^bst true "HTTP 200' "$c" "CheckNow of a healthy service"
ks_testd_set web-1 fail
c=$(bc call $dest $mgr org.kservice.Notifyd1.Manager CheckNow s konivrer@web-1)
ks_assert_match '^bst false "HTTP 500' "$c" "CheckNow of a failing service"
ks_testd_set web-1 ok
# Healthy, then failing, then healthy again, twice: the flap detector may say flapping now.
passing() { [ "$(bc get-property $dest $svc org.kservice.Notifyd1.Service LastResult)" = 's "passed"' ]; }
ks_wait_until 15 "web-1 passing again" passing
ks_log "before the reset: $(bc get-property $dest $svc org.kservice.Notifyd1.Service Health Incidents Score | tr '\n' ' ')"
ks_assert_eq "" "$(bc call $dest $mgr org.kservice.Notifyd1.Manager ResetHistory s web-1)" "ResetHistory as root"
# Incidents, counters, flap history and score as a new service's; healthy, not flapping.
ks_wait_until 15 "web-1 healthy after the reset" healthy
ks_assert_eq "a(ttsss) 0" "$(bc get-property $dest $svc org.kservice.Notifyd1.Service Incidents)" "Incidents after the reset"
ks_assert_eq "b false" "$(bc get-property $dest $svc org.kservice.Notifyd1.Service Flapping)" "Flapping after the reset"
ks_assert_eq "t 0" "$(bc get-property $dest $svc org.kservice.Notifyd1.Service RestartsSeen)" "RestartsSeen after the reset"
ks_exec systemctl stop $u
out=$(bc call $dest $mgr org.kservice.Notifyd1.Manager CheckNow s web-1 2>&1) && ks_fail "CheckNow of a stopped unit: $out"
ks_assert_match "is not running" "$out" "CheckNow of a stopped unit"
ks_start $u
ks_wait_until 15 "web-1 healthy again" healthy

ks_log "a user who is not root"
ks_exec useradd --system --no-create-home --shell /usr/sbin/nologin kstest
kuid=$(ks_exec id -u kstest)
asuser() { ks_exec setpriv --reuid="$kuid" --regid="$kuid" --clear-groups "$@"; }
# busctl shows any AccessDenied as "Access denied"; dbus-send prints the error's own message.
send_as_kstest() { asuser dbus-send --system --print-reply --dest=$dest $mgr org.kservice.Notifyd1.Manager.$1 string:web-1 2>&1; }
ks_assert_eq 's "healthy"' "$(asuser busctl get-property $dest $svc org.kservice.Notifyd1.Service Health)" "Health read by kstest"
ks_assert_match "\.Health +property" "$(asuser busctl introspect $dest $svc)" "introspection by kstest"
ks_assert_match "^a\(ssosdbtt\) 1 \"web-1\"" "$(asuser busctl call $dest $mgr org.kservice.Notifyd1.Manager ListServices)" "ListServices by kstest"
ks_assert_eq "o \"$svc\"" "$(asuser busctl call $dest $mgr org.kservice.Notifyd1.Manager GetService s web-1)" "GetService by kstest"
asuser busctl get-property $dest $svc org.kservice.Notifyd1.Service Checks >/dev/null
for m in CheckNow ResetHistory; do
        out=$(send_as_kstest $m) && ks_fail "$m by kstest: $out"
        ks_log "$m by kstest: $out"
        ks_assert_match "AccessDenied: (Rejected send message|.*not authorized)" "$out" "$m by kstest (bus policy)"
done

ks_log "the bus lets kstest through: notifyd refuses by itself"
ks_write /etc/dbus-1/system.d/zz-kstest.conf <<'EOF'
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
        "https://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
        <policy user="kstest">
                <allow send_destination="org.kservice.Notifyd1"/>
        </policy>
</busconfig>
EOF
bc call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
for m in CheckNow ResetHistory; do
        out=$(send_as_kstest $m) && ks_fail "$m by kstest: $out"
        ks_log "$m by kstest, past the bus: $out"
        ks_assert_match "org\.freedesktop\.DBus\.Error\.AccessDenied: $m needs root \(caller's UID is $kuid\)" "$out" \
                "$m by kstest (notifyd's own check)"
done
ks_exec rm /etc/dbus-1/system.d/zz-kstest.conf
bc call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
ks_exec systemctl stop $u
