/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The API object (api.h): the bus name, the manager object /org/kservice/Notifyd1 with its
 * methods, and the daemon's observer that turns the monitors' events into PropertiesChanged
 * (api-service.c) and into the replies of the CheckNow calls waiting for a round.
 *
 * Cost per round: a round's changed() with KS_RECORD_ROUND alone returns at once, and round_done()
 * returns at once while no CheckNow waits; only state changes and waiting calls cost anything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api-internal.h"
#include "health-record.h"
#include "list.h"
#include "log.h"
#include "monitor.h"

/* ---- CheckNow calls waiting for their monitor's round ---- */

static void call_free(ks_api *a, ks_api_call *c) {
        LIST_REMOVE(a->calls, c);
        a->n_calls--;
        sd_bus_message_unref(c->message);
        free(c);
}

static bool call_is_waiting(ks_api *a, ks_api_call *c) {
        for (ks_api_call *i = a->calls; i; i = i->next)
                if (i == c)
                        return true;
        return false;
}

/* Answers every call waiting for m (all of them when m is NULL) with this error: "UNIT: why". */
static void calls_fail(ks_api *a, ks_monitor *m, const char *error, const char *why) {
        ks_api_call *next;
        int r;

        for (ks_api_call *c = a->calls; c; c = next) {
                next = c->next;
                if (m && c->monitor != m)
                        continue;
                r = sd_bus_reply_method_errorf(c->message, error, "%s: %s", ks_monitor_unit(c->monitor), why);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a CheckNow call: %m");
                call_free(a, c);
        }
}

/* ---- the daemon's observer ---- */

static void on_changed(ks_monitor *m, unsigned what, void *userdata) {
        /* Every round says KS_RECORD_ROUND: nothing to signal, at no cost. */
        if (!(what & KS_RECORD_STATE_CHANGES))
                return;
        ks_api_service_changed(userdata, m, what);
}

/* (bst): built by hand, the reason made UTF-8 clean. */
static int reply_round(sd_bus_message *call, bool passed, const char *reason, uint64_t latency_usec) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_append(reply, "b", (int) passed);
        if (r >= 0)
                r = ks_api_append_string(reply, reason);
        if (r >= 0)
                r = sd_bus_message_append(reply, "t", latency_usec);
        if (r >= 0)
                r = sd_bus_send(NULL, reply, NULL);
        return r;
}

static void on_round_done(ks_monitor *m, bool passed, const char *reason, uint64_t latency_usec, void *userdata) {
        ks_api *a = userdata;
        ks_api_call *next;
        int r;

        if (a->n_calls == 0)
                return;
        if (!reason) {
                calls_fail(a, m, KS_API_ERROR_NOT_RUNNING, "stopped running, nothing to check.");
                return;
        }
        for (ks_api_call *c = a->calls; c; c = next) {
                next = c->next;
                if (c->monitor != m)
                        continue;
                r = reply_round(c->message, passed, reason, latency_usec);
                if (r < 0)
                        log_debug_errno(r, "Failed to answer a CheckNow call: %m");
                call_free(a, c);
        }
}

static void on_removed(ks_monitor *m, void *userdata) {
        calls_fail(userdata, m, KS_API_ERROR_NO_SUCH_SERVICE, "removed (its definition is gone) while its check ran.");
}

static const ks_daemon_observer observer = {
        .events = {
                .changed = on_changed,
                .round_done = on_round_done,
        },
        .removed = on_removed,
};

/* ---- the manager object ---- */

/* Root only: the caller's effective UID (kservice-notifyd(8): no polkit). */
static int check_privileged(ks_api *a, sd_bus_message *m, sd_bus_error *error) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t euid;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r >= 0)
                r = sd_bus_creds_get_euid(creds, &euid);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "%s needs root; cannot tell the caller's user: %s.",
                                         sd_bus_message_get_member(m), strerror(-r));
        if (euid != a->privileged_uid)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "%s needs root (caller's UID is %u).",
                                         sd_bus_message_get_member(m), (unsigned) euid);
        return 0;
}

/* The service the call's first argument names: NAME, konivrer@NAME or konivrer@NAME.service;
 * for root_only methods, once the caller is known to be root. */
static int read_service(ks_api *a, sd_bus_message *m, bool root_only, ks_monitor **ret, sd_bus_error *error) {
        const char *name;
        ks_monitor *mon;
        int r;

        if (root_only) {
                r = check_privileged(a, m, error);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        mon = ks_daemon_find(a->daemon, name);
        if (!mon)
                return sd_bus_error_setf(error, KS_API_ERROR_NO_SUCH_SERVICE, "No service '%s' with health checks.",
                                         name);
        *ret = mon;
        return 0;
}

static int compare_names(const void *x, const void *y) {
        ks_monitor *const *a = x, *const *b = y;

        return strcmp(ks_monitor_name(*a), ks_monitor_name(*b));
}

static int method_list_services(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ ks_monitor **v = NULL;
        ks_api *a = userdata;
        size_t n = ks_daemon_n_monitors(a->daemon);
        int r;

        /* The daemon sorts by unit name, where "a-b" comes before "a": sorted by NAME here. */
        v = calloc(n ?: 1, sizeof(ks_monitor *));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                v[i] = ks_daemon_monitor(a->daemon, i);
        qsort(v, n, sizeof(ks_monitor *), compare_names);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ssosdbtt)");
        for (size_t i = 0; r >= 0 && i < n; i++) {
                const ks_health_record *rec = ks_monitor_record(v[i]);
                const char *health = ks_health_state_to_string(ks_health_record_health(rec));
                _cleanup_free_ char *path = NULL;

                r = ks_api_service_path(ks_monitor_name(v[i]), &path);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "(ssosdbtt)", ks_monitor_name(v[i]), ks_monitor_unit(v[i]),
                                                  path, health ?: "unknown", ks_health_record_score(rec),
                                                  (int) ks_flap_is_flapping(&rec->flap),
                                                  rec->st->restarts_by_kservice, rec->st->restarts_seen);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int method_get_service(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL;
        ks_monitor *mon;
        int r;

        r = read_service(userdata, m, false, &mon, error);
        if (r < 0)
                return r;
        r = ks_api_service_path(ks_monitor_name(mon), &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "o", path);
}

static int method_check_now(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ks_api *a = userdata;
        ks_api_call *c;
        ks_monitor *mon;
        int r;

        r = read_service(a, m, true, &mon, error);
        if (r < 0)
                return r;

        /* Waiting before the round starts, in case the monitor reports it at once. */
        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->monitor = mon;
        c->message = sd_bus_message_ref(m);
        LIST_PREPEND(a->calls, c);
        a->n_calls++;

        r = ks_monitor_check_now(mon);
        if (r < 0 && call_is_waiting(a, c)) {
                call_free(a, c);
                if (r == -ESRCH)
                        return sd_bus_error_setf(error, KS_API_ERROR_NOT_RUNNING, "%s is not running: nothing to check.",
                                                 ks_monitor_unit(mon));
                return r;
        }
        /* Answered by on_round_done() (or on_removed(), or ks_api_free()). */
        return 1;
}

static int method_reset_history(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        ks_api *a = userdata;
        ks_monitor *mon;
        int r;

        r = read_service(a, m, true, &mon, error);
        if (r < 0)
                return r;
        log_info("%s: history reset over D-Bus.", ks_monitor_unit(mon));
        ks_monitor_reset_history(mon);
        return sd_bus_reply_method_return(m, NULL);
}

static int get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                       sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

static int get_n_services(sd_bus *bus, const char *path, const char *interface, const char *property,
                          sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ks_api *a = userdata;

        return sd_bus_message_append(reply, "u", (uint32_t) ks_daemon_n_monitors(a->daemon));
}

/* Every method UNPRIVILEGED: sd-bus would otherwise ask for CAP_SYS_ADMIN; the root-only ones
 * check the caller themselves (check_privileged()). NServices changes on a reload, of which the
 * API hears nothing: not signalled. */
static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("NServices", "u", get_n_services, 0, 0),
        SD_BUS_METHOD_WITH_NAMES("ListServices", NULL, , "a(ssosdbtt)", SD_BUS_PARAM(services),
                                 method_list_services, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("GetService", "s", SD_BUS_PARAM(name), "o", SD_BUS_PARAM(object),
                                 method_get_service, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("CheckNow", "s", SD_BUS_PARAM(name), "bst",
                                 SD_BUS_PARAM(passed) SD_BUS_PARAM(reason) SD_BUS_PARAM(latency_usec),
                                 method_check_now, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_NAMES("ResetHistory", "s", SD_BUS_PARAM(name), NULL, ,
                                 method_reset_history, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

/* ---- the name ---- */

static int on_name_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ks_api *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        uint32_t ret;
        int r;

        a->name_slot = sd_bus_slot_unref(a->name_slot);
        if (e) {
                log_warning("Failed to acquire the bus name %s, the D-Bus API is not available: %s",
                            KS_API_BUS_NAME, e->message ?: e->name);
                return 0;
        }
        r = sd_bus_message_read(reply, "u", &ret);
        if (r < 0)
                return log_warning_errno(r, "Failed to acquire the bus name %s: bad reply: %m", KS_API_BUS_NAME), 0;
        if (ret == 3)   /* DBUS_REQUEST_NAME_REPLY_EXISTS */
                log_warning("The bus name %s is owned by another process: the D-Bus API is not available.",
                            KS_API_BUS_NAME);
        else
                log_debug("Acquired the bus name %s.", KS_API_BUS_NAME);
        return 0;
}

/* ---- the object ---- */

int ks_api_new(sd_bus *bus, ks_daemon *d, ks_api **ret) {
        _cleanup_(ks_api_freep) ks_api *a = NULL;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return log_oom();
        a->bus = sd_bus_ref(bus);
        a->daemon = d;
        a->privileged_uid = 0;

        r = sd_bus_add_object_vtable(bus, &a->manager_slot, KS_API_MANAGER_PATH, KS_API_MANAGER_INTERFACE,
                                     manager_vtable, a);
        if (r >= 0)
                r = sd_bus_add_fallback_vtable(bus, &a->service_slot, KS_API_SERVICE_PREFIX, KS_API_SERVICE_INTERFACE,
                                               ks_api_service_vtable, ks_api_service_find, a);
        if (r >= 0)
                r = sd_bus_add_node_enumerator(bus, &a->enumerator_slot, KS_API_SERVICE_PREFIX,
                                               ks_api_service_enumerate, a);
        if (r < 0)
                return log_warning_errno(r, "Failed to register the D-Bus API's objects: %m");

        ks_daemon_set_observer(d, &observer, a);

        r = sd_bus_request_name_async(bus, &a->name_slot, KS_API_BUS_NAME, 0, on_name_reply, a);
        if (r < 0)
                log_warning_errno(r, "Failed to request the bus name %s, the D-Bus API is not available: %m",
                                  KS_API_BUS_NAME);
        *ret = TAKE_PTR(a);
        return 0;
}

ks_api *ks_api_free(ks_api *a) {
        if (!a)
                return NULL;
        calls_fail(a, NULL, SD_BUS_ERROR_FAILED, "kservice-notifyd is stopping, the check was not waited for.");
        if (a->daemon)
                ks_daemon_set_observer(a->daemon, NULL, NULL);
        sd_bus_slot_unref(a->name_slot);
        sd_bus_slot_unref(a->enumerator_slot);
        sd_bus_slot_unref(a->service_slot);
        sd_bus_slot_unref(a->manager_slot);
        sd_bus_unref(a->bus);
        return mfree(a);
}

void ks_api_set_privileged_uid(ks_api *a, uid_t uid) {
        a->privileged_uid = uid;
}
