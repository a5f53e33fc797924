/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One monitored service: its definition (from lib/service.h), its probes, the bus view of its
 * unit, the health tracker of the current invocation and the timer of its next round. Everything
 * notifyd does for one konivrer@NAME.service happens here: rounds of checks (at most one probe
 * in flight), notifications to its MainPID, and its journal messages.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>
#include <systemd/sd-id128.h>

#include "check-loop.h"
#include "due-set.h"
#include "admission.h"
#include "lag-meter.h"
#include "notifier.h"
#include "unit-watch.h"
#include "service.h"

/* What all monitors share; owned by the daemon. */
typedef struct ks_monitor_context {
        sd_event *event;
        ks_check_loop *checks;
        ks_notifier *notifier;
        ks_due_set *due;                /* every service's next round */
        bool reuse_connections;         /* HTTP checks keep their connection between rounds */
        ks_admission *admission;        /* the slots for rounds in flight */
        ks_lag_meter lag;               /* how late the loop runs */
        uint64_t uncounted;             /* timed-out checks not counted because of lag */
        uint64_t uncounted_reported, uncounted_report_at, uncounted_worst;
} ks_monitor_context;


typedef struct ks_monitor ks_monitor;

/* Takes ownership of svc (which must have health checks) on success. */
int ks_monitor_new(ks_monitor_context *ctx, ks_service *svc, ks_monitor **ret);
ks_monitor *ks_monitor_free(ks_monitor *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_monitor *, ks_monitor_free);

const char *ks_monitor_name(const ks_monitor *m);
const char *ks_monitor_unit(const ks_monitor *m);

/* A changed definition. Takes ownership of svc on success. Returns 0 when the health
 * configuration is unchanged (nothing disturbed), 1 when it was applied. */
int ks_monitor_reconfigure(ks_monitor *m, ks_service *svc);

/* Merges the fields named in mask and acts on the result: starts checks for a running
 * invocation (a new one resets the health state and greets the new MainPID), stops them for a
 * stopped unit. Returns true when mask brought an InvocationID not seen before. */
bool ks_monitor_update_unit(ks_monitor *m, const ks_unit_state *st, unsigned mask);

/* notifyd stops cleanly: relax the watchdog of a service we were feeding, so it survives
 * notifyd's absence; restored on the next start (see monitor.c). */
void ks_monitor_relax(ks_monitor *m);

/* notifyd stops checking the service for good (its definition has no health checks any more, or
 * is gone): a running invocation, whose watchdog systemd keeps until it restarts, gets
 * WATCHDOG_USEC=infinity, since nobody will feed it. */
void ks_monitor_release(ks_monitor *m);

bool ks_monitor_is_checking(const ks_monitor *m);
bool ks_monitor_is_ready(const ks_monitor *m);
/* Rounds completed since start (for notifyd's own status). */
uint64_t ks_monitor_rounds(const ks_monitor *m);
