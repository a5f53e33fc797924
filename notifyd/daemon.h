/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon as a whole: the event loop, the bus, the curl loop, the notifier, the unit watcher
 * and the set of monitors (one per service with health checks), kept in step with the
 * definitions on disk across reloads.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "monitor.h"

typedef struct ks_daemon_options {
        const char *search_path;        /* NULL: $KSERVICE_CONFIG_PATH or the default */
        bool reuse_connections;
        const char *state_dir;          /* NULL: $STATE_DIRECTORY or /var/lib/kservice (state-store.h) */
} ks_daemon_options;

typedef struct ks_daemon ks_daemon;

/* Takes references to event and bus (attached to the event by the caller). */
int ks_daemon_new(sd_event *event, sd_bus *bus, const ks_daemon_options *opts, ks_daemon **ret);
ks_daemon *ks_daemon_free(ks_daemon *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_daemon *, ks_daemon_free);

/* Reads the definitions and brings the monitors in line: added ones start watching their
 * unit, removed ones stop, changed ones are reconfigured, unchanged ones are not touched. */
int ks_daemon_reload(ks_daemon *d);

/* A clean stop: relax the watchdog of every service we feed (monitor.h), mark every service
 * paused and write the state of all. */
void ks_daemon_relax_all(ks_daemon *d);

/* The monitors, sorted by unit name (valid until the next reload). */
size_t ks_daemon_n_monitors(const ks_daemon *d);
ks_monitor *ks_daemon_monitor(const ks_daemon *d, size_t i);
/* By NAME, konivrer@NAME or konivrer@NAME.service; NULL if none has health checks. */
ks_monitor *ks_daemon_find(const ks_daemon *d, const char *name);

/* Who else hears the monitors' events (the D-Bus API): called after the daemon has handled them
 * (saved state). removed: a monitor is about to be freed (its definition is gone). */
typedef struct ks_daemon_observer {
        ks_monitor_events events;
        void (*removed)(ks_monitor *m, void *userdata);
} ks_daemon_observer;
void ks_daemon_set_observer(ks_daemon *d, const ks_daemon_observer *o, void *userdata);

/* One line for notifyd's own STATUS=. */
void ks_daemon_status(ks_daemon *d, char *buf, size_t size);
