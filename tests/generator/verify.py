#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs `systemd-analyze verify` on every unit of every golden case (tests/generator/cases/good/
*.expected/), so the expected files are not only stable but also units systemd accepts.

    verify.py CASES-DIR TEMPLATE...

The installed templates (konivrer@.service, konivrer-reload@.service) are put on the unit path,
so dependencies on other kservices (konivrer@db.service) and the reload path units' Unit=
resolve as on an installed system. systemd-analyze's output must
be empty except for what this machine cannot know:
  - "Unknown key" for RestartSteps=/RestartMaxDelaySec=/RestartMode= when the local systemd is older than 254
    (such cases are generated for a newer systemd on purpose);
  - "Command X is not executable" when X, the case's program, does not exist here (cases about
    program paths with '$', '%' or blanks).
A unit a case requires (Requires=, Requisite=, BindsTo=: dbus.service, say) that this machine lacks gets
an empty stand-in: the check is of our units, not of what happens to be installed (a minimal
build root has no dbus).
Skipped (77) when systemd-analyze is missing.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

cases, templates = sys.argv[1], sys.argv[2:]
analyze = shutil.which('systemd-analyze')
if not analyze:
    print('SKIP: systemd-analyze not found')
    sys.exit(77)

v = subprocess.run([analyze, '--version'], capture_output=True, text=True).stdout
m = re.match(r'systemd (\d+)', v)
local_version = int(m.group(1)) if m else 0

NEW_KEYS = ('RestartSteps', 'RestartMaxDelaySec', 'RestartMode')
# Only hard dependencies: a missing unit named in Wants= or After= is not an error.
DEP_KEYS = re.compile(r'^(Requires|Requisite|BindsTo)=(.*)$', re.M)
SYSTEM_UNIT_DIRS = ('/etc/systemd/system', '/run/systemd/system', '/usr/lib/systemd/system',
                    '/lib/systemd/system')


def stand_ins(unit_files, own, stubdir):
    """Writes an empty unit for each dependency of unit_files found neither in own (the case's
    and the templates' units) nor in the system's unit directories."""
    for path in unit_files:
        with open(path) as f:
            text = f.read()
        for m in DEP_KEYS.finditer(text):
            for name in m.group(2).split():
                if name in own or '@' in name or '%' in name:
                    continue
                if any(os.path.exists(os.path.join(d, name)) for d in SYSTEM_UNIT_DIRS):
                    continue
                with open(os.path.join(stubdir, name), 'w') as f:
                    f.write('[Unit]\nDescription=stand-in for %s (not on this machine)\n' % name)
                    if name.endswith('.service'):
                        f.write('[Service]\nExecStart=/bin/true\n')
good = os.path.join(cases, 'good')
failed = total = units = 0
for d in sorted(os.listdir(good)):
    if not d.endswith('.expected'):
        continue
    total += 1
    src = os.path.join(good, d)
    with tempfile.TemporaryDirectory(prefix='ks-verify.') as tmp:
        unitdir = os.path.join(tmp, 'units')
        libdir = os.path.join(tmp, 'lib')
        os.makedirs(unitdir)
        os.makedirs(libdir)
        for template in templates:
            shutil.copy(template, libdir)
        files = []
        renamed = {}
        for f in sorted(os.listdir(src)):
            p = os.path.join(src, f)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            # systemd-analyze 252 cannot verify a unit file whose name holds ':' ("Couldn't
            # process aliases"); the content is what is checked, so give it a plain name.
            name = f.replace(':', '_')
            if name != f:
                renamed[name] = f
            shutil.copy(p, os.path.join(unitdir, name))
            files.append(os.path.join(unitdir, name))
        units += len(files)
        stand_ins(files, set(os.listdir(unitdir)) | set(os.listdir(libdir)), libdir)
        env = dict(os.environ, SYSTEMD_UNIT_PATH=unitdir + ':' + libdir + ':', SYSTEMD_LOG_COLOR='0',
                   SYSTEMD_PAGER='')
        r = subprocess.run([analyze, 'verify', '--man=no'] + files, cwd=tmp, env=env,
                           capture_output=True, text=True, timeout=120)
        unexpected = []
        missing_program = False
        for line in (r.stdout + r.stderr).splitlines():
            if not line.strip():
                continue
            k = re.search(r"Unknown key '(\w+)'", line)
            if k and k.group(1) in NEW_KEYS and local_version < 254:
                continue
            c = re.search(r'Command (.+) is not executable: No such file or directory', line)
            if c and not os.path.exists(c.group(1)):
                missing_program = True
                continue
            if re.search(r'has a bad unit file setting|Unit configuration has fatal error', line) and missing_program:
                continue
            unexpected.append(line)
        if unexpected or (r.returncode != 0 and not missing_program):
            failed += 1
            print('not ok %d - %s (exit %d)' % (total, d, r.returncode))
            for line in unexpected:
                print('    ' + line)
        else:
            print('ok %d - %s (%d units%s)' % (total, d, len(files),
                                             ', renamed ' + ', '.join(renamed.values()) if renamed else ''))
print('# systemd %d: %d cases, %d units verified, %d failed' % (local_version, total, units, failed))
sys.exit(1 if failed else 0)
