/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * HTTP and TCP health checks: the check and its runs, whichever way they go. Which backend runs a
 * check is decided once, when it is made: natively (probe-native.c) for the common case, an
 * http:// URL or a TCP check whose host is an IP address, without redirects; through libcurl
 * (probe-curl.c) for everything else (https, host names, redirects, user info). Both give the
 * same results and reasons; the answer is judged here.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "probe-internal.h"
#include "time-util.h"

static bool curl_only;

void ks_probe_set_curl_only(bool b) {
        curl_only = b;
}

void ks_probe_describe(const ks_probe *c, char *buf, size_t size) {
        ks_check_describe(&c->check, buf, size);
}

size_t probe_max_response(const ks_probe *c) {
        return (size_t) c->check.max_response_bytes ?: KS_PROBE_DEFAULT_MAX_RESPONSE;
}

int probe_take_body(ks_probe *c, const char *data, size_t n) {
        size_t cap = probe_max_response(c);

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

static void format_duration(uint64_t usec, char *buf, size_t size) {
        if (usec % 1000000 == 0)
                snprintf(buf, size, "%" PRIu64 "s", usec / 1000000);
        else
                snprintf(buf, size, "%" PRIu64 "ms", (usec + 999) / 1000);
}

void probe_judge_http(ks_probe *c, long status, ks_probe_result *r) {
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

void probe_timed_out(ks_probe *c, bool connecting, ks_probe_result *r) {
        uint64_t t = c->run_timeout_usec;
        char d[32];

        if (connecting && c->opts.connect_timeout_usec)
                t = MIN(t, c->opts.connect_timeout_usec);
        r->timed_out = true;
        format_duration(t, d, sizeof d);
        snprintf(r->reason, sizeof r->reason, "%stimed out after %s", connecting ? "connect " : "", d);
}

/* Drops what only a run needs: the backend's part, and the body kept for inspection. */
static void end_run(ks_probe *c) {
        c->backend->end_run(c);
        c->body = mfree(c->body);
        c->body_len = c->body_size = 0;
}

void probe_finish(ks_probe *c, ks_probe_result *result) {
        ks_probe_done_t done = c->done;

        c->loop = NULL;
        end_run(c);
        c->done = NULL;
        /* Last: the callback may free or restart the check. */
        done(c, result, c->userdata);
}

int ks_probe_new(const ks_check *check, const ks_probe_options *opts, ks_probe **ret) {
        _cleanup_(ks_probe_freep) ks_probe *c = NULL;
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
        c->opts = *opts;
        c->native.conn = (ks_io_watch) KS_IO_WATCH_INIT;
        c->backend = &ks_probe_native_backend;
        r = curl_only ? -EPROTONOSUPPORT : c->backend->init(c);
        if (r == -EPROTONOSUPPORT) {
                c->backend = &ks_probe_curl_backend;
                r = c->backend->init(c);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

ks_probe *ks_probe_free(ks_probe *c) {
        if (!c)
                return NULL;
        ks_probe_cancel(c);
        end_run(c);
        c->backend->done(c);
        ks_check_done(&c->check);
        return mfree(c);
}

const ks_check *ks_probe_get_check(const ks_probe *c) {
        return &c->check;
}

bool ks_probe_in_flight(const ks_probe *c) {
        return c->loop != NULL;
}

int ks_probe_start(ks_probe *c, ks_check_loop *loop, uint64_t timeout_usec, ks_probe_done_t done, void *userdata) {
        int r;

        if (c->loop)
                return -EBUSY;

        c->run_timeout_usec = timeout_usec ?: (c->opts.timeout_usec ?: 10 * 1000000ull);
        c->received = 0;
        c->body_len = 0;
        c->done = done;
        c->userdata = userdata;
        c->started_usec = ks_now_usec();
        /* Set for the backend too: a native check tells its idle kept connection from a run by it. */
        c->loop = loop;
        r = c->backend->start(c, loop);
        if (r < 0) {
                c->loop = NULL;
                c->done = NULL;
                end_run(c);
                return r;
        }
        return 0;
}

void ks_probe_cancel(ks_probe *c) {
        if (!c->loop)
                return;
        c->backend->cancel(c);
        end_run(c);
        c->loop = NULL;
        c->done = NULL;
}
