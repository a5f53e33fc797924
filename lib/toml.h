/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A TOML 1.0 parser. A parsed document owns all of its memory in one arena and is freed with
 * one call; every value and every key carries the line and column where it starts (1-based,
 * columns count Unicode code points), so schema errors can point at "web.toml:12:9".
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

typedef enum ks_toml_type {
        KS_TOML_STRING,
        KS_TOML_INTEGER,
        KS_TOML_FLOAT,
        KS_TOML_BOOL,
        KS_TOML_DATETIME,       /* offset date-time */
        KS_TOML_DATETIME_LOCAL,
        KS_TOML_DATE_LOCAL,
        KS_TOML_TIME_LOCAL,
        KS_TOML_ARRAY,
        KS_TOML_TABLE,
        _KS_TOML_TYPE_MAX,
} ks_toml_type;

typedef struct ks_toml_datetime {
        int year, month, day;           /* unset (0) for local times */
        int hour, minute, second;       /* unset (0) for local dates */
        uint32_t nanosecond;
        int offset_minutes;             /* only for KS_TOML_DATETIME; Z is 0 */
} ks_toml_datetime;

typedef struct ks_toml_value ks_toml_value;

typedef struct ks_toml_keyval {
        const char *key;        /* NUL-terminated; key_len counts bytes, keys may contain NUL */
        size_t key_len;
        unsigned line, column;  /* of the key */
        ks_toml_value *value;
} ks_toml_keyval;

struct ks_toml_value {
        ks_toml_type type;
        unsigned line, column;  /* of the first character of the value (or of the [table] header) */
        union {
                struct {
                        const char *str;        /* NUL-terminated, valid UTF-8 */
                        size_t len;             /* bytes; may be < strlen() when it holds U+0000 */
                } string;
                int64_t integer;
                double fp;
                bool boolean;
                ks_toml_datetime datetime;
                struct {
                        ks_toml_value **items;
                        size_t n;
                } array;
                struct {
                        ks_toml_keyval *items;  /* in document order */
                        size_t n;
                } table;
        };
};

typedef struct ks_toml_document ks_toml_document;

typedef struct ks_toml_error {
        unsigned line, column;
        char message[256];
} ks_toml_error;

/* Nesting of arrays and inline tables beyond this is rejected, so no input can exhaust the stack. */
#define KS_TOML_MAX_DEPTH 256

/* Parses len bytes (need not be NUL-terminated). On failure returns a negative errno (-EINVAL for
 * malformed TOML, -ENOMEM, ...) and, if reterr is non-NULL, fills it with position and message. */
int ks_toml_parse(const char *buf, size_t len, ks_toml_document **ret, ks_toml_error *reterr);
int ks_toml_parse_file(const char *path, ks_toml_document **ret, ks_toml_error *reterr);

ks_toml_document *ks_toml_free(ks_toml_document *doc);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_toml_document *, ks_toml_free);

/* The root table. Never NULL for a parsed document. */
const ks_toml_value *ks_toml_root(const ks_toml_document *doc);

const char *ks_toml_type_to_string(ks_toml_type t);

/* Lookups in a table by key. Return NULL/-ENOENT when absent, -EMEDIUMTYPE on a type mismatch
 * (integers are not silently turned into floats or strings). ret_* untouched on failure. */
const ks_toml_value *ks_toml_table_get(const ks_toml_value *table, const char *key);
/* Same for a key of len bytes (keys may contain NUL). Tables must come from a parsed document. */
const ks_toml_value *ks_toml_table_getn(const ks_toml_value *table, const char *key, size_t len);
int ks_toml_get_string(const ks_toml_value *table, const char *key, const char **ret);
int ks_toml_get_integer(const ks_toml_value *table, const char *key, int64_t *ret);
int ks_toml_get_float(const ks_toml_value *table, const char *key, double *ret);
int ks_toml_get_bool(const ks_toml_value *table, const char *key, bool *ret);
int ks_toml_get_array(const ks_toml_value *table, const char *key, const ks_toml_value **ret);
int ks_toml_get_table(const ks_toml_value *table, const char *key, const ks_toml_value **ret);
/* A duration: a string in systemd's time span syntax ("30s", "1min 30s", "500ms", "infinity")
 * or a bare integer meaning seconds. Result in microseconds; "infinity" is UINT64_MAX. */
int ks_toml_get_duration(const ks_toml_value *table, const char *key, uint64_t *ret_usec);
/* The same conversion for a value at hand (e.g. an array element): -EMEDIUMTYPE unless a string or
 * an integer, -EINVAL/-ERANGE for a malformed or negative/overflowing span. */
int ks_toml_value_to_duration(const ks_toml_value *v, uint64_t *ret_usec);
