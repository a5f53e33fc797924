# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 4, scenario 5: a broken definition produces no unit, the others still work, at a
# daemon-reload and at boot. Two kinds of breakage: a semantic error (misspelled key) and a TOML
# syntax error. The messages (FILE:LINE:COL) in the journal of a reload are checked by 12; the
# journal of the boot is checked here.
ks_require "$KS_GENERATOR"

# Good definitions on both sides of the broken ones, in the generator's (name) order.
ks_def a-good <<EOF
exec = $(ks_testd_exec a-good 8080)
EOF
ks_def z-good <<EOF
exec = $(ks_testd_exec z-good 8082)
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

for n in a-good z-good; do
        ks_is_generated konivrer@$n.service || ks_fail "the good definition $n produced no unit"
done
ks_start konivrer@a-good.service konivrer@z-good.service
ks_wait_state konivrer@a-good.service active 10
ks_wait_state konivrer@z-good.service active 10
ks_wait_http 8080 /health 200 10
ks_wait_http 8082 /health 200 10

ks_log "the same at boot"
ks_reboot
for n in a-good z-good; do
        ks_is_generated konivrer@$n.service || ks_fail "the good definition $n produced no unit at boot"
done
for n in typo syntax; do
        ks_exec test ! -e "$KS_GENERATOR_DIR/konivrer@$n.service" || ks_fail "konivrer@$n generated at boot"
done
ks_log "ok: at boot too"
# At a container's boot there is neither /dev/kmsg nor a running journald when generators run;
# kservice-generator(8) keeps the messages for its report unit, which logs them during the boot.
boot_report() { ks_journal_grep '/etc/kservice/typo\.toml:3:1: unknown key "restrat"'; }
ks_wait_until 30 "the error of typo.toml in the journal of the boot" boot_report
ks_log "ok: the error is in the journal of the boot"
