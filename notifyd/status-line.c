/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The STATUS= text of a service, from its tracker and its last check. */
#include <inttypes.h>
#include <stdio.h>

#include "status-line.h"

static void format_latency(uint64_t usec, char *buf, size_t size) {
        if (usec < 10000)
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "ms", usec / 1000, (usec % 1000) / 100);
        else if (usec < 10000000)
                snprintf(buf, size, "%" PRIu64 "ms", usec / 1000);
        else
                snprintf(buf, size, "%" PRIu64 "s", usec / 1000000);
}

void ks_status_line(char *buf, size_t size, const ks_tracker *h, bool in_start_period, bool flapping,
                    const char *last_result, uint64_t latency_usec) {
        char state[80], passed[32] = "", lat[24];

        /* Passes in a row that are not enough yet (success_threshold > 1): say why it is not
         * healthy (or ready) after a passing check. */
        if (h->state != KS_TRACKER_HEALTHY && h->state != KS_TRACKER_FAILED && h->successes > 0 &&
            h->successes < h->params.success_threshold)
                snprintf(passed, sizeof passed, "%u/%u passed", h->successes, h->params.success_threshold);

        switch (h->state) {
        case KS_TRACKER_STARTING:
                if (in_start_period)
                        snprintf(state, sizeof state, "starting (start period)");
                else if (passed[0])
                        snprintf(state, sizeof state, "starting (%s)", passed);
                else
                        snprintf(state, sizeof state, "starting");
                break;
        case KS_TRACKER_UNHEALTHY:
        case KS_TRACKER_FAILED:
                snprintf(state, sizeof state, "%s (%u/%u%s%s)", ks_tracker_state_to_string(h->state),
                         h->failures, h->params.failure_threshold, passed[0] ? ", " : "", passed);
                break;
        default:
                snprintf(state, sizeof state, "%s", ks_tracker_state_to_string(h->state));
        }
        if (h->state == KS_TRACKER_STARTING && !h->ready && !in_start_period && h->failures > 0)
                snprintf(state, sizeof state, "not ready (%u failed%s%s)", h->failures, passed[0] ? ", " : "",
                         passed);

        if (!last_result) {
                snprintf(buf, size, "%s%s; no check yet", flapping ? "flapping, " : "", state);
                return;
        }
        format_latency(latency_usec, lat, sizeof lat);
        snprintf(buf, size, "%s%s; %s in %s", flapping ? "flapping, " : "", state, last_result, lat);
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
}
