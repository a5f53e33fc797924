#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Behaviour of kservice-generator beyond single golden cases.

    test-generator.py GENERATOR KSERVICECTL

One broken definition among good ones; search path precedence and masking across directories;
drop-ins from several directories; atomic writes (no temporary files left, existing files
replaced, an unwritable directory reported); byte-for-byte determinism; --dry-run and
kservicectl verify print exactly what is written; exit statuses; and a scale check (5000
definitions, to catch anything quadratic).
"""
import os
import resource
import subprocess
import sys
import tempfile
import time

GEN, CTL = sys.argv[1], sys.argv[2]
results = []


def env_for(path, **extra):
    env = dict(os.environ)
    for k in ('SYSTEMD_SCOPE', 'SYSTEMD_LOG_TARGET', 'SYSTEMD_LOG_LEVEL'):
        env.pop(k, None)
    env.update(KSERVICE_CONFIG_PATH=path, KSERVICE_LOG_TARGET='stderr', KSERVICE_SYSTEMD_VERSION='252',
               LC_ALL='C')
    env.update(extra)
    return env


def gen(path, out, *extra_args, **extra_env):
    os.makedirs(out, exist_ok=True)
    return subprocess.run([GEN, out, out + '.early', out + '.late'] + list(extra_args),
                          env=env_for(path, **extra_env), capture_output=True, text=True, errors='backslashreplace',
                          timeout=300)


def put(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


def read(path):
    with open(path) as f:
        return f.read()


def tree(root):
    """{relative path: ('file', bytes) or ('link', target)} of a directory."""
    out = {}
    for dirpath, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ('link', os.readlink(p))
            else:
                with open(p, 'rb') as fh:
                    out[rel] = ('file', fh.read())
    return out


def test(fn):
    name = fn.__name__
    try:
        with tempfile.TemporaryDirectory(prefix='ks-gen-test.') as tmp:
            fn(tmp)
        results.append((name, None))
    except AssertionError as e:
        results.append((name, str(e) or 'assertion failed'))
    except Exception as e:  # a crash of the test is a failure too, not an abort of the rest
        results.append((name, '%s: %s' % (type(e).__name__, e)))
    return fn


GOOD = 'exec = ["/bin/true"]\n'


@test
def bad_among_good(tmp):
    cfg = tmp + '/cfg'
    put(cfg + '/a.toml', GOOD)
    put(cfg + '/b.toml', 'exec = ["/bin/true"]\nrestrat = "always"\n')
    put(cfg + '/c.toml', GOOD + 'enabled = true\n')
    r = gen(cfg, tmp + '/out')
    assert r.returncode == 1, 'exit %d, expected 1' % r.returncode
    assert 'b.toml:2:1: unknown key "restrat"; did you mean "restart"?' in r.stderr, r.stderr
    t = tree(tmp + '/out')
    assert 'konivrer@a.service' in t and 'konivrer@c.service' in t, sorted(t)
    assert 'konivrer@b.service' not in t, sorted(t)
    assert t['multi-user.target.wants/konivrer@c.service'] == ('link', '../konivrer@c.service')
    # Only a drop-in for the fallback template, which then fails with the first error.
    assert [p for p in t if 'konivrer@b.' in p] == ['konivrer@b.service.d/50-kservice-invalid.conf'], sorted(t)
    dropin = t['konivrer@b.service.d/50-kservice-invalid.conf'][1].decode().replace(cfg, '/etc/kservice')
    assert dropin.endswith(
        '[Unit]\n'
        'Description=kservice b (invalid definition: /etc/kservice/b.toml:2:1: unknown key "restrat"; '
        'did you mean "restart"?)\n\n'
        '[Service]\n'
        'ExecStart=\n'
        'ExecStart=/bin/echo "konivrer@b.service: invalid kservice definition, not started: '
        '/etc/kservice/b.toml:2:1: unknown key \\"restrat\\"; did you mean \\"restart\\"? (1 error; '
        '\\"kservicectl verify /etc/kservice/b.toml\\" shows it). See man 5 kservice.toml."\n'
        'ExecStart=/bin/false\n'), dropin
    # A dry run prints units only.
    d = subprocess.run([GEN, '--dry-run'], env=env_for(cfg), capture_output=True, text=True, timeout=60)
    assert 'kservice-invalid' not in d.stdout, d.stdout


@test
def hostile_error_text_does_not_stop_the_others(tmp):
    # Errors whose text a unit file cannot carry (a noncharacter key, a drop-in name that is not
    # UTF-8, a key of 1 MiB): that definition gets the drop-in without the text, and the
    # definitions after it still get their units (this stopped the whole run: "Out of memory").
    cfg = tmp + '/cfg'
    put(cfg + '/a.toml', '"\ufdd0" = 1\n' + GOOD)
    os.makedirs(cfg + '/b.toml.d')
    put(cfg + '/b.toml', GOOD)
    with open(os.fsencode(cfg + '/b.toml.d/z') + b'\xff.toml', 'w') as fh:
        fh.write('bogus = 1\n')
    put(cfg + '/c.toml', 'k' * (1 << 20) + ' = 1\n' + GOOD)
    put(cfg + '/d.toml', GOOD)
    r = gen(cfg, tmp + '/out')
    assert r.returncode == 1, 'exit %d, expected 1: %s' % (r.returncode, r.stderr)
    assert 'Out of memory' not in r.stderr, r.stderr
    t = tree(tmp + '/out')
    assert 'konivrer@d.service' in t, sorted(t)
    for n in 'abc':
        conf = 'konivrer@%s.service.d/50-kservice-invalid.conf' % n
        assert conf in t, sorted(t)
        text = t[conf][1].decode()
        assert ('ExecStart=/bin/echo "konivrer@%s.service: invalid kservice definition, not started' % n) in text, text
        assert text.endswith('ExecStart=/bin/false\n'), text


@test
def precedence_and_masking(tmp):
    etc, run, usr = tmp + '/etc', tmp + '/run', tmp + '/usr'
    put(usr + '/web.toml', 'description = "vendor"\n' + GOOD)
    put(etc + '/web.toml', 'description = "admin"\n' + GOOD)
    put(usr + '/db.toml', 'description = "vendor db"\n' + GOOD)
    put(run + '/db.toml', '')                               # empty file masks
    put(usr + '/cache.toml', GOOD)
    os.makedirs(etc, exist_ok=True)
    os.symlink('/dev/null', etc + '/cache.toml')            # /dev/null masks
    put(run + '/api.toml', 'description = "runtime api"\n' + GOOD)
    r = gen(':'.join([etc, run, usr, tmp + '/nonexistent']), tmp + '/out')
    assert r.returncode == 0, r.stderr
    t = tree(tmp + '/out')
    assert sorted(t) == ['konivrer@api.service', 'konivrer@web.service'], sorted(t)
    web = t['konivrer@web.service'][1].decode()
    assert 'Description=admin\n' in web and 'SourcePath=%s/web.toml\n' % etc in web, web
    assert 'Description=runtime api\n' in t['konivrer@api.service'][1].decode()
    assert 'masked, no unit for "db"' in r.stderr and 'masked, no unit for "cache"' in r.stderr, r.stderr


@test
def dropins_across_directories(tmp):
    etc, usr = tmp + '/etc', tmp + '/usr'
    put(usr + '/web.toml', 'description = "base"\n' + GOOD + '[environment]\nA = "vendor"\nB = "vendor"\n')
    put(usr + '/web.toml.d/10-a.toml', '[environment]\nA = "usr-10"\n')
    put(usr + '/web.toml.d/30-c.toml', '[environment]\nC = "usr-30"\n')
    put(etc + '/web.toml.d/30-c.toml', '[environment]\nC = "etc-30"\n')   # same name: etc wins
    put(etc + '/web.toml.d/20-b.toml', 'description = "etc-20"\n')
    put(etc + '/web.toml.d/40-off.toml', '')                                 # empty: removed
    put(usr + '/web.toml.d/40-off.toml', 'description = "never"\n')
    r = gen(etc + ':' + usr, tmp + '/out')
    assert r.returncode == 0, r.stderr
    u = read(tmp + '/out/konivrer@web.service')
    assert 'Description=etc-20\n' in u, u
    assert 'Environment="A=usr-10"\nEnvironment="B=vendor"\nEnvironment="C=etc-30"\n' in u, u
    assert '# with drop-ins %s/web.toml.d/10-a.toml\n' % usr in u, u
    assert '#               %s/web.toml.d/20-b.toml\n' % etc in u, u
    assert '#               %s/web.toml.d/30-c.toml.\n' % etc in u, u


@test
def atomic_and_replacing(tmp):
    cfg, out = tmp + '/cfg', tmp + '/out'
    put(cfg + '/web.toml', GOOD + 'enabled = true\nreload_signal = "HUP"\nreload_on_change = ["/srv/x"]\n')
    put(out + '/konivrer@web.service', 'stale content\n')
    r = gen(cfg, out)
    assert r.returncode == 0, r.stderr
    t = tree(out)
    assert t['konivrer@web.service'][1].startswith(b'# Generated by kservice-generator'), t
    leftovers = [p for p in t if '.#' in p or p.endswith('.tmp')]
    assert not leftovers, leftovers
    # Run again over its own output: symlinks and files are replaced, not duplicated or failed.
    r = gen(cfg, out)
    assert r.returncode == 0, r.stderr
    assert tree(out) == t


@test
def unwritable_output(tmp):
    if os.geteuid() == 0:
        # root ignores permissions; use a path below a regular file instead
        out = tmp + '/file/out'
        put(tmp + '/file', 'x')
    else:
        out = tmp + '/ro'
        os.makedirs(out)
        os.chmod(out, 0o555)
    put(tmp + '/cfg/web.toml', GOOD)
    r = subprocess.run([GEN, out], env=env_for(tmp + '/cfg'), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, 'exit %d' % r.returncode
    assert out in r.stderr, r.stderr


@test
def deterministic(tmp):
    cfg = tmp + '/cfg'
    for i in range(50):
        put(cfg + '/svc%02d.toml' % i, 'description = "n%d"\n' % i + GOOD +
            ('enabled = true\n' if i % 2 else '') +
            '[environment]\nZ = "1"\nA = "2"\nM = "%d"\n' % i)
    a = gen(cfg, tmp + '/a')
    b = gen(cfg, tmp + '/b')
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    ta, tb = tree(tmp + '/a'), tree(tmp + '/b')
    assert ta == tb, 'two runs differ'
    assert len(ta) == 75, len(ta)
    d = subprocess.run(['diff', '-r', '--no-dereference', tmp + '/a', tmp + '/b'], capture_output=True)
    assert d.returncode == 0, d.stdout


@test
def dry_run_matches_written_and_verify(tmp):
    cfg = tmp + '/cfg'
    put(cfg + '/web.toml', 'description = "web"\n' + GOOD + 'enabled = true\n')
    put(cfg + '/worker.toml', GOOD + 'reload_signal = "HUP"\nreload_on_change = ["/srv/model"]\n')
    r = gen(cfg, tmp + '/out')
    assert r.returncode == 0, r.stderr
    written = tree(tmp + '/out')
    d = subprocess.run([GEN, '--dry-run'], env=env_for(cfg), capture_output=True, text=True, timeout=60)
    assert d.returncode == 0, d.stderr
    # Every written file appears in the dry run with the same bytes.
    for path, (kind, data) in written.items():
        if kind == 'link':
            expected = '==> %s -> %s <==\n\n' % (path, data)
        else:
            expected = '==> %s <==\n%s\n' % (path, data.decode())
        assert expected in d.stdout, 'missing in dry run: ' + path
    assert d.stdout.count('==> ') == len(written), d.stdout
    files = [cfg + '/web.toml', cfg + '/worker.toml']
    f = subprocess.run([GEN, '--dry-run'] + files, env=env_for('/nonexistent'), capture_output=True, text=True)
    v = subprocess.run([CTL, 'verify'] + files, env=env_for('/nonexistent'), capture_output=True, text=True)
    assert f.returncode == 0 and v.returncode == 0, f.stderr + v.stderr
    assert f.stdout == d.stdout == v.stdout, 'dry run with files, without, and verify differ'
    # Relative file names, as an admin types them in /etc/kservice, give the same units.
    rel = subprocess.run([os.path.abspath(CTL), 'verify', './web.toml', '../cfg/worker.toml'], cwd=cfg,
                         env=env_for('/nonexistent'), capture_output=True, text=True)
    assert rel.returncode == 0, rel.stderr
    assert rel.stdout == v.stdout, 'verify with relative names differs'
    put(cfg + '/bad.toml', 'exec = 1\n')
    v = subprocess.run([CTL, 'verify', cfg + '/bad.toml', cfg + '/web.toml'], capture_output=True, text=True)
    assert v.returncode == 1, v.returncode
    assert 'bad.toml:1:8: "exec" must be an array of strings or a string, not an integer' in v.stderr, v.stderr
    assert '==> konivrer@web.service <==' in v.stdout


@test
def exit_statuses(tmp):
    r = gen(tmp + '/none:' + tmp + '/also-none', tmp + '/out')
    assert r.returncode == 0 and r.stderr == '', (r.returncode, r.stderr)
    assert os.listdir(tmp + '/out') == []
    for args in ([], ['a', 'b'], ['a', 'b', 'c', 'd'], ['--bogus']):
        r = subprocess.run([GEN] + args, env=env_for(tmp), capture_output=True, text=True)
        assert r.returncode == 2, (args, r.returncode)
    r = subprocess.run([GEN, '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--dry-run' in r.stdout
    r = subprocess.run([CTL, 'nonsense'], capture_output=True, text=True)
    assert r.returncode == 2
    r = subprocess.run([CTL, '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and 'verify' in r.stdout
    # A single output directory is accepted too.
    put(tmp + '/cfg/web.toml', GOOD)
    r = subprocess.run([GEN, tmp + '/one'], env=env_for(tmp + '/cfg'), capture_output=True, text=True)
    assert r.returncode == 0 and os.path.exists(tmp + '/one/konivrer@web.service'), r.stderr


@test
def unreadable_files_say_why(tmp):
    # A file that cannot be used fails verify (exit 1) with the reason, not "ignoring".
    os.makedirs(tmp + '/dir.toml')
    for path, why in (('/nonexistent/x.toml', 'cannot read: No such file or directory'),
                      (tmp + '/dir.toml', 'not a regular file')):
        v = subprocess.run([CTL, 'verify', path], env=env_for('/nonexistent'), capture_output=True, text=True)
        assert v.returncode == 1, (path, v.returncode)
        assert v.stderr == '%s: %s\n' % (path, why), v.stderr


@test
def no_dbus_no_kmsg_when_asked(tmp):
    # KSERVICE_LOG_TARGET=stderr wins over SYSTEMD_SCOPE; messages then reach stderr.
    put(tmp + '/cfg/bad.toml', 'exec = 1\n')
    r = gen(tmp + '/cfg', tmp + '/out', SYSTEMD_SCOPE='system')
    assert r.returncode == 1 and 'bad.toml:1:8:' in r.stderr, r.stderr
    # The generator must not need a bus: run with a bogus bus address.
    r = gen(tmp + '/cfg', tmp + '/out2', DBUS_SYSTEM_BUS_ADDRESS='unix:path=/nonexistent')
    assert r.returncode == 1


@test
def report_unit_when_no_log_is_reachable(tmp):
    # Boot in a container: no journal yet, no /dev/kmsg. The messages become a oneshot unit.
    put(tmp + '/cfg/bad.toml', 'exec = ["/bin/true"]\nrestrat = "x"\n')
    put(tmp + '/cfg/good.toml', GOOD)
    r = gen(tmp + '/cfg', tmp + '/out', KSERVICE_LOG_TARGET='report')
    assert r.returncode == 1 and r.stderr == '', (r.returncode, r.stderr)
    t = tree(tmp + '/out')
    assert 'konivrer@good.service' in t, sorted(t)
    assert t['multi-user.target.wants/kservice-generator-report.service'] == \
        ('link', '../kservice-generator-report.service'), sorted(t)
    u = t['kservice-generator-report.service'][1].decode()
    line = 'ExecStart=/bin/echo "<3>%s/bad.toml:2:1: unknown key \\"restrat\\"; did you mean \\"restart\\"?"\n' % (tmp + '/cfg')
    assert line in u, u
    assert 'Type=oneshot\n' in u and 'SyslogIdentifier=kservice-generator\n' in u, u
    # Nothing to report: no report unit.
    r = gen(tmp + '/cfg2', tmp + '/out2', KSERVICE_LOG_TARGET='report')
    assert r.returncode == 0 and os.listdir(tmp + '/out2') == []


@test
def systemd_version_detection(tmp):
    # Without KSERVICE_SYSTEMD_VERSION the generator finds the installed systemd's version from
    # its libsystemd-shared-NNN.so; it must agree with systemctl --version.
    import re
    import shutil
    if not shutil.which('systemctl'):
        return
    m = re.match(r'systemd (\d+)', subprocess.run(['systemctl', '--version'], capture_output=True,
                                                  text=True).stdout)
    if not m:
        return
    version = int(m.group(1))
    put(tmp + '/cfg/b.toml', GOOD + 'restart_max_delay = "1min"\n')
    env = env_for(tmp + '/cfg')
    del env['KSERVICE_SYSTEMD_VERSION']
    r = subprocess.run([GEN, '--dry-run'], env=env, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    if version >= 254:
        assert 'RestartMaxDelaySec=1min\n' in r.stdout and 'RestartMode=direct\n' in r.stdout, r.stdout
    else:
        assert '(this is %d)' % version in r.stderr, r.stderr
        assert 'RestartMaxDelaySec' not in r.stdout and 'RestartMode' not in r.stdout, r.stdout
    env['KSERVICE_SYSTEMD_VERSION'] = '257'
    r = subprocess.run([GEN, '--dry-run'], env=env, capture_output=True, text=True, timeout=60)
    assert 'RestartSteps=10\nRestartMaxDelaySec=1min\n' in r.stdout and r.stderr == '', r.stdout + r.stderr


@test
def scale(tmp):
    cfg = tmp + '/cfg'
    n = 3000
    os.makedirs(cfg)
    for i in range(n):
        with open('%s/svc-%05d.toml' % (cfg, i), 'w') as f:
            f.write('description = "service %d"\nexec = ["/bin/sleep", "%d"]\nenabled = true\n'
                    '[environment]\nN = "%d"\n' % (i, i, i))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    r = gen(cfg, tmp + '/out')
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    user = after.ru_utime - before.ru_utime
    assert r.returncode == 0, r.stderr[:2000]
    assert len(os.listdir(tmp + '/out')) == n + 1
    print('# %d definitions in %.2f s wall, %.3f s user CPU' % (n, elapsed, user))
    # Wall time is mostly the file system's (creating 2n inodes); user CPU is the generator's
    # own work, where anything quadratic in n would show (linear: a few ms per 1000).
    assert user < 5.0, '%d definitions took %.2f s of user CPU' % (n, user)


failed = 0
for i, (name, err) in enumerate(results, 1):
    if err:
        failed += 1
        print('not ok %d - %s\n    %s' % (i, name, err.replace('\n', '\n    ')))
    else:
        print('ok %d - %s' % (i, name))
print('# %d tests, %d failed' % (len(results), failed))
sys.exit(1 if failed else 0)
