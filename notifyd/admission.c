/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The slots for rounds in flight and the FIFO of due rounds (see admission.h). */
#include <errno.h>
#include <stdlib.h>

#include "admission.h"
#include "list.h"

struct ks_admission {
        sd_event_source *handover;      /* defer: hands free slots to waiting tickets */
        unsigned in_flight, max, n_waiting;
        ks_admission_ticket *head, *tail;
};

static bool slot_free(const ks_admission *a) {
        return a->max == 0 || a->in_flight < a->max;
}

static void dequeue(ks_admission *a, ks_admission_ticket *t) {
        LIST_REMOVE_TAIL(a->head, a->tail, t);
        t->waiting = false;
        a->n_waiting--;
}

static void schedule_handover(ks_admission *a) {
        if (a->head && slot_free(a))
                (void) sd_event_source_set_enabled(a->handover, SD_EVENT_ONESHOT);
}

static int on_handover(sd_event_source *s, void *userdata) {
        ks_admission *a = userdata;

        /* A ticket admitted here may give its slot back at once (a round that cannot start):
         * the loop goes on with the next one; nothing is started from within its end. */
        while (a->head && slot_free(a)) {
                ks_admission_ticket *t = a->head;

                dequeue(a, t);
                t->holding = true;
                a->in_flight++;
                t->admitted(t, t->userdata);
        }
        return 0;
}

int ks_admission_new(sd_event *event, unsigned max, ks_admission **ret) {
        _cleanup_(ks_admission_freep) ks_admission *a = NULL;
        int r;

        a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->max = max;
        r = sd_event_add_defer(event, &a->handover, on_handover, a);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(a->handover, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(a->handover, "round-admission");
        *ret = TAKE_PTR(a);
        return 0;
}

ks_admission *ks_admission_free(ks_admission *a) {
        if (!a)
                return NULL;
        while (a->head)
                dequeue(a, a->head);
        sd_event_source_disable_unref(a->handover);
        return mfree(a);
}

void ks_admission_set_max(ks_admission *a, unsigned max) {
        a->max = max;
        schedule_handover(a);
}

bool ks_admission_enter(ks_admission *a, ks_admission_ticket *t, ks_admitted_t admitted, void *userdata) {
        if (t->holding)
                return true;
        if (t->waiting)
                return false;
        /* Behind those already waiting, even when a slot is free this moment: FIFO. */
        if (!a->head && slot_free(a)) {
                t->holding = true;
                a->in_flight++;
                return true;
        }
        t->admitted = admitted;
        t->userdata = userdata;
        t->waiting = true;
        LIST_APPEND(a->head, a->tail, t);
        a->n_waiting++;
        schedule_handover(a);
        return false;
}

void ks_admission_leave(ks_admission *a, ks_admission_ticket *t) {
        if (t->waiting)
                dequeue(a, t);
        if (t->holding) {
                t->holding = false;
                if (a->in_flight > 0)
                        a->in_flight--;
                schedule_handover(a);
        }
}

unsigned ks_admission_in_flight(const ks_admission *a) {
        return a->in_flight;
}

unsigned ks_admission_waiting(const ks_admission *a) {
        return a->n_waiting;
}
