/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* flap.h: the weights, Nagios' computation over 21 verdicts as a reference, hysteresis, restarts,
 * the numbers flap.h promises for kservice's defaults, pack/unpack, and the cost of a round. */
#include <math.h>
#include <time.h>

#include "flap.h"
#include "test.h"

#define LOW KS_FLAP_LOW_THRESHOLD_DEFAULT
#define HIGH KS_FLAP_HIGH_THRESHOLD_DEFAULT
/* every percent is a multiple of 1/19 */
#define EPS 1e-9

static ks_flap new_flap(void) {
        ks_flap f;

        ASSERT_OK(ks_flap_init(&f, LOW, HIGH));
        return f;
}

/* n rounds of one verdict; fails the test if the flapping state changes on any of them. */
static void steady(ks_flap *f, bool passed, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                if (ks_flap_record(f, passed))
                        TEST_FAILED("flapping changed at steady round %u", i + 1);
}

TEST(thresholds_validate) {
        static const struct {
                double low, high;
                int r;
        } table[] = {
                { 5.0, 20.0, 0 },         { 0.0, 100.0, 0 },      { 0.0, 0.1, 0 },
                { 99.9, 100.0, 0 },       { 20.0, 20.0, -ERANGE }, { 20.0, 5.0, -ERANGE },
                { -0.1, 20.0, -ERANGE },  { 5.0, 100.1, -ERANGE }, { NAN, 20.0, -ERANGE },
                { 5.0, NAN, -ERANGE },    { 5.0, INFINITY, -ERANGE }, { -INFINITY, 5.0, -ERANGE },
        };
        ks_flap f = new_flap();

        for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
                EXPECT_EQ(ks_flap_thresholds_validate(table[i].low, table[i].high), table[i].r);
                if (table[i].r < 0) {
                        ks_flap g;
                        EXPECT_EQ(ks_flap_init(&g, table[i].low, table[i].high), table[i].r);
                        EXPECT_EQ(ks_flap_set_thresholds(&f, table[i].low, table[i].high), table[i].r);
                        /* untouched */
                        EXPECT_TRUE(f.low == LOW && f.high == HIGH);
                }
        }
}

/* One change at each position weighs 0.8 .. 1.2 of 5 %: (76 + 2 i) / 19 %, i = 0 the oldest. */
TEST(weights) {
        ks_flap f = new_flap();

        ASSERT_FALSE(ks_flap_record(&f, true));
        EXPECT_NEAR(ks_flap_percent(&f), 0.0, EPS);
        ASSERT_FALSE(ks_flap_record(&f, false));      /* a change, now the newest: i = 19 */
        EXPECT_NEAR(ks_flap_percent(&f), 6.0, EPS);
        for (int i = 18; i >= 0; i--) {
                ks_flap_record(&f, false);
                EXPECT_NEAR(ks_flap_percent(&f), (76 + 2 * i) / 19.0, EPS);
        }
        EXPECT_NEAR(ks_flap_percent(&f), 4.0, EPS);
        ks_flap_record(&f, false);                    /* slid out of the window */
        EXPECT_NEAR(ks_flap_percent(&f), 0.0, EPS);

        /* 20 changes in 21 rounds: exactly 100 %. */
        f = new_flap();
        for (int i = 0; i < 21; i++)
                ks_flap_record(&f, i % 2);
        EXPECT_NEAR(ks_flap_percent(&f), 100.0, EPS);
        EXPECT_EQ(f.n_changes, 20);
        EXPECT_TRUE(ks_flap_is_flapping(&f));
}

/* Nagios' loop (base/flapping.c) over the last 21 verdicts, with kservice's weights 0.8 .. 1.2
 * and without its padding: a position before the first result is no change. */
static double reference_percent(const bool *v, size_t n) {
        double changes = 0.0;

        for (size_t x = 1; x <= 20; x++) {
                /* transition x goes from result n - 22 + x to n - 21 + x (x = 20: the newest) */
                if (n + x < 22)
                        continue;
                size_t a = n - 22 + x, b = n - 21 + x;
                if (v[a] != v[b])
                        changes += (double) (x - 1) * (1.2 - 0.8) / 19.0 + 0.8;
        }
        return changes * 100.0 / 20.0;
}

TEST(reference) {
        static bool v[20000];
        uint64_t seed = 0x9e3779b97f4a7c15;
        ks_flap f = new_flap();
        bool flapping = false;

        for (size_t n = 1; n <= sizeof(v) / sizeof(v[0]); n++) {
                /* a flip every "period" rounds on average, the period changing every 1000 rounds,
                 * so percents from 0 to 100 all occur */
                unsigned period = 1 + (n / 1000) % 8;
                bool was = flapping, changed;
                double p;

                v[n - 1] = n == 1 ? true : ks_test_random(&seed) % period == 0 ? !v[n - 2] : v[n - 2];
                changed = ks_flap_record(&f, v[n - 1]);
                p = reference_percent(v, n);
                if (fabs(ks_flap_percent(&f) - p) > 1e-9) {
                        TEST_FAILED("after %zu results: %.6f %%, reference %.6f %%", n, ks_flap_percent(&f), p);
                        return;
                }
                if (!flapping && p >= HIGH)
                        flapping = true;
                else if (flapping && p <= LOW)
                        flapping = false;
                if (ks_flap_is_flapping(&f) != flapping || changed != (flapping != was)) {
                        TEST_FAILED("after %zu results: flapping %d, reference %d", n, f.flapping, flapping);
                        return;
                }
        }
        EXPECT_TRUE(true);
}

/* The first round is no change; a young service needs 4 changes, like an old one. */
TEST(young_service) {
        ks_flap f = new_flap();

        EXPECT_FALSE(ks_flap_record(&f, false));
        EXPECT_EQ(f.n_changes, 0);
        EXPECT_NEAR(ks_flap_percent(&f), 0.0, EPS);
        EXPECT_FALSE(ks_flap_record(&f, true));
        EXPECT_FALSE(ks_flap_record(&f, false));
        EXPECT_FALSE(ks_flap_record(&f, true));
        EXPECT_NEAR(ks_flap_percent(&f), (114 + 112 + 110) / 19.0, EPS);   /* 17.68 */
        EXPECT_TRUE(ks_flap_record(&f, false));                         /* round 5, 4 changes */
        EXPECT_NEAR(ks_flap_percent(&f), (114 + 112 + 110 + 108) / 19.0, EPS); /* 23.37 */
        EXPECT_TRUE(ks_flap_is_flapping(&f));
        EXPECT_EQ(f.n_changes, 4);
}

TEST(steady_never_flaps) {
        for (int passed = 0; passed <= 1; passed++) {
                ks_flap f = new_flap();

                steady(&f, passed, 100000);
                EXPECT_FALSE(ks_flap_is_flapping(&f));
                EXPECT_NEAR(ks_flap_percent(&f), 0.0, EPS);
                EXPECT_EQ(f.n_changes, 20);
        }
}

/* The alternating endpoint of flap.h: 200/500 every round after a steadily healthy history. */
static void alternate_then_settle(bool settle_passed) {
        ks_flap f = new_flap();
        unsigned started = 0, stopped = 0;
        bool v = false;

        steady(&f, true, 50);
        for (unsigned round = 1; round <= 40; round++, v = !v)
                if (ks_flap_record(&f, v) && !started)
                        started = round;
        EXPECT_EQ(started, 4);
        EXPECT_TRUE(ks_flap_is_flapping(&f));
        EXPECT_NEAR(ks_flap_percent(&f), 100.0, EPS);

        /* The 40th alternating round passed. Settling on a pass: one more alternating round
         * (a failure), so that the first settled round is a change, as when settling on a failure. */
        if (settle_passed)
                EXPECT_FALSE(ks_flap_record(&f, false));
        for (unsigned k = 0; k <= 25; k++) {
                bool changed = ks_flap_record(&f, settle_passed);  /* k = 0: the first settled round */
                if (k == 18)
                        EXPECT_NEAR(ks_flap_percent(&f), (76 + 78) / 19.0, EPS);    /* 8.1 % */
                if (changed) {
                        EXPECT_EQ(stopped, 0);
                        stopped = k;
                        EXPECT_NEAR(ks_flap_percent(&f), 4.0, EPS);
                }
        }
        EXPECT_EQ(stopped, 19);
        EXPECT_FALSE(ks_flap_is_flapping(&f));
}

TEST(alternating_endpoint) {
        alternate_then_settle(true);
        alternate_then_settle(false);
}

/* Between the thresholds nothing changes, in either state. */
TEST(hysteresis) {
        ks_flap f = new_flap();

        steady(&f, true, 30);
        /* 3 recent changes: 17.7 %, between 5 and 20: not flapping stays not flapping */
        ks_flap_record(&f, false);
        ks_flap_record(&f, true);
        ks_flap_record(&f, false);
        EXPECT_NEAR(ks_flap_percent(&f), (114 + 112 + 110) / 19.0, EPS);
        EXPECT_FALSE(ks_flap_is_flapping(&f));
        /* the 4th: 23.4 % >= 20 */
        EXPECT_TRUE(ks_flap_record(&f, true));
        /* 17 rounds later 3 of the 4 are left, the oldest: 12.3 %, flapping stays flapping */
        for (int i = 0; i < 17; i++)
                EXPECT_FALSE(ks_flap_record(&f, true));
        EXPECT_NEAR(ks_flap_percent(&f), (80 + 78 + 76) / 19.0, EPS);
        EXPECT_TRUE(ks_flap_is_flapping(&f));

        /* percent == high starts, percent == low stops (thresholds on exact multiples of 1/19) */
        ASSERT_OK(ks_flap_init(&f, 76 / 19.0, (114 + 112) / 19.0));
        ks_flap_record(&f, true);
        ks_flap_record(&f, false);
        EXPECT_FALSE(ks_flap_is_flapping(&f));
        EXPECT_TRUE(ks_flap_record(&f, true));                 /* == high */
        for (int i = 0; i < 18; i++)
                EXPECT_FALSE(ks_flap_record(&f, true));        /* down to (78 + 76) / 19 > low */
        EXPECT_TRUE(ks_flap_record(&f, true));                 /* 76/19 == low */
        EXPECT_NEAR(ks_flap_percent(&f), 4.0, EPS);

        /* low 0 stops once the window holds no change; high 100 needs 20 changes */
        ASSERT_OK(ks_flap_init(&f, 0.0, 100.0));
        for (int i = 0; i < 20; i++)
                EXPECT_FALSE(ks_flap_record(&f, i % 2));      /* 19 changes: 96 % */
        EXPECT_NEAR(ks_flap_percent(&f), 96.0, EPS);
        EXPECT_TRUE(ks_flap_record(&f, false));                /* the 20th change */
        for (int i = 0; i < 19; i++)
                EXPECT_FALSE(ks_flap_record(&f, false));       /* down to 4.0 % > 0 */
        EXPECT_TRUE(ks_flap_record(&f, false));                /* the last change slid out */
        EXPECT_NEAR(ks_flap_percent(&f), 0.0, EPS);

        /* new thresholds decide at the next event, on the history as it is */
        f = new_flap();
        steady(&f, true, 30);
        ks_flap_record(&f, false);
        ks_flap_record(&f, true);                               /* 11.9 % */
        ASSERT_OK(ks_flap_set_thresholds(&f, 1.0, 10.0));
        EXPECT_FALSE(ks_flap_is_flapping(&f));
        EXPECT_TRUE(ks_flap_record(&f, true));                 /* 11.7 % >= 10 */
}

/* Restarts: always a change, beside the verdicts. */
TEST(restart) {
        ks_flap f = new_flap();

        /* a restart before any round is a change too */
        EXPECT_FALSE(ks_flap_record_restart(&f));
        EXPECT_EQ(f.n_changes, 1);
        EXPECT_NEAR(ks_flap_percent(&f), 6.0, EPS);
        EXPECT_FALSE(f.have_last);

        /* one incident with a restart: fail x3, restart, pass = 3 changes, 17.7 %, no flapping */
        f = new_flap();
        steady(&f, true, 30);
        steady(&f, false, 3);
        EXPECT_FALSE(ks_flap_record_restart(&f));
        EXPECT_FALSE(ks_flap_record(&f, true));
        EXPECT_NEAR(ks_flap_percent(&f), (114 + 112 + 106) / 19.0, EPS);   /* 17.5 % */
        /* fail, restart, pass in a row (failure_threshold 1): the 3 newest, still below 20 */
        f = new_flap();
        steady(&f, true, 30);
        ks_flap_record(&f, false);
        ks_flap_record_restart(&f);
        EXPECT_FALSE(ks_flap_record(&f, true));
        EXPECT_NEAR(ks_flap_percent(&f), (114 + 112 + 110) / 19.0, EPS);
        EXPECT_FALSE(ks_flap_is_flapping(&f));
        steady(&f, true, 100);
        EXPECT_NEAR(ks_flap_percent(&f), 0.0, EPS);

        /* ... and fails again: the 4th change, 23.2 %, flaps */
        f = new_flap();
        steady(&f, true, 30);
        steady(&f, false, 3);
        ks_flap_record_restart(&f);
        ks_flap_record(&f, true);
        EXPECT_TRUE(ks_flap_record(&f, false));
        EXPECT_NEAR(ks_flap_percent(&f), (114 + 112 + 110 + 104) / 19.0, EPS); /* 23.2 % */
}

/* Restarted again and again without ever passing: flaps at the 4th restart, 25.8 % after. */
TEST(crash_loop) {
        ks_flap f = new_flap();
        unsigned started = 0;

        steady(&f, false, 30);
        for (unsigned r = 1; r <= 20; r++) {
                steady(&f, false, 3);
                if (ks_flap_record_restart(&f)) {
                        EXPECT_EQ(started, 0);
                        started = r;
                        EXPECT_NEAR(ks_flap_percent(&f), (114 + 106 + 98 + 90) / 19.0, EPS); /* 21.5 */
                }
        }
        EXPECT_EQ(started, 4);
        EXPECT_NEAR(ks_flap_percent(&f), (114 + 106 + 98 + 90 + 82) / 19.0, EPS);   /* 25.8 */
        /* then it stays failing without restarts (given up): the restarts, 4 rounds apart, slide
         * out; 16 rounds later only the newest is left, at 4.3 % */
        steady(&f, false, 15);
        EXPECT_TRUE(ks_flap_is_flapping(&f));
        EXPECT_TRUE(ks_flap_record(&f, false));
        EXPECT_NEAR(ks_flap_percent(&f), 82 / 19.0, EPS);
}

/* Two one-round failures: up to 18 rounds apart they flap, 19 apart they do not. */
TEST(two_blips) {
        for (unsigned apart = 2; apart <= 25; apart++) {
                ks_flap f = new_flap();

                steady(&f, true, 30);
                ks_flap_record(&f, false);
                steady(&f, true, apart - 1);
                ks_flap_record(&f, false);
                ks_flap_record(&f, true);
                if (ks_flap_is_flapping(&f) != (apart <= 18))
                        TEST_FAILED("failures %u rounds apart: flapping %d at %.2f %%", apart,
                                    f.flapping, ks_flap_percent(&f));
        }
}

TEST(pack) {
        uint64_t seed = 42;
        ks_flap f = new_flap(), g;
        uint32_t bits, count, flapping;

        /* empty */
        ks_flap_pack(&f, &bits, &count, &flapping);
        EXPECT_EQ(bits, 0);
        EXPECT_EQ(count, 0);
        EXPECT_EQ(flapping, 0);

        /* round trips, checked at every step of a random history with restarts */
        for (int i = 0; i < 5000; i++) {
                uint64_t r = ks_test_random(&seed);
                if (r % 13 == 0)
                        ks_flap_record_restart(&f);
                else
                        ks_flap_record(&f, r % 3 != 0);
                ks_flap_pack(&f, &bits, &count, &flapping);
                ASSERT_OK(ks_flap_init(&g, 1.0, 2.0));
                ASSERT_OK(ks_flap_unpack(&g, bits, count, flapping));
                /* every field but the thresholds, which unpack keeps */
                ASSERT_TRUE(g.changes == f.changes && g.n_changes == f.n_changes && g.have_last == f.have_last &&
                            g.last_passed == f.last_passed && g.flapping == f.flapping);
                ASSERT_TRUE(g.low == 1.0 && g.high == 2.0);
                ASSERT_TRUE(ks_flap_percent(&g) == ks_flap_percent(&f));
        }

        /* a known value: pass, fail, pass after a long pass history = changes 0b11, last passed */
        f = new_flap();
        steady(&f, true, 30);
        ks_flap_record(&f, false);
        ks_flap_record(&f, true);
        ks_flap_pack(&f, &bits, &count, &flapping);
        EXPECT_EQ(bits, 0x300003);
        EXPECT_EQ(count, 20);
        EXPECT_EQ(flapping, 0);

        /* rejected, g untouched */
        ASSERT_OK(ks_flap_unpack(&g, 0x300003, 20, 0));
        EXPECT_ERROR(ks_flap_unpack(&g, 0x400000, 20, 0), EINVAL);     /* unknown bit */
        EXPECT_ERROR(ks_flap_unpack(&g, 0x100000, 0, 0), EINVAL);      /* last verdict without a round */
        EXPECT_ERROR(ks_flap_unpack(&g, 0x000004, 2, 0), EINVAL);      /* a flag beyond count */
        EXPECT_ERROR(ks_flap_unpack(&g, 0, 21, 0), EINVAL);
        EXPECT_ERROR(ks_flap_unpack(&g, 0, 0, 2), EINVAL);
        EXPECT_EQ(g.changes, 3);
        EXPECT_EQ(g.n_changes, 20);
        EXPECT_TRUE(g.have_last && g.last_passed);
        EXPECT_OK(ks_flap_unpack(&g, 0x200000, 0, 1));                 /* flapping as saved */
        EXPECT_TRUE(ks_flap_is_flapping(&g));
        EXPECT_FALSE(g.last_passed);
}

/* Informative: the cost of one round, for notifyd's 5000 rounds a second. No assertion. */
TEST(cost) {
        struct timespec a, b;
        uint64_t seed = 7;
        unsigned flips = 0;
        const unsigned n = 10000000;
        ks_flap f = new_flap();
        double ns;

        clock_gettime(CLOCK_MONOTONIC, &a);
        for (unsigned i = 0; i < n; i++)
                flips += ks_flap_record(&f, ks_test_random(&seed) % 4 != 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ns = ((double) (b.tv_sec - a.tv_sec) * 1e9 + (double) (b.tv_nsec - a.tv_nsec)) / n;
        printf("ks_flap_record: %.1f ns per round (random verdicts, 25 %% failures; %u flapping changes, "
               "includes the PRNG)\n", ns, flips);

        f = new_flap();
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (unsigned i = 0; i < n; i++)
                flips += ks_flap_record(&f, true);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ns = ((double) (b.tv_sec - a.tv_sec) * 1e9 + (double) (b.tv_nsec - a.tv_nsec)) / n;
        printf("ks_flap_record: %.1f ns per round (steadily passing)\n", ns);
        EXPECT_FALSE(ks_flap_is_flapping(&f));
}

TEST_MAIN();
