/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Micro-benchmark of notifyd's HTTP/1.x response parser (notifyd/check/http-response.c): the CPU cost of
 * parsing one response as a health check receives it, fed in one piece. A few realistic responses
 * (nginx's keep-alive 200 with a tiny body, a chunked one, one with a larger header set) are each
 * parsed --iterations times per run, and the median ns per response over --runs runs is printed
 * (with the fastest and slowest run). Each parse is checked (status, framing, body length), so a
 * broken parser cannot look fast. No peer: compare builds before and after a change, on the same
 * machine, run by run in turn.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http-response.h"

typedef struct bench_case {
        const char *name;
        const char *input;
        int status;
        bool keep_alive;
        size_t body_len;
} bench_case;

#define NGINX_HEAD "Server: nginx/1.22.1\r\nDate: Sun, 22 Nov 2026 12:00:00 GMT\r\n"

static const bench_case cases[] = {
        { "nginx-200-small",
          "HTTP/1.1 200 OK\r\n" NGINX_HEAD
          "Content-Type: text/plain\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n",
          200, true, 3 },
        { "nginx-chunked",
          "HTTP/1.1 200 OK\r\n" NGINX_HEAD
          "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
          "10\r\n{\"status\":\"up\",\"\r\na\r\nchecks\":3}\r\n0\r\n\r\n",
          200, true, 26 },
        { "large-headers",
          "HTTP/1.1 503 Service Temporarily Unavailable\r\n" NGINX_HEAD
          "Content-Type: text/html; charset=utf-8\r\nContent-Length: 35\r\nConnection: keep-alive\r\n"
          "Vary: Accept-Encoding\r\nLast-Modified: Sat, 21 Nov 2026 08:15:30 GMT\r\n"
          "ETag: \"65f1c2a3-20\"\r\nCache-Control: no-cache, no-store, must-revalidate\r\n"
          "Expires: Thu, 01 Jan 1970 00:00:01 GMT\r\nPragma: no-cache\r\n"
          "Strict-Transport-Security: max-age=63072000; includeSubDomains; preload\r\n"
          "X-Frame-Options: DENY\r\nX-Content-Type-Options: nosniff\r\n"
          "Referrer-Policy: strict-origin-when-cross-origin\r\n"
          "Content-Security-Policy: default-src 'self'; img-src 'self' data:; script-src 'self'\r\n"
          "Set-Cookie: session=6c1f0e0a9b3d4e27a1f5; Path=/; HttpOnly; Secure; SameSite=Lax\r\n"
          "X-Request-Id: 7f3a9c2e-4b1d-4e8a-9f6c-2d5e8b7a1c30\r\nRetry-After: 30\r\n"
          "Keep-Alive: timeout=5, max=1000\r\n\r\n"
          "<html>maintenance, back soon</html>",
          503, true, 35 },
};

static int count_body(const char *data, size_t n, void *userdata) {
        size_t *len = userdata;

        *len += n;
        return 0;
}

static double now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
        double x = *(const double *) a, y = *(const double *) b;

        return x < y ? -1 : x > y;
}

/* ns per response of one run of iterations parses; -1 if a parse came out wrong. */
static double run_case(const bench_case *c, unsigned long iterations) {
        size_t len = strlen(c->input);
        double start = now_ns();

        for (unsigned long i = 0; i < iterations; i++) {
                ks_http_response r;
                size_t body_len = 0;
                int k;

                ks_http_response_init(&r, false);
                k = ks_http_response_feed(&r, c->input, len, count_body, &body_len);
                if (k < 0 || !r.complete || r.status != c->status || r.keep_alive != c->keep_alive ||
                    body_len != c->body_len) {
                        fprintf(stderr, "%s: wrong parse: rc=%d complete=%d status=%d keep_alive=%d "
                                "body=%zu error=%s\n", c->name, k, r.complete, r.status, r.keep_alive,
                                body_len, r.error ?: "-");
                        return -1;
                }
        }
        return (now_ns() - start) / (double) iterations;
}

int main(int argc, char *argv[]) {
        unsigned long iterations = 200000, runs = 9;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--iterations") == 0 && i + 1 < argc)
                        iterations = strtoul(argv[++i], NULL, 10);
                else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
                        runs = strtoul(argv[++i], NULL, 10);
                else {
                        fprintf(stderr, "usage: %s [--iterations N] [--runs R]\n", argv[0]);
                        return 2;
                }
        }
        if (iterations == 0 || runs == 0 || runs > 1000) {
                fprintf(stderr, "--iterations and --runs must be > 0 (runs <= 1000)\n");
                return 2;
        }

        size_t n = sizeof cases / sizeof cases[0];
        double *t = calloc(n * runs, sizeof *t);
        if (!t)
                return 1;

        /* Cases alternate inside each run, so drifting load hits them all alike. */
        for (unsigned long r = 0; r < runs; r++)
                for (size_t c = 0; c < n; c++) {
                        t[c * runs + r] = run_case(&cases[c], iterations);
                        if (t[c * runs + r] < 0)
                                return 1;
                }

        for (size_t c = 0; c < n; c++) {
                double *v = t + c * runs;

                qsort(v, runs, sizeof *v, cmp_double);
                printf("RESULT bench=http-response case=%s bytes=%zu ns_per_response_median=%.1f "
                       "min=%.1f max=%.1f runs=%lu iterations=%lu\n", cases[c].name,
                       strlen(cases[c].input), v[runs / 2], v[0], v[runs - 1], runs, iterations);
        }
        free(t);
        return 0;
}
