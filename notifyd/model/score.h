/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The health score of one service: a number from 0 to 1 (the "trust score" of self-healing
 * scripts) that rises with passing rounds, falls with failures, restarts and flapping, and
 * forgets with time. Pure: no I/O, no clock (the caller passes the time), 32 bytes per service.
 *
 * Definition: an exponentially time-decayed average of events. The state is two sums, N and D,
 * and the time t of the last update.
 *  - A new service starts at N = D = 1, as if it had passed one round: new services are trusted.
 *  - An event at time t' with value v (0 to 1) and weight w (>= 0) first decays both sums by
 *        f = 2^(-(t' - t) / H)                H: the half-life, default 1 hour
 *    then adds it: N = f N + w v, D = f D + w, t = t'.
 *  - Events: a passing round v = 1, w = 1; a failing round v = 0, w = 1; a restart done by
 *    kservice v = 0, w = 10 (it weighs like ten failed rounds at that moment).
 *  - The score is N / D, halved while the service is flapping (flap.h): the halving is applied
 *    when it is read and never stored, so it ends with the flapping.
 *  - Between events the score does not move: decay scales N and D alike. Time only changes how
 *    much the next event weighs against the past: after one half-life, twice as much.
 * So 0 <= score <= 1; a pass never lowers it, a failure or a restart never raises it.
 *
 * Worked examples (all at one instant unless said; the unit test checks each):
 *  - new: 1/1 = 1.000; 100 passes then a failure: 101/102 = 0.990;
 *  - 10 passes then a restart: 11/21 = 0.524, reported 0.262 while flapping;
 *  - 100 passes, one half-life without events (still 1.000), then a failure: N = 50.5,
 *    D = 51.5, 0.981 = 101/103, the same as two failures at once without the wait;
 *  - a service passing every 10 s for hours: D tends to 1 / (1 - 2^(-10 s / 1 h)) = 519.9, so
 *    one failure makes it 0.998, a restart 0.981, 3 failed rounds and a restart with the 3rd 0.975.
 *    One hour of failing rounds brings it from 1.0 to 0.5, two hours to 0.25.
 *
 * Time: any usec clock that holds across the state's life; for a persisted score the realtime
 * clock, so downtime of notifyd or the machine counts as time passed. Time going backwards
 * (t' < t) decays nothing and t stays the latest time seen, so a clock stepped back by a minute
 * costs a minute of no decay, and a wrong clock at boot (1970) does not wipe the history when
 * it is corrected.
 * Long idle: after about 30 half-lives the sums would lose all precision and, much later,
 * underflow to 0 (0/0). D is kept at least 2^-30 (renormalised: N scaled with it, so N/D stays):
 * the old history then weighs 2^-30 of one round, and the next score differs from the exact
 * formula by less than 1e-9.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define KS_SCORE_HALF_LIFE_USEC_DEFAULT (UINT64_C(3600) * UINT64_C(1000000))
#define KS_SCORE_RESTART_WEIGHT 10.0
/* The least D: below it the decay renormalises (see above). */
#define KS_SCORE_D_MIN 0x1p-30

typedef struct ks_score {
        double n, d;                    /* the decayed sums; persisted */
        uint64_t t_usec;                /* the last update, the latest time seen; persisted */
        uint64_t half_life_usec;        /* configuration (health.score_half_life), not persisted */
} ks_score;

/* A new service at now_usec: N = D = 1. -EINVAL (s untouched) when half_life_usec is 0. */
int ks_score_init(ks_score *s, uint64_t half_life_usec, uint64_t now_usec);

/* Restores persisted sums: -EINVAL (s untouched) unless both are finite, 0 <= n <= d and
 * d > 0 (d below KS_SCORE_D_MIN is raised to it with n, as the decay would), and half_life_usec > 0. */
int ks_score_restore(ks_score *s, uint64_t half_life_usec, double n, double d, uint64_t t_usec);

/* One event at now_usec. -EINVAL (s untouched) unless 0 <= value <= 1 and weight is finite and
 * >= 0; -ERANGE (s untouched) if D would overflow (a weight near DBL_MAX). */
int ks_score_event(ks_score *s, uint64_t now_usec, double value, double weight);

/* A round: value 1 (passed) or 0, weight 1. */
void ks_score_round(ks_score *s, uint64_t now_usec, bool passed);

/* A restart done by kservice: value 0, weight KS_SCORE_RESTART_WEIGHT. */
void ks_score_restart(ks_score *s, uint64_t now_usec);

/* N / D, halved while flapping; 0 to 1. */
double ks_score_get(const ks_score *s, bool flapping);
