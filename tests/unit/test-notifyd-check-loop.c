/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check-loop.c: native sockets and libcurl's share one io set; a transfer aborted while it runs
 * leaves no watch and calls nothing; a loop freed with transfers in flight frees everything
 * (ASan); idle easy handles are reused. Skipped (77) where libcurl cannot be loaded.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check-loop.h"
#include "curl-dl.h"
#include "io-set.h"
#include "test.h"

/* A server that accepts connections (the backlog does) and never answers. */
static int silent_server(uint16_t *ret_port) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(listen(fd, 16), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
        *ret_port = ntohs(sa.sin_port);
        return fd;
}

typedef struct transfer {
        ks_curl_done done;
        unsigned calls;
} transfer;

static void on_done(CURL *easy, CURLcode result, void *userdata) {
        transfer *t = userdata;

        t->calls++;
}

static CURL *start(ks_check_loop *loop, transfer *t, uint16_t port, unsigned key) {
        CURL *easy = ks_check_loop_take_easy(loop);
        char url[64];

        ASSERT_TRUE(easy != NULL);
        *t = (transfer) { .done = { .callback = on_done, .userdata = t } };
        snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_URL, url), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_PRIVATE, &t->done), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_PROXY, ""), CURLE_OK);
        ASSERT_EQ(ks_check_loop_add(loop, easy, key), 0);
        return easy;
}

static void on_native(ks_io_watch *w, uint32_t revents, void *userdata) {
        unsigned *calls = userdata;
        char c;

        (*calls)++;
        (void) read(w->fd, &c, 1);
}

static void run(sd_event *e, unsigned n) {
        for (unsigned i = 0; i < n; i++)
                ASSERT_TRUE(sd_event_run(e, 10 * 1000) >= 0);
}

int main(void) {
        sd_event *e = NULL;
        ks_check_loop *loop = NULL;
        ks_io_set *io;
        ks_io_watch native = KS_IO_WATCH_INIT;
        transfer a, b, c;
        CURL *ea, *eb, *ec;
        unsigned native_calls = 0;
        uint16_t port;
        int lfd, sp[2];

        ASSERT_TRUE(sd_event_new(&e) >= 0);
        ASSERT_EQ(ks_check_loop_new(e, &loop), 0);
        if (ks_check_loop_load(loop) == -EOPNOTSUPP) {
                printf("SKIP: libcurl cannot be loaded: %s\n", ks_curl_dl_error());
                return 77;
        }
        io = ks_check_loop_get_io_set(loop);
        lfd = silent_server(&port);

        /* A native check's socket and two curl transfers: all in the one set. */
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        ASSERT_EQ(ks_io_set_add(io, &native, sp[0], EPOLLIN, on_native, &native_calls), 0);
        ea = start(loop, &a, port, 1);
        eb = start(loop, &b, port, 2);
        ASSERT_EQ(ks_check_loop_running(loop), 2);
        run(e, 20);
        ASSERT_EQ(ks_io_set_watches(io), 3);
        ASSERT_EQ(write(sp[1], "x", 1), 1);
        run(e, 5);
        ASSERT_EQ(native_calls, 1);
        ASSERT_EQ(a.calls + b.calls, 0);

        /* Aborted while waiting for the answer: no callback, and curl's socket leaves the set. */
        ks_check_loop_remove(loop, ea);
        ASSERT_EQ(ks_check_loop_running(loop), 1);
        ks_check_loop_give_easy(loop, ea);
        run(e, 5);
        ASSERT_EQ(a.calls, 0);
        ASSERT_EQ(ks_io_set_watches(io), 2);

        /* An idle handle is handed out again (reset), not a new one. */
        ASSERT_TRUE(ks_check_loop_take_easy(loop) == ea);
        ks_check_loop_give_easy(loop, ea);

        /* Freed with b still running and c just added: nothing is called, and no socket or
         * timeout of theirs is left behind (ASan). The easy handles stay their owners'. */
        ec = start(loop, &c, port, 3);
        ASSERT_EQ(ks_check_loop_running(loop), 2);
        ks_io_set_remove(io, &native);
        loop = ks_check_loop_free(loop);
        ASSERT_EQ(b.calls + c.calls, 0);
        sym_curl_easy_cleanup(eb);
        sym_curl_easy_cleanup(ec);

        close(sp[0]);
        close(sp[1]);
        close(lfd);
        sd_event_unref(e);
        ks_curl_dl_cleanup();
        TEST_DONE();
}
