/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks notifyd runs itself: an http:// URL or a TCP check whose host is an IP address. A
 * non-blocking socket in the loop's io set, the request written at once (on loopback the
 * handshake is done when connect() returns), the answer parsed as it arrives (http-response.c),
 * and with reuse the connection kept, watched while idle so that a close by the server is
 * noticed. A check then costs a few system calls where libcurl 7.88 makes about fifteen
 * (measured: bench/notifyd).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe-internal.h"
#include "time-util.h"

/* Read at once from a check's socket: a health answer fits. */
#define READ_BYTES 4096

static int native_init(ks_probe *c) {
        const ks_check *k = &c->check;
        ks_probe_native *n = &c->native;
        int r;

        if (k->type == KS_CHECK_TCP)
                return ks_http_address(AF_UNSPEC, k->host, k->port, &n->addr);
        if (k->follow_redirects)
                return -EPROTONOSUPPORT;
        r = ks_http_request_build(k->url, k->method, k->headers, k->n_headers, c->opts.reuse_connection, &n->req);
        if (r < 0)
                return r;
        n->addr = n->req.addr;
        return 0;
}

static void close_conn(ks_probe *c) {
        if (c->native.io)
                ks_io_set_close(c->native.io, &c->native.conn);
        c->native.connected = false;
}

static void native_end_run(ks_probe *c) {
        if (c->native.io)
                ks_io_set_disarm(c->native.io, &c->native.deadline);
}

static void native_cancel(ks_probe *c) {
        /* A half-read answer would be the next run's: the connection goes with the run. */
        close_conn(c);
}

static void native_done(ks_probe *c) {
        close_conn(c);
        ks_http_request_done(&c->native.req);
        c->native.resp = mfree(c->native.resp);
}

/* Ends a run: keep says whether its connection may carry the next run. */
static void finish(ks_probe *c, ks_probe_result *result, bool keep) {
        result->latency_usec = ks_now_usec() - c->started_usec;
        /* An answer read after the deadline (the loop ran late, and the socket came before the
         * timer) came too late all the same, as curl judges it. */
        if (!result->timed_out && result->latency_usec > c->run_timeout_usec) {
                *result = (ks_probe_result) { .latency_usec = result->latency_usec };
                probe_timed_out(c, false, result);
                keep = false;
        }
        if (!keep)
                close_conn(c);
        probe_finish(c, result);
}

static void fail(ks_probe *c, const char *fmt, ...) _printf_(2, 3);
static void fail(ks_probe *c, const char *fmt, ...) {
        ks_probe_result result = {};
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(result.reason, sizeof result.reason, fmt, ap);
        va_end(ap);
        finish(c, &result, false);
}

static void connect_failed(ks_probe *c, int error) {
        char a[INET6_ADDRSTRLEN] = "?";
        const ks_sockaddr *q = &c->native.addr;
        const void *ip = q->sa.sa_family == AF_INET6 ? (const void *) &q->in6.sin6_addr :
                                                       (const void *) &q->in.sin_addr;
        uint16_t port = ntohs(q->sa.sa_family == AF_INET6 ? q->in6.sin6_port : q->in.sin_port);

        (void) inet_ntop(q->sa.sa_family, ip, a, sizeof a);
        fail(c, "Failed to connect to %s port %u: %s", a, port, strerror(error));
}

static int run_start(ks_probe *c);

/* A kept connection that failed before any answer: the server closed it while idle, which the
 * run could not know. Once, on a new connection; a new connection's failure is the check's. */
static bool retry_fresh(ks_probe *c) {
        if (!c->native.reused || c->native.got_bytes)
                return false;
        close_conn(c);
        c->native.reused = false;
        if (run_start(c) < 0)
                return false;
        return true;
}

static int on_body(const char *data, size_t n, void *userdata) {
        return probe_take_body(userdata, data, n);
}

static void http_answered(ks_probe *c) {
        ks_probe_result result = {};
        bool keep = c->opts.reuse_connection && c->native.resp->keep_alive;

        probe_judge_http(c, c->native.resp->status, &result);
        finish(c, &result, keep);
}

static void http_parse_failed(ks_probe *c, int r) {
        if (r == -EFBIG)
                fail(c, "response larger than %zu bytes", probe_max_response(c));
        else if (r == -ENOMEM)
                fail(c, "out of memory");
        else
                fail(c, "invalid HTTP response: %s", c->native.resp->error ?: strerror(-r));
}

static void http_read(ks_probe *c) {
        ks_probe_native *n = &c->native;
        char buf[READ_BYTES];

        /* At most 16 reads per wakeup: an endpoint streaming a large body (max_response_bytes may
         * be 64M) gets its turn again with the next wakeup instead of holding up every other
         * check until it is done. */
        for (unsigned k = 0; k < 16; k++) {
                ssize_t got = recv(n->conn.fd, buf, sizeof buf, 0);
                int r;

                if (got < 0) {
                        int e = errno;
                        if (e == EAGAIN || e == EINTR)
                                return;
                        if (retry_fresh(c))
                                return;
                        fail(c, "receive failed: %s", strerror(e));
                        return;
                }
                if (got == 0) {
                        if (!n->got_bytes) {
                                if (!retry_fresh(c))
                                        fail(c, "Empty reply from server");
                                return;
                        }
                        r = ks_http_response_eof(n->resp);
                        if (r < 0)
                                http_parse_failed(c, r);
                        else
                                http_answered(c);
                        return;
                }
                n->got_bytes = true;
                r = ks_http_response_feed(n->resp, buf, (size_t) got, on_body, c);
                if (r < 0) {
                        http_parse_failed(c, r);
                        return;
                }
                if (n->resp->complete) {
                        /* Bytes after the answer are not ours to read: the connection is not kept. */
                        if ((size_t) r < (size_t) got)
                                n->resp->keep_alive = false;
                        http_answered(c);
                        return;
                }
                /* A short read took all there was: wait for more instead of asking again. */
                if ((size_t) got < sizeof buf)
                        return;
        }
}

/* Writes what is left of the request. 1: all written, 0: the socket is full (or the handshake is
 * still going), negative errno: failed. */
static int http_send(ks_probe *c, int fd) {
        ks_probe_native *n = &c->native;

        while (n->sent < n->req.size) {
                ssize_t k = send(fd, n->req.data + n->sent, n->req.size - n->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (k < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        return -errno;
                }
                n->sent += (size_t) k;
                n->connected = true;
        }
        return 1;
}

static void on_timeout(ks_io_deadline *d, void *userdata);

/* The deadline of the run: the connect timeout until the handshake is done, then the whole. */
static int arm_timer(ks_probe *c) {
        uint64_t t = c->run_timeout_usec;

        if (!c->native.connected && c->opts.connect_timeout_usec)
                t = MIN(t, c->opts.connect_timeout_usec);
        /* From the start of the run, not the loop's cached time, which may be from long before. */
        return ks_io_set_arm(c->native.io, &c->native.deadline, c->started_usec + t, on_timeout, c);
}

static void tcp_connected(ks_probe *c) {
        ks_probe_result result = { .passed = true };

        snprintf(result.reason, sizeof result.reason, "TCP connected");
        finish(c, &result, false);
}

/* What the socket of a run says, by the phase the run is in. */
static void on_conn(ks_io_watch *w, uint32_t revents, void *userdata) {
        ks_probe *c = userdata;
        ks_probe_native *n = &c->native;
        int r;

        if (!c->loop) {
                /* An idle kept connection is readable only when the server closed it (or talks
                 * out of turn): either way it cannot carry the next request. */
                close_conn(c);
                return;
        }
        if (n->conn_errno != 0) {
                connect_failed(c, n->conn_errno);
                return;
        }
        if (c->check.type == KS_CHECK_TCP) {
                int error = 0;
                socklen_t len = sizeof error;
                if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                        error = errno;
                if (error != 0)
                        connect_failed(c, error);
                else
                        tcp_connected(c);
                return;
        }
        if (n->sent < n->req.size) {
                bool was_connected = n->connected;
                r = http_send(c, w->fd);
                if (r < 0) {
                        if (retry_fresh(c))
                                return;
                        if (!was_connected)
                                connect_failed(c, -r);
                        else
                                fail(c, "send failed: %s", strerror(-r));
                        return;
                }
                if (!was_connected && n->connected && arm_timer(c) < 0) {
                        fail(c, "cannot arm the timeout");
                        return;
                }
                if (r == 0)
                        return;
                if (ks_io_set_modify(n->io, &n->conn, EPOLLIN) < 0) {
                        fail(c, "cannot watch the connection");
                        return;
                }
                return;
        }
        http_read(c);
}

static void on_timeout(ks_io_deadline *d, void *userdata) {
        ks_probe *c = userdata;
        ks_probe_result result = {};

        probe_timed_out(c, !c->native.connected, &result);
        finish(c, &result, false);
}

/* Starts a run on the kept connection or a new one. Failures of the connection itself are
 * reported from the loop like any other; a negative return is a local error. */
static int run_start(ks_probe *c) {
        ks_probe_native *n = &c->native;
        uint32_t events;
        int fd, r;

        n->sent = 0;
        n->got_bytes = false;
        n->conn_errno = 0;
        if (n->resp)
                ks_http_response_init(n->resp, n->req.head);
        if (n->conn.fd >= 0) {
                n->reused = true;
                r = http_send(c, n->conn.fd);
                if (r == 1)
                        return 0;       /* the kept watch is for EPOLLIN already */
                if (r == 0)
                        return ks_io_set_modify(n->io, &n->conn, EPOLLOUT);
                /* Closed by the server in the meantime: a new connection. */
                close_conn(c);
                n->reused = false;
                n->sent = 0;
        }

        fd = socket(n->addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0)
                return -errno;
        if (connect(fd, &n->addr.sa, n->addr.len) < 0 && errno != EINPROGRESS)
                n->conn_errno = errno;
        /* On loopback the handshake is done by now: the request goes out at once, and the socket
         * joins the set with the events of the next phase, one system call. A failure is reported
         * from the loop: a failed socket is writable (and hung up) at once. */
        events = EPOLLOUT;
        if (n->conn_errno == 0 && c->check.type == KS_CHECK_HTTP) {
                r = http_send(c, fd);
                if (r < 0)
                        n->conn_errno = -r;
                else if (r == 1)
                        events = EPOLLIN;
        }
        r = ks_io_set_add(n->io, &n->conn, fd, events, on_conn, c);
        if (r < 0) {
                close(fd);
                return r;
        }
        return 0;
}

static int native_start(ks_probe *c, ks_check_loop *loop) {
        ks_probe_native *n = &c->native;
        int r;

        if (!n->io)
                n->io = ks_check_loop_get_io_set(loop);
        if (c->check.type == KS_CHECK_HTTP && !n->resp) {
                n->resp = malloc(sizeof *n->resp);
                if (!n->resp)
                        return -ENOMEM;
                ks_http_response_init(n->resp, n->req.head);
        }
        n->connected = n->conn.fd >= 0;
        r = run_start(c);
        if (r >= 0)
                r = arm_timer(c);
        if (r < 0) {
                close_conn(c);
                return r;
        }
        return 0;
}

const ks_probe_backend ks_probe_native_backend = {
        .init = native_init,
        .start = native_start,
        .cancel = native_cancel,
        .end_run = native_end_run,
        .done = native_done,
};
