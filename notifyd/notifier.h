/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What notifyd says to systemd on behalf of a service: one notification datagram (the
 * sd_pid_notify() protocol) whose SCM_CREDENTIALS carry the service's MainPID, which systemd
 * attributes to that service (NotifyAccess=main). Needs CAP_SYS_ADMIN (privilege.h proves it).
 *
 * Why not sd_pid_notify() itself: when the kernel refuses the foreign PID (the process just
 * exited, or the privilege is missing) it silently re-sends the same text with notifyd's own
 * credentials. systemd would then apply a service's WATCHDOG=trigger or STATUS= to
 * kservice-notifyd.service. Our sender has no such fallback: a refused datagram is an error.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "macro.h"
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

typedef struct ks_notifier ks_notifier;

/* Opens a socket towards $NOTIFY_SOCKET, or socket_path when given ("@name": abstract). -ENXIO
 * when neither is set. */
int ks_notifier_new(const char *socket_path, ks_notifier **ret);
ks_notifier *ks_notifier_free(ks_notifier *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_notifier *, ks_notifier_free);

/* Sends the message with pid as the sender. -ESRCH for pid <= 0 or a process that is gone. */
int ks_notifier_send(ks_notifier *n, pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status);

/* The short STATUS= line: "healthy; HTTP 200 in 3ms", "unhealthy (2/3); HTTP 500 (expected
 * 2xx) in 4ms", "starting (start period); connection refused". Newlines are replaced. */
void ks_status_line(char *buf, size_t size, const ks_tracker *h, bool in_start_period, const char *last_result,
                    uint64_t latency_usec);
