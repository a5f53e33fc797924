#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kservicectl(1) agrees with kservicectl --help: the same commands (COMMANDS of the page,
"Commands:" of --help) and the same options (OPTIONS of the page, "Options:" of --help); and
every exit status --help's commands can return is documented (0 to 4).

usage: test-ctl-man.py PAGE.scd KSERVICECTL
"""
import re
import subprocess
import sys


def section(page, name):
    return page.split(f'\n# {name}\n', 1)[1].split('\n# ', 1)[0]


def main():
    page_path, binary = sys.argv[1:3]
    page = open(page_path, encoding='utf-8').read()
    helptext = subprocess.run([binary, '--help'], capture_output=True, text=True, check=True).stdout
    failures = []

    def check(ok, msg):
        print(('ok: ' if ok else 'FAIL: ') + msg)
        if not ok:
            failures.append(msg)

    page_cmds = re.findall(r'^\*([a-z-]+)\*', section(page, 'COMMANDS'), re.M)
    help_cmds = re.findall(r'^  ([a-z-]+)\b', helptext.split('Commands:', 1)[1].split('Options:', 1)[0], re.M)
    check(page_cmds and sorted(page_cmds) == sorted(help_cmds),
          f'commands of the page {page_cmds} == commands of --help {help_cmds}')
    synopsis = re.findall(r'\[_OPTIONS_\] \*([a-z-]+)\*', section(page, 'SYNOPSIS'))
    check(sorted(synopsis) == sorted(help_cmds), f'SYNOPSIS {synopsis} names every command')

    page_opts = set(re.findall(r'(--[a-z-]+)', ' '.join(re.findall(r'^\*-.*$', section(page, 'OPTIONS'), re.M))))
    page_opts |= set(re.findall(r'^\*(-[a-z])\*', section(page, 'OPTIONS'), re.M))
    help_opts = set()
    for line in helptext.split('Options:', 1)[1].splitlines():
        m = re.match(r'^  ((?:-[a-z] )?--[a-z-]+)', line)
        if m:
            help_opts |= set(re.findall(r'--?[a-z-]+', m.group(1)))
    check(page_opts and page_opts == help_opts,
          f'options of the page {sorted(page_opts)} == options of --help {sorted(help_opts)}')

    codes = re.findall(r'^\*([0-9])\*$', section(page, 'EXIT STATUS'), re.M)
    check(codes == ['0', '1', '2', '3', '4'], f'EXIT STATUS documents 0 to 4 (page: {codes})')
    check('kservicectl.schema.json' in page, 'the page names the JSON schema file')

    if failures:
        print(f'{len(failures)} check(s) failed')
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
