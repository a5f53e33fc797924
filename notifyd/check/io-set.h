/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Many sockets behind one sd-event source: an inner epoll set. sd-event dispatches one source per
 * iteration, and an iteration costs an epoll_wait and the loop's bookkeeping; with thousands of
 * checks a wakeup should handle every socket that became ready at once.
 *
 * A watch is embedded in its owner and lives as long as it is added. Removing a watch (or closing
 * its socket after removing it) is safe at any time, also from a handler while other events of
 * the same batch are still to be handled: those of a removed watch are dropped.
 *
 * The set also keeps the deadlines of the runs on those sockets, behind one timer. A run almost
 * always ends long before its deadline, so arming and disarming one must cost next to nothing: a
 * deadline is a link in an unordered list, and the timer is moved only to an earlier time. When
 * it fires it handles what expired and moves to the earliest left; a disarmed deadline costs at
 * most one wakeup that finds nothing, once per timeout.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "macro.h"

typedef struct ks_io_set ks_io_set;
typedef struct ks_io_watch ks_io_watch;

/* revents: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP... as epoll reported them. */
typedef void (*ks_io_handler_t)(ks_io_watch *w, uint32_t revents, void *userdata);

struct ks_io_watch {
        int fd;                         /* -1: not added */
        uint32_t events;
        ks_io_handler_t handler;
        void *userdata;
};

#define KS_IO_WATCH_INIT { .fd = -1 }

typedef struct ks_io_deadline ks_io_deadline;
typedef void (*ks_io_expired_t)(ks_io_deadline *d, void *userdata);

struct ks_io_deadline {
        uint64_t usec;                  /* CLOCK_MONOTONIC */
        ks_io_expired_t handler;
        void *userdata;
        ks_io_deadline *prev, *next;
        uint64_t generation;            /* the set's, when armed */
        bool armed;
};

int ks_io_set_new(sd_event *event, ks_io_set **ret);
ks_io_set *ks_io_set_free(ks_io_set *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_io_set *, ks_io_set_free);

int ks_io_set_add(ks_io_set *s, ks_io_watch *w, int fd, uint32_t events, ks_io_handler_t handler, void *userdata);
/* A system call only when events change. */
int ks_io_set_modify(ks_io_set *s, ks_io_watch *w, uint32_t events);
/* Stops watching the socket; it stays open. A watch not added is left alone. */
void ks_io_set_remove(ks_io_set *s, ks_io_watch *w);
/* Stops watching the socket and closes it (closing removes it from the epoll set: no system call
 * for that). A watch not added is left alone. */
void ks_io_set_close(ks_io_set *s, ks_io_watch *w);

/* How many sockets are watched (the native checks' and curl's). */
unsigned ks_io_set_watches(const ks_io_set *s);

/* handler runs once, at usec (1 ms accuracy) unless disarmed before; if armed by a handler of
 * another deadline, not before the next wakeup. Arming an armed deadline moves it. Disarming one
 * that is not armed does nothing. */
int ks_io_set_arm(ks_io_set *s, ks_io_deadline *d, uint64_t usec, ks_io_expired_t handler, void *userdata);
void ks_io_set_disarm(ks_io_set *s, ks_io_deadline *d);
