/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP and TCP health checks on libcurl easy handles. Each run takes a handle from the loop's
 * pool, configures it and gives it back when the run ends (memory scales with the runs in
 * flight, not with the number of services); an HTTP check that allows connection reuse finds its
 * connection in the multi's shared connection cache. A TCP check to an IP address is a plain
 * non-blocking connect() watched on the same sd-event loop (curl's CONNECT_ONLY costs three times
 * the system calls for the same handshake); a TCP check to a host name is an easy handle with
 * CURLOPT_CONNECT_ONLY, so that curl resolves it without blocking the loop.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "time-util.h"
#include "probe.h"

struct ks_probe {
        ks_probe_spec spec;
        CURL *easy;                     /* only while a run is in flight */
        ks_curl_loop *pool;             /* where easy came from and goes back to */
        struct curl_slist *headers;
        char *tcp_url;                  /* what curl connects to for a TCP check to a host name */
        union {                         /* a TCP check to an IP address: connected directly */
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } tcp_addr;
        socklen_t tcp_addr_len;         /* 0: through curl */
        int tcp_fd;
        int tcp_errno;                  /* connect()'s own failure, reported from the loop */
        sd_event_source *tcp_io, *tcp_timer;
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
        unsigned key;                   /* the connection cache its connection stays in */
        char *errbuf;                   /* CURL_ERROR_SIZE bytes, only while a run is in flight */
};

static char **strv_free(char **l) {
        if (l)
                for (char **p = l; *p; p++)
                        free(*p);
        return mfree(l);
}

static int strv_copy(char *const *src, char ***ret) {
        size_t n = 0;
        char **l;

        if (!src) {
                *ret = NULL;
                return 0;
        }
        while (src[n])
                n++;
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                l[i] = strdup(src[i]);
                if (!l[i]) {
                        strv_free(l);
                        return -ENOMEM;
                }
        }
        *ret = l;
        return 0;
}

static bool strv_equal(char *const *a, char *const *b) {
        if (!a || !b)
                return (!a || !*a) && (!b || !*b);
        for (; *a && *b; a++, b++)
                if (!streq(*a, *b))
                        return false;
        return !*a && !*b;
}

static bool streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return streq(a, b);
}

static int strdup_ptr(const char *s, char **ret) {
        if (!s) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

void ks_probe_spec_done(ks_probe_spec *s) {
        s->url = mfree(s->url);
        s->method = mfree(s->method);
        s->body_contains = mfree(s->body_contains);
        s->headers = strv_free(s->headers);
        s->host = mfree(s->host);
}

int ks_probe_spec_copy(const ks_probe_spec *src, ks_probe_spec *dst) {
        ks_probe_spec c = *src;

        c.url = c.method = c.body_contains = c.host = NULL;
        c.headers = NULL;
        if (strdup_ptr(src->url, &c.url) < 0 || strdup_ptr(src->method, &c.method) < 0 ||
            strdup_ptr(src->body_contains, &c.body_contains) < 0 || strdup_ptr(src->host, &c.host) < 0 ||
            strv_copy(src->headers, &c.headers) < 0) {
                ks_probe_spec_done(&c);
                return -ENOMEM;
        }
        *dst = c;
        return 0;
}

bool ks_probe_spec_equal(const ks_probe_spec *a, const ks_probe_spec *b) {
        return a->type == b->type && streq_ptr(a->url, b->url) && streq_ptr(a->method, b->method) &&
               ks_status_set_equal(&a->expect, &b->expect) && streq_ptr(a->body_contains, b->body_contains) &&
               strv_equal(a->headers, b->headers) && a->tls_verify == b->tls_verify &&
               a->follow_redirects == b->follow_redirects && a->reuse_connection == b->reuse_connection &&
               a->max_response_bytes == b->max_response_bytes && streq_ptr(a->host, b->host) &&
               a->port == b->port && a->connect_timeout_usec == b->connect_timeout_usec &&
               a->timeout_usec == b->timeout_usec;
}

void ks_probe_spec_describe(const ks_probe_spec *s, char *buf, size_t size) {
        if (s->type == KS_PROBE_TCP) {
                bool v6 = s->host && strchr(s->host, ':');
                snprintf(buf, size, "tcp %s%s%s:%u", v6 ? "[" : "", strna(s->host), v6 ? "]" : "", s->port);
        } else
                snprintf(buf, size, "%s %s", s->method ?: "GET", strna(s->url));
}

static size_t max_response(const ks_probe *c) {
        return c->spec.max_response_bytes ?: KS_PROBE_DEFAULT_MAX_RESPONSE;
}

static size_t write_callback(char *ptr, size_t size, size_t nmemb, void *userdata) {
        ks_probe *c = userdata;
        size_t n = size * nmemb, cap = max_response(c);

        if (n > cap - MIN(c->received, cap)) {
                /* Returning less than n makes curl abort with CURLE_WRITE_ERROR: a health
                 * endpoint that streams without end must not eat our memory or our time. */
                c->too_large = true;
                return 0;
        }
        c->received += n;
        if (c->spec.body_contains) {
                /* Grown as the body arrives: health answers are small, the cap is not. */
                if (c->body_len + n + 1 > c->body_size) {
                        size_t want = MIN(MAX(c->body_size * 2, MAX(c->body_len + n + 1, (size_t) 256)), cap + 1);
                        char *b = realloc(c->body, want);
                        if (!b)
                                return 0;
                        c->body = b;
                        c->body_size = want;
                }
                memcpy(c->body + c->body_len, ptr, n);
                c->body_len += n;
                c->body[c->body_len] = 0;
        }
        return n;
}

static long ms_ceil(uint64_t usec) {
        return (long) ((usec + 999) / 1000);
}

static int configure(ks_probe *c, uint64_t timeout) {
        const ks_probe_spec *s = &c->spec;
        CURL *e = c->easy;
        uint64_t connect_timeout = s->connect_timeout_usec ? MIN(s->connect_timeout_usec, timeout) : timeout;
        bool ok = true;

#define SET(opt, val) ok = ok && curl_easy_setopt(e, opt, val) == CURLE_OK
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

        if (s->type == KS_PROBE_TCP) {
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
                if (!s->reuse_connection) {
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
        curl_url_cleanup(*u);
}

static void curl_freep(char **p) {
        curl_free(*p);
}

static bool url_host_is_address(const char *url) {
        _cleanup_(curl_url_cleanupp) CURLU *u = curl_url();
        _cleanup_(curl_freep) char *host = NULL;
        struct in6_addr a;
        size_t n;

        if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
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

int ks_probe_new(const ks_probe_spec *spec, ks_probe **ret) {
        static unsigned next_key;
        _cleanup_(ks_probe_freep) ks_probe *c = NULL;
        int r;

        if (spec->type == KS_PROBE_HTTP ? !spec->url : (!spec->host || spec->port == 0))
                return -EINVAL;

        c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        r = ks_probe_spec_copy(spec, &c->spec);
        if (r < 0) {
                free(TAKE_PTR(c));
                return r;
        }
        c->tcp_fd = -1;
        c->key = next_key++;
        if (spec->type == KS_PROBE_TCP && inet_pton(AF_INET, spec->host, &c->tcp_addr.in.sin_addr) == 1) {
                c->tcp_addr.in.sin_family = AF_INET;
                c->tcp_addr.in.sin_port = htons(spec->port);
                c->tcp_addr_len = sizeof c->tcp_addr.in;
        } else if (spec->type == KS_PROBE_TCP && inet_pton(AF_INET6, spec->host, &c->tcp_addr.in6.sin6_addr) == 1) {
                c->tcp_addr.in6.sin6_family = AF_INET6;
                c->tcp_addr.in6.sin6_port = htons(spec->port);
                c->tcp_addr_len = sizeof c->tcp_addr.in6;
        } else if (spec->type == KS_PROBE_TCP) {
                bool v6 = strchr(spec->host, ':');
                if (asprintf(&c->tcp_url, "http://%s%s%s:%u/", v6 ? "[" : "", spec->host, v6 ? "]" : "",
                             spec->port) < 0) {
                        c->tcp_url = NULL;
                        return -ENOMEM;
                }
        }
        if (spec->type == KS_PROBE_HTTP)
                c->ip_literal = url_host_is_address(spec->url);
        if (spec->headers)
                for (char **h = spec->headers; *h; h++) {
                        struct curl_slist *n = curl_slist_append(c->headers, *h);
                        if (!n)
                                return -ENOMEM;
                        c->headers = n;
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
        curl_slist_free_all(c->headers);
        free(c->tcp_url);
        ks_probe_spec_done(&c->spec);
        free(c->body);
        return mfree(c);
}

const ks_probe_spec *ks_probe_get_spec(const ks_probe *c) {
        return &c->spec;
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

static void evaluate(ks_probe *c, CURLcode code, ks_probe_result *r) {
        const ks_probe_spec *s = &c->spec;
        char expect[64], d[32];

        if (code == CURLE_OPERATION_TIMEDOUT) {
                r->timed_out = true;
                format_duration(c->run_timeout_usec, d, sizeof d);
                /* curl's error buffer says which of the two timeouts hit. */
                if (strncmp(c->errbuf, "Connection", 10) == 0 || strncmp(c->errbuf, "Failed to connect", 17) == 0)
                        snprintf(r->reason, sizeof r->reason, "connect timed out (%.120s)", c->errbuf);
                else
                        snprintf(r->reason, sizeof r->reason, "timed out after %s", d);
                return;
        }
        if (c->too_large || code == CURLE_FILESIZE_EXCEEDED) {
                snprintf(r->reason, sizeof r->reason, "response larger than %zu bytes", max_response(c));
                return;
        }
        if (code != CURLE_OK) {
                snprintf(r->reason, sizeof r->reason, "%.180s",
                         c->errbuf[0] ? c->errbuf : curl_easy_strerror(code));
                return;
        }
        if (s->type == KS_PROBE_TCP) {
                r->passed = true;
                snprintf(r->reason, sizeof r->reason, "TCP connected");
                return;
        }

        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r->http_status);
        if (!ks_status_set_match(&s->expect, r->http_status)) {
                ks_status_set_format(&s->expect, expect, sizeof expect);
                snprintf(r->reason, sizeof r->reason, "HTTP %ld (expected %s)", r->http_status, expect);
                return;
        }
        if (s->body_contains && !strstr(c->body ?: "", s->body_contains)) {
                snprintf(r->reason, sizeof r->reason, "HTTP %ld, body lacks \"%.64s\"", r->http_status,
                         s->body_contains);
                return;
        }
        r->passed = true;
        snprintf(r->reason, sizeof r->reason, "HTTP %ld", r->http_status);
}

/* Drops what only a run needs: its easy handle (back to the pool) and its body buffer. */
static void end_run(ks_probe *c) {
        c->tcp_io = sd_event_source_disable_unref(c->tcp_io);
        c->tcp_timer = sd_event_source_disable_unref(c->tcp_timer);
        if (c->tcp_fd >= 0) {
                close(c->tcp_fd);
                c->tcp_fd = -1;
        }
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

static void tcp_finish(ks_probe *c, int error, bool timed_out) {
        ks_probe_result result = {};
        ks_probe_done_t done = c->done;
        char d[32];

        c->loop = NULL;
        result.latency_usec = ks_now_usec() - c->started_usec;
        if (timed_out) {
                result.timed_out = true;
                format_duration(c->run_timeout_usec, d, sizeof d);
                snprintf(result.reason, sizeof result.reason, "connect timed out after %s", d);
        } else if (error != 0)
                snprintf(result.reason, sizeof result.reason, "Failed to connect to %s port %u: %s", c->spec.host, c->spec.port,
                         strerror(error));
        else {
                result.passed = true;
                snprintf(result.reason, sizeof result.reason, "TCP connected");
        }
        end_run(c);
        c->done = NULL;
        /* Last: the callback may free or restart the check. */
        done(c, &result, c->userdata);
}

static int on_tcp_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
        ks_probe *c = userdata;
        int error = c->tcp_errno;
        socklen_t len = sizeof error;

        if (error == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) < 0)
                error = errno;
        tcp_finish(c, error, false);
        return 0;
}

static int on_tcp_timeout(sd_event_source *source, uint64_t usec, void *userdata) {
        tcp_finish(userdata, ETIMEDOUT, true);
        return 0;
}

/* A non-blocking connect() watched by the loop: writable means the handshake finished (or
 * failed, which SO_ERROR tells). */
static int tcp_start(ks_probe *c, sd_event *event, uint64_t timeout) {
        uint64_t connect_timeout = c->spec.connect_timeout_usec ? MIN(c->spec.connect_timeout_usec, timeout) : timeout;
        int r;

        c->tcp_errno = 0;
        c->tcp_fd = socket(c->tcp_addr.sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        if (c->tcp_fd < 0)
                return -errno;
        /* An immediate failure is reported from the loop like any other, never from here. */
        if (connect(c->tcp_fd, &c->tcp_addr.sa, c->tcp_addr_len) < 0 && errno != EINPROGRESS)
                c->tcp_errno = errno;
        r = sd_event_add_io(event, &c->tcp_io, c->tcp_fd, EPOLLOUT, on_tcp_io, c);
        if (r < 0)
                return r;
        /* A socket whose connect() failed at once is closed: epoll reports EPOLLHUP for it. */
        /* Not relative: the loop's cached time may be from long before this call. */
        return sd_event_add_time(event, &c->tcp_timer, CLOCK_MONOTONIC, c->started_usec + connect_timeout, 1000,
                                 on_tcp_timeout, c);
}

int ks_probe_start(ks_probe *c, ks_curl_loop *loop, uint64_t timeout_usec, ks_probe_done_t done, void *userdata) {
        uint64_t timeout;
        int r;

        if (c->loop)
                return -EBUSY;

        if (c->tcp_addr_len > 0) {
                timeout = timeout_usec ?: (c->spec.timeout_usec ?: 10 * 1000000ull);
                c->run_timeout_usec = timeout;
                c->started_usec = ks_now_usec();
                r = tcp_start(c, ks_curl_loop_get_event(loop), timeout);
                if (r < 0) {
                        end_run(c);
                        return r;
                }
                c->done = done;
                c->userdata = userdata;
                c->loop = loop;
                return 0;
        }

        /* An easy handle only for the run: a handle costs kilobytes, and with thousands of
         * services only the runs in flight need one. Connections to reuse live in the multi's
         * cache, not in the handle. */
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
        timeout = timeout_usec ?: (c->spec.timeout_usec ?: 10 * 1000000ull);
        c->run_timeout_usec = timeout;
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
        end_run(c);
        c->loop = NULL;
        c->done = NULL;
}
