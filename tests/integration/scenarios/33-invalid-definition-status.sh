# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 11, item 5: `systemctl start konivrer@broken` for an existing but invalid definition.
# The terminal shows only systemd's generic failure, so the error must reach `systemctl status`:
# its description says the definition is invalid, with the first error (FILE:LINE:COL), and its
# log lines carry the error and the number of errors. The fallback's "no definition found" is
# kept for a name without a definition. kservicectl status says the fallback template is loaded
# because the definition is invalid. After a daemon-reload and at boot.
ks_require "$KS_GENERATOR"
u=konivrer@broken.service

ks_def broken <<'EOF'
description = "has two errors"
exec = ["/bin/true"]
restrat = "always"
nice = 100
EOF
ks_reload

status() { ks_exec systemctl status --no-pager -n 20 "$1" 2>&1 || true; }
error_logged() { status $u | grep -qF 'invalid kservice definition, not started: /etc/kservice/broken.toml:3:1: unknown key "restrat"; did you mean "restart"? (2 errors'; }

check_broken() {  # WHEN
        ks_exec systemctl start $u 2>/dev/null && ks_fail "$u started from an invalid definition ($1)"
        ks_wait_until 10 "the first error in the log lines of systemctl status $u ($1)" error_logged
        local st
        st=$(status $u)
        ks_log "$st"
        ks_assert_match "$u - kservice broken \(invalid definition: /etc/kservice/broken\.toml:3:1: unknown key \"restrat\"; did you mean \"restart\"\?\)" \
                "$st" "the description in systemctl status ($1)"
        ks_assert_no_match 'no definition found|does not exist' "$st" "systemctl status $u ($1)"
        if ks_exec test -x /usr/bin/kservicectl; then
                st=$(ks_exec kservicectl status broken || true)
                ks_log "$st"
                ks_assert_match 'Loaded: fallback /.*/konivrer@\.service, which fails: the definition is invalid' "$st" "kservicectl status broken ($1)"
                ks_assert_match 'Error: /etc/kservice/broken\.toml:3:1: unknown key "restrat"' "$st" "kservicectl status broken ($1)"
        fi
        st=$(status konivrer@nosuch.service)
        ks_assert_match 'konivrer@nosuch\.service - kservice nosuch \(no definition found\)' "$st" "systemctl status of a name without a definition ($1)"
}

check_broken "after daemon-reload"
ks_reboot
check_broken "at boot"
