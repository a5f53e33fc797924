/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small string predicates the basic helpers and the library share. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool endswith(const char *s, const char *suffix);
/* streq() that takes NULL: equal when both are NULL. */
bool streq_ptr(const char *a, const char *b);
/* A decimal number of 1 to 20 digits and nothing else (no sign, space or leading "+"): -EINVAL,
 * -ERANGE above UINT64_MAX, or 0 with *ret set. */
int safe_atou64(const char *s, uint64_t *ret);
/* Copies src into dst of size bytes (> 0), cut to fit and always NUL-terminated; returns dst. */
char *strscpy(char *dst, size_t size, const char *src);
