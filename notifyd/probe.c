/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP and TCP health checks, run two ways.
 *
 * Natively, for the common case: an http:// URL or a TCP check whose host is an IP address. A
 * non-blocking socket in the loop's io set, the request written at once (on loopback the handshake
 * is done when connect() returns), the answer parsed as it arrives (http-response.c), and with
 * reuse the connection kept, watched while idle so that a close by the server is noticed. A check
 * then costs a few system calls where libcurl 7.88 makes about fifteen (measured: bench/notifyd).
 *
 * Through libcurl for everything else (https, host names, redirects, user info): each run takes
 * an easy handle from the loop's pool, configures it and gives it back when the run ends (memory
 * scales with the runs in flight, not with the number of services); a check that allows
 * connection reuse finds its connection in the multi's shared connection cache. A TCP check to a
 * host name is an easy handle with CURLOPT_CONNECT_ONLY, so that curl resolves it without
 * blocking the loop.
 *
 * libcurl is called only through curl-dl.h's table and only by a run that needs it: creating a
 * check loads nothing (a curl check's header list and what its URL's host is are made at its
 * first run), so a notifyd whose checks are all native never maps libcurl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "http-request.h"
#include "http-response.h"
#include "curl-dl.h"
#include "io-set.h"
#include "time-util.h"
#include "probe.h"

/* Read at once from a native check's socket: a health answer fits. */
#define NATIVE_READ_BYTES 4096

struct ks_probe {
        ks_check check;                 /* a copy of the definition's */
        ks_probe_options opts;
        CURL *easy;                     /* only while a run is in flight */
        ks_curl_loop *pool;             /* where easy came from and goes back to */
        struct curl_slist *headers;     /* made at the first curl run (prepare_curl) */
        char *tcp_url;                  /* what curl connects to for a TCP check to a host name */
        /* A native check: the address (and for HTTP the request) when native is set. */
        ks_http_request native_req;
        bool native;
        ks_io_watch conn;               /* its connection; with reuse kept between runs */
        ks_io_set *io;                  /* where conn is, while it is */
        ks_io_deadline deadline;        /* of its run in flight */
        ks_http_response *resp;         /* the parser, from the first native HTTP run on */
        size_t sent;                    /* of the request, in this run */
        int conn_errno;                 /* connect()'s own failure, reported from the loop */
        bool connected;                 /* the handshake finished (in this run, or a kept one) */
        bool reused;                    /* this run started on a kept connection */
        bool got_bytes;                 /* any byte of the answer arrived */
        ks_curl_loop *loop;             /* set while a run is in flight */
        ks_curl_done done_glue;
        ks_probe_done_t done;
        void *userdata;
        uint64_t started_usec;
        uint64_t run_timeout_usec;
        size_t received;                /* body bytes seen in this run */
        char *body;                     /* the first max_response bytes, when body_contains is set */
        size_t body_len, body_size;
        bool too_large;
        bool ip_literal;                /* the URL's host is an address: nothing to resolve */
        bool curl_prepared;             /* headers and ip_literal are made (needs libcurl) */
        unsigned key;                   /* the connection cache its connection stays in */
        char *errbuf;                   /* CURL_ERROR_SIZE bytes, only while a run is in flight */
};

void ks_probe_describe(const ks_probe *c, char *buf, size_t size) {
        ks_check_describe(&c->check, buf, size);
}

static size_t max_response(const ks_probe *c) {
        return (size_t) c->check.max_response_bytes ?: KS_PROBE_DEFAULT_MAX_RESPONSE;
}

/* Takes n more body bytes of the answer, by either path: counted against the cap, and kept
 * when the body is to be inspected. -EFBIG over the cap, -ENOMEM. */
static int take_body(ks_probe *c, const char *data, size_t n) {
        size_t cap = max_response(c);

        if (n > cap - MIN(c->received, cap))
                return -EFBIG;
        c->received += n;
        if (c->check.expect_body) {
                /* Grown as the body arrives: health answers are small, the cap is not. */
                if (c->body_len + n + 1 > c->body_size) {
                        size_t want = MIN(MAX(c->body_size * 2, MAX(c->body_len + n + 1, (size_t) 256)), cap + 1);
                        char *b = realloc(c->body, want);
                        if (!b)
                                return -ENOMEM;
                        c->body = b;
                        c->body_size = want;
                }
                memcpy(c->body + c->body_len, data, n);
                c->body_len += n;
                c->body[c->body_len] = 0;
        }
        return 0;
}

static size_t write_callback(char *ptr, size_t size, size_t nmemb, void *userdata) {
        ks_probe *c = userdata;
        size_t n = size * nmemb;
        int r = take_body(c, ptr, n);

        /* Returning less than n makes curl abort with CURLE_WRITE_ERROR: a health endpoint that
         * streams without end must not eat our memory or our time. */
        if (r == -EFBIG)
                c->too_large = true;
        return r < 0 ? 0 : n;
}

static long ms_ceil(uint64_t usec) {
        return (long) ((usec + 999) / 1000);
}

static int configure(ks_probe *c, uint64_t timeout) {
        const ks_check *s = &c->check;
        CURL *e = c->easy;
        uint64_t connect_timeout = c->opts.connect_timeout_usec ? MIN(c->opts.connect_timeout_usec, timeout) : timeout;
        bool ok = true;

#define SET(opt, val) ok = ok && sym_curl_easy_setopt(e, opt, val) == CURLE_OK
        SET(CURLOPT_PRIVATE, &c->done_glue);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_ERRORBUFFER, c->errbuf);
        SET(CURLOPT_TIMEOUT_MS, ms_ceil(timeout));
        SET(CURLOPT_CONNECTTIMEOUT_MS, ms_ceil(connect_timeout));
        SET(CURLOPT_NOPROGRESS, 1L);
        /* Answers are capped at max_response_bytes; curl's default 16 KiB receive buffer per
         * handle is more than a health answer needs. */
        SET(CURLOPT_BUFFERSIZE, (long) KS_PROBE_RECV_BUFFER);
        /* Health checks never go through a proxy from the environment. */
        SET(CURLOPT_PROXY, "");
#if LIBCURL_VERSION_NUM >= 0x075500
        SET(CURLOPT_PROTOCOLS_STR, "http,https");
        SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
        SET(CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
        SET(CURLOPT_REDIR_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif

        if (s->type == KS_CHECK_TCP) {
                SET(CURLOPT_URL, c->tcp_url);
                SET(CURLOPT_CONNECT_ONLY, 1L);
                SET(CURLOPT_FRESH_CONNECT, 1L);
                SET(CURLOPT_FORBID_REUSE, 1L);
        } else {
                SET(CURLOPT_URL, s->url);
                SET(CURLOPT_WRITEFUNCTION, write_callback);
                SET(CURLOPT_WRITEDATA, c);
                SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) max_response(c));
                SET(CURLOPT_FOLLOWLOCATION, s->follow_redirects ? 1L : 0L);
                if (s->follow_redirects)
                        SET(CURLOPT_MAXREDIRS, 5L);
                SET(CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
                SET(CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
                SET(CURLOPT_USERAGENT, "kservice-notifyd/" PACKAGE_VERSION);
                if (!c->opts.reuse_connection) {
                        SET(CURLOPT_FRESH_CONNECT, 1L);
                        SET(CURLOPT_FORBID_REUSE, 1L);
                }
                /* curl caches every host:port it connects to, addresses included, and walks the
                 * whole cache on each transfer to expire entries: with a thousand services on a
                 * thousand ports that walk was an eighth of a check's CPU. An address needs no
                 * cache; a name keeps curl's default. */
                if (c->ip_literal)
                        SET(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
                if (s->method && streq(s->method, "HEAD"))
                        SET(CURLOPT_NOBODY, 1L);
                else if (s->method && !streq(s->method, "GET"))
                        SET(CURLOPT_CUSTOMREQUEST, s->method);
                if (c->headers)
                        SET(CURLOPT_HTTPHEADER, c->headers);
        }
#undef SET
        return ok ? 0 : -EINVAL;
}

static void curl_url_cleanupp(CURLU **u) {
        sym_curl_url_cleanup(*u);
}

static void curl_freep(char **p) {
        sym_curl_free(*p);
}

static bool url_host_is_address(const char *url) {
        _cleanup_(curl_url_cleanupp) CURLU *u = sym_curl_url();
        _cleanup_(curl_freep) char *host = NULL;
        struct in6_addr a;
        size_t n;

        if (!u || sym_curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            sym_curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
                return false;
        if (inet_pton(AF_INET, host, &a) == 1)
                return true;
        /* curl gives an IPv6 host in brackets, possibly with a zone id. */
        n = strlen(host);
        if (n < 3 || host[0] != '[' || host[n - 1] != ']')
                return false;
        host[n - 1] = 0;
        host[strcspn(host, "%")] = 0;
        return inet_pton(AF_INET6, host + 1, &a) == 1;
}

static int slist_add(struct curl_slist **l, const char *s) {
        struct curl_slist *n = sym_curl_slist_append(*l, s);

        if (!n)
                return -ENOMEM;
        *l = n;
        return 0;
}

/* What a check's curl runs need from libcurl itself, made at its first one (libcurl is loaded by
 * then) and kept for the next ones. */
static int prepare_curl(ks_probe *c) {
        const ks_check *check = &c->check;
        struct curl_slist *headers = NULL;

        if (c->curl_prepared)
                return 0;
        for (size_t i = 0; i < check->n_headers; i++) {
                _cleanup_free_ char *h = NULL;

                if (asprintf(&h, "%s: %s", check->headers[i].key, check->headers[i].value) < 0 ||
                    slist_add(&headers, h) < 0)
                        goto fail;
        }
        /* As the native request says: a POST or PUT without a body says so (nginx answers 411
         * otherwise); curl's custom method sends no length. */
        if (check->type == KS_CHECK_HTTP && check->method && (streq(check->method, "POST") || streq(check->method, "PUT")) &&
            !ks_http_find_header(check->headers, check->n_headers, "Content-Length") &&
            slist_add(&headers, "Content-Length: 0") < 0)
                goto fail;
        if (check->type == KS_CHECK_HTTP)
                c->ip_literal = url_host_is_address(check->url);
        c->headers = headers;
        c->curl_prepared = true;
        return 0;
fail:
        if (headers)
                sym_curl_slist_free_all(headers);
        return -ENOMEM;
}

static bool curl_only;

void ks_probe_set_curl_only(bool b) {
        curl_only = b;
}

int ks_probe_new(const ks_check *check, const ks_probe_options *opts, ks_probe **ret) {
        static unsigned next_key;
        _cleanup_(ks_probe_freep) ks_probe *c = NULL;
        const ks_check *k;
        int r;

        if (check->type == KS_CHECK_HTTP ? !check->url : (!check->host || check->port == 0))
                return -EINVAL;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        r = ks_check_copy(check, &c->check);
        if (r < 0) {
                free(TAKE_PTR(c));
                return r;
        }
        k = &c->check;
        c->opts = *opts;
        c->conn = (ks_io_watch) KS_IO_WATCH_INIT;
        c->key = next_key++;
        if (k->type == KS_CHECK_TCP && !curl_only)
                c->native = ks_http_address(AF_UNSPEC, k->host, k->port, &c->native_req) >= 0;
        else if (k->type == KS_CHECK_HTTP && !curl_only && !k->follow_redirects) {
                r = ks_http_request_build(k->url, k->method, k->headers, k->n_headers, opts->reuse_connection,
                                          &c->native_req);
                if (r < 0 && r != -EPROTONOSUPPORT)
                        return r;
                c->native = r >= 0;
        }
        if (k->type == KS_CHECK_TCP && !c->native) {
                bool v6 = strchr(k->host, ':');
                if (asprintf(&c->tcp_url, "http://%s%s%s:%u/", v6 ? "[" : "", k->host, v6 ? "]" : "",
                             k->port) < 0) {
                        c->tcp_url = NULL;
                        return -ENOMEM;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static void end_run(ks_probe *c);

ks_probe *ks_probe_free(ks_probe *c) {
        if (!c)
                return NULL;
        ks_probe_cancel(c);
        end_run(c);
        if (c->io)
                ks_io_set_close(c->io, &c->conn);
        ks_http_request_done(&c->native_req);
        free(c->resp);
        if (c->headers)
                sym_curl_slist_free_all(c->headers);
        free(c->tcp_url);
        ks_check_done(&c->check);
        free(c->body);
        return mfree(c);
}

const ks_check *ks_probe_get_check(const ks_probe *c) {
        return &c->check;
}

bool ks_probe_in_flight(const ks_probe *c) {
        return c->loop != NULL;
}

static void format_duration(uint64_t usec, char *buf, size_t size) {
        if (usec % 1000000 == 0)
                snprintf(buf, size, "%" PRIu64 "s", usec / 1000000);
        else
                snprintf(buf, size, "%" PRIu64 "ms", (usec + 999) / 1000);
}

/* The verdict on an HTTP answer, by either path: its status, then its body. */
static void judge_http(ks_probe *c, long status, ks_probe_result *r) {
        const ks_check *s = &c->check;
        char expect[64];

        r->http_status = status;
        if (!ks_status_ranges_match(s->expect_status, s->n_expect_status, status)) {
                ks_status_ranges_format(s->expect_status, s->n_expect_status, expect, sizeof expect);
                snprintf(r->reason, sizeof r->reason, "HTTP %ld (expected %s)", status, expect);
                return;
        }
        if (s->expect_body && !strstr(c->body ?: "", s->expect_body)) {
                snprintf(r->reason, sizeof r->reason, "HTTP %ld, body lacks \"%.64s\"", status, s->expect_body);
                return;
        }
        r->passed = true;
        snprintf(r->reason, sizeof r->reason, "HTTP %ld", status);
}

static void timed_out(ks_probe *c, bool connecting, ks_probe_result *r) {
        uint64_t t = c->run_timeout_usec;
        char d[32];

        if (connecting && c->opts.connect_timeout_usec)
                t = MIN(t, c->opts.connect_timeout_usec);
        r->timed_out = true;
        format_duration(t, d, sizeof d);
        snprintf(r->reason, sizeof r->reason, "%stimed out after %s", connecting ? "connect " : "", d);
}

static void evaluate(ks_probe *c, CURLcode code, ks_probe_result *r) {
        long status = 0;

        if (code == CURLE_OPERATION_TIMEDOUT) {
                /* curl's error buffer says which of the two timeouts hit. */
                if (strncmp(c->errbuf, "Connection", 10) == 0 || strncmp(c->errbuf, "Failed to connect", 17) == 0) {
                        r->timed_out = true;
                        snprintf(r->reason, sizeof r->reason, "connect timed out (%.120s)", c->errbuf);
                } else
                        timed_out(c, false, r);
                return;
        }
        if (c->too_large || code == CURLE_FILESIZE_EXCEEDED) {
                snprintf(r->reason, sizeof r->reason, "response larger than %zu bytes", max_response(c));
                return;
        }
        if (code != CURLE_OK) {
                snprintf(r->reason, sizeof r->reason, "%.180s",
                         c->errbuf[0] ? c->errbuf : sym_curl_easy_strerror(code));
                return;
        }
        if (c->check.type == KS_CHECK_TCP) {
                r->passed = true;
                snprintf(r->reason, sizeof r->reason, "TCP connected");
                return;
        }
        sym_curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &status);
        judge_http(c, status, r);
}

/* Drops what only a run needs: its easy handle (back to the pool), its body buffer, the parser,
 * and a native connection that is not to be kept. */
static void end_run(ks_probe *c) {
        if (c->io)
                ks_io_set_disarm(c->io, &c->deadline);
        if (c->easy) {
                ks_curl_loop_give_easy(c->pool, c->easy);
                c->easy = NULL;
                c->pool = NULL;
        }
        c->body = mfree(c->body);
        c->body_len = c->body_size = 0;
        c->errbuf = mfree(c->errbuf);
}

static void on_done(CURL *easy, CURLcode code, void *userdata) {
        ks_probe *c = userdata;
        ks_probe_result result = {};
        ks_probe_done_t done = c->done;

        c->loop = NULL;
        result.latency_usec = ks_now_usec() - c->started_usec;
        evaluate(c, code, &result);
        end_run(c);
        c->done = NULL;
        /* Last: the callback may free or restart the check. */
        done(c, &result, c->userdata);
}

/* ---- native checks ---- */

static void close_conn(ks_probe *c) {
        if (c->io)
                ks_io_set_close(c->io, &c->conn);
        c->connected = false;
}

/* Ends a native run: keep says whether its connection may carry the next run. */
static void native_finish(ks_probe *c, ks_probe_result *result, bool keep) {
        ks_probe_done_t done = c->done;

        c->loop = NULL;
        result->latency_usec = ks_now_usec() - c->started_usec;
        /* An answer read after the deadline (the loop ran late, and the socket came before the
         * timer) came too late all the same, as curl judges it. */
        if (!result->timed_out && result->latency_usec > c->run_timeout_usec) {
                *result = (ks_probe_result) { .latency_usec = result->latency_usec };
                timed_out(c, false, result);
                keep = false;
        }
        if (!keep)
                close_conn(c);
        end_run(c);
        c->done = NULL;
        /* Last: the callback may free or restart the check. */
        done(c, result, c->userdata);
}

static void native_fail(ks_probe *c, const char *fmt, ...) _printf_(2, 3);
static void native_fail(ks_probe *c, const char *fmt, ...) {
        ks_probe_result result = {};
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(result.reason, sizeof result.reason, fmt, ap);
        va_end(ap);
        native_finish(c, &result, false);
}

static void native_connect_failed(ks_probe *c, int error) {
        char a[INET6_ADDRSTRLEN] = "?";
        const ks_http_request *q = &c->native_req;
        const void *ip = q->addr.sa.sa_family == AF_INET6 ? (const void *) &q->addr.in6.sin6_addr :
                                                             (const void *) &q->addr.in.sin_addr;
        uint16_t port = ntohs(q->addr.sa.sa_family == AF_INET6 ? q->addr.in6.sin6_port : q->addr.in.sin_port);

        (void) inet_ntop(q->addr.sa.sa_family, ip, a, sizeof a);
        native_fail(c, "Failed to connect to %s port %u: %s", a, port, strerror(error));
}

static int native_start(ks_probe *c);

/* A kept connection that failed before any answer: the server closed it while idle, which the
 * run could not know. Once, on a new connection; a new connection's failure is the check's. */
static bool retry_fresh(ks_probe *c) {
        if (!c->reused || c->got_bytes)
                return false;
        close_conn(c);
        c->reused = false;
        if (native_start(c) < 0)
                return false;
        return true;
}

static int on_body(const char *data, size_t n, void *userdata) {
        return take_body(userdata, data, n);
}

static void http_answered(ks_probe *c) {
        ks_probe_result result = {};
        bool keep = c->opts.reuse_connection && c->resp->keep_alive;

        judge_http(c, c->resp->status, &result);
        native_finish(c, &result, keep);
}

static void http_parse_failed(ks_probe *c, int r) {
        if (r == -EFBIG)
                native_fail(c, "response larger than %zu bytes", max_response(c));
        else if (r == -ENOMEM)
                native_fail(c, "out of memory");
        else
                native_fail(c, "invalid HTTP response: %s", c->resp->error ?: strerror(-r));
}

static void http_read(ks_probe *c) {
        char buf[NATIVE_READ_BYTES];

        /* At most 16 reads per wakeup: an endpoint streaming a large body (max_response_bytes may
         * be 64M) gets its turn again with the next wakeup instead of holding up every other
         * check until it is done. */
        for (unsigned k = 0; k < 16; k++) {
                ssize_t n = recv(c->conn.fd, buf, sizeof buf, 0);
                int r;

                if (n < 0) {
                        int e = errno;
                        if (e == EAGAIN || e == EINTR)
                                return;
                        if (retry_fresh(c))
                                return;
                        native_fail(c, "receive failed: %s", strerror(e));
                        return;
                }
                if (n == 0) {
                        if (!c->got_bytes) {
                                if (!retry_fresh(c))
                                        native_fail(c, "Empty reply from server");
                                return;
                        }
                        r = ks_http_response_eof(c->resp);
                        if (r < 0)
                                http_parse_failed(c, r);
                        else
                                http_answered(c);
                        return;
                }
                c->got_bytes = true;
                r = ks_http_response_feed(c->resp, buf, (size_t) n, on_body, c);
                if (r < 0) {
                        http_parse_failed(c, r);
                        return;
                }
                if (c->resp->complete) {
                        /* Bytes after the answer are not ours to read: the connection is not kept. */
                        if ((size_t) r < (size_t) n)
                                c->resp->keep_alive = false;
                        http_answered(c);
                        return;
                }
                /* A short read took all there was: wait for more instead of asking again. */
                if ((size_t) n < sizeof buf)
                        return;
        }
}

/* Writes what is left of the request. 1: all written, 0: the socket is full (or the handshake is
 * still going), negative errno: failed. */
static int http_send(ks_probe *c, int fd) {
        while (c->sent < c->native_req.size) {
                ssize_t n = send(fd, c->native_req.data + c->sent, c->native_req.size - c->sent,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        return -errno;
                }
                c->sent += (size_t) n;
                c->connected = true;
        }
        return 1;
}

static void on_native_timeout(ks_io_deadline *d, void *userdata);

/* The deadline of the run: the connect timeout until the handshake is done, then the whole. */
static int arm_timer(ks_probe *c) {
        uint64_t t = c->run_timeout_usec;

        if (!c->connected && c->opts.connect_timeout_usec)
                t = MIN(t, c->opts.connect_timeout_usec);
        /* From the start of the run, not the loop's cached time, which may be from long before. */
        return ks_io_set_arm(c->io, &c->deadline, c->started_usec + t, on_native_timeout, c);
}

static void tcp_connected(ks_probe *c) {
        ks_probe_result result = { .passed = true };

        snprintf(result.reason, sizeof result.reason, "TCP connected");
        native_finish(c, &result, false);
}

/* What the socket of a run says, by the phase the run is in. */
static void on_conn(ks_io_watch *w, uint32_t revents, void *userdata) {
        ks_probe *c = userdata;
        int r;

        if (!c->loop) {
                /* An idle kept connection is readable only when the server closed it (or talks
                 * out of turn): either way it cannot carry the next request. */
                close_conn(c);
                return;
        }
        if (c->conn_errno != 0) {
                native_connect_failed(c, c->conn_errno);
                return;
        }
        if (c->check.type == KS_CHECK_TCP) {
                int error = 0;
                socklen_t len = sizeof error;
                if (getsockopt(w->fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                        error = errno;
                if (error != 0)
                        native_connect_failed(c, error);
                else
                        tcp_connected(c);
                return;
        }
        if (c->sent < c->native_req.size) {
                bool was_connected = c->connected;
                r = http_send(c, w->fd);
                if (r < 0) {
                        if (retry_fresh(c))
                                return;
                        if (!was_connected)
                                native_connect_failed(c, -r);
                        else
                                native_fail(c, "send failed: %s", strerror(-r));
                        return;
                }
                if (!was_connected && c->connected && arm_timer(c) < 0) {
                        native_fail(c, "cannot arm the timeout");
                        return;
                }
                if (r == 0)
                        return;
                if (ks_io_set_modify(c->io, &c->conn, EPOLLIN) < 0) {
                        native_fail(c, "cannot watch the connection");
                        return;
                }
                return;
        }
        http_read(c);
}

static void on_native_timeout(ks_io_deadline *d, void *userdata) {
        ks_probe *c = userdata;
        ks_probe_result result = {};

        timed_out(c, !c->connected, &result);
        native_finish(c, &result, false);
}

/* Starts a native run on the kept connection or a new one. Failures of the connection itself
 * are reported from the loop like any other; a negative return is a local error. */
static int native_start(ks_probe *c) {
        uint32_t events;
        int fd, r;

        c->sent = 0;
        c->got_bytes = false;
        c->conn_errno = 0;
        if (c->resp)
                ks_http_response_init(c->resp, c->native_req.head);
        if (c->conn.fd >= 0) {
                c->reused = true;
                r = http_send(c, c->conn.fd);
                if (r == 1)
                        return 0;       /* the kept watch is for EPOLLIN already */
                if (r == 0)
                        return ks_io_set_modify(c->io, &c->conn, EPOLLOUT);
                /* Closed by the server in the meantime: a new connection. */
                close_conn(c);
                c->reused = false;
                c->sent = 0;
        }

        fd = socket(c->native_req.addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (fd < 0)
                return -errno;
        if (connect(fd, &c->native_req.addr.sa, c->native_req.addr_len) < 0 && errno != EINPROGRESS)
                c->conn_errno = errno;
        /* On loopback the handshake is done by now: the request goes out at once, and the socket
         * joins the set with the events of the next phase, one system call. A failure is reported
         * from the loop: a failed socket is writable (and hung up) at once. */
        events = EPOLLOUT;
        if (c->conn_errno == 0 && c->check.type == KS_CHECK_HTTP) {
                r = http_send(c, fd);
                if (r < 0)
                        c->conn_errno = -r;
                else if (r == 1)
                        events = EPOLLIN;
        }
        r = ks_io_set_add(c->io, &c->conn, fd, events, on_conn, c);
        if (r < 0) {
                close(fd);
                return r;
        }
        return 0;
}

int ks_probe_start(ks_probe *c, ks_curl_loop *loop, uint64_t timeout_usec, ks_probe_done_t done, void *userdata) {
        uint64_t timeout;
        int r;

        if (c->loop)
                return -EBUSY;

        timeout = timeout_usec ?: (c->opts.timeout_usec ?: 10 * 1000000ull);
        c->run_timeout_usec = timeout;

        if (c->native) {
                if (!c->io)
                        c->io = ks_curl_loop_get_io_set(loop);
                if (c->check.type == KS_CHECK_HTTP && !c->resp) {
                        c->resp = malloc(sizeof *c->resp);
                        if (!c->resp)
                                return -ENOMEM;
                        ks_http_response_init(c->resp, c->native_req.head);
                }
                c->received = 0;
                c->body_len = 0;
                c->loop = loop;
                c->done = done;
                c->userdata = userdata;
                c->started_usec = ks_now_usec();
                c->connected = c->conn.fd >= 0;
                r = native_start(c);
                if (r >= 0)
                        r = arm_timer(c);
                if (r < 0) {
                        c->loop = NULL;
                        c->done = NULL;
                        close_conn(c);
                        end_run(c);
                        return r;
                }
                return 0;
        }

        /* An easy handle only for the run: a handle costs kilobytes, and with thousands of
         * services only the runs in flight need one. Connections to reuse live in the multi's
         * cache, not in the handle. */
        r = ks_curl_loop_load(loop);    /* -EOPNOTSUPP, with ks_curl_dl_error(), without libcurl */
        if (r < 0)
                return r;
        r = prepare_curl(c);
        if (r < 0)
                return r;
        c->easy = ks_curl_loop_take_easy(loop);
        if (!c->easy)
                return -ENOMEM;
        c->pool = loop;
        /* With the run, not the check: thousands of idle checks need no error buffer. */
        c->errbuf = calloc(1, CURL_ERROR_SIZE);
        if (!c->errbuf) {
                end_run(c);
                return -ENOMEM;
        }
        r = configure(c, timeout);
        if (r < 0) {
                end_run(c);
                return r;
        }

        c->received = 0;
        c->body_len = 0;
        c->too_large = false;
        c->done_glue = (ks_curl_done) { .callback = on_done, .userdata = c };
        c->done = done;
        c->userdata = userdata;
        c->started_usec = ks_now_usec();

        r = ks_curl_loop_add(loop, c->easy, c->key);
        if (r < 0) {
                c->done = NULL;
                end_run(c);
                return r;
        }
        c->loop = loop;
        return 0;
}

void ks_probe_cancel(ks_probe *c) {
        if (!c->loop)
                return;
        if (c->easy)
                ks_curl_loop_remove(c->loop, c->easy);
        /* A half-read answer would be the next run's: a native connection goes with the run. */
        if (c->native)
                close_conn(c);
        end_run(c);
        c->loop = NULL;
        c->done = NULL;
}
