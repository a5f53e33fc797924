# SPDX-License-Identifier: LGPL-2.1-or-later
# The harness itself: the container runs the systemd version asked for, the build is installed,
# and ks-testd (as a transient unit) answers, switches modes and crashes on command.
v=$(ks_exec systemctl --version | head -1)
ks_assert_match "^systemd $KS_VERSION " "$v" "systemctl --version"

ks_exec systemd-run --unit=kstest-probe --property=Restart=no \
        "$KS_TESTD" --port 8099 --control /run/kstest/probe.cmd
ks_wait_state kstest-probe.service active 10
ks_wait_http 8099 /health 200 10
ks_testd_set probe fail
ks_assert_eq 500 "$(ks_http 8099 /health)" "/health after 'fail'"
ks_testd_set probe hang
ks_assert_eq timeout "$(ks_http 8099 /health 1)" "/health after 'hang'"
ks_assert_eq 200 "$(ks_http 8099 /ping)" "/ping while /health hangs"
ks_testd_set probe garbage
ks_assert_eq garbage "$(ks_http 8099 /health)" "/health after 'garbage'"
ks_testd_set probe close
ks_assert_eq closed "$(ks_http 8099 /health)" "/health after 'close'"
ks_testd_set probe "slow 300 503"
ks_assert_eq 503 "$(ks_http 8099 /health)" "/health after 'slow 300 503'"
ks_testd_set probe "exit 3"
ks_wait_state kstest-probe.service failed 10
ks_assert_eq exit-code "$(ks_show kstest-probe.service Result)" "Result after exit 3"
ks_assert_eq 3 "$(ks_show kstest-probe.service ExecMainStatus)" "ExecMainStatus"
ks_exec systemctl reset-failed kstest-probe.service
