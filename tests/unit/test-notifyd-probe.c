/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP and TCP checks, native (URLs to 127.0.0.1) and through curl (the same URLs with
 * "localhost"), against a small HTTP server on loopback that this test forks: statuses, body
 * substring, headers, method, redirects, response cap, chunked and close-framed answers, HEAD,
 * garbage, closed connections, endless headers, timeouts (a hanging endpoint does not delay other
 * checks), connection reuse on and off (and a kept connection the server closed), and TCP
 * connect checks; libcurl loaded only by the first check that needs it, and a check that needs
 * it failing to start, the others running, when it cannot be loaded.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "probe.h"
#include "check-loop.h"
#include "curl-dl.h"
#include "test.h"

#define MAX_CONN 64

static pid_t server_pid;
static unsigned *accepted;     /* shared with the server: connections it accepted */
static uint16_t server_port;

/* ---- the server (child process) ---- */

typedef struct conn {
        int fd;
        char buf[4096];
        size_t len;
        bool hung;
} conn;

static void reply(int fd, int code, const char *extra_headers, const char *body) {
        char out[8192];
        int n = snprintf(out, sizeof out, "HTTP/1.1 %d X\r\nContent-Length: %zu\r\n%s\r\n%s", code, strlen(body),
                         extra_headers, body);
        (void) send(fd, out, (size_t) n, MSG_NOSIGNAL);
}

/* Returns false when the connection is to be closed. */
static bool handle(conn *c, unsigned *nconn) {
        char method[16] = "", path[256] = "";
        char *end = strstr(c->buf, "\r\n\r\n");
        static char big[65536];

        if (!end)
                return true;
        *end = 0;
        if (sscanf(c->buf, "%15s %255s", method, path) != 2)
                return false;
        if (streq(path, "/ok"))
                reply(c->fd, 200, "", "all good");
        else if (streq(path, "/fail"))
                reply(c->fd, 500, "", "broken");
        else if (streq(path, "/hang")) {
                c->hung = true;
                return true;
        } else if (streq(path, "/slow")) {
                usleep(200000);
                reply(c->fd, 200, "", "slow but fine");
        } else if (streq(path, "/big")) {
                char hdr[128];
                int n = snprintf(hdr, sizeof hdr, "HTTP/1.1 200 X\r\nContent-Length: %d\r\n\r\n", 16 * 65536);
                memset(big, 'a', sizeof big);
                (void) send(c->fd, hdr, (size_t) n, MSG_NOSIGNAL);
                for (int i = 0; i < 16; i++)
                        if (send(c->fd, big, sizeof big, MSG_NOSIGNAL) < 0)
                                break;
                return false;
        } else if (streq(path, "/redirect"))
                reply(c->fd, 302, "Location: /ok\r\n", "");
        else if (streq(path, "/close"))
                return false;
        else if (streq(path, "/garbage")) {
                (void) send(c->fd, "\x01\x02nonsense\r\n\r\n", 14, MSG_NOSIGNAL);
                return false;
        } else if (streq(path, "/header"))
                reply(c->fd, strstr(c->buf, "\r\nX-Token: secret") ? 200 : 403, "", "");
        else if (streq(path, "/method"))
                reply(c->fd, streq(method, "POST") && strstr(c->buf, "\r\nContent-Length: 0") ? 200 : 405, "", "");
        else if (streq(path, "/chunked")) {
                static const char a[] = "HTTP/1.1 200 X\r\nTransfer-Encoding: chunked\r\n\r\n"
                                        "4;ext=1\r\ngood\r\n6\r\n stuff\r\n0\r\nTrailer: x\r\n\r\n";
                (void) send(c->fd, a, sizeof a - 1, MSG_NOSIGNAL);
        } else if (streq(path, "/until-close")) {
                static const char a[] = "HTTP/1.0 200 X\r\n\r\nall good until the end";
                (void) send(c->fd, a, sizeof a - 1, MSG_NOSIGNAL);
                return false;
        } else if (streq(path, "/then-close")) {
                /* Says nothing of closing, then closes: the client's kept connection is dead. */
                reply(c->fd, 200, "", "all good");
                return false;
        } else if (streq(path, "/head")) {
                static const char a[] = "HTTP/1.1 200 X\r\nContent-Length: 100\r\n\r\n";
                if (streq(method, "HEAD"))
                        (void) send(c->fd, a, sizeof a - 1, MSG_NOSIGNAL);
                else
                        reply(c->fd, 405, "", "");
        } else if (streq(path, "/endless-headers")) {
                static char pad[20000];
                size_t k = 0;
                k += (size_t) snprintf(pad, sizeof pad, "HTTP/1.1 200 X\r\n");
                while (k + 40 < sizeof pad)
                        k += (size_t) snprintf(pad + k, sizeof pad - k, "X-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n");
                (void) send(c->fd, pad, k, MSG_NOSIGNAL);
                c->hung = true;
                return true;
        }
        else
                reply(c->fd, 404, "", "");
        c->len = 0;
        return true;
}

static _Noreturn void serve(int lfd) {
        conn conns[MAX_CONN];
        unsigned nconn = 0;
        size_t n = 0;

        for (;;) {
                struct pollfd p[MAX_CONN + 1];

                p[0] = (struct pollfd) { .fd = lfd, .events = POLLIN };
                for (size_t i = 0; i < n; i++)
                        p[i + 1] = (struct pollfd) { .fd = conns[i].fd, .events = POLLIN };
                if (poll(p, n + 1, -1) < 0)
                        _exit(1);
                for (size_t i = n; i > 0; i--) {
                        conn *c = &conns[i - 1];
                        ssize_t k;
                        if (!p[i].revents)
                                continue;
                        k = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
                        if (k > 0) {
                                c->len += (size_t) k;
                                c->buf[c->len] = 0;
                        }
                        if (k <= 0 || (!c->hung && !handle(c, &nconn))) {
                                close(c->fd);
                                conns[i - 1] = conns[--n];
                        }
                }
                if (p[0].revents && n < MAX_CONN) {
                        int fd = accept(lfd, NULL, NULL);
                        if (fd >= 0) {
                                conns[n++] = (conn) { .fd = fd };
                                nconn++;
                                __atomic_store_n(accepted, nconn, __ATOMIC_SEQ_CST);
                        }
                }
        }
}

static void start_server(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        int fd = socket(AF_INET, SOCK_STREAM, 0);

        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(listen(fd, 64), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &sa, &l), 0);
        server_port = ntohs(sa.sin_port);
        accepted = mmap(NULL, sizeof *accepted, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        ASSERT_TRUE(accepted != MAP_FAILED);
        server_pid = fork();
        ASSERT_TRUE(server_pid >= 0);
        if (server_pid == 0) {
                alarm(60);      /* never outlive a stuck test */
                serve(fd);
        }
        close(fd);
}

static void stop_server(void) {
        if (server_pid > 0) {
                kill(server_pid, SIGKILL);
                waitpid(server_pid, NULL, 0);
        }
}

/* ---- the client side ---- */

static uint64_t now_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

typedef struct outcome {
        bool done;
        ks_probe_result result;
        uint64_t finished_usec;
} outcome;

static void on_done(ks_probe *c, const ks_probe_result *r, void *userdata) {
        outcome *o = userdata;
        o->done = true;
        o->result = *r;
        o->finished_usec = now_usec();
}

static sd_event *event;
static ks_check_loop *loop;
/* "127.0.0.1": notifyd's own HTTP; "localhost": curl's. */
static const char *host = "127.0.0.1";

static void run_until(outcome *const *o, size_t n) {
        uint64_t deadline = now_usec() + 10000000;

        for (;;) {
                bool all = true;
                for (size_t i = 0; i < n; i++)
                        all = all && o[i]->done;
                if (all)
                        return;
                ASSERT_TRUE(now_usec() < deadline);
                ASSERT_TRUE(sd_event_run(event, 100000) >= 0);
        }
}

/* A check and the options it runs with: what these tests vary. */
typedef struct test_spec {
        ks_check check;
        ks_probe_options opts;
} test_spec;

static int new_probe(const test_spec *s, ks_probe **ret) {
        return ks_probe_new(&s->check, &s->opts, ret);
}

static void url(char *buf, size_t size, const char *path) {
        snprintf(buf, size, "http://%s:%u%s", host, server_port, path);
}

/* Runs one HTTP check on path and returns its result. */
static ks_probe_result run_http(const char *path, void (*tweak)(test_spec *s)) {
        char u[128];
        test_spec spec = { .check = { .type = KS_CHECK_HTTP, .url = u }, .opts = { .timeout_usec = 2000000 } };
        _cleanup_(ks_probe_freep) ks_probe *c = NULL;
        outcome o = {};

        url(u, sizeof u, path);
        if (tweak)
                tweak(&spec);
        ASSERT_EQ(new_probe(&spec, &c), 0);
        ASSERT_EQ(ks_probe_start(c, loop, 0, on_done, &o), 0);
        ASSERT_EQ(ks_probe_start(c, loop, 0, on_done, &o), -EBUSY);
        ASSERT_TRUE(ks_probe_in_flight(c));
        run_until((outcome *[]) { &o }, 1);
        ASSERT_TRUE(!ks_probe_in_flight(c));
        return o.result;
}

static void want_body(test_spec *s) {
        s->check.expect_body = (char *) "good";
}
static void want_other_body(test_spec *s) {
        s->check.expect_body = (char *) "excellent";
}
static void want_500(test_spec *s) {
        static ks_status_range r5xx[] = { { 500, 599 } };
        s->check.expect_status = r5xx;
        s->check.n_expect_status = 1;
}
static void with_header(test_spec *s) {
        static ks_kv h[] = { { (char *) "X-Token", (char *) "secret" } };
        s->check.headers = h;
        s->check.n_headers = 1;
}
static void with_post(test_spec *s) {
        s->check.method = (char *) "POST";
}
static void follow(test_spec *s) {
        s->check.follow_redirects = true;
}
static void small_cap(test_spec *s) {
        s->check.max_response_bytes = 4;
}
static void big_cap(test_spec *s) {
        s->check.max_response_bytes = 2u << 20;
}
static void with_head(test_spec *s) {
        s->check.method = (char *) "HEAD";
}
static void want_stuff(test_spec *s) {
        s->check.expect_body = (char *) "good stuff";
}
static void want_end(test_spec *s) {
        s->check.expect_body = (char *) "until the end";
}

static void test_http(void) {
        ks_probe_result r;

        r = run_http("/ok", NULL);
        ASSERT_TRUE(r.passed);
        ASSERT_EQ(r.http_status, 200);
        ASSERT_STREQ(r.reason, "HTTP 200");
        ASSERT_TRUE(r.latency_usec > 0 && r.latency_usec < 2000000);

        r = run_http("/fail", NULL);
        ASSERT_TRUE(!r.passed);
        ASSERT_EQ(r.http_status, 500);
        ASSERT_STREQ(r.reason, "HTTP 500 (expected 2xx)");
        ASSERT_TRUE(run_http("/fail", want_500).passed);

        ASSERT_TRUE(run_http("/ok", want_body).passed);
        r = run_http("/ok", want_other_body);
        ASSERT_TRUE(!r.passed);
        ASSERT_STREQ(r.reason, "HTTP 200, body lacks \"excellent\"");

        ASSERT_TRUE(!run_http("/header", NULL).passed);
        ASSERT_TRUE(run_http("/header", with_header).passed);
        ASSERT_TRUE(!run_http("/method", NULL).passed);
        ASSERT_TRUE(run_http("/method", with_post).passed);

        /* Redirects are not followed unless asked. */
        r = run_http("/redirect", NULL);
        ASSERT_TRUE(!r.passed);
        ASSERT_STREQ(r.reason, "HTTP 302 (expected 2xx)");
        ASSERT_TRUE(run_http("/redirect", follow).passed);

        r = run_http("/big", NULL);
        ASSERT_TRUE(!r.passed);
        ASSERT_STREQ(r.reason, "response larger than 65536 bytes");
        r = run_http("/ok", small_cap);
        ASSERT_TRUE(!r.passed);
        /* A 1 MiB answer under a 2 MiB cap: read over many wakeups, whole. */
        r = run_http("/big", big_cap);
        if (!r.passed)
                fprintf(stderr, "big (%s): %s\n", host, r.reason);
        ASSERT_TRUE(r.passed);

        r = run_http("/close", NULL);
        ASSERT_TRUE(!r.passed);
        ASSERT_EQ(r.http_status, 0);
        fprintf(stderr, "close: %s\n", r.reason);
        r = run_http("/garbage", NULL);
        ASSERT_TRUE(!r.passed);
        fprintf(stderr, "garbage: %s\n", r.reason);
        ASSERT_TRUE(run_http("/slow", NULL).passed);

        ASSERT_TRUE(run_http("/chunked", want_stuff).passed);
        ASSERT_TRUE(run_http("/until-close", want_end).passed);
        ASSERT_TRUE(run_http("/head", with_head).passed);
        ASSERT_TRUE(!run_http("/head", NULL).passed);

        /* A server that sends headers without end fails a native check at once, not at its
         * timeout (curl allows far more header bytes: it waits for the timeout). */
        {
                uint64_t t0 = now_usec();
                r = run_http("/endless-headers", NULL);
                ASSERT_TRUE(!r.passed);
                fprintf(stderr, "endless headers (%s): %s after %" PRIu64 " ms\n", host, r.reason,
                        (now_usec() - t0) / 1000);
                if (streq(host, "127.0.0.1")) {
                        ASSERT_STREQ(r.reason, "invalid HTTP response: header section too large");
                        ASSERT_TRUE(now_usec() - t0 < 1500000);
                }
        }
}

static void test_hang_does_not_delay_others(void) {
        char u1[128], u2[128];
        test_spec hang = { .check = { .type = KS_CHECK_HTTP, .url = u1 }, .opts = { .timeout_usec = 700000 } };
        test_spec ok = { .check = { .type = KS_CHECK_HTTP, .url = u2 }, .opts = { .timeout_usec = 2000000 } };
        _cleanup_(ks_probe_freep) ks_probe *a = NULL, *b = NULL;
        outcome oa = {}, ob = {};
        uint64_t t0;

        url(u1, sizeof u1, "/hang");
        url(u2, sizeof u2, "/ok");
        ASSERT_EQ(new_probe(&hang, &a), 0);
        ASSERT_EQ(new_probe(&ok, &b), 0);
        t0 = now_usec();
        ASSERT_EQ(ks_probe_start(a, loop, 0, on_done, &oa), 0);
        ASSERT_EQ(ks_probe_start(b, loop, 0, on_done, &ob), 0);
        run_until((outcome *[]) { &oa, &ob }, 2);
        ASSERT_TRUE(ob.result.passed);
        ASSERT_TRUE(!oa.result.passed);
        ASSERT_STREQ(oa.result.reason, "timed out after 700ms");
        /* The good check finished long before the hanging one timed out... */
        ASSERT_TRUE(ob.finished_usec - t0 < 300000);
        /* ...which failed at its timeout, not much later. */
        ASSERT_TRUE(oa.finished_usec - t0 >= 690000);
        ASSERT_TRUE(oa.finished_usec - t0 < 1200000);

        /* Cancelling a run in flight: no callback, and it can start again. */
        oa = (outcome) {};
        ASSERT_EQ(ks_probe_start(a, loop, 0, on_done, &oa), 0);
        ks_probe_cancel(a);
        ASSERT_TRUE(!ks_probe_in_flight(a));
        for (int i = 0; i < 5; i++)
                sd_event_run(event, 10000);
        ASSERT_TRUE(!oa.done);
}

static unsigned count_connections(void) {
        return __atomic_load_n(accepted, __ATOMIC_SEQ_CST);
}

static void test_reuse(void) {
        char u[128];
        test_spec spec = { .check = { .type = KS_CHECK_HTTP, .url = u }, .opts = { .timeout_usec = 2000000 } };
        _cleanup_(ks_probe_freep) ks_probe *fresh = NULL, *reuse = NULL;
        unsigned before, after;

        url(u, sizeof u, "/ok");
        ASSERT_EQ(new_probe(&spec, &fresh), 0);
        spec.opts.reuse_connection = true;
        ASSERT_EQ(new_probe(&spec, &reuse), 0);

        before = count_connections();
        for (int i = 0; i < 5; i++) {
                outcome o = {};
                ASSERT_EQ(ks_probe_start(fresh, loop, 0, on_done, &o), 0);
                run_until((outcome *[]) { &o }, 1);
                ASSERT_TRUE(o.result.passed);
        }
        after = count_connections();
        /* 5 checks without reuse: 5 connections. */
        ASSERT_EQ(after - before, 5);

        before = after;
        for (int i = 0; i < 5; i++) {
                outcome o = {};
                ASSERT_EQ(ks_probe_start(reuse, loop, 0, on_done, &o), 0);
                run_until((outcome *[]) { &o }, 1);
                ASSERT_TRUE(o.result.passed);
        }
        after = count_connections();
        /* With reuse: one connection for all five. */
        ASSERT_EQ(after - before, 1);

        /* The server closes each connection after its answer without saying so. Whether the
         * close is seen while the connection is idle or only when the next request goes out on
         * it, every check passes, each on a new connection. */
        {
                _cleanup_(ks_probe_freep) ks_probe *closing = NULL;

                url(u, sizeof u, "/then-close");
                ASSERT_EQ(new_probe(&spec, &closing), 0);
                before = count_connections();
                for (int i = 0; i < 6; i++) {
                        outcome o = {};
                        if (i % 2 == 1) {
                                uint64_t t0 = now_usec();
                                while (now_usec() < t0 + 50000)
                                        ASSERT_TRUE(sd_event_run(event, 10000) >= 0);
                        }
                        ASSERT_EQ(ks_probe_start(closing, loop, 0, on_done, &o), 0);
                        run_until((outcome *[]) { &o }, 1);
                        if (!o.result.passed)
                                fprintf(stderr, "then-close (%s) run %d: %s\n", host, i, o.result.reason);
                        ASSERT_TRUE(o.result.passed);
                }
                /* curl's shared cache may hand the first run a connection another check kept. */
                if (streq(host, "127.0.0.1"))
                        ASSERT_EQ(count_connections() - before, 6);
        }
}

static void test_tcp(void) {
        test_spec spec = { .check = { .type = KS_CHECK_TCP, .host = (char *) "127.0.0.1", .port = server_port }, .opts = { .timeout_usec = 1000000 } };
        _cleanup_(ks_probe_freep) ks_probe *c = NULL, *d = NULL;
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        outcome o = {};
        char desc[64];
        int fd;

        ASSERT_EQ(new_probe(&spec, &c), 0);
        ASSERT_EQ(ks_probe_start(c, loop, 0, on_done, &o), 0);
        run_until((outcome *[]) { &o }, 1);
        ASSERT_TRUE(o.result.passed);
        ASSERT_STREQ(o.result.reason, "TCP connected");

        /* A port nobody listens on: bind one, note it, close it. */
        fd = socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &sa, &l), 0);
        close(fd);
        spec.check.port = ntohs(sa.sin_port);
        ASSERT_EQ(new_probe(&spec, &d), 0);
        o = (outcome) {};
        ASSERT_EQ(ks_probe_start(d, loop, 0, on_done, &o), 0);
        run_until((outcome *[]) { &o }, 1);
        ASSERT_TRUE(!o.result.passed);
        fprintf(stderr, "refused: %s\n", o.result.reason);
        ASSERT_TRUE(strstr(o.result.reason, "refused") != NULL);

        ks_probe_describe(d, desc, sizeof desc);
        ASSERT_TRUE(strncmp(desc, "tcp 127.0.0.1:", 14) == 0);
        spec.check.host = (char *) "::1";
        spec.check.port = 80;
        ks_check_describe(&spec.check, desc, sizeof desc);
        ASSERT_STREQ(desc, "tcp [::1]:80");
        spec.check.port = 0;
        ASSERT_EQ(new_probe(&spec, &d), -EINVAL);
}

/* A listener whose accept queue is full drops further SYNs: the handshake hangs, and the check
 * fails at its timeout, on loopback only. Also through curl (a host name). */
static void test_tcp_timeout(void) {
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t l = sizeof sa;
        int lfd, fill[4];
        size_t n_fill = 0;

        lfd = socket(AF_INET, SOCK_STREAM, 0);
        ASSERT_TRUE(lfd >= 0);
        ASSERT_EQ(bind(lfd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(listen(lfd, 0), 0);
        ASSERT_EQ(getsockname(lfd, (struct sockaddr *) &sa, &l), 0);
        /* Fill the queue: blocking connects that complete until it is full (then they would hang,
         * so non-blocking ones, not waited for). */
        for (size_t i = 0; i < ELEMENTSOF(fill); i++) {
                fill[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
                ASSERT_TRUE(fill[i] >= 0);
                (void) connect(fill[i], (struct sockaddr *) &sa, sizeof sa);
                n_fill++;
        }
        usleep(50000);

        for (int through_curl = 0; through_curl < 2; through_curl++) {
                test_spec spec = { .check = { .type = KS_CHECK_TCP, .host = (char *) (through_curl ? "localhost" : "127.0.0.1"), .port = ntohs(sa.sin_port) }, .opts = { .timeout_usec = 300000 } };
                _cleanup_(ks_probe_freep) ks_probe *c = NULL;
                outcome o = {};
                uint64_t t0 = now_usec();

                ASSERT_EQ(new_probe(&spec, &c), 0);
                ASSERT_EQ(ks_probe_start(c, loop, 0, on_done, &o), 0);
                run_until((outcome *[]) { &o }, 1);
                fprintf(stderr, "tcp timeout (%s): %s after %" PRIu64 " ms\n", spec.check.host, o.result.reason,
                        (o.finished_usec - t0) / 1000);
                ASSERT_TRUE(!o.result.passed);
                ASSERT_TRUE(strstr(o.result.reason, "timed out") != NULL);
                ASSERT_TRUE(o.finished_usec - t0 >= 290000);
                ASSERT_TRUE(o.finished_usec - t0 < 2000000);
        }

        /* Cancelled while connecting: nothing is reported, the socket is closed. */
        {
                test_spec spec = { .check = { .type = KS_CHECK_TCP, .host = (char *) "127.0.0.1", .port = ntohs(sa.sin_port) }, .opts = { .timeout_usec = 300000 } };
                _cleanup_(ks_probe_freep) ks_probe *c = NULL;
                outcome o = {};

                ASSERT_EQ(new_probe(&spec, &c), 0);
                ASSERT_EQ(ks_probe_start(c, loop, 0, on_done, &o), 0);
                ASSERT_TRUE(ks_probe_in_flight(c));
                ks_probe_cancel(c);
                ASSERT_TRUE(!ks_probe_in_flight(c));
                ASSERT_EQ(sd_event_run(event, 400000) >= 0, 1);
                ASSERT_TRUE(!o.done);
        }

        for (size_t i = 0; i < n_fill; i++)
                close(fill[i]);
        close(lfd);
}

/* A finished check leaves curl's timer armed for its old deadline; a hanging check started after
 * it, with a later deadline, must still time out at its own (curl re-arms its timer after a
 * premature timeout call). */
static void test_timeout_after_stale_timer(void) {
        char u1[128], u2[128];
        test_spec quick = { .check = { .type = KS_CHECK_HTTP, .url = u1 }, .opts = { .timeout_usec = 300000 } };
        test_spec hang = { .check = { .type = KS_CHECK_HTTP, .url = u2 }, .opts = { .timeout_usec = 800000 } };
        _cleanup_(ks_probe_freep) ks_probe *a = NULL, *b = NULL;
        outcome oa = {}, ob = {};
        uint64_t t0;

        url(u1, sizeof u1, "/ok");
        url(u2, sizeof u2, "/hang");
        ASSERT_EQ(new_probe(&quick, &a), 0);
        ASSERT_EQ(new_probe(&hang, &b), 0);
        ASSERT_EQ(ks_probe_start(a, loop, 0, on_done, &oa), 0);
        run_until((outcome *[]) { &oa }, 1);
        ASSERT_TRUE(oa.result.passed);
        t0 = now_usec();
        ASSERT_EQ(ks_probe_start(b, loop, 0, on_done, &ob), 0);
        run_until((outcome *[]) { &ob }, 1);
        ASSERT_TRUE(!ob.result.passed);
        ASSERT_TRUE(strstr(ob.result.reason, "timed out") != NULL);
        ASSERT_TRUE(ob.finished_usec - t0 >= 790000);
        ASSERT_TRUE(ob.finished_usec - t0 < 1500000);
}

/* First of all: libcurl is loaded by the first check that needs it, not by the loop, by creating
 * a check (headers and POST included) or by native checks (HTTP and TCP to an address); a check
 * of a host name needs it. The test binary does not link libcurl, or the first assertion fails. */
static void test_curl_on_demand(void) {
        static ks_kv h[] = { { (char *) "X-Token", (char *) "secret" } };
        char u[128], native_url[128];
        test_spec http = { .check = { .type = KS_CHECK_HTTP, .url = u, .headers = h, .n_headers = 1, .method = (char *) "POST" }, .opts = { .timeout_usec = 2000000 } };
        test_spec native = { .check = { .type = KS_CHECK_HTTP, .url = native_url, .headers = h, .n_headers = 1 }, .opts = { .timeout_usec = 2000000 } };
        test_spec tcp = { .check = { .type = KS_CHECK_TCP, .host = (char *) "127.0.0.1", .port = server_port }, .opts = { .timeout_usec = 1000000 } };
        _cleanup_(ks_probe_freep) ks_probe *a = NULL, *b = NULL, *n = NULL;
        outcome oa = {}, ob = {}, on = {};

        snprintf(u, sizeof u, "http://localhost:%u/ok", server_port);
        snprintf(native_url, sizeof native_url, "http://127.0.0.1:%u/ok", server_port);
        ASSERT_TRUE(!ks_test_mapped(KS_LIBCURL_SONAME));
        ASSERT_EQ(new_probe(&http, &a), 0);
        ASSERT_EQ(new_probe(&tcp, &b), 0);
        ASSERT_EQ(new_probe(&native, &n), 0);
        ASSERT_EQ(ks_probe_start(b, loop, 0, on_done, &ob), 0);
        ASSERT_EQ(ks_probe_start(n, loop, 0, on_done, &on), 0);
        run_until((outcome *[]) { &ob, &on }, 2);
        ASSERT_TRUE(ob.result.passed);
        ASSERT_TRUE(on.result.passed);
        ASSERT_EQ(on.result.http_status, 200);
        ASSERT_TRUE(!ks_check_loop_loaded(loop));
        ASSERT_TRUE(!ks_test_mapped(KS_LIBCURL_SONAME));

        ASSERT_EQ(ks_probe_start(a, loop, 0, on_done, &oa), 0);
        ASSERT_TRUE(ks_check_loop_loaded(loop));
        ASSERT_TRUE(ks_test_mapped(KS_LIBCURL_SONAME));
        run_until((outcome *[]) { &oa }, 1);
        ASSERT_TRUE(oa.result.passed);
        ASSERT_EQ(oa.result.http_status, 200);
}

/* In a child process with a loop of its own (the failure to load is process-wide): a check that
 * needs libcurl cannot start, says why, and a check that does not need it still runs. */
static void test_curl_unavailable(void) {
        static const char missing[] = "libkservice-test-does-not-exist.so.9";
        test_spec https = { .check = { .type = KS_CHECK_HTTP, .url = (char *) "https://127.0.0.1:1/ok" }, .opts = { .timeout_usec = 1000000 } };
        test_spec tcp = { .check = { .type = KS_CHECK_TCP, .host = (char *) "127.0.0.1", .port = server_port }, .opts = { .timeout_usec = 1000000 } };
        _cleanup_(ks_probe_freep) ks_probe *a = NULL, *b = NULL;
        outcome ob = {};

        ASSERT_EQ(setenv("KS_CURL_SONAME", missing, 1), 0);
        ASSERT_TRUE(sd_event_new(&event) >= 0);
        ASSERT_EQ(ks_check_loop_new(event, &loop), 0);
        ASSERT_EQ(new_probe(&https, &a), 0);
        ASSERT_EQ(new_probe(&tcp, &b), 0);

        ASSERT_EQ(ks_probe_start(a, loop, 0, on_done, NULL), -EOPNOTSUPP);
        ASSERT_TRUE(!ks_probe_in_flight(a));
        ASSERT_TRUE(ks_curl_dl_error() && strstr(ks_curl_dl_error(), missing));
        ASSERT_EQ(ks_probe_start(a, loop, 0, on_done, NULL), -EOPNOTSUPP);

        ASSERT_EQ(ks_probe_start(b, loop, 0, on_done, &ob), 0);
        run_until((outcome *[]) { &ob }, 1);
        ASSERT_TRUE(ob.result.passed);
        ASSERT_TRUE(!ks_test_mapped(KS_LIBCURL_SONAME));

        a = ks_probe_free(a);
        b = ks_probe_free(b);
        loop = ks_check_loop_free(loop);
        event = sd_event_unref(event);
}

/* --curl-only: checks created after it run through libcurl even to 127.0.0.1, which shows in
 * the reason for a garbage answer (curl's words, not the native parser's); checks created before
 * keep their way. */
static void test_curl_only(void) {
        char u[128];
        test_spec spec = { .check = { .type = KS_CHECK_HTTP, .url = u }, .opts = { .timeout_usec = 2000000 } };
        _cleanup_(ks_probe_freep) ks_probe *before = NULL, *after = NULL;
        outcome o1 = {}, o2 = {};

        snprintf(u, sizeof u, "http://127.0.0.1:%u/garbage", server_port);
        ASSERT_EQ(new_probe(&spec, &before), 0);
        ks_probe_set_curl_only(true);
        ASSERT_EQ(new_probe(&spec, &after), 0);
        ks_probe_set_curl_only(false);
        ASSERT_EQ(ks_probe_start(before, loop, 0, on_done, &o1), 0);
        ASSERT_EQ(ks_probe_start(after, loop, 0, on_done, &o2), 0);
        run_until((outcome *[]) { &o1, &o2 }, 2);
        ASSERT_TRUE(!o1.result.passed && !o2.result.passed);
        fprintf(stderr, "garbage, native: %s; curl only: %s\n", o1.result.reason, o2.result.reason);
        ASSERT_STREQ(o1.result.reason, "invalid HTTP response: malformed status line");
        ASSERT_TRUE(strncmp(o2.result.reason, "invalid HTTP response", 21) != 0);
}

/* A probe keeps its own copy of the check: the definition may go (a reload) while it lives. */
static void test_check_copy(void) {
        static ks_kv h1[] = { { (char *) "A", (char *) "b" } };
        static ks_status_range r[] = { { 200, 204 } };
        ks_check a = { .type = KS_CHECK_HTTP, .url = (char *) "http://x/", .headers = h1, .n_headers = 1,
                       .expect_status = r, .n_expect_status = 1, .expect_body = (char *) "ok" }, b, c;
        ks_probe_options o = { .timeout_usec = 1000000 };
        _cleanup_(ks_probe_freep) ks_probe *p = NULL;

        ASSERT_EQ(ks_check_copy(&a, &b), 0);
        ASSERT_TRUE(ks_check_equal(&a, &b));
        ASSERT_TRUE(b.url != a.url && b.headers != a.headers && b.expect_status != a.expect_status);
        b.port = 5;
        ASSERT_TRUE(!ks_check_equal(&a, &b));
        b.port = 0;
        ASSERT_EQ(ks_check_copy(&a, &c), 0);
        free(c.headers[0].value);
        c.headers[0].value = strdup("c");
        ASSERT_TRUE(!ks_check_equal(&a, &c));
        ks_check_done(&c);

        ASSERT_EQ(ks_probe_new(&b, &o, &p), 0);
        ks_check_done(&b);
        ASSERT_STREQ(ks_probe_get_check(p)->url, "http://x/");
        ASSERT_STREQ(ks_probe_get_check(p)->headers[0].value, "b");
        ASSERT_EQ(ks_probe_get_check(p)->expect_status[0].hi, 204);
}

int main(void) {
        pid_t pid;
        int status;

        signal(SIGPIPE, SIG_IGN);
        start_server();

        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                test_curl_unavailable();
                printf("without libcurl: %u checks passed\n", ks_test_checks);
                fflush(stdout);
                _exit(0);
        }
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

        ASSERT_TRUE(sd_event_new(&event) >= 0);
        ASSERT_EQ(ks_check_loop_new(event, &loop), 0);

        test_curl_on_demand();
        for (int i = 0; i < 2; i++) {
                host = i == 0 ? "127.0.0.1" : "localhost";
                test_http();
                test_hang_does_not_delay_others();
                test_reuse();
                test_timeout_after_stale_timer();
        }
        host = "127.0.0.1";
        test_tcp();
        test_tcp_timeout();
        test_curl_only();
        test_check_copy();

        ASSERT_EQ(ks_check_loop_running(loop), 0);
        loop = ks_check_loop_free(loop);
        event = sd_event_unref(event);
        stop_server();
        ks_curl_dl_cleanup();
        TEST_DONE();
}
