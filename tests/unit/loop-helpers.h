/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the tests of notifyd's loop-driven parts (daemon, API) share: waiting while the event loop
 * runs, loopback TCP listeners for health checks, and definitions written into a directory. The test defines step(), which runs its
 * loop for a moment (about 10 ms) and keeps what it needs of what happened.
 */
#pragma once

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "test.h"
#include "time-util.h"

static void step(void);

/* Runs the loop until cond holds; generous, for a loaded machine (sanitizers, parallel tests). */
#define WAIT_FOR(cond, ms)                                                                         \
        do {                                                                                       \
                uint64_t _end = ks_now_usec() + (ms) * 1000ull;                                    \
                while (!(cond)) {                                                                  \
                        if (ks_now_usec() >= _end)                                                 \
                                ks_test_fail(true, __FILE__, __LINE__, "timed out after %u ms waiting for %s", \
                                             (unsigned) (ms), #cond);                              \
                        step();                                                                    \
                }                                                                                  \
        } while (0)

static inline void run_for(unsigned ms) {
        for (uint64_t end = ks_now_usec() + ms * 1000ull; ks_now_usec() < end;)
                step();
}

/* A listening socket on 127.0.0.1 at a free port (non-blocking). */
static inline int loopback_listener(uint16_t *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        int fd;

        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(listen(fd, 64), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

/* DIR/NAME.toml created, with an exec line: the test writes the rest and closes it. */
static inline FILE *definition_open(const char *dir, const char *name) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s.toml", dir, name);
        f = fopen(path, "we");
        ASSERT_NOT_NULL(f);
        fprintf(f, "exec = [\"/bin/true\"]\n");
        return f;
}
