/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ks_service -> unit files (see unit-gen.h). Every value that comes from the definition goes
 * through lib/unit-writer.c's escapers; only text the generator composes itself (numbers,
 * durations, enum words, the model's sandbox preset data) is written raw.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <syslog.h>

#include "config-set.h"
#include "escape.h"
#include "time-util.h"
#include "unit-gen.h"
#include "unit-writer.h"

#define RELOAD_PREFIX "konivrer-reload@"
#define NOTIFYD_UNIT "kservice-notifyd.service"

typedef struct gen {
        const ks_service *s;
        const ks_unit_gen_options *o;
        ks_diag_list *diags, *notices;
        bool failed;
} gen;

void ks_unit_files_done(ks_unit_files *f) {
        for (size_t i = 0; i < f->n; i++) {
                free(f->items[i].path);
                free(f->items[i].content);
                free(f->items[i].symlink);
        }
        free(f->items);
        *f = (ks_unit_files) {};
}

int ks_unit_files_format(const ks_unit_files *f, char **ret, size_t *ret_size) {
        char *text = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&text, &size);

        if (!m)
                return -ENOMEM;
        for (size_t i = 0; i < f->n; i++) {
                const ks_unit_file *u = &f->items[i];
                if (u->symlink)
                        fprintf(m, "==> %s -> %s <==\n\n", u->path, u->symlink);
                else {
                        fprintf(m, "==> %s <==\n", u->path);
                        fwrite(u->content, 1, u->size, m);
                        fputc('\n', m);
                }
        }
        if (fclose(m) != 0) {
                free(text);
                return -ENOMEM;
        }
        *ret = text;
        if (ret_size)
                *ret_size = size;
        return 0;
}

static ks_origin origin_of(const ks_service *s, const char *key) {
        for (size_t i = 0; i < ks_service_n_keys; i++)
                if (streq(ks_service_keys[i].path, key)) {
                        if (s->key_origin && s->key_origin[i].file)
                                return s->key_origin[i];
                        break;
                }
        return (ks_origin) { .file = s->files ? s->files[0] : NULL };
}

/* Records "FILE:LINE:COL: WHAT REASON"; returns -ENOMEM or 0 (the caller goes on, to report
 * every unrepresentable value at once). */
static int refuse(gen *g, ks_origin o, const char *what, const char *reason, int r) {
        if (r != -EINVAL)
                return r;
        g->failed = true;
        return ks_diag_add(g->diags, o.file, o.line, o.column, "\"%s\" %s", what,
                           reason ?: "cannot be written into a unit file") < 0 ? -ENOMEM : 0;
}

static int refuse_key(gen *g, const char *key, const char *reason, int r) {
        return refuse(g, origin_of(g->s, key), key, reason, r);
}

static size_t strv_len(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

uint64_t ks_unit_job_timeout_usec(const ks_service *s) {
        uint64_t start = ks_service_start_timeout_usec(s), stop = s->stop_timeout_usec;

        if (start == KS_USEC_UNSET)
                start = KS_SYSTEMD_DEFAULT_TIMEOUT_USEC;
        if (stop == KS_USEC_UNSET)
                stop = KS_SYSTEMD_DEFAULT_TIMEOUT_USEC;
        if (start == KS_USEC_INFINITY || stop == KS_USEC_INFINITY || start > KS_USEC_INFINITY - stop)
                return KS_USEC_INFINITY;
        return start + stop;
}

static int add_file(ks_unit_files *f, char *path, char *content, size_t size, char *symlink) {
        ks_unit_file *p = reallocarray(f->items, f->n + 1, sizeof(ks_unit_file));
        if (!p) {
                free(path);
                free(content);
                free(symlink);
                return -ENOMEM;
        }
        f->items = p;
        f->items[f->n++] = (ks_unit_file) { .path = path, .content = content, .size = size, .symlink = symlink };
        return 0;
}

static void format_duration(char *buf, size_t n, uint64_t usec) {
        if (ks_format_timespan(buf, n, usec) < 0)
                snprintf(buf, n, "%" PRIu64 "us", usec);
}

/* Hundredths of a percent as systemd reads percentages ("50%", "12.5%", "0.25%"). */
static void format_percent(char *buf, size_t n, uint64_t hundredths) {
        uint64_t i = hundredths / 100, f = hundredths % 100;

        if (f == 0)
                snprintf(buf, n, "%" PRIu64 "%%", i);
        else if (f % 10 == 0)
                snprintf(buf, n, "%" PRIu64 ".%" PRIu64 "%%", i, f / 10);
        else
                snprintf(buf, n, "%" PRIu64 ".%02" PRIu64 "%%", i, f);
}

/* Bytes with the largest 1024-based suffix that divides them exactly, as systemd reads them. */
static void format_bytes(char *buf, size_t n, uint64_t v) {
        static const char suffixes[] = "KMGTPE";

        for (int k = 6; k >= 1; k--) {
                uint64_t unit = UINT64_C(1) << (10 * k);
                if (v >= unit && v % unit == 0) {
                        snprintf(buf, n, "%" PRIu64 "%c", v / unit, suffixes[k - 1]);
                        return;
                }
        }
        snprintf(buf, n, "%" PRIu64, v);
}

static int add_limit(ks_unit_text *t, const char *directive, ks_limit l, bool bytes) {
        char buf[64];

        switch (l.kind) {
        case KS_LIMIT_UNSET:
                return 0;
        case KS_LIMIT_INFINITY:
                return ks_unit_text_add_raw(t, directive, "infinity");
        case KS_LIMIT_PERCENT:
                format_percent(buf, sizeof buf, l.value);
                break;
        case KS_LIMIT_ABSOLUTE:
                if (bytes)
                        format_bytes(buf, sizeof buf, l.value);
                else
                        snprintf(buf, sizeof buf, "%" PRIu64, l.value);
                break;
        }
        return ks_unit_text_add_raw(t, directive, buf);
}

static int add_duration(ks_unit_text *t, const char *directive, uint64_t usec) {
        char buf[128];

        if (usec == KS_USEC_UNSET)
                return 0;
        format_duration(buf, sizeof buf, usec);
        return ks_unit_text_add_raw(t, directive, buf);
}

static int header(gen *g, ks_unit_text *t, const char *what) {
        const ks_service *s = g->s;
        _cleanup_free_ char *text = NULL;
        size_t n = strv_len(s->files);
        const char *why = NULL;
        FILE *f;
        size_t size;
        int r;

        f = open_memstream(&text, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "Generated by kservice-generator %sfrom %s", what, n > 0 ? s->files[0] : "?");
        for (size_t i = 1; i < n; i++)
                fprintf(f, "%s%s", i == 1 ? "\nwith drop-ins " : "\n              ", s->files[i]);
        fputs(".\nDo not edit: change the definition and run \"systemctl daemon-reload\". "
              "See kservice.toml(5).", f);
        if (fclose(f) != 0)
                return -ENOMEM;

        r = ks_unit_text_comment(t, text, &why);
        if (r < 0)
                return refuse(g, (ks_origin) { .file = n > 0 ? s->files[0] : NULL }, "the file name", why, r);
        r = ks_unit_text_section(t, "Unit");
        if (r < 0)
                return r;
        return 0;
}

static int source_path(gen *g, ks_unit_text *t) {
        const char *why = NULL;
        int r;

        if (!g->s->files || !g->s->files[0])
                return 0;
        r = ks_unit_text_add_path(t, "SourcePath", NULL, g->s->files[0], &why);
        return r < 0 ? refuse(g, (ks_origin) { .file = g->s->files[0] }, "the definition's path", why, r) : 0;
}

static int deps(gen *g, ks_unit_text *t, const char *directive, const char *key, char **list) {
        const char *why = NULL;
        int r = ks_unit_text_add_unit_list(t, directive, (const char *const *) list, strv_len(list), &why);
        return r < 0 ? refuse_key(g, key, why, r) : 0;
}

static int unit_section(gen *g, ks_unit_text *t) {
        const ks_service *s = g->s;
        const char *why = NULL;
        char buf[128];
        int r;

        r = ks_unit_text_add_value(t, "Description", s->description ?: s->name, &why);
        if (r < 0 && (r = refuse_key(g, "description", why, r)) < 0)
                return r;
        r = ks_unit_text_add_raw(t, "Documentation", "man:kservice.toml(5)");
        if (r < 0)
                return r;
        r = source_path(g, t);
        if (r < 0)
                return r;

        if (ks_service_has_health(s)) {
                /* notifyd sends READY=1 and WATCHDOG=1 for this unit: start it too, and first. */
                r = ks_unit_text_add_raw(t, "Wants", NOTIFYD_UNIT);
                if (r >= 0)
                        r = ks_unit_text_add_raw(t, "After", NOTIFYD_UNIT);
                if (r < 0)
                        return r;
        }
        if ((r = deps(g, t, "After", "after", s->after)) < 0 ||
            (r = deps(g, t, "Before", "before", s->before)) < 0 ||
            (r = deps(g, t, "Requires", "requires", s->requires)) < 0 ||
            (r = deps(g, t, "Wants", "wants", s->wants)) < 0 ||
            (r = deps(g, t, "PartOf", "part_of", s->part_of)) < 0)
                return r;
        if (s->reload_on_change && s->reload_on_change[0]) {
                /* konivrer-reload@NAME.service must be a valid unit name too. */
                if (strlen(RELOAD_PREFIX) + strlen(s->name) + strlen(".service") > 255)
                        return refuse_key(g, "reload_on_change",
                                          "needs a service name short enough for \"" RELOAD_PREFIX "NAME.service\" "
                                          "(at most 231 characters)", -EINVAL);
                r = ks_unit_text_add_rawf(t, "Wants", RELOAD_PREFIX "%s.path", s->name);
                if (r < 0)
                        return r;
        }

        if (s->max_restarts == KS_RESTARTS_INFINITY)
                r = ks_unit_text_add_raw(t, "StartLimitIntervalSec", "0");
        else {
                format_duration(buf, sizeof buf, s->restart_window_usec);
                r = ks_unit_text_add_raw(t, "StartLimitIntervalSec", buf);
                /* systemd counts every start in the window, the first one too: max_restarts
                 * restarts after a start are max_restarts + 1 starts. */
                if (r >= 0)
                        r = ks_unit_text_add_rawf(t, "StartLimitBurst", "%" PRIu64, (uint64_t) s->max_restarts + 1);
        }
        if (r < 0)
                return r;

        if (s->on_give_up) {
                _cleanup_free_ char *u = NULL;
                size_t n = strlen(s->on_give_up);

                /* A template gets this unit's name as its instance ("alert@%n.service"). */
                if (n > strlen("@.service") && strstr(s->on_give_up, "@.")) {
                        const char *at = strstr(s->on_give_up, "@.");
                        if (asprintf(&u, "%.*s@%%n%s", (int) (at - s->on_give_up + 0), s->on_give_up, at + 1) < 0)
                                return -ENOMEM;
                        r = ks_unit_text_add_raw(t, "OnFailure", u);
                } else {
                        const char *one[] = { s->on_give_up };
                        r = ks_unit_text_add_unit_list(t, "OnFailure", one, 1, &why);
                        if (r < 0)
                                return refuse_key(g, "on_give_up", why, r);
                }
                if (r < 0)
                        return r;
        }

        /* With RestartMode=direct (below) an automatic restart never passes through "failed", so
         * the job of "systemctl start" stays running across restarts: a start that keeps timing
         * out blocked once per restart, up to the start limit, or for ever with max_restarts =
         * "infinity". Bounded as before 254, where the job fails with the first attempt: one
         * attempt (and a restart job: a stop, then a start) takes at most start + stop timeout.
         * Not with on_give_up: systemd starts OnFailure= units when a job times out, which would
         * page someone at every slow start while the restarts go on. */
        if (s->restart != KS_RESTART_NO && g->o->systemd_version >= KS_SYSTEMD_VERSION_RESTART_MODE &&
            !s->on_give_up) {
                uint64_t job = ks_unit_job_timeout_usec(s);
                if (job != KS_USEC_INFINITY) {
                        format_duration(buf, sizeof buf, job);
                        r = ks_unit_text_add_raw(t, "JobRunningTimeoutSec", buf);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

static int exec_start(gen *g, ks_unit_text *t) {
        const ks_service *s = g->s;
        const char *why = NULL;
        size_t idx = 0;
        int r;

        r = ks_unit_text_add_exec(t, "ExecStart", (const char *const *) s->exec, s->n_exec, &idx, &why);
        if (r < 0 && r != -ENOMEM) {
                _cleanup_free_ char *what = NULL;
                ks_origin o = s->exec_origin && idx < s->n_exec ? s->exec_origin[idx] : origin_of(s, "exec");
                if (asprintf(&what, "exec[%zu]", idx) < 0)
                        return -ENOMEM;
                return refuse(g, o, what, why, r);
        }
        return r;
}

static const char *kill_signal_name(int sig, char *buf, size_t n) {
        const char *name = ks_signal_to_string(sig);
        if (name)
                return name;
        snprintf(buf, n, "%d", sig);
        return buf;
}

/* A token list where "~" inverts the whole line in systemd (SystemCallFilter=~@privileged is a
 * deny list), so "@system-service ~@privileged" must become two lines: the allowed tokens, then
 * the denied ones under one "~". */
static int add_tokens(ks_unit_text *t, const char *directive, const char *value) {
        _cleanup_free_ char *allow = calloc(1, strlen(value) + 1), *deny = calloc(1, strlen(value) + 2);
        int r;

        if (!allow || !deny)
                return -ENOMEM;
        if (!strchr(value, '~'))
                return ks_unit_text_add_raw(t, directive, value);
        for (const char *p = value; *p;) {
                size_t n = strcspn(p, " ");
                if (n > 0) {
                        bool neg = p[0] == '~';
                        char *dst = neg ? deny : allow;
                        if (*dst)
                                strcat(dst, " ");
                        else if (neg)
                                strcat(dst, "~");
                        strncat(dst, p + neg, n - neg);
                }
                p += n;
                p += strspn(p, " ");
        }
        if (*allow && (r = ks_unit_text_add_raw(t, directive, allow)) < 0)
                return r;
        if (*deny && (r = ks_unit_text_add_raw(t, directive, deny)) < 0)
                return r;
        return 0;
}

static int service_section(gen *g, ks_unit_text *t) {
        const ks_service *s = g->s;
        const char *why = NULL;
        char buf[128];
        int r;

        r = ks_unit_text_section(t, "Service");
        if (r < 0)
                return r;
        r = ks_unit_text_add_raw(t, "Type", ks_service_type_to_string(ks_service_unit_type(s)));
        if (r < 0)
                return r;
        if (ks_service_has_health(s)) {
                /* notifyd speaks for the service with its MainPID (sd_pid_notify). */
                r = ks_unit_text_add_raw(t, "NotifyAccess", "main");
                if (r < 0)
                        return r;
        }
        r = exec_start(g, t);
        if (r < 0)
                return r;
        if (s->reload_signal) {
                /* The shell's own kill: a kill binary is not everywhere (Debian 13's minbase has
                 * none). ${MAINPID} is systemd's variable, expanded when the command runs. */
                const char *name = ks_signal_to_string(s->reload_signal);
                if (name && strncmp(name, "SIG", 3) == 0 && !strchr(name, '+'))
                        r = ks_unit_text_add_rawf(t, "ExecReload", "/bin/sh -c \"kill -s %s ${MAINPID}\"", name + 3);
                else
                        r = ks_unit_text_add_rawf(t, "ExecReload", "/bin/sh -c \"kill -%d ${MAINPID}\"", s->reload_signal);
                if (r < 0)
                        return r;
        }

        if (s->working_directory) {
                r = ks_unit_text_add_path(t, "WorkingDirectory", NULL, s->working_directory, &why);
                if (r < 0 && (r = refuse_key(g, "working_directory", why, r)) < 0)
                        return r;
        }
        if (s->user) {
                r = ks_unit_text_add_value(t, "User", s->user, &why);
                if (r < 0 && (r = refuse_key(g, "user", why, r)) < 0)
                        return r;
        }
        if (s->group) {
                r = ks_unit_text_add_value(t, "Group", s->group, &why);
                if (r < 0 && (r = refuse_key(g, "group", why, r)) < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_environment; i++) {
                const ks_kv *kv = &s->environment[i];
                r = ks_unit_text_add_env(t, kv->key, kv->value, &why);
                if (r < 0) {
                        _cleanup_free_ char *what = NULL;
                        if (r == -ENOMEM || asprintf(&what, "environment.%s", kv->key) < 0)
                                return -ENOMEM;
                        if ((r = refuse(g, kv->origin.file ? kv->origin : origin_of(s, "environment"),
                                        what, why, r)) < 0)
                                return r;
                }
        }
        for (char **p = s->environment_file; p && *p; p++) {
                bool optional = (*p)[0] == '-';
                r = ks_unit_text_add_path(t, "EnvironmentFile", optional ? "-" : NULL, *p + optional, &why);
                if (r < 0 && (r = refuse_key(g, "environment_file", why, r)) < 0)
                        return r;
        }

        if ((r = add_duration(t, "TimeoutStartSec", ks_service_start_timeout_usec(s))) < 0 ||
            (r = add_duration(t, "TimeoutStopSec", s->stop_timeout_usec)) < 0)
                return r;
        if (s->kill_signal) {
                r = ks_unit_text_add_raw(t, "KillSignal", kill_signal_name(s->kill_signal, buf, sizeof buf));
                if (r < 0)
                        return r;
        }

        r = ks_unit_text_add_raw(t, "Restart", ks_restart_to_string(s->restart));
        if (r >= 0)
                r = add_duration(t, "RestartSec", s->restart_delay_usec);
        /* Since systemd 254 a restarting unit passes through "failed" (firing OnFailure= and
         * failing units that require it) unless RestartMode=direct; before 254 it never did.
         * Either way on_give_up then fires only when the restart policy gives up. */
        if (r >= 0 && s->restart != KS_RESTART_NO && g->o->systemd_version >= KS_SYSTEMD_VERSION_RESTART_MODE)
                r = ks_unit_text_add_raw(t, "RestartMode", "direct");
        if (r < 0)
                return r;
        if (s->restart_max_delay_usec != KS_USEC_UNSET) {
                if (g->o->systemd_version >= KS_SYSTEMD_VERSION_RESTART_STEPS) {
                        if (s->restart_steps > 0 &&
                            (r = ks_unit_text_add_rawf(t, "RestartSteps", "%u", s->restart_steps)) < 0)
                                return r;
                        if ((r = add_duration(t, "RestartMaxDelaySec", s->restart_max_delay_usec)) < 0)
                                return r;
                } else if (g->notices) {
                        ks_origin o = origin_of(s, "restart_max_delay");
                        char v[32];

                        if (g->o->systemd_version > 0)
                                snprintf(v, sizeof v, "%u", g->o->systemd_version);
                        else
                                strcpy(v, "unknown");
                        format_duration(buf, sizeof buf, s->restart_delay_usec);
                        if (ks_diag_add(g->notices, o.file, o.line, o.column,
                                        "restart_max_delay and restart_steps need systemd %d or newer (this is %s): "
                                        "restarting after a constant %s instead",
                                        KS_SYSTEMD_VERSION_RESTART_STEPS, v, buf) < 0)
                                return -ENOMEM;
                }
        }

        if (ks_service_has_health(s)) {
                r = add_duration(t, "WatchdogSec", ks_service_watchdog_usec(s));
                if (r < 0)
                        return r;
        }

        /* Resources. */
        const ks_resources *res = &s->resources;
        if ((r = add_limit(t, "MemoryMax", res->memory_max, true)) < 0 ||
            (r = add_limit(t, "MemoryHigh", res->memory_high, true)) < 0)
                return r;
        if (res->cpu_quota > 0) {
                format_percent(buf, sizeof buf, res->cpu_quota);
                if ((r = ks_unit_text_add_raw(t, "CPUQuota", buf)) < 0)
                        return r;
        }
        if ((r = add_limit(t, "TasksMax", res->tasks_max, false)) < 0)
                return r;
        if (res->io_weight > 0 && (r = ks_unit_text_add_rawf(t, "IOWeight", "%u", res->io_weight)) < 0)
                return r;
        if (res->nice_set && (r = ks_unit_text_add_rawf(t, "Nice", "%d", res->nice)) < 0)
                return r;

        /* Sandboxing: the model resolved preset + overrides; emitted in its table's order. */
        for (size_t i = 0; i < _KS_SANDBOX_SETTING_MAX; i++) {
                const ks_sandbox_setting_info *info = &ks_sandbox_settings[i];

                if (info->kind == KS_SANDBOX_KIND_PATHS) {
                        char **paths = s->sandbox.paths[i];
                        r = ks_unit_text_add_path_list(t, info->directive, (const char *const *) paths,
                                                       strv_len(paths), &why);
                } else if (s->sandbox.value[i] && info->kind == KS_SANDBOX_KIND_TOKENS) {
                        why = "contains a line break";
                        r = add_tokens(t, info->directive, s->sandbox.value[i]);
                } else if (s->sandbox.value[i]) {
                        why = "contains a line break";
                        r = ks_unit_text_add_raw(t, info->directive, s->sandbox.value[i]);
                } else
                        r = 0;
                if (r < 0) {
                        _cleanup_free_ char *key = NULL;
                        if (r == -ENOMEM || asprintf(&key, "sandbox.%s", info->key) < 0)
                                return -ENOMEM;
                        if ((r = refuse_key(g, key, why, r)) < 0)
                                return r;
                }
        }
        return 0;
}

static int emit(ks_unit_files *out, const char *path, ks_unit_text *t) {
        size_t size;
        char *content = ks_unit_text_steal(t, &size);
        char *p = strdup(path);

        if (!content || !p) {
                free(content);
                free(p);
                return -ENOMEM;
        }
        return add_file(out, p, content, size, NULL);
}

static int emit_symlink(ks_unit_files *out, const char *dir, const char *unit) {
        char *path = NULL, *target = NULL;

        if (asprintf(&path, "%s/%s", dir, unit) < 0)
                return -ENOMEM;
        if (asprintf(&target, "../%s", unit) < 0) {
                free(path);
                return -ENOMEM;
        }
        return add_file(out, path, NULL, 0, target);
}

/* reload_on_change: konivrer-reload@NAME.path, pulled in by the service (Wants=), watching the
 * paths and starting konivrer-reload@NAME.service, an instance of the installed template that
 * runs "systemctl reload konivrer@NAME.service". One generated file per service: the template
 * and a Wants= line cost nothing per service, which matters with thousands of them. */
static int reload_unit(gen *g, ks_unit_files *out) {
        const ks_service *s = g->s;
        _cleanup_free_ char *path_unit = NULL, *svc_unit = NULL, *desc = NULL;
        ks_unit_text t = KS_UNIT_TEXT_INIT;
        const char *why = NULL;
        int r;

        if (asprintf(&path_unit, RELOAD_PREFIX "%s.path", s->name) < 0 ||
            asprintf(&svc_unit, RELOAD_PREFIX "%s.service", s->name) < 0 ||
            asprintf(&desc, "Reload %s when its files change", s->unit) < 0)
                return -ENOMEM;

        r = header(g, &t, "(reload_on_change) ");
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "Description", desc);
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "Documentation", "man:kservice.toml(5)");
        if (r >= 0)
                r = source_path(g, &t);
        /* Runs while the service runs: pulled in by it (Wants=), stopped with it. */
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "PartOf", s->unit);
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "After", s->unit);
        if (r >= 0)
                r = ks_unit_text_section(&t, "Path");
        for (char **p = s->reload_on_change; r >= 0 && p && *p; p++) {
                r = ks_unit_text_add_path(&t, "PathChanged", NULL, *p, &why);
                if (r == -EINVAL)
                        r = refuse_key(g, "reload_on_change", why, r);
        }
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "Unit", svc_unit);
        if (r >= 0)
                r = emit(out, path_unit, &t);
        ks_unit_text_done(&t);
        return r;
}

static int cmp_file(const void *a, const void *b) {
        return strcmp(((const ks_unit_file *) a)->path, ((const ks_unit_file *) b)->path);
}

int ks_unit_gen(const ks_service *s, const ks_unit_gen_options *o, ks_unit_files *ret,
                ks_diag_list *diags, ks_diag_list *notices) {
        static const ks_unit_gen_options defaults = {};
        ks_unit_files out = {};
        ks_unit_text t = KS_UNIT_TEXT_INIT;
        gen g = { .s = s, .o = o ?: &defaults, .diags = diags, .notices = notices };
        int r;

        r = header(&g, &t, "");
        if (r >= 0)
                r = unit_section(&g, &t);
        if (r >= 0)
                r = service_section(&g, &t);
        if (r >= 0 && !g.failed)
                r = emit(&out, s->unit, &t);
        ks_unit_text_done(&t);

        if (r >= 0 && !g.failed && s->enabled)
                for (char **w = s->wanted_by; r >= 0 && w && *w; w++) {
                        _cleanup_free_ char *dir = NULL;
                        if (asprintf(&dir, "%s.wants", *w) < 0)
                                r = -ENOMEM;
                        else
                                r = emit_symlink(&out, dir, s->unit);
                }
        if (r >= 0 && !g.failed && s->reload_on_change && s->reload_on_change[0])
                r = reload_unit(&g, &out);

        if (r >= 0 && g.failed)
                r = -EINVAL;
        if (r < 0) {
                ks_unit_files_done(&out);
                return r;
        }
        /* One order for printing and writing, whatever order they were built in. */
        qsort(out.items, out.n, sizeof(ks_unit_file), cmp_file);
        *ret = out;
        return 0;
}

static unsigned version_in_dir(const char *dir) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        unsigned best = 0;

        if (!d)
                return 0;
        while ((de = readdir(d))) {
                const char *p = de->d_name;
                unsigned v = 0;

                if (strncmp(p, "libsystemd-shared-", 18) != 0)
                        continue;
                p += 18;
                if (*p < '0' || *p > '9')
                        continue;
                while (*p >= '0' && *p <= '9' && v < 100000)
                        v = v * 10 + (unsigned) (*p++ - '0');
                best = MAX(best, v);
        }
        return best;
}

unsigned ks_systemd_version(void) {
        static const char *const dirs[] = {
                "/usr/lib/systemd", "/usr/lib64/systemd", "/lib/systemd",
        };
        const char *e = getenv("KSERVICE_SYSTEMD_VERSION");
        unsigned v;

        if (e && *e) {
                char *end;
                unsigned long l = strtoul(e, &end, 10);
                return *end == 0 && l < 100000 ? (unsigned) l : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                v = version_in_dir(dirs[i]);
                if (v > 0)
                        return v;
        }

        /* Debian's multiarch directories: /usr/lib/<triplet>/systemd. */
        _cleanup_(closedirp) DIR *d = opendir("/usr/lib");
        struct dirent *de;
        if (!d)
                return 0;
        while ((de = readdir(d))) {
                _cleanup_free_ char *sub = NULL;

                if (!strstr(de->d_name, "-linux-"))
                        continue;
                if (asprintf(&sub, "/usr/lib/%s/systemd", de->d_name) < 0)
                        return 0;
                v = version_in_dir(sub);
                if (v > 0)
                        return v;
        }
        return 0;
}

/* Hands one message to the log callback as one line: control characters from a definition
 * are shown escaped, so they cannot forge further log records. */
static int log_line(const ks_unit_gen_callbacks *cb, int level, const char *text) {
        _cleanup_free_ char *e = escape_controls(text, 0);

        if (!e)
                return -ENOMEM;
        cb->log(level, e, cb->userdata);
        return 0;
}

int ks_unit_gen_invalid(const char *name, const char *path, const char *first_error, size_t n_errors,
                        ks_unit_files *ret) {
        _cleanup_free_ char *error = escape_controls(first_error, 0), *file = NULL, *desc = NULL,
                            *msg = NULL, *comment = NULL;
        ks_unit_text t = KS_UNIT_TEXT_INIT;
        ks_unit_files out = {};
        int r;

        if (!error)
                return -ENOMEM;
        if (asprintf(&file, KS_UNIT_PREFIX "%s" KS_UNIT_SUFFIX ".d/50-kservice-invalid.conf", name) < 0 ||
            asprintf(&desc, "kservice %s (invalid definition: %s)", name, error) < 0 ||
            asprintf(&msg, KS_UNIT_PREFIX "%s" KS_UNIT_SUFFIX ": invalid kservice definition, not started: %s "
                     "(%zu error%s; \"kservicectl verify %s\" shows %s). See man 5 kservice.toml.",
                     name, error, n_errors, n_errors == 1 ? "" : "s", path, n_errors == 1 ? "it" : "them all") < 0 ||
            asprintf(&comment, "Generated by kservice-generator: %s is invalid, so no unit was generated and\n"
                     "systemd uses the fallback " KS_UNIT_PREFIX KS_UNIT_SUFFIX "; this drop-in makes it say why.\n"
                     "Do not edit: fix the definition and run \"systemctl daemon-reload\". See kservice.toml(5).",
                     path) < 0)
                return -ENOMEM;

        r = ks_unit_text_comment(&t, comment, NULL);
        if (r == -EINVAL)
                r = 0;          /* a path a comment cannot carry: no comment then */
        if (r >= 0)
                r = ks_unit_text_section(&t, "Unit");
        if (r >= 0) {
                r = ks_unit_text_add_value(&t, "Description", desc, NULL);
                if (r == -EINVAL) {
                        free(desc);
                        desc = NULL;
                        if (asprintf(&desc, "kservice %s (invalid definition)", name) < 0)
                                r = -ENOMEM;
                        else
                                r = ks_unit_text_add_value(&t, "Description", desc, NULL);
                }
        }
        if (r >= 0)
                r = ks_unit_text_section(&t, "Service");
        /* The template's ExecStart= lines are replaced: an empty assignment resets the list. */
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "ExecStart", "");
        if (r >= 0) {
                const char *argv[] = { "/bin/echo", msg };
                r = ks_unit_text_add_exec(&t, "ExecStart", argv, 2, NULL, NULL);
                if (r == -EINVAL) {
                        /* An error text a command line cannot carry (bytes that are not UTF-8, a
                         * noncharacter, a line too long): the message without it. */
                        free(msg);
                        msg = NULL;
                        if (asprintf(&msg, KS_UNIT_PREFIX "%s" KS_UNIT_SUFFIX ": invalid kservice definition, not "
                                     "started (%zu error%s; kservicectl verify shows %s). See man 5 kservice.toml.",
                                     name, n_errors, n_errors == 1 ? "" : "s", n_errors == 1 ? "it" : "them all") < 0)
                                r = -ENOMEM;
                        else {
                                argv[1] = msg;
                                r = ks_unit_text_add_exec(&t, "ExecStart", argv, 2, NULL, NULL);
                        }
                }
        }
        if (r >= 0)
                r = ks_unit_text_add_raw(&t, "ExecStart", "/bin/false");
        if (r >= 0)
                r = emit(&out, file, &t);
        ks_unit_text_done(&t);
        if (r < 0) {
                ks_unit_files_done(&out);
                return r;
        }
        *ret = out;
        return 0;
}

/* A definition that does not load: its drop-in for the fallback template, when asked for. */
static int emit_invalid(const ks_unit_gen_callbacks *cb, const ks_config_entry *e, const char *first_error,
                        size_t n_errors) {
        ks_unit_files files = {};
        int r;

        if (!cb->emit_invalid)
                return 0;
        r = ks_unit_gen_invalid(e->name, e->path, first_error, n_errors, &files);
        if (r < 0)
                /* Only running out of memory stops the run: the other definitions still get their
                 * units, this one the template's generic failure. */
                return r == -ENOMEM ? r : 0;
        r = cb->emit_invalid(e->path, &files, cb->userdata);
        ks_unit_files_done(&files);
        return r == -ENOMEM ? r : 0;
}

static int log_diags(const ks_unit_gen_callbacks *cb, int level, ks_diag_list *l) {
        int r = 0;

        for (size_t i = 0; i < l->n && r >= 0; i++)
                r = log_line(cb, level, l->items[i].text);
        ks_diag_list_clear(l);
        return r;
}

int ks_unit_gen_set(const ks_config_set *set, const ks_unit_gen_options *o, const ks_unit_gen_callbacks *cb) {
        int failed = 0, r;

        for (size_t i = 0; i < set->n_problems; i++) {
                _cleanup_free_ char *text = NULL;
                if (asprintf(&text, "%s: %s", set->problems[i].path, set->problems[i].message) < 0)
                        return -ENOMEM;
                if (log_line(cb, LOG_ERR, text) < 0)
                        return -ENOMEM;
                failed++;
        }

        for (size_t i = 0; i < set->n_entries; i++) {
                const ks_config_entry *e = &set->entries[i];
                _cleanup_service_ ks_service *s = NULL;
                _cleanup_diag_list_ ks_diag_list diags = {}, notices = {};
                ks_unit_files files = {};

                if (e->masked) {
                        _cleanup_free_ char *text = NULL;
                        if (asprintf(&text, "%s: masked, no unit for \"%s\"", e->path, e->name) < 0)
                                return -ENOMEM;
                        if (log_line(cb, LOG_INFO, text) < 0)
                                return -ENOMEM;
                        continue;
                }

                r = ks_service_load_files(e->name, e->path, (const char *const *) e->dropins, e->n_dropins,
                                          &s, &diags);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        _cleanup_free_ char *text = NULL;
                        size_t n = MAX(diags.n, (size_t) 1);

                        if (diags.n == 0) {
                                if (asprintf(&text, "%s: cannot load: %s", e->path, strerror(-r)) < 0)
                                        return -ENOMEM;
                                if (log_line(cb, LOG_ERR, text) < 0)
                                        return -ENOMEM;
                        } else if (!(text = strdup(diags.items[0].text)))
                                return -ENOMEM;
                        if (log_diags(cb, LOG_ERR, &diags) < 0)
                                return -ENOMEM;
                        if (emit_invalid(cb, e, text, n) < 0)
                                return -ENOMEM;
                        failed++;
                        continue;
                }

                r = ks_unit_gen(s, o, &files, &diags, &notices);
                if (log_diags(cb, LOG_NOTICE, &notices) < 0)
                        return -ENOMEM;
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        _cleanup_free_ char *text = diags.n > 0 ? strdup(diags.items[0].text) : NULL;
                        size_t n = MAX(diags.n, (size_t) 1);

                        if (diags.n > 0 && !text)
                                return -ENOMEM;
                        if (log_diags(cb, LOG_ERR, &diags) < 0)
                                return -ENOMEM;
                        if (emit_invalid(cb, e, text ?: "cannot be written into a unit file", n) < 0)
                                return -ENOMEM;
                        failed++;
                        continue;
                }
                r = cb->emit(s, &files, cb->userdata);
                ks_unit_files_done(&files);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        failed++;
        }
        return failed;
}
