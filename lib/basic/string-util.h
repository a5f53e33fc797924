/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small string predicates the basic helpers and the library share. */
#pragma once

#include <stdbool.h>

bool endswith(const char *s, const char *suffix);
/* streq() that takes NULL: equal when both are NULL. */
bool streq_ptr(const char *a, const char *b);
