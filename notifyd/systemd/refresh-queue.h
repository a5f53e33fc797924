/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The bookkeeping behind the unit watcher's full reads ("refreshes"): which units wait for one,
 * in first-come order and each at most once; how many are in flight (bounded, because the system
 * bus refuses a connection more than max_replies_per_connection = 128 pending calls, and one read
 * is five calls); which failed and when to try again (doubling delays). Pure logic: the caller
 * allocates the items (embedding ks_refresh_item), makes the calls and arms the timers.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef enum ks_refresh_state {
        KS_REFRESH_NONE,        /* not in the queue (free to release) */
        KS_REFRESH_WAITING,     /* in the FIFO */
        KS_REFRESH_ACTIVE,      /* its calls are in flight */
        KS_REFRESH_BACKOFF,     /* failed; waits for its retry delay, then the FIFO */
} ks_refresh_state;

typedef struct ks_refresh_item ks_refresh_item;
struct ks_refresh_item {
        const char *unit;               /* the key; the caller's storage, alive as long as the item */
        ks_refresh_state state;
        bool again;                     /* asked for while active: read once more when done */
        unsigned failures;              /* failed reads in a row */
        ks_refresh_item *prev, *next;   /* in the FIFO while waiting */
};

typedef struct ks_refresh_queue ks_refresh_queue;

int ks_refresh_queue_new(unsigned max_active, uint64_t retry_min_usec, uint64_t retry_max_usec,
                         ks_refresh_queue **ret);
/* Hands every item still queued to release (which may free it); accepts NULL. */
ks_refresh_queue *ks_refresh_queue_free(ks_refresh_queue *q, void (*release)(ks_refresh_item *it));

ks_refresh_item *ks_refresh_queue_find(ks_refresh_queue *q, const char *unit);

/* A new item (state NONE, unit set) joins the end of the FIFO. */
int ks_refresh_queue_add(ks_refresh_queue *q, ks_refresh_item *it);

/* A refresh asked for a unit that is already queued. Returns 1 if that changed anything (an
 * active item will be read again), 0 if not (waiting: stays in its place; backing off: keeps
 * its delay, which is what protects the bus from a unit asked for in a loop). */
int ks_refresh_queue_request(ks_refresh_queue *q, ks_refresh_item *it);

/* The next item to start, now ACTIVE, or NULL when none waits or max_active are in flight. */
ks_refresh_item *ks_refresh_queue_next(ks_refresh_queue *q);

/* An active item's read finished. ok: it leaves the queue (NONE) unless it was asked for again
 * meanwhile (WAITING, at the end of the FIFO). Failed: BACKOFF, and *ret_delay_usec says when to
 * call ks_refresh_queue_wake(): retry_min_usec, doubling per failure in a row, at most
 * retry_max_usec. Returns the item's new state. */
ks_refresh_state ks_refresh_queue_done(ks_refresh_queue *q, ks_refresh_item *it, bool ok, uint64_t *ret_delay_usec);

/* A backing-off item's delay is over: it joins the end of the FIFO. */
void ks_refresh_queue_wake(ks_refresh_queue *q, ks_refresh_item *it);

/* Takes the item out of the queue whatever its state (the unit is no longer wanted); its state
 * is NONE afterwards, and the caller cancels its calls or timer. */
void ks_refresh_queue_remove(ks_refresh_queue *q, ks_refresh_item *it);

unsigned ks_refresh_queue_active(const ks_refresh_queue *q);
size_t ks_refresh_queue_size(const ks_refresh_queue *q);
