#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kservice-notifyd(8)'s D-BUS API section documents the API the code serves: every method and
property of the vtables in notifyd/api/*.c with its D-Bus type, properties said "Signalled"
exactly when they carry SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE (EMITS) and "Constant" when
SD_BUS_VTABLE_PROPERTY_CONST, every error name of api.h, and the policy file's methods.

usage: test-notifyd-api-man.py PAGE.scd API-DIR POLICY.conf
"""
import os
import re
import sys

page_path, api_dir, policy_path = sys.argv[1:4]
page = open(page_path).read()
section = page.split('\n# D-BUS API\n', 1)[1].split('\n# ', 1)[0] if '\n# D-BUS API\n' in page else ''
code = ''.join(open(os.path.join(api_dir, f)).read() for f in sorted(os.listdir(api_dir)) if f.endswith(('.c', '.h')))
failures = []


def check(ok, msg):
    print(('ok: ' if ok else 'FAIL: ') + msg)
    if not ok:
        failures.append(msg)


check(section != '', 'the page has a D-BUS API section')

# The entry of NAME in the section: from its "*NAME*" line to the next unindented line.
def entry(name):
    m = re.search(r'^\*' + re.escape(name) + r'(\*|\()(.*)\n((?:\t.*\n|\n)*?)(?=\S|\Z)', section, re.M)
    return (m.group(2), m.group(3)) if m else None


props = re.findall(r'SD_BUS_PROPERTY\("(\w+)",\s*"([^"]+)",\s*\w+,\s*\w+,\s*([\w|]+)\)', code)
check(len(props) > 10, f'{len(props)} properties found in the code')
for name, sig, flags in props:
    e = entry(name)
    check(e is not None, f'property {name} is documented')
    if not e:
        continue
    check(f'*{sig}*' in e[0], f'{name} has type {sig} in the page')
    text = ' '.join(e[1].split())
    if 'CONST' in flags:
        check('Constant.' in text, f'{name} is said constant')
    elif 'EMITS' in flags:
        check('Signalled.' in text and 'Not signalled' not in text, f'{name} is said signalled')
    else:
        check('Not signalled.' in text, f'{name} is said not signalled')

methods = re.findall(r'SD_BUS_METHOD_WITH_NAMES\("(\w+)"', code)
check(len(methods) == 4, f'{len(methods)} methods found in the code')
for name in methods:
    check(entry(name) is not None, f'method {name} is documented')

for name in re.findall(r'#define KS_API_ERROR_\w+ "([\w.]+)"', code):
    check(f'*{name}*' in section, f'error {name} is documented')

policy = open(policy_path).read()
for name in re.findall(r'send_member="(\w+)"', policy):
    check(name in section, f'the page says who may call {name}')
for name in methods:
    allowed = f'send_member="{name}"' in policy
    check(allowed == (name in ('ListServices', 'GetService')),
          f'the policy lets everyone call {name}: {allowed}')

sys.exit(1 if failures else 0)
