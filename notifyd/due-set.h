/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * When each service's next check is due, behind one sd-event timer. With a timer source per
 * service, sd-event dispatches one source per loop iteration (an epoll_wait and its bookkeeping
 * each) and keeps thousands of sources in its time queues, whose every update compares fields
 * of sources spread over the heap; profiled at 1000 checks/s those queues alone were 7% of
 * notifyd's CPU. Here a wakeup starts every check that is due, and the queue is a binary heap of
 * (time, entry) pairs in one array.
 *
 * An entry may run up to its accuracy late, so that checks due close together share a wakeup:
 * the timer is set for the earliest entry with that entry's accuracy, and a wakeup runs every
 * entry due by then.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct ks_due_set ks_due_set;
typedef struct ks_due ks_due;

/* due_usec: when it was due (it runs at or after that). */
typedef void (*ks_due_fire_t)(ks_due *d, uint64_t due_usec, void *userdata);

struct ks_due {
        bool scheduled;
        unsigned gen;                   /* the dispatch it was scheduled in */
        uint64_t accuracy;
        ks_due_fire_t fire;
        void *userdata;
};

#define KS_DUE_INIT { .scheduled = false }

int ks_due_set_new(sd_event *event, ks_due_set **ret);
ks_due_set *ks_due_set_free(ks_due_set *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_due_set *, ks_due_set_free);

/* (Re)schedules d at usec (CLOCK_MONOTONIC); it runs once. Scheduling an entry that is not
 * scheduled is O(log n); rescheduling and cancelling one that is are O(n) (see due-set.c). */
int ks_due_set_schedule(ks_due_set *s, ks_due *d, uint64_t usec, uint64_t accuracy, ks_due_fire_t fire,
                        void *userdata);
/* Unschedules d; nothing when it is not scheduled. */
void ks_due_set_cancel(ks_due_set *s, ks_due *d);
bool ks_due_scheduled(const ks_due *d);
