/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The kservice.toml model: reading parsed TOML documents into a ks_service through the key table
 * (ks_service_keys[]), merging drop-ins, and validating every key; the combinations of keys are
 * judged in service-validate.c. See service.h and kservice.toml(5).
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env-name.h"
#include "service-keys.h"
#include "service-validate.h"
#include "service.h"
#include "string-util.h"
#include "strv.h"
#include "time-util.h"
#include "unit-name.h"

/* ---------------------------------------------------------------------------------------------
 * Sandbox presets, as data: the generator emits exactly this and the man page documents it. */

static const char *const choices_protect_system[] = { "yes", "no", "full", "strict", NULL };
static const char *const choices_protect_home[] = { "yes", "no", "read-only", "tmpfs", NULL };
static const char *const choices_protect_proc[] = { "default", "invisible", "ptraceable", "noaccess", NULL };

#define P(none, def, strict) { [KS_SANDBOX_NONE] = none, [KS_SANDBOX_DEFAULT] = def, [KS_SANDBOX_STRICT] = strict }
const ks_sandbox_setting_info ks_sandbox_settings[_KS_SANDBOX_SETTING_MAX] = {
        [KS_SANDBOX_NO_NEW_PRIVILEGES] = { "no_new_privileges", "NoNewPrivileges", KS_SANDBOX_KIND_BOOL, NULL,
                                           P(NULL, "yes", "yes") },
        [KS_SANDBOX_PRIVATE_TMP] = { "private_tmp", "PrivateTmp", KS_SANDBOX_KIND_BOOL, NULL, P(NULL, "yes", "yes") },
        [KS_SANDBOX_PRIVATE_DEVICES] = { "private_devices", "PrivateDevices", KS_SANDBOX_KIND_BOOL, NULL,
                                         P(NULL, NULL, "yes") },
        [KS_SANDBOX_PRIVATE_NETWORK] = { "private_network", "PrivateNetwork", KS_SANDBOX_KIND_BOOL, NULL,
                                         P(NULL, NULL, NULL) },
        [KS_SANDBOX_PROTECT_SYSTEM] = { "protect_system", "ProtectSystem", KS_SANDBOX_KIND_ENUM, choices_protect_system,
                                        P(NULL, "full", "strict") },
        [KS_SANDBOX_PROTECT_HOME] = { "protect_home", "ProtectHome", KS_SANDBOX_KIND_ENUM, choices_protect_home,
                                      P(NULL, "read-only", "yes") },
        [KS_SANDBOX_PROTECT_KERNEL_TUNABLES] = { "protect_kernel_tunables", "ProtectKernelTunables",
                                                 KS_SANDBOX_KIND_BOOL, NULL, P(NULL, "yes", "yes") },
        [KS_SANDBOX_PROTECT_KERNEL_MODULES] = { "protect_kernel_modules", "ProtectKernelModules",
                                                KS_SANDBOX_KIND_BOOL, NULL, P(NULL, "yes", "yes") },
        [KS_SANDBOX_PROTECT_KERNEL_LOGS] = { "protect_kernel_logs", "ProtectKernelLogs", KS_SANDBOX_KIND_BOOL, NULL,
                                             P(NULL, "yes", "yes") },
        [KS_SANDBOX_PROTECT_CONTROL_GROUPS] = { "protect_control_groups", "ProtectControlGroups",
                                                KS_SANDBOX_KIND_BOOL, NULL, P(NULL, "yes", "yes") },
        [KS_SANDBOX_PROTECT_CLOCK] = { "protect_clock", "ProtectClock", KS_SANDBOX_KIND_BOOL, NULL,
                                       P(NULL, "yes", "yes") },
        [KS_SANDBOX_PROTECT_HOSTNAME] = { "protect_hostname", "ProtectHostname", KS_SANDBOX_KIND_BOOL, NULL,
                                          P(NULL, "yes", "yes") },
        [KS_SANDBOX_PROTECT_PROC] = { "protect_proc", "ProtectProc", KS_SANDBOX_KIND_ENUM, choices_protect_proc,
                                      P(NULL, NULL, "invisible") },
        [KS_SANDBOX_RESTRICT_SUID_SGID] = { "restrict_suid_sgid", "RestrictSUIDSGID", KS_SANDBOX_KIND_BOOL, NULL,
                                            P(NULL, "yes", "yes") },
        [KS_SANDBOX_RESTRICT_REALTIME] = { "restrict_realtime", "RestrictRealtime", KS_SANDBOX_KIND_BOOL, NULL,
                                           P(NULL, "yes", "yes") },
        [KS_SANDBOX_RESTRICT_NAMESPACES] = { "restrict_namespaces", "RestrictNamespaces", KS_SANDBOX_KIND_BOOL, NULL,
                                             P(NULL, NULL, "yes") },
        [KS_SANDBOX_LOCK_PERSONALITY] = { "lock_personality", "LockPersonality", KS_SANDBOX_KIND_BOOL, NULL,
                                          P(NULL, "yes", "yes") },
        [KS_SANDBOX_MEMORY_DENY_WRITE_EXECUTE] = { "memory_deny_write_execute", "MemoryDenyWriteExecute",
                                                   KS_SANDBOX_KIND_BOOL, NULL, P(NULL, NULL, "yes") },
        [KS_SANDBOX_SYSTEM_CALL_ARCHITECTURES] = { "system_call_architectures", "SystemCallArchitectures",
                                                   KS_SANDBOX_KIND_TOKENS, NULL, P(NULL, "native", "native") },
        [KS_SANDBOX_SYSTEM_CALL_FILTER] = { "system_call_filter", "SystemCallFilter", KS_SANDBOX_KIND_TOKENS, NULL,
                                            P(NULL, NULL, "@system-service") },
        [KS_SANDBOX_RESTRICT_ADDRESS_FAMILIES] = { "restrict_address_families", "RestrictAddressFamilies",
                                                   KS_SANDBOX_KIND_TOKENS, NULL,
                                                   P(NULL, NULL, "AF_UNIX AF_INET AF_INET6") },
        [KS_SANDBOX_CAPABILITY_BOUNDING_SET] = { "capability_bounding_set", "CapabilityBoundingSet",
                                                 KS_SANDBOX_KIND_TOKENS, NULL, P(NULL, NULL, "") },
        [KS_SANDBOX_AMBIENT_CAPABILITIES] = { "ambient_capabilities", "AmbientCapabilities", KS_SANDBOX_KIND_TOKENS,
                                              NULL, P(NULL, NULL, NULL) },
        [KS_SANDBOX_UMASK] = { "umask", "UMask", KS_SANDBOX_KIND_UMASK, NULL, P(NULL, NULL, "0077") },
        [KS_SANDBOX_READ_WRITE_PATHS] = { "read_write_paths", "ReadWritePaths", KS_SANDBOX_KIND_PATHS, NULL,
                                          P(NULL, NULL, NULL) },
        [KS_SANDBOX_READ_ONLY_PATHS] = { "read_only_paths", "ReadOnlyPaths", KS_SANDBOX_KIND_PATHS, NULL,
                                         P(NULL, NULL, NULL) },
        [KS_SANDBOX_INACCESSIBLE_PATHS] = { "inaccessible_paths", "InaccessiblePaths", KS_SANDBOX_KIND_PATHS, NULL,
                                            P(NULL, NULL, NULL) },
};
#undef P

/* ---------------------------------------------------------------------------------------------
 * Enum names */

static const char *const service_type_names[_KS_SERVICE_TYPE_MAX] = {
        [KS_SERVICE_EXEC] = "exec",
        [KS_SERVICE_SIMPLE] = "simple",
        [KS_SERVICE_FORKING] = "forking",
        [KS_SERVICE_NOTIFY] = "notify",
};
static const char *const restart_names[_KS_RESTART_MAX] = {
        [KS_RESTART_NO] = "no",
        [KS_RESTART_ON_FAILURE] = "on-failure",
        [KS_RESTART_ON_ABNORMAL] = "on-abnormal",
        [KS_RESTART_ON_WATCHDOG] = "on-watchdog",
        [KS_RESTART_ALWAYS] = "always",
};
static const char *const check_type_names[_KS_CHECK_TYPE_MAX] = {
        [KS_CHECK_HTTP] = "http",
        [KS_CHECK_TCP] = "tcp",
};
static const char *const sandbox_preset_names[_KS_SANDBOX_PRESET_MAX] = {
        [KS_SANDBOX_NONE] = "none",
        [KS_SANDBOX_DEFAULT] = "default",
        [KS_SANDBOX_STRICT] = "strict",
};
static const char *const http_methods[] = { "GET", "HEAD", "POST", "PUT", "OPTIONS", NULL };

const char *ks_service_type_to_string(ks_service_type t) {
        return t >= 0 && t < _KS_SERVICE_TYPE_MAX ? service_type_names[t] : NULL;
}
const char *ks_restart_to_string(ks_restart r) {
        return r >= 0 && r < _KS_RESTART_MAX ? restart_names[r] : NULL;
}
const char *ks_check_type_to_string(ks_check_type t) {
        return t >= 0 && t < _KS_CHECK_TYPE_MAX ? check_type_names[t] : NULL;
}
const char *ks_sandbox_preset_to_string(ks_sandbox_preset p) {
        return p >= 0 && p < _KS_SANDBOX_PRESET_MAX ? sandbox_preset_names[p] : NULL;
}

static const struct {
        const char *name;
        int sig;
} signal_names[] = {
        { "HUP", SIGHUP },     { "INT", SIGINT },       { "QUIT", SIGQUIT },   { "ILL", SIGILL },
        { "TRAP", SIGTRAP },   { "ABRT", SIGABRT },     { "BUS", SIGBUS },     { "FPE", SIGFPE },
        { "KILL", SIGKILL },   { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV },   { "USR2", SIGUSR2 },
        { "PIPE", SIGPIPE },   { "ALRM", SIGALRM },     { "TERM", SIGTERM },   { "STKFLT", SIGSTKFLT },
        { "CHLD", SIGCHLD },   { "CONT", SIGCONT },     { "STOP", SIGSTOP },   { "TSTP", SIGTSTP },
        { "TTIN", SIGTTIN },   { "TTOU", SIGTTOU },     { "URG", SIGURG },     { "XCPU", SIGXCPU },
        { "XFSZ", SIGXFSZ },   { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },   { "WINCH", SIGWINCH },
        { "IO", SIGIO },       { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

const char *ks_signal_to_string(int sig) {
        static __thread char buf[sizeof("SIGRTMIN+") + 12];

        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (signal_names[i].sig == sig) {
                        snprintf(buf, sizeof(buf), "SIG%s", signal_names[i].name);
                        return buf;
                }
        if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
                snprintf(buf, sizeof(buf), "SIGRTMIN+%d", sig - SIGRTMIN);
                return buf;
        }
        return NULL;
}

int ks_signal_from_string(const char *s) {
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        for (size_t i = 0; i < ELEMENTSOF(signal_names); i++)
                if (strcasecmp(s, signal_names[i].name) == 0)
                        return signal_names[i].sig;
        if (strncasecmp(s, "RTMIN", 5) == 0) {
                const char *p = s + 5;
                int n = 0;
                if (*p == '+') {
                        p++;
                        if (!isdigit((unsigned char) *p) || strlen(p) > 2)
                                return -EINVAL;
                        n = atoi(p);
                } else if (*p)
                        return -EINVAL;
                if (SIGRTMIN + n > SIGRTMAX)
                        return -EINVAL;
                return SIGRTMIN + n;
        }
        return -EINVAL;
}

/* ---------------------------------------------------------------------------------------------
 * Names */

static bool name_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '.' || c == ':' || c == '-';
}

bool ks_service_name_is_valid(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > KS_NAME_MAX)
                return false;
        if (name[0] == '.' || name[0] == '-')
                return false;
        for (const char *p = name; *p; p++)
                if (!name_char_ok(*p))
                        return false;
        return !unit_type_suffix(name);
}

/* The units a definition may name as a dependency or a target: no templates, and no instance
 * ending in "@" (stricter than systemd). */
#define STARTABLE_UNIT (KS_UNIT_NAME_PLAIN | KS_UNIT_NAME_INSTANCE | KS_UNIT_NAME_NO_TRAILING_AT)

int ks_dependency_to_unit(const char *dep, char **ret) {
        char *u;

        if (unit_type_suffix(dep)) {
                if (!unit_name_is_valid(dep, STARTABLE_UNIT))
                        return -EINVAL;
                u = strdup(dep);
        } else {
                if (!ks_service_name_is_valid(dep))
                        return -EINVAL;
                if (asprintf(&u, KS_UNIT_PREFIX "%s" KS_UNIT_SUFFIX, dep) < 0)
                        u = NULL;
        }
        if (!u)
                return -ENOMEM;
        *ret = u;
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Loading context and diagnostics */

struct ks_load_ctx {
        ks_service *s;
        const char *file;       /* owned by s->files */
        ks_diag_list *diags;
        bool failed;
};
typedef ks_load_ctx ctx;

/* Adds a diagnostic; returns -EINVAL (or -ENOMEM when even that fails). */
_printf_(4, 5) static int fail_at(ctx *c, unsigned line, unsigned column, const char *fmt, ...) {
        va_list ap;
        int r;

        c->failed = true;
        va_start(ap, fmt);
        r = ks_diag_addv(c->diags, c->file, line, column, fmt, ap);
        va_end(ap);
        return r < 0 ? r : -EINVAL;
}
#define fail(c, v, ...) fail_at(c, (v)->line, (v)->column, __VA_ARGS__)

static const char *type_with_article(ks_toml_type t) {
        switch (t) {
        case KS_TOML_STRING:
                return "a string";
        case KS_TOML_INTEGER:
                return "an integer";
        case KS_TOML_FLOAT:
                return "a float";
        case KS_TOML_BOOL:
                return "a boolean";
        case KS_TOML_DATETIME:
        case KS_TOML_DATETIME_LOCAL:
                return "a date-time";
        case KS_TOML_DATE_LOCAL:
                return "a date";
        case KS_TOML_TIME_LOCAL:
                return "a time";
        case KS_TOML_ARRAY:
                return "an array";
        case KS_TOML_TABLE:
                return "a table";
        default:
                return "a value";
        }
}

static int bad_type(ctx *c, const char *key, const ks_toml_value *v, const char *expected) {
        return fail(c, v, "\"%s\" must be %s, not %s", key, expected, type_with_article(v->type));
}

static ks_origin origin_of(ctx *c, const ks_toml_value *v) {
        return (ks_origin) { .file = c->file, .line = v->line, .column = v->column };
}

/* Only ENOMEM aborts loading; validation errors are collected and loading goes on. */
#define CHECK_NOMEM(r)                  \
        do {                            \
                if ((r) == -ENOMEM)     \
                        return -ENOMEM; \
        } while (0)

/* ---------------------------------------------------------------------------------------------
 * Typed readers. Each validates one value and reports with the value's position. */

static int read_string(ctx *c, const char *key, const ks_toml_value *v, const char **ret) {
        if (v->type != KS_TOML_STRING)
                return bad_type(c, key, v, "a string");
        if (strlen(v->string.str) != v->string.len)
                return fail(c, v, "\"%s\" must not contain a NUL character", key);
        *ret = v->string.str;
        return 0;
}

static int set_string(char **field, const char *s) {
        char *d = strdup(s);
        if (!d)
                return -ENOMEM;
        free(*field);
        *field = d;
        return 0;
}

static int read_bool(ctx *c, const char *key, const ks_toml_value *v, bool *ret) {
        if (v->type != KS_TOML_BOOL)
                return bad_type(c, key, v, "a boolean (true or false)");
        *ret = v->boolean;
        return 0;
}

static int read_integer(ctx *c, const char *key, const ks_toml_value *v, int64_t min, int64_t max, int64_t *ret) {
        if (v->type != KS_TOML_INTEGER)
                return bad_type(c, key, v, "an integer");
        if (v->integer < min || v->integer > max)
                return fail(c, v, "\"%s\" must be between %" PRIi64 " and %" PRIi64 ", not %" PRIi64, key, min, max,
                            v->integer);
        *ret = v->integer;
        return 0;
}

/* A number (integer or float) from min to max. */
static int read_number(ctx *c, const char *key, const ks_toml_value *v, double min, double max, double *ret) {
        double x;

        if (v->type == KS_TOML_INTEGER)
                x = (double) v->integer;
        else if (v->type == KS_TOML_FLOAT)
                x = v->fp;
        else
                return bad_type(c, key, v, "a number");
        if (!(x >= min && x <= max))
                return fail(c, v, "\"%s\" must be between %g and %g, not %g", key, min, max, x);
        *ret = x;
        return 0;
}

/* A duration: a systemd time span string, or an integer number of seconds; at least min usec. */
static int read_duration(ctx *c, const char *key, const ks_toml_value *v, bool allow_infinity, uint64_t min,
                         uint64_t *ret) {
        uint64_t usec;

        if (v->type == KS_TOML_INTEGER) {
                if (v->integer < 0 || (uint64_t) v->integer > UINT64_MAX / KS_USEC_PER_SEC / 2)
                        return fail(c, v, "\"%s\" must not be negative or absurdly large, not %" PRIi64, key,
                                    v->integer);
                usec = (uint64_t) v->integer * KS_USEC_PER_SEC;
        } else if (v->type == KS_TOML_STRING) {
                if (strlen(v->string.str) != v->string.len || ks_parse_timespan(v->string.str, &usec) < 0)
                        return fail(c, v, "\"%s\" must be a duration like \"30s\" or \"1min 30s\", not \"%s\"", key,
                                    v->string.str);
        } else
                return bad_type(c, key, v, "a duration (a string like \"30s\" or an integer of seconds)");

        if (usec == KS_USEC_INFINITY && !allow_infinity)
                return fail(c, v, "\"%s\" cannot be \"infinity\"", key);
        if (usec == 0 && min > 0)
                return fail(c, v, "\"%s\" must be longer than 0", key);
        if (usec < min) {
                char shortest[64];
                if (ks_format_timespan(shortest, sizeof(shortest), min) < 0)
                        return -ENOMEM;
                return fail(c, v, "\"%s\" must be at least %s", key, shortest);
        }
        *ret = usec;
        return 0;
}

/* "12.5%" -> 1250 (hundredths of a percent). */
static int parse_percent(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v = 0;
        const char *p = s;
        int decimals = -1;

        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        for (; *p && *p != '%'; p++) {
                if (*p == '.') {
                        if (decimals >= 0)
                                return -EINVAL;
                        decimals = 0;
                        continue;
                }
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                if (decimals >= 2)
                        return -EINVAL;
                if (decimals >= 0)
                        decimals++;
                v = v * 10 + (uint64_t) (*p - '0');
                if (v > UINT64_C(1) << 40)
                        return -ERANGE;
        }
        if (decimals == 0 || p[0] != '%' || p[1] != '\0')
                return -EINVAL;
        for (int d = decimals < 0 ? 0 : decimals; d < 2; d++)
                v *= 10;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

enum { LIMIT_BYTES, LIMIT_COUNT };

static int read_limit(ctx *c, const char *key, const ks_toml_value *v, int what, ks_limit *ret) {
        uint64_t x;

        if (v->type == KS_TOML_INTEGER) {
                if (v->integer <= 0)
                        return fail(c, v, "\"%s\" must be greater than 0, not %" PRIi64, key, v->integer);
                *ret = (ks_limit) { KS_LIMIT_ABSOLUTE, (uint64_t) v->integer };
                return 0;
        }
        if (v->type != KS_TOML_STRING)
                return bad_type(c, key, v,
                                what == LIMIT_BYTES ? "a size (a string like \"512M\", \"80%\" or \"infinity\", or an integer of bytes)"
                                                    : "a count (an integer, or a string like \"80%\" or \"infinity\")");

        const char *s = v->string.str;
        if (streq(s, "infinity")) {
                *ret = (ks_limit) { KS_LIMIT_INFINITY, 0 };
                return 0;
        }
        if (endswith(s, "%")) {
                if (parse_percent(s, 10000, &x) < 0 || x == 0)
                        return fail(c, v, "\"%s\" must be a percentage between 0.01%% and 100%%, not \"%s\"", key, s);
                *ret = (ks_limit) { KS_LIMIT_PERCENT, x };
                return 0;
        }
        if (what == LIMIT_BYTES) {
                if (strlen(s) != v->string.len || ks_parse_size(s, &x) < 0)
                        return fail(c, v, "\"%s\" must be a size like \"512M\" or \"2G\", a percentage or \"infinity\", not \"%s\"",
                                    key, s);
        } else {
                char *end;
                errno = 0;
                unsigned long long n = strtoull(s, &end, 10);
                if (!isdigit((unsigned char) *s) || *end || errno != 0)
                        return fail(c, v, "\"%s\" must be a number, a percentage or \"infinity\", not \"%s\"", key, s);
                x = n;
        }
        if (x == 0)
                return fail(c, v, "\"%s\" must be greater than 0", key);
        *ret = (ks_limit) { KS_LIMIT_ABSOLUTE, x };
        return 0;
}

static bool path_is_normalized_absolute(const char *p) {
        if (p[0] != '/' || strlen(p) >= PATH_MAX)
                return false;
        for (const char *q = p; *q; q++)
                if ((unsigned char) *q < 0x20 || *q == 0x7f)
                        return false;
        /* No empty, "." or ".." components, no trailing slash (except "/" itself). */
        for (const char *q = p; *q;) {
                const char *e = strchrnul(q + 1, '/');
                size_t len = (size_t) (e - q - 1);
                if (len == 0 && !(q == p && *e == '\0'))
                        return false;
                if ((len == 1 && q[1] == '.') || (len == 2 && q[1] == '.' && q[2] == '.'))
                        return false;
                q = e;
        }
        return true;
}

/* An absolute path, copied; with allow_dash, an optional leading "-" (systemd: ignore if missing). */
static int read_path(ctx *c, const char *key, const ks_toml_value *v, bool allow_dash, char **ret) {
        const char *s = NULL;
        int r = read_string(c, key, v, &s);
        if (r < 0)
                return r;
        if (!path_is_normalized_absolute(allow_dash && s[0] == '-' ? s + 1 : s))
                return fail(c, v, "\"%s\" must be an absolute, normalized path%s, not \"%s\"", key,
                            allow_dash ? " (optionally prefixed with \"-\")" : "", s);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* An array of strings, each checked by validate (may be NULL); with single_ok, also one string.
 * Replaces *field as a whole (a drop-in's array replaces the earlier one). */
typedef int (*validate_fn)(ctx *c, const char *key, const ks_toml_value *item, char **ret);

static int read_strv(ctx *c, const char *key, const ks_toml_value *v, bool single_ok, validate_fn validate,
                     char ***field) {
        char **l = NULL;
        const ks_toml_value *const *items;
        const ks_toml_value *one = v;
        size_t n;
        int r = 0;
        bool bad = false;

        if (v->type == KS_TOML_ARRAY) {
                items = (const ks_toml_value *const *) v->array.items;
                n = v->array.n;
        } else if (single_ok && v->type == KS_TOML_STRING) {
                items = &one;
                n = 1;
        } else
                return bad_type(c, key, v, single_ok ? "an array of strings or a string" : "an array of strings");

        /* An empty array is a real value ("after = []" in a drop-in clears the list). */
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char ikey[128];
                char *val = NULL;

                if (v->type == KS_TOML_ARRAY)
                        snprintf(ikey, sizeof(ikey), "%s[%zu]", key, i);
                else
                        snprintf(ikey, sizeof(ikey), "%s", key);
                if (validate)
                        r = validate(c, ikey, items[i], &val);
                else {
                        const char *s = NULL;
                        r = read_string(c, ikey, items[i], &s);
                        if (r >= 0) {
                                val = strdup(s);
                                if (!val)
                                        r = -ENOMEM;
                        }
                }
                if (r == -ENOMEM)
                        goto fail;
                if (r < 0) {
                        bad = true;
                        continue;
                }
                r = strv_push(&l, val);
                if (r < 0) {
                        free(val);
                        goto fail;
                }
        }
        if (bad) {
                strv_free(l);
                return -EINVAL;
        }
        strv_free(*field);
        *field = l;
        return 0;
fail:
        strv_free(l);
        return r;
}

static int validate_abs_path(ctx *c, const char *key, const ks_toml_value *v, char **ret) {
        return read_path(c, key, v, false, ret);
}

static int validate_abs_path_dash(ctx *c, const char *key, const ks_toml_value *v, char **ret) {
        return read_path(c, key, v, true, ret);
}

static int validate_dependency(ctx *c, const char *key, const ks_toml_value *v, char **ret) {
        const char *s = NULL;
        int r = read_string(c, key, v, &s);
        if (r < 0)
                return r;
        r = ks_dependency_to_unit(s, ret);
        if (r == -EINVAL) {
                if (unit_type_suffix(s))
                        return fail(c, v, "\"%s\": \"%s\" is not a valid unit name (templates need an instance)",
                                    key, s);
                return fail(c, v,
                            "\"%s\": \"%s\" is neither a kservice name nor a unit name with a type suffix "
                            "such as \".service\"",
                            key, s);
        }
        return r;
}

static int validate_unit(ctx *c, const char *key, const ks_toml_value *v, char **ret) {
        const char *s = NULL;
        int r = read_string(c, key, v, &s);
        if (r < 0)
                return r;
        if (!unit_name_is_valid(s, STARTABLE_UNIT))
                return fail(c, v, "\"%s\": \"%s\" is not a valid unit name", key, s);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static bool token_ok(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("_@:~+.-", *s))
                        return false;
        return true;
}

static int validate_token(ctx *c, const char *key, const ks_toml_value *v, char **ret) {
        const char *s = NULL;
        int r = read_string(c, key, v, &s);
        if (r < 0)
                return r;
        if (!token_ok(s))
                return fail(c, v, "\"%s\": \"%s\" is not a valid word (letters, digits and _@:~+.- only)", key, s);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* ---------------------------------------------------------------------------------------------
 * Keys of one table */

/* The name of key path inside the table whose dotted path is prefix ("" for the root), or NULL
 * when the key is not directly in that table. */
static const char *key_name_in(const char *path, const char *prefix) {
        size_t pl = strlen(prefix);

        if (pl > 0) {
                if (strncmp(path, prefix, pl) != 0 || path[pl] != '.')
                        return NULL;
                path += pl + 1;
        }
        return strchr(path, '.') ? NULL : path;
}

/* The key id for short name `key` inside the table whose dotted path is `prefix`, or -1. Every
 * key of every definition comes through here: no allocation, no formatting, and an entry of
 * another table is passed over at its first differing byte. */
static int key_lookup(const char *prefix, const char *key, size_t key_len) {
        size_t pl = strlen(prefix);

        /* A quoted key with a NUL or a dot names no key of ours ("health.interval" as one key of
         * the root table is not [health]'s interval). */
        if (strlen(key) != key_len || memchr(key, '.', key_len))
                return -1;
        for (size_t i = 0; i < ks_service_n_keys; i++) {
                const char *p = ks_service_keys[i].path;

                if (pl > 0) {
                        if (strncmp(p, prefix, pl) != 0 || p[pl] != '.')
                                continue;
                        p += pl + 1;
                }
                if (strncmp(p, key, key_len) == 0 && p[key_len] == 0)
                        return (int) i;
        }
        return -1;
}

static int unknown_key(ctx *c, const char *prefix, const ks_toml_keyval *kv) {
        const char *cands[_K_MAX];
        size_t n = 0;

        for (size_t i = 0; i < ks_service_n_keys; i++) {
                const char *name = key_name_in(ks_service_keys[i].path, prefix);
                if (name)
                        cands[n++] = name;
        }
        const char *best = ks_closest_word(kv->key, cands, n);
        char where[64] = "";
        if (*prefix)
                snprintf(where, sizeof(where), " in [%s]", prefix);
        if (best)
                return fail_at(c, kv->line, kv->column, "unknown key \"%s\"%s; did you mean \"%s\"?", kv->key, where,
                               best);
        return fail_at(c, kv->line, kv->column, "unknown key \"%s\"%s", kv->key, where);
}

static int bad_choice(ctx *c, const char *key, const ks_toml_value *v, const char *s, const char *const *choices,
                      size_t n) {
        char list[256] = "";
        for (size_t i = 0; i < n; i++) {
                if (!choices[i])
                        continue;
                if (i > 0)
                        strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                strncat(list, "\"", sizeof(list) - strlen(list) - 1);
                strncat(list, choices[i], sizeof(list) - strlen(list) - 1);
                strncat(list, "\"", sizeof(list) - strlen(list) - 1);
        }
        const char *best = ks_closest_word(s, choices, n);
        if (best)
                return fail(c, v, "\"%s\" must be one of %s, not \"%s\"; did you mean \"%s\"?", key, list, s, best);
        return fail(c, v, "\"%s\" must be one of %s, not \"%s\"", key, list, s);
}

static int read_choice(ctx *c, const char *key, const ks_toml_value *v, const char *const *choices, size_t n,
                       int *ret) {
        const char *s = NULL;
        int r = read_string(c, key, v, &s);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++)
                if (choices[i] && streq(s, choices[i])) {
                        *ret = (int) i;
                        return 0;
                }
        return bad_choice(c, key, v, s, choices, n);
}

/* ---------------------------------------------------------------------------------------------
 * exec */

/* Splits a command line string into words: whitespace separates; '...' is literal; inside
 * "..." a backslash escapes only " and \; outside quotes a backslash escapes the next character.
 * Nothing else is special: no variables, no globbing, no ";". */
static int split_command(const char *s, char ***ret, const char **reterr) {
        char **l = NULL;
        size_t len = strlen(s);
        _cleanup_free_ char *word = malloc(len + 1);
        const char *p = s;
        int r;

        if (!word)
                return -ENOMEM;
        l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;

        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
                        p++;
                if (!*p)
                        break;
                size_t n = 0;
                while (*p && !(*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')) {
                        if (*p == '\'') {
                                const char *e = strchr(p + 1, '\'');
                                if (!e) {
                                        *reterr = "unterminated single quote";
                                        goto einval;
                                }
                                memcpy(word + n, p + 1, (size_t) (e - p - 1));
                                n += (size_t) (e - p - 1);
                                p = e + 1;
                        } else if (*p == '"') {
                                p++;
                                for (;;) {
                                        if (!*p) {
                                                *reterr = "unterminated double quote";
                                                goto einval;
                                        }
                                        if (*p == '"')
                                                break;
                                        if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
                                                p++;
                                        word[n++] = *p++;
                                }
                                p++;
                        } else if (*p == '\\') {
                                if (!p[1]) {
                                        *reterr = "trailing backslash";
                                        goto einval;
                                }
                                word[n++] = p[1];
                                p += 2;
                        } else
                                word[n++] = *p++;
                }
                word[n] = '\0';
                r = strv_extend(&l, word);
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
        }
        *ret = l;
        return 0;
einval:
        strv_free(l);
        return -EINVAL;
}

static int read_exec(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        ks_service *s = field;
        char **argv = NULL;
        size_t n;
        int r;

        if (v->type == KS_TOML_STRING) {
                const char *str, *err = NULL;
                r = read_string(c, "exec", v, &str);
                if (r < 0)
                        return r;
                r = split_command(str, &argv, &err);
                CHECK_NOMEM(r);
                if (r < 0)
                        return fail(c, v, "\"exec\": %s", err);
        } else if (v->type == KS_TOML_ARRAY) {
                r = read_strv(c, "exec", v, false, NULL, &argv);
                if (r < 0)
                        return r;
        } else
                return bad_type(c, "exec", v, "an array of strings or a string");

        n = strv_length(argv);
        if (n == 0) {
                strv_free(argv);
                return fail(c, v, "\"exec\" must name a program");
        }
        if (argv[0][0] == '\0' || (argv[0][0] != '/' && strchr(argv[0], '/')) ||
            (argv[0][0] == '/' && !path_is_normalized_absolute(argv[0]))) {
                r = fail(c, v->type == KS_TOML_ARRAY ? v->array.items[0] : v,
                         "\"exec\": the program must be an absolute path or a plain command name, not \"%s\"",
                         argv[0]);
                strv_free(argv);
                return r;
        }

        ks_origin *o = calloc(n, sizeof(ks_origin));
        if (!o) {
                strv_free(argv);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                o[i] = origin_of(c, v->type == KS_TOML_ARRAY ? v->array.items[i] : v);
        strv_free(s->exec);
        free(s->exec_origin);
        s->exec = argv;
        s->exec_origin = o;
        s->n_exec = n;
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Ordered key/value tables: [environment] and health.check.headers */

static void kv_array_free(ks_kv *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].key);
                free(a[i].value);
        }
        free(a);
}

/* Sets key to value, in place when the key exists (a drop-in overrides it), else appended. */
static int kv_set(ks_kv **a, size_t *n, const char *key, const char *value, ks_origin o) {
        for (size_t i = 0; i < *n; i++)
                if (streq((*a)[i].key, key)) {
                        int r = set_string(&(*a)[i].value, value);
                        if (r >= 0)
                                (*a)[i].origin = o;
                        return r;
                }
        ks_kv *b = reallocarray(*a, *n + 1, sizeof(ks_kv));
        if (!b)
                return -ENOMEM;
        *a = b;
        char *k = strdup(key), *v = strdup(value);
        if (!k || !v) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        b[(*n)++] = (ks_kv) { k, v, o };
        return 0;
}

static int read_environment(ctx *c, const ks_key_info *k, const ks_toml_value *t, void *field) {
        ks_service *s = field;
        int r;

        if (t->type != KS_TOML_TABLE)
                return bad_type(c, "environment", t, "a table of strings");
        for (size_t i = 0; i < t->table.n; i++) {
                const ks_toml_keyval *kv = &t->table.items[i];
                char key[300];
                const char *val = NULL;

                if (strlen(kv->key) != kv->key_len || !env_name_is_valid(kv->key)) {
                        r = fail_at(c, kv->line, kv->column,
                                    "\"environment\": \"%s\" is not a valid variable name (letters, digits "
                                    "and \"_\", not starting with a digit)",
                                    kv->key);
                        CHECK_NOMEM(r);
                        continue;
                }
                snprintf(key, sizeof(key), "environment.%s", kv->key);
                if (kv->value->type != KS_TOML_STRING) {
                        r = fail(c, kv->value, "\"%s\" must be a string, not %s (quote it: %s = \"...\")", key,
                                 type_with_article(kv->value->type), kv->key);
                        CHECK_NOMEM(r);
                        continue;
                }
                r = read_string(c, key, kv->value, &val);
                CHECK_NOMEM(r);
                if (r < 0)
                        continue;
                r = kv_set(&s->environment, &s->n_environment, kv->key, val, origin_of(c, kv->value));
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool header_name_ok(const char *s, size_t len) {
        if (len == 0 || strlen(s) != len)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && !strchr("!#$%&'*+-.^_`|~", *s))
                        return false;
        return true;
}

static int read_headers(ctx *c, const ks_key_info *k, const ks_toml_value *t, void *field) {
        ks_check *chk = field;
        int r;

        if (t->type != KS_TOML_TABLE)
                return bad_type(c, "health.check.headers", t, "a table of strings");
        for (size_t i = 0; i < t->table.n; i++) {
                const ks_toml_keyval *kv = &t->table.items[i];
                const char *val = NULL;

                if (!header_name_ok(kv->key, kv->key_len)) {
                        r = fail_at(c, kv->line, kv->column, "\"health.check.headers\": \"%s\" is not a valid header name",
                                    kv->key);
                        CHECK_NOMEM(r);
                        continue;
                }
                r = read_string(c, "health.check.headers", kv->value, &val);
                CHECK_NOMEM(r);
                if (r < 0)
                        continue;
                if (strpbrk(val, "\r\n")) {
                        r = fail(c, kv->value, "\"health.check.headers\": the value of \"%s\" must not contain a line break",
                                 kv->key);
                        CHECK_NOMEM(r);
                        continue;
                }
                r = kv_set(&chk->headers, &chk->n_headers, kv->key, val, origin_of(c, kv->value));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * health */

void ks_check_done(ks_check *chk) {
        free(chk->url);
        free(chk->method);
        free(chk->expect_status);
        free(chk->expect_body);
        kv_array_free(chk->headers, chk->n_headers);
        free(chk->host);
        *chk = (ks_check) {};
}

static int strdup_or_null(const char *s, char **ret) {
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

int ks_check_copy(const ks_check *src, ks_check *ret) {
        _cleanup_(ks_check_done) ks_check c = *src;

        c.url = c.method = c.expect_body = c.host = NULL;
        c.expect_status = NULL;
        c.headers = NULL;
        c.n_headers = 0;
        if (strdup_or_null(src->url, &c.url) < 0 || strdup_or_null(src->method, &c.method) < 0 ||
            strdup_or_null(src->expect_body, &c.expect_body) < 0 || strdup_or_null(src->host, &c.host) < 0)
                return -ENOMEM;
        if (src->n_expect_status > 0) {
                c.expect_status = malloc(src->n_expect_status * sizeof(ks_status_range));
                if (!c.expect_status)
                        return -ENOMEM;
                memcpy(c.expect_status, src->expect_status, src->n_expect_status * sizeof(ks_status_range));
        }
        for (size_t i = 0; i < src->n_headers; i++)
                if (kv_set(&c.headers, &c.n_headers, src->headers[i].key, src->headers[i].value,
                           src->headers[i].origin) < 0)
                        return -ENOMEM;
        *ret = c;
        c = (ks_check) {};
        return 0;
}

void ks_check_describe(const ks_check *c, char *buf, size_t size) {
        if (c->type == KS_CHECK_TCP) {
                bool v6 = c->host && strchr(c->host, ':');
                snprintf(buf, size, "tcp %s%s%s:%u", v6 ? "[" : "", strna(c->host), v6 ? "]" : "", c->port);
        } else
                snprintf(buf, size, "%s %s", c->method ?: "GET", strna(c->url));
}

static void health_clear_checks(ks_health *h) {
        for (size_t i = 0; i < h->n_checks; i++)
                ks_check_done(&h->checks[i]);
        free(h->checks);
        h->checks = NULL;
        h->n_checks = 0;
}

/* One expect_status item: 200, "200", "2xx" or "200-299". */
static int parse_status(ctx *c, const ks_toml_value *v, ks_status_range *ret) {
        const char *key = "health.check.expect_status";

        if (v->type == KS_TOML_INTEGER) {
                if (v->integer < 100 || v->integer > 599)
                        return fail(c, v, "\"%s\": %" PRIi64 " is not an HTTP status (100-599)", key, v->integer);
                *ret = (ks_status_range) { (uint16_t) v->integer, (uint16_t) v->integer };
                return 0;
        }
        if (v->type != KS_TOML_STRING)
                return bad_type(c, key, v, "an HTTP status (200, \"2xx\" or \"200-299\")");

        const char *s = v->string.str;
        unsigned lo, hi;
        int n = 0;
        if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
                lo = (unsigned) (s[0] - '0') * 100;
                hi = lo + 99;
        } else if (sscanf(s, "%3u-%3u%n", &lo, &hi, &n) == 2 && (size_t) n == strlen(s) && isdigit((unsigned char) s[0])) {
                ;
        } else if (sscanf(s, "%3u%n", &lo, &n) == 1 && (size_t) n == strlen(s) && isdigit((unsigned char) s[0]))
                hi = lo;
        else
                return fail(c, v, "\"%s\": \"%s\" is not an HTTP status, a class like \"2xx\" or a range like \"200-299\"",
                            key, s);
        if (lo < 100 || hi > 599 || lo > hi)
                return fail(c, v, "\"%s\": \"%s\" is not within 100-599", key, s);
        *ret = (ks_status_range) { (uint16_t) lo, (uint16_t) hi };
        return 0;
}

static int read_expect_status(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        ks_check *chk = field;
        const ks_toml_value *const *items;
        const ks_toml_value *one = v;
        size_t n;
        bool bad = false;
        int r;

        if (v->type == KS_TOML_ARRAY) {
                items = (const ks_toml_value *const *) v->array.items;
                n = v->array.n;
                if (n == 0)
                        return fail(c, v, "\"health.check.expect_status\" must list at least one status");
        } else {
                items = &one;
                n = 1;
        }
        ks_status_range *a = calloc(n, sizeof(ks_status_range));
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = parse_status(c, items[i], &a[i]);
                if (r == -ENOMEM) {
                        free(a);
                        return r;
                }
                if (r < 0)
                        bad = true;
        }
        if (bad) {
                free(a);
                return -EINVAL;
        }
        free(chk->expect_status);
        chk->expect_status = a;
        chk->n_expect_status = n;
        return 0;
}

static int check_url(const char *url, bool *https) {
        const char *rest;

        if (strncmp(url, "http://", 7) == 0) {
                *https = false;
                rest = url + 7;
        } else if (strncmp(url, "https://", 8) == 0) {
                *https = true;
                rest = url + 8;
        } else
                return -EINVAL;
        if (!*rest || *rest == '/' || *rest == ':' || *rest == '?' || *rest == '#')
                return -EINVAL;
        for (const char *p = url; *p; p++)
                if ((unsigned char) *p <= 0x20 || *p == 0x7f)
                        return -EINVAL;
        return 0;
}

static int read_table(ctx *c, const char *prefix, const ks_toml_value *t, void *base, ks_origin *origins);

static int read_check(ctx *c, const ks_toml_value *t, ks_check *chk) {
        ks_origin o[_K_MAX] = {};       /* where each key of this check was read from */
        int r;

        *chk = (ks_check) {
                .type = _KS_CHECK_TYPE_MAX,
                .origin = origin_of(c, t),
                .tls_verify = true,
                .max_response_bytes = 64 * 1024,
        };
        if (t->type != KS_TOML_TABLE)
                return bad_type(c, "health.check", t, "a table ([[health.check]])");

        /* A misspelled or invalid key is most likely the "missing" one: report it alone. */
        r = read_table(c, "health.check", t, chk, o);
        if (r < 0)
                return r;

        r = ks_check_validate(chk, o, c->diags);
        if (r == -EINVAL)
                c->failed = true;
        if (r < 0)
                return r;

        if (chk->type == KS_CHECK_HTTP) {
                if (!chk->method && set_string(&chk->method, "GET") < 0)
                        return -ENOMEM;
                if (!chk->expect_status) {
                        chk->expect_status = malloc(sizeof(ks_status_range));
                        if (!chk->expect_status)
                                return -ENOMEM;
                        chk->expect_status[0] = (ks_status_range) { 200, 299 };
                        chk->n_expect_status = 1;
                }
        } else if (!chk->host && set_string(&chk->host, "127.0.0.1") < 0)
                return -ENOMEM;
        return 0;
}

static int read_checks(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        ks_health *h = field;
        int r;

        if (v->type != KS_TOML_ARRAY)
                return bad_type(c, "health.check", v, "an array of tables ([[health.check]])");
        if (v->array.n == 0)
                return fail(c, v, "\"health.check\" must hold at least one check");

        /* [[health.check]] in a drop-in replaces the whole list. */
        health_clear_checks(h);
        h->checks = calloc(v->array.n, sizeof(ks_check));
        if (!h->checks)
                return -ENOMEM;
        bool bad = false;
        for (size_t i = 0; i < v->array.n; i++) {
                r = read_check(c, v->array.items[i], &h->checks[h->n_checks++]);
                CHECK_NOMEM(r);
                if (r < 0)
                        bad = true;
        }
        return bad ? -EINVAL : 0;
}

static int read_max_response_bytes(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        ks_limit l = {};
        int r;

        if (v->type != KS_TOML_STRING && v->type != KS_TOML_INTEGER)
                return bad_type(c, k->path, v, "a size (a string like \"64K\" or an integer of bytes)");
        if (v->type == KS_TOML_STRING && (streq(v->string.str, "infinity") || endswith(v->string.str, "%")))
                return fail(c, v, "\"%s\" must be a size like \"64K\" or an integer of bytes", k->path);
        r = read_limit(c, k->path, v, LIMIT_BYTES, &l);
        if (r < 0)
                return r;
        if (l.value > (uint64_t) k->max)
                return fail(c, v, "\"%s\" must be at most 64M", k->path);
        *(uint64_t *) field = l.value;
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * resources */

static int read_cpu_quota(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        const char *str = NULL;
        uint64_t q = 0;
        int r = read_string(c, k->path, v, &str);
        if (r < 0)
                return r;
        if (parse_percent(str, (uint64_t) k->max, &q) < 0 || q == 0)
                return fail(c, v, "\"%s\" must be a percentage of one CPU like \"50%%\" or \"200%%\", not \"%s\"",
                            k->path, str);
        *(uint32_t *) field = (uint32_t) q;
        return 0;
}

/* nice, and that it was set: 0 is a value too. The field is the whole ks_resources. */
static int read_nice(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        ks_resources *res = field;
        int64_t x = 0;
        int r = read_integer(c, k->path, v, k->min, k->max, &x);
        if (r < 0)
                return r;
        res->nice = (int) x;
        res->nice_set = true;
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * sandbox */

/* One of the NULL-terminated choices, kept as text; true and false stand for "yes" and "no" where
 * those are among the choices. */
static int read_word(ctx *c, const char *key, const ks_toml_value *v, const char *const *choices, char **field) {
        size_t n = 0;
        int choice = 0, r;

        while (choices[n])
                n++;
        if (v->type == KS_TOML_BOOL)
                for (size_t i = 0; i < n; i++)
                        if (streq(choices[i], v->boolean ? "yes" : "no"))
                                return set_string(field, choices[i]);
        r = read_choice(c, key, v, choices, n, &choice);
        if (r < 0)
                return r;
        return set_string(field, choices[choice]);
}

/* One [sandbox] override; k->data is its ks_sandbox_settings[] entry, the field the ks_sandbox. */
static int read_sandbox_setting(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        const ks_sandbox_setting_info *info = k->data;
        ks_sandbox_setting st = (ks_sandbox_setting) (info - ks_sandbox_settings);
        ks_sandbox *sb = field;
        const char *key = k->path;
        const char *str = NULL;
        bool b = false;
        int r;

        switch (info->kind) {
        case KS_SANDBOX_KIND_BOOL:
                r = read_bool(c, key, v, &b);
                if (r < 0)
                        return r;
                return set_string(&sb->value[st], b ? "yes" : "no");

        case KS_SANDBOX_KIND_ENUM:
                return read_word(c, key, v, info->choices, &sb->value[st]);

        case KS_SANDBOX_KIND_TOKENS: {
                char **l = NULL;
                r = read_strv(c, key, v, false, validate_token, &l);
                if (r < 0)
                        return r;
                size_t len = 1;
                for (char **p = l; *p; p++)
                        len += strlen(*p) + 1;
                char *joined = malloc(len);
                if (!joined) {
                        strv_free(l);
                        return -ENOMEM;
                }
                joined[0] = '\0';
                for (char **p = l; *p; p++) {
                        if (p != l)
                                strcat(joined, " ");
                        strcat(joined, *p);
                }
                strv_free(l);
                free(sb->value[st]);
                sb->value[st] = joined;
                return 0;
        }

        case KS_SANDBOX_KIND_UMASK:
                r = read_string(c, key, v, &str);
                if (r < 0)
                        return r;
                if ((strlen(str) != 3 && strlen(str) != 4) || strspn(str, "01234567") != strlen(str))
                        return fail(c, v, "\"%s\" must be an octal mode like \"0027\", not \"%s\"", key, str);
                return set_string(&sb->value[st], str);

        case KS_SANDBOX_KIND_PATHS:
                return read_strv(c, key, v, false, validate_abs_path_dash, &sb->paths[st]);
        }
        return -EINVAL;
}

/* ---------------------------------------------------------------------------------------------
 * The root table */

/* A numeric id, or a name as useradd accepts it (and systemd's strict check): letters, digits,
 * "_" and "-", not starting with a digit or "-", at most 31 characters. */
static bool user_ok(const char *str) {
        bool ok = *str != '\0';
        if (ok && isdigit((unsigned char) str[0])) {
                char *end;
                errno = 0;
                unsigned long long id = strtoull(str, &end, 10);
                ok = !*end && errno == 0 && id < UINT32_MAX - 1;
        } else if (ok) {
                ok = strlen(str) <= 31 && (isalpha((unsigned char) str[0]) || str[0] == '_');
                for (const char *p = str; ok && *p; p++)
                        ok = isalnum((unsigned char) *p) || *p == '_' || *p == '-' || (*p == '$' && !p[1]);
        }
        return ok;
}

/* A signal name, but none of the 0-terminated k->data. SIGSTOP never ends nor reloads anything.
 * SIGKILL is a legitimate (if brutal) way to stop, but as a reload signal it would kill the
 * service. */
static int read_signal(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        const char *str = NULL;
        int r = read_string(c, k->path, v, &str);
        if (r < 0)
                return r;
        int sig = ks_signal_from_string(str);
        if (sig < 0)
                return fail(c, v, "\"%s\": \"%s\" is not a signal name (like \"SIGTERM\")", k->path, str);
        for (const int *refused = k->data; *refused; refused++)
                if (sig == *refused)
                        return fail(c, v, "\"%s\" cannot be %s", k->path, ks_signal_to_string(sig));
        *(int *) field = sig;
        return 0;
}

static int read_version(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        int64_t x = 0;
        int r = read_integer(c, k->path, v, INT64_MIN, INT64_MAX, &x);
        if (r >= 0 && x != KS_FORMAT_VERSION)
                r = fail(c, v, "\"version\" %" PRIi64 " is not supported: this kservice reads format version %d", x,
                         KS_FORMAT_VERSION);
        return r;
}

static int read_max_restarts(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        const char *str = NULL;
        int64_t x = 0;
        int r;

        if (v->type == KS_TOML_INTEGER) {
                r = read_integer(c, k->path, v, k->min, k->max, &x);
                if (r >= 0)
                        *(uint32_t *) field = (uint32_t) x;
                return r;
        }
        if (v->type != KS_TOML_STRING)
                return bad_type(c, k->path, v, "an integer or \"infinity\"");
        r = read_string(c, k->path, v, &str);
        if (r >= 0 && !streq(str, "infinity"))
                r = fail(c, v, "\"max_restarts\" must be a number or \"infinity\", not \"%s\"", str);
        if (r >= 0)
                *(uint32_t *) field = KS_RESTARTS_INFINITY;
        return r;
}

/* ---------------------------------------------------------------------------------------------
 * The readers most keys share; what differs between keys is in their entries (bounds, data). */

static int read_bool_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        return read_bool(c, k->path, v, field);
}

/* Stores x in an integer or enum field of size bytes. */
static void store_integer(void *field, size_t size, int64_t x) {
        switch (size) {
        case sizeof(uint8_t):
                *(uint8_t *) field = (uint8_t) x;
                break;
        case sizeof(uint16_t):
                *(uint16_t *) field = (uint16_t) x;
                break;
        case sizeof(uint32_t):
                *(uint32_t *) field = (uint32_t) x;
                break;
        case sizeof(uint64_t):
                *(uint64_t *) field = (uint64_t) x;
                break;
        default:
                assert(!"an integer field of an unknown size in ks_service_keys[]");
        }
}

/* An integer from k->min to k->max. */
static int read_integer_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        int64_t x = 0;
        int r = read_integer(c, k->path, v, k->min, k->max, &x);
        if (r >= 0)
                store_integer(field, k->size, x);
        return r;
}

/* A number from k->min to k->max, stored as a double. */
static int read_number_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        return read_number(c, k->path, v, (double) k->min, (double) k->max, field);
}

/* One of the k->max names of k->data, stored as its index: an enum. */
static int read_enum_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        int choice = 0;
        int r = read_choice(c, k->path, v, k->data, (size_t) k->max, &choice);
        if (r >= 0)
                store_integer(field, k->size, choice);
        return r;
}

/* One of the NULL-terminated names of k->data, kept as text. */
static int read_word_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        return read_word(c, k->path, v, k->data, field);
}

/* A duration of at least k->min usec; read_timeout_key also accepts "infinity". */
static int read_duration_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        return read_duration(c, k->path, v, false, (uint64_t) k->min, field);
}

static int read_timeout_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        return read_duration(c, k->path, v, true, (uint64_t) k->min, field);
}

/* A size (KS_KEY_SIZE) or a count, a percentage or "infinity". */
static int read_limit_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        return read_limit(c, k->path, v, k->type == KS_KEY_SIZE ? LIMIT_BYTES : LIMIT_COUNT, field);
}

/* A string that k->data's rule accepts. */
typedef struct string_rule {
        bool (*ok)(const char *s);
        const char *says;       /* what the message says of a bad value, e.g. "must be one line" */
        enum {
                SAYS_KEY,       /* "KEY" must be one line */
                SAYS_KEY_VALUE, /* "KEY" must be a path, not "VALUE" */
                SAYS_VALUE,     /* "KEY": "VALUE" is not a valid user name */
        } form;
        const char *unset;      /* a word that unsets the field instead, or NULL */
} string_rule;

static int read_string_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        const string_rule *rule = k->data;
        const char *str = NULL;
        int r = read_string(c, k->path, v, &str);
        if (r < 0)
                return r;
        if (rule->unset && streq(str, rule->unset)) {
                *(char **) field = mfree(*(char **) field);
                return 0;
        }
        if (rule->ok(str))
                return set_string(field, str);
        switch (rule->form) {
        case SAYS_KEY:
                return fail(c, v, "\"%s\" %s", k->path, rule->says);
        case SAYS_KEY_VALUE:
                return fail(c, v, "\"%s\" %s, not \"%s\"", k->path, rule->says, str);
        default:
                return fail(c, v, "\"%s\": \"%s\" %s", k->path, str, rule->says);
        }
}

static bool one_line(const char *s) {
        return !strpbrk(s, "\r\n");
}

static bool not_empty(const char *s) {
        return *s != '\0';
}

static bool http_url(const char *s) {
        bool https;
        return check_url(s, &https) >= 0;
}

static bool host_name(const char *s) {
        return *s && !strpbrk(s, " \t\r\n/");
}

static const string_rule rule_one_line = { one_line, "must be one line", SAYS_KEY };
static const string_rule rule_not_empty = { not_empty, "must not be empty", SAYS_KEY };
static const string_rule rule_abs_path = { path_is_normalized_absolute, "must be an absolute, normalized path",
                                           SAYS_KEY_VALUE };
static const string_rule rule_url = { http_url, "must be an http:// or https:// URL with a host", SAYS_KEY_VALUE };
static const string_rule rule_host = { host_name, "must be a host name or an IP address", SAYS_KEY_VALUE };
static const string_rule rule_user = { user_ok, "is not a valid user or group name", SAYS_VALUE };
/* OnFailure= takes a template too: unit-gen makes it an instance. */
static bool unit_name_or_template(const char *s) {
        return unit_name_is_valid(s, KS_UNIT_NAME_ANY);
}

static const string_rule rule_on_give_up = { unit_name_or_template,
                                             "must be \"nothing\" or a unit name like \"alert@.service\"",
                                             SAYS_KEY_VALUE, .unset = "nothing" };

/* A list of strings (or one string), each item checked by k->data's validator. */
typedef struct list_rule {
        validate_fn validate;
} list_rule;

static int read_list_key(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        const list_rule *rule = k->data;
        return read_strv(c, k->path, v, true, rule->validate, field);
}

static const list_rule list_abs_paths = { validate_abs_path };
static const list_rule list_abs_paths_dash = { validate_abs_path_dash };
static const list_rule list_dependencies = { validate_dependency };
static const list_rule list_units = { validate_unit };

static const int refused_stop[] = { SIGSTOP, 0 };
static const int refused_stop_kill[] = { SIGSTOP, SIGKILL, 0 };

/* A table ([health], [resources], [sandbox]): its keys are read into the service one by one. */
static int read_section(ctx *c, const ks_key_info *k, const ks_toml_value *v, void *field) {
        if (v->type != KS_TOML_TABLE) {
                char expected[64];
                snprintf(expected, sizeof(expected), "a table ([%s])", k->path);
                return bad_type(c, k->path, v, expected);
        }
        /* A bad key inside is reported; the table itself is set. */
        int r = read_table(c, k->path, v, field, c->s->key_origin);
        return r == -ENOMEM ? r : 0;
}

/* ---------------------------------------------------------------------------------------------
 * The key table: one line per key with its reader, its field and its bounds. The fields of
 * "health.check.*" are in a ks_check, all others in the ks_service. */

#define FIELD(type, member) .offset = offsetof(type, member), .size = sizeof(((type *) NULL)->member)
#define SERVICE(member) FIELD(ks_service, member)
#define CHECK(member) FIELD(ks_check, member)
#define WHOLE .offset = 0           /* the reader gets the ks_service (ks_check) itself */
#define KEY(p, t, reader, ...) { .path = p, .type = KS_KEY_##t, .read = reader, __VA_ARGS__ }
#define ENUM(names) .data = names, .max = ELEMENTSOF(names)
#define SANDBOX_KEY(st, key, t) \
        [K_SANDBOX_FIRST + (st)] = KEY("sandbox." key, t, read_sandbox_setting, SERVICE(sandbox), \
                                       .data = &ks_sandbox_settings[st])

/* clang-format off */
const ks_key_info ks_service_keys[] = {
        [K_VERSION]           = KEY("version", INTEGER, read_version, WHOLE),
        [K_DESCRIPTION]       = KEY("description", STRING, read_string_key, SERVICE(description), .data = &rule_one_line),
        [K_EXEC]              = KEY("exec", STRING_ARRAY, read_exec, WHOLE),
        [K_WORKING_DIRECTORY] = KEY("working_directory", STRING, read_string_key, SERVICE(working_directory),
                                    .data = &rule_abs_path),
        [K_USER]              = KEY("user", STRING, read_string_key, SERVICE(user), .data = &rule_user),
        [K_GROUP]             = KEY("group", STRING, read_string_key, SERVICE(group), .data = &rule_user),
        [K_TYPE]              = KEY("type", STRING, read_enum_key, SERVICE(type), ENUM(service_type_names)),
        [K_START_TIMEOUT]     = KEY("start_timeout", DURATION, read_timeout_key, SERVICE(start_timeout_usec), .min = 1),
        [K_STOP_TIMEOUT]      = KEY("stop_timeout", DURATION, read_timeout_key, SERVICE(stop_timeout_usec), .min = 1),
        [K_KILL_SIGNAL]       = KEY("kill_signal", STRING, read_signal, SERVICE(kill_signal), .data = refused_stop),
        [K_RELOAD_SIGNAL]     = KEY("reload_signal", STRING, read_signal, SERVICE(reload_signal),
                                    .data = refused_stop_kill),
        [K_ENVIRONMENT_FILE]  = KEY("environment_file", STRING_ARRAY, read_list_key, SERVICE(environment_file),
                                    .data = &list_abs_paths_dash),
        [K_ENVIRONMENT]       = KEY("environment", TABLE, read_environment, WHOLE),
        [K_RESTART]           = KEY("restart", STRING, read_enum_key, SERVICE(restart), ENUM(restart_names)),
        [K_RESTART_DELAY]     = KEY("restart_delay", DURATION, read_duration_key, SERVICE(restart_delay_usec), .min = 0),
        [K_RESTART_MAX_DELAY] = KEY("restart_max_delay", DURATION, read_duration_key, SERVICE(restart_max_delay_usec),
                                    .min = 1),
        [K_RESTART_STEPS]     = KEY("restart_steps", INTEGER, read_integer_key, SERVICE(restart_steps),
                                    .min = 1, .max = 3600),
        [K_MAX_RESTARTS]      = KEY("max_restarts", OTHER, read_max_restarts, SERVICE(max_restarts),
                                    .min = 1, .max = 10000),
        [K_RESTART_WINDOW]    = KEY("restart_window", DURATION, read_duration_key, SERVICE(restart_window_usec), .min = 1),
        [K_ON_GIVE_UP]        = KEY("on_give_up", STRING, read_string_key, SERVICE(on_give_up), .data = &rule_on_give_up),
        [K_AFTER]             = KEY("after", STRING_ARRAY, read_list_key, SERVICE(after), .data = &list_dependencies),
        [K_BEFORE]            = KEY("before", STRING_ARRAY, read_list_key, SERVICE(before), .data = &list_dependencies),
        [K_REQUIRES]          = KEY("requires", STRING_ARRAY, read_list_key, SERVICE(requires), .data = &list_dependencies),
        [K_WANTS]             = KEY("wants", STRING_ARRAY, read_list_key, SERVICE(wants), .data = &list_dependencies),
        [K_PART_OF]           = KEY("part_of", STRING_ARRAY, read_list_key, SERVICE(part_of), .data = &list_dependencies),
        [K_ENABLED]           = KEY("enabled", BOOL, read_bool_key, SERVICE(enabled)),
        [K_WANTED_BY]         = KEY("wanted_by", STRING_ARRAY, read_list_key, SERVICE(wanted_by), .data = &list_units),
        [K_RELOAD_ON_CHANGE]  = KEY("reload_on_change", STRING_ARRAY, read_list_key, SERVICE(reload_on_change),
                                    .data = &list_abs_paths),

        [K_HEALTH]                   = KEY("health", TABLE, read_section, WHOLE),
        [K_HEALTH_INTERVAL]          = KEY("health.interval", DURATION, read_duration_key, SERVICE(health.interval_usec),
                                           .min = KS_USEC_PER_SEC / 10),
        [K_HEALTH_TIMEOUT]           = KEY("health.timeout", DURATION, read_duration_key, SERVICE(health.timeout_usec),
                                           .min = 1),
        [K_HEALTH_START_PERIOD]      = KEY("health.start_period", DURATION, read_duration_key,
                                           SERVICE(health.start_period_usec), .min = 0),
        [K_HEALTH_FAILURE_THRESHOLD] = KEY("health.failure_threshold", INTEGER, read_integer_key,
                                           SERVICE(health.failure_threshold), .min = 1, .max = 1000),
        [K_HEALTH_SUCCESS_THRESHOLD] = KEY("health.success_threshold", INTEGER, read_integer_key,
                                           SERVICE(health.success_threshold), .min = 1, .max = 1000),
        [K_HEALTH_READY_ON_PASS]     = KEY("health.ready_on_pass", BOOL, read_bool_key, SERVICE(health.ready_on_pass)),
        [K_HEALTH_WATCHDOG]          = KEY("health.watchdog", DURATION, read_duration_key, SERVICE(health.watchdog_usec),
                                           .min = 1),
        [K_HEALTH_FLAP_LOW_THRESHOLD]  = KEY("health.flap_low_threshold", NUMBER, read_number_key,
                                             SERVICE(health.flap_low_threshold), .min = 0, .max = 100),
        [K_HEALTH_FLAP_HIGH_THRESHOLD] = KEY("health.flap_high_threshold", NUMBER, read_number_key,
                                             SERVICE(health.flap_high_threshold), .min = 0, .max = 100),
        [K_HEALTH_SCORE_HALF_LIFE]     = KEY("health.score_half_life", DURATION, read_duration_key,
                                             SERVICE(health.score_half_life_usec), .min = KS_USEC_PER_SEC),
        [K_HEALTH_CHECK]             = KEY("health.check", ARRAY_OF_TABLES, read_checks, SERVICE(health)),

        [K_CHECK_TYPE]               = KEY("health.check.type", STRING, read_enum_key, CHECK(type), ENUM(check_type_names)),
        [K_CHECK_URL]                = KEY("health.check.url", STRING, read_string_key, CHECK(url), .data = &rule_url),
        [K_CHECK_METHOD]             = KEY("health.check.method", STRING, read_word_key, CHECK(method), .data = http_methods),
        [K_CHECK_EXPECT_STATUS]      = KEY("health.check.expect_status", OTHER, read_expect_status, WHOLE),
        [K_CHECK_EXPECT_BODY]        = KEY("health.check.expect_body", STRING, read_string_key, CHECK(expect_body),
                                           .data = &rule_not_empty),
        [K_CHECK_HEADERS]            = KEY("health.check.headers", TABLE, read_headers, WHOLE),
        [K_CHECK_TLS_VERIFY]         = KEY("health.check.tls_verify", BOOL, read_bool_key, CHECK(tls_verify)),
        [K_CHECK_FOLLOW_REDIRECTS]   = KEY("health.check.follow_redirects", BOOL, read_bool_key, CHECK(follow_redirects)),
        [K_CHECK_MAX_RESPONSE_BYTES] = KEY("health.check.max_response_bytes", SIZE, read_max_response_bytes,
                                           CHECK(max_response_bytes), .max = 64 * 1024 * 1024),
        [K_CHECK_HOST]               = KEY("health.check.host", STRING, read_string_key, CHECK(host), .data = &rule_host),
        [K_CHECK_PORT]               = KEY("health.check.port", INTEGER, read_integer_key, CHECK(port),
                                           .min = 1, .max = 65535),

        [K_RESOURCES]   = KEY("resources", TABLE, read_section, WHOLE),
        [K_MEMORY_MAX]  = KEY("resources.memory_max", SIZE, read_limit_key, SERVICE(resources.memory_max)),
        [K_MEMORY_HIGH] = KEY("resources.memory_high", SIZE, read_limit_key, SERVICE(resources.memory_high)),
        [K_CPU_QUOTA]   = KEY("resources.cpu_quota", STRING, read_cpu_quota, SERVICE(resources.cpu_quota),
                              .max = 100000 * 100),
        [K_TASKS_MAX]   = KEY("resources.tasks_max", OTHER, read_limit_key, SERVICE(resources.tasks_max)),
        [K_IO_WEIGHT]   = KEY("resources.io_weight", INTEGER, read_integer_key, SERVICE(resources.io_weight),
                              .min = 1, .max = 10000),
        [K_NICE]        = KEY("resources.nice", INTEGER, read_nice, SERVICE(resources), .min = -20, .max = 19),

        [K_SANDBOX]        = KEY("sandbox", TABLE, read_section, WHOLE),
        [K_SANDBOX_PRESET] = KEY("sandbox.preset", STRING, read_enum_key, SERVICE(sandbox.preset),
                                 ENUM(sandbox_preset_names)),
        SANDBOX_KEY(KS_SANDBOX_NO_NEW_PRIVILEGES, "no_new_privileges", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PRIVATE_TMP, "private_tmp", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PRIVATE_DEVICES, "private_devices", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PRIVATE_NETWORK, "private_network", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_SYSTEM, "protect_system", OTHER),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_HOME, "protect_home", OTHER),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_KERNEL_TUNABLES, "protect_kernel_tunables", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_KERNEL_MODULES, "protect_kernel_modules", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_KERNEL_LOGS, "protect_kernel_logs", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_CONTROL_GROUPS, "protect_control_groups", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_CLOCK, "protect_clock", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_HOSTNAME, "protect_hostname", BOOL),
        SANDBOX_KEY(KS_SANDBOX_PROTECT_PROC, "protect_proc", STRING),
        SANDBOX_KEY(KS_SANDBOX_RESTRICT_SUID_SGID, "restrict_suid_sgid", BOOL),
        SANDBOX_KEY(KS_SANDBOX_RESTRICT_REALTIME, "restrict_realtime", BOOL),
        SANDBOX_KEY(KS_SANDBOX_RESTRICT_NAMESPACES, "restrict_namespaces", BOOL),
        SANDBOX_KEY(KS_SANDBOX_LOCK_PERSONALITY, "lock_personality", BOOL),
        SANDBOX_KEY(KS_SANDBOX_MEMORY_DENY_WRITE_EXECUTE, "memory_deny_write_execute", BOOL),
        SANDBOX_KEY(KS_SANDBOX_SYSTEM_CALL_ARCHITECTURES, "system_call_architectures", STRING_ARRAY),
        SANDBOX_KEY(KS_SANDBOX_SYSTEM_CALL_FILTER, "system_call_filter", STRING_ARRAY),
        SANDBOX_KEY(KS_SANDBOX_RESTRICT_ADDRESS_FAMILIES, "restrict_address_families", STRING_ARRAY),
        SANDBOX_KEY(KS_SANDBOX_CAPABILITY_BOUNDING_SET, "capability_bounding_set", STRING_ARRAY),
        SANDBOX_KEY(KS_SANDBOX_AMBIENT_CAPABILITIES, "ambient_capabilities", STRING_ARRAY),
        SANDBOX_KEY(KS_SANDBOX_UMASK, "umask", STRING),
        SANDBOX_KEY(KS_SANDBOX_READ_WRITE_PATHS, "read_write_paths", STRING_ARRAY),
        SANDBOX_KEY(KS_SANDBOX_READ_ONLY_PATHS, "read_only_paths", STRING_ARRAY),
        SANDBOX_KEY(KS_SANDBOX_INACCESSIBLE_PATHS, "inaccessible_paths", STRING_ARRAY),
};
/* clang-format on */
#undef SANDBOX_KEY
#undef ENUM
#undef KEY
#undef WHOLE
#undef CHECK
#undef SERVICE
#undef FIELD
const size_t ks_service_n_keys = ELEMENTSOF(ks_service_keys);
_Static_assert(ELEMENTSOF(ks_service_keys) == _K_MAX, "key table and key_id differ");

/* Reads each key of table t, whose dotted path is prefix ("" for the root), through its entry in
 * ks_service_keys[] into the struct at base, and records in origins where each key that was read
 * came from. An unknown or invalid key is reported and skipped. Returns -ENOMEM, -EINVAL when a
 * key was unknown or invalid, or 0. */
static int read_table(ctx *c, const char *prefix, const ks_toml_value *t, void *base, ks_origin *origins) {
        bool bad = false;

        for (size_t i = 0; i < t->table.n; i++) {
                const ks_toml_keyval *kv = &t->table.items[i];
                int id = key_lookup(prefix, kv->key, kv->key_len);
                int r;

                if (id < 0)
                        r = unknown_key(c, prefix, kv);
                else {
                        const ks_key_info *k = &ks_service_keys[id];
                        r = k->read(c, k, kv->value, (uint8_t *) base + k->offset);
                }
                CHECK_NOMEM(r);
                if (r < 0)
                        bad = true;
                else
                        origins[id] = origin_of(c, kv->value);
        }
        return bad ? -EINVAL : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Public API */

int ks_service_new(const char *name, ks_service **ret) {
        ks_service *s;

        if (!ks_service_name_is_valid(name))
                return -EINVAL;

        s = calloc(1, sizeof(ks_service));
        if (!s)
                return -ENOMEM;
        *s = (ks_service) {
                .type = KS_SERVICE_EXEC,
                .start_timeout_usec = KS_USEC_UNSET,
                .stop_timeout_usec = KS_USEC_UNSET,
                .restart = KS_RESTART_ON_FAILURE,
                .restart_delay_usec = 1 * KS_USEC_PER_SEC,
                .restart_max_delay_usec = KS_USEC_UNSET,
                .max_restarts = 5,
                .restart_window_usec = 10 * 60 * KS_USEC_PER_SEC,
                .health = {
                        .interval_usec = 10 * KS_USEC_PER_SEC,
                        .timeout_usec = 5 * KS_USEC_PER_SEC,
                        .start_period_usec = 0,
                        .failure_threshold = 3,
                        .success_threshold = 1,
                        .flap_low_threshold = 5.0,
                        .flap_high_threshold = 20.0,
                        .score_half_life_usec = 3600 * KS_USEC_PER_SEC,
                        .ready_on_pass = true,
                        .watchdog_usec = KS_USEC_UNSET,
                },
                .sandbox.preset = KS_SANDBOX_DEFAULT,
        };
        s->name = strdup(name);
        s->key_origin = calloc(ks_service_n_keys, sizeof(ks_origin));
        if (!s->name || !s->key_origin ||
            asprintf(&s->unit, KS_UNIT_PREFIX "%s" KS_UNIT_SUFFIX, name) < 0) {
                s->unit = NULL;
                ks_service_free(s);
                return -ENOMEM;
        }
        *ret = s;
        return 0;
}

ks_service *ks_service_free(ks_service *s) {
        if (!s)
                return NULL;
        free(s->name);
        free(s->unit);
        strv_free(s->files);
        free(s->description);
        strv_free(s->exec);
        free(s->exec_origin);
        free(s->working_directory);
        free(s->user);
        free(s->group);
        kv_array_free(s->environment, s->n_environment);
        strv_free(s->environment_file);
        free(s->on_give_up);
        strv_free(s->after);
        strv_free(s->before);
        strv_free(s->requires);
        strv_free(s->wants);
        strv_free(s->part_of);
        strv_free(s->wanted_by);
        strv_free(s->reload_on_change);
        health_clear_checks(&s->health);
        for (size_t i = 0; i < _KS_SANDBOX_SETTING_MAX; i++) {
                free(s->sandbox.value[i]);
                strv_free(s->sandbox.paths[i]);
        }
        free(s->key_origin);
        free(s);
        return NULL;
}

void ks_service_drop_origins(ks_service *s) {
        s->exec_origin = mfree(s->exec_origin);
        s->key_origin = mfree(s->key_origin);
}

/* Remembers file name in s->files (so origins can point at it) and returns the stored copy. */
static const char *service_add_file(ks_service *s, const char *file) {
        size_t n = strv_length(s->files);
        if (n > 0 && streq(s->files[n - 1], file))
                return s->files[n - 1];
        if (strv_extend(&s->files, file) < 0)
                return NULL;
        return s->files[n];
}

int ks_service_apply(ks_service *s, const ks_toml_document *doc, const char *file, ks_diag_list *diags) {
        ctx c = { .s = s, .diags = diags };
        int r;

        c.file = service_add_file(s, file);
        if (!c.file)
                return -ENOMEM;
        r = read_table(&c, "", ks_toml_root(doc), s, s->key_origin);
        if (r == -ENOMEM)
                return r;
        return c.failed ? -EINVAL : 0;
}

int ks_service_finalize(ks_service *s, ks_diag_list *diags) {
        ks_health *h = &s->health;
        int r;

        /* ---- derived defaults */
        if (!s->description && asprintf(&s->description, "kservice %s", s->name) < 0) {
                s->description = NULL;
                return -ENOMEM;
        }
        if (!s->wanted_by && strv_extend(&s->wanted_by, "multi-user.target") < 0)
                return -ENOMEM;
        if (s->restart_max_delay_usec != KS_USEC_UNSET && s->restart_steps == 0)
                s->restart_steps = 10;
        if (s->type == KS_SERVICE_NOTIFY && !key_set(s, K_HEALTH_READY_ON_PASS))
                h->ready_on_pass = false;
        for (size_t i = 0; i < _KS_SANDBOX_SETTING_MAX; i++) {
                const char *p = ks_sandbox_settings[i].preset[s->sandbox.preset];
                if (key_set(s, K_SANDBOX_FIRST + i) || !p)
                        continue;
                r = set_string(&s->sandbox.value[i], p);
                if (r < 0)
                        return r;
        }

        return ks_service_validate(s, diags);
}

/* ks_service_new(), with an invalid name reported as a diagnostic about file. */
static int service_new_reported(const char *name, const char *file, ks_service **ret, ks_diag_list *diags) {
        int r = ks_service_new(name, ret);
        if (r == -EINVAL)
                return ks_diag_add(diags, file, 0, 0,
                                   "\"%s\" is not a valid service name: use 1-%zu of A-Z a-z 0-9 _ . : -, not "
                                   "starting with . or -, not ending in a unit type like .service",
                                   name, KS_NAME_MAX) < 0 ? -ENOMEM : -EINVAL;
        return r;
}

int ks_service_load(
                const char *name,
                const ks_toml_document *doc,
                const char *file,
                ks_service **ret,
                ks_diag_list *diags) {
        _cleanup_service_ ks_service *s = NULL;
        int r;

        r = service_new_reported(name, file, &s, diags);
        if (r < 0)
                return r;
        r = ks_service_apply(s, doc, file, diags);
        if (r < 0)
                return r;
        /* Combinations are only judged on error-free input (see ks_service_load_files()). */
        r = ks_service_finalize(s, diags);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int ks_service_load_files(
                const char *name,
                const char *path,
                const char *const *dropins,
                size_t n_dropins,
                ks_service **ret,
                ks_diag_list *diags) {
        _cleanup_service_ ks_service *s = NULL;
        bool failed = false;
        int r;

        r = service_new_reported(name, path, &s, diags);
        if (r < 0)
                return r;

        for (size_t i = 0; i <= n_dropins; i++) {
                const char *f = i == 0 ? path : dropins[i - 1];
                _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
                ks_toml_error err = {};

                r = ks_toml_parse_file(f, &doc, &err);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        failed = true;
                        if (err.line > 0)
                                r = ks_diag_add(diags, f, err.line, err.column, "%s", err.message);
                        else
                                r = ks_diag_add(diags, f, 0, 0, "%s", err.message[0] ? err.message : strerror(-r));
                        if (r < 0)
                                return r;
                        continue;
                }
                r = ks_service_apply(s, doc, f, diags);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        failed = true;
        }
        if (failed)
                return -EINVAL;
        /* Combinations are only judged on a complete, error-free merge, so that one typo does not
         * cascade into misleading follow-up errors. */
        r = ks_service_finalize(s, diags);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Derived values */

ks_service_type ks_service_unit_type(const ks_service *s) {
        return ks_service_has_health(s) ? KS_SERVICE_NOTIFY : s->type;
}

static uint64_t sat_add(uint64_t a, uint64_t b) {
        return a > UINT64_MAX - 2 - b ? UINT64_MAX - 2 : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b) {
        return b != 0 && a > (UINT64_MAX - 2) / b ? UINT64_MAX - 2 : a * b;
}

uint64_t ks_service_watchdog_usec(const ks_service *s) {
        const ks_health *h = &s->health;

        if (!ks_service_has_health(s))
                return 0;
        if (h->watchdog_usec != KS_USEC_UNSET)
                return h->watchdog_usec;
        uint64_t w = sat_add(sat_add(sat_mul(h->failure_threshold, h->interval_usec), h->timeout_usec),
                             KS_WATCHDOG_GRACE_USEC);
        return sat_mul((w + KS_USEC_PER_SEC - 1) / KS_USEC_PER_SEC, KS_USEC_PER_SEC);
}

uint64_t ks_service_start_timeout_usec(const ks_service *s) {
        const ks_health *h = &s->health;

        if (s->start_timeout_usec != KS_USEC_UNSET || !ks_service_has_health(s) || !h->ready_on_pass)
                return s->start_timeout_usec;
        /* Readiness takes success_threshold passes in a row: room for them after the failures. */
        uint64_t rounds = (uint64_t) h->failure_threshold + h->success_threshold - 1;
        uint64_t t = sat_add(sat_add(h->start_period_usec, sat_mul(rounds, h->interval_usec)),
                             h->timeout_usec);
        return MAX(t, KS_START_TIMEOUT_DEFAULT_USEC);
}

static bool kv_equal(const ks_kv *a, size_t na, const ks_kv *b, size_t nb) {
        if (na != nb)
                return false;
        for (size_t i = 0; i < na; i++)
                if (!streq(a[i].key, b[i].key) || !streq(a[i].value, b[i].value))
                        return false;
        return true;
}

bool ks_check_equal(const ks_check *a, const ks_check *b) {
        return a->type == b->type && streq_ptr(a->url, b->url) && streq_ptr(a->method, b->method) &&
               a->n_expect_status == b->n_expect_status &&
               (a->n_expect_status == 0 ||
                memcmp(a->expect_status, b->expect_status, a->n_expect_status * sizeof(ks_status_range)) == 0) &&
               streq_ptr(a->expect_body, b->expect_body) && kv_equal(a->headers, a->n_headers, b->headers, b->n_headers) &&
               a->tls_verify == b->tls_verify && a->follow_redirects == b->follow_redirects &&
               a->max_response_bytes == b->max_response_bytes && streq_ptr(a->host, b->host) && a->port == b->port;
}

bool ks_health_equal(const ks_health *a, const ks_health *b) {
        if (a->n_checks != b->n_checks || a->interval_usec != b->interval_usec || a->timeout_usec != b->timeout_usec ||
            a->start_period_usec != b->start_period_usec || a->failure_threshold != b->failure_threshold ||
            a->success_threshold != b->success_threshold || a->ready_on_pass != b->ready_on_pass ||
            a->watchdog_usec != b->watchdog_usec || a->flap_low_threshold != b->flap_low_threshold ||
            a->flap_high_threshold != b->flap_high_threshold || a->score_half_life_usec != b->score_half_life_usec)
                return false;
        for (size_t i = 0; i < a->n_checks; i++)
                if (!ks_check_equal(&a->checks[i], &b->checks[i]))
                        return false;
        return true;
}
