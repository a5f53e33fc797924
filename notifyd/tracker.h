/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The health state machine of one service invocation, without any I/O: check results go in,
 * what to tell systemd comes out. Rules:
 *  - Until the service is ready, failures never trigger anything: TimeoutStartSec= decides.
 *    With gate_ready, the first passing check makes it ready (READY=1). With self_ready the
 *    program reports readiness itself: READY=1 is never sent, the caller marks it ready.
 *  - In the start period (from the start of the invocation), failures are not counted; the
 *    first pass ends the start period early.
 *  - failure_threshold consecutive failures of a ready service: WATCHDOG=trigger, once.
 *  - After a failure, success_threshold consecutive passes make it healthy again.
 *  - Every result that does not end in a trigger feeds the watchdog of a ready service.
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
        bool gate_ready;                /* READY=1 waits for the first passing check */
        bool self_ready;                /* type=notify: the program sends READY=1 itself, never us;
                                         * the service is ready once systemd says it is active */
} ks_tracker_params;

typedef enum ks_tracker_state {
        KS_TRACKER_STARTING,     /* no verdict yet (start period, or not passed once) */
        KS_TRACKER_HEALTHY,
        KS_TRACKER_UNHEALTHY,    /* failing, below the threshold */
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
        unsigned failures;              /* consecutive, counted */
        unsigned successes;             /* consecutive */
        uint64_t start_usec;            /* monotonic start of the invocation */
} ks_tracker;

/* A new invocation that started at start_usec. already_ready: systemd already has READY=1 for
 * it (notifyd restarted while it ran). Returns actions (SEND_READY when not gating readiness). */
unsigned ks_tracker_begin(ks_tracker *h, const ks_tracker_params *p, uint64_t start_usec, bool already_ready);

/* New parameters for the running invocation (definition changed); counters are kept but clamped. */
void ks_tracker_update_params(ks_tracker *h, const ks_tracker_params *p);

/* Records one check result at now_usec; returns the actions to take. */
unsigned ks_tracker_record(ks_tracker *h, bool passed, uint64_t now_usec);

bool ks_tracker_in_start_period(const ks_tracker *h, uint64_t now_usec);

const char *ks_tracker_state_to_string(ks_tracker_state s);
