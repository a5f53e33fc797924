/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's state and its reloads (see daemon.h). Monitors are kept in an array sorted by
 * unit name: the unit watcher's signals are looked up by binary search, and a reload is a merge
 * of two sorted lists (old monitors, new definitions).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "daemon.h"
#include "definitions.h"
#include "log.h"
#include "monitor.h"
#include "state-store.h"
#include "string-util.h"
#include "unit-name.h"
#include "unit-watch.h"

/* How long a clean stop waits for systemd to take the relax notifications. */
#define RELAX_FLUSH_USEC (5 * 1000 * 1000ull)

struct ks_daemon {
        sd_event *event;
        sd_bus *bus;
        ks_daemon_options opts;
        ks_monitor_context ctx;
        ks_watcher *watcher;
        ks_state_store *store;
        const ks_daemon_observer *observer;
        void *observer_userdata;
        ks_monitor **monitors;          /* sorted by unit name */
        size_t n_monitors;
        size_t n_definitions;
        unsigned reloads;
};

static int compare_key(const void *key, const void *elem) {
        const ks_monitor *const *m = elem;

        return strcmp(key, ks_monitor_unit(*m));
}

static ks_monitor *find(ks_daemon *d, const char *unit) {
        ks_monitor **m = bsearch(unit, d->monitors, d->n_monitors, sizeof(ks_monitor *), compare_key);

        return m ? *m : NULL;
}

static void on_changed(ks_monitor *m, unsigned what, void *userdata) {
        ks_daemon *d = userdata;

        ks_state_store_touch(d->store, ks_monitor_state_entry(m));
        if (d->observer && d->observer->events.changed)
                d->observer->events.changed(m, what, d->observer_userdata);
}

static void on_round_done(ks_monitor *m, bool passed, const char *reason, uint64_t latency, void *userdata) {
        ks_daemon *d = userdata;

        if (d->observer && d->observer->events.round_done)
                d->observer->events.round_done(m, passed, reason, latency, d->observer_userdata);
}

static const ks_monitor_events monitor_events = {
        .changed = on_changed,
        .round_done = on_round_done,
};

/* A monitor leaves: the observer lets go of it, its last state is written. */
static void drop_monitor(ks_daemon *d, ks_monitor *m) {
        if (d->observer && d->observer->removed)
                d->observer->removed(m, d->observer_userdata);
        ks_state_store_detach(d->store, ks_monitor_state_entry(m));
        ks_monitor_free(m);
}

void ks_daemon_set_observer(ks_daemon *d, const ks_daemon_observer *o, void *userdata) {
        d->observer = o;
        d->observer_userdata = userdata;
}

size_t ks_daemon_n_monitors(const ks_daemon *d) {
        return d->n_monitors;
}

ks_monitor *ks_daemon_monitor(const ks_daemon *d, size_t i) {
        return i < d->n_monitors ? d->monitors[i] : NULL;
}

ks_monitor *ks_daemon_find(const ks_daemon *d, const char *name) {
        _cleanup_free_ char *unit = NULL;
        ks_monitor **m;

        /* NAME, konivrer@NAME or konivrer@NAME.service */
        if (strncmp(name, KS_UNIT_PREFIX, strlen(KS_UNIT_PREFIX)) == 0)
                name += strlen(KS_UNIT_PREFIX);
        size_t n = strlen(name) - (endswith(name, ".service") ? strlen(".service") : 0);

        if (asprintf(&unit, KS_UNIT_PREFIX "%.*s.service", (int) n, name) < 0)
                return NULL;
        m = bsearch(unit, d->monitors, d->n_monitors, sizeof(ks_monitor *), compare_key);
        return m ? *m : NULL;
}

static bool on_unit(const char *unit, const ks_unit_state *st, unsigned mask, void *userdata) {
        ks_daemon *d = userdata;
        ks_monitor *m = find(d, unit);

        return m && ks_monitor_update_unit(m, st, mask);
}

static void on_reloaded(void *userdata) {
        ks_daemon *d = userdata;

        log_info("systemd reloaded its configuration; reading the definitions again.");
        (void) ks_daemon_reload(d);
}

int ks_daemon_new(sd_event *event, sd_bus *bus, const ks_daemon_options *opts, ks_daemon **ret) {
        _cleanup_(ks_daemon_freep) ks_daemon *d = NULL;
        int r;

        d = calloc(1, sizeof *d);
        if (!d)
                return log_oom();
        d->event = sd_event_ref(event);
        d->bus = sd_bus_ref(bus);
        d->opts = *opts;
        d->ctx.event = event;
        d->ctx.reuse_connections = opts->reuse_connections;
        d->ctx.events = &monitor_events;
        d->ctx.events_userdata = d;

        r = ks_state_store_new(event, opts->state_dir, &d->store);
        if (r < 0)
                return log_oom();
        r = ks_admission_new(event, KS_ADMISSION_MAX_DEFAULT, &d->ctx.admission);
        if (r < 0)
                return log_error_errno(r, "Failed to set up round admission: %m");
        r = ks_due_set_new(event, &d->ctx.due);
        if (r < 0)
                return log_error_errno(r, "Failed to set up the check timers: %m");
        r = ks_check_loop_new(event, &d->ctx.checks);
        if (r < 0)
                return log_error_errno(r, "Failed to set up libcurl: %m");
        r = ks_notifier_new(event, NULL, &d->ctx.notifier);
        if (r == -ENXIO)
                r = ks_notifier_new(event, "/run/systemd/notify", &d->ctx.notifier);
        if (r < 0)
                return log_error_errno(r, "Failed to open the notification socket: %m");
        /* ks_watcher_new() logs its failures itself. */
        r = ks_watcher_new(bus, on_unit, on_reloaded, d, &d->watcher);
        if (r < 0)
                return r;

        *ret = TAKE_PTR(d);
        return 0;
}

ks_daemon *ks_daemon_free(ks_daemon *d) {
        if (!d)
                return NULL;
        /* Monitors first (they cancel their transfers), then the curl loop they used. */
        for (size_t i = 0; i < d->n_monitors; i++)
                drop_monitor(d, d->monitors[i]);
        free(d->monitors);
        ks_state_store_free(d->store);
        ks_watcher_free(d->watcher);
        ks_check_loop_free(d->ctx.checks);
        ks_notifier_free(d->ctx.notifier);
        ks_due_set_free(d->ctx.due);
        ks_admission_free(d->ctx.admission);
        sd_bus_unref(d->bus);
        sd_event_unref(d->event);
        return mfree(d);
}

/* The state of definitions that are gone goes after the grace period; a definition that failed
 * to load keeps its state. */
static void clean_state(ks_daemon *d, const ks_definitions *defs) {
        _cleanup_free_ char **keep = calloc(d->n_monitors + defs->n_failed + 1, sizeof(char *));
        size_t n = 0;

        if (!keep)
                return (void) log_oom();
        for (size_t i = 0; i < d->n_monitors; i++)
                keep[n++] = (char *) ks_monitor_name(d->monitors[i]);
        for (size_t i = 0; i < defs->n_failed; i++)
                keep[n++] = defs->failed[i];
        ks_state_store_clean(d->store, keep, n);
}

int ks_daemon_reload(ks_daemon *d) {
        _cleanup_(ks_definitions_freep) ks_definitions *defs = NULL;
        ks_monitor **next;
        size_t n = 0, i = 0, j = 0, added = 0, removed = 0, changed = 0;
        int r;

        r = ks_definitions_load(d->opts.search_path, &defs);
        if (r < 0)
                return r;

        next = calloc(d->n_monitors + defs->n_services + 1, sizeof(ks_monitor *));
        if (!next)
                return log_oom();

        /* Merge: both lists are sorted by unit name. */
        while (i < d->n_monitors || j < defs->n_services) {
                int c = i >= d->n_monitors ? 1 :
                        j >= defs->n_services ? -1 :
                        strcmp(ks_monitor_unit(d->monitors[i]), defs->services[j]->unit);

                if (c == 0) {
                        ks_monitor *m = d->monitors[i++];
                        ks_service *s = defs->services[j];

                        r = ks_monitor_reconfigure(m, s);
                        if (r >= 0) {
                                defs->services[j] = NULL;       /* taken */
                                if (r > 0)
                                        changed++;
                        } else
                                log_warning_errno(r, "%s: cannot apply the changed health checks, keeping the old ones: %m",
                                                  ks_monitor_unit(m));
                        j++;
                        next[n++] = m;
                        /* A reload may have brought a drop-in with another WatchdogSec, which
                         * sets how often the service must be pinged: read the unit again (the
                         * watcher queues the reads, so this costs the bus little). */
                        (void) ks_watcher_refresh(d->watcher, ks_monitor_unit(m));
                } else if (c < 0) {
                        ks_monitor *m = d->monitors[i++];

                        if (ks_definitions_failed(defs, ks_monitor_name(m))) {
                                next[n++] = m;
                                continue;
                        }
                        log_info("%s: no health checks any more, stopped watching it.", ks_monitor_unit(m));
                        ks_watcher_forget(d->watcher, ks_monitor_unit(m));
                        ks_monitor_release(m);
                        drop_monitor(d, m);
                        removed++;
                } else {
                        ks_service *s = defs->services[j++];
                        ks_monitor *m = NULL;

                        r = ks_monitor_new(&d->ctx, s, &m);
                        if (r < 0) {
                                log_warning_errno(r, "%s: cannot set up its health checks: %m", s->unit);
                                continue;
                        }
                        defs->services[j - 1] = NULL;
                        next[n++] = m;
                        added++;
                        /* Its history, before anything happens to it. */
                        r = ks_state_store_attach(d->store, ks_monitor_state_entry(m), ks_monitor_name(m),
                                                  ks_monitor_record_mut(m));
                        if (r < 0)
                                log_warning_errno(r, "%s: its health history will not be kept: %m", ks_monitor_unit(m));
                        ks_state_store_touch(d->store, ks_monitor_state_entry(m));
                        r = ks_watcher_refresh(d->watcher, ks_monitor_unit(m));
                        if (r < 0)
                                log_warning_errno(r, "%s: cannot read its unit's state: %m", ks_monitor_unit(m));
                }
        }

        free(d->monitors);
        d->monitors = next;
        d->n_monitors = n;
        /* With reuse, every service's connection stays in the multi's cache between rounds. */
        if (d->opts.reuse_connections)
                (void) ks_check_loop_set_max_connections(d->ctx.checks, (long) n + 16);
        d->n_definitions = defs->n_total;
        d->reloads++;
        clean_state(d, defs);
        log_info("Definitions: %zu with health checks (%zu added, %zu changed, %zu removed, %zu not loadable).", n,
                 added, changed, removed, defs->n_failed);
        return 0;
}

void ks_daemon_relax_all(ks_daemon *d) {
        ks_notifier_stats st;
        int r;

        for (size_t i = 0; i < d->n_monitors; i++)
                ks_monitor_relax(d->monitors[i]);
        ks_state_store_flush(d->store);
        /* The relax must reach systemd before we exit; the event loop will not run again. */
        r = ks_notifier_flush(d->ctx.notifier, RELAX_FLUSH_USEC);
        if (r < 0) {
                ks_notifier_get_stats(d->ctx.notifier, &st);
                log_warning_errno(r, "%zu notification(s) could not be sent before stopping: %m", st.waiting);
        }
}

void ks_daemon_status(ks_daemon *d, char *buf, size_t size) {
        size_t checking = 0, ready = 0;
        uint64_t rounds = 0;

        for (size_t i = 0; i < d->n_monitors; i++) {
                checking += ks_monitor_is_checking(d->monitors[i]);
                ready += ks_monitor_is_ready(d->monitors[i]);
                rounds += ks_monitor_rounds(d->monitors[i]);
        }
        snprintf(buf, size, "watching %zu services with health checks (%zu running, %zu ready); %llu rounds done",
                 d->n_monitors, checking, ready, (unsigned long long) rounds);
}
