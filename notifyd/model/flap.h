/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Flap detection for one service, in the manner of Nagios' percent state change: pure, no I/O,
 * no clock, 24 bytes per service, a few nanoseconds per round.
 *
 * The history. Nagios keeps a service's last 21 check results and looks at the 20 transitions
 * between them. Here the history is those 20 transitions themselves, as change flags, newest
 * first, plus the verdict of the last round: for rounds alone that is the same information as 21
 * verdicts (each verdict is the last one XOR the changes after it), and unlike a ring of verdicts
 * it can hold a restart, which is not a verdict. An event adds one flag and drops the oldest:
 *  - a round (ks_flap_record()): a change when its verdict differs from the previous round's;
 *    the first round ever recorded has nothing to differ from and adds no flag;
 *  - a restart done by kservice (ks_flap_record_restart(), its WATCHDOG=trigger): always a
 *    change. It does not replace a verdict: the next round is still compared with the last one,
 *    so fail, fail, fail, restart, pass is three changes (fail, restart, pass), where the same
 *    rounds without the restart are two.
 *
 * The percent state change (0 to 100). The 20 flag positions are weighted linearly from 0.8
 * (the oldest, i = 0) to 1.2 (the newest, i = 19): w(i) = 0.8 + 0.4 * i / 19, and
 *
 *         percent = 100 * sum of w(i) over the positions i that hold a change / 20
 *
 * The weights average 1.0, so 20 changes are exactly 100 %, and one change weighs 4.0 % (oldest)
 * to 6.0 % (newest). Exactly: percent = S / 19 with S = sum of (76 + 2 i), an integer.
 * Nagios (base/flapping.c) computes the same sum with weights 0.75 to 1.25 (its docs give no
 * numbers); Icinga 2 uses 0.8 + 0.02 i over 20 flags. kservice takes 0.8 to 1.2: a flatter curve,
 * so a change weighs about the same wherever it is in the window.
 *
 * Fewer than 21 results. Nagios starts every service with 21 results of OK, so a service that
 * fails from its first check gets a change it never made, and divides by 20 from the start.
 * kservice computes over what exists: missing positions hold no change (nothing is invented) and
 * the divisor stays 20, so a young service needs as many changes to flap as an old one, and its
 * first failing round is no change.
 *
 * What goes in: Nagios records, for services, only hard states and soft recoveries; kservice has
 * no soft states, its rounds are the results (which rounds count, e.g. those of a start period, is
 * the caller's choice).
 *
 * Hysteresis, after each event: a service that is not flapping starts when percent >= high;
 * one that is flapping stops when percent <= low (Nagios' code; its docs say "below": with
 * "<", low = 0 would never stop); in between nothing changes. Thresholds satisfy
 * 0 <= low < high <= 100 (ks_flap_thresholds_validate()); a change of thresholds takes effect
 * at the next event.
 *
 * Defaults: low 5.0, high 20.0, Nagios' for services; the future keys are
 * health.flap_low_threshold and health.flap_high_threshold (percent, floats; named like
 * failure_threshold and success_threshold). With kservice's defaults (a round every 10 s,
 * failure_threshold 3, success_threshold 1), one change weighs 4 to 6 %, so:
 *  - a service that steadily passes, or steadily fails without restarts, has 0 % and never flaps;
 *  - one incident never flaps, even with a restart: a failed round and a recovery are 2 changes
 *    (at most 11.9 %), with a restart 3 (at most 17.7 %). 4 changes reach 20 % when they are
 *    recent (the 4 newest: 23.4 %): two one-round failures up to 18 rounds apart (about
 *    3 minutes) make a service flap, 19 apart do not; so does a service that fails, is restarted,
 *    recovers and fails again within that time (the 4th change, 23.2 %);
 *  - an endpoint alternating 200/500 every round, from a steadily healthy history, flaps at its
 *    4th alternating round (4 changes, 23.4 %: about 40 s); a new service (whose first round is
 *    no change) at its 5th round;
 *  - once it settles (every round the same verdict), it stops flapping at the 19th round after
 *    the first settled one (itself a change): that change has then slid to the oldest position
 *    (4.0 % <= 5) and the earlier ones are gone; at the 18th, two changes still weigh 8.1 %.
 *    About 3 minutes 10 s at 10 s;
 *  - a service restarted by kservice again and again flaps even when it never passes (it keeps
 *    being restarted): with failure_threshold 3, fail, fail, fail, restart repeated after a
 *    steadily failing history flaps at the 4th restart (21.5 %) and stays at 25.8 %.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KS_FLAP_LOW_THRESHOLD_DEFAULT 5.0
#define KS_FLAP_HIGH_THRESHOLD_DEFAULT 20.0
/* Change flags kept: the transitions between the last 21 results. */
#define KS_FLAP_HISTORY 20u

typedef struct ks_flap {
        double low, high;       /* thresholds, percent */
        uint32_t changes;       /* bit 0: the newest event was a change, bit 19: the oldest */
        uint8_t n_changes;      /* flags recorded so far, at most KS_FLAP_HISTORY */
        bool have_last;         /* a round has been recorded: last_passed holds its verdict */
        bool last_passed;
        bool flapping;
} ks_flap;

/* 0 <= low < high <= 100 (NaN fails): 0, else -ERANGE. */
int ks_flap_thresholds_validate(double low, double high);

/* An empty history, not flapping. -ERANGE (f untouched) when the thresholds are invalid. */
int ks_flap_init(ks_flap *f, double low, double high);

/* New thresholds for the history as it is (a definition reloaded); they decide at the next
 * event. -ERANGE (f untouched) when invalid. */
int ks_flap_set_thresholds(ks_flap *f, double low, double high);

/* One round's verdict; returns whether the flapping state changed (started or stopped). */
bool ks_flap_record(ks_flap *f, bool passed);

/* A restart done by kservice: a change. Returns whether the flapping state changed. */
bool ks_flap_record_restart(ks_flap *f);

/* The percent state change of the current history, 0 to 100. */
double ks_flap_percent(const ks_flap *f);

static inline bool ks_flap_is_flapping(const ks_flap *f) {
        return f->flapping;
}

/* The state as three plain integers for the state file:
 *   bits:     bits 0-19 the change flags (bit 0 the newest), bit 20 the last round passed,
 *             bit 21 a round has been recorded; bits above 21 are 0;
 *   count:    the number of change flags recorded, 0 to 20 (flags at and above it are 0);
 *   flapping: 0 or 1.
 * Unpack checks all of that (-EINVAL, f untouched otherwise) and keeps f's thresholds; the
 * flapping flag is taken as saved, not recomputed, so new thresholds decide at the next event. */
void ks_flap_pack(const ks_flap *f, uint32_t *ret_bits, uint32_t *ret_count, uint32_t *ret_flapping);
int ks_flap_unpack(ks_flap *f, uint32_t bits, uint32_t count, uint32_t flapping);
