/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The refresh queue (see refresh-queue.h): a search tree of all queued items by unit name (for
 * deduplication and removal by name) and a doubly linked FIFO of the waiting ones (O(1) removal
 * from the middle when a unit is dropped).
 */
#include <errno.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>

#include "refresh-queue.h"
#include "list.h"

struct ks_refresh_queue {
        void *tree;                     /* tsearch() root */
        size_t size;
        ks_refresh_item *head, *tail;   /* waiting, oldest first */
        unsigned max_active, active;
        uint64_t retry_min_usec, retry_max_usec;
};

static int compare_items(const void *a, const void *b) {
        const ks_refresh_item *x = a, *y = b;

        return strcmp(x->unit, y->unit);
}

int ks_refresh_queue_new(unsigned max_active, uint64_t retry_min_usec, uint64_t retry_max_usec,
                         ks_refresh_queue **ret) {
        ks_refresh_queue *q;

        if (max_active == 0 || retry_min_usec == 0 || retry_max_usec < retry_min_usec)
                return -EINVAL;
        q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->max_active = max_active;
        q->retry_min_usec = retry_min_usec;
        q->retry_max_usec = retry_max_usec;
        *ret = q;
        return 0;
}

static void forget(ks_refresh_queue *q, ks_refresh_item *it);

ks_refresh_queue *ks_refresh_queue_free(ks_refresh_queue *q, void (*release)(ks_refresh_item *it)) {
        if (!q)
                return NULL;
        /* A tsearch() node starts with its key: the root's is some item still queued. */
        while (q->tree) {
                ks_refresh_item *it = *(ks_refresh_item **) q->tree;

                ks_refresh_queue_remove(q, it);
                if (release)
                        release(it);
        }
        free(q);
        return NULL;
}

ks_refresh_item *ks_refresh_queue_find(ks_refresh_queue *q, const char *unit) {
        ks_refresh_item key = { .unit = unit };
        void *n = tfind(&key, &q->tree, compare_items);

        return n ? *(ks_refresh_item **) n : NULL;
}

static void fifo_push(ks_refresh_queue *q, ks_refresh_item *it) {
        it->state = KS_REFRESH_WAITING;
        LIST_APPEND(q->head, q->tail, it);
}

static void fifo_unlink(ks_refresh_queue *q, ks_refresh_item *it) {
        LIST_REMOVE_TAIL(q->head, q->tail, it);
}

int ks_refresh_queue_add(ks_refresh_queue *q, ks_refresh_item *it) {
        void *n;

        if (!it->unit || it->state != KS_REFRESH_NONE)
                return -EINVAL;
        n = tsearch(it, &q->tree, compare_items);
        if (!n)
                return -ENOMEM;
        if (*(ks_refresh_item **) n != it)
                return -EEXIST;
        q->size++;
        it->again = false;
        it->failures = 0;
        fifo_push(q, it);
        return 0;
}

int ks_refresh_queue_request(ks_refresh_queue *q, ks_refresh_item *it) {
        if (it->state != KS_REFRESH_ACTIVE || it->again)
                return 0;
        /* Some of its replies may predate whatever made the caller ask again. */
        it->again = true;
        return 1;
}

ks_refresh_item *ks_refresh_queue_next(ks_refresh_queue *q) {
        ks_refresh_item *it = q->head;

        if (!it || q->active >= q->max_active)
                return NULL;
        fifo_unlink(q, it);
        it->state = KS_REFRESH_ACTIVE;
        it->again = false;
        q->active++;
        return it;
}

static void forget(ks_refresh_queue *q, ks_refresh_item *it) {
        (void) tdelete(it, &q->tree, compare_items);
        q->size--;
        it->state = KS_REFRESH_NONE;
        it->again = false;
}

ks_refresh_state ks_refresh_queue_done(ks_refresh_queue *q, ks_refresh_item *it, bool ok, uint64_t *ret_delay_usec) {
        uint64_t delay;

        if (it->state != KS_REFRESH_ACTIVE)
                return it->state;
        q->active--;
        if (ok) {
                it->failures = 0;
                if (it->again)
                        fifo_push(q, it);
                else
                        forget(q, it);
                it->again = false;
                return it->state;
        }

        /* A retry reads everything again, so a request made meanwhile is covered by it. */
        it->again = false;
        it->failures++;
        delay = q->retry_min_usec;
        for (unsigned i = 1; i < it->failures && delay < q->retry_max_usec; i++)
                delay *= 2;
        if (ret_delay_usec)
                *ret_delay_usec = delay < q->retry_max_usec ? delay : q->retry_max_usec;
        it->state = KS_REFRESH_BACKOFF;
        return it->state;
}

void ks_refresh_queue_wake(ks_refresh_queue *q, ks_refresh_item *it) {
        if (it->state == KS_REFRESH_BACKOFF)
                fifo_push(q, it);
}

void ks_refresh_queue_remove(ks_refresh_queue *q, ks_refresh_item *it) {
        switch (it->state) {
        case KS_REFRESH_NONE:
                return;
        case KS_REFRESH_WAITING:
                fifo_unlink(q, it);
                break;
        case KS_REFRESH_ACTIVE:
                q->active--;
                break;
        case KS_REFRESH_BACKOFF:
                break;
        }
        forget(q, it);
}

unsigned ks_refresh_queue_active(const ks_refresh_queue *q) {
        return q->active;
}

size_t ks_refresh_queue_size(const ks_refresh_queue *q) {
        return q->size;
}
