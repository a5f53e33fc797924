/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The set of HTTP status codes a check accepts, parsed from the forms kservice.toml allows:
 * "200", "2xx", "200-299" (and integers). An empty set means the default, 2xx.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KS_STATUS_SET_MAX 16

typedef struct ks_status_set {
        struct {
                uint16_t lo, hi;        /* inclusive */
        } ranges[KS_STATUS_SET_MAX];
        size_t n;
} ks_status_set;

/* Adds one item ("204", "2xx", "200-299"). -EINVAL on malformed input or codes outside 100..599,
 * -E2BIG when the set is full. */
int ks_status_set_add_string(ks_status_set *s, const char *item);
int ks_status_set_add_code(ks_status_set *s, long code);
int ks_status_set_add_range(ks_status_set *s, unsigned lo, unsigned hi);

bool ks_status_set_match(const ks_status_set *s, long code);

/* "2xx", "200,204", "200-299,404": for messages. Writes at most size bytes, always terminated. */
void ks_status_set_format(const ks_status_set *s, char *buf, size_t size);

bool ks_status_set_equal(const ks_status_set *a, const ks_status_set *b);
