/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When a service's next check runs. Checks run at a fixed rate (the interval) from a per-service
 * phase, each firing moved by a small random jitter that does not accumulate, so N services with
 * the same interval spread over it instead of firing in the same millisecond, and the long-run
 * rate is exactly one check per interval. A run that overruns skips the missed slots.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct ks_schedule {
        uint64_t interval_usec;
        uint64_t base_usec;     /* the un-jittered slot of the next run */
        uint64_t rng;           /* xorshift64 state, never 0 */
} ks_schedule;

/* How late the loop may fire a check's timer: 5% of the interval (as much as the jitter), between
 * 1 and 50 ms. sd-event wakes once for all timers whose windows overlap, so at 1000 checks/s
 * about fifty start per wakeup instead of one, which is most of what a sleeping loop pays per
 * check (bench-notifyd-probe --paced, 1000 services, reused connections: 30.7 us per check at
 * 10 ms, 22.6 at 50 ms). A health check 50 ms late does not matter; the rate stays exact. */
uint64_t ks_schedule_accuracy(uint64_t interval_usec);

/* Largest jitter either way: 5% of the interval, at most 250 ms. */
uint64_t ks_schedule_max_jitter(uint64_t interval_usec);

uint64_t ks_random_next(uint64_t *state);

/* First run at now + a random offset in [0, spread_usec) (spread 0: now). seed 0: from getrandom. */
void ks_schedule_init(ks_schedule *s, uint64_t interval_usec, uint64_t now_usec, uint64_t spread_usec,
                      uint64_t seed);

/* The absolute time of the run at the current slot (base + jitter, never before now). */
uint64_t ks_schedule_when(ks_schedule *s, uint64_t now_usec);

/* A run just started at now_usec: move the slot past it. */
void ks_schedule_advance(ks_schedule *s, uint64_t now_usec);

/* The interval changed: keep the phase, apply from the next slot. */
void ks_schedule_set_interval(ks_schedule *s, uint64_t interval_usec, uint64_t now_usec);
