/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Escaping of control characters (see escape.h). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

/* The short form of c, or NULL. */
static const char *short_escape(unsigned char c) {
        switch (c) {
        case '\n':
                return "\\n";
        case '\t':
                return "\\t";
        case '\r':
                return "\\r";
        default:
                return NULL;
        }
}

char *escape_controls(const char *s, ks_escape_flags flags) {
        size_t n = 0;
        char *buf, *q;

        for (const char *p = s; *p; p++)
                n += is_control((unsigned char) *p) ? 4 : 1;
        buf = malloc(n + 1);
        if (!buf)
                return NULL;
        q = buf;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;
                const char *e = (flags & KS_ESCAPE_SHORT) ? short_escape(c) : NULL;

                if (e)
                        q = stpcpy(q, e);
                else if (is_control(c))
                        q += sprintf(q, "\\x%02x", c);
                else
                        *q++ = (char) c;
        }
        *q = '\0';
        return buf;
}
