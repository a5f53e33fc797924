/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Check scheduling: spread of first runs, bounded jitter, exact long-run rate, overrun skip,
 * interval change, watchdog pings. */
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

/* A healthy service's checks end at irregular times; pings are sent only when due. The gap
 * between two pings never comes near the watchdog, and a long watchdog needs few pings. */
static unsigned simulate_pings(uint64_t interval, uint64_t timeout, uint64_t watchdog, uint64_t *ret_max_gap) {
        uint64_t rng = 7, now = 100 * S, last = 0, max_gap = 0, j = ks_schedule_max_jitter(interval);
        unsigned pings = 0;

        for (unsigned k = 0; k < 2000; k++) {
                /* The next check ends one interval later, moved by jitter and a latency up to the
                 * timeout. */
                now += interval - j + ks_random_next(&rng) % (2 * j + 1);
                now += ks_random_next(&rng) % (timeout + 1);
                if (ks_watchdog_ping_due(last, now, watchdog, interval + j + timeout)) {
                        if (last)
                                max_gap = now - last > max_gap ? now - last : max_gap;
                        last = now;
                        pings++;
                }
        }
        *ret_max_gap = max_gap;
        return pings;
}

static void test_watchdog_ping(void) {
        uint64_t gap;
        unsigned pings;

        /* Unknown watchdog, or never pinged: always due. */
        ASSERT_TRUE(ks_watchdog_ping_due(0, 5 * S, 34 * S, 2 * S));
        ASSERT_TRUE(ks_watchdog_ping_due(4 * S, 5 * S, 0, 2 * S));
        ASSERT_TRUE(ks_watchdog_ping_due(4 * S, 5 * S, UINT64_MAX, 2 * S));
        ASSERT_TRUE(ks_watchdog_ping_due(4 * S, 5 * S, 34 * S, UINT64_MAX));
        /* Half of 34 s left after the next check at the latest: wait; not any more: due. */
        ASSERT_TRUE(!ks_watchdog_ping_due(10 * S, 20 * S, 34 * S, 2 * S));
        ASSERT_TRUE(ks_watchdog_ping_due(10 * S, 25 * S, 34 * S, 2 * S));

        /* The default watchdog for interval 1 s, timeout 1 s, threshold 3: 34 s. */
        pings = simulate_pings(1 * S, 1 * S, 34 * S, &gap);
        ASSERT_TRUE(gap <= 17 * S);
        ASSERT_TRUE(pings <= 2000 / 10);
        ASSERT_TRUE(pings >= 2000 / 20);
        /* The shortest watchdog a definition may have (just over interval + timeout): every check. */
        pings = simulate_pings(1 * S, 1 * S, 2 * S + 1000, &gap);
        ASSERT_EQ(pings, 2000);
        ASSERT_TRUE(gap <= 2 * S + 2 * ks_schedule_max_jitter(1 * S));
        /* In between: never more than half the watchdog plus one check between pings. */
        pings = simulate_pings(1 * S, 500000, 7 * S, &gap);
        ASSERT_TRUE(gap <= 7 * S / 2 + 1 * S + 550000);
        ASSERT_TRUE(pings < 2000);
}

int main(void) {
        test_spread();
        test_rate_and_jitter();
        test_overrun();
        test_interval_change();
        test_watchdog_ping();
        TEST_DONE();
}
