/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fixed-rate check scheduling with non-accumulating jitter (see schedule.h). */
#include <sys/random.h>

#include "schedule.h"

uint64_t ks_random_next(uint64_t *state) {
        uint64_t x = *state;

        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return *state = x;
}

uint64_t ks_schedule_accuracy(uint64_t interval_usec) {
        uint64_t a = interval_usec / 20;

        return a < 1000 ? 1000 : a > 50000 ? 50000 : a;
}

uint64_t ks_schedule_max_jitter(uint64_t interval_usec) {
        uint64_t j = interval_usec / 20;

        return j < 250000 ? j : 250000;
}

void ks_schedule_init(ks_schedule *s, uint64_t interval_usec, uint64_t now_usec, uint64_t spread_usec,
                      uint64_t seed) {
        if (seed == 0 && getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed)
                seed = now_usec ^ (uint64_t) (uintptr_t) s;
        /* splitmix64 of the seed, so that close seeds give unrelated sequences. */
        seed += 0x9e3779b97f4a7c15ull;
        seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ull;
        seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebull;
        seed ^= seed >> 31;
        *s = (ks_schedule) {
                .interval_usec = interval_usec ?: 1,
                .rng = seed ?: 0x9e3779b97f4a7c15ull,
        };
        /* Spread first runs start one jitter late, so that jitter never pulls them before now
         * (where they would all pile up on "now"). */
        s->base_usec = now_usec;
        if (spread_usec)
                s->base_usec += ks_schedule_max_jitter(s->interval_usec) + ks_random_next(&s->rng) % spread_usec;
}

uint64_t ks_schedule_when(ks_schedule *s, uint64_t now_usec) {
        uint64_t j = ks_schedule_max_jitter(s->interval_usec), t = s->base_usec;

        if (j > 0) {
                uint64_t r = ks_random_next(&s->rng) % (2 * j + 1);
                t = t + r >= j ? t + r - j : 0;
        }
        return t > now_usec ? t : now_usec;
}

void ks_schedule_advance(ks_schedule *s, uint64_t now_usec) {
        s->base_usec += s->interval_usec;
        if (s->base_usec <= now_usec) {
                /* Overran: skip the missed slots instead of firing a burst to catch up. */
                uint64_t missed = (now_usec - s->base_usec) / s->interval_usec + 1;
                s->base_usec += missed * s->interval_usec;
        }
}

void ks_schedule_set_interval(ks_schedule *s, uint64_t interval_usec, uint64_t now_usec) {
        interval_usec = interval_usec ?: 1;
        if (interval_usec == s->interval_usec)
                return;
        /* The pending slot was computed with the old interval; re-place it one new interval
         * after the previous slot, but never later than one new interval from now. */
        if (s->base_usec >= s->interval_usec)
                s->base_usec -= s->interval_usec;
        s->base_usec += interval_usec;
        if (s->base_usec > now_usec + interval_usec)
                s->base_usec = now_usec + interval_usec;
        s->interval_usec = interval_usec;
}
