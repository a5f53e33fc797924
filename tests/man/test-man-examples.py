#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every TOML example in kservice.toml(5) is a definition the generator accepts.

Extracts the fenced blocks (```) from the scdoc source of the page, decides which ones are
TOML definitions, writes each to a file and runs the generator's dry run on it
(`kservice-generator --dry-run FILE`, or `kservicectl verify FILE`). Each block and the
verdict on it is printed, so the log shows what was checked.

Which blocks are checked:
  - a block is TOML when its first meaningful line is a TOML comment, a [table] header or a
    `key = value` line, and no line looks like a systemd unit directive (`Key=value`, no
    spaces around =) or a shell prompt;
  - an scdoc comment line right before the block overrides that:
      ; example: toml          check it as a definition
      ; example: invalid       check that the generator rejects it (an example of an error)
      ; example: skip REASON   do not check it (say why)
  - a block that does not set `exec` at its top level is a fragment showing some keys; it is
    checked with `exec = ["/bin/true"]` put in front of it;
  - when the block's first line is a comment naming a file (`# /etc/kservice/web.toml`), the
    definition is written under that name, since the name is part of what is validated.

usage: test-man-examples.py PAGE.scd GENERATOR-PATH CTL-PATH
Exit 77 when the page or a validator with a dry run does not exist (yet).
"""
import os
import re
import subprocess
import sys
import tempfile

SKIP = 77

def blocks(path):
    """Yields (line number, marker, text) for each fenced block."""
    marker = None
    inside = False
    buf = []
    start = 0
    prev_comment = None
    with open(path, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip('\n')
            stripped = line.strip()
            if stripped.startswith('```'):
                if inside:
                    yield start, marker, buf
                    inside, buf, marker = False, [], None
                else:
                    inside, start, buf = True, n + 1, []
                    marker = prev_comment
                prev_comment = None
                continue
            if inside:
                buf.append(line)
                continue
            m = re.match(r'^;\s*example:\s*(\S+)(.*)$', stripped)
            if m:
                prev_comment = (m.group(1), m.group(2).strip())
            elif stripped:
                prev_comment = None

# scdoc indents fenced blocks with the surrounding indentation (tabs); strip the common prefix.
def dedent(lines):
    nonblank = [l for l in lines if l.strip()]
    if not nonblank:
        return lines
    prefix = os.path.commonprefix([re.match(r'^[ \t]*', l).group(0) for l in nonblank])
    return [l[len(prefix):] if l.startswith(prefix) else l for l in lines]

TOML_LINE = re.compile(r'^\s*(#|\[|[A-Za-z0-9_"\'.-]+(\s*\.\s*[A-Za-z0-9_"\'-]+)*\s*=\s)')
UNIT_LINE = re.compile(r'^[A-Z][A-Za-z0-9]*=\S')
SHELL_LINE = re.compile(r'^\s*([$#]\s*)?(systemctl|journalctl|kservice-|kservicectl|sudo|cat|ls|mkdir|cp|'
                        r'man|install|vi|editor)\b')

def classify(lines):
    meaningful = [l for l in lines if l.strip()]
    if not meaningful:
        return 'empty'
    if any(UNIT_LINE.match(l) for l in lines):
        return 'unit'
    first = meaningful[0]
    if re.match(r'^\s*\$\s', first) or SHELL_LINE.match(first):
        return 'shell'
    if TOML_LINE.match(first):
        return 'toml'
    return 'other'

def has_toplevel_exec(lines):
    for l in lines:
        if re.match(r'^\s*\[', l):
            return False
        if re.match(r'^\s*exec\s*=', l):
            return True
    return False

def file_name(lines, idx):
    for l in lines:
        if not l.strip():
            continue
        m = re.match(r'^\s*#\s*(\S*/)?([A-Za-z0-9:_.\\-]+\.toml)\s*$', l)
        if m:
            return m.group(2)
        break
    return 'example%d.toml' % idx

def validator(generator, ctl):
    def help_text(prog):
        try:
            r = subprocess.run([prog, '--help'], capture_output=True, text=True, timeout=10)
            return r.stdout + r.stderr
        except OSError:
            return ''
    if os.access(generator, os.X_OK) and '--dry-run' in help_text(generator):
        return [generator, '--dry-run']
    if os.access(ctl, os.X_OK) and 'verify' in help_text(ctl):
        return [ctl, 'verify']
    return None

def main():
    page, generator, ctl = sys.argv[1:4]
    if not os.path.exists(page):
        print('SKIP: %s does not exist yet' % page)
        return SKIP
    cmd = validator(generator, ctl)
    if cmd is None:
        print('SKIP: neither %s --dry-run nor %s verify exists yet' % (generator, ctl))
        return SKIP
    print('validating with: %s' % ' '.join(cmd))

    failed = checked = 0
    with tempfile.TemporaryDirectory(prefix='ks-man-examples.') as tmp:
        for idx, (line, marker, raw) in enumerate(blocks(page), 1):
            lines = dedent(raw)
            kind = classify(lines)
            expect_ok = True
            if marker:
                verb, reason = marker
                if verb == 'skip':
                    print('%s:%d: skipped (%s)' % (page, line, reason or 'no reason given'))
                    if not reason:
                        failed += 1
                        print('  FAIL: "; example: skip" needs a reason')
                    continue
                if verb == 'invalid':
                    kind, expect_ok = 'toml', False
                elif verb == 'toml':
                    kind = 'toml'
                else:
                    print('%s:%d: FAIL: unknown marker "; example: %s"' % (page, line - 1, verb))
                    failed += 1
                    continue
            if kind != 'toml':
                print('%s:%d: not a definition (%s), not checked' % (page, line, kind))
                continue
            text = '\n'.join(lines) + '\n'
            if not has_toplevel_exec(lines):
                text = 'exec = ["/bin/true"]  # added by the test: the example is a fragment\n' + text
            name = file_name(lines, idx)
            d = os.path.join(tmp, str(idx))
            os.mkdir(d)
            path = os.path.join(d, name)
            with open(path, 'w', encoding='utf-8') as f:
                f.write(text)
            checked += 1
            try:
                r = subprocess.run(cmd + [path], capture_output=True, text=True, timeout=30,
                                   env=dict(os.environ, KSERVICE_CONFIG_PATH=d))
                rc, out = r.returncode, r.stdout + r.stderr
            except subprocess.TimeoutExpired:
                rc, out = -1, 'timed out'
            ok = (rc == 0) == expect_ok and rc >= 0
            print('%s:%d: %s (%s, exit %d)' % (page, line, 'ok' if ok else 'FAIL', name, rc))
            if not ok:
                failed += 1
                print('  --- example as checked:')
                print('\n'.join('  | ' + l for l in text.splitlines()))
                print('  --- output:')
                print('\n'.join('  > ' + l for l in out.splitlines()))
    print('%d examples checked, %d failed' % (checked, failed))
    if checked == 0:
        print('FAIL: no TOML example found in %s' % page)
        return 1
    return 1 if failed else 0

if __name__ == '__main__':
    sys.exit(main())
