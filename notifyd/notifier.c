/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sd_pid_notify() on behalf of services, and the STATUS= line (see notifier.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "notifier.h"

int ks_notify_format(char *buf, size_t size, unsigned what, uint64_t watchdog_usec, const char *status) {
        size_t off = 0;
        int k;

#define APPEND(...)                                                   \
        do {                                                          \
                k = snprintf(buf + off, size - off, __VA_ARGS__);     \
                if (k < 0 || (size_t) k >= size - off)                \
                        return -ENOBUFS;                              \
                off += (size_t) k;                                    \
        } while (0)

        if (size == 0)
                return -ENOBUFS;
        buf[0] = 0;
        if (what & KS_NOTIFY_READY)
                APPEND("READY=1\n");
        if (what & KS_NOTIFY_WATCHDOG_USEC)
                APPEND("WATCHDOG_USEC=%" PRIu64 "\n", watchdog_usec);
        if (what & KS_NOTIFY_TRIGGER)
                APPEND("WATCHDOG=trigger\n");
        else if (what & KS_NOTIFY_WATCHDOG)
                APPEND("WATCHDOG=1\n");
        if (status) {
                size_t start;

                APPEND("STATUS=");
                start = off;
                APPEND("%.*s", KS_STATUS_MAX, status);
                for (size_t i = start; i < off; i++)
                        if (buf[i] == '\n' || buf[i] == '\r')
                                buf[i] = ' ';
                APPEND("\n");
        }
#undef APPEND
        return (int) off;
}

int ks_notify_send(pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status) {
        char buf[512];
        int r;

        if (pid <= 0)
                return -ESRCH;
        r = ks_notify_format(buf, sizeof buf, what, watchdog_usec, status);
        if (r < 0)
                return r;
        if (r == 0)
                return 0;
        r = sd_pid_notify(pid, 0, buf);
        if (r < 0)
                return r;
        return r == 0 ? -ENXIO : 0;     /* 0: no $NOTIFY_SOCKET */
}

static void format_latency(uint64_t usec, char *buf, size_t size) {
        if (usec < 10000)
                snprintf(buf, size, "%" PRIu64 ".%" PRIu64 "ms", usec / 1000, (usec % 1000) / 100);
        else if (usec < 10000000)
                snprintf(buf, size, "%" PRIu64 "ms", usec / 1000);
        else
                snprintf(buf, size, "%" PRIu64 "s", usec / 1000000);
}

void ks_status_line(char *buf, size_t size, const ks_tracker *h, bool in_start_period, const char *last_result,
                    uint64_t latency_usec) {
        char state[48], lat[24];

        switch (h->state) {
        case KS_TRACKER_STARTING:
                snprintf(state, sizeof state, "%s", in_start_period ? "starting (start period)" : "starting");
                break;
        case KS_TRACKER_UNHEALTHY:
        case KS_TRACKER_FAILED:
                snprintf(state, sizeof state, "%s (%u/%u)", ks_tracker_state_to_string(h->state), h->failures,
                         h->params.failure_threshold);
                break;
        default:
                snprintf(state, sizeof state, "%s", ks_tracker_state_to_string(h->state));
        }
        if (h->state == KS_TRACKER_STARTING && !h->ready && !in_start_period && h->failures > 0)
                snprintf(state, sizeof state, "not ready (%u failed)", h->failures);

        if (!last_result) {
                snprintf(buf, size, "%s; no check yet", state);
                return;
        }
        format_latency(latency_usec, lat, sizeof lat);
        snprintf(buf, size, "%s; %s in %s", state, last_result, lat);
        for (char *p = buf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
}
