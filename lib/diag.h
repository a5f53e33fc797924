/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Diagnostics: the messages library code hands back instead of printing. Each one is formatted
 * "FILE:LINE:COL: message" (or "FILE: message" when there is no position, e.g. an unreadable
 * file), ready for the caller to log once. Also the "did you mean" helper for misspelled keys.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

typedef struct ks_diag {
        char *file;             /* may be NULL */
        unsigned line, column;  /* 1-based; 0 when the message has no position */
        char *message;          /* without the position prefix; control characters escaped
                                 * (\n, \t, \r, \xNN), so it is always one line */
        char *text;             /* "FILE:LINE:COL: message", what gets logged */
} ks_diag;

typedef struct ks_diag_list {
        ks_diag *items;
        size_t n;
        size_t allocated;
} ks_diag_list;

/* Appends one diagnostic. Returns 0 or -ENOMEM. */
int ks_diag_add(ks_diag_list *l, const char *file, unsigned line, unsigned column, const char *fmt, ...)
        _printf_(5, 6);
int ks_diag_addv(ks_diag_list *l, const char *file, unsigned line, unsigned column, const char *fmt,
                 va_list ap) _printf_(5, 0);

/* Frees every diagnostic and leaves an empty list behind (the list itself is caller storage). */
void ks_diag_list_clear(ks_diag_list *l);
#define _cleanup_diag_list_ _cleanup_(ks_diag_list_clear)

/* Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), in bytes. */
size_t ks_edit_distance(const char *a, const char *b);

/* The candidate closest to word, or NULL when none is close enough to be a plausible typo
 * (distance at most 1 for short words, at most a third of the word's length otherwise). */
const char *ks_closest_word(const char *word, const char *const *candidates, size_t n);
