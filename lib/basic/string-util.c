/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small string predicates (see string-util.h). */
#include <string.h>

#include "macro.h"
#include "string-util.h"

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);

        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}
