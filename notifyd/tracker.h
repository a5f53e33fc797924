/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The health state machine of one service invocation, without any I/O: check results go in,
 * what to tell systemd comes out. Rules:
 *  - The failure count is the number of failed rounds (outside the start period) since the
 *    invocation began or since the last run of success_threshold consecutive passes, whichever
 *    came last, at most failure_threshold.
 *    Fewer passes in a row than that do not reset it: with failure_threshold 3 and
 *    success_threshold 2, fail, fail, pass, fail is (1/3), (2/3), (2/3), (3/3).
 *  - success_threshold consecutive passes make the service healthy and reset the failure count,
 *    the first time as after a failure: "starting" until then, however many passes came before.
 *  - Until the service is ready, failures never trigger anything: TimeoutStartSec= decides.
 *    With gate_ready, READY=1 goes out when it first becomes healthy (success_threshold passes in
 *    a row). With self_ready the program reports readiness itself: READY=1 is never sent, the
 *    caller marks it ready.
 *  - In the start period (from the start of the invocation), failures are not counted; the
 *    first pass ends the start period early.
 *  - The failure count reaching failure_threshold in a ready service: WATCHDOG=trigger, once.
 *  - Every result that does not end in a trigger feeds the watchdog of a ready service; whether
 *    that WATCHDOG=1 goes out now or can wait for the next check is ks_watchdog_ping_due().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct ks_tracker_params {
        uint64_t interval_usec;
        uint64_t timeout_usec;
        uint64_t start_period_usec;
        unsigned failure_threshold;     /* >= 1 */
        unsigned success_threshold;     /* >= 1 */
        bool gate_ready;                /* READY=1 waits for success_threshold passes in a row */
        bool self_ready;                /* type=notify: the program sends READY=1 itself, never us;
                                         * the service is ready once systemd says it is active */
} ks_tracker_params;

typedef enum ks_tracker_state {
        KS_TRACKER_STARTING,     /* no verdict yet (start period, or fewer than success_threshold passes) */
        KS_TRACKER_HEALTHY,
        KS_TRACKER_UNHEALTHY,    /* failed since it was healthy, below the threshold */
        KS_TRACKER_FAILED,       /* threshold reached, restart requested */
        _KS_TRACKER_STATE_MAX,
} ks_tracker_state;

enum {
        KS_TRACKER_SEND_READY = 1 << 0,
        KS_TRACKER_SEND_WATCHDOG = 1 << 1,
        KS_TRACKER_SEND_TRIGGER = 1 << 2,
        KS_TRACKER_STATE_CHANGED = 1 << 3,
        KS_TRACKER_COUNTED_FAILURE = 1 << 4,     /* a failure that counts towards the threshold */
};

typedef struct ks_tracker {
        ks_tracker_params params;
        ks_tracker_state state;
        bool ready;
        bool start_period_over;
        unsigned failures;              /* the failure count (see the rules above) */
        unsigned successes;             /* consecutive passes */
        uint64_t start_usec;            /* monotonic start of the invocation */
} ks_tracker;

/* A new invocation that started at start_usec. already_ready: systemd already has READY=1 for
 * it (notifyd restarted while it ran). Returns actions (SEND_READY when not gating readiness). */
unsigned ks_tracker_begin(ks_tracker *h, const ks_tracker_params *p, uint64_t start_usec, bool already_ready);

/* New parameters for the running invocation (definition changed); counters are kept but clamped. */
void ks_tracker_update_params(ks_tracker *h, const ks_tracker_params *p);

/* Records one check result at now_usec; returns the actions to take. */
unsigned ks_tracker_record(ks_tracker *h, bool passed, uint64_t now_usec);

/* The service became ready without our READY=1 (a self_ready program's own, seen as systemd
 * reporting it active): failures counted while it started are dropped, as they never trigger. */
void ks_tracker_mark_ready(ks_tracker *h);

bool ks_tracker_in_start_period(const ks_tracker *h, uint64_t now_usec);

const char *ks_tracker_state_to_string(ks_tracker_state s);

/* Whether a healthy service's WATCHDOG=1 is due now, or can wait for the next check. A ping every
 * check is what systemd would need for a watchdog of about one interval; for the usual one
 * (failure_threshold x interval + timeout + 30 s) it is mostly traffic to PID 1. A ping is
 * skipped only while half the watchdog would still be left after the latest moment the next
 * check can finish (next_within_usec from now): due when last + watchdog/2 <= now + next_within.
 * last_usec 0: never pinged (due). watchdog_usec 0 or UINT64_MAX: unknown, always due. */
bool ks_watchdog_ping_due(uint64_t last_usec, uint64_t now_usec, uint64_t watchdog_usec, uint64_t next_within_usec);
