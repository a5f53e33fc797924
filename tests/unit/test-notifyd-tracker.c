/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The health state machine: readiness, start period, thresholds, trigger once, recovery. */
#include "macro.h"
#include "schedule.h"
#include "tracker.h"
#include "test.h"

#define S 1000000ull

static const ks_tracker_params base = {
        .interval_usec = 1 * S,
        .timeout_usec = 1 * S,
        .start_period_usec = 10 * S,
        .failure_threshold = 3,
        .success_threshold = 2,
        .gate_ready = true,
};

static void test_ready_on_pass(void) {
        ks_tracker h;
        unsigned a;

        ASSERT_EQ(ks_tracker_begin(&h, &base, 100 * S, false), 0);
        ASSERT_TRUE(!h.ready);
        ASSERT_EQ(h.state, KS_TRACKER_STARTING);
        /* Failures in the start period: nothing at all. */
        a = ks_tracker_record(&h, false, 101 * S);
        ASSERT_EQ(a, 0);
        ASSERT_EQ(h.failures, 0);
        /* success_threshold = 2: the first pass is not enough. */
        a = ks_tracker_record(&h, true, 102 * S);
        ASSERT_EQ(a, KS_TRACKER_SEND_WATCHDOG);
        ASSERT_TRUE(!h.ready);
        ASSERT_EQ(h.state, KS_TRACKER_STARTING);
        a = ks_tracker_record(&h, true, 103 * S);
        ASSERT_EQ(a, KS_TRACKER_SEND_READY | KS_TRACKER_SEND_WATCHDOG | KS_TRACKER_STATE_CHANGED);
        ASSERT_TRUE(h.ready);
        ASSERT_EQ(h.state, KS_TRACKER_HEALTHY);
        a = ks_tracker_record(&h, true, 104 * S);
        ASSERT_EQ(a, KS_TRACKER_SEND_WATCHDOG);
}

static void test_not_gated(void) {
        ks_tracker_params p = base;
        ks_tracker h;

        p.gate_ready = false;
        ASSERT_EQ(ks_tracker_begin(&h, &p, 0, false), KS_TRACKER_SEND_READY);
        ASSERT_TRUE(h.ready);
        /* Already ready (notifyd restarted): no second READY=1. */
        ASSERT_EQ(ks_tracker_begin(&h, &p, 0, true), 0);
        /* Failing in the start period still feeds the watchdog of a ready service. */
        ASSERT_EQ(ks_tracker_record(&h, false, 1 * S), KS_TRACKER_SEND_WATCHDOG);
        ASSERT_EQ(h.state, KS_TRACKER_STARTING);
}

/* type = "notify": the program says READY=1 itself; notifyd never does, and failures before
 * the program is ready (the caller sets ready when systemd reports active) trigger nothing. */
static void test_self_ready(void) {
        ks_tracker_params p = base;
        ks_tracker h;

        p.gate_ready = false;
        p.self_ready = true;
        p.start_period_usec = 0;
        ASSERT_EQ(ks_tracker_begin(&h, &p, 0, false), 0);
        ASSERT_TRUE(!h.ready);
        ASSERT_EQ(ks_tracker_record(&h, true, 1 * S) & KS_TRACKER_SEND_READY, 0);
        ASSERT_TRUE(!h.ready);
        for (unsigned i = 0; i < 5; i++)
                ASSERT_EQ(ks_tracker_record(&h, false, (2 + i) * S) & (KS_TRACKER_SEND_TRIGGER | KS_TRACKER_SEND_READY), 0);
        /* Once active, the threshold applies as usual, and still no READY=1. */
        ks_tracker_begin(&h, &p, 10 * S, true);
        ASSERT_TRUE(h.ready);
        ASSERT_EQ(ks_tracker_record(&h, true, 11 * S) & KS_TRACKER_SEND_READY, 0);
        ks_tracker_record(&h, false, 12 * S);
        ks_tracker_record(&h, false, 13 * S);
        ASSERT_EQ(ks_tracker_record(&h, false, 14 * S) & KS_TRACKER_SEND_TRIGGER, KS_TRACKER_SEND_TRIGGER);

        /* Failures while it started (five, threshold 3) trigger nothing, then or once it is
         * ready: the first failure after its own READY=1 is (1/3), not a restart. */
        ks_tracker_begin(&h, &p, 20 * S, false);
        for (unsigned i = 0; i < 5; i++)
                ks_tracker_record(&h, false, (21 + i) * S);
        ks_tracker_mark_ready(&h);
        ASSERT_TRUE(h.ready);
        ASSERT_EQ(h.failures, 0);
        ASSERT_EQ(ks_tracker_record(&h, false, 30 * S) & KS_TRACKER_SEND_TRIGGER, 0);
        ASSERT_EQ(h.failures, 1);
        ks_tracker_mark_ready(&h);
        ASSERT_EQ(h.failures, 1);
}

static void test_threshold_triggers_once(void) {
        ks_tracker h;
        unsigned a;

        ks_tracker_begin(&h, &base, 0, false);
        ks_tracker_record(&h, true, 1 * S);
        ks_tracker_record(&h, true, 2 * S);
        a = ks_tracker_record(&h, false, 20 * S);
        ASSERT_EQ(a, KS_TRACKER_SEND_WATCHDOG | KS_TRACKER_STATE_CHANGED | KS_TRACKER_COUNTED_FAILURE);
        ASSERT_EQ(h.state, KS_TRACKER_UNHEALTHY);
        ASSERT_EQ(h.failures, 1);
        a = ks_tracker_record(&h, false, 21 * S);
        ASSERT_EQ(a, KS_TRACKER_SEND_WATCHDOG | KS_TRACKER_COUNTED_FAILURE);
        ASSERT_EQ(h.failures, 2);
        a = ks_tracker_record(&h, false, 22 * S);
        ASSERT_EQ(a, KS_TRACKER_SEND_TRIGGER | KS_TRACKER_STATE_CHANGED | KS_TRACKER_COUNTED_FAILURE);
        ASSERT_EQ(h.state, KS_TRACKER_FAILED);
        ASSERT_EQ(h.failures, 3);
        /* Nothing more for this invocation, pass or fail. */
        ASSERT_EQ(ks_tracker_record(&h, false, 23 * S), 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 24 * S), 0);
        /* A new invocation starts over. */
        ks_tracker_begin(&h, &base, 30 * S, false);
        ASSERT_EQ(h.state, KS_TRACKER_STARTING);
        ASSERT_EQ(h.failures, 0);
        ASSERT_TRUE(!h.ready);
}

static void test_recovery_before_threshold(void) {
        ks_tracker h;

        ks_tracker_begin(&h, &base, 0, false);
        ks_tracker_record(&h, true, 1 * S);
        ks_tracker_record(&h, true, 2 * S);
        ks_tracker_record(&h, false, 20 * S);
        ks_tracker_record(&h, false, 21 * S);
        ASSERT_EQ(h.failures, 2);
        /* One pass neither resets the failure count nor makes it healthy: success_threshold=2. */
        ASSERT_EQ(ks_tracker_record(&h, true, 22 * S), KS_TRACKER_SEND_WATCHDOG);
        ASSERT_EQ(h.state, KS_TRACKER_UNHEALTHY);
        ASSERT_EQ(h.failures, 2);
        /* The second in a row does both. */
        ASSERT_EQ(ks_tracker_record(&h, true, 23 * S), KS_TRACKER_SEND_WATCHDOG | KS_TRACKER_STATE_CHANGED);
        ASSERT_EQ(h.state, KS_TRACKER_HEALTHY);
        ASSERT_EQ(h.failures, 0);
        /* Failures interleaved with two passes each never reach the threshold... */
        for (int i = 0; i < 10; i++) {
                ASSERT_TRUE(!(ks_tracker_record(&h, false, (30 + 3 * i) * S) & KS_TRACKER_SEND_TRIGGER));
                ASSERT_TRUE(!(ks_tracker_record(&h, true, (31 + 3 * i) * S) & KS_TRACKER_SEND_TRIGGER));
                ASSERT_TRUE(!(ks_tracker_record(&h, true, (32 + 3 * i) * S) & KS_TRACKER_SEND_TRIGGER));
        }
        /* ...with one pass each they do. */
        ASSERT_EQ(ks_tracker_record(&h, false, 70 * S) & KS_TRACKER_SEND_TRIGGER, 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 71 * S) & KS_TRACKER_SEND_TRIGGER, 0);
        ASSERT_EQ(ks_tracker_record(&h, false, 72 * S) & KS_TRACKER_SEND_TRIGGER, 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 73 * S) & KS_TRACKER_SEND_TRIGGER, 0);
        ASSERT_EQ(h.failures, 2);
        ASSERT_TRUE(ks_tracker_record(&h, false, 74 * S) & KS_TRACKER_SEND_TRIGGER);
}

/* One row: thresholds, whether readiness is gated, and the answers of successive rounds ('P'
 * pass, 'F' fail) of a service that is past its start period; then the round (1-based, 0: none)
 * at which READY=1 goes out, the one at which WATCHDOG=trigger goes out, and the failure count
 * after the last round. */
typedef struct sequence_case {
        unsigned failure_threshold, success_threshold;
        bool gate_ready;
        const char *rounds;
        unsigned ready_at, trigger_at, failures_after;
} sequence_case;

static const sequence_case sequence_cases[] = {
        /* Issue #11: 500, 500, 200, 500 after readiness. One pass between failures does not reset
         * the count with success_threshold 2: the 4th failed round of the row is (3/3). */
        { 3, 2, true, "PP" "FFPF", 2, 6, 3 },
        { 3, 2, false, "PP" "FFPF", 0, 6, 3 },
        /* Two passes in a row do: the count starts over. */
        { 3, 2, true, "PP" "FFPPF", 2, 0, 1 },
        { 3, 2, true, "PP" "FFPPFFPF", 2, 10, 3 },
        /* Alternating failures and passes reach the threshold unless success_threshold is 1. */
        { 3, 2, true, "PP" "FPFPF", 2, 7, 3 },
        { 3, 1, true, "P" "FPFPFPFP", 1, 0, 0 },
        { 3, 1, true, "P" "FFPF", 1, 0, 1 },
        { 2, 3, true, "PPP" "FPPF", 3, 7, 2 },
        /* Readiness: success_threshold passes in a row, the first time too. */
        { 3, 3, true, "PPP", 3, 0, 0 },
        { 3, 3, true, "PPFPPP", 6, 0, 0 },
        { 3, 3, true, "PFPFPPFPPP", 10, 0, 0 },
        { 3, 1, true, "FFP", 3, 0, 0 },
        /* Failures before readiness never trigger; the passes that make it ready clear them. */
        { 2, 2, true, "FFFPFPP" "F", 7, 0, 1 },
        { 2, 2, true, "FFFPFPP" "FF", 7, 9, 2 },
};

static void test_sequences(void) {
        unsigned wrong = 0;

        for (size_t i = 0; i < ELEMENTSOF(sequence_cases); i++) {
                const sequence_case *c = &sequence_cases[i];
                ks_tracker_params p = base;
                unsigned ready_at = 0, trigger_at = 0;
                ks_tracker h;

                p.failure_threshold = c->failure_threshold;
                p.success_threshold = c->success_threshold;
                p.gate_ready = c->gate_ready;
                p.start_period_usec = 0;
                ks_tracker_begin(&h, &p, 0, false);
                for (unsigned k = 0; c->rounds[k]; k++) {
                        unsigned a = ks_tracker_record(&h, c->rounds[k] == 'P', (1 + k) * S);

                        if ((a & KS_TRACKER_SEND_READY) && ready_at == 0)
                                ready_at = k + 1;
                        if ((a & KS_TRACKER_SEND_TRIGGER) && trigger_at == 0)
                                trigger_at = k + 1;
                }
                if (ready_at != c->ready_at || trigger_at != c->trigger_at || h.failures != c->failures_after) {
                        fprintf(stderr, "case %zu: thresholds %u/%u%s, rounds %s: READY=1 at round %u, "
                                "expected %u; trigger at round %u, expected %u; failures %u, expected %u\n",
                                i, c->failure_threshold, c->success_threshold, c->gate_ready ? " gated" : "",
                                c->rounds, ready_at, c->ready_at, trigger_at, c->trigger_at, h.failures,
                                c->failures_after);
                        wrong++;
                }
        }
        ASSERT_EQ(wrong, 0);
}

/* success_threshold = 3, gated: nothing says ready (or healthy) before the third pass in a row,
 * and a failure in between starts the count of passes over. */
static void test_ready_after_success_threshold(void) {
        ks_tracker_params p = base;
        ks_tracker h;

        p.success_threshold = 3;
        p.start_period_usec = 0;
        ks_tracker_begin(&h, &p, 0, false);
        ASSERT_EQ(ks_tracker_record(&h, true, 1 * S) & KS_TRACKER_SEND_READY, 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 2 * S) & KS_TRACKER_SEND_READY, 0);
        ASSERT_TRUE(!h.ready);
        ASSERT_EQ(h.state, KS_TRACKER_STARTING);
        ASSERT_EQ(h.successes, 2);
        ks_tracker_record(&h, false, 3 * S);
        ASSERT_EQ(h.successes, 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 4 * S) & KS_TRACKER_SEND_READY, 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 5 * S) & KS_TRACKER_SEND_READY, 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 6 * S),
                  KS_TRACKER_SEND_READY | KS_TRACKER_SEND_WATCHDOG | KS_TRACKER_STATE_CHANGED);
        ASSERT_TRUE(h.ready);
        ASSERT_EQ(h.state, KS_TRACKER_HEALTHY);
        ASSERT_EQ(h.failures, 0);
}

static void test_start_period(void) {
        ks_tracker h;
        unsigned a;

        ks_tracker_begin(&h, &base, 100 * S, false);
        ASSERT_TRUE(ks_tracker_in_start_period(&h, 109 * S));
        ASSERT_TRUE(!ks_tracker_in_start_period(&h, 110 * S));
        for (int i = 0; i < 9; i++)
                ASSERT_EQ(ks_tracker_record(&h, false, (100 + i) * S), 0);
        ASSERT_EQ(h.failures, 0);
        /* After the start period, a never-ready service counts failures but never triggers:
         * TimeoutStartSec= is in charge of it. */
        for (int i = 0; i < 5; i++) {
                a = ks_tracker_record(&h, false, (111 + i) * S);
                ASSERT_EQ(a, KS_TRACKER_COUNTED_FAILURE);
        }
        ASSERT_EQ(h.failures, 3);
        ASSERT_TRUE(!h.ready);
        a = ks_tracker_record(&h, true, 120 * S);
        ASSERT_TRUE(!(a & KS_TRACKER_SEND_READY));
        ASSERT_EQ(h.failures, 3);
        a = ks_tracker_record(&h, true, 121 * S);
        ASSERT_TRUE(a & KS_TRACKER_SEND_READY);
        ASSERT_EQ(h.failures, 0);
}

static void test_first_pass_ends_start_period(void) {
        ks_tracker h;

        ks_tracker_begin(&h, &base, 100 * S, false);
        ks_tracker_record(&h, true, 101 * S);
        ASSERT_TRUE(!ks_tracker_in_start_period(&h, 102 * S));
        /* So a failure right after counts. */
        ASSERT_TRUE(ks_tracker_record(&h, false, 102 * S) & KS_TRACKER_COUNTED_FAILURE);
        ASSERT_EQ(h.failures, 1);
}

static void test_threshold_one_and_update(void) {
        ks_tracker_params p = base;
        ks_tracker h;

        p.failure_threshold = 0;        /* sanitized to 1 */
        p.start_period_usec = 0;
        ks_tracker_begin(&h, &p, 0, true);
        ASSERT_EQ(h.params.failure_threshold, 1);
        ASSERT_TRUE(ks_tracker_record(&h, false, 1 * S) & KS_TRACKER_SEND_TRIGGER);

        p.failure_threshold = 5;
        ks_tracker_begin(&h, &p, 0, true);
        for (int i = 0; i < 4; i++)
                ks_tracker_record(&h, false, (1 + i) * S);
        ASSERT_EQ(h.failures, 4);
        /* Lowering the threshold below the count does not fire retroactively. */
        p.failure_threshold = 2;
        ks_tracker_update_params(&h, &p);
        ASSERT_EQ(h.failures, 1);
        ASSERT_TRUE(ks_tracker_record(&h, false, 10 * S) & KS_TRACKER_SEND_TRIGGER);
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
        test_ready_on_pass();
        test_not_gated();
        test_self_ready();
        test_threshold_triggers_once();
        test_recovery_before_threshold();
        test_start_period();
        test_first_pass_ends_start_period();
        test_threshold_one_and_update();
        test_sequences();
        test_ready_after_success_threshold();
        test_watchdog_ping();
        ASSERT_STREQ(ks_tracker_state_to_string(KS_TRACKER_UNHEALTHY), "unhealthy");
        TEST_DONE();
}
