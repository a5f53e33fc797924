/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kservicectl on the system bus: systemd's unit state and notifyd's health for one view. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "view-bus.h"

#define SYSTEMD_SERVICE "org.freedesktop.systemd1"

static int get_string(sd_bus *bus, const char *path, const char *iface, const char *prop, sd_bus_error *error,
                      char **ret) {
        return sd_bus_get_property_string(bus, SYSTEMD_SERVICE, path, iface, prop, error, ret);
}

int ks_view_read_unit(sd_bus *bus, ks_service_view *v) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        ks_unit_info u = {};
        const char *uif = "org.freedesktop.systemd1.Unit", *sif = "org.freedesktop.systemd1.Service";
        int r;

        /* The unit's object path is derived from its name, so no GetUnit round trip is needed,
         * and a unit that is not loaded yet answers with LoadState=not-found instead of an error. */
        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", v->unit, &path);
        if (r < 0)
                return r;
        if ((r = get_string(bus, path, uif, "LoadState", &error, &u.load_state)) < 0 ||
            (r = get_string(bus, path, uif, "ActiveState", &error, &u.active_state)) < 0 ||
            (r = get_string(bus, path, uif, "SubState", &error, &u.sub_state)) < 0 ||
            (r = get_string(bus, path, uif, "FragmentPath", &error, &u.fragment_path)) < 0 ||
            (r = sd_bus_get_property_trivial(bus, SYSTEMD_SERVICE, path, uif, "StateChangeTimestamp", &error,
                                             't', &u.state_change_usec)) < 0)
                goto fail;
        /* Service properties exist only once the unit is loaded. */
        if (streq(u.load_state, "loaded") &&
            ((r = get_string(bus, path, sif, "Result", &error, &u.result)) < 0 ||
             (r = sd_bus_get_property_trivial(bus, SYSTEMD_SERVICE, path, sif, "MainPID", &error, 'u',
                                              &u.main_pid)) < 0 ||
             (r = sd_bus_get_property_trivial(bus, SYSTEMD_SERVICE, path, sif, "NRestarts", &error, 'u',
                                              &u.n_restarts)) < 0))
                goto fail;
        v->u = u;
        v->unit_read = true;
        return 0;

fail:
        ks_unit_info_done(&u);
        if (r == -ENOMEM)
                return r;
        if (asprintf(&v->unit_error, "cannot read the state of %s from systemd: %s", v->unit,
                     sd_bus_error_is_set(&error) ? error.message : strerror(-r)) < 0)
                return -ENOMEM;
        return 0;
}

bool ks_notifyd_error_is_absent(const sd_bus_error *error) {
        return sd_bus_error_has_name(error, "org.freedesktop.DBus.Error.ServiceUnknown") ||
               sd_bus_error_has_name(error, "org.freedesktop.DBus.Error.NameHasNoOwner");
}

/* A method call on notifyd that never bus-activates it. */
static int notifyd_call(sd_bus *bus, const char *path, const char *iface, const char *method, const char *arg,
                        sd_bus_error *error, sd_bus_message **reply) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, KS_NOTIFYD_SERVICE, path, iface, method);
        if (r < 0)
                return r;
        r = sd_bus_message_set_auto_start(m, false);
        if (r < 0)
                return r;
        if (arg) {
                r = sd_bus_message_append(m, "s", arg);
                if (r < 0)
                        return r;
        }
        return sd_bus_call(bus, m, 0, error, reply);
}

static int read_simple(sd_bus_message *m, ks_health_field_type type, void *field) {
        static const char sig[] = {
                [KS_FIELD_STRING] = 's', [KS_FIELD_U32] = 'u', [KS_FIELD_U64] = 't',
                [KS_FIELD_TIME] = 't',   [KS_FIELD_BOOL] = 'b', [KS_FIELD_DOUBLE] = 'd',
        };
        const char s[2] = { sig[type], 0 };
        int r;

        r = sd_bus_message_enter_container(m, 'v', s);
        if (r < 0)
                return r;
        if (type == KS_FIELD_STRING) {
                const char *v;
                r = sd_bus_message_read_basic(m, 's', &v);
                if (r < 0)
                        return r;
                char *copy = strdup(v);
                if (!copy)
                        return -ENOMEM;
                free(*(char **) field);
                *(char **) field = copy;
        } else if (type == KS_FIELD_BOOL) {
                int b;
                r = sd_bus_message_read_basic(m, 'b', &b);
                if (r < 0)
                        return r;
                *(bool *) field = b;
        } else {
                r = sd_bus_message_read_basic(m, s[0], field);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_exit_container(m);
}

/* One element of Checks: 1, 0 at the end of the array, or a negative errno. */
static int read_check(sd_bus_message *m, ks_health_info *h) {
        const char *desc, *reason;
        uint64_t latency, at, reserved;
        int result, r;

        r = sd_bus_message_read(m, "(sisttt)", &desc, &result, &reason, &latency, &at, &reserved);
        if (r <= 0)
                return r;
        ks_check_info *a = realloc(h->checks, (h->n_checks + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        h->checks = a;
        ks_check_info c = { .description = strdup(desc), .result = result, .reason = strdup(reason),
                            .latency_usec = latency, .at_usec = at };
        if (!c.description || !c.reason) {
                free(c.description);
                free(c.reason);
                return -ENOMEM;
        }
        a[h->n_checks++] = c;
        return 1;
}

/* One element of Incidents, as read_check(). */
static int read_incident(sd_bus_message *m, ks_health_info *h) {
        const char *action, *outcome, *reason;
        uint64_t started, ended;
        int r;

        r = sd_bus_message_read(m, "(ttsss)", &started, &ended, &action, &outcome, &reason);
        if (r <= 0)
                return r;
        ks_incident_info *a = realloc(h->incidents, (h->n_incidents + 1) * sizeof(*a));
        if (!a)
                return -ENOMEM;
        h->incidents = a;
        ks_incident_info in = { .started_usec = started, .ended_usec = ended, .action = strdup(action),
                                .outcome = strdup(outcome), .reason = strdup(reason) };
        if (!in.action || !in.outcome || !in.reason) {
                free(in.action);
                free(in.outcome);
                free(in.reason);
                return -ENOMEM;
        }
        a[h->n_incidents++] = in;
        return 1;
}

/* A variant holding an array of structs of signature elem ("(sisttt)"), element by element. */
static int read_array(sd_bus_message *m, const char *elem, int (*element)(sd_bus_message *m, ks_health_info *h),
                      ks_health_info *h) {
        char sig[32];
        int r;

        snprintf(sig, sizeof sig, "a%s", elem);
        r = sd_bus_message_enter_container(m, 'v', sig);
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', elem);
        if (r < 0)
                return r;
        while ((r = element(m, h)) > 0)
                ;
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_field(sd_bus_message *m, const ks_health_field *f, ks_health_info *h) {
        switch (f->type) {
        case KS_FIELD_CHECKS:
                return read_array(m, "(sisttt)", read_check, h);
        case KS_FIELD_INCIDENTS:
                return read_array(m, "(ttsss)", read_incident, h);
        default:
                return read_simple(m, f->type, (char *) h + f->offset);
        }
}

/* GetAll's a{sv}: the properties of ks_health_fields; others (a newer notifyd's) skipped. */
static int parse_health(sd_bus_message *m, ks_health_info *h) {
        const char *name;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const ks_health_field *f = NULL;

                r = sd_bus_message_read_basic(m, 's', &name);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < ks_health_fields_n && !f; i++)
                        if (streq(name, ks_health_fields[i].property))
                                f = &ks_health_fields[i];
                r = f ? read_field(m, f, h) : sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int ks_view_read_health(sd_bus *bus, ks_service_view *v) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *props = NULL;
        const char *path;
        int r;

        if (v->health_source == KS_HEALTH_SOURCE_NO_CHECKS || v->health_source == KS_HEALTH_SOURCE_INVALID)
                return 0;

        r = notifyd_call(bus, KS_NOTIFYD_PATH, KS_NOTIFYD_MANAGER, "GetService", v->name, &error, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = notifyd_call(bus, path, "org.freedesktop.DBus.Properties", "GetAll", KS_NOTIFYD_SERVICE_IFACE,
                                 &error, &props);
        if (r >= 0) {
                r = parse_health(props, &v->h);
                if (r >= 0) {
                        v->health_source = KS_HEALTH_SOURCE_NOTIFYD;
                        return 0;
                }
                ks_health_info_done(&v->h);
        }
        if (r == -ENOMEM)
                return r;
        if (ks_notifyd_error_is_absent(&error))
                v->health_source = KS_HEALTH_SOURCE_NOT_RUNNING;
        else if (sd_bus_error_has_name(&error, KS_NOTIFYD_ERROR_NO_SUCH_SERVICE))
                v->health_source = KS_HEALTH_SOURCE_NOT_WATCHED;
        else {
                v->health_source = KS_HEALTH_SOURCE_ERROR;
                if (asprintf(&v->health_error, "kservice-notifyd could not be asked: %s",
                             sd_bus_error_is_set(&error) ? error.message : strerror(-r)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int ks_notifyd_check_now(sd_bus *bus, const char *name, ks_check_now *ret, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *reason;
        uint64_t latency;
        int passed, r;

        r = notifyd_call(bus, KS_NOTIFYD_PATH, KS_NOTIFYD_MANAGER, "CheckNow", name, error, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "bst", &passed, &reason, &latency);
        if (r < 0)
                return r;
        char *copy = strdup(reason);
        if (!copy)
                return -ENOMEM;
        *ret = (ks_check_now) { .passed = passed, .reason = copy, .latency_usec = latency };
        return 0;
}

int ks_notifyd_reset_history(sd_bus *bus, const char *name, sd_bus_error *error) {
        return notifyd_call(bus, KS_NOTIFYD_PATH, KS_NOTIFYD_MANAGER, "ResetHistory", name, error, NULL);
}
