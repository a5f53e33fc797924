/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Environment variable names (see env-name.h). */
#include "env-name.h"

static bool env_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool env_name_is_valid(const char *name) {
        if (!name || !*name || (*name >= '0' && *name <= '9'))
                return false;
        for (const char *p = name; *p; p++)
                if (!env_char_ok(*p))
                        return false;
        return true;
}
