/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kservicectl's output for a person, after systemctl's habits: a "● NAME - UNIT" block per
 * service with right-aligned labels, "since DATE; 5min ago", colour (only when the context says
 * so) on the dot and the state words, Key=Value lines for show.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "format.h"
#include "macro.h"
#include "service.h"
#include "time-util.h"

#define ANSI_RED "\x1b[0;1;31m"
#define ANSI_GREEN "\x1b[0;1;32m"
#define ANSI_YELLOW "\x1b[0;1;33m"
#define ANSI_NORMAL "\x1b[0m"

static const char *const command_table[_KS_CTL_COMMAND_MAX] = {
        [KS_CTL_STATUS] = "status", [KS_CTL_SHOW] = "show", [KS_CTL_HISTORY] = "history",
        [KS_CTL_CHECK] = "check",   [KS_CTL_RESET] = "reset",
};

const char *ks_ctl_command_to_string(ks_ctl_command c) {
        return c >= 0 && c < _KS_CTL_COMMAND_MAX ? command_table[c] : NULL;
}

void ks_ctl_output_add_notes(ks_ctl_output *o) {
        bool not_running = false, not_watched = false, error = false;
        size_t n = 0;

        for (size_t i = 0; i < o->n_services; i++) {
                not_running = not_running || o->services[i]->health_source == KS_HEALTH_SOURCE_NOT_RUNNING;
                not_watched = not_watched || o->services[i]->health_source == KS_HEALTH_SOURCE_NOT_WATCHED;
                error = error || o->services[i]->health_source == KS_HEALTH_SOURCE_ERROR;
        }
        if (not_running)
                o->notes[n++] = "kservice-notifyd is not running: health is unknown (see systemctl status kservice-notifyd).";
        if (not_watched)
                o->notes[n++] = "kservice-notifyd does not watch every definition yet: their health is unknown "
                                "(see systemctl reload kservice-notifyd).";
        if (error)
                o->notes[n++] = "kservice-notifyd could not be asked: health is unknown.";
        o->notes[n] = NULL;
}

/* Colour for an ActiveState, and for a health state. */
static const char *active_color(const char *state) {
        if (!state)
                return NULL;
        if (streq(state, "active") || streq(state, "reloading"))
                return ANSI_GREEN;
        if (streq(state, "failed"))
                return ANSI_RED;
        if (streq(state, "activating") || streq(state, "deactivating"))
                return ANSI_YELLOW;
        return NULL;
}

static const char *health_color(const char *health) {
        if (!health)
                return NULL;
        if (streq(health, "healthy"))
                return ANSI_GREEN;
        if (streq(health, "unhealthy"))
                return ANSI_RED;
        if (streq(health, "flapping") || streq(health, "starting"))
                return ANSI_YELLOW;
        return NULL;
}

/* text in colour when the context has colour and there is one for it. */
static void colored(FILE *f, const ks_format_context *c, const char *color, const char *text) {
        if (c->color && color)
                fprintf(f, "%s%s%s", color, text, ANSI_NORMAL);
        else
                fputs(text, f);
}

/* "%-*s" for text that may be coloured (escapes take no room on the screen). */
static void cell(FILE *f, const ks_format_context *c, const char *color, const char *text, int width) {
        colored(f, c, color, text);
        for (int i = (int) strlen(text); i < width; i++)
                fputc(' ', f);
        fputc(' ', f);
}

/* "Tue 2026-12-01 10:00:00 UTC; 5min ago", or "n/a". */
static const char *when(char *buf, size_t n, uint64_t usec, const ks_format_context *c) {
        char abs[64], rel[64];

        if (ks_format_timestamp(abs, sizeof abs, usec) < 0 ||
            ks_format_timestamp_relative(rel, sizeof rel, usec, c->now_usec) < 0)
                return "n/a";
        snprintf(buf, n, "%s; %s", abs, rel);
        return buf;
}

static const char *latency(char *buf, size_t n, uint64_t usec) {
        snprintf(buf, n, "%.1fms", (double) usec / 1000.0);
        return buf;
}

/* The label column of a block: right-aligned as systemctl status does. */
_printf_(3, 4) static void line(FILE *f, const char *label, const char *fmt, ...) {
        va_list ap;

        fprintf(f, "%14s: ", label);
        va_start(ap, fmt);
        vfprintf(f, fmt, ap);
        va_end(ap);
        fputc('\n', f);
}

static const char *check_result_word(int result) {
        return result > 0 ? "passed" : result == 0 ? "failed" : "not run";
}

static void incident_line(FILE *f, const char *label, const ks_incident_info *in, const ks_format_context *c) {
        char t[160];
        fprintf(f, "%14s: since %s, %s (action: %s)\n", label, when(t, sizeof t, in->started_usec, c), in->reason,
                in->action);
}

static void health_lines(FILE *f, const ks_service_view *v, const ks_format_context *c) {
        const ks_health_info *h = &v->h;
        const char *health = ks_service_view_health(v);
        char t[160], l[32];

        if (!health) {
                line(f, "Health", "no health checks defined");
                return;
        }
        fprintf(f, "%14s: ", "Health");
        colored(f, c, health_color(health), health);
        switch (v->health_source) {
        case KS_HEALTH_SOURCE_NOTIFYD:
                if (h->health_since_usec > 0)
                        fprintf(f, " since %s", when(t, sizeof t, h->health_since_usec, c));
                if (streq(health, "unhealthy") || h->consecutive_failures > 0)
                        fprintf(f, " (%" PRIu32 "/%" PRIu32 " failures)", h->consecutive_failures,
                                h->failure_threshold);
                break;
        case KS_HEALTH_SOURCE_NOT_RUNNING:
                fputs(" (kservice-notifyd is not running)", f);
                break;
        case KS_HEALTH_SOURCE_NOT_WATCHED:
                fputs(" (kservice-notifyd does not watch it)", f);
                break;
        case KS_HEALTH_SOURCE_INVALID:
                fputs(" (the definition is invalid)", f);
                break;
        case KS_HEALTH_SOURCE_ERROR:
                fprintf(f, " (%s)", v->health_error ?: "kservice-notifyd could not be asked");
                break;
        default:
                break;
        }
        fputc('\n', f);
        if (v->health_source != KS_HEALTH_SOURCE_NOTIFYD)
                return;

        line(f, "Score", "%.2f", h->score);
        line(f, "Flapping", "%s (%.0f%% state change)", h->flapping ? "yes" : "no", h->flap_percent);
        line(f, "Restarts seen", "%" PRIu64 " (%" PRIu64 " by kservice)", h->restarts_seen, h->restarts_by_kservice);
        if (h->last_round_usec > 0) {
                char rel[64];
                if (ks_format_timestamp_relative(rel, sizeof rel, h->last_round_usec, c->now_usec) < 0)
                        snprintf(rel, sizeof rel, "n/a");
                line(f, "Last round", "%s, %s (%s), %s", h->last_result, h->last_reason,
                     latency(l, sizeof l, h->last_latency_usec), rel);
        } else
                line(f, "Last round", "none yet");
        for (size_t i = 0; i < h->n_checks; i++) {
                const ks_check_info *k = &h->checks[i];
                if (k->result < 0)
                        line(f, "Check", "%s: not run", k->description);
                else
                        line(f, "Check", "%s: %s, %s (%s)", k->description, check_result_word(k->result),
                             k->reason, latency(l, sizeof l, k->latency_usec));
        }
        const ks_incident_info *in = ks_service_view_open_incident(v);
        if (in)
                incident_line(f, "Incident", in, c);
}

static void status_block(FILE *f, const ks_service_view *v, const ks_format_context *c) {
        const ks_unit_info *u = &v->u;
        char t[160];

        if (v->masked) {
                fprintf(f, "%s: masked by %s\n", v->name, v->definition_path);
                return;
        }
        colored(f, c, active_color(u->active_state), "●");
        fprintf(f, " %s - %s\n", v->name, v->unit);
        line(f, "Definition", "%s", v->definition_path);
        for (size_t i = 0; i < v->n_dropins; i++)
                line(f, "Drop-in", "%s", v->dropins[i]);
        if (v->definition_error)
                line(f, "Error", "%s", v->definition_error);
        if (!v->unit_read) {
                line(f, "Loaded", "unknown (%s)", v->unit_error ?: "systemd could not be asked");
        } else {
                /* LoadState says "loaded" for the fallback template too: say which unit systemd has. */
                if (ks_service_view_is_fallback(v))
                        line(f, "Loaded", "fallback %s, which fails: %s", u->fragment_path,
                             v->definition_error ? "the definition is invalid, no unit was generated"
                                                 : "no unit generated yet (run systemctl daemon-reload)");
                else
                        line(f, "Loaded", "%s", u->load_state);
                fprintf(f, "%14s: ", "Active");
                snprintf(t, sizeof t, "%s (%s)", u->active_state, u->sub_state);
                colored(f, c, active_color(u->active_state), t);
                if (u->state_change_usec > 0)
                        fprintf(f, " since %s", when(t, sizeof t, u->state_change_usec, c));
                fputc('\n', f);
                if (streq(u->load_state, "loaded")) {
                        bool gave_up;
                        uint32_t restarts = ks_service_view_restarts(v, &gave_up);
                        if (u->main_pid > 0)
                                line(f, "Main PID", "%" PRIu32, u->main_pid);
                        fprintf(f, "%14s: %" PRIu32, "Restarts", restarts);
                        if (gave_up) {
                                char window[64];
                                if (ks_format_timespan(window, sizeof window, v->restart_window_usec) < 0)
                                        snprintf(window, sizeof window, "its window");
                                fprintf(f, " (limit of %" PRIu32 " in %s reached, gave up)", v->max_restarts, window);
                        }
                        fputc('\n', f);
                        if (u->result && !streq(u->result, "success"))
                                line(f, "Result", "%s", u->result);
                }
        }
        health_lines(f, v, c);
        line(f, "Journal", "journalctl -u %s", v->unit);
}

/* The overview's HEALTH column. */
static const char *overview_health(char *buf, size_t n, const ks_service_view *v) {
        const char *health = ks_service_view_health(v);

        if (v->definition_error)
                return v->definition_error;
        if (!health)
                return "-";
        if (v->health_source != KS_HEALTH_SOURCE_NOTIFYD)
                return health;
        if (streq(health, "unhealthy") && v->h.last_reason && v->h.last_reason[0])
                snprintf(buf, n, "%s, score %.2f: %s", health, v->h.score, v->h.last_reason);
        else
                snprintf(buf, n, "%s, score %.2f", health, v->h.score);
        return buf;
}

static void status_overview(FILE *f, const ks_ctl_output *o, const ks_format_context *c) {
        fprintf(f, "%-16s %-20s %-8s %s\n", "NAME", "ACTIVE", "RESTARTS", "HEALTH");
        for (size_t i = 0; i < o->n_services; i++) {
                const ks_service_view *v = o->services[i];
                char active[64], nr[16] = "-", health[512];

                if (v->masked) {
                        fprintf(f, "%-16s masked (%s)\n", v->name, v->definition_path);
                        continue;
                }
                if (v->unit_read) {
                        bool gave_up;
                        snprintf(active, sizeof active, "%s (%s)", v->u.active_state, v->u.sub_state);
                        if (streq(v->u.load_state, "loaded"))
                                snprintf(nr, sizeof nr, "%" PRIu32, ks_service_view_restarts(v, &gave_up));
                } else
                        snprintf(active, sizeof active, "unknown");
                cell(f, c, NULL, v->name, 16);
                cell(f, c, active_color(v->u.active_state), active, 20);
                cell(f, c, NULL, nr, 8);
                const char *text = overview_health(health, sizeof health, v);
                colored(f, c, v->definition_error ? ANSI_RED : health_color(ks_service_view_health(v)), text);
                fputc('\n', f);
        }
}

static void show_field(FILE *f, const ks_health_field *fd, const ks_health_info *h) {
        const void *p = (const char *) h + fd->offset;

        switch (fd->type) {
        case KS_FIELD_STRING:
                fprintf(f, "%s=%s\n", fd->property, *(char *const *) p ?: "");
                break;
        case KS_FIELD_U32:
                fprintf(f, "%s=%" PRIu32 "\n", fd->property, *(const uint32_t *) p);
                break;
        case KS_FIELD_U64:
        case KS_FIELD_TIME:
                fprintf(f, "%s=%" PRIu64 "\n", fd->property, *(const uint64_t *) p);
                break;
        case KS_FIELD_BOOL:
                fprintf(f, "%s=%s\n", fd->property, *(const bool *) p ? "yes" : "no");
                break;
        case KS_FIELD_DOUBLE:
                fprintf(f, "%s=%g\n", fd->property, *(const double *) p);
                break;
        case KS_FIELD_CHECKS:
                /* One line per element, as systemctl show does for ExecStart=. */
                for (size_t i = 0; i < h->n_checks; i++)
                        fprintf(f,
                                "%s={ description=%s ; result=%d ; reason=%s ; latency_usec=%" PRIu64
                                " ; at_usec=%" PRIu64 " }\n",
                                fd->property, h->checks[i].description, h->checks[i].result,
                                h->checks[i].reason, h->checks[i].latency_usec, h->checks[i].at_usec);
                if (h->n_checks == 0)
                        fprintf(f, "%s=\n", fd->property);
                break;
        case KS_FIELD_INCIDENTS:
                for (size_t i = 0; i < h->n_incidents; i++)
                        fprintf(f,
                                "%s={ started_usec=%" PRIu64 " ; ended_usec=%" PRIu64
                                " ; action=%s ; outcome=%s ; reason=%s }\n",
                                fd->property, h->incidents[i].started_usec, h->incidents[i].ended_usec,
                                h->incidents[i].action, h->incidents[i].outcome, h->incidents[i].reason);
                if (h->n_incidents == 0)
                        fprintf(f, "%s=\n", fd->property);
                break;
        }
}

/* Key=Value for every property of the Service object; Name, Unit and Health only when notifyd
 * could not be asked. */
static void show_properties(FILE *f, const ks_service_view *v) {
        fprintf(f, "Name=%s\nUnit=%s\n", v->name, v->unit);
        if (v->health_source != KS_HEALTH_SOURCE_NOTIFYD) {
                fprintf(f, "Health=%s\n", ks_service_view_health(v) ?: "");
                return;
        }
        for (size_t i = 0; i < ks_health_fields_n; i++)
                show_field(f, &ks_health_fields[i], &v->h);
}

static void history(FILE *f, const ks_service_view *v, const ks_format_context *c) {
        const ks_health_info *h = &v->h;

        if (v->health_source != KS_HEALTH_SOURCE_NOTIFYD)
                return; /* the note says why */
        if (h->n_incidents == 0) {
                fprintf(f, "No incidents recorded for %s.\n", v->name);
                return;
        }
        fprintf(f, "%-27s %-27s %-12s %-8s %-10s %s\n", "STARTED", "ENDED", "DURATION", "ACTION", "OUTCOME", "REASON");
        for (size_t i = 0; i < h->n_incidents; i++) {
                const ks_incident_info *in = &h->incidents[i];
                char started[64] = "n/a", ended[64] = "ongoing", span[64] = "n/a";
                uint64_t end = in->ended_usec > 0 ? in->ended_usec : c->now_usec;

                (void) ks_format_timestamp(started, sizeof started, in->started_usec);
                if (in->ended_usec > 0)
                        (void) ks_format_timestamp(ended, sizeof ended, in->ended_usec);
                if (end >= in->started_usec)
                        (void) ks_format_timespan(span, sizeof span,
                                                  (end - in->started_usec) / KS_USEC_PER_SEC * KS_USEC_PER_SEC);
                fprintf(f, "%-27s %-27s %-12s %-8s ", started, ended, span, in->action);
                cell(f, c, streq(in->outcome, "gave-up") ? ANSI_RED : streq(in->outcome, "ongoing") ? ANSI_YELLOW : NULL,
                     in->outcome, 10);
                fprintf(f, "%s\n", in->reason);
        }
}

int ks_format_text(FILE *f, const ks_ctl_output *o, const ks_format_context *c) {
        char l[32];

        switch (o->command) {
        case KS_CTL_STATUS:
                if (o->overview)
                        status_overview(f, o, c);
                else
                        for (size_t i = 0; i < o->n_services; i++) {
                                if (i > 0)
                                        fputc('\n', f);
                                status_block(f, o->services[i], c);
                        }
                break;
        case KS_CTL_SHOW:
                show_properties(f, o->services[0]);
                break;
        case KS_CTL_HISTORY:
                history(f, o->services[0], c);
                break;
        case KS_CTL_CHECK:
                fprintf(f, "%s: ", o->services[0]->name);
                colored(f, c, o->check.passed ? ANSI_GREEN : ANSI_RED, o->check.passed ? "passed" : "failed");
                fprintf(f, ": %s (%s)\n", o->check.reason, latency(l, sizeof l, o->check.latency_usec));
                break;
        case KS_CTL_RESET:
                fprintf(f, "%s: history reset (incidents, restart counters, flap history, score).\n",
                        o->services[0]->name);
                break;
        default:
                return -EINVAL;
        }
        for (size_t i = 0; i < ELEMENTSOF(o->notes) && o->notes[i]; i++)
                fprintf(f, "%sNote: %s\n", i == 0 && o->command == KS_CTL_STATUS && o->n_services > 0 ? "\n" : "",
                        o->notes[i]);
        return ferror(f) ? -EIO : 0;
}
