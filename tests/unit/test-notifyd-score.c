/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* score.h: the worked examples computed by hand, monotonicity, bounds under a million random
 * events, long idle, time going backwards, bad input, restore, and the cost of a round. */
#include <float.h>
#include <math.h>
#include <time.h>

#include "score.h"
#include "test.h"

#define SEC UINT64_C(1000000)
#define H KS_SCORE_HALF_LIFE_USEC_DEFAULT
#define T0 (UINT64_C(1700000000) * SEC)      /* a realtime clock, as persisted scores use */

static ks_score new_score(uint64_t now) {
        ks_score s;

        ASSERT_OK(ks_score_init(&s, H, now));
        return s;
}

TEST(init) {
        ks_score s = new_score(T0);

        EXPECT_TRUE(ks_score_get(&s, false) == 1.0);     /* N = D = 1: trusted */
        EXPECT_TRUE(ks_score_get(&s, true) == 0.5);
        EXPECT_TRUE(s.n == 1.0 && s.d == 1.0 && s.t_usec == T0);
        EXPECT_ERROR(ks_score_init(&s, 0, T0), EINVAL);
        EXPECT_TRUE(s.half_life_usec == H);
}

/* Each at one instant unless said; the sums are small integers or halves, so exact. */
TEST(worked_examples) {
        ks_score s = new_score(T0);

        /* 100 passes: N = D = 101; a failure: 101 / 102 = 0.990196 */
        for (int i = 0; i < 100; i++)
                ks_score_round(&s, T0, true);
        EXPECT_TRUE(ks_score_get(&s, false) == 1.0);
        ks_score_round(&s, T0, false);
        EXPECT_TRUE(ks_score_get(&s, false) == 101.0 / 102.0);
        EXPECT_NEAR(ks_score_get(&s, false), 0.990196, 1e-6);

        /* 10 passes then a restart: N = 11, D = 11 + 10 = 21; 0.5238; halved while flapping */
        s = new_score(T0);
        for (int i = 0; i < 10; i++)
                ks_score_round(&s, T0, true);
        ks_score_restart(&s, T0);
        EXPECT_TRUE(ks_score_get(&s, false) == 11.0 / 21.0);
        EXPECT_TRUE(ks_score_get(&s, true) == 11.0 / 42.0);
        EXPECT_TRUE(s.n == 11.0 && s.d == 21.0);      /* the halving is never stored */

        /* 100 passes, then one half-life without events: the ratio is unchanged (nothing to read
         * it from but N/D, which did not move); the failure then weighs twice as much against
         * the old history: N = 101 / 2 = 50.5, D = 50.5 + 1 = 51.5, 50.5 / 51.5 = 101 / 103
         * = 0.980583, the same as two failures at once without the wait (101 / 103). */
        s = new_score(T0);
        for (int i = 0; i < 100; i++)
                ks_score_round(&s, T0, true);
        EXPECT_TRUE(ks_score_get(&s, false) == 1.0);
        ks_score_round(&s, T0 + H, false);
        EXPECT_TRUE(s.n == 50.5 && s.d == 51.5 && s.t_usec == T0 + H);
        EXPECT_TRUE(ks_score_get(&s, false) == 50.5 / 51.5);
        EXPECT_NEAR(ks_score_get(&s, false), 101.0 / 103.0, 1e-15);
        EXPECT_NEAR(ks_score_get(&s, false), 0.980583, 1e-6);

        /* a pass (N = D = 2), two half-lives, a failure: N = 0.5, D = 1.5, 1/3 */
        s = new_score(T0);
        ks_score_round(&s, T0, true);
        ks_score_round(&s, T0 + 2 * H, false);
        EXPECT_TRUE(s.n == 0.5 && s.d == 1.5);
        EXPECT_NEAR(ks_score_get(&s, false), 1.0 / 3.0, 1e-15);

        /* a general event: value 0.25, weight 3 after one half-life from new: N = 0.5 + 0.75,
         * D = 0.5 + 3, 1.25 / 3.5 */
        s = new_score(T0);
        ASSERT_OK(ks_score_event(&s, T0 + H, 0.25, 3.0));
        EXPECT_TRUE(s.n == 1.25 && s.d == 3.5);
}

/* score.h's numbers for a service checked every 10 s. */
TEST(ten_second_rounds) {
        const uint64_t step = 10 * SEC;
        const double f = exp2(-10.0 / 3600.0), d_inf = 1.0 / (1.0 - f);   /* 519.87 */
        ks_score s = new_score(T0), t;
        uint64_t now = T0;

        /* 48 hours of passes: D within 2^-48 of its limit */
        for (int i = 0; i < 48 * 360; i++)
                ks_score_round(&s, now += step, true);
        EXPECT_NEAR(s.d, d_inf, 1e-9);
        EXPECT_NEAR(d_inf, 519.87, 0.005);
        EXPECT_TRUE(ks_score_get(&s, false) == 1.0);

        /* the next round fails: N = f D = D - 1 (D = f D + 1 at the limit), D stays */
        t = s;
        ks_score_round(&t, now + step, false);
        EXPECT_NEAR(ks_score_get(&t, false), (d_inf - 1) / d_inf, 1e-12);
        EXPECT_NEAR(ks_score_get(&t, false), 0.998, 0.0005);

        /* a restart instead: N = D - 1, D + 9 */
        t = s;
        ks_score_restart(&t, now + step);
        EXPECT_NEAR(ks_score_get(&t, false), (d_inf - 1) / (d_inf + 9), 1e-12);
        EXPECT_NEAR(ks_score_get(&t, false), 0.981, 0.0005);

        t = s;
        ks_score_round(&t, now + step, false);
        ks_score_round(&t, now + 2 * step, false);
        ks_score_round(&t, now + 3 * step, false);
        ks_score_restart(&t, now + 3 * step);
        EXPECT_NEAR(ks_score_get(&t, false), 0.975, 0.0005);

        /* an hour of failing rounds halves it, two hours quarter it */
        t = s;
        for (int i = 1; i <= 360; i++)
                ks_score_round(&t, now + (uint64_t) i * step, false);
        EXPECT_NEAR(ks_score_get(&t, false), 0.5, 1e-9);
        for (int i = 361; i <= 720; i++)
                ks_score_round(&t, now + (uint64_t) i * step, false);
        EXPECT_NEAR(ks_score_get(&t, false), 0.25, 1e-9);
}

/* Reading without an event: N/D, whatever the time; the sums only move at events. */
TEST(no_decay_between_events) {
        ks_score s = new_score(T0);

        ks_score_round(&s, T0, false);          /* 1/2 */
        for (int i = 0; i < 3; i++)
                ks_score_round(&s, T0 + (uint64_t) i * 600 * SEC, i != 1);
        double before = ks_score_get(&s, false);
        ks_score t = s;
        /* a weight-0 event decays the sums to that time and adds nothing: the ratio stays */
        ASSERT_OK(ks_score_event(&t, T0 + 5 * H, 1.0, 0.0));
        EXPECT_NEAR(ks_score_get(&t, false), before, 1e-15);
        EXPECT_NEAR(t.d, s.d * exp2(-(double) (5 * H - 1200 * SEC) / (double) H), 1e-12);
}

/* Passes never lower it, failures and restarts never raise it: exactly so in real numbers;
 * computed, up to rounding (2 ulp of the score). */
TEST(monotonic) {
        uint64_t seed = 1, now = T0;
        ks_score s = new_score(now);

        for (int i = 0; i < 1000000; i++) {
                uint64_t r = ks_test_random(&seed);
                double before = ks_score_get(&s, false), after;
                int kind = (int) (r % 8);       /* 0-3 pass, 4-6 fail, 7 restart */

                now += (r >> 8) % (120 * SEC);
                if (kind == 7)
                        ks_score_restart(&s, now);
                else
                        ks_score_round(&s, now, kind < 4);
                after = ks_score_get(&s, false);
                if (kind < 4 ? after < before - 2 * DBL_EPSILON : after > before + 2 * DBL_EPSILON) {
                        TEST_FAILED("event %d (%s): %.17g -> %.17g", i, kind < 4 ? "pass" : "failure", before, after);
                        return;
                }
        }
        EXPECT_TRUE(true);
}

/* A million random events: pass, fail, restart, any value and weight, time steps from 0 to
 * days, backwards, or years: always a number in [0, 1], N <= D, D >= 2^-30. */
TEST(bounds) {
        uint64_t seed = 0xdeadbeef, now = T0;
        ks_score s = new_score(now);
        double lo = 1.0, hi = 0.0;

        for (int i = 0; i < 1000000; i++) {
                uint64_t r = ks_test_random(&seed), u = ks_test_random(&seed);
                double x;

                switch (r % 16) {
                case 0:
                        now -= now > 3600 * SEC ? u % (3600 * SEC) : 0;       /* backwards */
                        break;
                case 1:
                        now += u % (UINT64_C(365) * 24 * 3600 * SEC);         /* up to a year */
                        break;
                case 2:
                        break;                                                  /* same instant */
                default:
                        now += u % (600 * SEC);
                }
                switch ((r >> 4) % 8) {
                case 0:
                        ks_score_restart(&s, now);
                        break;
                case 1:
                        ASSERT_OK(ks_score_event(&s, now, (double) (u >> 11) / 0x1p53,
                                                 (double) ((u >> 3) % 1000) / 10.0));
                        break;
                default:
                        ks_score_round(&s, now, (r >> 8) % 3 != 0);
                }
                x = ks_score_get(&s, (r >> 12) & 1);
                if (!(x >= 0.0 && x <= 1.0) || !(s.n <= s.d) || !(s.d >= KS_SCORE_D_MIN) || !isfinite(s.d)) {
                        TEST_FAILED("event %d: score %.17g, N %.17g, D %.17g", i, x, s.n, s.d);
                        return;
                }
                lo = fmin(lo, x);
                hi = fmax(hi, x);
        }
        /* it went through most of the range */
        EXPECT_TRUE(lo < 0.1 && hi > 0.9);
}

TEST(long_idle) {
        ks_score s = new_score(0), t;

        for (int i = 0; i < 1000; i++)
                ks_score_round(&s, 0, i % 4 != 0);      /* N = 751, D = 1001 */
        /* 10000 half-lives: 2^-10000 is 0 in a double; D is kept at 2^-30 with the ratio */
        t = s;
        ASSERT_OK(ks_score_event(&t, 10000 * H, 0.0, 0.0));
        EXPECT_TRUE(t.d == KS_SCORE_D_MIN);
        EXPECT_NEAR(ks_score_get(&t, false), 751.0 / 1001.0, 1e-15);
        /* the next failure decides almost alone: 2^-30 * r / (2^-30 + 1) < 1e-9 */
        ks_score_round(&t, 10000 * H, false);
        EXPECT_TRUE(isfinite(ks_score_get(&t, false)));
        EXPECT_NEAR(ks_score_get(&t, false), 0.0, 1e-9);
        EXPECT_TRUE(ks_score_get(&t, false) > 0.0);

        /* the largest time there is, from 0 */
        t = s;
        ks_score_round(&t, UINT64_MAX, true);
        EXPECT_TRUE(isfinite(t.n) && isfinite(t.d) && t.d > 0.0);
        EXPECT_NEAR(ks_score_get(&t, false), 1.0, 1e-9);
        EXPECT_TRUE(t.t_usec == UINT64_MAX);

        /* 29 half-lives: above the floor, exact decay (2^-29 * 1001 > 2^-30) */
        t = s;
        ASSERT_OK(ks_score_event(&t, 29 * H, 0.0, 0.0));
        EXPECT_TRUE(t.d == 1001.0 * 0x1p-29);
        EXPECT_TRUE(t.n == 751.0 * 0x1p-29);
}

/* t' < t: no decay, and t stays the latest time seen. */
TEST(time_backwards) {
        ks_score s = new_score(T0 + 1000 * SEC);

        ks_score_round(&s, T0 + 1000 * SEC, true);      /* N = D = 2 */
        ks_score_round(&s, T0, false);                  /* backwards: N = 2, D = 3, no decay */
        EXPECT_TRUE(s.n == 2.0 && s.d == 3.0);
        EXPECT_TRUE(s.t_usec == T0 + 1000 * SEC);
        ks_score_round(&s, 0, false);                   /* to the epoch: still none */
        EXPECT_TRUE(s.n == 2.0 && s.d == 4.0);
        /* one half-life after the latest time seen, not after the backward ones */
        ks_score_round(&s, T0 + 1000 * SEC + H, true);
        EXPECT_TRUE(s.n == 2.0 && s.d == 3.0);
        EXPECT_TRUE(s.t_usec == T0 + 1000 * SEC + H);
}

TEST(bad_input) {
        static const double bad[][2] = {
                { -0.1, 1 }, { 1.1, 1 }, { NAN, 1 }, { INFINITY, 1 },
                { 1, -1 }, { 1, NAN }, { 1, INFINITY }, { 0.5, -0.0001 },
        };
        ks_score s = new_score(T0), t;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                EXPECT_ERROR(ks_score_event(&s, T0 + H, bad[i][0], bad[i][1]), EINVAL);
                EXPECT_TRUE(s.n == 1.0 && s.d == 1.0 && s.t_usec == T0);      /* untouched */
        }
        /* value 0 and 1, weight 0: fine */
        t = s;
        EXPECT_OK(ks_score_event(&t, T0, 0.0, 0.0));
        EXPECT_OK(ks_score_event(&t, T0, 1.0, 0.0));
        EXPECT_TRUE(t.n == 1.0 && t.d == 1.0);
        /* D would overflow: the second DBL_MAX */
        EXPECT_OK(ks_score_event(&t, T0, 1.0, DBL_MAX));
        EXPECT_ERROR(ks_score_event(&t, T0, 1.0, DBL_MAX), ERANGE);
        EXPECT_TRUE(isfinite(t.d) && ks_score_get(&t, false) == 1.0);
}

TEST(restore) {
        ks_score s = new_score(T0), t;

        for (int i = 0; i < 7; i++)
                ks_score_round(&s, T0 + (uint64_t) i * 10 * SEC, i % 3 != 0);
        /* the persisted fields give the same state back */
        ASSERT_OK(ks_score_restore(&t, H, s.n, s.d, s.t_usec));
        EXPECT_TRUE(t.n == s.n && t.d == s.d && t.t_usec == s.t_usec && t.half_life_usec == H);
        EXPECT_TRUE(ks_score_get(&t, false) == ks_score_get(&s, false));

        /* rejected, untouched */
        EXPECT_ERROR(ks_score_restore(&t, H, 2.0, 1.0, T0), EINVAL);          /* N > D */
        EXPECT_ERROR(ks_score_restore(&t, H, 0.0, 0.0, T0), EINVAL);
        EXPECT_ERROR(ks_score_restore(&t, H, -1.0, 1.0, T0), EINVAL);
        EXPECT_ERROR(ks_score_restore(&t, H, NAN, 1.0, T0), EINVAL);
        EXPECT_ERROR(ks_score_restore(&t, H, 1.0, INFINITY, T0), EINVAL);
        EXPECT_ERROR(ks_score_restore(&t, 0, 1.0, 1.0, T0), EINVAL);
        EXPECT_TRUE(t.n == s.n && t.d == s.d);

        /* a tiny D is raised to the floor with N, as the decay would */
        ASSERT_OK(ks_score_restore(&t, H, 0x1p-41, 0x1p-40, T0));
        EXPECT_TRUE(t.d == KS_SCORE_D_MIN && t.n == KS_SCORE_D_MIN / 2);
}

/* Informative: the cost of one round, 10 s after the last (an exp2() each). No assertion. */
TEST(cost) {
        struct timespec a, b;
        const unsigned n = 10000000;
        ks_score s = new_score(T0);
        uint64_t now = T0;
        double ns;

        clock_gettime(CLOCK_MONOTONIC, &a);
        for (unsigned i = 0; i < n; i++)
                ks_score_round(&s, now += 10 * SEC, (i & 7) != 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ns = ((double) (b.tv_sec - a.tv_sec) * 1e9 + (double) (b.tv_nsec - a.tv_nsec)) / n;
        printf("ks_score_round: %.1f ns per round (score %.4f)\n", ns, ks_score_get(&s, false));
        EXPECT_TRUE(ks_score_get(&s, false) > 0.8);
}

TEST_MAIN();
