# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 5 (messages): the generator's errors, FILE:LINE:COL and the message, are in the
# journal after a daemon-reload. In these containers /dev/kmsg does not exist and PID 1's stdio is
# /dev/null (tests/integration/README.md), so this holds only if the generator falls back to the
# journal (its socket is there at reload time).
ks_require "$KS_GENERATOR"

ks_def typo <<EOF
description = "has a typo"
exec = $(ks_testd_exec typo 8081)
restrat = "always"
EOF
ks_def syntax <<'EOF'
description = "fine"
exec = ["/bin/true
EOF
ks_def nul <<EOF
exec = ["$KS_TESTD", "nul\\u0000byte"]
EOF
ks_reload

journal=$(ks_exec journalctl -b --no-pager -o cat)
ks_assert_match '/etc/kservice/typo\.toml:3:1: unknown key "restrat"; did you mean "restart"\?' "$journal" \
        "journal after reload (typo.toml)"
ks_assert_match '/etc/kservice/syntax\.toml:2:19: unterminated string' "$journal" \
        "journal after reload (syntax.toml)"
ks_assert_match '/etc/kservice/nul\.toml:1:36: .*NUL' "$journal" "journal after reload (nul.toml)"
