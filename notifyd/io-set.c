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

#define BATCH 64

struct ks_io_set {
        int epoll_fd;
        sd_event_source *source;
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

int ks_io_set_new(sd_event *event, ks_io_set **ret) {
        _cleanup_(ks_io_set_freep) ks_io_set *s = NULL;
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        if (s->epoll_fd < 0)
                return -errno;
        r = sd_event_add_io(event, &s->source, s->epoll_fd, EPOLLIN, on_epoll, s);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(s->source, "check-sockets");
        *ret = TAKE_PTR(s);
        return 0;
}

ks_io_set *ks_io_set_free(ks_io_set *s) {
        if (!s)
                return NULL;
        sd_event_source_disable_unref(s->source);
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
