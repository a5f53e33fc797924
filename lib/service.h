/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The model of one service definition, /etc/kservice/NAME.toml (format version 1, documented in
 * kservice.toml(5)), and its validation. The generator turns a ks_service into
 * konivrer@NAME.service, notifyd runs its health checks, kservicectl verifies it.
 *
 * Layout of the TOML file (every key is listed in ks_service_keys[]):
 *
 *   version, description, exec, working_directory, user, group, type, start_timeout,
 *   stop_timeout, kill_signal, reload_signal, environment_file        top level: the process
 *   [environment]                                                     NAME = "value", in order
 *   restart, restart_delay, restart_max_delay, restart_steps,
 *   max_restarts, restart_window, on_give_up                          top level: restart policy
 *   after, before, requires, wants, part_of                           top level: dependencies
 *   enabled, wanted_by, reload_on_change                              top level: boot, hot reload
 *   [health] + [[health.check]]                                       health checks (notifyd)
 *   [resources]                                                       cgroup limits, nice
 *   [sandbox]  preset + individual overrides                          hardening
 *
 * A ks_service owns all of its memory (strings are copied out of the TOML documents). Optional
 * values use the sentinels below: KS_USEC_UNSET for durations, NULL for strings, 0 for signals.
 * Defaults are already filled in after loading, so consumers need no knowledge of them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "macro.h"
#include "time-util.h"
#include "status-range.h"
#include "toml.h"

#define KS_FORMAT_VERSION 1

/* KS_USEC_PER_SEC and KS_USEC_INFINITY ("infinity") come from time-util.h. */
#define KS_USEC_UNSET (UINT64_MAX - 1)   /* "not configured": systemd's default applies */

/* The generated unit of service NAME is konivrer@NAME.service. */
#define KS_UNIT_PREFIX "konivrer@"
#define KS_UNIT_SUFFIX ".service"
/* systemd rejects unit names of 256 bytes or more, so NAME may have at most this many bytes. */
#define KS_NAME_MAX (255 - (sizeof(KS_UNIT_PREFIX) - 1) - (sizeof(KS_UNIT_SUFFIX) - 1))

/* Health-derived WatchdogSec = failure_threshold * interval + timeout + KS_WATCHDOG_GRACE_USEC,
 * rounded up to whole seconds. interval + timeout is the longest gap between two WATCHDOG=1
 * pings of a healthy service (a round may take the whole timeout). Failures are not left to this
 * timer: notifyd sends WATCHDOG=trigger when failure_threshold is reached; the timer only acts
 * when notifyd is gone. The grace lets notifyd crash or hang, be restarted by systemd (its own
 * 10 s watchdog, 25.5 s at worst) and ping again before any healthy service is killed, and it
 * sets how often a healthy service must be pinged at all (every half watchdog): every WATCHDOG=1
 * costs PID 1 about 30 us, which at 30 s of grace was 1.4 % of a CPU at 5000 services checked
 * every second (bench/README.md); 5 minutes makes it about 0.2 %, and a service left unchecked
 * (notifyd gone for good) still runs at most about 5 minutes before its watchdog restarts it. */
#define KS_WATCHDOG_GRACE_USEC (300 * KS_USEC_PER_SEC)
/* With readiness gating and no explicit start_timeout, TimeoutStartSec = max(this,
 * start_period + failure_threshold * interval + timeout), so the health policy decides. */
#define KS_START_TIMEOUT_DEFAULT_USEC (90 * KS_USEC_PER_SEC)

/* Where a value came from, for "FILE:LINE:COL: message". file points into ks_service.files. */
typedef struct ks_origin {
        const char *file;
        unsigned line, column;
} ks_origin;

/* An ordered NAME = value pair ([environment], HTTP headers). */
typedef struct ks_kv {
        char *key;
        char *value;
        ks_origin origin;
} ks_kv;

typedef enum ks_service_type {
        KS_SERVICE_EXEC,        /* default: started once execve() succeeded */
        KS_SERVICE_SIMPLE,
        KS_SERVICE_FORKING,
        KS_SERVICE_NOTIFY,      /* the program speaks sd_notify itself */
        _KS_SERVICE_TYPE_MAX,
} ks_service_type;

typedef enum ks_restart {
        KS_RESTART_NO,
        KS_RESTART_ON_FAILURE,  /* default */
        KS_RESTART_ON_ABNORMAL,
        KS_RESTART_ON_WATCHDOG,
        KS_RESTART_ALWAYS,
        _KS_RESTART_MAX,
} ks_restart;

/* max_restarts = "infinity": no start rate limit (StartLimitIntervalSec=0). */
#define KS_RESTARTS_INFINITY UINT32_MAX

typedef enum ks_check_type {
        KS_CHECK_HTTP,
        KS_CHECK_TCP,
        _KS_CHECK_TYPE_MAX,
} ks_check_type;

typedef struct ks_check {
        ks_check_type type;
        ks_origin origin;               /* of the [[health.check]] header */

        /* http */
        char *url;                      /* http:// or https:// */
        char *method;                   /* GET (default), HEAD, POST, PUT, OPTIONS */
        ks_status_range *expect_status; /* default: one range, 200-299 */
        size_t n_expect_status;
        char *expect_body;              /* substring the body must contain; NULL: any body */
        ks_kv *headers;                 /* extra request headers, in order */
        size_t n_headers;
        bool tls_verify;                /* default true */
        bool follow_redirects;          /* default false: a 3xx is judged as it is */
        uint64_t max_response_bytes;    /* default 64 KiB; a bigger response fails the check */

        /* tcp */
        char *host;                     /* default "127.0.0.1" */
        uint16_t port;
} ks_check;

/* A "round" runs every check in order, at most one in flight, and stops at the first failure;
 * the round passes when all checks pass. timeout bounds the whole round. */
typedef struct ks_health {
        ks_check *checks;               /* n_checks == 0: no [health], notifyd ignores the service */
        size_t n_checks;
        uint64_t interval_usec;         /* default 10 s; time between the starts of two rounds */
        uint64_t timeout_usec;          /* default 5 s; <= interval */
        uint64_t start_period_usec;     /* default 0; failures after a (re)start do not count */
        unsigned failure_threshold;     /* default 3 consecutive failed rounds: WATCHDOG=trigger */
        unsigned success_threshold;     /* default 1 consecutive passes to be healthy again */
        bool ready_on_pass;             /* default true (false with type = "notify"): READY=1 when
                                         * first healthy (success_threshold passes in a row);
                                         * false: notifyd sends READY=1 as soon as it sees the
                                         * process, or never with type = "notify" */
        uint64_t watchdog_usec;         /* explicit health.watchdog, or KS_USEC_UNSET: derived */
        /* notifyd's model of the service, not the checks: flapping (percent state change over
         * the last 21 results, notifyd/model/flap.h) and the health score's half-life. */
        double flap_low_threshold;      /* default 5: flapping stops at or below it */
        double flap_high_threshold;     /* default 20: flapping starts at or above it; > low */
        uint64_t score_half_life_usec;  /* default 1 h */
} ks_health;

/* A size or count limit: memory_max, memory_high, tasks_max. */
typedef enum ks_limit_kind {
        KS_LIMIT_UNSET,
        KS_LIMIT_ABSOLUTE,      /* value: bytes (memory) or a count (tasks) */
        KS_LIMIT_PERCENT,       /* value: hundredths of a percent, 0..10000 ("12.5%" is 1250) */
        KS_LIMIT_INFINITY,
} ks_limit_kind;

typedef struct ks_limit {
        ks_limit_kind kind;
        uint64_t value;
} ks_limit;

typedef struct ks_resources {
        ks_limit memory_max;
        ks_limit memory_high;
        ks_limit tasks_max;
        uint32_t cpu_quota;     /* hundredths of a percent of one CPU ("150%" is 15000); 0: unset */
        unsigned io_weight;     /* 1..10000; 0: unset */
        bool nice_set;
        int nice;               /* -20..19 */
} ks_resources;

/* Sandboxing. A preset fills in a documented set of systemd options (ks_sandbox_settings[]);
 * individual keys in [sandbox] override single options. */
typedef enum ks_sandbox_preset {
        KS_SANDBOX_NONE,
        KS_SANDBOX_DEFAULT,     /* the default */
        KS_SANDBOX_STRICT,
        _KS_SANDBOX_PRESET_MAX,
} ks_sandbox_preset;

typedef enum ks_sandbox_kind {
        KS_SANDBOX_KIND_BOOL,        /* TOML bool; emitted as yes/no */
        KS_SANDBOX_KIND_ENUM,        /* one string of ks_sandbox_setting_info.choices (true/false too,
                                 * when "yes"/"no" are among them) */
        KS_SANDBOX_KIND_TOKENS,      /* array of words, emitted space-separated on one line */
        KS_SANDBOX_KIND_PATHS,       /* array of absolute paths, the unit writer quotes them */
        KS_SANDBOX_KIND_UMASK,  /* a string of 3 or 4 octal digits */
} ks_sandbox_kind;

typedef enum ks_sandbox_setting {
        KS_SANDBOX_NO_NEW_PRIVILEGES,
        KS_SANDBOX_PRIVATE_TMP,
        KS_SANDBOX_PRIVATE_DEVICES,
        KS_SANDBOX_PRIVATE_NETWORK,
        KS_SANDBOX_PROTECT_SYSTEM,
        KS_SANDBOX_PROTECT_HOME,
        KS_SANDBOX_PROTECT_KERNEL_TUNABLES,
        KS_SANDBOX_PROTECT_KERNEL_MODULES,
        KS_SANDBOX_PROTECT_KERNEL_LOGS,
        KS_SANDBOX_PROTECT_CONTROL_GROUPS,
        KS_SANDBOX_PROTECT_CLOCK,
        KS_SANDBOX_PROTECT_HOSTNAME,
        KS_SANDBOX_PROTECT_PROC,
        KS_SANDBOX_RESTRICT_SUID_SGID,
        KS_SANDBOX_RESTRICT_REALTIME,
        KS_SANDBOX_RESTRICT_NAMESPACES,
        KS_SANDBOX_LOCK_PERSONALITY,
        KS_SANDBOX_MEMORY_DENY_WRITE_EXECUTE,
        KS_SANDBOX_SYSTEM_CALL_ARCHITECTURES,
        KS_SANDBOX_SYSTEM_CALL_FILTER,
        KS_SANDBOX_RESTRICT_ADDRESS_FAMILIES,
        KS_SANDBOX_CAPABILITY_BOUNDING_SET,
        KS_SANDBOX_AMBIENT_CAPABILITIES,
        KS_SANDBOX_UMASK,
        KS_SANDBOX_READ_WRITE_PATHS,
        KS_SANDBOX_READ_ONLY_PATHS,
        KS_SANDBOX_INACCESSIBLE_PATHS,
        _KS_SANDBOX_SETTING_MAX,
} ks_sandbox_setting;

typedef struct ks_sandbox_setting_info {
        const char *key;                /* in [sandbox], e.g. "private_tmp" */
        const char *directive;          /* e.g. "PrivateTmp" */
        ks_sandbox_kind kind;
        const char *const *choices;     /* KS_SANDBOX_KIND_ENUM: NULL-terminated */
        /* What each preset sets, as the text after "Directive=" (NULL: not emitted). For
         * KS_SANDBOX_KIND_PATHS the presets set nothing. Indexed by ks_sandbox_preset. */
        const char *preset[_KS_SANDBOX_PRESET_MAX];
} ks_sandbox_setting_info;

/* Indexed by ks_sandbox_setting; the generator emits options in this order. */
extern const ks_sandbox_setting_info ks_sandbox_settings[_KS_SANDBOX_SETTING_MAX];

typedef struct ks_sandbox {
        ks_sandbox_preset preset;
        /* The resolved option set, preset plus overrides. For every kind but PATHS: the text after
         * "Directive=" or NULL (not emitted); "" is a real value (CapabilityBoundingSet= empties the
         * set). For PATHS: paths[setting] (NULL or a NULL-terminated list), one path per entry. */
        char *value[_KS_SANDBOX_SETTING_MAX];
        char **paths[_KS_SANDBOX_SETTING_MAX];
} ks_sandbox;

typedef struct ks_service {
        char *name;                     /* NAME of NAME.toml; a valid instance name */
        char *unit;                     /* "konivrer@NAME.service" */
        char **files;                   /* the files merged, main file first, then drop-ins */

        /* process */
        char *description;              /* default: "kservice NAME" */
        char **exec;                    /* argv, NULL-terminated, at least one element */
        ks_origin *exec_origin;         /* per argument (all the same when split from a string) */
        size_t n_exec;
        char *working_directory;        /* absolute path or NULL */
        char *user, *group;             /* NULL: root (systemd's default) */
        ks_kv *environment;             /* in order; a drop-in overrides a key in place */
        size_t n_environment;
        char **environment_file;        /* absolute paths, an optional one prefixed with "-" */
        ks_service_type type;           /* as written; see ks_service_unit_type() */
        uint64_t start_timeout_usec;    /* KS_USEC_UNSET, KS_USEC_INFINITY or a value */
        uint64_t stop_timeout_usec;
        int kill_signal;                /* 0: unset (SIGTERM) */
        int reload_signal;              /* 0: unset: the service cannot be reloaded */

        /* restart policy */
        ks_restart restart;
        uint64_t restart_delay_usec;    /* default 1 s (RestartSec=) */
        uint64_t restart_max_delay_usec;/* KS_USEC_UNSET: no backoff (RestartMaxDelaySec=) */
        unsigned restart_steps;         /* 0 when no backoff; default 10 with restart_max_delay */
        uint32_t max_restarts;          /* default 5 (StartLimitBurst=), or KS_RESTARTS_INFINITY */
        uint64_t restart_window_usec;   /* default 10 min (StartLimitIntervalSec=) */
        char *on_give_up;               /* NULL: nothing; else a unit name for OnFailure=; a
                                         * template "x@.service" is instantiated with this unit's
                                         * name by the generator ("x@%n.service") */

        /* dependencies: resolved unit names (a bare kservice name NAME is konivrer@NAME.service) */
        char **after, **before, **requires, **wants, **part_of;

        /* boot and hot reload */
        bool enabled;                   /* default false */
        char **wanted_by;               /* default {"multi-user.target"} */
        char **reload_on_change;        /* absolute paths; needs reload_signal */

        ks_health health;
        ks_resources resources;
        ks_sandbox sandbox;

        /* Where each key of ks_service_keys[] was last set (file == NULL: not set), same index;
         * the position is the value's. Keys inside [[health.check]] are not tracked here: each
         * ks_check has its own origin, and the last [[health.check]] list wins as a whole. */
        ks_origin *key_origin;
} ks_service;

/* Every key format version 1 accepts, as dotted paths ("health.check.url"), in the order the man
 * page documents them. Tables themselves ("health", "health.check") are listed too. */
typedef enum ks_key_type {
        KS_KEY_TABLE,
        KS_KEY_ARRAY_OF_TABLES,
        KS_KEY_STRING,
        KS_KEY_BOOL,
        KS_KEY_INTEGER,
        KS_KEY_NUMBER,          /* integer or float */
        KS_KEY_DURATION,        /* systemd time span string or integer seconds */
        KS_KEY_SIZE,            /* size/percentage string, integer or "infinity" */
        KS_KEY_STRING_ARRAY,    /* array of strings (some also take one string) */
        KS_KEY_OTHER,           /* documented individually (e.g. integer or "infinity") */
} ks_key_type;

/* The schema: each entry also says how service.c reads the key (systemd's load-fragment-gperf
 * table, as C). A reader checks value v of key and stores it in field, the key's member of the
 * ks_service (of the ks_check for "health.check.*"); it reports a bad value itself, with the
 * value's position, and returns -EINVAL, -ENOMEM or 0. ks_load_ctx is service.c's. */
typedef struct ks_load_ctx ks_load_ctx;
typedef struct ks_key_info ks_key_info;
typedef int (*ks_key_reader)(ks_load_ctx *c, const ks_key_info *key, const ks_toml_value *v, void *field);

struct ks_key_info {
        const char *path;
        ks_key_type type;
        ks_key_reader read;
        size_t offset, size;    /* of the field (offset 0, size 0: the whole struct) */
        int64_t min, max;       /* an integer's bounds; a duration's shortest (usec) in min, an
                                 * enum's number of names in max */
        const void *data;       /* the reader's own: its names, rule or sandbox setting */
};

extern const ks_key_info ks_service_keys[];
extern const size_t ks_service_n_keys;

/* NAME rule: 1..KS_NAME_MAX bytes of [A-Za-z0-9_.:-], not starting with "." or "-", and not
 * ending in a unit type suffix (".service", ".target", ...) so that a bare name in a dependency
 * list is unambiguous. */
bool ks_service_name_is_valid(const char *name);
/* Dependency rule: a string ending in a unit type suffix is a unit name, used as is; anything
 * else must be a valid kservice NAME and means konivrer@NAME.service. */
int ks_dependency_to_unit(const char *dep, char **ret);

/* Loading. ks_service_new() makes a service with every default; ks_service_apply() overlays one
 * parsed file on it (a drop-in: a key present overrides; arrays replace; tables merge per key;
 * [[health.check]] replaces the whole list); ks_service_finalize() fills derived defaults and
 * checks combinations. Each returns -EINVAL when it added diagnostics, -ENOMEM, or 0. */
int ks_service_new(const char *name, ks_service **ret);
int ks_service_apply(ks_service *s, const ks_toml_document *doc, const char *file, ks_diag_list *diags);
int ks_service_finalize(ks_service *s, ks_diag_list *diags);

/* new + apply + finalize for one parsed document. */
int ks_service_load(
                const char *name,
                const ks_toml_document *doc,
                const char *file,
                ks_service **ret,
                ks_diag_list *diags);

/* Parses path and then each drop-in (in the order given; callers sort them by file name), merges
 * them and validates. A TOML syntax error becomes one diagnostic. All files are parsed even when
 * one fails, so all errors are reported at once. */
int ks_service_load_files(
                const char *name,
                const char *path,
                const char *const *dropins,
                size_t n_dropins,
                ks_service **ret,
                ks_diag_list *diags);

ks_service *ks_service_free(ks_service *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_service *, ks_service_free);

/* Frees what only diagnostics about the files need (where each key and argument came from), for
 * long-lived copies that never report on the files again (notifyd keeps thousands). */
void ks_service_drop_origins(ks_service *s);
#define _cleanup_service_ _cleanup_(ks_service_freep)

/* Derived values, computed in one place so generator, notifyd and kservicectl agree. */
static inline bool ks_service_has_health(const ks_service *s) {
        return s->health.n_checks > 0;
}
/* The Type= of the unit: "notify" with health checks, else type as written. */
ks_service_type ks_service_unit_type(const ks_service *s);
/* WatchdogSec= in usec: health.watchdog or the formula above; 0 without health checks. */
uint64_t ks_service_watchdog_usec(const ks_service *s);
/* TimeoutStartSec= in usec, or KS_USEC_UNSET for systemd's default; see above. */
uint64_t ks_service_start_timeout_usec(const ks_service *s);
/* Equality of two health configurations, so notifyd can keep unchanged checks on reload. */
bool ks_health_equal(const ks_health *a, const ks_health *b);

/* A check on its own (notifyd's probes keep one): a deep copy, its release (leaves it zeroed),
 * equality, and "GET http://127.0.0.1:8080/health" or "tcp 127.0.0.1:5432" for messages. */
int ks_check_copy(const ks_check *src, ks_check *ret);
void ks_check_done(ks_check *c);
bool ks_check_equal(const ks_check *a, const ks_check *b);
void ks_check_describe(const ks_check *c, char *buf, size_t size);

/* Enum <-> string, as written in the TOML file (NULL/-EINVAL when out of range/unknown). */
const char *ks_service_type_to_string(ks_service_type t);
const char *ks_restart_to_string(ks_restart r);
const char *ks_check_type_to_string(ks_check_type t);
const char *ks_sandbox_preset_to_string(ks_sandbox_preset p);
/* "SIGTERM" for SIGTERM; NULL for an unknown number. */
const char *ks_signal_to_string(int sig);
/* Accepts "SIGTERM", "TERM", "sigterm", "SIGRTMIN+3". */
int ks_signal_from_string(const char *s);
