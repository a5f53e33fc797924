/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Flap detection by percent state change (semantics and defaults in flap.h). */
#include <errno.h>

#include "flap.h"

#define HISTORY_MASK ((UINT32_C(1) << KS_FLAP_HISTORY) - 1)
#define PACK_LAST_PASSED (UINT32_C(1) << KS_FLAP_HISTORY)
#define PACK_HAVE_LAST (UINT32_C(1) << (KS_FLAP_HISTORY + 1))

int ks_flap_thresholds_validate(double low, double high) {
        /* Written so that NaN fails every comparison. */
        if (!(low >= 0.0 && low < high && high <= 100.0))
                return -ERANGE;
        return 0;
}

int ks_flap_init(ks_flap *f, double low, double high) {
        if (ks_flap_thresholds_validate(low, high) < 0)
                return -ERANGE;
        *f = (ks_flap) { .low = low, .high = high };
        return 0;
}

int ks_flap_set_thresholds(ks_flap *f, double low, double high) {
        if (ks_flap_thresholds_validate(low, high) < 0)
                return -ERANGE;
        f->low = low;
        f->high = high;
        return 0;
}

/* S = sum of (76 + 2 i) over the changes, i = 19 - bit the position from the oldest; percent is
 * S / 19. Steady services have no change: the loop usually does not run. */
static unsigned weighted_changes(uint32_t changes) {
        unsigned s = 0;

        for (uint32_t x = changes; x; x &= x - 1)
                s += 114 - 2 * (unsigned) __builtin_ctz(x);
        return s;
}

double ks_flap_percent(const ks_flap *f) {
        return weighted_changes(f->changes) / 19.0;
}

static bool push(ks_flap *f, bool change) {
        bool was = f->flapping;
        double p;

        f->changes = ((f->changes << 1) | change) & HISTORY_MASK;
        if (f->n_changes < KS_FLAP_HISTORY)
                f->n_changes++;

        p = ks_flap_percent(f);
        if (!f->flapping && p >= f->high)
                f->flapping = true;
        else if (f->flapping && p <= f->low)
                f->flapping = false;
        return f->flapping != was;
}

bool ks_flap_record(ks_flap *f, bool passed) {
        bool had = f->have_last, change = had && passed != f->last_passed;

        f->have_last = true;
        f->last_passed = passed;
        if (!had)
                return false;   /* the first round: nothing to compare it with, no flag */
        return push(f, change);
}

bool ks_flap_record_restart(ks_flap *f) {
        return push(f, true);
}

void ks_flap_pack(const ks_flap *f, uint32_t *ret_bits, uint32_t *ret_count, uint32_t *ret_flapping) {
        *ret_bits = f->changes | (f->last_passed ? PACK_LAST_PASSED : 0) | (f->have_last ? PACK_HAVE_LAST : 0);
        *ret_count = f->n_changes;
        *ret_flapping = f->flapping;
}

int ks_flap_unpack(ks_flap *f, uint32_t bits, uint32_t count, uint32_t flapping) {
        uint32_t changes = bits & HISTORY_MASK;

        if (bits & ~(HISTORY_MASK | PACK_LAST_PASSED | PACK_HAVE_LAST))
                return -EINVAL;
        if ((bits & PACK_LAST_PASSED) && !(bits & PACK_HAVE_LAST))
                return -EINVAL;
        if (count > KS_FLAP_HISTORY || (changes >> count) != 0 || flapping > 1)
                return -EINVAL;

        f->changes = changes;
        f->n_changes = (uint8_t) count;
        f->have_last = bits & PACK_HAVE_LAST;
        f->last_passed = bits & PACK_LAST_PASSED;
        f->flapping = flapping;
        return 0;
}
