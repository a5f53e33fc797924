#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# notifyd's own messages carry the "<N>" priority prefix only when stderr is the journal
# ($JOURNAL_STREAM names stderr's device:inode, systemd's convention), not on a file, a pipe or a
# terminal, also not with a JOURNAL_STREAM inherited for another stream; and --check-privilege
# without CAP_SYS_ADMIN (run by hand) prints its reason without it.
# usage: test-notifyd-log.sh NOTIFYD-BINARY
set -euo pipefail
bin=${1:?usage: test-notifyd-log.sh NOTIFYD-BINARY}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() {  # WHAT EXPECTED-ERE FILE
        if grep -qE "$2" "$3"; then
                echo "ok: $1"
        else
                echo "FAIL: $1: expected /$2/, got: $(head -c 300 "$3")"
                fails=$((fails + 1))
        fi
}

env -u JOURNAL_STREAM "$bin" --log-level=bogus 2>"$tmp/file" && exit 1
check "stderr a file, no JOURNAL_STREAM: no prefix" '^Unknown log level: bogus$' "$tmp/file"

JOURNAL_STREAM=$(stat -c %d:%i "$tmp/file") "$bin" --log-level=bogus 2>"$tmp/file" && exit 1
check "JOURNAL_STREAM names stderr: <3> prefix" '^<3>Unknown log level: bogus$' "$tmp/file"

: >"$tmp/other"
JOURNAL_STREAM=$(stat -c %d:%i "$tmp/other") "$bin" --log-level=bogus 2>"$tmp/file" && exit 1
check "JOURNAL_STREAM names another file: no prefix" '^Unknown log level: bogus$' "$tmp/file"

JOURNAL_STREAM=garbage "$bin" --log-level=bogus 2>"$tmp/file" && exit 1
check "JOURNAL_STREAM unparsable: no prefix" '^Unknown log level: bogus$' "$tmp/file"

{ env -u JOURNAL_STREAM "$bin" --log-level=bogus 2>&1 >/dev/null || true; } | cat >"$tmp/pipe"
check "stderr a pipe: no prefix" '^Unknown log level: bogus$' "$tmp/pipe"

if command -v script >/dev/null; then
        env -u JOURNAL_STREAM script -qec "$bin --log-level=bogus" /dev/null >"$tmp/tty" 2>&1 || true
        check "stderr a terminal: no prefix" '^Unknown log level: bogus.?$' "$tmp/tty"
fi

# By hand, as root without CAP_SYS_ADMIN (removed from the bounding and inheritable sets, so the
# exec'ed program does not get it): the reason, on a terminal-like stream, without "<3>".
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
   setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin true 2>/dev/null; then
        rc=0
        env -u JOURNAL_STREAM setpriv --bounding-set=-sys_admin --inh-caps=-sys_admin \
                "$bin" --check-privilege 2>"$tmp/priv" || rc=$?
        [ "$rc" = 1 ] || { echo "FAIL: --check-privilege without CAP_SYS_ADMIN exited $rc"; fails=$((fails + 1)); }
        check "--check-privilege without CAP_SYS_ADMIN: reason without prefix" \
                '^Cannot send notifications on behalf of other processes: .*CAP_SYS_ADMIN' "$tmp/priv"
else
        echo "skip: --check-privilege without CAP_SYS_ADMIN (needs root and setpriv)"
fi

[ "$fails" = 0 ] || { echo "$fails check(s) failed"; exit 1; }
