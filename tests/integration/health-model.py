#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What notifyd/model/flap.h and notifyd/model/score.h say a service's flapping and score are, as
written there (not from their C code), for the integration scenarios to predict what the API
must show:

  health-model.py flap VERDICTS [LOW HIGH]
      VERDICTS: one letter per round, oldest first, p (passed) or f (failed), r for a restart done
      by kservice. Prints one line per event: INDEX(1-based) PERCENT FLAPPING(0/1).
  health-model.py score HALF_LIFE_USEC T_INIT_USEC EVENT...
      EVENT: KIND@USEC, KIND p (a passing round), f (a failing round), r (a restart by kservice).
      A new service at T_INIT (N = D = 1). Prints "SCORE N D" after the last event (the score
      not halved: the caller halves it while flapping).
"""
import sys

HISTORY = 20


class Flap:
    def __init__(self, low=5.0, high=20.0):
        self.low, self.high = low, high
        self.changes = 0        # bit 0 the newest event
        self.n = 0
        self.last = None        # the last round's verdict
        self.flapping = False

    def _event(self, change):
        self.changes = ((self.changes << 1) | int(change)) & ((1 << HISTORY) - 1)
        self.n = min(self.n + 1, HISTORY)
        p = self.percent()
        if not self.flapping and p >= self.high:
            self.flapping = True
        elif self.flapping and p <= self.low:
            self.flapping = False

    def round(self, passed):
        if self.last is None:
            self.last = passed          # the first round ever: nothing to differ from, no flag
            return
        change = passed != self.last
        self.last = passed
        self._event(change)

    def restart(self):
        self._event(True)

    def percent(self):
        # position i = 0 the oldest of the 20, 19 the newest: weight (76 + 2 i) / 19 percent
        s = sum(76 + 2 * (HISTORY - 1 - b) for b in range(HISTORY) if self.changes >> b & 1)
        return s / 19.0


def flap(argv):
    verdicts = argv[0]
    f = Flap(*(float(x) for x in argv[1:3])) if len(argv) >= 3 else Flap()
    for i, v in enumerate(verdicts, start=1):
        if v == "r":
            f.restart()
        else:
            f.round(v == "p")
        print(i, "%.4f" % f.percent(), int(f.flapping))


def score(argv):
    half = float(argv[0])
    t = int(argv[1])
    n = d = 1.0
    for ev in argv[2:]:
        kind, at = ev.split("@")
        at = int(at)
        if at > t:
            f = 2.0 ** (-(at - t) / half)
            n, d, t = n * f, d * f, at
        v, w = {"p": (1.0, 1.0), "f": (0.0, 1.0), "r": (0.0, 10.0)}[kind]
        n, d = n + w * v, d + w
    print("%.9f %.9f %.9f" % (n / d, n, d))


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "flap":
        flap(sys.argv[2:])
    elif len(sys.argv) >= 4 and sys.argv[1] == "score":
        score(sys.argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
