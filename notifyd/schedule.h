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

/* Whether a healthy service's WATCHDOG=1 is due now, or can wait for the next check. A ping every
 * check is what systemd would need for a watchdog of about one interval; for the usual one
 * (failure_threshold x interval + timeout + 30 s) it is mostly traffic to PID 1. A ping is
 * skipped only while half the watchdog would still be left after the latest moment the next
 * check can finish (next_within_usec from now): due when last + watchdog/2 <= now + next_within.
 * last_usec 0: never pinged (due). watchdog_usec 0 or UINT64_MAX: unknown, always due. */
bool ks_watchdog_ping_due(uint64_t last_usec, uint64_t now_usec, uint64_t watchdog_usec, uint64_t next_within_usec);
