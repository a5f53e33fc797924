#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tree's layers, checked: every C file opens with its purpose (a comment right after the
SPDX line), and no file includes a header of a layer above its own.

    check-layers.py SRCDIR

Layers, lowest first (README.md, Layout): lib/basic, lib, then the programs; inside notifyd,
check/, systemd/ and model/ sit below the supervisor (notifyd/ itself) and beside each other,
never including one another; notifyd/api (the D-Bus API) sits above notifyd/, and of notifyd/
only main.c may include its headers (EXCEPTIONS).
"""
import os
import re
import sys

src = sys.argv[1]

# folder -> the folders whose headers it may include (besides its own and system headers)
ALLOWED = {
    'lib/basic': [],
    'lib': ['lib/basic'],
    'generator': ['lib', 'lib/basic'],
    'ctl': ['lib', 'lib/basic'],
    'notifyd/check': ['lib', 'lib/basic'],
    'notifyd/systemd': ['lib', 'lib/basic'],
    'notifyd/model': ['lib', 'lib/basic'],
    'notifyd': ['notifyd/check', 'notifyd/systemd', 'notifyd/model', 'lib', 'lib/basic'],
    'notifyd/api': ['notifyd', 'notifyd/check', 'notifyd/systemd', 'notifyd/model', 'lib', 'lib/basic'],
}
# single files allowed a folder above their own: (file, folder)
EXCEPTIONS = {
    ('notifyd/main.c', 'notifyd/api'),     # main wires the API onto the daemon
}
# build-generated headers anyone may include
GENERATED = {'config.h'}

headers = {}    # header name -> folder
for folder in ALLOWED:
    d = os.path.join(src, folder)
    for f in os.listdir(d):
        if f.endswith('.h'):
            if f in headers:
                print('FAIL: %s/%s and %s/%s: two headers of one name' % (folder, f, headers[f], f))
                sys.exit(1)
            headers[f] = folder

failed = 0
checked = 0
for folder, allowed in ALLOWED.items():
    d = os.path.join(src, folder)
    for f in sorted(os.listdir(d)):
        if not f.endswith(('.c', '.h')):
            continue
        checked += 1
        path = os.path.join(folder, f)
        with open(os.path.join(d, f)) as fh:
            lines = fh.read().split('\n')
        if not (lines[0].startswith('/* SPDX-License-Identifier:') and len(lines) > 1 and
                lines[1].startswith('/*') and len(lines[1].strip()) > 2 or
                lines[0].startswith('/* SPDX-License-Identifier:') and lines[1].strip() == '/*' and
                len(lines) > 2 and lines[2].startswith(' * ') and len(lines[2]) > 4):
            print('FAIL: %s does not open with its purpose (a comment after the SPDX line)' % path)
            failed += 1
        for n, line in enumerate(lines, 1):
            m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
            if not m or m.group(1) in GENERATED:
                continue
            name = os.path.basename(m.group(1))
            owner = headers.get(name)
            if owner is None:
                print('FAIL: %s:%d includes "%s", which no layer has' % (path, n, m.group(1)))
                failed += 1
            elif owner != folder and owner not in allowed and (path, owner) not in EXCEPTIONS:
                print('FAIL: %s:%d includes %s/%s, a layer above (or beside) %s/' % (path, n, owner, name, folder))
                failed += 1
print('%d files checked, %d problems' % (checked, failed))
sys.exit(1 if failed else 0)
