/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The due set: entries run once, never early, in time order, and late by no more than their
 * accuracy plus scheduling noise; rescheduling and cancelling (also from a callback, also of
 * other entries) keep the heap right (checked against a plain list after random operations);
 * an entry that reschedules itself for "now" does not spin the dispatch; entries due close
 * together share a wakeup.
 */
#include <errno.h>
#include <time.h>

#include "due-set.h"
#include "test.h"

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

#define N 300

typedef struct item {
        ks_due due;
        uint64_t when;                  /* as scheduled; 0: not */
        uint64_t fired_at, fired_due;
        unsigned fired;
        unsigned batch;                 /* the dispatch it ran in */
} item;

static item items[N];
static ks_due_set *set;
static sd_event *event;
static unsigned dispatch_no, last_fire_no;
static uint64_t last_fire_usec;

static void on_fire(ks_due *d, uint64_t due, void *userdata) {
        item *it = userdata;
        uint64_t t;

        ASSERT_TRUE(d == &it->due);
        ASSERT_TRUE(!ks_due_scheduled(d));
        (void) sd_event_now(event, CLOCK_MONOTONIC, &t);
        /* One dispatch runs everything due at the same loop time. */
        if (t != last_fire_usec)
                dispatch_no++;
        last_fire_usec = t;
        it->fired++;
        it->fired_at = now_usec();
        it->fired_due = due;
        it->batch = dispatch_no;
        ASSERT_EQ(due, it->when);
        it->when = 0;
}

static void run_for(uint64_t usec) {
        uint64_t end = now_usec() + usec;

        while (now_usec() < end)
                ASSERT_TRUE(sd_event_run(event, 5000) >= 0);
}

/* Many entries over 200 ms: each runs once, not early, not much late, in time order. */
static void test_order(void) {
        uint64_t t0 = now_usec(), prev_due = 0;
        unsigned ran = 0;

        for (unsigned i = 0; i < N; i++) {
                items[i] = (item) { .due = KS_DUE_INIT };
                items[i].when = t0 + 20000 + (uint64_t) ((i * 7919u) % 200) * 1000;
                ASSERT_EQ(ks_due_set_schedule(set, &items[i].due, items[i].when, 1000, on_fire, &items[i]), 0);
        }
        run_for(400000);
        for (unsigned i = 0; i < N; i++) {
                ASSERT_EQ(items[i].fired, 1);
                ASSERT_TRUE(items[i].fired_at >= items[i].fired_due);
                /* 1 ms accuracy, plus generous noise for a loaded machine. */
                ASSERT_TRUE(items[i].fired_at < items[i].fired_due + 100000);
        }
        /* In order of their due times: the batch numbers never go down as due times go up. */
        for (uint64_t d = t0; d < t0 + 300000; d += 1000)
                for (unsigned i = 0; i < N; i++)
                        if (items[i].fired_due == d) {
                                ASSERT_TRUE(d >= prev_due);
                                ASSERT_TRUE(items[i].batch >= last_fire_no);
                                last_fire_no = items[i].batch;
                                prev_due = d;
                                ran++;
                        }
        ASSERT_EQ(ran, N);
}

/* Due times spread over 40 ms with a 50 ms accuracy: far fewer wakeups than entries. */
static void test_coalescing(void) {
        uint64_t t0 = now_usec();
        unsigned first = dispatch_no + 1;

        for (unsigned i = 0; i < 100; i++) {
                items[i] = (item) { .due = KS_DUE_INIT };
                items[i].when = t0 + 10000 + i * 400;
                ASSERT_EQ(ks_due_set_schedule(set, &items[i].due, items[i].when, 50000, on_fire, &items[i]), 0);
        }
        /* Without a timeout: a wakeup for any other reason runs what is due by then (sd-event's
         * way too), which would hide whether the timer itself waits for the window. */
        for (unsigned k = 0; k < 200 && items[99].fired == 0; k++)
                ASSERT_TRUE(sd_event_run(event, UINT64_MAX) >= 0);
        for (unsigned i = 0; i < 100; i++)
                ASSERT_EQ(items[i].fired, 1);
        fprintf(stderr, "100 entries over 40 ms, 50 ms accuracy: %u wakeups\n", dispatch_no - first + 1);
        ASSERT_TRUE(dispatch_no - first + 1 <= 2);
}

/* Random schedules, reschedules and cancels; what runs is exactly what was scheduled last. */
static void test_random(void) {
        uint64_t t0 = now_usec(), rng = 88172645463325252ull;

        for (unsigned i = 0; i < N; i++)
                items[i] = (item) { .due = KS_DUE_INIT };
        for (unsigned k = 0; k < 5000; k++) {
                unsigned i;
                rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
                i = (unsigned) (rng % N);
                if ((rng >> 20) % 4 == 0) {
                        ks_due_set_cancel(set, &items[i].due);
                        items[i].when = 0;
                } else {
                        items[i].when = t0 + 30000 + (rng >> 32) % 100000;
                        ASSERT_EQ(ks_due_set_schedule(set, &items[i].due, items[i].when, 1000, on_fire, &items[i]), 0);
                }
        }
        for (unsigned i = 0; i < N; i++)
                ASSERT_EQ(ks_due_scheduled(&items[i].due), items[i].when != 0);
        run_for(250000);
        for (unsigned i = 0; i < N; i++) {
                ASSERT_TRUE(!ks_due_scheduled(&items[i].due));
                ASSERT_EQ(items[i].when, 0);
        }
}

/* A callback that reschedules itself for now and cancels another entry due in the same batch. */
static item *victim;
static unsigned self_runs;
static void on_self(ks_due *d, uint64_t due, void *userdata) {
        uint64_t t;

        self_runs++;
        if (victim) {
                ks_due_set_cancel(set, &victim->due);
                victim->when = 0;
                victim = NULL;
        }
        if (self_runs < 3) {
                (void) sd_event_now(event, CLOCK_MONOTONIC, &t);
                ASSERT_EQ(ks_due_set_schedule(set, d, t, 1000, on_self, userdata), 0);
        }
}

static void test_callbacks(void) {
        uint64_t t0 = now_usec();
        ks_due self = KS_DUE_INIT;

        items[0] = (item) { .due = KS_DUE_INIT, .when = t0 + 10000 };
        victim = &items[0];
        ASSERT_EQ(ks_due_set_schedule(set, &self, t0 + 10000, 1000, on_self, NULL), 0);
        ASSERT_EQ(ks_due_set_schedule(set, &items[0].due, t0 + 10000, 1000, on_fire, &items[0]), 0);
        /* One loop iteration runs the first of them; the other is cancelled or ran before. */
        run_for(100000);
        ASSERT_EQ(self_runs, 3);
        ASSERT_TRUE(items[0].fired + (items[0].when == 0 && items[0].fired == 0) <= 1);
        ASSERT_TRUE(!ks_due_scheduled(&self));
}

int main(void) {
        ASSERT_TRUE(sd_event_new(&event) >= 0);
        ASSERT_EQ(ks_due_set_new(event, &set), 0);
        test_order();
        test_coalescing();
        test_random();
        test_callbacks();
        set = ks_due_set_free(set);
        event = sd_event_unref(event);
        TEST_DONE();
}
