/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* kservicectl's view of one service: its definition part, and what is derived from the parts. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "service-view.h"
#include "service.h"
#include "string-util.h"

static const char *const health_source_table[_KS_HEALTH_SOURCE_MAX] = {
        [KS_HEALTH_SOURCE_NOTIFYD] = "notifyd",
        [KS_HEALTH_SOURCE_NO_CHECKS] = "no-checks",
        [KS_HEALTH_SOURCE_NOT_RUNNING] = "notifyd-not-running",
        [KS_HEALTH_SOURCE_NOT_WATCHED] = "not-watched",
        [KS_HEALTH_SOURCE_INVALID] = "invalid-definition",
        [KS_HEALTH_SOURCE_ERROR] = "error",
};

#define FIELD(property, json_key, type, member) \
        { property, json_key, KS_FIELD_##type, offsetof(ks_health_info, member) }

const ks_health_field ks_health_fields[] = {
        FIELD("Health", NULL, STRING, health),
        FIELD("HealthSinceUSec", "since", TIME, health_since_usec),
        FIELD("ConsecutiveFailures", "consecutive_failures", U32, consecutive_failures),
        FIELD("FailureThreshold", "failure_threshold", U32, failure_threshold),
        FIELD("LastRoundUSec", NULL, TIME, last_round_usec),
        FIELD("LastResult", NULL, STRING, last_result),
        FIELD("LastReason", NULL, STRING, last_reason),
        FIELD("LastLatencyUSec", NULL, U64, last_latency_usec),
        FIELD("Checks", "checks", CHECKS, checks),
        FIELD("RestartsByKservice", "restarts_by_kservice", U64, restarts_by_kservice),
        FIELD("RestartsSeen", "restarts_seen", U64, restarts_seen),
        FIELD("Flapping", "flapping", BOOL, flapping),
        FIELD("FlapPercent", "flap_percent", DOUBLE, flap_percent),
        FIELD("Score", "score", DOUBLE, score),
        FIELD("Incidents", NULL, INCIDENTS, incidents),
};
const size_t ks_health_fields_n = ELEMENTSOF(ks_health_fields);

const char *ks_health_source_to_string(ks_health_source s) {
        return s >= 0 && s < _KS_HEALTH_SOURCE_MAX ? health_source_table[s] : NULL;
}

void ks_health_info_done(ks_health_info *h) {
        free(h->health);
        free(h->last_result);
        free(h->last_reason);
        for (size_t i = 0; i < h->n_checks; i++) {
                free(h->checks[i].description);
                free(h->checks[i].reason);
        }
        free(h->checks);
        for (size_t i = 0; i < h->n_incidents; i++) {
                free(h->incidents[i].action);
                free(h->incidents[i].outcome);
                free(h->incidents[i].reason);
        }
        free(h->incidents);
        *h = (ks_health_info) {};
}

void ks_unit_info_done(ks_unit_info *u) {
        free(u->load_state);
        free(u->active_state);
        free(u->sub_state);
        free(u->result);
        free(u->fragment_path);
        *u = (ks_unit_info) {};
}

ks_service_view *ks_service_view_free(ks_service_view *v) {
        if (!v)
                return NULL;
        free(v->name);
        free(v->unit);
        free(v->definition_path);
        for (size_t i = 0; i < v->n_dropins; i++)
                free(v->dropins[i]);
        free(v->dropins);
        free(v->definition_error);
        ks_unit_info_done(&v->u);
        free(v->unit_error);
        free(v->health_error);
        ks_health_info_done(&v->h);
        return mfree(v);
}

int ks_service_name_from_arg(const char *arg, char **ret) {
        size_t n = strlen(arg);

        if (strncmp(arg, KS_UNIT_PREFIX, strlen(KS_UNIT_PREFIX)) == 0) {
                arg += strlen(KS_UNIT_PREFIX);
                n -= strlen(KS_UNIT_PREFIX);
                if (endswith(arg, KS_UNIT_SUFFIX))
                        n -= strlen(KS_UNIT_SUFFIX);
        }
        if (n == 0)
                return -EINVAL;
        char *s = strndup(arg, n);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int ks_service_view_new(const ks_config_entry *e, ks_service_view **ret) {
        _cleanup_(ks_service_view_freep) ks_service_view *v = NULL;
        _cleanup_(ks_service_freep) ks_service *s = NULL;
        _cleanup_diag_list_ ks_diag_list diags = {};
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->restart_policy = -1;
        v->max_restarts = KS_RESTARTS_INFINITY;
        v->name = strdup(e->name);
        v->definition_path = strdup(e->path);
        if (!v->name || !v->definition_path ||
            asprintf(&v->unit, KS_UNIT_PREFIX "%s" KS_UNIT_SUFFIX, e->name) < 0)
                return -ENOMEM;
        if (e->n_dropins > 0) {
                v->dropins = calloc(e->n_dropins, sizeof(char *));
                if (!v->dropins)
                        return -ENOMEM;
                for (; v->n_dropins < e->n_dropins; v->n_dropins++) {
                        v->dropins[v->n_dropins] = strdup(e->dropins[v->n_dropins]);
                        if (!v->dropins[v->n_dropins])
                                return -ENOMEM;
                }
        }
        v->masked = e->masked;
        if (e->masked) {
                v->health_source = KS_HEALTH_SOURCE_NO_CHECKS;
                *ret = TAKE_PTR(v);
                return 0;
        }

        r = ks_service_load_files(e->name, e->path, (const char *const *) e->dropins, e->n_dropins, &s, &diags);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || diags.n > 0) {
                v->definition_error = strdup(diags.n > 0 ? diags.items[0].text : strerror(-r));
                if (!v->definition_error)
                        return -ENOMEM;
                v->health_source = KS_HEALTH_SOURCE_INVALID;
        } else {
                v->has_checks = ks_service_has_health(s);
                v->max_restarts = s->max_restarts;
                v->restart_window_usec = s->restart_window_usec;
                v->restart_policy = (int) s->restart;
                v->health_source = v->has_checks ? KS_HEALTH_SOURCE_NOT_RUNNING : KS_HEALTH_SOURCE_NO_CHECKS;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Whether the restart policy restarts after a run that ended with this Result. */
static bool restart_covers(int restart, const char *result) {
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
 * of that limit; report the restarts that happened, which the user compares with max_restarts. */
uint32_t ks_service_view_restarts(const ks_service_view *v, bool *ret_gave_up) {
        const ks_unit_info *u = &v->u;

        *ret_gave_up = false;
        if (v->restart_policy < 0 || !u->result || !u->active_state || !streq(u->active_state, "failed") ||
            v->max_restarts == KS_RESTARTS_INFINITY)
                return u->n_restarts;
        if (streq(u->result, "start-limit-hit")) {
                /* restart = "always" after clean exits: the refused one was an automatic restart,
                 * counted as the others (Result is only start-limit-hit because the runs
                 * succeeded). Otherwise a start refused by the limit, no restart counted for it. */
                *ret_gave_up = true;
                return v->restart_policy == KS_RESTART_ALWAYS && u->n_restarts > 0 ? u->n_restarts - 1
                                                                                  : u->n_restarts;
        }
        if (!restart_covers(v->restart_policy, u->result) || u->n_restarts == 0)
                return u->n_restarts;
        *ret_gave_up = true;
        return u->n_restarts - 1;
}

bool ks_service_view_is_active(const ks_service_view *v) {
        return v->u.active_state && (streq(v->u.active_state, "active") || streq(v->u.active_state, "reloading"));
}

bool ks_service_view_is_fallback(const ks_service_view *v) {
        if (!v->u.load_state || !streq(v->u.load_state, "loaded") || !v->u.fragment_path)
                return false;
        const char *slash = strrchr(v->u.fragment_path, '/');
        return streq(slash ? slash + 1 : v->u.fragment_path, KS_UNIT_PREFIX KS_UNIT_SUFFIX);
}

const char *ks_service_view_health(const ks_service_view *v) {
        if (v->health_source == KS_HEALTH_SOURCE_NO_CHECKS)
                return NULL;
        if (v->health_source == KS_HEALTH_SOURCE_NOTIFYD && v->h.health && v->h.health[0])
                return v->h.health;
        return "unknown";
}

const ks_incident_info *ks_service_view_open_incident(const ks_service_view *v) {
        for (size_t i = v->h.n_incidents; i > 0; i--)
                if (v->h.incidents[i - 1].ended_usec == 0)
                        return &v->h.incidents[i - 1];
        return NULL;
}
