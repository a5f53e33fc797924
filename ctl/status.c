/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservicectl status [NAME...]: for every definition on the search path (or the NAMEs given),
 * the unit's state as systemd reports it over D-Bus, its restart count, and the health line
 * notifyd publishes as the unit's StatusText. A definition that does not load is shown with its
 * first error, so one command answers "is everything up, and if not, why".
 *
 * Exit status follows systemctl's convention: 0 when every service shown is active, 3 when one
 * is not, 1 when a definition is invalid or systemd cannot be asked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "config-set.h"
#include "log.h"
#include "macro.h"
#include "service.h"
#include "status.h"
#include "time-util.h"

typedef struct unit_state {
        char *load_state, *active_state, *sub_state, *status_text, *result, *fragment_path;
        uint32_t main_pid, n_restarts;
} unit_state;

static void unit_state_done(unit_state *u) {
        free(u->load_state);
        free(u->active_state);
        free(u->sub_state);
        free(u->status_text);
        free(u->result);
        free(u->fragment_path);
}

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, char **ret) {
        return sd_bus_get_property_string(bus, "org.freedesktop.systemd1", path, iface, prop, NULL, ret);
}

static int get_u32(sd_bus *bus, const char *path, const char *prop, uint32_t *ret) {
        return sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", path,
                                           "org.freedesktop.systemd1.Service", prop, NULL, 'u', ret);
}

/* The unit's object path is derived from its name, so no GetUnit round trip is needed, and a
 * unit that is not loaded yet answers with LoadState=not-found instead of an error. */
static int unit_state_read(sd_bus *bus, const char *unit, unit_state *ret) {
        _cleanup_free_ char *path = NULL;
        unit_state u = {};
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        const char *uif = "org.freedesktop.systemd1.Unit", *sif = "org.freedesktop.systemd1.Service";
        if ((r = get_string(bus, path, uif, "LoadState", &u.load_state)) < 0 ||
            (r = get_string(bus, path, uif, "ActiveState", &u.active_state)) < 0 ||
            (r = get_string(bus, path, uif, "SubState", &u.sub_state)) < 0 ||
            (r = get_string(bus, path, uif, "FragmentPath", &u.fragment_path)) < 0) {
                unit_state_done(&u);
                return r;
        }
        /* Service properties exist only once the unit is loaded. */
        if (streq(u.load_state, "loaded")) {
                if ((r = get_string(bus, path, sif, "StatusText", &u.status_text)) < 0 ||
                    (r = get_string(bus, path, sif, "Result", &u.result)) < 0 ||
                    (r = get_u32(bus, path, "MainPID", &u.main_pid)) < 0 ||
                    (r = get_u32(bus, path, "NRestarts", &u.n_restarts)) < 0) {
                        unit_state_done(&u);
                        return r;
                }
        }
        *ret = u;
        return 0;
}

/* Loads a definition: its first error, or the service (for its restart policy). */
static int definition_check(const ks_config_entry *e, char **ret_error, ks_service **ret_service) {
        _cleanup_(ks_service_freep) ks_service *s = NULL;
        _cleanup_diag_list_ ks_diag_list diags = {};
        int r;

        r = ks_service_load_files(e->name, e->path, (const char *const *) e->dropins, e->n_dropins, &s, &diags);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || diags.n > 0) {
                char *t = strdup(diags.n > 0 ? diags.items[0].text : strerror(-r));
                if (!t)
                        return -ENOMEM;
                *ret_error = t;
                *ret_service = NULL;
                return 1;
        }
        *ret_error = NULL;
        *ret_service = TAKE_PTR(s);
        return 0;
}

/* Whether the restart policy restarts after a run that ended with this Result. */
static bool restart_covers(ks_restart restart, const char *result) {
        switch (restart) {
        case KS_RESTART_ALWAYS:
                return true;
        case KS_RESTART_ON_FAILURE:
                return !streq(result, "success");
        case KS_RESTART_ON_ABNORMAL:
                return streq(result, "signal") || streq(result, "core-dump") || streq(result, "timeout") ||
                       streq(result, "watchdog");
        case KS_RESTART_ON_WATCHDOG:
                return streq(result, "watchdog");
        default:
                return false;
        }
}

/* systemd's NRestarts counts the restarts it scheduled, and when the start limit stops it, the
 * one it then refused too: with max_restarts = 3 a service that gave up shows NRestarts=4 after
 * 3 restarts. A failed unit whose Result the restart policy covers was not restarted only because
 * of that limit; report the restarts that happened, which the user compares with max_restarts.
 * Returns whether the unit gave up at the limit. */
static bool restarts_done(const ks_service *s, const unit_state *u, uint32_t *ret) {
        *ret = u->n_restarts;
        if (!s || !u->result || !streq(u->active_state, "failed") || s->max_restarts == KS_RESTARTS_INFINITY)
                return false;
        if (streq(u->result, "start-limit-hit")) {
                /* restart = "always" after clean exits: the refused one was an automatic restart,
                 * counted as the others (Result is only start-limit-hit because the runs
                 * succeeded). Otherwise a start refused by the limit, no restart counted for it. */
                if (s->restart == KS_RESTART_ALWAYS && u->n_restarts > 0)
                        *ret = u->n_restarts - 1;
                return true;
        }
        if (!restart_covers(s->restart, u->result) || u->n_restarts == 0)
                return false;
        *ret = u->n_restarts - 1;
        return true;
}

enum { STATUS_OK = 0, STATUS_FAILED = 1, STATUS_INACTIVE = 3 };

/* The installed template konivrer@.service, which systemd loads when no unit was generated. */
static bool endswith_fallback(const char *path) {
        const char *slash = strrchr(path, '/');
        return streq(slash ? slash + 1 : path, KS_UNIT_PREFIX KS_UNIT_SUFFIX);
}

static int show_one(sd_bus *bus, const ks_config_entry *e, bool verbose, int *worst) {
        _cleanup_free_ char *unit = NULL, *error = NULL;
        _cleanup_(ks_service_freep) ks_service *s = NULL;
        _cleanup_(unit_state_done) unit_state u = {};
        char active[64];
        uint32_t restarts;
        bool gave_up;
        int r;

        if (asprintf(&unit, KS_UNIT_PREFIX "%s" KS_UNIT_SUFFIX, e->name) < 0)
                return -ENOMEM;

        if (e->masked) {
                printf(verbose ? "%s: masked by %s\n" : "%-16s masked (%s)\n", e->name, e->path);
                return 0;
        }
        r = definition_check(e, &error, &s);
        if (r < 0)
                return r;
        if (error)
                *worst = STATUS_FAILED;

        r = unit_state_read(bus, unit, &u);
        if (r < 0) {
                log_error_errno(r, "Failed to read the state of %s: %m", unit);
                *worst = STATUS_FAILED;
                return 0;
        }
        snprintf(active, sizeof(active), "%s (%s)", u.active_state, u.sub_state);
        if (!streq(u.active_state, "active") && !streq(u.active_state, "reloading") && *worst == STATUS_OK)
                *worst = STATUS_INACTIVE;

        gave_up = restarts_done(s, &u, &restarts);

        if (!verbose) {
                char nr[16] = "-";
                if (streq(u.load_state, "loaded"))
                        snprintf(nr, sizeof(nr), "%" PRIu32, restarts);
                printf("%-16s %-20s %-8s %s\n", e->name, active, nr,
                       error ? error : (u.status_text && u.status_text[0] ? u.status_text : "-"));
                return 0;
        }

        printf("%s - %s\n", e->name, unit);
        printf("    Definition: %s\n", e->path);
        for (size_t i = 0; i < e->n_dropins; i++)
                printf("       Drop-in: %s\n", e->dropins[i]);
        if (error)
                printf("         Error: %s\n", error);
        /* LoadState says "loaded" for the fallback template too: say which unit systemd has. */
        if (streq(u.load_state, "loaded") && u.fragment_path && endswith_fallback(u.fragment_path))
                printf("        Loaded: fallback %s, which fails: %s\n", u.fragment_path,
                       error ? "the definition is invalid, no unit was generated"
                             : "no unit generated yet (run systemctl daemon-reload)");
        else
                printf("        Loaded: %s\n", u.load_state);
        printf("        Active: %s\n", active);
        if (streq(u.load_state, "loaded")) {
                if (u.main_pid > 0)
                        printf("      Main PID: %" PRIu32 "\n", u.main_pid);
                printf("      Restarts: %" PRIu32, restarts);
                if (gave_up) {
                        char window[64];
                        if (ks_format_timespan(window, sizeof window, s->restart_window_usec) < 0)
                                snprintf(window, sizeof window, "its window");
                        printf(" (limit of %" PRIu32 " in %s reached, gave up)", s->max_restarts, window);
                }
                putchar('\n');
                if (u.result && !streq(u.result, "success"))
                        printf("        Result: %s\n", u.result);
                if (u.status_text && u.status_text[0])
                        printf("        Health: %s\n", u.status_text);
        }
        printf("       Journal: journalctl -u %s\n", unit);
        return 0;
}

int verb_status(int argc, char **argv) {
        _cleanup_(ks_config_set_freep) ks_config_set *set = NULL;
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int worst = STATUS_OK, r;

        r = ks_config_set_load(NULL, &set);
        if (r < 0) {
                log_error_errno(r, "Failed to read the definitions on %s: %m", ks_config_search_path());
                return STATUS_FAILED;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                log_error_errno(r, "Failed to connect to the system bus: %m");
                return STATUS_FAILED;
        }

        for (size_t i = 0; i < set->n_problems; i++) {
                log_error("%s: %s", set->problems[i].path, set->problems[i].message);
                worst = STATUS_FAILED;
        }

        if (argc == 0) {
                if (set->n_entries == 0) {
                        printf("No definitions on %s.\n", ks_config_search_path());
                        return worst;
                }
                printf("%-16s %-20s %-8s %s\n", "NAME", "ACTIVE", "RESTARTS", "HEALTH");
                for (size_t i = 0; i < set->n_entries; i++) {
                        r = show_one(bus, &set->entries[i], false, &worst);
                        if (r < 0)
                                goto fail;
                }
                return worst;
        }

        for (int i = 0; i < argc; i++) {
                const ks_config_entry *e = ks_config_set_find(set, argv[i]);
                if (!e) {
                        log_error("No definition %s.toml on %s.", argv[i], ks_config_search_path());
                        worst = STATUS_FAILED;
                        continue;
                }
                if (i > 0)
                        putchar('\n');
                r = show_one(bus, e, true, &worst);
                if (r < 0)
                        goto fail;
        }
        return worst;

fail:
        log_error_errno(r, "status: %m");
        return STATUS_FAILED;
}
