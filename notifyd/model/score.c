/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The health score, an exponentially time-decayed average of events (definition in score.h). */
#include <errno.h>
#include <math.h>

#include "score.h"

int ks_score_init(ks_score *s, uint64_t half_life_usec, uint64_t now_usec) {
        if (half_life_usec == 0)
                return -EINVAL;
        *s = (ks_score) { .n = 1.0, .d = 1.0, .t_usec = now_usec, .half_life_usec = half_life_usec };
        return 0;
}

/* Keeps D >= KS_SCORE_D_MIN with N/D unchanged: far below it the sums lose precision and finally
 * underflow to 0/0. */
static void renormalise(ks_score *s, double ratio) {
        if (s->d < KS_SCORE_D_MIN) {
                s->d = KS_SCORE_D_MIN;
                s->n = ratio * KS_SCORE_D_MIN;
        }
}

int ks_score_restore(ks_score *s, uint64_t half_life_usec, double n, double d, uint64_t t_usec) {
        if (half_life_usec == 0 || !isfinite(n) || !isfinite(d) || !(d > 0.0) || !(n >= 0.0) || n > d)
                return -EINVAL;
        *s = (ks_score) { .n = n, .d = d, .t_usec = t_usec, .half_life_usec = half_life_usec };
        renormalise(s, n / d);
        return 0;
}

static void decay(ks_score *s, uint64_t now_usec) {
        double ratio, f;

        if (now_usec <= s->t_usec)
                return;         /* no time passed, or it went backwards: no decay, t stays */

        ratio = s->n / s->d;
        f = exp2(-(double) (now_usec - s->t_usec) / (double) s->half_life_usec);
        s->n *= f;
        s->d *= f;
        s->t_usec = now_usec;
        renormalise(s, ratio);
}

int ks_score_event(ks_score *s, uint64_t now_usec, double value, double weight) {
        ks_score t = *s;

        if (!(value >= 0.0 && value <= 1.0) || !(weight >= 0.0) || !isfinite(weight))
                return -EINVAL;
        decay(&t, now_usec);
        t.n += weight * value;
        t.d += weight;
        if (!isfinite(t.d))
                return -ERANGE;         /* a weight near DBL_MAX: N/D would be inf/inf */
        *s = t;
        return 0;
}

void ks_score_round(ks_score *s, uint64_t now_usec, bool passed) {
        (void) ks_score_event(s, now_usec, passed ? 1.0 : 0.0, 1.0);
}

void ks_score_restart(ks_score *s, uint64_t now_usec) {
        (void) ks_score_event(s, now_usec, 0.0, KS_SCORE_RESTART_WEIGHT);
}

double ks_score_get(const ks_score *s, bool flapping) {
        double r = s->n / s->d;

        /* N <= D holds exactly (rounding is monotonic); the clamp only keeps a promise. */
        if (r > 1.0)
                r = 1.0;
        return flapping ? r / 2 : r;
}
