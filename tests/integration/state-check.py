#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Checks kservice-notifyd's state files (/var/lib/kservice/NAME.state) independently of the C
parser, from the format documented at the top of notifyd/model/state-file.h, for the integration
scenarios:

  state-check.py FILE...              exit 0 when every file is a valid state file, else print
                                      FILE: REASON for each bad one and exit 1
  state-check.py --counters FILE...   the same, and print one line per valid file:
                                      NAME RESTARTS_BY_KSERVICE RESTARTS_SEEN INCIDENTS
  state-check.py --reseal             stdin to stdout with its CHECKSUM= line recomputed (to make
                                      files that are wrong in one way only)

What is checked: the first line, KEY=VALUE lines (KEY [A-Z0-9_]+, each known key at most once),
integers, booleans, doubles (finite), the enums, INCIDENT lines (at most 50), comments, CHECKSUM=
last with the CRC-32 of every byte before it as 8 lowercase hex digits, the size limit, no NUL.
"""
import math
import os
import re
import sys
import zlib

HEADER = "# kservice-notifyd state 1"
SIZE_MAX = 64 * 1024
INCIDENTS_MAX = 50
HEALTH = {"starting", "healthy", "unhealthy", "flapping", "paused", "unknown"}
ACTIONS = {"none", "restart", "gave-up"}
OUTCOMES = {"ongoing", "recovered", "restarted", "stopped", "gave-up", "unknown"}
U64 = re.compile(r"(0|[1-9][0-9]*)\Z")


def u64(v):
    if not U64.match(v) or int(v) >= 1 << 64:
        raise ValueError("not an unsigned 64-bit integer")
    return int(v)


def boolean(v):
    if v not in ("0", "1"):
        raise ValueError("not 0 or 1")
    return v == "1"


def double(v):
    if not v or v[0] in " \t":
        raise ValueError("not a number")
    x = float(v)
    if not math.isfinite(x):
        raise ValueError("not finite")
    return x


def enum(names):
    def check(v):
        if v not in names:
            raise ValueError("not one of " + ", ".join(sorted(names)))
        return v
    return check


def invocation_id(v):
    if v and not re.fullmatch(r"[0-9a-f]{32}", v):
        raise ValueError("not 32 lowercase hex digits")
    return v


def flap_changes(v):
    if not re.fullmatch(r"[01]{0,20}", v):
        raise ValueError("not at most 20 of 0 and 1")
    return v


KEYS = {
    "HEALTH": enum(HEALTH),
    "HEALTH_SINCE": u64,
    "CONSECUTIVE_FAILURES": u64,
    "RESTARTS_BY_KSERVICE": u64,
    "RESTARTS_SEEN": u64,
    "SYSTEMD_NRESTARTS": u64,
    "SYSTEMD_INVOCATION_ID": invocation_id,
    "SCORE_NUMERATOR": double,
    "SCORE_DENOMINATOR": double,
    "SCORE_UPDATED": u64,
    "FLAP_CHANGES": flap_changes,
    "FLAP_LAST": enum({"none", "passed", "failed"}),
    "FLAPPING": boolean,
}


def crc(data):
    return "%08x" % (zlib.crc32(data) & 0xFFFFFFFF)


def parse(data):
    """Returns (fields, incidents) or raises ValueError with the reason."""
    if not data:
        raise ValueError("empty file")
    if len(data) > SIZE_MAX:
        raise ValueError("larger than %d bytes" % SIZE_MAX)
    if b"\0" in data:
        raise ValueError("contains a NUL byte")
    if not data.endswith(b"\n"):
        raise ValueError("truncated (no newline at the end)")
    lines = data[:-1].split(b"\n")
    if lines[0].decode("utf-8", "replace") != HEADER:
        raise ValueError("first line %r, expected %r" % (lines[0], HEADER))
    last = lines[-1]
    if not last.startswith(b"CHECKSUM="):
        raise ValueError("truncated (the last line is not CHECKSUM=)")
    want = last[len(b"CHECKSUM="):].decode("ascii", "replace")
    if not re.fullmatch(r"[0-9a-f]{8}", want):
        raise ValueError("malformed CHECKSUM= line")
    got = crc(data[: len(data) - len(last) - 1])
    if want != got:
        raise ValueError("checksum mismatch (the file says %s, its content is %s)" % (want, got))
    fields, incidents = {}, []
    for no, raw in enumerate(lines[1:-1], start=2):
        line = raw.decode("utf-8", "surrogateescape")
        if line.startswith("#"):
            continue
        key, eq, value = line.partition("=")
        if not eq:
            raise ValueError("line %d: no '='" % no)
        if not re.fullmatch(r"[A-Z0-9_]+", key):
            raise ValueError("line %d: malformed key" % no)
        if key == "CHECKSUM":
            raise ValueError("line %d: CHECKSUM= before the last line" % no)
        if key == "INCIDENT":
            parts = value.split(",", 4)
            if len(parts) != 5:
                raise ValueError("line %d: malformed INCIDENT" % no)
            try:
                started, ended = u64(parts[0]), u64(parts[1])
                action, outcome = enum(ACTIONS)(parts[2]), enum(OUTCOMES)(parts[3])
            except ValueError as e:
                raise ValueError("line %d: malformed INCIDENT: %s" % (no, e))
            incidents.append((started, ended, action, outcome, parts[4]))
            if len(incidents) > INCIDENTS_MAX:
                raise ValueError("line %d: more than %d incidents" % (no, INCIDENTS_MAX))
            continue
        if key not in KEYS:
            continue        # a newer minor version's key: skipped, as the C reader does
        if key in fields:
            raise ValueError("line %d: %s given twice" % (no, key))
        try:
            fields[key] = KEYS[key](value)
        except ValueError as e:
            raise ValueError("line %d: bad value for %s: %r (%s)" % (no, key, value, e))
    return fields, incidents


def main(argv):
    if argv[1:] == ["--reseal"]:
        data = sys.stdin.buffer.read()
        body = data
        i = data.rfind(b"\nCHECKSUM=")
        if i >= 0:
            body = data[: i + 1]
        sys.stdout.buffer.write(body + b"CHECKSUM=" + crc(body).encode() + b"\n")
        return 0
    counters = False
    if argv[1:2] == ["--counters"]:
        counters = True
        argv = argv[1:]
    bad = 0
    for path in argv[1:]:
        try:
            with open(path, "rb") as f:
                fields, incidents = parse(f.read())
        except (OSError, ValueError) as e:
            print("%s: %s" % (path, e), file=sys.stderr)
            bad += 1
            continue
        if counters:
            name = os.path.basename(path)[: -len(".state")]
            print(name, fields.get("RESTARTS_BY_KSERVICE", 0), fields.get("RESTARTS_SEEN", 0),
                  len(incidents))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
