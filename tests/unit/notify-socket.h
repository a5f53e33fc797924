/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A datagram socket standing in for systemd's notify socket, for the tests of what notifyd tells
 * systemd: each notification with the PID it was sent in the name of (SCM_CREDENTIALS). One per
 * test program: notify_socket_open() binds it and names the event loop that the waits below run
 * while nothing has arrived (the sender lives on that loop).
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <systemd/sd-event.h>

#include "test.h"
#include "time-util.h"

typedef struct note {
        char text[512];
        pid_t pid;
} note;

static int notify_fd = -1;
static sd_event *notify_event;

static inline void notify_socket_open(const char *path, sd_event *event) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int one = 1;

        ASSERT_TRUE(strlen(path) < sizeof sa.sun_path);
        strcpy(sa.sun_path, path);
        notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(notify_fd >= 0);
        ASSERT_EQ(bind(notify_fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(setsockopt(notify_fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof one), 0);
        notify_event = event;
}

static inline void notify_socket_close(void) {
        if (notify_fd >= 0)
                close(notify_fd);
        notify_fd = -1;
        notify_event = NULL;
}

/* Runs the loop until a notification arrives (true) or timeout_ms passed (false). */
static inline bool next_note(note *n, unsigned timeout_ms) {
        uint64_t deadline = ks_now_usec() + timeout_ms * 1000ull;

        for (;;) {
                union {
                        struct cmsghdr h;
                        char b[CMSG_SPACE(sizeof(struct ucred))];
                } control = {};
                struct iovec iov = { n->text, sizeof n->text - 1 };
                struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
                                     .msg_controllen = sizeof control };
                ssize_t k = recvmsg(notify_fd, &mh, MSG_DONTWAIT);

                if (k >= 0) {
                        n->text[k] = 0;
                        n->pid = 0;
                        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                                        struct ucred u;
                                        memcpy(&u, CMSG_DATA(c), sizeof u);
                                        n->pid = u.pid;
                                }
                        return true;
                }
                ASSERT_EQ(errno, EAGAIN);
                if (ks_now_usec() >= deadline)
                        return false;
                ASSERT_TRUE(sd_event_run(notify_event, 5000) >= 0);
        }
}

/* Waits for a notification containing want (skipping others); returns it. */
static inline note expect_note(const char *want, unsigned timeout_ms) {
        uint64_t deadline = ks_now_usec() + timeout_ms * 1000ull;
        note n;

        while (ks_now_usec() < deadline)
                if (next_note(&n, 50) && strstr(n.text, want))
                        return n;
        fprintf(stderr, "no notification with \"%s\" within %u ms\n", want, timeout_ms);
        abort();
}

/* Throws away what arrived (the loop does not run). */
static inline void drain(void) {
        note n;

        while (next_note(&n, 0))
                ;
}

/* No notification containing what for ms milliseconds (the loop runs). */
static inline void expect_none(const char *what, unsigned ms) {
        uint64_t t0 = ks_now_usec();
        note n;

        while (ks_now_usec() < t0 + ms * 1000ull)
                if (next_note(&n, 20) && strstr(n.text, what)) {
                        fprintf(stderr, "unexpected \"%s\" in: %s\n", what, n.text);
                        abort();
                }
}
