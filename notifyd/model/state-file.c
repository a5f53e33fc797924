/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A service's persisted state and its NAME.state file (see state-file.h for the format). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32.h"
#include "escape.h"
#include "macro.h"
#include "service.h"
#include "state-file.h"
#include "string-util.h"
#include "time-util.h"

#define HEADER_PREFIX "# kservice-notifyd state "
#define CHECKSUM_KEY "CHECKSUM="
#define CHECKSUM_DIGITS 8
#define SUFFIX ".state"
#define SUFFIX_TEMP ".state.tmp-"
#define SUFFIX_BAD ".state.bad-"
#define TEMP_RANDOM_LEN 6

static const char *const health_names[_KS_HEALTH_STATE_MAX] = {
        [KS_HEALTH_STARTING] = "starting",   [KS_HEALTH_HEALTHY] = "healthy",
        [KS_HEALTH_UNHEALTHY] = "unhealthy", [KS_HEALTH_FLAPPING] = "flapping",
        [KS_HEALTH_PAUSED] = "paused",       [KS_HEALTH_UNKNOWN] = "unknown",
};

static const char *const action_names[_KS_INCIDENT_ACTION_MAX] = {
        [KS_INCIDENT_ACTION_NONE] = "none",
        [KS_INCIDENT_ACTION_RESTART] = "restart",
        [KS_INCIDENT_ACTION_GAVE_UP] = "gave-up",
};

static const char *const outcome_names[_KS_INCIDENT_OUTCOME_MAX] = {
        [KS_INCIDENT_ONGOING] = "ongoing",     [KS_INCIDENT_RECOVERED] = "recovered",
        [KS_INCIDENT_RESTARTED] = "restarted", [KS_INCIDENT_STOPPED] = "stopped",
        [KS_INCIDENT_GAVE_UP] = "gave-up",
        [KS_INCIDENT_UNKNOWN] = "unknown",
};

static const char *name_of(const char *const *names, size_t n, unsigned v) {
        return v < n ? names[v] : NULL;
}

static int index_of(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(names[i], s))
                        return (int) i;
        return -EINVAL;
}

const char *ks_health_state_to_string(ks_health_state h) {
        return name_of(health_names, ELEMENTSOF(health_names), h);
}

const char *ks_incident_action_to_string(ks_incident_action a) {
        return name_of(action_names, ELEMENTSOF(action_names), a);
}

const char *ks_incident_outcome_to_string(ks_incident_outcome o) {
        return name_of(outcome_names, ELEMENTSOF(outcome_names), o);
}

void ks_service_state_init(ks_service_state *s) {
        /* The incidents past n_incidents are left as they are: a fresh state costs its owner no
         * memory for the 50 it may never have (calloc()ed pages stay untouched). */
        memset(s, 0, offsetof(ks_service_state, incidents));
        s->version = KS_SERVICE_STATE_VERSION;
        s->health = KS_HEALTH_UNKNOWN;
        s->flap_last = -1;
}

void ks_service_state_copy(ks_service_state *dst, const ks_service_state *src) {
        memcpy(dst, src, offsetof(ks_service_state, incidents) + src->n_incidents * sizeof src->incidents[0]);
}

static bool double_same(double a, double b) {
        return memcmp(&a, &b, sizeof a) == 0;
}

bool ks_service_state_equal(const ks_service_state *a, const ks_service_state *b) {
        if (a->version != b->version || a->health != b->health ||
            a->health_since_usec != b->health_since_usec ||
            a->consecutive_failures != b->consecutive_failures ||
            a->restarts_by_kservice != b->restarts_by_kservice || a->restarts_seen != b->restarts_seen ||
            a->systemd_n_restarts != b->systemd_n_restarts ||
            !streq(a->systemd_invocation_id, b->systemd_invocation_id) ||
            !double_same(a->score_numerator, b->score_numerator) ||
            !double_same(a->score_denominator, b->score_denominator) ||
            a->score_updated_usec != b->score_updated_usec || a->flap_changes != b->flap_changes ||
            a->flap_n_changes != b->flap_n_changes || a->flap_last != b->flap_last || a->flapping != b->flapping ||
            a->n_incidents != b->n_incidents)
                return false;
        for (size_t i = 0; i < a->n_incidents; i++) {
                const ks_incident *x = &a->incidents[i], *y = &b->incidents[i];

                if (x->started_usec != y->started_usec || x->ended_usec != y->ended_usec ||
                    x->action != y->action || x->outcome != y->outcome || !streq(x->reason, y->reason))
                        return false;
        }
        return true;
}

ks_incident *ks_service_state_add_incident(ks_service_state *s, uint64_t started_usec, const char *reason) {
        size_t n = strnlen(reason, KS_INCIDENT_REASON_MAX + 1);
        ks_incident *i;

        if (s->n_incidents >= KS_SERVICE_STATE_INCIDENTS_MAX) {
                memmove(s->incidents, s->incidents + 1, sizeof s->incidents[0] * (KS_SERVICE_STATE_INCIDENTS_MAX - 1));
                s->n_incidents = KS_SERVICE_STATE_INCIDENTS_MAX - 1;
        }
        if (n > KS_INCIDENT_REASON_MAX) {
                /* Cut before a UTF-8 continuation byte's lead, not in the middle of a sequence. */
                n = KS_INCIDENT_REASON_MAX;
                for (size_t k = 0; k < 3 && n > 0 && ((unsigned char) reason[n] & 0xc0) == 0x80; k++)
                        n--;
        }
        i = &s->incidents[s->n_incidents++];
        *i = (ks_incident) {
                .started_usec = started_usec,
                .action = KS_INCIDENT_ACTION_NONE,
                .outcome = KS_INCIDENT_ONGOING,
        };
        memcpy(i->reason, reason, n);
        i->reason[n] = '\0';
        return i;
}

/* ---------------------------------------------------------------------------------------------
 * Keys: one table line each, its reader and writer */

static bool invocation_id_ok(const char *id) {
        size_t n = strnlen(id, KS_INVOCATION_ID_LEN + 1);

        if (n != 0 && n != KS_INVOCATION_ID_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
                        return false;
        return true;
}

static bool flap_ok(uint32_t changes, unsigned n, int last) {
        return n <= KS_FLAP_CHANGES_MAX && (changes >> n) == 0 && last >= -1 && last <= 1;
}

static int read_u64(ks_service_state *s, void *field, const char *v) {
        return safe_atou64(v, field);
}

static void write_u64(FILE *f, const ks_service_state *s, const void *field) {
        fprintf(f, "%" PRIu64, *(const uint64_t *) field);
}

static int read_bool(ks_service_state *s, void *field, const char *v) {
        if (!streq(v, "0") && !streq(v, "1"))
                return -EINVAL;
        *(bool *) field = v[0] == '1';
        return 0;
}

static void write_bool(FILE *f, const ks_service_state *s, const void *field) {
        fputc(*(const bool *) field ? '1' : '0', f);
}

static int read_double(ks_service_state *s, void *field, const char *v) {
        char *end;
        double d;

        /* strtod() would skip leading space and take "inf" and "nan": the checks refuse those. */
        if (!*v || strchr(" \t", *v))
                return -EINVAL;
        errno = 0;
        d = strtod(v, &end);
        if (*end || !isfinite(d))
                return -EINVAL;
        *(double *) field = d;
        return 0;
}

static void write_double(FILE *f, const ks_service_state *s, const void *field) {
        fprintf(f, "%.17g", *(const double *) field);
}

static int read_health(ks_service_state *s, void *field, const char *v) {
        int h = index_of(health_names, ELEMENTSOF(health_names), v);

        if (h < 0)
                return h;
        *(ks_health_state *) field = (ks_health_state) h;
        return 0;
}

static void write_health(FILE *f, const ks_service_state *s, const void *field) {
        fputs(health_names[*(const ks_health_state *) field], f);
}

static int read_invocation_id(ks_service_state *s, void *field, const char *v) {
        if (!invocation_id_ok(v))
                return -EINVAL;
        strcpy(field, v);
        return 0;
}

static void write_string(FILE *f, const ks_service_state *s, const void *field) {
        fputs(field, f);
}

/* FLAP_CHANGES=0110...: oldest first, so the newest flag (bit 0) is the last digit. */
static int read_flap_changes(ks_service_state *s, void *field, const char *v) {
        size_t n = strlen(v);
        uint32_t bits = 0;

        if (n > KS_FLAP_CHANGES_MAX)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                if (v[i] != '0' && v[i] != '1')
                        return -EINVAL;
                bits = bits << 1 | (uint32_t) (v[i] == '1');
        }
        s->flap_changes = bits;
        s->flap_n_changes = (unsigned) n;
        return 0;
}

static void write_flap_changes(FILE *f, const ks_service_state *s, const void *field) {
        for (unsigned i = s->flap_n_changes; i > 0; i--)
                fputc('0' + ((s->flap_changes >> (i - 1)) & 1), f);
}

static const char *const flap_last_names[] = { "none", "failed", "passed" };

static int read_flap_last(ks_service_state *s, void *field, const char *v) {
        int i = index_of(flap_last_names, ELEMENTSOF(flap_last_names), v);

        if (i < 0)
                return i;
        *(int *) field = i - 1;
        return 0;
}

static void write_flap_last(FILE *f, const ks_service_state *s, const void *field) {
        fputs(flap_last_names[*(const int *) field + 1], f);
}

typedef struct state_key {
        const char *key;
        int (*read)(ks_service_state *s, void *field, const char *value);  /* -EINVAL: a bad value */
        void (*write)(FILE *f, const ks_service_state *s, const void *field);
        size_t offset;
} state_key;

#define KEY(k, type, field) { k, read_##type, write_##type, offsetof(ks_service_state, field) }

/* In the order they are written. */
static const state_key state_keys[] = {
        KEY("HEALTH", health, health),
        KEY("HEALTH_SINCE", u64, health_since_usec),
        KEY("CONSECUTIVE_FAILURES", u64, consecutive_failures),
        KEY("RESTARTS_BY_KSERVICE", u64, restarts_by_kservice),
        KEY("RESTARTS_SEEN", u64, restarts_seen),
        KEY("SYSTEMD_NRESTARTS", u64, systemd_n_restarts),
        { "SYSTEMD_INVOCATION_ID", read_invocation_id, write_string, offsetof(ks_service_state, systemd_invocation_id) },
        KEY("SCORE_NUMERATOR", double, score_numerator),
        KEY("SCORE_DENOMINATOR", double, score_denominator),
        KEY("SCORE_UPDATED", u64, score_updated_usec),
        KEY("FLAP_CHANGES", flap_changes, flap_changes),
        KEY("FLAP_LAST", flap_last, flap_last),
        KEY("FLAPPING", bool, flapping),
};

/* ---------------------------------------------------------------------------------------------
 * Formatting */

/* Whether format() can write s so that parse() reads it back the same: what parse() accepts. */
static bool state_ok(const ks_service_state *s) {
        if ((unsigned) s->health >= _KS_HEALTH_STATE_MAX || !invocation_id_ok(s->systemd_invocation_id) ||
            !isfinite(s->score_numerator) || !isfinite(s->score_denominator) ||
            !flap_ok(s->flap_changes, s->flap_n_changes, s->flap_last) || s->n_incidents > KS_SERVICE_STATE_INCIDENTS_MAX)
                return false;
        for (size_t i = 0; i < s->n_incidents; i++) {
                const ks_incident *x = &s->incidents[i];

                if ((unsigned) x->action >= _KS_INCIDENT_ACTION_MAX ||
                    (unsigned) x->outcome >= _KS_INCIDENT_OUTCOME_MAX ||
                    strnlen(x->reason, sizeof x->reason) > KS_INCIDENT_REASON_MAX)
                        return false;
        }
        return true;
}

int ks_service_state_format(const ks_service_state *s, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        if (!state_ok(s))
                return -EINVAL;
        f = open_memstream(&buf, &size);
        if (!f)
                return -ENOMEM;
        fputs(KS_SERVICE_STATE_HEADER "\n", f);
        for (size_t k = 0; k < ELEMENTSOF(state_keys); k++) {
                fprintf(f, "%s=", state_keys[k].key);
                state_keys[k].write(f, s, (const char *) s + state_keys[k].offset);
                fputc('\n', f);
        }
        for (size_t i = 0; i < s->n_incidents; i++) {
                const ks_incident *x = &s->incidents[i];
                _cleanup_free_ char *reason = escape_controls(x->reason, KS_ESCAPE_SHORT | KS_ESCAPE_BACKSLASH);

                if (!reason) {
                        fclose(f);
                        return -ENOMEM;
                }
                fprintf(f, "INCIDENT=%" PRIu64 ",%" PRIu64 ",%s,%s,%s\n", x->started_usec, x->ended_usec,
                        action_names[x->action], outcome_names[x->outcome], reason);
        }
        /* The checksum covers what is in buf so far. */
        if (fflush(f) != 0) {
                fclose(f);
                return -ENOMEM;
        }
        fprintf(f, CHECKSUM_KEY "%08" PRIx32 "\n", crc32_ieee(0, buf, size));
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = size;
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Parsing */

_printf_(2, 3) static int reject(char **ret_reason, const char *fmt, ...) {
        va_list ap;
        int r;

        if (!ret_reason)
                return -EBADMSG;
        va_start(ap, fmt);
        r = vasprintf(ret_reason, fmt, ap);
        va_end(ap);
        return r < 0 ? -ENOMEM : -EBADMSG;
}

/* A value quoted in a reason: escaped, and cut so that a reason stays one short line. */
static char *quote(const char *v) {
        char *e = escape_controls(v, KS_ESCAPE_SHORT | KS_ESCAPE_BACKSLASH);

        if (e && strlen(e) > 40)
                strcpy(e + 37, "...");
        return e;
}

static int reject_value(char **ret_reason, unsigned line, const char *key, const char *value) {
        _cleanup_free_ char *q = quote(value);

        if (!q)
                return -ENOMEM;
        return reject(ret_reason, "line %u: bad value for %s: \"%s\"", line, key, q);
}

/* STARTED,ENDED,ACTION,OUTCOME,REASON; v is modified. */
static int read_incident(char *v, ks_incident *ret) {
        char *field[4];
        _cleanup_free_ char *reason = NULL;
        int a, o, r;

        for (size_t i = 0; i < ELEMENTSOF(field); i++) {
                char *comma = strchr(v, ',');
                if (!comma)
                        return -EINVAL;
                *comma = '\0';
                field[i] = v;
                v = comma + 1;
        }
        a = index_of(action_names, ELEMENTSOF(action_names), field[2]);
        o = index_of(outcome_names, ELEMENTSOF(outcome_names), field[3]);
        if (safe_atou64(field[0], &ret->started_usec) < 0 || safe_atou64(field[1], &ret->ended_usec) < 0 ||
            a < 0 || o < 0)
                return -EINVAL;
        r = unescape_controls(v, strlen(v), &reason);
        if (r < 0)
                return r;
        if (strlen(reason) > KS_INCIDENT_REASON_MAX)
                return -EINVAL;
        ret->action = (ks_incident_action) a;
        ret->outcome = (ks_incident_outcome) o;
        strcpy(ret->reason, reason);
        return 0;
}

static bool key_ok(const char *k, size_t n) {
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((k[i] >= 'A' && k[i] <= 'Z') || (k[i] >= '0' && k[i] <= '9') || k[i] == '_'))
                        return false;
        return true;
}

/* The lines between the header and the checksum line, at text (NUL-terminated, modified). */
static int parse_body(char *text, unsigned first_line, ks_service_state *s, char **ret_reason) {
        uint64_t seen = 0;
        unsigned line = first_line;

        _Static_assert(ELEMENTSOF(state_keys) <= 64, "one bit per key in seen");

        for (char *p = text, *nl; *p; p = nl + 1, line++) {
                char *eq, *v;
                size_t k;

                nl = strchr(p, '\n');
                *nl = '\0';     /* every line ends in one: the checksum line follows */
                if (p[0] == '#')
                        continue;
                eq = strchr(p, '=');
                if (!eq)
                        return reject(ret_reason, "line %u: no '='", line);
                if (!key_ok(p, eq - p))
                        return reject(ret_reason, "line %u: malformed key", line);
                *eq = '\0';
                v = eq + 1;

                if (streq(p, "INCIDENT")) {
                        ks_incident x;
                        int r;

                        if (s->n_incidents >= KS_SERVICE_STATE_INCIDENTS_MAX)
                                return reject(ret_reason, "line %u: more than %d incidents", line,
                                              KS_SERVICE_STATE_INCIDENTS_MAX);
                        r = read_incident(v, &x);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                return reject(ret_reason, "line %u: malformed INCIDENT", line);
                        s->incidents[s->n_incidents++] = x;
                        continue;
                }
                if (streq(p, "CHECKSUM"))
                        return reject(ret_reason, "line %u: CHECKSUM= before the last line", line);
                for (k = 0; k < ELEMENTSOF(state_keys); k++)
                        if (streq(p, state_keys[k].key))
                                break;
                if (k == ELEMENTSOF(state_keys))
                        continue;       /* a key of a later version: skipped */
                if (seen & (UINT64_C(1) << k))
                        return reject(ret_reason, "line %u: %s given twice", line, p);
                seen |= UINT64_C(1) << k;
                if (state_keys[k].read(s, (char *) s + state_keys[k].offset, v) < 0)
                        return reject_value(ret_reason, line, p, v);
        }
        return 0;
}

int ks_service_state_parse(const char *data, size_t size, ks_service_state *ret, char **ret_reason) {
        static const char header[] = KS_SERVICE_STATE_HEADER "\n";
        _cleanup_free_ char *text = NULL;
        const char *last, *digits;
        ks_service_state s;
        size_t n;
        uint32_t want;
        int r;

        if (size == 0)
                return reject(ret_reason, "empty file");
        if (size > KS_SERVICE_STATE_SIZE_MAX)
                return reject(ret_reason, "larger than %u bytes", KS_SERVICE_STATE_SIZE_MAX);
        if (memchr(data, '\0', size))
                return reject(ret_reason, "contains a NUL byte");
        if (size < sizeof header - 1 && memcmp(data, header, size) == 0)
                return reject(ret_reason, "truncated (within the first line)");
        if (size < sizeof header - 1 || memcmp(data, header, sizeof header - 1) != 0) {
                const char *nl = memchr(data, '\n', size);
                _cleanup_free_ char *first = strndup(data, MIN(nl ? (size_t) (nl - data) : size, (size_t) 80));
                _cleanup_free_ char *q = first ? quote(first) : NULL;

                if (!q)
                        return -ENOMEM;
                if (size > strlen(HEADER_PREFIX) && memcmp(data, HEADER_PREFIX, strlen(HEADER_PREFIX)) == 0)
                        return reject(ret_reason, "foreign format version (first line \"%s\", expected \"%s\")", q,
                                      KS_SERVICE_STATE_HEADER);
                return reject(ret_reason, "not a kservice-notifyd state file (first line \"%s\")", q);
        }

        /* The last line, with its newline: CHECKSUM=xxxxxxxx. */
        if (data[size - 1] != '\n')
                return reject(ret_reason, "truncated (no newline at the end)");
        n = size - 1;
        while (n > 0 && data[n - 1] != '\n')
                n--;
        last = data + n;
        if (n < sizeof header - 1 || size - n < strlen(CHECKSUM_KEY) ||
            memcmp(last, CHECKSUM_KEY, strlen(CHECKSUM_KEY)) != 0)
                return reject(ret_reason, "truncated (the last line is not CHECKSUM=)");
        digits = last + strlen(CHECKSUM_KEY);
        want = 0;
        if (data + size - 1 - digits != CHECKSUM_DIGITS)
                return reject(ret_reason, "malformed CHECKSUM= line");
        for (size_t i = 0; i < CHECKSUM_DIGITS; i++) {
                int d = unhexchar(digits[i]);
                if (d < 0 || (digits[i] >= 'A' && digits[i] <= 'F'))
                        return reject(ret_reason, "malformed CHECKSUM= line");
                want = want << 4 | (uint32_t) d;
        }
        if (crc32_ieee(0, data, last - data) != want)
                return reject(ret_reason, "checksum mismatch (the file says %08" PRIx32 ", its content is %08" PRIx32 ")",
                              want, crc32_ieee(0, data, last - data));

        /* The checksum holds: what is left are lines a writer of this major version wrote, checked
         * all the same. */
        text = strndup(data + sizeof header - 1, last - data - (sizeof header - 1));
        if (!text)
                return -ENOMEM;
        ks_service_state_init(&s);
        r = parse_body(text, 2, &s, ret_reason);
        if (r < 0)
                return r;
        ks_service_state_copy(ret, &s);
        return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Files */

static int check_name(const char *name) {
        if (!ks_service_name_is_valid(name))
                return -EINVAL;
        return strlen(name) > KS_STATE_NAME_MAX ? -ENAMETOOLONG : 0;
}

/* TEMP_RANDOM_LEN letters and digits, different at each call: O_EXCL settles the rare clash. */
static void random_suffix(char ret[static TEMP_RANDOM_LEN + 1]) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        static uint64_t counter;
        /* splitmix64 of the clock, the PID and a counter */
        uint64_t x = ks_now_usec() ^ ((uint64_t) getpid() << 40) ^ (++counter * 0x9e3779b97f4a7c15u);

        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9u;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebu;
        x ^= x >> 31;
        for (size_t i = 0; i < TEMP_RANDOM_LEN; i++, x /= sizeof alphabet - 1)
                ret[i] = alphabet[x % (sizeof alphabet - 1)];
        ret[TEMP_RANDOM_LEN] = '\0';
}

static int open_temp(int dir_fd, const char *name, char **ret_path) {
        for (unsigned attempt = 0; attempt < 64; attempt++) {
                _cleanup_free_ char *tmp = NULL;
                char suffix[TEMP_RANDOM_LEN + 1];
                int fd;

                random_suffix(suffix);
                if (asprintf(&tmp, "%s" SUFFIX_TEMP "%s", name, suffix) < 0)
                        return -ENOMEM;
                fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0644);
                if (fd >= 0) {
                        *ret_path = TAKE_PTR(tmp);
                        return fd;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int ks_service_state_save(int dir_fd, const char *name, const ks_service_state *s) {
        int r = ks_service_state_write(dir_fd, name, s);

        /* The rename is durable once the directory is. */
        if (r >= 0 && fsync(dir_fd) < 0)
                return -errno;
        return r;
}

int ks_service_state_write(int dir_fd, const char *name, const ks_service_state *s) {
        _cleanup_free_ char *content = NULL, *path = NULL, *tmp = NULL;
        _cleanup_close_ int fd = -EBADF;
        size_t size;
        int r;

        r = check_name(name);
        if (r < 0)
                return r;
        r = ks_service_state_format(s, &content, &size);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s" SUFFIX, name) < 0)
                return -ENOMEM;
        fd = open_temp(dir_fd, name, &tmp);
        if (fd < 0)
                return fd;

        r = write_all(fd, content, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r >= 0 && renameat(dir_fd, tmp, dir_fd, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dir_fd, tmp, 0);
        return r;
}

/* Renames path to path.bad-USEC (a USEC that no file has yet); *ret is the new name. */
static int set_aside(int dir_fd, const char *path, char **ret) {
        uint64_t usec = ks_now_realtime_usec();

        for (unsigned attempt = 0; attempt < 64; attempt++, usec++) {
                _cleanup_free_ char *bad = NULL;
                struct stat st;

                if (asprintf(&bad, "%s.bad-%" PRIu64, path, usec) < 0)
                        return -ENOMEM;
                if (renameat2(dir_fd, path, dir_fd, bad, RENAME_NOREPLACE) < 0) {
                        if (errno == EEXIST)
                                continue;
                        if (errno != EINVAL && errno != ENOSYS)
                                return -errno;
                        /* No RENAME_NOREPLACE on this file system: look first. */
                        if (fstatat(dir_fd, bad, &st, AT_SYMLINK_NOFOLLOW) >= 0)
                                continue;
                        if (renameat(dir_fd, path, dir_fd, bad) < 0)
                                return -errno;
                }
                (void) fsync(dir_fd);
                *ret = TAKE_PTR(bad);
                return 0;
        }
        return -EEXIST;
}

/* Reads at most KS_SERVICE_STATE_SIZE_MAX + 1 bytes: enough to tell that a file is too large. */
static int read_capped(int fd, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = malloc(KS_SERVICE_STATE_SIZE_MAX + 1);
        size_t n = 0;

        if (!buf)
                return -ENOMEM;
        while (n < KS_SERVICE_STATE_SIZE_MAX + 1) {
                ssize_t k = read(fd, buf + n, KS_SERVICE_STATE_SIZE_MAX + 1 - n);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

/* Opens and reads path and parses it: -EBADMSG with *ret_reason for a file to set aside. */
static int load_file(int dir_fd, const char *path, ks_service_state *ret, char **ret_reason) {
        _cleanup_free_ char *content = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        size_t size = 0;
        int r;

        fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return errno == ELOOP ? reject(ret_reason, "a symbolic link") : -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return reject(ret_reason, "not a regular file");
        r = read_capped(fd, &content, &size);
        if (r < 0)
                return r;
        return ks_service_state_parse(content, size, ret, ret_reason);
}

int ks_service_state_load(int dir_fd, const char *name, ks_service_state *ret, char **ret_reason,
                          char **ret_set_aside) {
        _cleanup_free_ char *path = NULL, *reason = NULL, *bad = NULL;
        int r;

        r = check_name(name);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s" SUFFIX, name) < 0)
                return -ENOMEM;
        r = load_file(dir_fd, path, ret, &reason);
        if (r != -EBADMSG)
                return r;

        /* Renamed, never deleted: an operator may want to see what went wrong. Should the rename
         * fail, the caller still starts fresh and says so. */
        (void) set_aside(dir_fd, path, &bad);
        if (ret_reason)
                *ret_reason = TAKE_PTR(reason);
        if (ret_set_aside)
                *ret_set_aside = TAKE_PTR(bad);
        return -EBADMSG;
}

/* ---------------------------------------------------------------------------------------------
 * Cleaning */

typedef enum state_file_kind {
        KIND_OTHER,
        KIND_STATE,     /* NAME.state */
        KIND_BAD,       /* NAME.state.bad-USEC */
        KIND_TEMP,      /* NAME.state.tmp-XXXXXX */
} state_file_kind;

/* What a directory entry is, and its NAME (*ret_name, for all but KIND_OTHER). */
static int classify(const char *file, state_file_kind *ret_kind, char **ret_name) {
        size_t n = strlen(file), name_len = 0;
        state_file_kind kind = KIND_OTHER;
        const char *p;

        if (endswith(file, SUFFIX)) {
                kind = KIND_STATE;
                name_len = n - strlen(SUFFIX);
        } else if ((p = strstr(file, SUFFIX_BAD))) {
                const char *digits;

                /* the last occurrence: NAME may contain ".state.bad-" itself */
                for (const char *q; (q = strstr(p + 1, SUFFIX_BAD)); p = q)
                        ;
                digits = p + strlen(SUFFIX_BAD);
                if (*digits && strspn(digits, "0123456789") == strlen(digits)) {
                        kind = KIND_BAD;
                        name_len = p - file;
                }
        }
        if (kind == KIND_OTHER && n > strlen(SUFFIX_TEMP) + TEMP_RANDOM_LEN &&
            strncmp(file + n - TEMP_RANDOM_LEN - strlen(SUFFIX_TEMP), SUFFIX_TEMP, strlen(SUFFIX_TEMP)) == 0 &&
            strspn(file + n - TEMP_RANDOM_LEN, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") ==
                    TEMP_RANDOM_LEN) {
                kind = KIND_TEMP;
                name_len = n - TEMP_RANDOM_LEN - strlen(SUFFIX_TEMP);
        }
        if (kind != KIND_OTHER) {
                _cleanup_free_ char *name = strndup(file, name_len);

                if (!name)
                        return -ENOMEM;
                if (!ks_service_name_is_valid(name))
                        kind = KIND_OTHER;
                else
                        *ret_name = TAKE_PTR(name);
        }
        *ret_kind = kind;
        return 0;
}

static int cmp_names(const void *a, const void *b) {
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

int ks_service_state_remove_stale(int dir_fd, const char *const *keep_names, uint64_t grace_usec,
                                  uint64_t now_realtime) {
        _cleanup_free_ const char **keep = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        size_t n_keep = 0;
        int fd, removed = 0, first_error = 0;

        /* Sorted, for a lookup per file in a directory of thousands. */
        while (keep_names && keep_names[n_keep])
                n_keep++;
        keep = malloc(sizeof keep[0] * MAX(n_keep, (size_t) 1));
        if (!keep)
                return -ENOMEM;
        if (n_keep > 0)
                memcpy(keep, keep_names, sizeof keep[0] * n_keep);
        qsort(keep, n_keep, sizeof keep[0], cmp_names);

        fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d) {
                int r = -errno;
                safe_close(fd);
                return r;
        }
        for (;;) {
                _cleanup_free_ char *name = NULL;
                state_file_kind kind;
                struct dirent *de;
                struct stat st;
                uint64_t mtime, age, max_age;
                int r;

                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno != 0 && first_error == 0)
                                first_error = -errno;
                        break;
                }
                r = classify(de->d_name, &kind, &name);
                if (r < 0)
                        return r;
                if (kind == KIND_OTHER)
                        continue;
                if (kind != KIND_TEMP && bsearch(&name, keep, n_keep, sizeof keep[0], cmp_names))
                        continue;
                if (fstatat(dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT && first_error == 0)
                                first_error = -errno;
                        continue;
                }
                if (S_ISDIR(st.st_mode))
                        continue;       /* not ours to empty */
                mtime = (uint64_t) st.st_mtim.tv_sec * KS_USEC_PER_SEC + (uint64_t) st.st_mtim.tv_nsec / 1000u;
                age = now_realtime > mtime ? now_realtime - mtime : 0;
                max_age = kind == KIND_TEMP ? KS_STATE_TEMP_MAX_AGE_USEC : grace_usec;
                if (age <= max_age)
                        continue;
                if (unlinkat(dir_fd, de->d_name, 0) < 0) {
                        if (errno != ENOENT && first_error == 0)
                                first_error = -errno;
                        continue;
                }
                removed++;
        }
        return first_error < 0 ? first_error : removed;
}
