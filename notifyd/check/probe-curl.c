/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks run through libcurl: https, host names, redirects, user info, and everything when
 * --curl-only says so. Each run takes an easy handle from the loop's pool, configures it and
 * gives it back when the run ends (memory scales with the runs in flight, not with the number of
 * services); a check that allows connection reuse finds its connection in the multi's shared
 * connection cache. A TCP check to a host name is an easy handle with CURLOPT_CONNECT_ONLY, so
 * that curl resolves it without blocking the loop.
 *
 * libcurl is called only through curl-dl.h's table and only by a run that needs it: creating a
 * check loads nothing (its header list and what its URL's host is are made at its first run), so
 * a notifyd whose checks are all native never maps libcurl.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "curl-dl.h"
#include "probe-internal.h"
#include "time-util.h"

static size_t write_callback(char *ptr, size_t size, size_t nmemb, void *userdata) {
        ks_probe *c = userdata;
        size_t n = size * nmemb;
        int r = probe_take_body(c, ptr, n);

        /* Returning less than n makes curl abort with CURLE_WRITE_ERROR: a health endpoint that
         * streams without end must not eat our memory or our time. */
        if (r == -EFBIG)
                c->curl.too_large = true;
        return r < 0 ? 0 : n;
}

static long ms_ceil(uint64_t usec) {
        return (long) ((usec + 999) / 1000);
}

static int configure(ks_probe *c, uint64_t timeout) {
        const ks_check *s = &c->check;
        CURL *e = c->curl.easy;
        uint64_t connect_timeout = c->opts.connect_timeout_usec ? MIN(c->opts.connect_timeout_usec, timeout) : timeout;
        bool ok = true;

#define SET(opt, val) ok = ok && sym_curl_easy_setopt(e, opt, val) == CURLE_OK
        SET(CURLOPT_PRIVATE, &c->curl.done_glue);
        SET(CURLOPT_NOSIGNAL, 1L);
        SET(CURLOPT_ERRORBUFFER, c->curl.errbuf);
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
                SET(CURLOPT_URL, c->curl.tcp_url);
                SET(CURLOPT_CONNECT_ONLY, 1L);
                SET(CURLOPT_FRESH_CONNECT, 1L);
                SET(CURLOPT_FORBID_REUSE, 1L);
        } else {
                SET(CURLOPT_URL, s->url);
                SET(CURLOPT_WRITEFUNCTION, write_callback);
                SET(CURLOPT_WRITEDATA, c);
                SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) probe_max_response(c));
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
                if (c->curl.ip_literal)
                        SET(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
                if (s->method && streq(s->method, "HEAD"))
                        SET(CURLOPT_NOBODY, 1L);
                else if (s->method && !streq(s->method, "GET"))
                        SET(CURLOPT_CUSTOMREQUEST, s->method);
                if (c->curl.headers)
                        SET(CURLOPT_HTTPHEADER, c->curl.headers);
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
static int prepare(ks_probe *c) {
        const ks_check *check = &c->check;
        struct curl_slist *headers = NULL;

        if (c->curl.prepared)
                return 0;
        for (size_t i = 0; i < check->n_headers; i++) {
                _cleanup_free_ char *h = NULL;

                if (asprintf(&h, "%s: %s", check->headers[i].key, check->headers[i].value) < 0) {
                        h = NULL;
                        goto fail;
                }
                if (slist_add(&headers, h) < 0)
                        goto fail;
        }
        /* As the native request says: a POST or PUT without a body says so (nginx answers 411
         * otherwise); curl's custom method sends no length. */
        if (check->type == KS_CHECK_HTTP && check->method && (streq(check->method, "POST") || streq(check->method, "PUT")) &&
            !ks_http_find_header(check->headers, check->n_headers, "Content-Length") &&
            slist_add(&headers, "Content-Length: 0") < 0)
                goto fail;
        if (check->type == KS_CHECK_HTTP)
                c->curl.ip_literal = url_host_is_address(check->url);
        c->curl.headers = headers;
        c->curl.prepared = true;
        return 0;
fail:
        if (headers)
                sym_curl_slist_free_all(headers);
        return -ENOMEM;
}

static int curl_init(ks_probe *c) {
        static unsigned next_key;
        const ks_check *k = &c->check;

        c->curl.key = next_key++;
        if (k->type == KS_CHECK_TCP) {
                bool v6 = strchr(k->host, ':');
                if (asprintf(&c->curl.tcp_url, "http://%s%s%s:%u/", v6 ? "[" : "", k->host, v6 ? "]" : "",
                             k->port) < 0) {
                        c->curl.tcp_url = NULL;
                        return -ENOMEM;
                }
        }
        return 0;
}

static void evaluate(ks_probe *c, CURLcode code, ks_probe_result *r) {
        const char *errbuf = c->curl.errbuf;
        long status = 0;

        if (code == CURLE_OPERATION_TIMEDOUT) {
                /* curl's error buffer says which of the two timeouts hit. */
                if (strncmp(errbuf, "Connection", 10) == 0 || strncmp(errbuf, "Failed to connect", 17) == 0) {
                        r->timed_out = true;
                        snprintf(r->reason, sizeof r->reason, "connect timed out (%.120s)", errbuf);
                } else
                        probe_timed_out(c, false, r);
                return;
        }
        if (c->curl.too_large || code == CURLE_FILESIZE_EXCEEDED) {
                snprintf(r->reason, sizeof r->reason, "response larger than %zu bytes", probe_max_response(c));
                return;
        }
        if (code != CURLE_OK) {
                snprintf(r->reason, sizeof r->reason, "%.180s", errbuf[0] ? errbuf : sym_curl_easy_strerror(code));
                return;
        }
        if (c->check.type == KS_CHECK_TCP) {
                r->passed = true;
                snprintf(r->reason, sizeof r->reason, "TCP connected");
                return;
        }
        sym_curl_easy_getinfo(c->curl.easy, CURLINFO_RESPONSE_CODE, &status);
        probe_judge_http(c, status, r);
}

static void on_done(CURL *easy, CURLcode code, void *userdata) {
        ks_probe *c = userdata;
        ks_probe_result result = {};

        result.latency_usec = ks_now_usec() - c->started_usec;
        evaluate(c, code, &result);
        probe_finish(c, &result);
}

/* The easy handle back to the pool, and the error buffer: only the runs in flight need them. */
static void curl_end_run(ks_probe *c) {
        if (c->curl.easy) {
                ks_check_loop_give_easy(c->curl.pool, c->curl.easy);
                c->curl.easy = NULL;
                c->curl.pool = NULL;
        }
        c->curl.errbuf = mfree(c->curl.errbuf);
}

static int curl_start(ks_probe *c, ks_check_loop *loop) {
        int r;

        /* An easy handle only for the run: a handle costs kilobytes, and with thousands of
         * services only the runs in flight need one. Connections to reuse live in the multi's
         * cache, not in the handle. */
        r = ks_check_loop_load(loop);   /* -EOPNOTSUPP, with ks_curl_dl_error(), without libcurl */
        if (r < 0)
                return r;
        r = prepare(c);
        if (r < 0)
                return r;
        c->curl.easy = ks_check_loop_take_easy(loop);
        if (!c->curl.easy)
                return -ENOMEM;
        c->curl.pool = loop;
        /* With the run, not the check: thousands of idle checks need no error buffer. */
        c->curl.errbuf = calloc(1, CURL_ERROR_SIZE);
        if (!c->curl.errbuf)
                return -ENOMEM;
        r = configure(c, c->run_timeout_usec);
        if (r < 0)
                return r;
        c->curl.too_large = false;
        c->curl.done_glue = (ks_curl_done) { .callback = on_done, .userdata = c };
        return ks_check_loop_add(loop, c->curl.easy, c->curl.key);
}

static void curl_cancel(ks_probe *c) {
        if (c->curl.easy)
                ks_check_loop_remove(c->loop, c->curl.easy);
}

static void curl_done(ks_probe *c) {
        if (c->curl.headers)
                sym_curl_slist_free_all(c->curl.headers);
        c->curl.headers = NULL;
        c->curl.tcp_url = mfree(c->curl.tcp_url);
}

const ks_probe_backend ks_probe_curl_backend = {
        .init = curl_init,
        .start = curl_start,
        .cancel = curl_cancel,
        .end_run = curl_end_run,
        .done = curl_done,
};
