# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 1: /etc/kservice/web.toml becomes konivrer@web.service after daemon-reload, it
# starts and serves, and systemctl status names the definition as the unit's source.
ks_require "$KS_GENERATOR"
u=konivrer@web.service

ks_def web <<EOF
description = "kservice integration web"
exec = $(ks_testd_exec web 8080)
EOF
# Before the reload the manager has not seen the definition: no generated unit.
ks_is_generated $u && ks_fail "$u is generated before daemon-reload"
ks_reload
ks_is_generated $u || ks_fail "$u is not generated after daemon-reload (FragmentPath: $(ks_show $u FragmentPath))"
ks_assert_eq /etc/kservice/web.toml "$(ks_show $u SourcePath)" "SourcePath"
ks_assert_eq generated "$(ks_show $u UnitFileState)" "UnitFileState"
ks_assert_eq "kservice integration web" "$(ks_show $u Description)" "Description"
ks_assert_eq inactive "$(ks_show $u ActiveState)" "ActiveState before start"

ks_start $u
ks_wait_state $u active 10
ks_wait_http 8080 /ping 200 10
ks_assert_eq 200 "$(ks_http 8080 /health)" "/health of the started service"

status=$(ks_exec systemctl status --no-pager $u) || true
loaded=$(printf '%s\n' "$status" | sed -n 's/^ *Loaded: //p')
ks_assert_eq "loaded (/etc/kservice/web.toml; generated)" "$loaded" "systemctl status Loaded: line"
ks_assert_match "^● $u - kservice integration web" "$status" "systemctl status header"
ks_assert_match "Active: active \(running\)" "$status" "systemctl status Active: line"
