/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What notifyd says to systemd on behalf of a service: one sd_pid_notify() datagram with the
 * service's MainPID as sender, which systemd attributes to that service (NotifyAccess=main).
 * Needs CAP_SYS_ADMIN (privilege.h proves it at start).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tracker.h"

enum {
        KS_NOTIFY_READY = 1 << 0,
        KS_NOTIFY_WATCHDOG = 1 << 1,
        KS_NOTIFY_TRIGGER = 1 << 2,
        KS_NOTIFY_WATCHDOG_USEC = 1 << 3,
};

#define KS_STATUS_MAX 128

/* Builds the message ("READY=1\nWATCHDOG=1\nSTATUS=..."); returns its length or -ENOBUFS. */
int ks_notify_format(char *buf, size_t size, unsigned what, uint64_t watchdog_usec, const char *status);

/* Sends it with pid as the sender. -ESRCH for pid <= 0. */
int ks_notify_send(pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status);

/* The short STATUS= line: "healthy; HTTP 200 in 3ms", "unhealthy (2/3); HTTP 500 (expected
 * 2xx) in 4ms", "starting (start period); connection refused". Newlines are replaced. */
void ks_status_line(char *buf, size_t size, const ks_tracker *h, bool in_start_period, const char *last_result,
                    uint64_t latency_usec);
