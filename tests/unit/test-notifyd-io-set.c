/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* io-set.c: watches (a removed one's pending events are dropped) and deadlines (one armed by a
 * handler waits for the next wakeup, so that curl's "at once" cannot keep a run going). */
#include <errno.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io-set.h"
#include "test.h"
#include "time-util.h"

static unsigned iteration;

typedef struct pair_watch {
        ks_io_set *set;
        ks_io_watch watch;
        struct pair_watch *other;
        unsigned called;
} pair_watch;

static void on_readable(ks_io_watch *w, uint32_t revents, void *userdata) {
        pair_watch *p = userdata;

        ASSERT_TRUE(revents & EPOLLIN);
        p->called++;
        /* The other socket is readable too, and its event may be further down this batch. */
        ks_io_set_close(p->set, &p->other->watch);
        ks_io_set_remove(p->set, &p->watch);
}

static void test_removed_watch_gets_no_event(void) {
        sd_event *event = NULL;
        ks_io_set *set = NULL;
        pair_watch a = { .watch = KS_IO_WATCH_INIT }, b = { .watch = KS_IO_WATCH_INIT };
        int sa[2], sb[2];

        ASSERT_TRUE(sd_event_new(&event) >= 0);
        ASSERT_EQ(ks_io_set_new(event, &set), 0);
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sa), 0);
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sb), 0);
        a = (pair_watch) { .set = set, .watch = KS_IO_WATCH_INIT, .other = &b };
        b = (pair_watch) { .set = set, .watch = KS_IO_WATCH_INIT, .other = &a };
        ASSERT_EQ(ks_io_set_add(set, &a.watch, sa[0], EPOLLIN, on_readable, &a), 0);
        ASSERT_EQ(ks_io_set_add(set, &b.watch, sb[0], EPOLLIN, on_readable, &b), 0);
        ASSERT_EQ(ks_io_set_add(set, &a.watch, sa[0], EPOLLIN, on_readable, &a), -EBUSY);
        ASSERT_EQ(ks_io_set_watches(set), 2);
        ASSERT_EQ(write(sa[1], "x", 1), 1);
        ASSERT_EQ(write(sb[1], "x", 1), 1);

        for (unsigned i = 0; i < 5; i++)
                ASSERT_TRUE(sd_event_run(event, 10 * 1000) >= 0);
        /* Both were ready in one batch; whichever ran first took the other out. */
        ASSERT_EQ(a.called + b.called, 1);
        ASSERT_EQ(ks_io_set_watches(set), 0);

        close(a.called ? sa[0] : sb[0]);
        close(sa[1]);
        close(sb[1]);
        ks_io_set_free(set);
        sd_event_unref(event);
}

typedef struct timed {
        ks_io_set *set;
        ks_io_deadline deadline;
        unsigned fired_at;      /* iteration + 1; 0: not fired */
        unsigned rearm;         /* how many more times to arm itself for "now" */
        struct timed *then;     /* armed for "now" by this one's handler */
} timed;

static void on_expired(ks_io_deadline *d, void *userdata) {
        timed *t = userdata;

        t->fired_at = iteration + 1;
        if (t->then)
                ASSERT_EQ(ks_io_set_arm(t->set, &t->then->deadline, 0, on_expired, t->then), 0);
        if (t->rearm > 0) {
                t->rearm--;
                ASSERT_EQ(ks_io_set_arm(t->set, &t->deadline, ks_now_usec(), on_expired, t), 0);
        }
}

static void test_deadline_armed_by_handler_waits(void) {
        sd_event *event = NULL;
        ks_io_set *set = NULL;
        timed b = {}, a = {}, again = {};

        ASSERT_TRUE(sd_event_new(&event) >= 0);
        ASSERT_EQ(ks_io_set_new(event, &set), 0);
        b.set = a.set = again.set = set;
        a.then = &b;
        again.rearm = 3;

        ASSERT_EQ(ks_io_set_arm(set, &a.deadline, ks_now_usec(), on_expired, &a), 0);
        ASSERT_EQ(ks_io_set_arm(set, &again.deadline, ks_now_usec(), on_expired, &again), 0);
        for (iteration = 0; iteration < 20 && (!b.fired_at || again.rearm > 0 || again.deadline.armed); iteration++)
                ASSERT_TRUE(sd_event_run(event, 100 * 1000) >= 0);
        ASSERT_TRUE(a.fired_at > 0);
        /* b was due at once, but was armed while the set ran a: the next wakeup. */
        ASSERT_TRUE(b.fired_at > a.fired_at);
        /* A deadline that keeps arming itself for "now" fires once per wakeup, 4 times in all,
         * and the loop got to do other work in between. */
        ASSERT_EQ(again.rearm, 0);
        ASSERT_TRUE(!again.deadline.armed);
        ASSERT_TRUE(again.fired_at >= 4);

        /* Disarmed before it is due: never runs. */
        timed c = { .set = set };
        ASSERT_EQ(ks_io_set_arm(set, &c.deadline, ks_now_usec() + 1000, on_expired, &c), 0);
        ks_io_set_disarm(set, &c.deadline);
        ks_io_set_disarm(set, &c.deadline);
        for (unsigned i = 0; i < 3; i++)
                ASSERT_TRUE(sd_event_run(event, 5 * 1000) >= 0);
        ASSERT_EQ(c.fired_at, 0);

        ks_io_set_free(set);
        sd_event_unref(event);
}

int main(void) {
        test_removed_watch_gets_no_event();
        test_deadline_armed_by_handler_waits();
        TEST_DONE();
}
