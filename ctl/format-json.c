/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservicectl's JSON: one object per invocation, {"command": ..., ..., "notes": [...]}, in the
 * shape ctl/kservicectl.schema.json documents (keep them in step: tests/ctl validates the golden
 * outputs against the schema). Every time is two members: NAME_usec (integer, realtime usec,
 * 0 for none) and NAME (ISO 8601 in UTC, null for none).
 */
#include <errno.h>
#include <string.h>

#include "format.h"
#include "time-util.h"

static void field_time(ks_json_writer *w, const char *name, uint64_t usec) {
        char key[64], iso[64];

        snprintf(key, sizeof key, "%s_usec", name);
        ks_json_writer_field_uint(w, key, usec);
        ks_json_writer_field_string(w, name, ks_format_timestamp_iso8601(iso, sizeof iso, usec) >= 0 ? iso : NULL);
}

static void incident(ks_json_writer *w, const ks_incident_info *in) {
        ks_json_writer_object_begin(w);
        field_time(w, "started", in->started_usec);
        field_time(w, "ended", in->ended_usec);
        ks_json_writer_field_string(w, "action", in->action);
        ks_json_writer_field_string(w, "outcome", in->outcome);
        ks_json_writer_field_string(w, "reason", in->reason);
        ks_json_writer_object_end(w);
}

static void incidents(ks_json_writer *w, const ks_health_info *h) {
        ks_json_writer_array_begin(w);
        for (size_t i = 0; i < h->n_incidents; i++)
                incident(w, &h->incidents[i]);
        ks_json_writer_array_end(w);
}

static const char *check_result(int result) {
        return result > 0 ? "passed" : result == 0 ? "failed" : "not-run";
}

static void checks(ks_json_writer *w, const ks_health_info *h) {
        ks_json_writer_array_begin(w);
        for (size_t i = 0; i < h->n_checks; i++) {
                const ks_check_info *k = &h->checks[i];
                ks_json_writer_object_begin(w);
                ks_json_writer_field_string(w, "description", k->description);
                ks_json_writer_field_string(w, "result", check_result(k->result));
                ks_json_writer_field_string(w, "reason", k->reason);
                ks_json_writer_field_uint(w, "latency_usec", k->latency_usec);
                field_time(w, "at", k->at_usec);
                ks_json_writer_object_end(w);
        }
        ks_json_writer_array_end(w);
}

/* One property of ks_health_fields: under its D-Bus name (show) or its json_key (status). */
static void json_field(ks_json_writer *w, const ks_health_field *fd, const ks_health_info *h, bool dbus_names) {
        const void *p = (const char *) h + fd->offset;
        const char *key = dbus_names ? fd->property : fd->json_key;
        char iso[64];

        switch (fd->type) {
        case KS_FIELD_STRING:
                ks_json_writer_field_string(w, key, *(char *const *) p);
                break;
        case KS_FIELD_U32:
                ks_json_writer_field_uint(w, key, *(const uint32_t *) p);
                break;
        case KS_FIELD_U64:
                ks_json_writer_field_uint(w, key, *(const uint64_t *) p);
                break;
        case KS_FIELD_TIME:
                if (!dbus_names) {
                        field_time(w, key, *(const uint64_t *) p);
                        break;
                }
                ks_json_writer_field_uint(w, key, *(const uint64_t *) p);
                /* "HealthSinceUSec" -> "HealthSince" */
                char name[64];
                snprintf(name, sizeof name, "%.*s", (int) (strlen(key) - strlen("USec")), key);
                ks_json_writer_field_string(w, name,
                        ks_format_timestamp_iso8601(iso, sizeof iso, *(const uint64_t *) p) >= 0 ? iso : NULL);
                break;
        case KS_FIELD_BOOL:
                ks_json_writer_field_bool(w, key, *(const bool *) p);
                break;
        case KS_FIELD_DOUBLE:
                ks_json_writer_field_double(w, key, *(const double *) p);
                break;
        case KS_FIELD_CHECKS:
                ks_json_writer_key(w, key);
                checks(w, h);
                break;
        case KS_FIELD_INCIDENTS:
                ks_json_writer_key(w, key);
                incidents(w, h);
                break;
        }
}

static void health(ks_json_writer *w, const ks_service_view *v) {
        const ks_health_info *h = &v->h;

        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "source", ks_health_source_to_string(v->health_source));
        ks_json_writer_field_string(w, "state", ks_service_view_health(v));
        if (v->health_source == KS_HEALTH_SOURCE_ERROR)
                ks_json_writer_field_string(w, "error", v->health_error);
        if (v->health_source == KS_HEALTH_SOURCE_NOTIFYD) {
                for (size_t i = 0; i < ks_health_fields_n; i++)
                        if (ks_health_fields[i].json_key)
                                json_field(w, &ks_health_fields[i], h, false);
                ks_json_writer_key(w, "last_round");
                if (h->last_round_usec > 0) {
                        ks_json_writer_object_begin(w);
                        field_time(w, "at", h->last_round_usec);
                        ks_json_writer_field_string(w, "result", h->last_result);
                        ks_json_writer_field_string(w, "reason", h->last_reason);
                        ks_json_writer_field_uint(w, "latency_usec", h->last_latency_usec);
                        ks_json_writer_object_end(w);
                } else
                        ks_json_writer_null(w);
                ks_json_writer_key(w, "open_incident");
                const ks_incident_info *in = ks_service_view_open_incident(v);
                if (in)
                        incident(w, in);
                else
                        ks_json_writer_null(w);
        }
        ks_json_writer_object_end(w);
}

static void unit_state(ks_json_writer *w, const ks_service_view *v) {
        const ks_unit_info *u = &v->u;
        bool gave_up = false;
        uint32_t restarts;

        if (!v->unit_read) {
                ks_json_writer_null(w);
                return;
        }
        restarts = ks_service_view_restarts(v, &gave_up);
        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "load_state", u->load_state);
        ks_json_writer_field_bool(w, "fallback", ks_service_view_is_fallback(v));
        ks_json_writer_field_string(w, "active_state", u->active_state);
        ks_json_writer_field_string(w, "sub_state", u->sub_state);
        field_time(w, "since", u->state_change_usec);
        ks_json_writer_field_string(w, "result", u->result);
        ks_json_writer_field_uint(w, "main_pid", u->main_pid);
        ks_json_writer_field_uint(w, "n_restarts", u->n_restarts);
        ks_json_writer_field_uint(w, "restarts", restarts);
        ks_json_writer_field_bool(w, "gave_up", gave_up);
        ks_json_writer_object_end(w);
}

static void service(ks_json_writer *w, const ks_service_view *v) {
        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "name", v->name);
        ks_json_writer_field_string(w, "unit", v->unit);
        ks_json_writer_key(w, "definition");
        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "path", v->definition_path);
        ks_json_writer_key(w, "dropins");
        ks_json_writer_array_begin(w);
        for (size_t i = 0; i < v->n_dropins; i++)
                ks_json_writer_string(w, v->dropins[i]);
        ks_json_writer_array_end(w);
        ks_json_writer_field_bool(w, "masked", v->masked);
        ks_json_writer_field_string(w, "error", v->definition_error);
        ks_json_writer_key(w, "max_restarts");
        if (v->masked || v->definition_error || v->max_restarts == UINT32_MAX)
                ks_json_writer_null(w);
        else
                ks_json_writer_uint(w, v->max_restarts);
        ks_json_writer_object_end(w);
        ks_json_writer_key(w, "unit_state");
        if (v->masked)
                ks_json_writer_null(w);
        else
                unit_state(w, v);
        if (v->unit_error)
                ks_json_writer_field_string(w, "unit_error", v->unit_error);
        ks_json_writer_key(w, "health");
        health(w, v);
        ks_json_writer_object_end(w);
}

/* show: the Service object's properties under their D-Bus names, plus an ISO 8601 string beside
 * each realtime *USec property (same name without "USec"). */
static void properties(ks_json_writer *w, const ks_service_view *v) {
        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "Name", v->name);
        ks_json_writer_field_string(w, "Unit", v->unit);
        if (v->health_source == KS_HEALTH_SOURCE_NOTIFYD)
                for (size_t i = 0; i < ks_health_fields_n; i++)
                        json_field(w, &ks_health_fields[i], &v->h, true);
        else
                ks_json_writer_field_string(w, "Health", ks_service_view_health(v));
        ks_json_writer_object_end(w);
}

int ks_format_json(const ks_ctl_output *o, ks_json_flags flags, char **ret) {
        _cleanup_(ks_json_writer_freep) ks_json_writer *w = NULL;
        const ks_service_view *v = o->n_services > 0 ? o->services[0] : NULL;

        if (o->command != KS_CTL_STATUS && !v)
                return -EINVAL;
        w = ks_json_writer_new(flags);
        if (!w)
                return -ENOMEM;
        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "command", ks_ctl_command_to_string(o->command));
        switch (o->command) {
        case KS_CTL_STATUS:
                ks_json_writer_key(w, "services");
                ks_json_writer_array_begin(w);
                for (size_t i = 0; i < o->n_services; i++)
                        service(w, o->services[i]);
                ks_json_writer_array_end(w);
                break;
        case KS_CTL_SHOW:
                ks_json_writer_field_string(w, "name", v->name);
                ks_json_writer_field_string(w, "source", ks_health_source_to_string(v->health_source));
                ks_json_writer_key(w, "properties");
                properties(w, v);
                break;
        case KS_CTL_HISTORY:
                ks_json_writer_field_string(w, "name", v->name);
                ks_json_writer_field_string(w, "unit", v->unit);
                ks_json_writer_field_string(w, "source", ks_health_source_to_string(v->health_source));
                ks_json_writer_key(w, "incidents");
                if (v->health_source == KS_HEALTH_SOURCE_NOTIFYD)
                        incidents(w, &v->h);
                else
                        ks_json_writer_null(w);
                break;
        case KS_CTL_CHECK:
                ks_json_writer_field_string(w, "name", v->name);
                ks_json_writer_field_string(w, "unit", v->unit);
                ks_json_writer_field_bool(w, "passed", o->check.passed);
                ks_json_writer_field_string(w, "reason", o->check.reason);
                ks_json_writer_field_uint(w, "latency_usec", o->check.latency_usec);
                break;
        case KS_CTL_RESET:
                ks_json_writer_field_string(w, "name", v->name);
                ks_json_writer_field_string(w, "unit", v->unit);
                break;
        default:
                return -EINVAL;
        }
        ks_json_writer_key(w, "notes");
        ks_json_writer_array_begin(w);
        for (size_t i = 0; i < ELEMENTSOF(o->notes) && o->notes[i]; i++)
                ks_json_writer_string(w, o->notes[i]);
        ks_json_writer_array_end(w);
        ks_json_writer_object_end(w);
        return ks_json_writer_finish(w, ret, NULL);
}
