/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The unit watcher's full reads against a fake systemd: a child process at the other end of a
 * socket pair answers Subscribe and Properties.Get like PID 1 behind the system bus would, holds
 * the calls and answers them in batches, and refuses a call at once (LimitsExceeded) while 128
 * are pending, as dbus-daemon does with max_replies_per_connection. Checks: hundreds of units
 * are all read without a refusal; a read whose third call fails for a passing reason applies no
 * later reply of that round (MainPID stays unknown) and is retried after a delay; a permanent
 * error is not retried; forgetting a unit stops its calls and callbacks; freeing the watcher
 * with calls in flight and retries armed leaves nothing behind (run under ASan); a
 * PropertiesChanged that repeats the known InvocationID (systemd sends one with every STATUS=)
 * reads nothing again, one with a new InvocationID reads the unit once.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "fake-systemd.h"
#include "macro.h"
#include "test.h"
#include "unit-watch.h"

#define MAX_UNITS 400
#define BUS_LIMIT 128
#define PROPS 7

enum {
        MODE_ANSWER,            /* answer everything, in batches */
        MODE_FAIL_ONCE,         /* units i % 3 == 0: InvocationID fails (NoReply) in their first round */
        MODE_UNKNOWN_PROPERTY,  /* InvocationID is always UnknownProperty */
        MODE_HOLD,              /* answer nothing */
};

typedef struct shared {
        int mode;
        unsigned signals_same, signals_new;     /* PropertiesChanged for unit 0 to send */
        unsigned refused;               /* LimitsExceeded replies sent */
        unsigned max_pending;
        unsigned gets[MAX_UNITS];       /* Get calls seen per unit */
        unsigned rounds[MAX_UNITS];     /* ActiveState Gets per unit: rounds started */
} shared;

static shared *sh;

static int unit_index(const char *path) {
        _cleanup_free_ char *unit = NULL;
        unsigned i;

        if (sd_bus_path_decode(path, "/org/freedesktop/systemd1/unit", &unit) <= 0)
                return -1;
        if (sscanf(unit, "konivrer@s%u.service", &i) != 1 || i >= MAX_UNITS)
                return -1;
        return (int) i;
}

/* ---- the fake systemd (child process) ---- */

/* Unit i as the fake knows it; its InvocationID ends in last_byte (i unless a test says). */
static ks_unit_state unit_state(unsigned i, uint8_t last_byte) {
        ks_unit_state st = {
                .main_pid = 1000 + i,
                .main_start_usec = 5000 + i,
                .watchdog_usec = 34000000 + i,
                .invocation_id.bytes = { 0x42 },
        };

        strcpy(st.active_state, "active");
        strcpy(st.sub_state, "running");
        st.invocation_id.bytes[15] = last_byte;
        return st;
}

static sd_bus_message *held[4096];
static unsigned n_held;

static int answer(sd_bus_message *call) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *iface, *name;
        int u = unit_index(sd_bus_message_get_path(call)), r;
        ks_unit_state st;

        r = sd_bus_message_read(call, "ss", &iface, &name);
        if (r < 0 || u < 0)
                return sd_bus_reply_method_errorf(call, SD_BUS_ERROR_INVALID_ARGS, "bad call");
        if (streq(name, "InvocationID")) {
                if (sh->mode == MODE_UNKNOWN_PROPERTY)
                        return sd_bus_reply_method_errorf(call, SD_BUS_ERROR_UNKNOWN_PROPERTY, "no %s", name);
                if (sh->mode == MODE_FAIL_ONCE && u % 3 == 0 && sh->rounds[u] == 1)
                        return sd_bus_reply_method_errorf(call, SD_BUS_ERROR_NO_REPLY, "timed out (test)");
        }
        r = sd_bus_message_new_method_return(call, &reply);
        if (r < 0)
                return r;
        st = unit_state((unsigned) u, (uint8_t) u);
        r = fake_systemd_append_property(reply, name, &st);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int on_call(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *member = sd_bus_message_get_member(m);
        int u;

        if (!sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        if (streq(member, "Subscribe"))
                return sd_bus_reply_method_return(m, NULL) < 0 ? -1 : 1;
        if (!streq(member, "Get"))
                return 0;
        u = unit_index(sd_bus_message_get_path(m));
        if (u >= 0) {
                const char *iface, *name;

                sh->gets[u]++;
                if (sd_bus_message_read(m, "ss", &iface, &name) >= 0 && streq(name, "ActiveState"))
                        sh->rounds[u]++;
                (void) sd_bus_message_rewind(m, true);
        }
        if (n_held >= BUS_LIMIT) {
                sh->refused++;
                (void) sd_bus_reply_method_errorf(m, SD_BUS_ERROR_LIMITS_EXCEEDED, "too many pending replies (test)");
                return 1;
        }
        held[n_held++] = sd_bus_message_ref(m);
        if (n_held > sh->max_pending)
                sh->max_pending = n_held;
        return 1;
}

/* When the fake has nothing to process: the signals the test asked for, then the oldest few held
 * calls answered, like a busy PID 1 would. */
static int idle(sd_bus *bus) {
        if (sh->signals_same > 0 || sh->signals_new > 0) {
                /* Unit 0's known invocation ends in 0 (see answer()), a new one in 0x99. */
                bool same = sh->signals_same > 0;
                ks_unit_state st = unit_state(0, same ? 0 : 0x99);

                if (fake_systemd_emit_unit_changed(bus, "konivrer@s0.service", &st, NULL) < 0)
                        return -1;
                if (same)
                        sh->signals_same--;
                else
                        sh->signals_new--;
                return 1;
        }
        if (n_held > 0 && sh->mode != MODE_HOLD) {
                unsigned k = MIN(n_held, 24u);

                for (unsigned i = 0; i < k; i++) {
                        (void) answer(held[i]);
                        sd_bus_message_unref(held[i]);
                }
                memmove(held, held + k, (n_held - k) * sizeof held[0]);
                n_held -= k;
                return 1;
        }
        return 0;
}

static _Noreturn void fake_systemd(int fd) {
        fake_systemd_serve(fd, on_call, idle);
}

/* ---- the test side ---- */

typedef struct seen {
        unsigned masks;                 /* all fields seen */
        unsigned calls;
        unsigned main_pid_before_rest;  /* MainPID applied while another field was still unknown */
        unsigned main_pid_round;        /* the fake's round count when MainPID was applied */
        uint32_t main_pid;
        sd_id128_t invocation_id;
} seen;

static seen units_seen[MAX_UNITS];
static unsigned callbacks;

/* Like a monitor: true for an InvocationID other than the last one seen. */
static bool on_unit(const char *unit, const ks_unit_state *st, unsigned mask, void *userdata) {
        bool new_invocation = false;
        unsigned i;

        callbacks++;
        ASSERT_TRUE(sscanf(unit, "konivrer@s%u.service", &i) == 1 && i < MAX_UNITS);
        units_seen[i].calls++;
        if (mask & KS_UNIT_MAIN_PID) {
                if ((units_seen[i].masks & (KS_UNIT_ACTIVE_STATE | KS_UNIT_SUB_STATE | KS_UNIT_MAIN_START |
                                            KS_UNIT_WATCHDOG_USEC)) !=
                    (KS_UNIT_ACTIVE_STATE | KS_UNIT_SUB_STATE | KS_UNIT_MAIN_START | KS_UNIT_WATCHDOG_USEC))
                        units_seen[i].main_pid_before_rest++;
                units_seen[i].main_pid = st->main_pid;
                units_seen[i].main_pid_round = sh->rounds[i];
        }
        if (mask & KS_UNIT_ACTIVE_STATE)
                ASSERT_STREQ(st->active_state, "active");
        if ((mask & KS_UNIT_INVOCATION_ID) && !sd_id128_equal(st->invocation_id, units_seen[i].invocation_id)) {
                new_invocation = true;
                units_seen[i].invocation_id = st->invocation_id;
        }
        units_seen[i].masks |= mask;
        return new_invocation;
}

static void on_reloaded(void *userdata) {
}

typedef struct fixture {
        sd_event *event;
        sd_bus *bus;
        ks_watcher *w;
        pid_t child;
} fixture;

static void setup(fixture *f, int mode) {
        memset(sh, 0, sizeof *sh);
        memset(units_seen, 0, sizeof units_seen);
        callbacks = 0;
        sh->mode = mode;
        ASSERT_EQ(sd_event_new(&f->event), 0);
        fake_systemd_start(f->event, fake_systemd, &f->child, &f->bus);
        ASSERT_EQ(ks_watcher_new(f->bus, on_unit, on_reloaded, NULL, &f->w), 0);
}

static void teardown(fixture *f) {
        f->w = ks_watcher_free(f->w);
        fake_systemd_stop(f->bus, f->child);
        f->event = sd_event_unref(f->event);
}

static void refresh_all(fixture *f, unsigned n) {
        for (unsigned i = 0; i < n; i++) {
                char unit[64];

                snprintf(unit, sizeof unit, "konivrer@s%u.service", i);
                ASSERT_EQ(ks_watcher_refresh(f->w, unit), 0);
        }
}

/* Runs the loop until the watcher has nothing queued (or the time is up). */
static void run_until_idle(fixture *f, unsigned max_ms) {
        struct timespec t0, t;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (ks_watcher_refreshes_queued(f->w) > 0) {
                clock_gettime(CLOCK_MONOTONIC, &t);
                ASSERT_TRUE((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < max_ms);
                ASSERT_TRUE(sd_event_run(f->event, 100000) >= 0);
        }
}

static void run_for(fixture *f, unsigned ms) {
        for (unsigned i = 0; i < ms / 10; i++)
                ASSERT_TRUE(sd_event_run(f->event, 10000) >= 0);
}

static void test_many_units(void) {
        fixture f;
        const unsigned n = 300;

        setup(&f, MODE_ANSWER);
        refresh_all(&f, n);
        ASSERT_EQ(ks_watcher_refreshes_queued(f.w), n);
        /* Asked again at once: the 16 already in flight are read once more (some of their
         * replies could predate the reason for asking), the waiting ones only once. */
        refresh_all(&f, n);
        ASSERT_EQ(ks_watcher_refreshes_queued(f.w), n);
        run_until_idle(&f, 20000);
        ASSERT_EQ(sh->refused, 0);
        ASSERT_TRUE(sh->max_pending <= 16 * PROPS);
        ASSERT_TRUE(sh->max_pending >= 2 * PROPS);
        for (unsigned i = 0; i < n; i++) {
                ASSERT_EQ(sh->gets[i], i < 16 ? 2 * PROPS : PROPS);
                ASSERT_EQ(units_seen[i].masks, KS_UNIT_ACTIVE_STATE | KS_UNIT_SUB_STATE | KS_UNIT_INVOCATION_ID |
                                                       KS_UNIT_MAIN_START | KS_UNIT_WATCHDOG_USEC | KS_UNIT_N_RESTARTS | KS_UNIT_MAIN_PID);
                ASSERT_EQ(units_seen[i].calls, i < 16 ? 2 * PROPS : PROPS);
                ASSERT_EQ(units_seen[i].main_pid, 1000 + i);
                ASSERT_EQ(units_seen[i].main_pid_before_rest, 0);
        }
        teardown(&f);
        fprintf(stderr, "300 units: max %u calls pending, %u refused\n", sh->max_pending, sh->refused);
}

static void test_transient_failure_retried(void) {
        fixture f;
        const unsigned n = 60;
        struct timespec t0, t1;
        long ms;

        setup(&f, MODE_FAIL_ONCE);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        refresh_all(&f, n);
        run_until_idle(&f, 10000);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        for (unsigned i = 0; i < n; i++) {
                if (i % 3 == 0) {
                        /* Round 1: ActiveState, SubState applied; InvocationID failed; the rest
                         * of the round dropped. Round 2, after the delay: all five. */
                        ASSERT_EQ(sh->rounds[i], 2);
                        ASSERT_EQ(sh->gets[i], 2 * PROPS);
                        ASSERT_EQ(units_seen[i].calls, 2 + PROPS);
                        ASSERT_EQ(units_seen[i].main_pid_round, 2);
                } else {
                        ASSERT_EQ(sh->rounds[i], 1);
                        ASSERT_EQ(units_seen[i].calls, PROPS);
                }
                ASSERT_EQ(units_seen[i].main_pid, 1000 + i);
                ASSERT_TRUE(units_seen[i].masks & KS_UNIT_INVOCATION_ID);
        }
        /* The retry waited its delay (1 s). */
        ASSERT_TRUE(ms >= 900);
        teardown(&f);
}

static void test_permanent_failure_not_retried(void) {
        fixture f;
        const unsigned n = 20;

        setup(&f, MODE_UNKNOWN_PROPERTY);
        refresh_all(&f, n);
        run_until_idle(&f, 5000);
        run_for(&f, 300);
        for (unsigned i = 0; i < n; i++) {
                ASSERT_EQ(sh->rounds[i], 1);
                ASSERT_EQ(units_seen[i].calls, PROPS - 1);
                ASSERT_EQ(units_seen[i].main_pid, 1000 + i);
                ASSERT_TRUE(!(units_seen[i].masks & KS_UNIT_INVOCATION_ID));
        }
        teardown(&f);
}

static void test_forget_and_free(void) {
        fixture f;
        const unsigned n = 40;

        setup(&f, MODE_HOLD);
        refresh_all(&f, n);
        run_for(&f, 300);
        /* 16 in flight, the rest waiting. */
        ASSERT_EQ(sh->max_pending, 16 * PROPS);
        for (unsigned i = 0; i < n; i += 2) {
                char unit[64];

                snprintf(unit, sizeof unit, "konivrer@s%u.service", i);
                ks_watcher_forget(f.w, unit);
                ks_watcher_forget(f.w, unit);
        }
        ASSERT_EQ(ks_watcher_refreshes_queued(f.w), n / 2);
        ks_watcher_forget(f.w, "konivrer@unknown.service");
        /* The freed slots went to waiting units: the fake now holds calls for more units. */
        run_for(&f, 300);
        ASSERT_TRUE(sh->max_pending > 16 * PROPS);
        /* The fake answers everything now; forgotten units are not called back. */
        sh->mode = MODE_ANSWER;
        run_until_idle(&f, 10000);
        for (unsigned i = 0; i < n; i++)
                ASSERT_EQ(units_seen[i].calls, i % 2 ? PROPS : 0);
        teardown(&f);

        /* Freed with calls in flight, units waiting and retries armed. */
        setup(&f, MODE_FAIL_ONCE);
        refresh_all(&f, n);
        run_for(&f, 300);
        ASSERT_TRUE(ks_watcher_refreshes_queued(f.w) > 0);
        sh->mode = MODE_HOLD;
        refresh_all(&f, n);
        run_for(&f, 100);
        teardown(&f);
}

static void test_signals(void) {
        fixture f;
        unsigned before;

        setup(&f, MODE_ANSWER);
        refresh_all(&f, 1);
        run_until_idle(&f, 5000);
        ASSERT_EQ(sh->gets[0], PROPS);
        before = units_seen[0].calls;

        /* 50 signals with the invocation the watcher read: each applied (one callback), nothing
         * read again. */
        sh->signals_same = 50;
        for (unsigned k = 0; k < 200 && (sh->signals_same > 0 || units_seen[0].calls < before + 50); k++)
                ASSERT_TRUE(sd_event_run(f.event, 10000) >= 0);
        run_for(&f, 100);
        ASSERT_EQ(units_seen[0].calls, before + 50);
        ASSERT_EQ(sh->gets[0], PROPS);
        ASSERT_EQ(ks_watcher_refreshes_queued(f.w), 0);

        /* One with a new invocation: read once more, in full. */
        sh->signals_new = 1;
        for (unsigned k = 0; k < 200 && sh->gets[0] < 2 * PROPS; k++)
                ASSERT_TRUE(sd_event_run(f.event, 10000) >= 0);
        run_until_idle(&f, 5000);
        run_for(&f, 100);
        ASSERT_EQ(sh->gets[0], 2 * PROPS);
        teardown(&f);
}

int main(void) {
        sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ASSERT_TRUE(sh != MAP_FAILED);
        test_many_units();
        test_transient_failure_retried();
        test_permanent_failure_not_retried();
        test_forget_and_free();
        test_signals();
        printf("%u checks passed\n", ks_test_checks);
        return 0;
}
