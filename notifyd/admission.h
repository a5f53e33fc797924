/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Round admission: at most max rounds of health checks in flight across all services; a round
 * that comes due beyond that waits in a FIFO, oldest first, and starts when a slot is free. A
 * freed slot is handed on from a defer source of the event loop, never from inside the code that
 * freed it, so no round starts (or ends) from within the end of another.
 *
 * max: far above what a loop that keeps up has in flight (at 5000 checks/s of a few ms each, a
 * few dozen), low enough that an overloaded one does not start thousands of checks whose
 * timeouts then run out while they wait for the CPU.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-event.h>

#include "macro.h"

#define KS_ADMISSION_MAX_DEFAULT 256

typedef struct ks_admission ks_admission;
typedef struct ks_admission_ticket ks_admission_ticket;

/* Called from the loop when a waiting ticket got its slot. */
typedef void (*ks_admitted_t)(ks_admission_ticket *t, void *userdata);

/* Embedded in its holder (a monitor); all zero is a ticket neither waiting nor holding a slot. */
struct ks_admission_ticket {
        ks_admission_ticket *prev, *next;
        ks_admitted_t admitted;
        void *userdata;
        bool waiting;
        bool holding;
};

/* max 0: no limit. */
int ks_admission_new(sd_event *event, unsigned max, ks_admission **ret);
ks_admission *ks_admission_free(ks_admission *a);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_admission *, ks_admission_free);

void ks_admission_set_max(ks_admission *a, unsigned max);

/* true: t holds a slot now, its holder starts at once. false: t waits (or already waited), and
 * admitted(t) runs from the loop once it holds one. */
bool ks_admission_enter(ks_admission *a, ks_admission_ticket *t, ks_admitted_t admitted, void *userdata);

/* t gives up its slot, or its place in the queue; nothing happens for a ticket that has neither.
 * A freed slot goes to the oldest waiting ticket, from the loop. */
void ks_admission_leave(ks_admission *a, ks_admission_ticket *t);

unsigned ks_admission_in_flight(const ks_admission *a);
unsigned ks_admission_waiting(const ks_admission *a);
