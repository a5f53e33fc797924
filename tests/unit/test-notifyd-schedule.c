/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* schedule.c: spread of first runs, bounded jitter, exact long-run rate, overrun skip, interval
 * change. */
#include "test.h"
#include "schedule.h"

#define S 1000000ull

static void test_spread(void) {
        /* 5000 services with a 1 s interval starting at the same moment: first runs spread over
         * the interval, no millisecond holds more than a handful. */
        static unsigned per_ms[1000];
        unsigned max = 0;

        for (unsigned i = 0; i < 5000; i++) {
                ks_schedule s;
                uint64_t t;

                ks_schedule_init(&s, 1 * S, 10 * S, 1 * S, i + 1);
                t = ks_schedule_when(&s, 10 * S);
                ASSERT_TRUE(t >= 10 * S);
                ASSERT_TRUE(t < 11 * S + 2 * ks_schedule_max_jitter(S));
                if (t < 11 * S)
                        per_ms[(t - 10 * S) / 1000]++;
        }
        for (unsigned i = 0; i < 1000; i++)
                max = per_ms[i] > max ? per_ms[i] : max;
        ASSERT_TRUE(max <= 20);
}

static void test_rate_and_jitter(void) {
        ks_schedule s;
        uint64_t now = 0, first = 0, last = 0;
        uint64_t j = ks_schedule_max_jitter(2 * S);

        ASSERT_EQ(j, 100000);
        ASSERT_EQ(ks_schedule_max_jitter(60 * S), 250000);
        ks_schedule_init(&s, 2 * S, 0, 0, 42);
        for (unsigned i = 0; i < 1000; i++) {
                uint64_t slot = s.base_usec, t = ks_schedule_when(&s, now);

                ASSERT_TRUE(t + j >= slot && t <= slot + j);
                if (i == 0)
                        first = t;
                last = t;
                now = t + 50000;        /* the run took 50 ms */
                ks_schedule_advance(&s, t);
        }
        /* 999 intervals of 2 s, give or take one jitter at each end: no drift. */
        ASSERT_TRUE(last - first >= 999 * 2 * S - 2 * j);
        ASSERT_TRUE(last - first <= 999 * 2 * S + 2 * j);
}

static void test_overrun(void) {
        ks_schedule s;

        ks_schedule_init(&s, 1 * S, 0, 0, 7);
        ASSERT_EQ(s.base_usec, 0);
        /* A run that started at 0 and the loop only came back at 5.5 s: the next slot is 6 s. */
        ks_schedule_advance(&s, 5500000);
        ASSERT_EQ(s.base_usec, 6 * S);
        ASSERT_TRUE(ks_schedule_when(&s, 5600000) >= 5600000);
}

static void test_interval_change(void) {
        ks_schedule s;

        ks_schedule_init(&s, 10 * S, 0, 0, 9);
        ks_schedule_advance(&s, 0);
        ASSERT_EQ(s.base_usec, 10 * S);
        ks_schedule_set_interval(&s, 1 * S, 500000);
        ASSERT_EQ(s.base_usec, 1 * S);
        ks_schedule_advance(&s, 1 * S);
        ASSERT_EQ(s.base_usec, 2 * S);
        /* Longer: never later than one new interval from now. */
        ks_schedule_set_interval(&s, 30 * S, 1500000);
        ASSERT_EQ(s.base_usec, 31 * S);
        ks_schedule_set_interval(&s, 30 * S, 1500000);
        ASSERT_EQ(s.base_usec, 31 * S);
}

int main(void) {
        test_spread();
        test_rate_and_jitter();
        test_overrun();
        test_interval_change();
        TEST_DONE();
}
