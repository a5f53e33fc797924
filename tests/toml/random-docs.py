#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Randomized round trip through toml-decoder: builds random documents as Python values, writes
# each as TOML in randomly chosen but equivalent spellings (headers, dotted keys, inline tables,
# arrays of tables; every string kind and escape; decimal/hex/octal/binary integers with
# underscores; floats with exponents; all four date/time kinds; comments, CRLF, tabs), and checks
# that the decoder's tagged JSON equals the value it was written from. Deterministic (fixed seeds).
# Usage: random-docs.py DECODER [COUNT]
import concurrent.futures
import json
import math
import random
import subprocess
import sys

BARE = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-'
WORDS = ['name', 'port', 'exec', 'a', 'b', 'c', 'x-y', 'under_score', '1', '007', 'true', 'inf']
TEXT = ['', 'plain', 'tab\there', 'quote"inside', "apos'inside", 'back\\slash', 'new\nline',
        'caf\u00e9', '\u6771\u4eac', '\U0001F680 rocket', 'ctl\x01\x1f', 'del\x7f', 'nul\x00byte',
        '  spaced  ', '#not a comment', '"""', "'''", 'crlf\r\nend', 'multi\nline\ntext']


class Writer:
    def __init__(self, rnd):
        self.r = rnd
        self.nl = '\r\n' if rnd.random() < 0.2 else '\n'

    def key(self, k):
        if k and all(c in BARE for c in k) and self.r.random() < 0.8:
            return k
        if "'" not in k and '\n' not in k and all(ord(c) >= 0x20 and ord(c) != 0x7f or c == '\t' for c in k) \
                and self.r.random() < 0.3:
            return "'" + k + "'"
        return self.basic(k)

    def basic(self, s):
        out = []
        for c in s:
            o = ord(c)
            if c == '"':
                out.append('\\"')
            elif c == '\\':
                out.append('\\\\')
            elif c in '\b\t\n\f\r' and (c != '\t' or self.r.random() < 0.5):
                out.append({'\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r'}[c])
            elif o < 0x20 or o == 0x7f:
                out.append('\\u%04x' % o)
            elif o > 0x7f and self.r.random() < 0.3:
                out.append('\\u%04X' % o if o < 0x10000 else '\\U%08x' % o)
            else:
                out.append(c)
        return '"' + ''.join(out) + '"'

    def string(self, s):
        r = self.r.random()
        clean = all(ord(c) >= 0x20 and ord(c) != 0x7f or c == '\t' for c in s)
        if r < 0.2 and clean and "'" not in s:
            return "'" + s + "'"
        if r < 0.35 and "'''" not in s and not s.endswith("'") and '\r' not in s and \
                all(ord(c) >= 0x20 and ord(c) != 0x7f or c in '\t\n' for c in s):
            # A newline right after the delimiter is trimmed; lines end as the document's do.
            return "'''" + self.nl + s.replace('\n', self.nl) + "'''"
        if r < 0.5 and '\r' not in s:
            body = self.basic(s)[1:-1].replace('\\n', '\n' if self.r.random() < 0.5 else '\\n')
            body = body.replace('\n', self.nl)
            # A line-ending backslash eats the whitespace after it: only before other content.
            fold = '\\' + self.nl + '   ' if self.r.random() < 0.3 and body[:1] not in ('', ' ', '\t', '\n', '\r') else ''
            return '"""' + fold + body + '"""'
        return self.basic(s)

    def integer(self, i):
        r = self.r.random()
        if i >= 0 and r < 0.15:
            return '0x' + ('%x' % i if self.r.random() < 0.5 else '%X' % i)
        if i >= 0 and r < 0.25:
            return '0o%o' % i
        if i >= 0 and r < 0.35:
            return '0b' + bin(i)[2:]
        s = str(abs(i))
        if r < 0.5 and len(s) > 3:
            s = '_'.join(s[max(0, j - 3):j] for j in range(len(s), 0, -3)[::-1])
        return ('-' if i < 0 else ('+' if self.r.random() < 0.1 else '')) + s

    def flt(self, f):
        if math.isnan(f):
            return self.r.choice(['nan', '+nan', '-nan'])
        if math.isinf(f):
            return ('-' if f < 0 else self.r.choice(['', '+'])) + 'inf'
        s = repr(f)  # '0.5', '-0.0', '1e+300', '5e-324': all valid TOML floats
        if self.r.random() < 0.3:
            s = '%.17e' % f
        if self.r.random() < 0.3:
            s = s.replace('e', 'E')
        return s

    def scalar(self, v):
        t, x = v
        if t == 'string':
            return self.string(x)
        if t == 'integer':
            return self.integer(x)
        if t == 'float':
            return self.flt(x)
        if t == 'bool':
            return 'true' if x else 'false'
        if t == 'datetime':
            return x.replace('T', self.r.choice(['T', 't', ' '])).replace('Z', self.r.choice(['Z', 'z']))
        return x

    def inline(self, v):
        if isinstance(v, dict):
            parts = ['%s = %s' % (self.key(k), self.inline(x)) for k, x in v.items()]
            return '{' + (' ' + ', '.join(parts) + ' ' if parts else '') + '}'
        if isinstance(v, list):
            sep = ',' + (self.nl + '  ' if self.r.random() < 0.3 else ' ')
            tail = ',' if v and self.r.random() < 0.3 else ''
            com = ' # c' + self.nl if self.r.random() < 0.2 else ''
            return '[' + com + sep.join(self.inline(x) for x in v) + tail + ']'
        return self.scalar(v)

    def table(self, path, t, out):
        """Writes table t, whose header (if any) is already written."""
        later = []
        for k, v in t.items():
            if isinstance(v, dict) and v and self.r.random() < 0.5:
                later.append((k, v, 'table'))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v) and self.r.random() < 0.6:
                later.append((k, v, 'aot'))
            elif isinstance(v, dict) and v and self.r.random() < 0.4 and self.dottable(v):
                self.dotted([k], v, out)
            else:
                out.append('%s = %s%s' % (self.key(k), self.inline(v), self.r.choice(['', ' # note', '\t'])))
        for k, v, kind in later:
            p = path + [k]
            name = '.'.join(self.key(x) for x in p)
            if kind == 'table':
                out.append('')
                out.append('[%s]' % name.replace('.', self.r.choice(['.', ' . '])))
                self.table(p, v, out)
            else:
                for elem in v:
                    out.append('[[%s]]' % name)
                    self.table(p, elem, out)

    def dottable(self, v):
        return all(not (isinstance(x, dict) and not x) for x in v.values())

    def dotted(self, prefix, t, out):
        for k, v in t.items():
            if isinstance(v, dict) and v and self.dottable(v):
                self.dotted(prefix + [k], v, out)
            else:
                out.append('%s = %s' % ('.'.join(self.key(x) for x in prefix + [k]), self.inline(v)))


def rand_value(r, depth):
    c = r.random()
    if depth < 4 and c < 0.12:
        return {rand_key(r): rand_value(r, depth + 1) for _ in range(r.randint(0, 4))}
    if depth < 4 and c < 0.22:
        if r.random() < 0.4:
            return [{rand_key(r): rand_value(r, depth + 2) for _ in range(r.randint(1, 3))} for _ in range(r.randint(1, 3))]
        return [rand_value(r, depth + 1) for _ in range(r.randint(0, 4))]
    if c < 0.45:
        return ('string', r.choice(TEXT) + (r.choice(TEXT) if r.random() < 0.3 else ''))
    if c < 0.65:
        return ('integer', r.choice([0, 1, -1, 42, 2**63 - 1, -2**63, r.randint(-10**12, 10**12)]))
    if c < 0.8:
        return ('float', r.choice([0.0, -0.0, 0.5, 1e300, 5e-324, 6.02e23, -1.25, math.inf, -math.inf, math.nan,
                                   r.uniform(-1e6, 1e6), 123456789.125]))
    if c < 0.85:
        return ('bool', r.random() < 0.5)
    y, mo, d = r.randint(1, 9999), r.randint(1, 12), r.randint(1, 28)
    h, mi, s = r.randint(0, 23), r.randint(0, 59), r.randint(0, 59)
    frac = r.choice(['', '.5', '.123456', '.999999999'])
    k = r.random()
    if k < 0.3:
        off = r.choice(['Z', '+05:30', '-08:00'])
        return ('datetime', '%04d-%02d-%02dT%02d:%02d:%02d%s%s' % (y, mo, d, h, mi, s, frac, off))
    if k < 0.5:
        return ('datetime-local', '%04d-%02d-%02dT%02d:%02d:%02d%s' % (y, mo, d, h, mi, s, frac))
    if k < 0.75:
        return ('date-local', '%04d-%02d-%02d' % (y, mo, d))
    return ('time-local', '%02d:%02d:%02d%s' % (h, mi, s, frac))


def rand_key(r):
    if r.random() < 0.7:
        return r.choice(WORDS) + (str(r.randint(0, 99)) if r.random() < 0.5 else '')
    return r.choice(TEXT)


def expected(v):
    if isinstance(v, dict):
        return {k: expected(x) for k, x in v.items()}
    if isinstance(v, list):
        return [expected(x) for x in v]
    t, x = v
    if t == 'string':
        return ('string', x)
    if t == 'float':
        return ('float', 'nan') if math.isnan(x) else ('float', x, math.copysign(1, x))
    if t in ('datetime', 'datetime-local', 'time-local') and '.' in x:
        # Compared at the decoder's precision: trailing zeros do not matter.
        main, rest = x.split('.', 1)
        digits = ''.join(c for c in rest if c.isdigit())
        return (t, main, digits.rstrip('0'), rest[len(digits):])
    if t in ('datetime', 'datetime-local', 'time-local'):
        return (t, x, '', '')
    return v


def from_json(j):
    if isinstance(j, dict) and set(j) == {'type', 'value'} and isinstance(j['value'], str):
        t, x = j['type'], j['value']
        if t == 'integer':
            return ('integer', int(x))
        if t == 'float':
            return ('float', 'nan') if x.endswith('nan') else ('float', float(x), math.copysign(1, float(x)))
        if t == 'bool':
            return ('bool', x == 'true')
        if t in ('datetime', 'datetime-local', 'time-local'):
            if '.' in x:
                main, rest = x.split('.', 1)
                digits = ''.join(c for c in rest if c.isdigit())
                return (t, main, digits.rstrip('0'), rest[len(digits):])
            return (t, x, '', '')
        return (t, x)
    if isinstance(j, dict):
        return {k: from_json(x) for k, x in j.items()}
    if isinstance(j, list):
        return [from_json(x) for x in j]
    raise ValueError(j)


def check(decoder, seed):
    r = random.Random(seed)
    doc = {rand_key(r): rand_value(r, 0) for _ in range(r.randint(1, 8))}
    w = Writer(r)
    lines = ['# random document %d' % seed] if r.random() < 0.5 else []
    w.table([], doc, lines)
    text = w.nl.join(lines) + (w.nl if r.random() < 0.8 else '')
    data = text.encode('utf-8')
    if r.random() < 0.1:
        data = b'\xef\xbb\xbf' + data
    p = subprocess.run([decoder], input=data, capture_output=True, timeout=30)
    if p.returncode != 0:
        return 'seed %d: rejected (%d): %s\n%s' % (seed, p.returncode, p.stderr.decode(errors='replace'), text)
    got = from_json(json.loads(p.stdout))
    want = expected(doc)
    if got != want:
        return 'seed %d: wrong value\n%s\nwant %r\ngot  %r' % (seed, text, want, got)
    return None


def main():
    decoder = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        for res in ex.map(lambda s: check(decoder, s), range(count)):
            if res:
                failed += 1
                if failed <= 5:
                    print('FAIL ' + res)
    print('random documents: %d/%d round-tripped' % (count - failed, count))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
