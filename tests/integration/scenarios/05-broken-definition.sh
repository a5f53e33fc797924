# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 5: a broken definition produces no unit, the others still work, and the error,
# FILE:LINE:COL, is in the journal of the reload and of the boot. Two kinds of breakage: a
# semantic error (misspelled key, with a "did you mean") and a TOML syntax error.
ks_require "$KS_GENERATOR"

ks_def good <<EOF
exec = $(ks_testd_exec good 8080)
EOF
# line 3, column 1: the misspelled key
ks_def typo <<EOF
description = "has a typo"
exec = $(ks_testd_exec typo 8081)
restrat = "always"
EOF
# line 2: the unterminated string
ks_def syntax <<'EOF'
description = "fine"
exec = ["/bin/true
EOF
ks_reload

for n in typo syntax; do
        u=konivrer@$n.service
        ks_exec test ! -e "$KS_GENERATOR_DIR/$u" || ks_fail "$u was generated from a broken definition"
        ks_is_generated $u && ks_fail "$u is loaded from the generator dir"
        ks_exec systemctl start $u 2>/dev/null && ks_fail "$u started from a broken definition"
done
ks_log "ok: no unit for the broken definitions"

ks_is_generated konivrer@good.service || ks_fail "the good definition produced no unit"
ks_exec systemctl start konivrer@good.service
ks_wait_state konivrer@good.service active 10
ks_wait_http 8080 /health 200 10

journal=$(ks_exec journalctl -b --no-pager -o cat)
ks_assert_match '/etc/kservice/typo\.toml:3:1: .*restrat.*did you mean .*restart' "$journal" \
        "journal after reload (typo.toml)"
ks_assert_match '/etc/kservice/syntax\.toml:2:[0-9]+: ' "$journal" "journal after reload (syntax.toml)"

ks_log "the same at boot"
ks_reboot
journal=$(ks_exec journalctl -b --no-pager -o cat)
ks_assert_match '/etc/kservice/typo\.toml:3:1: ' "$journal" "journal of the boot (typo.toml)"
ks_is_generated konivrer@good.service || ks_fail "the good definition produced no unit at boot"
ks_exec test ! -e "$KS_GENERATOR_DIR/konivrer@typo.service" || ks_fail "konivrer@typo generated at boot"
