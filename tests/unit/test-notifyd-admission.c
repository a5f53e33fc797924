/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* admission.c: at most max rounds hold a slot, the others wait in order and get theirs from the
 * loop, never from inside the leave() that freed it; and lag-meter.c's two-second memory. */
#include "admission.h"
#include "lag-meter.h"
#include "test.h"

typedef struct holder {
        ks_admission *a;
        ks_admission_ticket t;
        unsigned admitted;      /* times admitted() ran */
        unsigned order;         /* when it was admitted last (the test's counter) */
        bool leave_at_once;     /* a round that cannot start: gives the slot back from admitted() */
} holder;

static unsigned counter, depth, max_depth;

static void on_admitted(ks_admission_ticket *t, void *userdata) {
        holder *h = userdata;

        depth++;
        max_depth = MAX(max_depth, depth);
        ASSERT_TRUE(t->holding && !t->waiting);
        h->admitted++;
        h->order = ++counter;
        if (h->leave_at_once)
                ks_admission_leave(h->a, t);
        depth--;
}

static void run_loop(sd_event *e) {
        for (unsigned i = 0; i < 5; i++)
                ASSERT_TRUE(sd_event_run(e, 0) >= 0);
}

static void test_fifo(void) {
        sd_event *e = NULL;
        _cleanup_(ks_admission_freep) ks_admission *a = NULL;
        holder h[5] = {};

        ASSERT_TRUE(sd_event_new(&e) >= 0);
        ASSERT_EQ(ks_admission_new(e, 2, &a), 0);
        for (unsigned i = 0; i < 5; i++)
                h[i].a = a;

        /* Two slots: the first two hold one at once, the others wait in order. */
        ASSERT_TRUE(ks_admission_enter(a, &h[0].t, on_admitted, &h[0]));
        ASSERT_TRUE(ks_admission_enter(a, &h[1].t, on_admitted, &h[1]));
        for (unsigned i = 2; i < 5; i++)
                ASSERT_TRUE(!ks_admission_enter(a, &h[i].t, on_admitted, &h[i]));
        /* Entering again while waiting changes nothing. */
        ASSERT_TRUE(!ks_admission_enter(a, &h[2].t, on_admitted, &h[2]));
        ASSERT_EQ(ks_admission_in_flight(a), 2);
        ASSERT_EQ(ks_admission_waiting(a), 3);
        run_loop(e);
        ASSERT_EQ(h[2].admitted, 0);

        /* A freed slot goes to the oldest waiting one, from the loop, not from leave(). */
        ks_admission_leave(a, &h[0].t);
        ASSERT_EQ(h[2].admitted, 0);
        ASSERT_EQ(ks_admission_in_flight(a), 1);
        run_loop(e);
        ASSERT_EQ(h[2].admitted, 1);
        ASSERT_EQ(h[3].admitted, 0);
        ASSERT_EQ(ks_admission_in_flight(a), 2);

        /* A waiting one that leaves is out of the queue. */
        ks_admission_leave(a, &h[3].t);
        ASSERT_EQ(ks_admission_waiting(a), 1);
        ks_admission_leave(a, &h[1].t);
        run_loop(e);
        ASSERT_EQ(h[3].admitted, 0);
        ASSERT_EQ(h[4].admitted, 1);
        ASSERT_TRUE(h[2].order < h[4].order);

        /* A free slot does not let a newcomer pass those waiting: FIFO. */
        ks_admission_set_max(a, 3);
        h[0] = (holder) { .a = a };
        ASSERT_TRUE(ks_admission_enter(a, &h[0].t, on_admitted, &h[0]));
        ks_admission_set_max(a, 3);
        ASSERT_TRUE(!ks_admission_enter(a, &h[3].t, on_admitted, &h[3]));
        ASSERT_TRUE(!ks_admission_enter(a, &h[1].t, on_admitted, &h[1]));
        ks_admission_leave(a, &h[4].t);
        ASSERT_TRUE(h[1].t.waiting && h[3].t.waiting);
        /* A slot is free this moment, but two wait for it: the newcomer queues behind them. */
        holder late = { .a = a };
        ASSERT_TRUE(!ks_admission_enter(a, &late.t, on_admitted, &late));
        run_loop(e);
        ASSERT_EQ(h[3].admitted, 1);
        ASSERT_TRUE(h[1].t.waiting && late.t.waiting);
        ks_admission_leave(a, &late.t);
        for (unsigned i = 0; i < 5; i++)
                ks_admission_leave(a, &h[i].t);
        ASSERT_EQ(ks_admission_in_flight(a), 0);
        ASSERT_EQ(ks_admission_waiting(a), 0);
        sd_event_unref(e);
}

/* Rounds that end at once give their slot back from inside admitted(): the next waiting ones
 * get theirs in the same handover, one after the other, never nested. */
static void test_no_reentry(void) {
        sd_event *e = NULL;
        _cleanup_(ks_admission_freep) ks_admission *a = NULL;
        holder blocker = {}, h[20] = {};

        ASSERT_TRUE(sd_event_new(&e) >= 0);
        ASSERT_EQ(ks_admission_new(e, 1, &a), 0);
        blocker.a = a;
        ASSERT_TRUE(ks_admission_enter(a, &blocker.t, on_admitted, &blocker));
        for (unsigned i = 0; i < 20; i++) {
                h[i] = (holder) { .a = a, .leave_at_once = true };
                ASSERT_TRUE(!ks_admission_enter(a, &h[i].t, on_admitted, &h[i]));
        }
        max_depth = 0;
        ks_admission_leave(a, &blocker.t);
        run_loop(e);
        for (unsigned i = 0; i < 20; i++)
                ASSERT_EQ(h[i].admitted, 1);
        ASSERT_EQ(max_depth, 1);
        ASSERT_EQ(ks_admission_in_flight(a), 0);

        /* No limit: everyone holds a slot at once. */
        ks_admission_set_max(a, 0);
        for (unsigned i = 0; i < 20; i++)
                ASSERT_TRUE(ks_admission_enter(a, &h[i].t, on_admitted, &h[i]));
        ASSERT_EQ(ks_admission_in_flight(a), 20);
        for (unsigned i = 0; i < 20; i++)
                ks_admission_leave(a, &h[i].t);
        sd_event_unref(e);
}

static void test_lag_meter(void) {
        ks_lag_meter l = {};
        const uint64_t s = 1000000;

        ASSERT_EQ(ks_lag_meter_get(&l, 10 * s), 0);
        ks_lag_meter_note(&l, 300000, 10 * s);
        ks_lag_meter_note(&l, 100000, 10 * s + 500000);
        ASSERT_EQ(ks_lag_meter_get(&l, 10 * s + 600000), 300000);
        /* The next second: the worst of the previous one still counts... */
        ks_lag_meter_note(&l, 20000, 11 * s + 100000);
        ASSERT_EQ(ks_lag_meter_get(&l, 11 * s + 200000), 300000);
        /* ...not two seconds on. */
        ks_lag_meter_note(&l, 10000, 12 * s + 200000);
        ASSERT_EQ(ks_lag_meter_get(&l, 12 * s + 300000), 20000);
        ASSERT_EQ(ks_lag_meter_get(&l, 15 * s), 0);
}

int main(void) {
        test_fifo();
        test_no_reentry();
        test_lag_meter();
        TEST_DONE();
}
