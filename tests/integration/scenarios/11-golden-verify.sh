# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 3: every golden unit (tests/generator/cases/good/*.expected/) passes systemd-analyze verify
# inside the container, with the installed fallback template and man pages, so on 257 also the
# directives the host's systemd 252 does not know (RestartSteps=, RestartMaxDelaySec=,
# RestartMode=) are checked by a systemd that does. The only output allowed is "Command X is not
# executable" for the cases about unusual program paths ('$', '%', blanks), which do not exist.
# (On 252, the host's systemd, tests/generator/verify.py does the same in the generator suite.)
# versions: 257
ks_exec test -x /usr/bin/systemd-analyze || ks_skip "systemd-analyze missing"
cases=$KS_SRCDIR/tests/generator/cases/good
dst=/var/tmp/golden
ks_exec mkdir -p $dst
n=0
for d in "$cases"/*.expected; do
        # A ':' in a path trips systemd-analyze ("Couldn't process aliases"); the manager itself
        # loads konivrer@NAME:x.service fine (checked by hand), so such names are renamed here.
        c=$(basename "$d" .expected | tr : _)
        mkdir -p "$KS_ROOT$dst/$c"
        for f in "$d"/*; do
                [ -f "$f" ] && [ ! -L "$f" ] || continue
                cp "$f" "$KS_ROOT$dst/$c/$(basename "$f" | tr : _)"
                n=$((n + 1))
        done
done
ks_log "$n units from $(ls -d "$cases"/*.expected | wc -l) golden cases"

out=$KS_TMP/golden-verify.txt
: >"$out"
for d in "$KS_ROOT$dst"/*; do
        c=$(basename "$d")
        res=$(ks_sh 'cd "$1" && SYSTEMD_LOG_COLOR=0 systemd-analyze verify --man=yes "$1"/* 2>&1; echo "exit=$?"' "$dst/$c")
        printf '== %s\n%s\n' "$c" "$res" >>"$out"
done

python3 - "$out" <<'PY' || ks_fail "systemd-analyze verify complained (details above)"
import os, re, sys
bad = 0
case = None
missing = False
for line in open(sys.argv[1], encoding='utf-8', errors='replace'):
    line = line.rstrip('\n')
    if line.startswith('== '):
        case, missing = line[3:], False
        continue
    if not line.strip():
        continue
    m = re.search(r'Command (.+) is not executable: No such file or directory', line)
    if m and case in ('exec-dollar-program', 'exec-percent-program', 'exec-spaces-program'):
        missing = True
        continue
    if missing and re.search(r'bad unit file setting|fatal error', line):
        continue
    if line.startswith('exit='):
        if line != 'exit=0' and not missing:
            bad += 1
            print('%s: systemd-analyze verify %s' % (case, line))
        continue
    bad += 1
    print('%s: %s' % (case, line))
print('%s: %d problems' % ('FAIL' if bad else 'ok', bad))
sys.exit(1 if bad else 0)
PY
