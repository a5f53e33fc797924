# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 6: a service with enabled = true is running after a reboot of the container
# (the generator adds the wants symlink, since generated units cannot be systemctl-enabled); one
# without it is not started.
ks_require "$KS_GENERATOR"

ks_def web <<EOF
exec = $(ks_testd_exec web 8080)
enabled = true
EOF
ks_def idle <<EOF
exec = $(ks_testd_exec idle 8081)
EOF
ks_reload
ks_exec test -L "$KS_GENERATOR_DIR/multi-user.target.wants/konivrer@web.service" ||
        ks_fail "no multi-user.target.wants symlink for konivrer@web.service"
ks_exec test ! -e "$KS_GENERATOR_DIR/multi-user.target.wants/konivrer@idle.service" ||
        ks_fail "konivrer@idle.service is wanted without enabled = true"
# A reload alone starts nothing.
ks_assert_eq inactive "$(ks_show konivrer@web.service ActiveState)" "konivrer@web before the reboot"

ks_reboot
ks_wait_state konivrer@web.service active 20
ks_wait_http 8080 /health 200 10
ks_assert_eq inactive "$(ks_show konivrer@idle.service ActiveState)" "konivrer@idle after the reboot"
ks_assert_eq closed "$(ks_http 8081 /ping 1)" "port of konivrer@idle after the reboot"
ks_assert_match "multi-user.target" "$(ks_show konivrer@web.service WantedBy)" "WantedBy of konivrer@web"
