/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-invocation health state machine (rules in tracker.h). */
#include <limits.h>
#include <string.h>

#include "tracker.h"

static const char *const state_table[_KS_TRACKER_STATE_MAX] = {
        [KS_TRACKER_STARTING] = "starting",
        [KS_TRACKER_HEALTHY] = "healthy",
        [KS_TRACKER_UNHEALTHY] = "unhealthy",
        [KS_TRACKER_FAILED] = "failed",
};

const char *ks_tracker_state_to_string(ks_tracker_state s) {
        return s >= 0 && s < _KS_TRACKER_STATE_MAX ? state_table[s] : "invalid";
}

static ks_tracker_params sanitize(const ks_tracker_params *p) {
        ks_tracker_params q = *p;

        if (q.failure_threshold < 1)
                q.failure_threshold = 1;
        if (q.success_threshold < 1)
                q.success_threshold = 1;
        return q;
}

unsigned ks_tracker_begin(ks_tracker *h, const ks_tracker_params *p, uint64_t start_usec, bool already_ready) {
        *h = (ks_tracker) {
                .params = sanitize(p),
                .state = KS_TRACKER_STARTING,
                .start_usec = start_usec,
                .ready = already_ready,
        };
        if (!h->ready && !h->params.gate_ready && !h->params.self_ready) {
                h->ready = true;
                return KS_TRACKER_SEND_READY;
        }
        return 0;
}

void ks_tracker_update_params(ks_tracker *h, const ks_tracker_params *p) {
        h->params = sanitize(p);
        /* A lowered failure_threshold takes effect at the next failure, never retroactively (and a
         * lowered success_threshold at the next pass). */
        if (h->failures >= h->params.failure_threshold && h->state != KS_TRACKER_FAILED)
                h->failures = h->params.failure_threshold - 1;
}

bool ks_tracker_in_start_period(const ks_tracker *h, uint64_t now_usec) {
        if (h->start_period_over)
                return false;
        return now_usec < h->start_usec + h->params.start_period_usec;
}

static unsigned set_state(ks_tracker *h, ks_tracker_state s) {
        if (h->state == s)
                return 0;
        h->state = s;
        return KS_TRACKER_STATE_CHANGED;
}

unsigned ks_tracker_record(ks_tracker *h, bool passed, uint64_t now_usec) {
        unsigned a = 0;

        /* A restart was requested; nothing more to say to this invocation. */
        if (h->state == KS_TRACKER_FAILED)
                return 0;

        if (passed) {
                if (h->successes < UINT_MAX)
                        h->successes++;
                h->start_period_over = true;
                /* Fewer passes in a row than success_threshold: not healthy (again) nor ready yet,
                 * and the failures since the service was last healthy still count. */
                if (h->successes < h->params.success_threshold)
                        return KS_TRACKER_SEND_WATCHDOG;
                h->failures = 0;
                if (!h->ready && !h->params.self_ready) {
                        h->ready = true;
                        a |= KS_TRACKER_SEND_READY;
                }
                return a | set_state(h, KS_TRACKER_HEALTHY) | KS_TRACKER_SEND_WATCHDOG;
        }

        h->successes = 0;
        if (ks_tracker_in_start_period(h, now_usec) && h->state == KS_TRACKER_STARTING)
                return h->ready ? KS_TRACKER_SEND_WATCHDOG : 0;
        h->start_period_over = true;

        if (h->failures < h->params.failure_threshold)
                h->failures++;
        a |= KS_TRACKER_COUNTED_FAILURE;
        if (!h->ready)
                /* Not ready yet: systemd's start timeout is in charge; keep counting for the logs. */
                return a;
        if (h->failures >= h->params.failure_threshold)
                return a | set_state(h, KS_TRACKER_FAILED) | KS_TRACKER_SEND_TRIGGER;
        return a | set_state(h, KS_TRACKER_UNHEALTHY) | KS_TRACKER_SEND_WATCHDOG;
}

void ks_tracker_mark_ready(ks_tracker *h) {
        if (h->ready)
                return;
        h->ready = true;
        /* They triggered nothing while it started, and start no count towards a restart now. */
        h->failures = 0;
}

bool ks_watchdog_ping_due(uint64_t last_usec, uint64_t now_usec, uint64_t watchdog_usec, uint64_t next_within_usec) {
        if (last_usec == 0 || watchdog_usec == 0 || watchdog_usec == UINT64_MAX)
                return true;
        if (now_usec < last_usec)
                return true;
        /* Saturating: a huge next_within_usec means "due". */
        if (next_within_usec > UINT64_MAX - now_usec)
                return true;
        return last_usec + watchdog_usec / 2 <= now_usec + next_within_usec;
}
