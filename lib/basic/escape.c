/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Escaping of control characters (see escape.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "macro.h"

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
                n += is_control((unsigned char) *p) ? 4 : *p == '\\' && (flags & KS_ESCAPE_BACKSLASH) ? 2 : 1;
        buf = malloc(n + 1);
        if (!buf)
                return NULL;
        q = buf;
        for (const char *p = s; *p; p++) {
                unsigned char c = (unsigned char) *p;
                const char *e = (flags & KS_ESCAPE_SHORT) ? short_escape(c) : NULL;

                if (c == '\\' && (flags & KS_ESCAPE_BACKSLASH))
                        q = stpcpy(q, "\\\\");
                else if (e)
                        q = stpcpy(q, e);
                else if (is_control(c))
                        q += sprintf(q, "\\x%02x", c);
                else
                        *q++ = (char) c;
        }
        *q = '\0';
        return buf;
}

int unescape_controls(const char *s, size_t n, char **ret) {
        _cleanup_free_ char *buf = malloc(n + 1);
        char *q = buf;

        if (!buf)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                int hi, lo;

                if (c == '\0' || is_control(c))
                        return -EINVAL;
                if (c != '\\') {
                        *q++ = (char) c;
                        continue;
                }
                if (++i >= n)
                        return -EINVAL;
                switch (s[i]) {
                case '\\':
                        *q++ = '\\';
                        break;
                case 'n':
                        *q++ = '\n';
                        break;
                case 't':
                        *q++ = '\t';
                        break;
                case 'r':
                        *q++ = '\r';
                        break;
                case 'x':
                        if (n - i < 3)
                                return -EINVAL;
                        hi = unhexchar(s[i + 1]);
                        lo = unhexchar(s[i + 2]);
                        if (hi < 0 || lo < 0 || (hi | lo) == 0)
                                return -EINVAL;
                        *q++ = (char) (hi << 4 | lo);
                        i += 2;
                        break;
                default:
                        return -EINVAL;
                }
        }
        *q = '\0';
        *ret = TAKE_PTR(buf);
        return 0;
}
