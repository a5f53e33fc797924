/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd unit names (see unit-name.h). */
#include <string.h>

#include "macro.h"
#include "string-util.h"
#include "unit-name.h"

static const char *const unit_types[] = {
        ".service", ".socket", ".device", ".mount", ".automount", ".swap",
        ".target",  ".path",   ".timer",  ".slice", ".scope",
};

const char *unit_type_suffix(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(unit_types); i++)
                if (endswith(name, unit_types[i]))
                        return unit_types[i];
        return NULL;
}

static bool unit_char_ok(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               (c && strchr(":-_.\\@", c));
}

bool unit_name_is_valid(const char *name, ks_unit_name_flags flags) {
        const char *suffix, *dot, *at;
        size_t len;

        if (!name)
                return false;
        len = strlen(name);
        suffix = unit_type_suffix(name);
        if (!suffix || len > UNIT_NAME_MAX)
                return false;
        /* Type names hold no ".", so the suffix starts at the last one. */
        dot = name + len - strlen(suffix);
        if (dot == name)
                return false;
        for (const char *p = name; p < dot; p++)
                if (!unit_char_ok(*p))
                        return false;

        at = memchr(name, '@', dot - name);
        if (!at)
                return flags & KS_UNIT_NAME_PLAIN;
        if (at == name)
                return false;
        if (at + 1 == dot)
                return flags & KS_UNIT_NAME_TEMPLATE;
        if ((flags & KS_UNIT_NAME_NO_TRAILING_AT) && dot[-1] == '@')
                return false;
        return flags & KS_UNIT_NAME_INSTANCE;
}
