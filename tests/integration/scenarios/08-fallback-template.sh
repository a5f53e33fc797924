# SPDX-License-Identifier: LGPL-2.1-or-later
# The fallback template: `systemctl start konivrer@nosuch` (no definition) fails, and the journal
# names the missing file and the man page.
ks_require "$KS_GENERATOR"
ks_require /usr/lib/systemd/system/konivrer@.service
u=konivrer@nosuch.service

ks_exec systemctl start $u 2>/dev/null && ks_fail "$u started without a definition"
ks_wait_state $u failed 10
journal=$(ks_exec journalctl -b --no-pager -o cat -u $u)
ks_assert_match '/etc/kservice/nosuch\.toml' "$journal" "journal of $u names the missing file"
ks_assert_match 'kservice\.toml\(5\)|man 5 kservice\.toml' "$journal" "journal of $u names the man page"
