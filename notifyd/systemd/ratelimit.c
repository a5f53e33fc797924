/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Per-service log rate limiting (see ratelimit.h). */
#include "ratelimit.h"

static uint64_t hash_string(const char *s) {
        uint64_t h = 1469598103934665603ull;    /* FNV-1a */

        for (; *s; s++) {
                h ^= (unsigned char) *s;
                h *= 1099511628211ull;
        }
        return h;
}

void ks_ratelimit_init(ks_ratelimit *rl, uint64_t window_usec, unsigned burst) {
        *rl = (ks_ratelimit) { .window_usec = window_usec, .burst = burst ?: 1 };
}

bool ks_ratelimit_check(ks_ratelimit *rl, const char *message, uint64_t now_usec, unsigned *ret_suppressed) {
        uint64_t h = hash_string(message);

        if (rl->in_window > 0 && h == rl->last_hash && now_usec < rl->last_time + rl->window_usec) {
                rl->suppressed++;
                return false;
        }
        if (rl->in_window == 0 || now_usec >= rl->window_start + rl->window_usec) {
                rl->window_start = now_usec;
                rl->in_window = 0;
        }
        if (rl->in_window >= rl->burst) {
                rl->suppressed++;
                return false;
        }
        rl->in_window++;
        rl->last_hash = h;
        rl->last_time = now_usec;
        if (ret_suppressed)
                *ret_suppressed = rl->suppressed;
        rl->suppressed = 0;
        return true;
}
