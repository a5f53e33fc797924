/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Writes systemd unit file text, escaping every value so that what systemd parses back is exactly
 * the value we were given, or refusing the value with a reason where a unit file cannot carry it.
 *
 * The rules (systemd.syntax(7) "Quoting", systemd.service(5) "Command lines", systemd.unit(5)
 * "Specifiers"), applied here and checked by tests/unit/test-unit-writer.c and by the
 * real-systemd round trip in tests/integration:
 *
 *  - A unit file is line based: no value may contain a newline or CR raw; leading and trailing
 *    whitespace of a value is stripped by systemd; a line ending in a backslash continues on the
 *    next line. Lines are limited to 1 MiB.
 *  - Every setting we emit expands specifiers, so '%' is always written as "%%".
 *  - ExecStart=: each argument is written bare when it only holds [A-Za-z0-9/_.,:=+@-%$], else in
 *    double quotes with C escapes (\\ \" \n \t \r, \xNN for other control characters); '$' is
 *    written "$$" because systemd expands $VAR in arguments when the command runs. The first
 *    word is the executable: systemd strips the prefixes - @ : + ! from it after unquoting, so an
 *    executable starting with one of those (or with |) is refused, and systemd refuses quotes,
 *    backslashes and control characters in it. The executable is not variable-expanded but
 *    argv[0] (a copy of it) is, so an executable holding '$' is written in the "@PATH ARGV0"
 *    form, which keeps both exact.
 *  - Environment=: always "NAME=VALUE" in double quotes with C escapes and "%%"; no "$$" (systemd
 *    does not expand variables there). NAME must match [A-Za-z_][A-Za-z0-9_]*.
 *  - Plain values (Description=, User=, ...): written raw, "%%" for '%'; control characters,
 *    leading/trailing whitespace and a trailing backslash are refused (they cannot be escaped).
 *  - Unicode noncharacters (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF) are valid in TOML but systemd
 *    drops any assignment holding one ("not UTF-8 clean"), escaped or not (its D-Bus strings
 *    could not carry them either): refused everywhere.
 *  - Paths: absolute and normalized (no "//", ".", "..", no trailing slash), else refused, so
 *    systemd's own path simplification cannot change them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* systemd reads unit files with lines of at most this length. */
#define KS_UNIT_LINE_MAX (1024U * 1024U)

/* A unit file being built in memory. Zero-initialise it (KS_UNIT_TEXT_INIT). */
typedef struct ks_unit_text {
        char *data;             /* NUL-terminated while len > 0 */
        size_t len;
        size_t allocated;
        bool in_section;        /* a section was started: the next one gets a blank line first */
} ks_unit_text;

#define KS_UNIT_TEXT_INIT ((ks_unit_text) {})

void ks_unit_text_done(ks_unit_text *t);
/* Hands the text out (NUL-terminated, "" when empty) and resets t. NULL on OOM. */
char *ks_unit_text_steal(ks_unit_text *t, size_t *ret_len);

/* Validation failures return -EINVAL and, when reterr is non-NULL, set *reterr to a static
 * English phrase saying what is wrong with the value ("contains a newline, ..."), to be put after
 * the value's name and position by the caller. -ENOMEM on allocation failure. */

int ks_unit_text_section(ks_unit_text *t, const char *name);
/* "# TEXT" lines; text must not contain control characters other than newlines, which start a
 * new comment line. */
int ks_unit_text_comment(ks_unit_text *t, const char *text, const char **reterr);
/* A line the generator composed itself from trusted parts (numbers, fixed keywords): written as
 * it is. Still refuses newlines, so a programming error cannot inject a line. */
int ks_unit_text_add_raw(ks_unit_text *t, const char *key, const char *value);
int ks_unit_text_add_rawf(ks_unit_text *t, const char *key, const char *fmt, ...) _printf_(3, 4);
/* KEY=VALUE with VALUE escaped as a plain value. */
int ks_unit_text_add_value(ks_unit_text *t, const char *key, const char *value, const char **reterr);
/* KEY=PATH with PATH checked by ks_unit_path_check(); prefix ("-", "" or NULL) goes before it. */
int ks_unit_text_add_path(ks_unit_text *t, const char *key, const char *prefix, const char *path,
                          const char **reterr);
/* KEY=ARGV... as described above. n >= 1. On failure *reterr_index (if non-NULL) says which
 * argument was refused. */
int ks_unit_text_add_exec(ks_unit_text *t, const char *key, const char *const *argv, size_t n,
                          size_t *reterr_index, const char **reterr);
/* Environment="NAME=VALUE". */
int ks_unit_text_add_env(ks_unit_text *t, const char *name, const char *value, const char **reterr);
/* KEY=PATH1 PATH2 ... for path list settings (ReadWritePaths=, ...): each checked by
 * ks_unit_path_check(), quoted when needed with only \\ and \" escapes (which systemd reads the
 * same with and without C unescaping). Nothing is written for n == 0. */
int ks_unit_text_add_path_list(ks_unit_text *t, const char *key, const char *const *paths, size_t n,
                               const char **reterr);
/* KEY=UNIT1 UNIT2 ... (each checked against systemd's unit name rules, templates refused).
 * Nothing is written for n == 0. */
int ks_unit_text_add_unit_list(ks_unit_text *t, const char *key, const char *const *units, size_t n,
                               const char **reterr);

/* The escapers on their own, each returning a new string. */
int ks_unit_escape_value(const char *value, char **ret, const char **reterr);
int ks_unit_escape_exec(const char *const *argv, size_t n, char **ret, size_t *reterr_index,
                        const char **reterr);
int ks_unit_escape_env(const char *name, const char *value, char **ret, const char **reterr);

/* Checks a path for use in a unit: absolute, normalized, representable as a plain value. */
int ks_unit_path_check(const char *path, const char **reterr);

/* Valid UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF). */
bool ks_utf8_is_valid(const char *s, size_t len);

