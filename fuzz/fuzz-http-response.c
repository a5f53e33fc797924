/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for notifyd's HTTP/1.x response parser. The input is the response as the peer
 * sends it. Beyond "does not crash", it checks that how the bytes are split does not matter: the
 * input fed whole, in two pieces at a split point taken from the data, and in small steps of
 * data-derived sizes must give the same status, framing, error and body; and the invariants of the
 * API (consumed <= fed, complete before stopping short, an error message with every parse error).
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http-response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct outcome {
        int rc;
        size_t consumed;
        int status, minor;
        bool complete, keep_alive;
        const char *error;
        size_t body_len;
        uint64_t body_hash;
        size_t cap;             /* the callback fails with -EFBIG past this many bytes; 0: no cap */
} outcome;

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
        const uint8_t *b = p;

        for (size_t i = 0; i < n; i++)
                h = (h ^ b[i]) * 1099511628211u;
        return h;
}

static int collect(const char *d, size_t n, void *userdata) {
        outcome *o = userdata;

        assert(n > 0);
        if (o->cap > 0 && o->body_len + n > o->cap)
                return -EFBIG;
        /* The hash of the whole body does not depend on how it was cut: fnv is byte-serial. */
        o->body_hash = fnv(o->body_hash, d, n);
        o->body_len += n;
        return 0;
}

/* steps: pieces of data-derived sizes; otherwise two pieces cut at split. */
static void run(const char *in, size_t len, bool head, size_t cap, size_t split, bool steps, outcome *o) {
        ks_http_response r;
        size_t off = 0, k = 0;

        *o = (outcome) { .body_hash = 14695981039346656037u, .cap = cap };
        ks_http_response_init(&r, head);
        while (off < len) {
                size_t n = steps ? 1 + (uint8_t) in[k++ % len] % 23 :
                                   off < split ? split - off : len - off;
                int c;

                if (n > len - off)
                        n = len - off;
                c = ks_http_response_feed(&r, in + off, n, collect, o);
                if (c < 0) {
                        o->rc = c;
                        break;
                }
                assert((size_t) c <= n);
                assert((size_t) c == n || r.complete);
                o->consumed += (size_t) c;
                off += n;
        }
        if (o->rc == 0)
                o->rc = ks_http_response_eof(&r);
        if (r.complete) {
                assert(ks_http_response_feed(&r, in, len, collect, o) == 0);
                assert(ks_http_response_eof(&r) == 0);
        } else if (o->rc < 0) {
                /* An error sticks. */
                assert(ks_http_response_feed(&r, in, len, collect, o) == o->rc);
                assert(ks_http_response_eof(&r) == o->rc);
        }

        o->status = r.status;
        o->minor = r.minor_version;
        o->complete = r.complete;
        o->keep_alive = r.keep_alive;
        o->error = r.error;

        /* The API's promises, whatever the input. */
        assert(o->consumed <= len);
        assert(o->body_len <= len);
        assert(!o->keep_alive || o->complete);
        /* status is only ever the final response's, never a 1xx. */
        assert(o->status == 0 || (o->status >= 200 && o->status <= 999));
        assert(!o->complete || o->status != 0);
        assert(o->complete || o->rc < 0);       /* after eof, the response is either over or failed */
        if (o->rc == -EBADMSG || o->rc == -E2BIG)
                assert(o->error && o->error[0]);
        else if (o->rc == -EFBIG)
                assert(cap > 0 && !o->error);
        else
                assert(o->rc == 0 && !o->error);
}

static void same(const outcome *a, const outcome *b, const char *how) {
        bool body = a->rc != -EFBIG;    /* with a cap hit, how much was taken depends on the pieces */

        if (a->rc == b->rc && a->status == b->status && a->minor == b->minor &&
            a->complete == b->complete && a->keep_alive == b->keep_alive &&
            (a->error == b->error || (a->error && b->error && strcmp(a->error, b->error) == 0)) &&
            (a->rc < 0 || a->consumed == b->consumed) &&
            (!body || (a->body_len == b->body_len && a->body_hash == b->body_hash)))
                return;
        fprintf(stderr, "fed %s, the outcome differs from feeding it whole:\n"
                "  whole: rc=%d status=%d complete=%d keep_alive=%d error=%s consumed=%zu body=%zu\n"
                "  split: rc=%d status=%d complete=%d keep_alive=%d error=%s consumed=%zu body=%zu\n", how,
                a->rc, a->status, a->complete, a->keep_alive, a->error ?: "-", a->consumed, a->body_len,
                b->rc, b->status, b->complete, b->keep_alive, b->error ?: "-", b->consumed, b->body_len);
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *in = (const char *) data;
        uint64_t h = fnv(14695981039346656037u, data, size);
        size_t split = size > 0 ? h % (size + 1) : 0;
        outcome whole, other;

        for (int head = 0; head <= 1; head++) {
                /* Without a cap, and with one taken from the data. */
                size_t caps[] = { 0, 1 + (h >> 20) % 64 };

                for (size_t c = 0; c < 2; c++) {
                        run(in, size, head, caps[c], size, false, &whole);
                        run(in, size, head, caps[c], split, false, &other);
                        same(&whole, &other, "in two pieces");
                        run(in, size, head, caps[c], 0, true, &other);
                        same(&whole, &other, "in small steps");
                }
        }
        return 0;
}
