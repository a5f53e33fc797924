#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the toml-test corpus (the cases listed in files-toml-1.0.0) through toml-decoder.
# Valid cases: the decoder's tagged JSON must equal the expected JSON semantically (offset
# date-times as instants, numbers by value, nan == nan). Invalid cases: the decoder must exit 1
# with a message. A crash, a sanitizer report or a time-out is a failure either way.
# Usage: run-toml-test.py DECODER CORPUS_DIR. Exit 77 when the corpus is absent.
import concurrent.futures
import datetime
import json
import math
import os
import re
import subprocess
import sys

TIMEOUT = 20


def parse_dt(tag, s):
    """Normalizes a toml-test date/time string to a comparable tuple (nanosecond precision)."""
    m = re.fullmatch(r'(?:(\d{4})-(\d{2})-(\d{2}))?(?:[Tt ]?(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?)?'
                     r'([Zz]|[+-]\d{2}:\d{2})?', s)
    if not m:
        raise ValueError('bad date/time %r' % s)
    y, mo, d, h, mi, sec, frac, off = m.groups()
    ns = int((frac or '').ljust(9, '0')[:9] or 0)
    if tag == 'datetime':
        minutes = 0
        if off and off not in 'Zz':
            minutes = (1 if off[0] == '+' else -1) * (int(off[1:3]) * 60 + int(off[4:6]))
        base = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), min(int(sec), 59))
        epoch = (base - datetime.datetime(1970, 1, 1)).total_seconds() + (int(sec) - min(int(sec), 59))
        return ('datetime', int(epoch) - minutes * 60, ns)
    return (tag, y, mo, d, h, mi, sec, ns, off)


def norm_scalar(tag, val):
    if tag == 'integer':
        return (tag, int(val))
    if tag == 'float':
        v = val.replace('_', '')
        if v.lstrip('+-') == 'nan':
            return (tag, 'nan')
        f = float(v)
        return (tag, f, math.copysign(1, f))
    if tag in ('datetime', 'datetime-local', 'date-local', 'time-local'):
        return parse_dt(tag, val)
    if tag in ('string', 'bool'):
        return (tag, val)
    raise ValueError('unknown tag %r' % tag)


def equal(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) == {'type', 'value'} and isinstance(a.get('type'), str) and not isinstance(a.get('value'), (dict, list)):
            if set(b) != {'type', 'value'}:
                return False
            try:
                return norm_scalar(a['type'], a['value']) == norm_scalar(b['type'], b['value'])
            except (ValueError, TypeError):
                return False
        return set(a) == set(b) and all(equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    return False


SANITIZER = re.compile(r'Sanitizer|runtime error:|LeakSanitizer')


def run_case(decoder, corpus, rel):
    path = os.path.join(corpus, rel)
    valid = rel.startswith('valid/')
    with open(path, 'rb') as f:
        data = f.read()
    try:
        p = subprocess.run([decoder], input=data, capture_output=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, 'timeout'
    err = p.stderr.decode('utf-8', 'replace')
    if p.returncode < 0:
        return False, 'killed by signal %d\n%s' % (-p.returncode, err)
    if SANITIZER.search(err):
        return False, 'sanitizer report\n' + err
    if not valid:
        if p.returncode == 1 and err.strip():
            return True, ''
        return False, 'accepted invalid TOML (exit %d)' % p.returncode
    if p.returncode != 0:
        return False, 'rejected valid TOML: ' + err.strip()
    try:
        got = json.loads(p.stdout)
    except ValueError as e:
        return False, 'bad JSON from decoder: %s' % e
    with open(path[:-5] + '.json', encoding='utf-8') as f:
        want = json.load(f)
    if not equal(want, got):
        return False, 'wrong result\n  want %s\n  got  %s' % (json.dumps(want, sort_keys=True)[:2000],
                                                            json.dumps(got, sort_keys=True)[:2000])
    return True, ''


def main():
    decoder, corpus = sys.argv[1], sys.argv[2]
    listing = os.path.join(corpus, 'files-toml-1.0.0')
    if not os.path.isfile(listing):
        print('toml-test corpus not found at %s: skipping' % corpus)
        return 77
    with open(listing) as f:
        cases = [l.strip() for l in f if l.strip().endswith('.toml')]
    if not cases:
        print('no cases listed in %s' % listing)
        return 1
    jobs = min(32, (os.cpu_count() or 2) * 4)
    results = {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        futs = {ex.submit(run_case, decoder, corpus, c): c for c in cases}
        for fut in concurrent.futures.as_completed(futs):
            results[futs[fut]] = fut.result()
    counts = {'valid': [0, 0], 'invalid': [0, 0]}
    for c in sorted(results):
        ok, why = results[c]
        kind = 'valid' if c.startswith('valid/') else 'invalid'
        counts[kind][0 if ok else 1] += 1
        if not ok:
            print('FAIL %s: %s' % (c, why))
    passed = counts['valid'][0] + counts['invalid'][0]
    print('valid: %d/%d passed' % (counts['valid'][0], sum(counts['valid'])))
    print('invalid: %d/%d passed' % (counts['invalid'][0], sum(counts['invalid'])))
    print('toml-test: %d/%d passed' % (passed, len(cases)))
    return 0 if passed == len(cases) else 1


if __name__ == '__main__':
    sys.exit(main())
