/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Watching konivrer@NAME.service units over the system bus: Subscribe to the manager, one match
 * for PropertiesChanged under /org/freedesktop/systemd1/unit (filtered here by object path, which
 * encodes the unit name), one for the manager's Reloading signal, and on request a full read of
 * the few properties notifyd needs (ActiveState, SubState, InvocationID, MainPID,
 * ExecMainStartTimestampMonotonic, WatchdogUSec), each delivered as it arrives. Everything else is skipped
 * unread.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-id128.h>

#include "macro.h"

/* The unit's properties notifyd needs, as read from systemd. */
typedef struct ks_unit_state {
        char active_state[32];
        char sub_state[32];
        uint32_t main_pid;
        sd_id128_t invocation_id;
        uint64_t main_start_usec;       /* ExecMainStartTimestampMonotonic */
        uint64_t watchdog_usec;         /* WatchdogUSec: what systemd enforces (drop-ins included) */
        uint32_t n_restarts;            /* NRestarts: automatic restarts since the unit was loaded or
                                         * last stopped by hand */
} ks_unit_state;

enum {
        KS_UNIT_ACTIVE_STATE = 1 << 0,
        KS_UNIT_SUB_STATE = 1 << 1,
        KS_UNIT_MAIN_PID = 1 << 2,
        KS_UNIT_INVOCATION_ID = 1 << 3,
        KS_UNIT_MAIN_START = 1 << 4,
        KS_UNIT_WATCHDOG_USEC = 1 << 5,
        KS_UNIT_N_RESTARTS = 1 << 6,
};

typedef struct ks_watcher ks_watcher;

/* Returns true when the unit's properties should be read again in full: a new invocation, whose
 * WatchdogUSec systemd fixed at its start without a signal. systemd sends InvocationID with every
 * PropertiesChanged of the Unit interface (every STATUS= of a service makes one), so only the
 * receiver, which knows the invocation it tracks, can tell a new one. */
typedef bool (*ks_watch_unit_t)(const char *unit, const ks_unit_state *st, unsigned mask, void *userdata);
typedef void (*ks_watch_reloaded_t)(void *userdata);

int ks_watcher_new(sd_bus *bus, ks_watch_unit_t on_unit, ks_watch_reloaded_t on_reloaded, void *userdata,
                   ks_watcher **ret);
ks_watcher *ks_watcher_free(ks_watcher *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_watcher *, ks_watcher_free);

/* Reads the unit's properties anew (asynchronously); the result arrives through on_unit. The
 * reads are queued (a unit at most once) and a few run at a time, so that any number of units
 * stays within the bus's limit of pending calls; a read that fails for a passing reason (the bus
 * refused the call, no reply in time) is retried after a delay until it succeeds or the unit is
 * forgotten. */
int ks_watcher_refresh(ks_watcher *w, const char *unit);

/* The unit is not wanted any more: drops its queued or running read, and its retries. */
void ks_watcher_forget(ks_watcher *w, const char *unit);

/* Units whose read is queued, running or waiting for a retry. */
size_t ks_watcher_refreshes_queued(const ks_watcher *w);

/* The D-Bus object path of a unit, as systemd names it. */
int ks_unit_object_path(const char *unit, char **ret);
