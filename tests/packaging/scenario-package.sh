# SPDX-License-Identifier: LGPL-2.1-or-later
# versions: 257
# timeout: 240
# The package as a user gets it (integration suite, KS_INSTALL_MODE=deb: the harness installed
# kservice_*.deb with apt-get inside the Debian 13 container): files where systemd looks for
# them, notifyd enabled and running, the man pages readable with man, a definition written by
# hand started with systemctl, an upgrade that leaves running services alone, and a purge that
# leaves no generated unit behind.
[ "${KS_INSTALL_MODE:-}" = deb ] || ks_skip "runs in the packaging mode only (KS_INSTALL_MODE=deb)"
# What the tree builds decides what the package must hold (parts land one after the other).
[ -e "$KS_SRCDIR/generator/meson.build" ] || ks_skip "this tree has no generator yet"
have_notifyd=0; [ -e "$KS_SRCDIR/notifyd/main.c" ] && have_notifyd=1
have_ctl=0; [ -e "$KS_SRCDIR/ctl/meson.build" ] && have_ctl=1

# ---- installed where systemd and man look ------------------------------------------------------
ks_assert_eq "install ok installed" "$(ks_exec dpkg-query -W -f='${Status}' kservice)" "dpkg status"
ks_exec test -x /usr/lib/systemd/system-generators/kservice-generator ||
        ks_fail "no executable /usr/lib/systemd/system-generators/kservice-generator"
[ $have_ctl = 0 ] || ks_exec test -x /usr/bin/kservicectl || ks_fail "no /usr/bin/kservicectl"
ks_exec test -d /etc/kservice || ks_fail "no /etc/kservice"
ks_assert_match '^/etc/kservice/README$' "$(ks_exec cat /var/lib/dpkg/info/kservice.conffiles)" "conffiles"

# ---- notifyd: enabled and running right after the install --------------------------------------
if [ $have_notifyd = 1 ]; then
        ks_assert_eq enabled "$(ks_exec systemctl is-enabled kservice-notifyd.service)" "kservice-notifyd is-enabled"
        ks_wait_state kservice-notifyd.service active 20
        notifyd_invocation=$(ks_show kservice-notifyd.service InvocationID)
fi

# ---- the man pages, through man(1) ---------------------------------------------------------------
ks_exec test -x /usr/bin/man || ks_fail "man is not installed in the container (man-db: see KS_TRIXIE_INCLUDE)"
for scd in "$KS_SRCDIR"/man/*.scd; do
        page=$(basename "$scd" .scd)
        page="${page##*.} ${page%.*}"          # "5 kservice.toml"
        text=$(ks_exec env MANPAGER=cat MANWIDTH=80 man $page 2>&1) || ks_fail "man $page: $text"
        ks_assert_match "^NAME" "$text" "man $page"
done

# ---- a definition written by hand ------------------------------------------------------------------
# With notifyd in the package, the service is health-checked: start returns once it is healthy.
{
        echo 'description = "written by hand after installing the package"'
        echo "exec = $(ks_testd_exec web 8080)"
        echo 'restart = "always"'
        if [ $have_notifyd = 1 ]; then
                printf '%s\n' '' '[health]' 'interval = "1s"' 'timeout = "1s"' '' '[[health.check]]' \
                        'type = "http"' 'url = "http://127.0.0.1:8080/health"'
        fi
} | ks_def web
if [ $have_ctl = 1 ]; then
        ks_exec kservicectl verify /etc/kservice/web.toml >/dev/null || ks_fail "kservicectl verify rejects web.toml"
fi
ks_reload
ks_exec test -f /run/systemd/generator/konivrer@web.service ||
        ks_fail "the generator did not write konivrer@web.service"
ks_exec systemctl start konivrer@web.service
ks_wait_state konivrer@web.service active 20
ks_wait_http 8080 /health 200 10
if [ $have_notifyd = 1 ]; then
        # Started means READY=1 came from the packaged notifyd, sent with the service's PID
        # from inside its sandbox: the privilege it needs survived packaging.
        ks_assert_eq notify "$(ks_show konivrer@web.service Type)" "konivrer@web Type"
        web_has_status() { [ -n "$(ks_show konivrer@web.service StatusText)" ]; }
        ks_wait_until 15 "notifyd's status line on konivrer@web" web_has_status
        ks_log "konivrer@web status: $(ks_show konivrer@web.service StatusText)"
fi
status=$(ks_exec systemctl status --no-pager konivrer@web.service 2>&1 || true)
ks_assert_match 'Loaded: .*\(/etc/kservice/web\.toml; generated\)' "$status" "systemctl status"

# ---- an upgrade (reinstall) restarts notifyd, not the services -----------------------------------
web_pid=$(ks_show konivrer@web.service MainPID)
ks_exec env DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall "$KS_DEB_INSIDE" >/dev/null 2>&1 ||
        ks_fail "apt-get install --reinstall failed"
if [ $have_notifyd = 1 ]; then
        ks_wait_state kservice-notifyd.service active 20
        [ "$(ks_show kservice-notifyd.service InvocationID)" != "$notifyd_invocation" ] ||
                ks_fail "kservice-notifyd was not restarted by the upgrade"
fi
ks_assert_eq "$web_pid" "$(ks_show konivrer@web.service MainPID)" "konivrer@web MainPID after the upgrade"
ks_assert_eq active "$(ks_show konivrer@web.service ActiveState)" "konivrer@web after the upgrade"

# ---- purge: nothing generated is left ------------------------------------------------------------
ks_exec env DEBIAN_FRONTEND=noninteractive apt-get purge -y kservice >/dev/null 2>&1 ||
        ks_fail "apt-get purge kservice failed"
ks_reload
# The manager may still remember units that ran (LoadState=not-found, inactive: it collects
# them when nothing refers to them any more); none may be loaded from a file or be running.
units=$(ks_exec systemctl list-units --all --no-legend --plain 'konivrer@*' 'konivrer-reload@*' 'kservice*')
ks_assert_no_match ' (loaded|masked|error|bad-setting) | (active|activating|deactivating|reloading|failed) ' \
        "$units" "units named konivrer@*/kservice* after purge + daemon-reload"
ks_exec systemctl cat konivrer@web.service >/dev/null 2>&1 && ks_fail "systemctl cat konivrer@web.service still finds a unit file"
ks_exec systemctl cat kservice-notifyd.service >/dev/null 2>&1 && ks_fail "systemctl cat kservice-notifyd.service still finds a unit file"
ks_assert_eq "" "$(ks_exec sh -c 'ls -d /run/systemd/generator*/konivrer* /run/systemd/generator*/*/konivrer* \
        /run/systemd/generator*/kservice* /run/systemd/generator*/*/kservice* 2>/dev/null' || true)" \
        "generated files after purge"
ks_assert_eq closed "$(ks_http 8080 /health 2)" "the hand-written service after purge"
ks_exec test ! -e /usr/lib/systemd/system-generators/kservice-generator || ks_fail "the generator is still installed"
ks_exec test ! -e /etc/kservice/README || ks_fail "the conffile survived the purge"
# The administrator's own definition is not the package's to delete (dpkg keeps the directory).
ks_exec test -f /etc/kservice/web.toml || ks_fail "purge deleted the administrator's /etc/kservice/web.toml"
