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
#include "health-record.h"
#include "due-set.h"
#include "admission.h"
#include "lag-meter.h"
#include "notifier.h"
#include "state-store.h"
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
        const struct ks_monitor_events *events;  /* may be NULL */
        void *events_userdata;
} ks_monitor_context;

typedef struct ks_monitor ks_monitor;

/* What a monitor tells its owner (the daemon), synchronously. */
typedef struct ks_monitor_events {
        /* The record changed: what is a KS_RECORD_* mask (health-record.h), never 0. Called for
         * state changes and, with KS_RECORD_ROUND alone, after every round. */
        void (*changed)(ks_monitor *m, unsigned what, void *userdata);
        /* A round completed (passed, reason, latency), or, with reason NULL, the checks stopped
         * (the unit is not running any more): for callers waiting in ks_monitor_check_now(). */
        void (*round_done)(ks_monitor *m, bool passed, const char *reason, uint64_t latency_usec,
                           void *userdata);
} ks_monitor_events;

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

/* The service's health record (health-record.h): what the API shows and the state file keeps. */
const ks_health_record *ks_monitor_record(const ks_monitor *m);
ks_health_record *ks_monitor_record_mut(ks_monitor *m);
/* Where the daemon's state store keeps track of the record. */
ks_state_entry *ks_monitor_state_entry(ks_monitor *m);
/* What check i is, e.g. "GET http://127.0.0.1:8080/healthz" (i < the record's n_checks). */
void ks_monitor_describe_check(const ks_monitor *m, size_t i, char *buf, size_t size);

/* Runs a round now (CheckNow): 0 when one started or one is already in flight (its end is
 * reported through events->round_done), -ESRCH when the unit is not running (nothing to check). */
int ks_monitor_check_now(ks_monitor *m);

/* ResetHistory (health-record.h); reported through events->changed. */
void ks_monitor_reset_history(ks_monitor *m);
