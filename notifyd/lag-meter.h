/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How late notifyd's loop runs: the largest lateness of a check timer in the current and the
 * previous second. A check that timed out while the loop ran late says nothing about the service
 * (its answer may have been waiting unread), so the monitor does not count it.
 */
#pragma once

#include <stdint.h>

typedef struct ks_lag_meter {
        uint64_t lag_usec, prev_usec;   /* the largest in the current second, in the previous one */
        uint64_t since;                 /* when the current second began */
} ks_lag_meter;

/* A timer fired lateness_usec after its time, at now. */
void ks_lag_meter_note(ks_lag_meter *l, uint64_t lateness_usec, uint64_t now);

/* The lag that counts at now: only one seen in the last two seconds. */
uint64_t ks_lag_meter_get(const ks_lag_meter *l, uint64_t now);
