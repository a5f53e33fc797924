/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-invocation health state machine (rules in health.h). */
#include <string.h>

#include "health.h"

static const char *const state_table[_KS_HEALTH_STATE_MAX] = {
        [KS_HEALTH_STARTING] = "starting",
        [KS_HEALTH_HEALTHY] = "healthy",
        [KS_HEALTH_UNHEALTHY] = "unhealthy",
        [KS_HEALTH_FAILED] = "failed",
};

const char *ks_health_state_to_string(ks_health_state s) {
        return s >= 0 && s < _KS_HEALTH_STATE_MAX ? state_table[s] : "invalid";
}

static ks_health_params sanitize(const ks_health_params *p) {
        ks_health_params q = *p;

        if (q.failure_threshold < 1)
                q.failure_threshold = 1;
        if (q.success_threshold < 1)
                q.success_threshold = 1;
        return q;
}

unsigned ks_health_begin(ks_health *h, const ks_health_params *p, uint64_t start_usec, bool already_ready) {
        *h = (ks_health) {
                .params = sanitize(p),
                .state = KS_HEALTH_STARTING,
                .start_usec = start_usec,
                .ready = already_ready,
        };
        if (!h->ready && !h->params.gate_ready) {
                h->ready = true;
                return KS_HEALTH_SEND_READY;
        }
        return 0;
}

void ks_health_update_params(ks_health *h, const ks_health_params *p) {
        h->params = sanitize(p);
        /* A lowered threshold takes effect at the next failure, never retroactively. */
        if (h->failures >= h->params.failure_threshold && h->state != KS_HEALTH_FAILED)
                h->failures = h->params.failure_threshold - 1;
}

bool ks_health_in_start_period(const ks_health *h, uint64_t now_usec) {
        if (h->start_period_over)
                return false;
        return now_usec < h->start_usec + h->params.start_period_usec;
}

static unsigned set_state(ks_health *h, ks_health_state s) {
        if (h->state == s)
                return 0;
        h->state = s;
        return KS_HEALTH_STATE_CHANGED;
}

unsigned ks_health_record(ks_health *h, bool passed, uint64_t now_usec) {
        unsigned a = 0;

        /* A restart was requested; nothing more to say to this invocation. */
        if (h->state == KS_HEALTH_FAILED)
                return 0;

        if (passed) {
                h->failures = 0;
                h->successes++;
                h->start_period_over = true;
                if (!h->ready) {
                        h->ready = true;
                        a |= KS_HEALTH_SEND_READY;
                }
                if (h->state == KS_HEALTH_STARTING ||
                    (h->state == KS_HEALTH_UNHEALTHY && h->successes >= h->params.success_threshold))
                        a |= set_state(h, KS_HEALTH_HEALTHY);
                return a | KS_HEALTH_SEND_WATCHDOG;
        }

        h->successes = 0;
        if (ks_health_in_start_period(h, now_usec) && h->state == KS_HEALTH_STARTING)
                return h->ready ? KS_HEALTH_SEND_WATCHDOG : 0;
        h->start_period_over = true;

        if (h->failures < h->params.failure_threshold)
                h->failures++;
        a |= KS_HEALTH_COUNTED_FAILURE;
        if (!h->ready)
                /* Not ready yet: systemd's start timeout is in charge; keep counting for the logs. */
                return a;
        if (h->failures >= h->params.failure_threshold)
                return a | set_state(h, KS_HEALTH_FAILED) | KS_HEALTH_SEND_TRIGGER;
        return a | set_state(h, KS_HEALTH_UNHEALTHY) | KS_HEALTH_SEND_WATCHDOG;
}
