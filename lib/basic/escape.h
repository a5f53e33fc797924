/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Escaping of control characters, so text from a definition stays one line in a log, a unit or a
 * state file; and the way back for text escaped with KS_ESCAPE_BACKSLASH. */
#pragma once

#include <stddef.h>

typedef enum ks_escape_flags {
        /* "\n", "\t", "\r" for those three instead of "\x0a", "\x09", "\x0d". */
        KS_ESCAPE_SHORT = 1 << 0,
        /* "\\" for a backslash, so that unescape_controls() gives back the original text. */
        KS_ESCAPE_BACKSLASH = 1 << 1,
} ks_escape_flags;

/* A copy of s with each byte below 0x20 and 0x7f written as "\xNN" (see flags); other bytes,
 * backslashes included unless KS_ESCAPE_BACKSLASH, as they are. NULL when out of memory. */
char *escape_controls(const char *s, ks_escape_flags flags);

/* The inverse of escape_controls(..., KS_ESCAPE_SHORT|KS_ESCAPE_BACKSLASH) for the n bytes at s:
 * "\\", "\n", "\t", "\r" and "\xNN" (NN two hex digits, not 00) are decoded, every other byte
 * is taken as it is. Returns -EINVAL for another backslash sequence, a trailing backslash, or a
 * raw control character or NUL (which escaping never leaves), -ENOMEM, or 0 with *ret a new
 * NUL-terminated string. */
int unescape_controls(const char *s, size_t n, char **ret);
