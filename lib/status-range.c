/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Matching a status code against a check's accepted ranges, and the ranges in messages. */
#include <stdio.h>

#include "status-range.h"

bool ks_status_ranges_match(const ks_status_range *r, size_t n, long code) {
        if (n == 0)
                return code >= 200 && code <= 299;
        for (size_t i = 0; i < n; i++)
                if (code >= r[i].lo && code <= r[i].hi)
                        return true;
        return false;
}

void ks_status_ranges_format(const ks_status_range *r, size_t n, char *buf, size_t size) {
        size_t off = 0;

        if (size == 0)
                return;
        buf[0] = 0;
        if (n == 0) {
                snprintf(buf, size, "2xx");
                return;
        }
        for (size_t i = 0; i < n && off < size; i++) {
                int k;

                if (r[i].lo == r[i].hi)
                        k = snprintf(buf + off, size - off, "%s%u", i ? "," : "", r[i].lo);
                else if (r[i].lo % 100 == 0 && r[i].hi == r[i].lo + 99)
                        k = snprintf(buf + off, size - off, "%s%uxx", i ? "," : "", r[i].lo / 100);
                else
                        k = snprintf(buf + off, size - off, "%s%u-%u", i ? "," : "", r[i].lo, r[i].hi);
                if (k < 0)
                        return;
                off += (size_t) k;
        }
}
