/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The unit watcher's refresh queue: first come first served, each unit once, never more than
 * max_active in flight, a unit asked for again while in flight is read once more, failures back
 * off (doubling, capped) and then rejoin the end of the queue, removal in any state, and a
 * simulated run of 1000 units against a bus that refuses more than 128 pending calls. */
#include <errno.h>
#include <stdio.h>

#include "macro.h"
#include "test.h"
#include "refresh-queue.h"

#define S 1000000ull

typedef struct unit {
        ks_refresh_item item;
        char name[32];
        unsigned released;
} unit;

static unit units[1000];

static void init_units(void) {
        memset(units, 0, sizeof units);
        for (unsigned i = 0; i < ELEMENTSOF(units); i++) {
                snprintf(units[i].name, sizeof units[i].name, "konivrer@s%04u.service", i);
                units[i].item.unit = units[i].name;
        }
}

static void release(ks_refresh_item *it) {
        ((unit *) it)->released++;
}

static void test_fifo_dedup_limit(void) {
        ks_refresh_queue *q = NULL;

        init_units();
        ASSERT_EQ(ks_refresh_queue_new(0, S, 30 * S, &q), -EINVAL);
        ASSERT_EQ(ks_refresh_queue_new(2, S, 30 * S, &q), 0);
        for (unsigned i = 0; i < 5; i++)
                ASSERT_EQ(ks_refresh_queue_add(q, &units[i].item), 0);
        /* The same unit twice: found, not added again. */
        ASSERT_TRUE(ks_refresh_queue_find(q, "konivrer@s0003.service") == &units[3].item);
        ASSERT_TRUE(ks_refresh_queue_find(q, "konivrer@s0009.service") == NULL);
        ASSERT_EQ(ks_refresh_queue_request(q, &units[3].item), 0);
        ASSERT_EQ(ks_refresh_queue_size(q), 5);

        /* Two at a time, in order. */
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[0].item);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[1].item);
        ASSERT_TRUE(ks_refresh_queue_next(q) == NULL);
        ASSERT_EQ(ks_refresh_queue_active(q), 2);
        ASSERT_EQ(units[0].item.state, KS_REFRESH_ACTIVE);

        /* Done: it leaves, the next starts. */
        ASSERT_EQ(ks_refresh_queue_done(q, &units[0].item, true, NULL), KS_REFRESH_NONE);
        ASSERT_TRUE(ks_refresh_queue_find(q, units[0].name) == NULL);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[2].item);
        ASSERT_TRUE(ks_refresh_queue_next(q) == NULL);

        /* Asked for again while active: read again, after the ones already waiting. */
        ASSERT_EQ(ks_refresh_queue_request(q, &units[1].item), 1);
        ASSERT_EQ(ks_refresh_queue_request(q, &units[1].item), 0);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[1].item, true, NULL), KS_REFRESH_WAITING);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[3].item);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[2].item, true, NULL), KS_REFRESH_NONE);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[4].item);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[3].item, true, NULL), KS_REFRESH_NONE);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[1].item);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[1].item, true, NULL), KS_REFRESH_NONE);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[4].item, true, NULL), KS_REFRESH_NONE);
        ASSERT_EQ(ks_refresh_queue_size(q), 0);
        ASSERT_EQ(ks_refresh_queue_active(q), 0);

        /* A finished unit can be queued anew. */
        ASSERT_EQ(ks_refresh_queue_add(q, &units[0].item), 0);
        ASSERT_EQ(ks_refresh_queue_add(q, &units[0].item), -EINVAL);
        ks_refresh_queue_free(q, release);
        ASSERT_EQ(units[0].released, 1);
        ASSERT_EQ(units[0].item.state, KS_REFRESH_NONE);
}

static void test_backoff(void) {
        ks_refresh_queue *q = NULL;
        uint64_t delay = 0, expect[] = { 1 * S, 2 * S, 4 * S, 8 * S, 16 * S, 30 * S, 30 * S, 30 * S };

        init_units();
        ASSERT_EQ(ks_refresh_queue_new(1, S, 30 * S, &q), 0);
        ASSERT_EQ(ks_refresh_queue_add(q, &units[0].item), 0);
        ASSERT_EQ(ks_refresh_queue_add(q, &units[1].item), 0);
        for (unsigned i = 0; i < ELEMENTSOF(expect); i++) {
                ASSERT_TRUE(ks_refresh_queue_next(q) == &units[0].item);
                /* A request while in flight does not add a read on top of the retry. */
                (void) ks_refresh_queue_request(q, &units[0].item);
                ASSERT_EQ(ks_refresh_queue_done(q, &units[0].item, false, &delay), KS_REFRESH_BACKOFF);
                ASSERT_EQ(delay, expect[i]);
                ASSERT_EQ(units[0].item.failures, i + 1);
                /* Backing off holds no slot, and asking again does not cut its delay short. */
                ASSERT_EQ(ks_refresh_queue_active(q), 0);
                ASSERT_EQ(ks_refresh_queue_request(q, &units[0].item), 0);
                ASSERT_EQ(units[0].item.state, KS_REFRESH_BACKOFF);
                /* The other unit goes meanwhile, then the retry joins the end of the queue. */
                ASSERT_TRUE(ks_refresh_queue_next(q) == &units[1].item);
                ks_refresh_queue_wake(q, &units[0].item);
                ASSERT_TRUE(ks_refresh_queue_next(q) == NULL);
                ASSERT_EQ(ks_refresh_queue_done(q, &units[1].item, true, NULL), KS_REFRESH_NONE);
                ASSERT_EQ(ks_refresh_queue_add(q, &units[1].item), 0);
        }
        /* Success resets the count; the next failure starts at the minimum again. */
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[0].item);
        ASSERT_EQ(ks_refresh_queue_request(q, &units[0].item), 1);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[0].item, true, NULL), KS_REFRESH_WAITING);
        ASSERT_EQ(units[0].item.failures, 0);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[1].item);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[1].item, true, NULL), KS_REFRESH_NONE);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[0].item);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[0].item, false, &delay), KS_REFRESH_BACKOFF);
        ASSERT_EQ(delay, 1 * S);
        ks_refresh_queue_free(q, release);
        ASSERT_EQ(units[0].released, 1);
        ASSERT_EQ(units[1].released, 0);
}

static void test_remove(void) {
        ks_refresh_queue *q = NULL;
        uint64_t delay;

        init_units();
        ASSERT_EQ(ks_refresh_queue_new(2, S, 30 * S, &q), 0);
        for (unsigned i = 0; i < 6; i++)
                ASSERT_EQ(ks_refresh_queue_add(q, &units[i].item), 0);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[0].item);
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[1].item);
        ASSERT_EQ(ks_refresh_queue_done(q, &units[1].item, false, &delay), KS_REFRESH_BACKOFF);
        /* Active, backing off, waiting in the middle, at the head, at the tail. */
        ks_refresh_queue_remove(q, &units[0].item);
        ks_refresh_queue_remove(q, &units[1].item);
        ks_refresh_queue_remove(q, &units[3].item);
        ks_refresh_queue_remove(q, &units[2].item);
        ks_refresh_queue_remove(q, &units[5].item);
        ks_refresh_queue_remove(q, &units[5].item);
        for (unsigned i = 0; i < 6; i++)
                ASSERT_TRUE(i == 4 || ks_refresh_queue_find(q, units[i].name) == NULL);
        ASSERT_EQ(ks_refresh_queue_size(q), 1);
        ASSERT_EQ(ks_refresh_queue_active(q), 0);
        /* The removed active one freed its slot: two can start, only one waits. */
        ASSERT_TRUE(ks_refresh_queue_next(q) == &units[4].item);
        ASSERT_TRUE(ks_refresh_queue_next(q) == NULL);
        /* Late completion of a removed item changes nothing. */
        ASSERT_EQ(ks_refresh_queue_done(q, &units[0].item, true, NULL), KS_REFRESH_NONE);
        ASSERT_EQ(ks_refresh_queue_active(q), 1);
        ks_refresh_queue_free(q, release);
        ASSERT_EQ(units[4].released, 1);
        ASSERT_EQ(units[0].released + units[1].released + units[2].released, 0);
}

/* 1000 units, five calls each, a bus that answers at most 128 pending calls and refuses the
 * rest at once, and answers the oldest 40 pending calls per tick. Every unit must be read, in a
 * bounded number of ticks, without a single refusal. */
static void test_simulated_bus(void) {
        enum { N = 1000, CALLS = 5, BUS_LIMIT = 128, PER_TICK = 40 };
        static unsigned pending[N * CALLS];     /* unit index of each pending call, FIFO */
        static unsigned calls_left[N], reads[N];
        unsigned head = 0, tail = 0, refused = 0, ticks = 0, max_pending = 0;
        ks_refresh_queue *q = NULL;
        ks_refresh_item *it;

        init_units();
        memset(calls_left, 0, sizeof calls_left);
        memset(reads, 0, sizeof reads);
        ASSERT_EQ(ks_refresh_queue_new(16, S, 30 * S, &q), 0);
        for (unsigned i = 0; i < N; i++)
                ASSERT_EQ(ks_refresh_queue_add(q, &units[i].item), 0);
        /* Repeated requests for units already queued change nothing. */
        for (unsigned i = 0; i < N; i += 7)
                ASSERT_EQ(ks_refresh_queue_request(q, &units[i].item), 0);
        ASSERT_EQ(ks_refresh_queue_size(q), N);

        while (ks_refresh_queue_size(q) > 0) {
                ASSERT_TRUE(++ticks < 10000);
                while ((it = ks_refresh_queue_next(q))) {
                        unsigned u = (unsigned) ((unit *) it - units);

                        for (unsigned c = 0; c < CALLS; c++) {
                                if (tail - head >= BUS_LIMIT) {
                                        refused++;
                                        continue;
                                }
                                pending[tail++ % (N * CALLS)] = u;
                                calls_left[u]++;
                        }
                        if (tail - head > max_pending)
                                max_pending = tail - head;
                }
                for (unsigned k = 0; k < PER_TICK && head < tail; k++) {
                        unsigned u = pending[head++ % (N * CALLS)];

                        if (--calls_left[u] == 0) {
                                reads[u]++;
                                ASSERT_EQ(ks_refresh_queue_done(q, &units[u].item, true, NULL), KS_REFRESH_NONE);
                        }
                }
        }
        ASSERT_EQ(refused, 0);
        ASSERT_TRUE(max_pending <= 16 * CALLS);
        for (unsigned i = 0; i < N; i++)
                ASSERT_EQ(reads[i], 1);
        ks_refresh_queue_free(q, release);
}

int main(void) {
        test_fifo_dedup_limit();
        test_backoff();
        test_remove();
        test_simulated_bus();
        printf("%u checks passed\n", ks_test_checks);
        return 0;
}
