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
 *
 * It never waits for systemd either: a message that finds systemd's receive queue full waits in
 * a bounded queue of ours, merged per PID, and goes out from the event loop when there is room
 * (notifier.c says how). Only ks_notifier_flush(), for the shutdown, waits (bounded).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

#include "macro.h"

enum {
        KS_NOTIFY_READY = 1 << 0,
        KS_NOTIFY_WATCHDOG = 1 << 1,
        KS_NOTIFY_TRIGGER = 1 << 2,
        KS_NOTIFY_WATCHDOG_USEC = 1 << 3,
};

#define KS_STATUS_MAX 128

/* Builds the message ("READY=1\nWATCHDOG=1\nSTATUS=..."); returns its length or -ENOBUFS. */
int ks_notify_format(char *buf, size_t size, unsigned what, uint64_t watchdog_usec, const char *status);

/* One datagram on fd whose SCM_CREDENTIALS say pid sent it, never waiting: 0 or negative errno
 * (-EPERM without CAP_SYS_ADMIN, -ESRCH when pid is gone, -EAGAIN when the receiver is full).
 * What the notifier sends with; privilege.c proves it works before notifyd relies on it. */
int ks_notify_send_as(int fd, pid_t pid, const void *data, size_t len);

typedef struct ks_notifier ks_notifier;

/* At most this many PIDs wait in the queue (one entry per PID, see ks_notifier_send()). */
#define KS_NOTIFIER_QUEUE_MAX 32768

/* Opens a socket towards $NOTIFY_SOCKET, or socket_path when given ("@name": abstract). -ENXIO
 * when neither is set. The socket is connect()ed to systemd's, so that it polls writable exactly
 * when systemd's receive queue has room. event (may be NULL: then only ks_notifier_flush()
 * empties the queue) runs the writer that empties the queue as that room appears. */
int ks_notifier_new(sd_event *event, const char *socket_path, ks_notifier **ret);
ks_notifier *ks_notifier_free(ks_notifier *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_notifier *, ks_notifier_free);

/* Sends the message with pid as the sender, never waiting. Returns 0 when it went out, 1 when it
 * was queued because systemd's queue is full (or its socket is being re-created): it goes out
 * when there is room, in order. Queued messages for one PID merge into one: READY=1,
 * WATCHDOG=trigger and WATCHDOG_USEC= (the newest value) stick, a newer STATUS= replaces an older
 * one, WATCHDOG=1 is said once. -ESRCH for pid <= 0 or a process that is gone, -ENOBUFS when the
 * queue is full of other PIDs. A queued message whose PID is gone by the time it can be sent is
 * dropped (logged at debug level). */
int ks_notifier_send(ks_notifier *n, pid_t pid, unsigned what, uint64_t watchdog_usec, const char *status);

/* Sends what is queued, waiting up to timeout_usec for room: for the last words at shutdown,
 * when nothing else waits on the event loop. 0 when the queue is empty, else -ETIMEDOUT. */
int ks_notifier_flush(ks_notifier *n, uint64_t timeout_usec);

typedef struct ks_notifier_stats {
        uint64_t sent;          /* datagrams that went out */
        /* ... by what they said (one datagram may say several): what PID 1 pays for. STATUS=
         * makes it emit PropertiesChanged when the text changed; WATCHDOG=1 alone only re-arms
         * a timer there. */
        uint64_t sent_ready;            /* with READY=1 */
        uint64_t sent_watchdog;         /* with WATCHDOG=1 */
        uint64_t sent_watchdog_only;    /* ... and nothing else */
        uint64_t sent_trigger;          /* with WATCHDOG=trigger */
        uint64_t sent_watchdog_usec;    /* with WATCHDOG_USEC= */
        uint64_t sent_status;           /* with STATUS= */
        uint64_t queued;        /* messages that had to wait */
        uint64_t merged;        /* ... of which merged into one already waiting for the same PID */
        uint64_t dropped;       /* waited, then refused (PID gone) or thrown away at free */
        uint64_t overflows;     /* refused with -ENOBUFS */
        uint64_t reconnects;    /* connect()s after the first */
        size_t waiting;         /* in the queue now */
} ks_notifier_stats;

void ks_notifier_get_stats(const ks_notifier *n, ks_notifier_stats *ret);

/* The same counters summed over every notifier this process made (notifyd makes one), for
 * notifyd's own STATUS= line, where bench/notifyd reads them. */
void ks_notifier_get_totals(ks_notifier_stats *ret);

/* "sent 5 READY=1, 90 WATCHDOG=1 (80 alone), 12 STATUS=, 0 WATCHDOG=trigger, 5 WATCHDOG_USEC=" */
int ks_notifier_format_stats(const ks_notifier_stats *st, char *buf, size_t size);
