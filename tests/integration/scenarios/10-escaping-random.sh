# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 3, escaping, randomized: 300 random arguments and 60 random environment values, drawn
# from every character a TOML string can hold except NUL and the Unicode noncharacters (which
# systemd refuses and the generator rejects): all C0 controls, DEL, quotes, backslashes, %, $,
# ;, blanks, and code points of every UTF-8 length, U+2028 and a BOM among them; written as one
# definition. What systemd parsed (ExecStart and Environment over
# D-Bus, busctl --json) and what the started process received (ks-testd --dump) must equal the
# generated strings exactly. The seed is printed, so a failure can be replayed.
ks_require "$KS_GENERATOR"
ks_exec test -x /usr/bin/busctl || ks_skip "busctl missing"
u=konivrer@rnd.service
gen=$KS_TMP/escaping-random
mkdir -p "$gen"
seed=${KS_ESCAPE_SEED:-20261122}
ks_log "seed $seed (KS_ESCAPE_SEED=$seed replays it)"

python3 - "$gen" "$KS_TESTD" "$seed" <<'PY'
import json, random, sys
out, testd, seed = sys.argv[1], sys.argv[2], int(sys.argv[3])
rnd = random.Random(seed)
special = list(range(1, 0x20)) + [0x7f, ord('"'), ord("'"), ord('\\'), ord('%'), ord('$'), ord(';'),
                                  ord(' '), ord('{'), ord('}'), ord('#'), ord('['), ord('=')]
def nonchar(c):
    # systemd refuses these in unit files; the generator rejects them (golden cases cover it)
    return 0xfdd0 <= c <= 0xfdef or (c & 0xfffe) == 0xfffe
def pick(lo, hi):
    while True:
        c = rnd.randrange(lo, hi)
        if not 0xd800 <= c <= 0xdfff and not nonchar(c):
            return chr(c)
def char():
    k = rnd.random()
    if k < 0.45:
        return chr(rnd.choice(special))
    if k < 0.7:
        return chr(rnd.randrange(0x20, 0x7f))
    if k < 0.8:
        return pick(0x80, 0x800)
    if k < 0.9:
        return pick(0x800, 0x10000)
    if k < 0.95:
        return pick(0x10000, 0x110000)
    return rnd.choice(['\u2028', '\u2029', '\ufeff', '\ufffd', '\U0010fffd', '\u0085'])
def string(n):
    return ''.join(char() for _ in range(rnd.randrange(0, n)))
def toml(s):
    r = []
    for ch in s:
        o = ord(ch)
        if ch == '"': r.append('\\"')
        elif ch == '\\': r.append('\\\\')
        elif o < 0x20 or o == 0x7f: r.append('\\u%04x' % o)
        else: r.append(ch)
    return '"' + ''.join(r) + '"'
args = [string(24) for _ in range(300)]
env = [("KS_R_%03d" % i, string(40)) for i in range(60)]
argv = [testd, "--dump", "/run/kstest/rnd"] + args
with open(out + "/rnd.toml", "w", encoding="utf-8") as f:
    f.write("exec = [\n" + "".join("  %s,\n" % toml(a) for a in argv) + "]\n")
    f.write("restart = \"no\"\n[environment]\n")
    for k, v in env:
        f.write("%s = %s\n" % (k, toml(v)))
json.dump({"argv": argv, "env": ["%s=%s" % kv for kv in env]}, open(out + "/want.json", "w"))
PY

ks_def rnd <"$gen/rnd.toml"
ks_reload
ks_is_generated $u || ks_fail "$u not generated (see the journal for the generator's error)"

path=$(ks_exec busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager LoadUnit s $u | sed 's/^o "\(.*\)"$/\1/')
ks_exec busctl --json=short get-property org.freedesktop.systemd1 "$path" \
        org.freedesktop.systemd1.Service ExecStart >"$gen/execstart.json"
ks_exec busctl --json=short get-property org.freedesktop.systemd1 "$path" \
        org.freedesktop.systemd1.Service Environment >"$gen/environment.json"

ks_exec rm -f /run/kstest/rnd /run/kstest/rnd.env
ks_exec mkdir -p /run/kstest
ks_start $u
ks_wait_until 20 "the service wrote its argv" ks_exec test -s /run/kstest/rnd.env
ks_exec cat /run/kstest/rnd >"$gen/argv.bin"
ks_exec cat /run/kstest/rnd.env >"$gen/env.bin"

python3 - "$gen" <<'PY' || ks_fail "randomized escaping round trip differs (seed $seed; details above)"
import json, sys
d = sys.argv[1]
want = json.load(open(d + "/want.json"))
bad = 0
def compare(what, got, exp):
    global bad
    if got == exp:
        print("ok: %s: %d strings equal" % (what, len(exp)))
        return
    bad += 1
    print("MISMATCH: %s (%d vs %d strings)" % (what, len(got), len(exp)))
    shown = 0
    for i in range(max(len(got), len(exp))):
        g = got[i] if i < len(got) else "<missing>"
        e = exp[i] if i < len(exp) else "<missing>"
        if g != e and shown < 10:
            shown += 1
            print("  [%d] expected %r, got %r" % (i, e, g))
es = json.load(open(d + "/execstart.json"))["data"]
# The stored command keeps "$$" (a literal "$"): systemd expands variables only when it runs
# the command. The process's argv below is the final word.
compare("ExecStart argv (D-Bus)", es[0][1] if es else [], [a.replace("$", "$$") for a in want["argv"]])
compare("ExecStart path (D-Bus)", [es[0][0]] if es else [], want["argv"][:1])
envs = json.load(open(d + "/environment.json"))["data"]
compare("Environment (D-Bus)", [e for e in envs if e.startswith("KS_R_")], want["env"])
argv = open(d + "/argv.bin", "rb").read().split(b"\0")[:-1]
compare("argv of the process", [a.decode("utf-8", "surrogateescape") for a in argv], want["argv"])
penv = open(d + "/env.bin", "rb").read().split(b"\0")[:-1]
penv = [e.decode("utf-8", "surrogateescape") for e in penv if e.startswith(b"KS_R_")]
compare("environment of the process", sorted(penv), sorted(want["env"]))
sys.exit(1 if bad else 0)
PY
