/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Rate limiting of one service's log messages: an identical repeat within the window is
 * suppressed (and counted, so the next message can say how many), and at most `burst` distinct
 * messages pass per window. Pure logic; time is passed in.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct ks_ratelimit {
        uint64_t window_usec;
        unsigned burst;
        uint64_t window_start;
        unsigned in_window;
        uint64_t last_hash;
        uint64_t last_time;
        unsigned suppressed;    /* since the last message that passed */
} ks_ratelimit;

void ks_ratelimit_init(ks_ratelimit *rl, uint64_t window_usec, unsigned burst);

/* true: log it, and *ret_suppressed says how many were dropped before it. */
bool ks_ratelimit_check(ks_ratelimit *rl, const char *message, uint64_t now_usec, unsigned *ret_suppressed);
