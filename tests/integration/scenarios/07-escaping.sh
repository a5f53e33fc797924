# SPDX-License-Identifier: LGPL-2.1-or-later
# Issue 3's escaping round trip through real systemd (issue 4, scenario 7): hostile strings in exec
# and [environment] (newlines, quotes, backslashes, %, $, ;, blanks, non-ASCII, control characters,
# empty strings, things that look like options or unit-file sections) must come back exactly:
#   - from systemd's own parse of the generated unit: ExecStart and Environment read over D-Bus
#     (busctl --json, so no second escaping layer is involved), and
#   - from the running process: ks-testd --dump writes the argv and environment it got.
# A NUL cannot be represented in an argv: that definition must be rejected.
ks_require "$KS_GENERATOR"
ks_exec test -x /usr/bin/busctl || ks_skip "busctl missing"
u=konivrer@esc.service
gen=$KS_TMP/escaping
mkdir -p "$gen"

# One list of strings, turned into the TOML file and the expected bytes by the same script.
python3 - "$gen" "$KS_TESTD" <<'PY'
import json, sys
out, testd = sys.argv[1], sys.argv[2]
args = [
    "two words", "  leading and trailing  ", "", "quote\"d", "single'q", "both \"'",
    "back\\slash", "trailing\\", "\\n is not a newline", "new\nline", "tab\there", "cr\rreturn",
    "percent %n %i %% % %%%", "%", "dollar $HOME ${HOME} $$ $", "$", ";", "semi;colon", "a ; b",
    "unicode ünïcödé ✓ 日本語 🙂", "\u00a0nbsp", "ctrl \u0001\u0002\u001b\u001f\u007f",
    "-dash", "--port", "-", "x\n[Service]\nExecStartPre=/bin/false", "{braces} [brackets] #hash",
    "@at", "+plus", "!bang", ":colon", "=equals", "'", "\"", "\\", "\\\\", "\\x41 \\u0041 \\101",
    "line1\nline2\n", "end\n",
]
env = [
    ("KS_T_PLAIN", "plain"), ("KS_T_BLANKS", "two words  and more"), ("KS_T_EMPTY", ""),
    ("KS_T_QUOTES", "quote\" single' both"), ("KS_T_BACKSLASH", "back\\slash trailing\\"),
    ("KS_T_PERCENT", "% %n %i %%"), ("KS_T_DOLLAR", "$HOME ${HOME} $$ $"),
    ("KS_T_NEWLINE", "new\nline\n[Service]\nExecStart=/bin/false"), ("KS_T_UNICODE", "ünïcödé ✓"),
    ("KS_T_SEMI", "a;b ; c"), ("KS_T_CTRL", "tab\tcr\r\u0001"), ("KS_T_EQ", "a=b=c"),
]
def toml(s):
    r = []
    for ch in s:
        o = ord(ch)
        if ch == '"': r.append('\\"')
        elif ch == '\\': r.append('\\\\')
        elif ch == '\n': r.append('\\n')
        elif ch == '\t': r.append('\\t')
        elif ch == '\r': r.append('\\r')
        elif o < 0x20 or o == 0x7f: r.append('\\u%04x' % o)
        else: r.append(ch)
    return '"' + ''.join(r) + '"'
argv = [testd, "--dump", "/run/kstest/esc"] + args
with open(out + "/esc.toml", "w", encoding="utf-8") as f:
    f.write("exec = [\n" + "".join("  %s,\n" % toml(a) for a in argv) + "]\n")
    f.write("restart = \"no\"\n[environment]\n")
    for k, v in env:
        f.write("%s = %s\n" % (k, toml(v)))
json.dump({"argv": argv, "env": ["%s=%s" % kv for kv in env]}, open(out + "/want.json", "w"))
PY

ks_def esc <"$gen/esc.toml"
ks_reload
ks_is_generated $u || ks_fail "$u not generated (see the journal for the generator's error)"

ks_log "systemd's parse of the generated unit, over D-Bus"
path=$(ks_exec busctl call org.freedesktop.systemd1 /org/freedesktop/systemd1 \
        org.freedesktop.systemd1.Manager LoadUnit s $u | sed 's/^o "\(.*\)"$/\1/')
ks_exec busctl --json=short get-property org.freedesktop.systemd1 "$path" \
        org.freedesktop.systemd1.Service ExecStart >"$gen/execstart.json"
ks_exec busctl --json=short get-property org.freedesktop.systemd1 "$path" \
        org.freedesktop.systemd1.Service Environment >"$gen/environment.json"

ks_log "the running process"
ks_exec rm -f /run/kstest/esc /run/kstest/esc.env
ks_exec mkdir -p /run/kstest
ks_start $u
ks_wait_until 10 "the service wrote its argv" ks_exec test -s /run/kstest/esc.env
ks_exec cat /run/kstest/esc >"$gen/argv.bin"
ks_exec cat /run/kstest/esc.env >"$gen/env.bin"

python3 - "$gen" <<'PY' || ks_fail "escaping round trip differs (details above)"
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
    print("MISMATCH: %s" % what)
    for i in range(max(len(got), len(exp))):
        g = got[i] if i < len(got) else "<missing>"
        e = exp[i] if i < len(exp) else "<missing>"
        if g != e:
            print("  [%d] expected %r, got %r" % (i, e, g))
es = json.load(open(d + "/execstart.json"))["data"]
if len(es) != 1:
    print("MISMATCH: %d ExecStart= commands, expected 1" % len(es)); bad += 1
else:
    # systemd resolves specifiers (%%) when loading but keeps "$$" (a literal "$") in the stored
    # command line until it executes it: the D-Bus view has every "$" doubled.
    compare("ExecStart argv (D-Bus)", es[0][1], [a.replace("$", "$$") for a in want["argv"]])
    compare("ExecStart path (D-Bus)", [es[0][0]], want["argv"][:1])
envs = json.load(open(d + "/environment.json"))["data"]
compare("Environment (D-Bus)", [e for e in envs if e.startswith("KS_T_")], want["env"])
argv = open(d + "/argv.bin", "rb").read().split(b"\0")[:-1]
compare("argv of the process", [a.decode("utf-8", "backslashreplace") for a in argv], want["argv"])
penv = open(d + "/env.bin", "rb").read().split(b"\0")[:-1]
penv = [e.decode("utf-8", "backslashreplace") for e in penv if e.startswith(b"KS_T_")]
compare("environment of the process", sorted(penv), sorted(want["env"]))
sys.exit(1 if bad else 0)
PY

ks_log "a NUL cannot be passed in an argv: that definition is rejected (its message: 12)"
ks_def nul <<EOF
exec = ["$KS_TESTD", "nul\\u0000byte"]
EOF
ks_reload
ks_exec test ! -e "$KS_GENERATOR_DIR/konivrer@nul.service" || ks_fail "konivrer@nul.service generated with a NUL"
ks_is_generated konivrer@esc.service || ks_fail "konivrer@esc.service is gone after the reload"
