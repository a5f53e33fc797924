/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libcurl loaded on demand (curl-dl.c, check-loop.c): a curl loop maps no libcurl until a transfer
 * needs it (checked in /proc/self/maps), then one real loopback HTTP transfer runs through the
 * sym_curl_* table; and a process whose libcurl cannot be loaded gets -EOPNOTSUPP with the
 * loader's reason, remembered, while its event loop carries on.
 *
 * This executable must not link libcurl itself (meson gives it libcurl's headers only), or the
 * maps checks would prove nothing: the first one fails if it does.
 */
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "curl-dl.h"
#include "check-loop.h"
#include "test.h"

static bool libcurl_mapped(void) {
        return ks_test_mapped(KS_LIBCURL_SONAME);
}

/* ---- a one-shot HTTP server on the same event loop ---- */

static int listen_fd = -1;
static uint16_t port;
static unsigned served;

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\ndl-okay";
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf - 1, 0);

        if (n > 0) {
                buf[n] = 0;
                /* One recv holds a small request on loopback; the test fails loudly if not. */
                if (!strstr(buf, "\r\n\r\n"))
                        return 0;
                (void) send(fd, answer, sizeof answer - 1, MSG_NOSIGNAL);
                served++;
        }
        sd_event_source_disable_unref(s);
        close(fd);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (c >= 0)
                ASSERT_TRUE(sd_event_add_io(sd_event_source_get_event(s), NULL, c, EPOLLIN, on_client, NULL) >= 0);
        return 0;
}

static void start_server(sd_event *event) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof sa;

        listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        ASSERT_TRUE(listen_fd >= 0);
        ASSERT_EQ(bind(listen_fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(listen(listen_fd, 16), 0);
        ASSERT_EQ(getsockname(listen_fd, (struct sockaddr *) &sa, &len), 0);
        port = ntohs(sa.sin_port);
        ASSERT_TRUE(sd_event_add_io(event, NULL, listen_fd, EPOLLIN, on_accept, NULL) >= 0);
}

/* ---- one transfer through the table ---- */

typedef struct transfer {
        ks_curl_done done;
        ks_io_set *io;
        unsigned watched;       /* sockets in the io set while the body arrived */
        char body[64];
        size_t len;
        bool finished;
        CURLcode result;
} transfer;

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        transfer *t = userdata;
        size_t n = size * nmemb;

        if (n > sizeof t->body - 1 - t->len)
                return 0;
        t->watched = ks_io_set_watches(t->io);
        memcpy(t->body + t->len, ptr, n);
        t->len += n;
        return n;
}

static void on_done(CURL *easy, CURLcode result, void *userdata) {
        transfer *t = userdata;

        t->result = result;
        t->finished = true;
}

static void test_loaded_on_demand(void) {
        _cleanup_(ks_check_loop_freep) ks_check_loop *loop = NULL;
        sd_event *event = NULL;
        transfer t = { .done = { .callback = on_done } };
        char url[64];
        long status = 0;
        CURL *easy;

        t.done.userdata = &t;
        ASSERT_TRUE(!libcurl_mapped());
        ASSERT_TRUE(sd_event_new(&event) >= 0);
        start_server(event);

        /* A loop, and its connection setting, are not a transfer: nothing loaded. */
        ASSERT_EQ(ks_check_loop_new(event, &loop), 0);
        ASSERT_EQ(ks_check_loop_set_max_connections(loop, 200), 0);
        ASSERT_TRUE(!ks_check_loop_loaded(loop));
        ASSERT_TRUE(!ks_curl_dl_loaded());
        ASSERT_TRUE(!libcurl_mapped());

        /* The first easy handle loads it. */
        easy = ks_check_loop_take_easy(loop);
        ASSERT_TRUE(easy != NULL);
        ASSERT_TRUE(ks_check_loop_loaded(loop));
        ASSERT_TRUE(ks_curl_dl_loaded());
        ASSERT_TRUE(ks_curl_dl_error() == NULL);
        ASSERT_TRUE(libcurl_mapped());
        ASSERT_STREQ(ks_curl_dl_soname(), KS_LIBCURL_SONAME);

        snprintf(url, sizeof url, "http://127.0.0.1:%u/through-the-table", port);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_URL, url), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_PRIVATE, &t.done), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 5000L), CURLE_OK);
        ASSERT_EQ(sym_curl_easy_setopt(easy, CURLOPT_PROXY, ""), CURLE_OK);
        ASSERT_EQ(ks_check_loop_add(loop, easy, 7), 0);
        ASSERT_EQ(ks_check_loop_running(loop), 1);
        t.io = ks_check_loop_get_io_set(loop);
        ASSERT_EQ(ks_io_set_watches(t.io), 0);

        /* Bounded: the transfer's own timeout is 5 s. */
        for (unsigned i = 0; i < 1000 && !t.finished; i++)
                ASSERT_TRUE(sd_event_run(event, 10 * 1000) >= 0);
        ASSERT_TRUE(t.finished);
        ASSERT_EQ(t.result, CURLE_OK);
        ASSERT_EQ(sym_curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status), CURLE_OK);
        ASSERT_EQ(status, 200);
        t.body[t.len] = 0;
        ASSERT_STREQ(t.body, "dl-okay");
        /* curl's socket was in the one set of check sockets, and is not any more. */
        ASSERT_EQ(t.watched, 1);
        ASSERT_EQ(served, 1);
        ASSERT_EQ(ks_check_loop_running(loop), 0);
        ks_check_loop_give_easy(loop, easy);

        /* A second loop shares the loaded library. */
        {
                _cleanup_(ks_check_loop_freep) ks_check_loop *other = NULL;
                ASSERT_EQ(ks_check_loop_new(event, &other), 0);
                ASSERT_TRUE(!ks_check_loop_loaded(other));
                ASSERT_EQ(ks_check_loop_load(other), 0);
                ASSERT_TRUE(ks_check_loop_loaded(other));
        }

        loop = ks_check_loop_free(loop);
        close(listen_fd);
        sd_event_unref(event);
        ks_curl_dl_cleanup();
        ASSERT_TRUE(!ks_curl_dl_loaded());
}

static int on_tick(sd_event_source *s, uint64_t usec, void *userdata) {
        (*(unsigned *) userdata)++;
        return 0;
}

/* In a child: the process-wide failure must not leak into the other test. */
static void test_unavailable(void) {
        _cleanup_(ks_check_loop_freep) ks_check_loop *loop = NULL;
        sd_event *event = NULL;
        unsigned ticks = 0;

        ASSERT_EQ(setenv("KS_CURL_SONAME", "libkservice-test-does-not-exist.so.9", 1), 0);
        ASSERT_TRUE(sd_event_new(&event) >= 0);
        ASSERT_EQ(ks_check_loop_new(event, &loop), 0);

        ASSERT_EQ(ks_check_loop_load(loop), -EOPNOTSUPP);
        ASSERT_TRUE(ks_curl_dl_error() != NULL);
        ASSERT_TRUE(strstr(ks_curl_dl_error(), "libkservice-test-does-not-exist.so.9") != NULL);
        ASSERT_STREQ(ks_curl_dl_soname(), "libkservice-test-does-not-exist.so.9");
        ASSERT_TRUE(!ks_curl_dl_loaded());
        ASSERT_TRUE(!ks_check_loop_loaded(loop));
        ASSERT_TRUE(ks_check_loop_take_easy(loop) == NULL);
        ASSERT_TRUE(sym_curl_easy_init == NULL);

        /* Remembered: even with the right name now, no second search (a restart retries). */
        ASSERT_EQ(unsetenv("KS_CURL_SONAME"), 0);
        ASSERT_EQ(ks_curl_dl_open(), -EOPNOTSUPP);
        ASSERT_TRUE(!libcurl_mapped());

        /* The loop itself still works. */
        ASSERT_TRUE(sd_event_add_time_relative(event, NULL, CLOCK_MONOTONIC, 1000, 0, on_tick, &ticks) >= 0);
        ASSERT_TRUE(sd_event_run(event, 1000 * 1000) >= 0);
        ASSERT_EQ(ticks, 1);
        loop = ks_check_loop_free(loop);
        sd_event_unref(event);
        ks_curl_dl_cleanup();
}

int main(void) {
        pid_t pid;
        int status;

        signal(SIGPIPE, SIG_IGN);

        /* First, before anything here loads libcurl. */
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                test_unavailable();
                printf("libcurl unavailable: %u checks passed\n", ks_test_checks);
                fflush(stdout);
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        test_loaded_on_demand();
        TEST_DONE();
}
