/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The heap of due-set.h. Each slot carries the time next to the entry, so sifting reads and
 * writes only the array: entries are not told their slot, whose update on every move was a
 * cache miss per heap level (the entries live in thousands of monitors). A round's entry is
 * taken off when it runs and put back when the round ends, both O(log n); only moving or
 * cancelling a scheduled entry (a changed definition, a stopped service) searches the array.
 */
#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <stdlib.h>

#include "due-set.h"

typedef struct slot {
        uint64_t usec;
        ks_due *due;
} slot;

struct ks_due_set {
        sd_event_source *timer;
        uint64_t timer_usec, timer_accuracy;    /* as armed; UINT64_MAX: off */
        slot *heap;
        unsigned n, size;
        unsigned gen;                           /* counts dispatches */
};

static void sift_up(ks_due_set *s, unsigned i) {
        slot v = s->heap[i];

        while (i > 0) {
                unsigned p = (i - 1) / 2;
                if (s->heap[p].usec <= v.usec)
                        break;
                s->heap[i] = s->heap[p];
                i = p;
        }
        s->heap[i] = v;
}

static void sift_down(ks_due_set *s, unsigned i) {
        slot v = s->heap[i];

        for (;;) {
                unsigned c = 2 * i + 1;
                if (c >= s->n)
                        break;
                if (c + 1 < s->n && s->heap[c + 1].usec < s->heap[c].usec)
                        c++;
                if (v.usec <= s->heap[c].usec)
                        break;
                s->heap[i] = s->heap[c];
                i = c;
        }
        s->heap[i] = v;
}

/* A scheduled entry's slot (UINT_MAX cannot happen: scheduled means in the heap). */
static unsigned find(const ks_due_set *s, const ks_due *d) {
        for (unsigned i = 0; i < s->n; i++)
                if (s->heap[i].due == d)
                        return i;
        return UINT_MAX;
}

static void remove_at(ks_due_set *s, unsigned i) {
        uint64_t old = s->heap[i].usec;

        s->heap[i].due->scheduled = false;
        if (--s->n == i)
                return;
        s->heap[i] = s->heap[s->n];
        if (s->heap[i].usec < old)
                sift_up(s, i);
        else
                sift_down(s, i);
}

/* The timer follows the earliest entry; it is left alone when that did not change. */
static int arm(ks_due_set *s) {
        int r;

        if (s->n == 0) {
                if (s->timer_usec == UINT64_MAX)
                        return 0;
                s->timer_usec = UINT64_MAX;
                return sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        }
        if (s->heap[0].usec == s->timer_usec && s->heap[0].due->accuracy == s->timer_accuracy)
                return 0;
        if (s->heap[0].due->accuracy != s->timer_accuracy) {
                r = sd_event_source_set_time_accuracy(s->timer, s->heap[0].due->accuracy);
                if (r < 0)
                        return r;
                s->timer_accuracy = s->heap[0].due->accuracy;
        }
        r = sd_event_source_set_time(s->timer, s->heap[0].usec);
        if (r >= 0 && s->timer_usec == UINT64_MAX)
                r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        s->timer_usec = s->heap[0].usec;
        return 0;
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        ks_due_set *s = userdata;
        uint64_t now;

        /* The one-shot timer is off now, whatever was armed. */
        s->timer_usec = UINT64_MAX;
        (void) sd_event_now(sd_event_source_get_event(source), CLOCK_MONOTONIC, &now);
        /* Entries scheduled by the callbacks of this dispatch wait for the next one: one that
         * reschedules itself for "now" must not run forever here. */
        s->gen++;
        while (s->n > 0 && s->heap[0].usec <= now && s->heap[0].due->gen != s->gen) {
                slot top = s->heap[0];
                remove_at(s, 0);
                top.due->fire(top.due, top.usec, top.due->userdata);
        }
        return arm(s);
}

int ks_due_set_new(sd_event *event, ks_due_set **ret) {
        _cleanup_(ks_due_set_freep) ks_due_set *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->timer_usec = UINT64_MAX;
        s->timer_accuracy = 1000;
        r = sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, s->timer_accuracy, on_timer, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->timer, "check-due");
        *ret = TAKE_PTR(s);
        return 0;
}

ks_due_set *ks_due_set_free(ks_due_set *s) {
        if (!s)
                return NULL;
        for (unsigned i = 0; i < s->n; i++)
                s->heap[i].due->scheduled = false;
        sd_event_source_disable_unref(s->timer);
        free(s->heap);
        return mfree(s);
}

int ks_due_set_schedule(ks_due_set *s, ks_due *d, uint64_t usec, uint64_t accuracy, ks_due_fire_t fire,
                        void *userdata) {
        unsigned i = d->scheduled ? find(s, d) : UINT_MAX;

        d->accuracy = accuracy;
        d->fire = fire;
        d->userdata = userdata;
        d->gen = s->gen;
        if (i != UINT_MAX) {
                uint64_t old = s->heap[i].usec;
                s->heap[i].usec = usec;
                if (usec < old)
                        sift_up(s, i);
                else
                        sift_down(s, i);
        } else {
                if (s->n == s->size) {
                        unsigned size = s->size ? s->size * 2 : 64;
                        slot *h = reallocarray(s->heap, size, sizeof *h);
                        if (!h)
                                return -ENOMEM;
                        s->heap = h;
                        s->size = size;
                }
                s->heap[s->n] = (slot) { .usec = usec, .due = d };
                d->scheduled = true;
                sift_up(s, s->n++);
        }
        return arm(s);
}

void ks_due_set_cancel(ks_due_set *s, ks_due *d) {
        unsigned i = d->scheduled ? find(s, d) : UINT_MAX;

        /* The timer stays: a wakeup that finds nothing due moves it to the next entry. */
        if (i != UINT_MAX)
                remove_at(s, i);
}

bool ks_due_scheduled(const ks_due *d) {
        return d->scheduled;
}
