/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Escaping of control characters, so text from a definition stays one line in a log or a unit. */
#pragma once

typedef enum ks_escape_flags {
        /* "\n", "\t", "\r" for those three instead of "\x0a", "\x09", "\x0d". */
        KS_ESCAPE_SHORT = 1 << 0,
} ks_escape_flags;

/* A copy of s with each byte below 0x20 and 0x7f written as "\xNN" (see flags); other bytes,
 * backslashes included, as they are. NULL when out of memory. */
char *escape_controls(const char *s, ks_escape_flags flags);
