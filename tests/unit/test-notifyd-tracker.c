/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The health state machine: readiness, start period, thresholds, trigger once, recovery. */
#include "tracker.h"
#include "notifyd-test.h"

#define S 1000000ull

static const ks_tracker_params base = {
        .interval_usec = 1 * S,
        .timeout_usec = 1 * S,
        .start_period_usec = 10 * S,
        .failure_threshold = 3,
        .success_threshold = 2,
        .gate_ready = true,
};

static void test_ready_on_first_pass(void) {
        ks_tracker h;
        unsigned a;

        ASSERT_EQ(ks_tracker_begin(&h, &base, 100 * S, false), 0);
        ASSERT_TRUE(!h.ready);
        ASSERT_EQ(h.state, KS_TRACKER_STARTING);
        /* Failures in the start period: nothing at all. */
        a = ks_tracker_record(&h, false, 101 * S);
        ASSERT_EQ(a, 0);
        ASSERT_EQ(h.failures, 0);
        a = ks_tracker_record(&h, true, 102 * S);
        ASSERT_EQ(a, KS_TRACKER_SEND_READY | KS_TRACKER_SEND_WATCHDOG | KS_TRACKER_STATE_CHANGED);
        ASSERT_TRUE(h.ready);
        ASSERT_EQ(h.state, KS_TRACKER_HEALTHY);
        a = ks_tracker_record(&h, true, 103 * S);
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
}

static void test_threshold_triggers_once(void) {
        ks_tracker h;
        unsigned a;

        ks_tracker_begin(&h, &base, 0, false);
        ks_tracker_record(&h, true, 1 * S);
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
        ks_tracker_record(&h, false, 20 * S);
        ks_tracker_record(&h, false, 21 * S);
        ASSERT_EQ(h.failures, 2);
        /* One pass resets the failure count but success_threshold=2 passes are needed to be healthy. */
        ASSERT_EQ(ks_tracker_record(&h, true, 22 * S), KS_TRACKER_SEND_WATCHDOG);
        ASSERT_EQ(h.state, KS_TRACKER_UNHEALTHY);
        ASSERT_EQ(h.failures, 0);
        ASSERT_EQ(ks_tracker_record(&h, true, 23 * S), KS_TRACKER_SEND_WATCHDOG | KS_TRACKER_STATE_CHANGED);
        ASSERT_EQ(h.state, KS_TRACKER_HEALTHY);
        /* Failures interleaved with passes never reach the threshold. */
        for (int i = 0; i < 10; i++) {
                ASSERT_TRUE(!(ks_tracker_record(&h, false, (30 + 2 * i) * S) & KS_TRACKER_SEND_TRIGGER));
                ASSERT_TRUE(!(ks_tracker_record(&h, true, (31 + 2 * i) * S) & KS_TRACKER_SEND_TRIGGER));
        }
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

int main(void) {
        test_ready_on_first_pass();
        test_not_gated();
        test_self_ready();
        test_threshold_triggers_once();
        test_recovery_before_threshold();
        test_start_period();
        test_first_pass_ends_start_period();
        test_threshold_one_and_update();
        ASSERT_STREQ(ks_tracker_state_to_string(KS_TRACKER_UNHEALTHY), "unhealthy");
        TEST_DONE();
}
