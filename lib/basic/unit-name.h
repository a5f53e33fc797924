/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd unit names: "prefix[@instance].type", validated with the kinds a caller accepts. */
#pragma once

#include <stdbool.h>

#define UNIT_NAME_MAX 255

typedef enum ks_unit_name_flags {
        KS_UNIT_NAME_PLAIN = 1 << 0,    /* "foo.service" */
        KS_UNIT_NAME_INSTANCE = 1 << 1, /* "foo@bar.service" */
        KS_UNIT_NAME_TEMPLATE = 1 << 2, /* "foo@.service" */
        KS_UNIT_NAME_ANY = KS_UNIT_NAME_PLAIN | KS_UNIT_NAME_INSTANCE | KS_UNIT_NAME_TEMPLATE,
        /* Also refuse an instance that ends in "@" ("foo@a@.service"), which systemd takes: the
         * service model's rule for names it may start, stricter than systemd's. */
        KS_UNIT_NAME_NO_TRAILING_AT = 1 << 3,
} ks_unit_name_flags;

/* The ".type" suffix name ends in (".service", ".target", ...), or NULL for none known. */
const char *unit_type_suffix(const char *name);

/* At most UNIT_NAME_MAX bytes, a known type after the last ".", a non-empty prefix of
 * [A-Za-z0-9:_.\-], and after the first "@" (never the first byte) an instance of the same
 * characters and "@"; then it must be of a kind flags accepts. */
bool unit_name_is_valid(const char *name, ks_unit_name_flags flags);
