/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Expected-status sets for HTTP checks (see status-set.h). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "status-set.h"

static int add_range(ks_status_set *s, unsigned lo, unsigned hi) {
        if (lo < 100 || hi > 599 || lo > hi)
                return -EINVAL;
        if (s->n >= KS_STATUS_SET_MAX)
                return -E2BIG;
        s->ranges[s->n].lo = (uint16_t) lo;
        s->ranges[s->n].hi = (uint16_t) hi;
        s->n++;
        return 0;
}

static int parse_code(const char *p, size_t len, unsigned *ret) {
        unsigned v = 0;

        if (len != 3)
                return -EINVAL;
        for (size_t i = 0; i < 3; i++) {
                if (!isdigit((unsigned char) p[i]))
                        return -EINVAL;
                v = v * 10 + (unsigned) (p[i] - '0');
        }
        *ret = v;
        return 0;
}

int ks_status_set_add_range(ks_status_set *s, unsigned lo, unsigned hi) {
        return add_range(s, lo, hi);
}

int ks_status_set_add_code(ks_status_set *s, long code) {
        if (code < 100 || code > 599)
                return -EINVAL;
        return add_range(s, (unsigned) code, (unsigned) code);
}

int ks_status_set_add_string(ks_status_set *s, const char *item) {
        size_t len = strlen(item);
        const char *dash;
        unsigned lo, hi;
        int r;

        if (len == 3 && isdigit((unsigned char) item[0]) && (item[1] == 'x' || item[1] == 'X') &&
            (item[2] == 'x' || item[2] == 'X')) {
                lo = (unsigned) (item[0] - '0') * 100;
                return add_range(s, lo, lo + 99);
        }

        dash = strchr(item, '-');
        if (dash) {
                r = parse_code(item, (size_t) (dash - item), &lo);
                if (r < 0)
                        return r;
                r = parse_code(dash + 1, strlen(dash + 1), &hi);
                if (r < 0)
                        return r;
                return add_range(s, lo, hi);
        }

        r = parse_code(item, len, &lo);
        if (r < 0)
                return r;
        return add_range(s, lo, lo);
}

bool ks_status_set_match(const ks_status_set *s, long code) {
        if (s->n == 0)
                return code >= 200 && code <= 299;
        for (size_t i = 0; i < s->n; i++)
                if (code >= s->ranges[i].lo && code <= s->ranges[i].hi)
                        return true;
        return false;
}

void ks_status_set_format(const ks_status_set *s, char *buf, size_t size) {
        size_t off = 0;

        if (size == 0)
                return;
        buf[0] = 0;
        if (s->n == 0) {
                snprintf(buf, size, "2xx");
                return;
        }
        for (size_t i = 0; i < s->n && off < size; i++) {
                const __typeof__(s->ranges[0]) *r = &s->ranges[i];
                int k;

                if (r->lo == r->hi)
                        k = snprintf(buf + off, size - off, "%s%u", i ? "," : "", r->lo);
                else if (r->lo % 100 == 0 && r->hi == r->lo + 99)
                        k = snprintf(buf + off, size - off, "%s%uxx", i ? "," : "", r->lo / 100);
                else
                        k = snprintf(buf + off, size - off, "%s%u-%u", i ? "," : "", r->lo, r->hi);
                if (k < 0)
                        return;
                off += (size_t) k;
        }
}

bool ks_status_set_equal(const ks_status_set *a, const ks_status_set *b) {
        if (a->n != b->n)
                return false;
        for (size_t i = 0; i < a->n; i++)
                if (a->ranges[i].lo != b->ranges[i].lo || a->ranges[i].hi != b->ranges[i].hi)
                        return false;
        return true;
}
