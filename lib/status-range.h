/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP status codes a check accepts: inclusive ranges, as kservice.toml's expect_status
 * gives them (200 is {200,200}, "2xx" is {200,299}). Parsed once, by lib/service.c; matched and
 * written back here. No ranges at all means the default, 2xx.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ks_status_range {
        uint16_t lo, hi;
} ks_status_range;

bool ks_status_ranges_match(const ks_status_range *r, size_t n, long code);

/* "2xx", "200,204", "200-299,404": for messages. Writes at most size bytes, always terminated. */
void ks_status_ranges_format(const ks_status_range *r, size_t n, char *buf, size_t size);
