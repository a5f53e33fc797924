/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The inner epoll set. Each epoll entry points at its watch; the batch being dispatched is kept in
 * the set, so that removing a watch can clear its pending entries (a handler may free other
 * checks, whose events are further down the same batch).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io-set.h"
#include "list.h"

#define BATCH 64

struct ks_io_set {
        int epoll_fd;
        sd_event_source *source;
        sd_event_source *timer;
        uint64_t timer_usec;            /* when the timer fires; UINT64_MAX: off */
        ks_io_deadline *deadlines;      /* the armed ones, in no order */
        uint64_t generation;            /* of the timer's runs: see on_timer */
        unsigned n_watches;
        struct epoll_event batch[BATCH];
        int n_batch, next;              /* the batch in dispatch, and the next entry */
};

static int on_epoll(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ks_io_set *s = userdata;
        int n;

        n = epoll_wait(s->epoll_fd, s->batch, BATCH, 0);
        if (n < 0)
                return errno == EINTR ? 0 : -errno;
        s->n_batch = n;
        for (s->next = 0; s->next < s->n_batch;) {
                struct epoll_event *e = &s->batch[s->next++];
                ks_io_watch *w = e->data.ptr;

                if (w)
                        w->handler(w, e->events, w->userdata);
        }
        s->n_batch = s->next = 0;
        return 0;
}

static int set_timer(ks_io_set *s, uint64_t usec) {
        int r;

        if (usec == UINT64_MAX) {
                s->timer_usec = UINT64_MAX;
                return sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        }
        r = sd_event_source_set_time(s->timer, usec);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;
        s->timer_usec = usec;
        return 0;
}

static void unlink_deadline(ks_io_set *s, ks_io_deadline *d) {
        LIST_REMOVE(s->deadlines, d);
        d->armed = false;
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
        ks_io_set *s = userdata;
        uint64_t now, next;
        ks_io_deadline *d;

        s->timer_usec = UINT64_MAX;
        (void) sd_event_now(sd_event_source_get_event(source), CLOCK_MONOTONIC, &now);
        /* A handler may disarm or free any other deadline: the scan starts over after each. One
         * it arms now waits for the next wakeup, even if it is due already (curl asks for "at
         * once" from inside the handler that called it): this run cannot go on for ever. */
        s->generation++;
        for (;;) {
                for (d = s->deadlines; d && (d->usec > now || d->generation == s->generation); d = d->next)
                        ;
                if (!d)
                        break;
                unlink_deadline(s, d);
                d->handler(d, d->userdata);
        }
        next = UINT64_MAX;
        for (d = s->deadlines; d; d = d->next)
                next = MIN(next, d->usec);
        /* A handler may have armed the timer already, for an earlier time. */
        if (next < s->timer_usec)
                return set_timer(s, next);
        return 0;
}

int ks_io_set_arm(ks_io_set *s, ks_io_deadline *d, uint64_t usec, ks_io_expired_t handler, void *userdata) {
        if (!d->armed) {
                LIST_PREPEND(s->deadlines, d);
                d->armed = true;
        }
        d->usec = usec;
        d->generation = s->generation;
        d->handler = handler;
        d->userdata = userdata;
        if (usec < s->timer_usec)
                return set_timer(s, usec);
        return 0;
}

void ks_io_set_disarm(ks_io_set *s, ks_io_deadline *d) {
        /* The timer stays where it is: if it was for this deadline, it finds nothing then. */
        if (d->armed)
                unlink_deadline(s, d);
}

int ks_io_set_new(sd_event *event, ks_io_set **ret) {
        _cleanup_(ks_io_set_freep) ks_io_set *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->timer_usec = UINT64_MAX;
        s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (s->epoll_fd < 0)
                return -errno;
        r = sd_event_add_io(event, &s->source, s->epoll_fd, EPOLLIN, on_epoll, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->source, "check-sockets");
        /* 1 ms: the default accuracy (250 ms) would blur every check's timeout. */
        r = sd_event_add_time(event, &s->timer, CLOCK_MONOTONIC, UINT64_MAX, 1000, on_timer, s);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(s->timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->timer, "check-deadlines");
        s->timer_usec = UINT64_MAX;
        *ret = TAKE_PTR(s);
        return 0;
}

ks_io_set *ks_io_set_free(ks_io_set *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->source);
        sd_event_source_disable_unref(s->timer);
        if (s->epoll_fd >= 0)
                close(s->epoll_fd);
        return mfree(s);
}

int ks_io_set_add(ks_io_set *s, ks_io_watch *w, int fd, uint32_t events, ks_io_handler_t handler, void *userdata) {
        struct epoll_event e = { .events = events, .data.ptr = w };

        if (w->fd >= 0)
                return -EBUSY;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_ADD, fd, &e) < 0)
                return -errno;
        *w = (ks_io_watch) { .fd = fd, .events = events, .handler = handler, .userdata = userdata };
        s->n_watches++;
        return 0;
}

int ks_io_set_modify(ks_io_set *s, ks_io_watch *w, uint32_t events) {
        struct epoll_event e = { .events = events, .data.ptr = w };

        if (w->fd < 0)
                return -EINVAL;
        if (w->events == events)
                return 0;
        if (epoll_ctl(s->epoll_fd, EPOLL_CTL_MOD, w->fd, &e) < 0)
                return -errno;
        w->events = events;
        return 0;
}

static void forget(ks_io_set *s, ks_io_watch *w) {
        for (int i = s->next; i < s->n_batch; i++)
                if (s->batch[i].data.ptr == w)
                        s->batch[i].data.ptr = NULL;
        w->fd = -1;
        s->n_watches--;
}

unsigned ks_io_set_watches(const ks_io_set *s) {
        return s->n_watches;
}

void ks_io_set_remove(ks_io_set *s, ks_io_watch *w) {
        if (w->fd < 0)
                return;
        (void) epoll_ctl(s->epoll_fd, EPOLL_CTL_DEL, w->fd, NULL);
        forget(s, w);
}

void ks_io_set_close(ks_io_set *s, ks_io_watch *w) {
        int fd = w->fd;

        if (fd < 0)
                return;
        /* The socket is never duplicated: its last close takes it out of the set. */
        forget(s, w);
        close(fd);
}
