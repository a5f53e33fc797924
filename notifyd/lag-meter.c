/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The loop-lag meter (see lag-meter.h). */
#include "lag-meter.h"
#include "macro.h"

void ks_lag_meter_note(ks_lag_meter *l, uint64_t lateness_usec, uint64_t now) {
        if (now >= l->since + 1000000ull) {
                l->prev_usec = now >= l->since + 2 * 1000000ull ? 0 : l->lag_usec;
                l->lag_usec = 0;
                l->since = now;
        }
        l->lag_usec = MAX(l->lag_usec, lateness_usec);
}

uint64_t ks_lag_meter_get(const ks_lag_meter *l, uint64_t now) {
        if (now >= l->since + 2 * 1000000ull)
                return 0;
        return MAX(l->lag_usec, l->prev_usec);
}
