# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 5: a broken definition produces no unit, the others still work, at a
# daemon-reload and at boot. Two kinds of breakage: a semantic error (misspelled key) and a TOML
# syntax error. The messages (FILE:LINE:COL in the journal) are checked by 05b.
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
# line 2, column 19: the unterminated string
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

ks_log "the same at boot"
ks_reboot
ks_is_generated konivrer@good.service || ks_fail "the good definition produced no unit at boot"
for n in typo syntax; do
        ks_exec test ! -e "$KS_GENERATOR_DIR/konivrer@$n.service" || ks_fail "konivrer@$n generated at boot"
done
ks_log "ok: at boot too"
