#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kservice-notifyd(8) agrees with notifyd's unit, its --help and its code.

- the unit's RestartSec=, WatchdogSec= and TimeoutStopSec= are the values the page names, and the
  grace in the services' derived watchdog (KS_WATCHDOG_GRACE_USEC, lib/service.h) covers a hung
  notifyd: its watchdog, the time systemd gives the aborted process to die (TimeoutAbortSec=,
  which defaults to TimeoutStopSec=) and RestartSec=;
- every option of the page's OPTIONS is in --help and the other way round;
- the log levels of the page, of --help and of the binary (each accepted, a bogus one refused)
  are the same.

usage: test-notifyd-man.py PAGE.scd UNIT.service.in SERVICE.h NOTIFYD-BINARY
"""
import re
import subprocess
import sys


def seconds(v):
    m = re.fullmatch(r'([0-9.]+)(ms|s|min)?', v)
    if not m:
        raise ValueError(f'cannot read duration {v!r}')
    return float(m.group(1)) * {'ms': 0.001, 's': 1, None: 1, 'min': 60}[m.group(2)]


def main():
    page_path, unit_path, header_path, binary = sys.argv[1:5]
    page = open(page_path).read()
    unit = open(unit_path).read()
    header = open(header_path).read()
    failures = []

    def check(ok, msg):
        print(('ok: ' if ok else 'FAIL: ') + msg)
        if not ok:
            failures.append(msg)

    settings = {}
    for key in ('RestartSec', 'WatchdogSec', 'TimeoutStopSec'):
        m = re.search(rf'^{key}=(\S+)$', unit, re.M)
        check(m is not None, f'{unit_path} sets {key}=')
        if not m:
            continue
        settings[key] = m.group(1)
        named = set(re.findall(rf'\*{key}=([^*]+)\*', page))
        check(named == {m.group(1)},
              f'the page names {key}={m.group(1)} as the unit does (page: {sorted(named) or "nothing"})')

    m = re.search(r'#define KS_WATCHDOG_GRACE_USEC \((\d+) \* KS_USEC_PER_SEC\)', header)
    check(m is not None, 'KS_WATCHDOG_GRACE_USEC found')
    if m and len(settings) == 3:
        grace = int(m.group(1))
        need = sum(seconds(settings[k]) for k in ('WatchdogSec', 'TimeoutStopSec', 'RestartSec'))
        check(need < grace, f'WatchdogSec + TimeoutStopSec + RestartSec = {need:g} s < the grace of {grace} s')
        check(f'*{grace} s*' in page or f'{grace} s' in page, f'the page names the grace of {grace} s')

    helptext = subprocess.run([binary, '--help'], capture_output=True, text=True, check=True).stdout
    options = page.split('\n# OPTIONS\n', 1)[1].split('\n# ', 1)[0]
    page_opts = set(re.findall(r'^\*(?:-[a-z]\*, \*)?(--[a-z-]+)', options, re.M))
    help_opts = set(re.findall(r'^\s+(?:-[a-z] )?(--[a-z-]+)', helptext, re.M))
    check(page_opts == help_opts and page_opts,
          f'options of the page {sorted(page_opts)} == options of --help {sorted(help_opts)}')

    m = re.search(r'\*--log-level=\*_LEVEL_\n\t(.*?)\n\n', options, re.S)
    page_levels = re.findall(r'\*([a-z]+)\*', m.group(1)) if m else []
    # The description and its continuation lines (indented past the option column).
    m = re.search(r'--log-level=LEVEL +(.*(?:\n {20,}\S.*)*)', helptext)
    help_levels = [w for w in re.findall(r'[a-z]+', re.sub(r'\(default\)', '', m.group(1))) if w != 'or'] if m else []
    check(page_levels == help_levels and page_levels,
          f'log levels of the page {page_levels} == those of --help {help_levels}')
    for level in page_levels:
        r = subprocess.run([binary, f'--log-level={level}', '--version'], capture_output=True, text=True)
        check(r.returncode == 0, f'the binary accepts --log-level={level}')
    r = subprocess.run([binary, '--log-level=verbose', '--version'], capture_output=True, text=True)
    check(r.returncode != 0, 'the binary refuses --log-level=verbose')
    check(re.search(r'\*info\*\s*\(the default\)', page) is not None and 'info (default)' in helptext,
          'page and --help both name info as the default')

    if failures:
        print(f'{len(failures)} check(s) failed')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
