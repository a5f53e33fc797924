/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The service objects of the API, /org/kservice/Notifyd1/service/NAME (NAME escaped by
 * sd_bus_path_encode()), interface org.kservice.Notifyd1.Service: one fallback vtable whose find
 * function looks the monitor up by its exact NAME, a node enumerator listing every monitor, and
 * the getters, which read the monitor's health record at the moment of the call.
 *
 * Signals: the properties of a state change (health, failures, restarts, flapping, incidents)
 * carry SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE and are sent in PropertiesChanged when the record says
 * they changed; the per-round ones (last round, checks, score, flap percent) carry no flag, which
 * sd-bus introspects as EmitsChangedSignal "false": clients poll them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api-internal.h"
#include "health-record.h"
#include "log.h"
#include "monitor.h"
#include "unit-writer.h"

#define EMITS SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE

int ks_api_service_path(const char *name, char **ret) {
        return sd_bus_path_encode(KS_API_SERVICE_PREFIX, name, ret);
}

int ks_api_append_string(sd_bus_message *m, const char *s) {
        _cleanup_free_ char *copy = NULL;
        size_t len = strlen(s);

        if (ks_utf8_is_valid(s, len))
                return sd_bus_message_append_basic(m, 's', s);
        /* A reason quoting what a server sent may not be UTF-8, which D-Bus strings must be. */
        copy = strdup(s);
        if (!copy)
                return -ENOMEM;
        for (char *p = copy; *p; p++)
                if ((unsigned char) *p >= 0x80)
                        *p = '?';
        return sd_bus_message_append_basic(m, 's', copy);
}

int ks_api_service_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                        sd_bus_error *error) {
        ks_api *a = userdata;
        _cleanup_free_ char *name = NULL;
        ks_monitor *m;
        int r;

        r = sd_bus_path_decode(path, KS_API_SERVICE_PREFIX, &name);
        if (r <= 0)
                return r;
        /* The exact NAME only: konivrer@NAME is not a second path to the same object. */
        m = ks_daemon_find(a->daemon, name);
        if (!m || !streq(ks_monitor_name(m), name))
                return 0;
        *found = m;
        return 1;
}

int ks_api_service_enumerate(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        ks_api *a = userdata;
        size_t n = ks_daemon_n_monitors(a->daemon);
        char **l;
        int r;

        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = ks_api_service_path(ks_monitor_name(ks_daemon_monitor(a->daemon, i)), &l[i]);
                if (r < 0) {
                        for (size_t j = 0; j < i; j++)
                                free(l[j]);
                        free(l);
                        return r;
                }
        }
        *nodes = l;
        return 0;
}

static const ks_health_record *record(void *userdata) {
        return ks_monitor_record(userdata);
}

#define GETTER(fn)                                                                                 \
        static int fn(sd_bus *bus, const char *path, const char *interface, const char *property,  \
                      sd_bus_message *reply, void *userdata, sd_bus_error *error)

GETTER(get_name) {
        return sd_bus_message_append_basic(reply, 's', ks_monitor_name(userdata));
}

GETTER(get_unit) {
        return sd_bus_message_append_basic(reply, 's', ks_monitor_unit(userdata));
}

GETTER(get_health) {
        const char *s = ks_health_state_to_string(ks_health_record_health(record(userdata)));

        return sd_bus_message_append_basic(reply, 's', s ?: "unknown");
}

GETTER(get_health_since) {
        return sd_bus_message_append(reply, "t", record(userdata)->st->health_since_usec);
}

GETTER(get_consecutive_failures) {
        uint64_t n = record(userdata)->st->consecutive_failures;

        return sd_bus_message_append(reply, "u", (uint32_t) MIN(n, (uint64_t) UINT32_MAX));
}

GETTER(get_failure_threshold) {
        return sd_bus_message_append(reply, "u", (uint32_t) record(userdata)->failure_threshold);
}

GETTER(get_last_round) {
        return sd_bus_message_append(reply, "t", record(userdata)->last_round_usec);
}

GETTER(get_last_result) {
        int r = record(userdata)->last_result;

        return sd_bus_message_append_basic(reply, 's', r == KS_CHECK_NOT_RUN ? "" : r ? "passed" : "failed");
}

GETTER(get_last_reason) {
        return ks_api_append_string(reply, record(userdata)->last_reason);
}

GETTER(get_last_latency) {
        return sd_bus_message_append(reply, "t", record(userdata)->last_latency_usec);
}

GETTER(get_checks) {
        const ks_health_record *rec = record(userdata);
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(sisttt)");
        for (size_t i = 0; r >= 0 && i < rec->n_checks; i++) {
                const ks_check_last *c = &rec->checks[i];
                char description[512];

                ks_monitor_describe_check(userdata, i, description, sizeof description);
                r = sd_bus_message_open_container(reply, 'r', "sisttt");
                if (r >= 0)
                        r = ks_api_append_string(reply, description);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "i", (int32_t) c->result);
                if (r >= 0)
                        r = ks_api_append_string(reply, c->reason);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ttt", c->latency_usec, c->at_usec, UINT64_C(0));
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

GETTER(get_restarts_by_kservice) {
        return sd_bus_message_append(reply, "t", record(userdata)->st->restarts_by_kservice);
}

GETTER(get_restarts_seen) {
        return sd_bus_message_append(reply, "t", record(userdata)->st->restarts_seen);
}

/* The live detector, not st.flapping, which is synced on save only. */
GETTER(get_flapping) {
        return sd_bus_message_append(reply, "b", (int) ks_flap_is_flapping(&record(userdata)->flap));
}

GETTER(get_flap_percent) {
        return sd_bus_message_append(reply, "d", ks_flap_percent(&record(userdata)->flap));
}

GETTER(get_score) {
        return sd_bus_message_append(reply, "d", ks_health_record_score(record(userdata)));
}

GETTER(get_incidents) {
        const ks_service_state *st = record(userdata)->st;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(ttsss)");
        for (size_t i = 0; r >= 0 && i < st->n_incidents; i++) {
                const ks_incident *inc = &st->incidents[i];
                const char *action = ks_incident_action_to_string(inc->action);
                const char *outcome = ks_incident_outcome_to_string(inc->outcome);

                r = sd_bus_message_open_container(reply, 'r', "ttsss");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "ttss", inc->started_usec, inc->ended_usec,
                                                  action ?: "", outcome ?: "unknown");
                if (r >= 0)
                        r = ks_api_append_string(reply, inc->reason);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        return r;
}

const sd_bus_vtable ks_api_service_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Name", "s", get_name, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Unit", "s", get_unit, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Health", "s", get_health, 0, EMITS),
        SD_BUS_PROPERTY("HealthSinceUSec", "t", get_health_since, 0, EMITS),
        SD_BUS_PROPERTY("ConsecutiveFailures", "u", get_consecutive_failures, 0, EMITS),
        SD_BUS_PROPERTY("FailureThreshold", "u", get_failure_threshold, 0, EMITS),
        SD_BUS_PROPERTY("LastRoundUSec", "t", get_last_round, 0, 0),
        SD_BUS_PROPERTY("LastResult", "s", get_last_result, 0, 0),
        SD_BUS_PROPERTY("LastReason", "s", get_last_reason, 0, 0),
        SD_BUS_PROPERTY("LastLatencyUSec", "t", get_last_latency, 0, 0),
        SD_BUS_PROPERTY("Checks", "a(sisttt)", get_checks, 0, 0),
        SD_BUS_PROPERTY("RestartsByKservice", "t", get_restarts_by_kservice, 0, EMITS),
        SD_BUS_PROPERTY("RestartsSeen", "t", get_restarts_seen, 0, EMITS),
        SD_BUS_PROPERTY("Flapping", "b", get_flapping, 0, EMITS),
        SD_BUS_PROPERTY("FlapPercent", "d", get_flap_percent, 0, 0),
        SD_BUS_PROPERTY("Score", "d", get_score, 0, 0),
        SD_BUS_PROPERTY("Incidents", "a(ttsss)", get_incidents, 0, EMITS),
        SD_BUS_VTABLE_END,
};

/* Which properties each state-change bit of the record (health-record.h) covers. */
static const struct {
        unsigned bit;
        const char *properties[2];
} changed_properties[] = {
        { KS_RECORD_HEALTH, { "Health", "HealthSinceUSec" } },
        { KS_RECORD_FAILURES, { "ConsecutiveFailures", "FailureThreshold" } },
        { KS_RECORD_RESTARTS, { "RestartsByKservice", "RestartsSeen" } },
        { KS_RECORD_FLAPPING, { "Flapping" } },
        { KS_RECORD_INCIDENTS, { "Incidents" } },
};

void ks_api_service_changed(ks_api *a, ks_monitor *m, unsigned what) {
        _cleanup_free_ char *path = NULL;
        const char *names[2 * ELEMENTSOF(changed_properties) + 1];
        size_t n = 0;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(changed_properties); i++)
                if (what & changed_properties[i].bit)
                        for (size_t j = 0; j < 2 && changed_properties[i].properties[j]; j++)
                                names[n++] = changed_properties[i].properties[j];
        if (n == 0)
                return;
        names[n] = NULL;

        r = ks_api_service_path(ks_monitor_name(m), &path);
        if (r >= 0)
                r = sd_bus_emit_properties_changed_strv(a->bus, path, KS_API_SERVICE_INTERFACE, (char **) names);
        /* -ENOENT: a monitor of the reload in progress, not among the daemon's yet; nobody has
         * seen its object, nothing to signal. */
        if (r < 0 && r != -ENOENT)
                log_debug_errno(r, "Failed to signal the changed properties of %s: %m", ks_monitor_unit(m));
}
