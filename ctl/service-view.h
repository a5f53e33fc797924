/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Everything kservicectl shows about one service, gathered before anything is printed: the
 * definition (lib/config-set.h), the unit as systemd reports it, and the health as notifyd's
 * D-Bus API (org.kservice.Notifyd1) reports it. view-bus.c fills it from the buses; format-text.c
 * and format-json.c print it and know nothing of D-Bus, so the formatting is tested on views
 * built by hand (tests/unit/test-ctl-format.c).
 *
 * Unit state only ever comes from systemd; notifyd's part holds what its Service object has.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config-set.h"
#include "macro.h"

/* One check of the last round (the Checks property, a(sisttt)). */
typedef struct ks_check_info {
        char *description;
        int result;                     /* -1 not run, 0 failed, 1 passed */
        char *reason;
        uint64_t latency_usec;
        uint64_t at_usec;               /* realtime; 0 never ran */
} ks_check_info;

/* One incident (the Incidents property, a(ttsss)). */
typedef struct ks_incident_info {
        uint64_t started_usec;
        uint64_t ended_usec;            /* 0: ongoing */
        char *action;                   /* none, restart, gave-up */
        char *outcome;                  /* ongoing, recovered, restarted, stopped, gave-up, unknown */
        char *reason;
} ks_incident_info;

/* The properties of notifyd's org.kservice.Notifyd1.Service object. */
typedef struct ks_health_info {
        char *health;                   /* starting, healthy, unhealthy, flapping, paused, unknown */
        uint64_t health_since_usec;
        uint32_t consecutive_failures;
        uint32_t failure_threshold;
        uint64_t last_round_usec;
        char *last_result;              /* "passed", "failed", "" */
        char *last_reason;
        uint64_t last_latency_usec;
        ks_check_info *checks;
        size_t n_checks;
        uint64_t restarts_by_kservice;
        uint64_t restarts_seen;
        bool flapping;
        double flap_percent;
        double score;
        ks_incident_info *incidents;    /* oldest first */
        size_t n_incidents;
} ks_health_info;

/* The properties of the Service object, in the order of the API (kservice-notifyd(8)), one line
 * each in service-view.c: read from the bus by view-bus.c, printed by show and, those with a
 * json_key, in status --json's "health". */
typedef enum ks_health_field_type {
        KS_FIELD_STRING,        /* s, char * */
        KS_FIELD_U32,           /* u, uint32_t */
        KS_FIELD_U64,           /* t, uint64_t */
        KS_FIELD_TIME,          /* t, uint64_t realtime usec (0: none): JSON adds an ISO 8601 string */
        KS_FIELD_BOOL,          /* b, bool */
        KS_FIELD_DOUBLE,        /* d, double */
        KS_FIELD_CHECKS,        /* a(sisttt), checks/n_checks */
        KS_FIELD_INCIDENTS,     /* a(ttsss), incidents/n_incidents */
} ks_health_field_type;

typedef struct ks_health_field {
        const char *property;   /* "HealthSinceUSec" */
        const char *json_key;   /* "since" in status --json's "health"; NULL: not there as such */
        ks_health_field_type type;
        size_t offset;          /* in ks_health_info */
} ks_health_field;

extern const ks_health_field ks_health_fields[];
extern const size_t ks_health_fields_n;

/* Where the health part came from. */
typedef enum ks_health_source {
        KS_HEALTH_SOURCE_NOTIFYD,       /* notifyd's Service object: health is filled in */
        KS_HEALTH_SOURCE_NO_CHECKS,     /* the definition has no [health]: nothing to ask */
        KS_HEALTH_SOURCE_NOT_RUNNING,   /* org.kservice.Notifyd1 has no owner: health unknown */
        KS_HEALTH_SOURCE_NOT_WATCHED,   /* notifyd runs but has no such service (NoSuchService) */
        KS_HEALTH_SOURCE_INVALID,       /* the definition does not load: notifyd cannot watch it */
        KS_HEALTH_SOURCE_ERROR,         /* asking notifyd failed otherwise (health_error) */
        _KS_HEALTH_SOURCE_MAX,
} ks_health_source;

/* The name in JSON ("notifyd", "no-checks", "notifyd-not-running", ...). */
const char *ks_health_source_to_string(ks_health_source s);

/* The unit as systemd reports it (org.freedesktop.systemd1). */
typedef struct ks_unit_info {
        char *load_state, *active_state, *sub_state;
        char *result;                   /* NULL unless loaded */
        char *fragment_path;
        uint32_t main_pid;
        uint32_t n_restarts;            /* systemd's NRestarts */
        uint64_t state_change_usec;     /* StateChangeTimestamp, realtime; 0 unknown */
} ks_unit_info;

typedef struct ks_service_view {
        char *name;                     /* NAME */
        char *unit;                     /* konivrer@NAME.service */

        /* The definition. */
        char *definition_path;
        char **dropins;
        size_t n_dropins;
        bool masked;
        char *definition_error;         /* FILE:LINE:COL: message, NULL when it loads */
        bool has_checks;
        uint32_t max_restarts;          /* KS_RESTARTS_INFINITY, or the limit */
        uint64_t restart_window_usec;
        int restart_policy;             /* ks_restart, -1 unknown */

        /* systemd; unit_error set when it could not be asked (then unit is empty). */
        bool unit_read;
        ks_unit_info u;
        char *unit_error;

        /* notifyd. */
        ks_health_source health_source;
        char *health_error;
        ks_health_info h;
} ks_service_view;

ks_service_view *ks_service_view_free(ks_service_view *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_service_view *, ks_service_view_free);
void ks_health_info_done(ks_health_info *h);
void ks_unit_info_done(ks_unit_info *u);

/* A view with the definition part filled from a config-set entry (loading and validating it). */
int ks_service_view_new(const ks_config_entry *e, ks_service_view **ret);

/* NAME from NAME, konivrer@NAME or konivrer@NAME.service; a copy. -EINVAL for an empty name. */
int ks_service_name_from_arg(const char *arg, char **ret);

/* systemd's NRestarts without the restart the start limit refused: the restarts that happened.
 * *ret_gave_up: the unit failed because systemd gave up at the limit. */
uint32_t ks_service_view_restarts(const ks_service_view *v, bool *ret_gave_up);

/* The unit is active (or reloading): status exits 0 for it. */
bool ks_service_view_is_active(const ks_service_view *v);

/* systemd loaded the fallback template konivrer@.service for this name. */
bool ks_service_view_is_fallback(const ks_service_view *v);

/* The health state to show: notifyd's, or "unknown" when notifyd could not tell, NULL when the
 * definition has no health checks. */
const char *ks_service_view_health(const ks_service_view *v);

/* The open incident (ended_usec 0), or NULL. */
const ks_incident_info *ks_service_view_open_incident(const ks_service_view *v);
