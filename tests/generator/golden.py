#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Golden tests for kservice-generator.

    golden.py GENERATOR CASES-DIR [--update] [NAME...]

Good cases: CASES-DIR/good/NAME.toml (and optionally NAME.toml.d/) are copied into a fresh
directory that KSERVICE_CONFIG_PATH points at, the generator runs with three output directories,
and the whole normal directory (files and symlinks) must equal NAME.expected/ under
`diff -ru --no-dereference`; the early and late directories must stay empty, the exit status
must be 0 and standard error must equal NAME.expected-log (empty when that file is absent).
A case whose expected output is nothing (a masked definition) says `# test: no-output`.

Bad cases: CASES-DIR/bad/NAME.toml (and NAME.toml.d/): the generator must exit 1, write
nothing, and print exactly NAME.expected-err.

The temporary configuration directory's path is replaced by /etc/kservice in everything
compared, so the expected files read as they would on a real system. A first-line comment
`# test: systemd_version=N` sets KSERVICE_SYSTEMD_VERSION (default 252, Debian 12's).
--update rewrites the expected files from the current output (review the diff!).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

DEFAULT_SYSTEMD_VERSION = '252'


def options(toml_path):
    opts = {}
    try:
        with open(toml_path, 'rb') as f:
            first = f.readline().decode('utf-8', 'replace')
    except OSError:
        return opts
    if not first:
        opts['no-output'] = True        # an empty file or a /dev/null symlink: a mask
    m = re.match(r'#\s*test:\s*(.*)', first)
    if m:
        for word in m.group(1).split():
            k, _, v = word.partition('=')
            opts[k] = v or True
    return opts


def copy_case(case_dir, name, cfg):
    os.makedirs(cfg)
    src = os.path.join(case_dir, name + '.toml')
    shutil.copy2(src, os.path.join(cfg, name + '.toml'), follow_symlinks=False)
    d = src + '.d'
    if os.path.isdir(d):
        shutil.copytree(d, os.path.join(cfg, name + '.toml.d'), symlinks=True)


def normalize_tree(root, cfg):
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if os.path.islink(p):
                continue
            with open(p, 'rb') as fh:
                data = fh.read()
            new = data.replace(cfg.encode(), b'/etc/kservice')
            if new != data:
                with open(p, 'wb') as fh:
                    fh.write(new)


def tree_is_empty(root):
    for _dirpath, dirs, files in os.walk(root):
        if files or dirs:
            return False
    return True


def run_generator(gen, cfg, out, version):
    env = dict(os.environ)
    env.pop('SYSTEMD_SCOPE', None)
    env.pop('SYSTEMD_LOG_TARGET', None)
    env.update(KSERVICE_CONFIG_PATH=cfg, KSERVICE_LOG_TARGET='stderr',
               KSERVICE_SYSTEMD_VERSION=version, LC_ALL='C')
    for d in ('normal', 'early', 'late'):
        os.makedirs(os.path.join(out, d))
    p = subprocess.run([gen] + [os.path.join(out, d) for d in ('normal', 'early', 'late')],
                       env=env, capture_output=True, timeout=60)
    return p.returncode, p.stderr.decode('utf-8', 'backslashreplace').replace(cfg, '/etc/kservice')


def read_text(path):
    try:
        with open(path, encoding='utf-8') as f:
            return f.read()
    except FileNotFoundError:
        return None


def write_text(path, text):
    if text:
        with open(path, 'w', encoding='utf-8') as f:
            f.write(text)
    elif os.path.exists(path):
        os.unlink(path)


def check_good(gen, case_dir, name, update, tmp):
    toml = os.path.join(case_dir, name + '.toml')
    opts = options(toml)
    cfg = os.path.join(tmp, 'cfg')
    out = os.path.join(tmp, 'out')
    copy_case(case_dir, name, cfg)
    rc, err = run_generator(gen, cfg, out, opts.get('systemd_version', DEFAULT_SYSTEMD_VERSION))
    normal = os.path.join(out, 'normal')
    normalize_tree(normal, cfg)
    expected = os.path.join(case_dir, name + '.expected')
    log_file = os.path.join(case_dir, name + '.expected-log')
    problems = []

    if update:
        if os.path.isdir(expected):
            shutil.rmtree(expected)
        if not tree_is_empty(normal):
            shutil.copytree(normal, expected, symlinks=True)
        write_text(log_file, err)

    if rc != 0:
        problems.append('exit status %d, expected 0' % rc)
    for d in ('early', 'late'):
        if not tree_is_empty(os.path.join(out, d)):
            problems.append('wrote into the %s directory' % d)
    want_err = read_text(log_file) or ''
    if err != want_err:
        problems.append('standard error differs:\n--- expected\n%s--- got\n%s' % (want_err, err))
    if os.path.isdir(expected):
        d = subprocess.run(['diff', '-ru', '--no-dereference', expected, normal],
                           capture_output=True, text=True)
        if d.returncode != 0:
            problems.append('output differs:\n' + d.stdout + d.stderr)
    elif not opts.get('no-output'):
        problems.append('%s is missing (and the case does not say "# test: no-output")' % expected)
    elif not tree_is_empty(normal):
        problems.append('expected no output, got files')
    return problems


def check_bad(gen, case_dir, name, update, tmp):
    toml = os.path.join(case_dir, name + '.toml')
    opts = options(toml)
    cfg = os.path.join(tmp, 'cfg')
    out = os.path.join(tmp, 'out')
    copy_case(case_dir, name, cfg)
    rc, err = run_generator(gen, cfg, out, opts.get('systemd_version', DEFAULT_SYSTEMD_VERSION))
    err_file = os.path.join(case_dir, name + '.expected-err')
    if update:
        write_text(err_file, err)
    problems = []
    if rc != 1:
        problems.append('exit status %d, expected 1' % rc)
    # No unit; only the drop-in that makes the fallback template name the first error.
    normal = os.path.join(out, 'normal')
    dropin = 'konivrer@%s.service.d/50-kservice-invalid.conf' % name
    got = sorted(os.path.relpath(os.path.join(d, f), normal) for d, _dirs, fs in os.walk(normal) for f in fs)
    if got not in ([], [dropin]):
        problems.append('a broken definition produced output other than %s: %s' % (dropin, got))
    want = read_text(err_file)
    if got == [dropin] and want:
        first = want.splitlines()[0].replace(cfg, '/etc/kservice')
        text = read_text(os.path.join(normal, dropin)).replace(cfg, '/etc/kservice')
        if 'invalid kservice definition, not started: ' + first.replace('\\', '\\\\').replace('"', '\\"') not in text:
            problems.append('%s does not name the first error %r:\n%s' % (dropin, first, text))
    if want is None:
        problems.append('%s is missing' % err_file)
    elif err != want:
        problems.append('messages differ:\n--- expected\n%s--- got\n%s' % (want, err))
    if not err.strip():
        problems.append('no message at all')
    return problems


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    update = '--update' in sys.argv
    gen, cases = args[0], args[1]
    only = set(args[2:])
    if not os.access(gen, os.X_OK):
        print('SKIP: %s not built' % gen)
        return 77

    total = failed = 0
    counts = {}
    for kind, check in (('good', check_good), ('bad', check_bad)):
        case_dir = os.path.join(cases, kind)
        names = sorted(f[:-5] for f in os.listdir(case_dir) if f.endswith('.toml'))
        counts[kind] = len(names)
        for name in names:
            if only and name not in only:
                continue
            total += 1
            with tempfile.TemporaryDirectory(prefix='ks-golden.') as tmp:
                problems = check(gen, case_dir, name, update, tmp)
            if problems:
                failed += 1
                print('not ok %d - %s/%s' % (total, kind, name))
                for p in problems:
                    print('    ' + p.replace('\n', '\n    '))
            else:
                print('ok %d - %s/%s' % (total, kind, name))
    print('# %d good cases, %d bad cases; %d run, %d failed' % (counts['good'], counts['bad'], total, failed))
    if not only and (counts['good'] < 40 or counts['bad'] < 30):
        print('# too few cases: need at least 40 good and 30 bad')
        return 1
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
