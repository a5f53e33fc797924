/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which URLs notifyd checks itself and which it leaves to curl, the address each native one
 * connects to, and the request bytes (golden strings): default headers, replaced ones, the port
 * in Host, HEAD, POST's empty body, Connection: close without reuse.
 */
#include <arpa/inet.h>
#include <errno.h>

#include "http-request.h"
#include "macro.h"
#include "test.h"

#define UA "User-Agent: kservice-notifyd/" PACKAGE_VERSION "\r\n"

typedef struct case_ {
        const char *url;
        const char *addr;               /* "127.0.0.1:8080"; NULL: curl's */
        const char *request_line;       /* the first line of the request, without CRLF */
        const char *host;               /* the Host header's value */
} case_;

static const case_ cases[] = {
        { "http://127.0.0.1:8080/health", "127.0.0.1:8080", "GET /health HTTP/1.1", "127.0.0.1:8080" },
        { "HTTP://127.0.0.1:8080/health", "127.0.0.1:8080", "GET /health HTTP/1.1", "127.0.0.1:8080" },
        { "http://127.0.0.1/", "127.0.0.1:80", "GET / HTTP/1.1", "127.0.0.1" },
        { "http://127.0.0.1", "127.0.0.1:80", "GET / HTTP/1.1", "127.0.0.1" },
        { "http://127.0.0.1:80/x", "127.0.0.1:80", "GET /x HTTP/1.1", "127.0.0.1" },
        { "http://127.0.0.1:/x", "127.0.0.1:80", "GET /x HTTP/1.1", "127.0.0.1" },
        { "http://10.1.2.3:65535/a/b?c=d&e=%20", "10.1.2.3:65535", "GET /a/b?c=d&e=%20 HTTP/1.1", "10.1.2.3:65535" },
        { "http://127.0.0.1:8080?ready", "127.0.0.1:8080", "GET /?ready HTTP/1.1", "127.0.0.1:8080" },
        { "http://127.0.0.1:8080/h#frag", "127.0.0.1:8080", "GET /h HTTP/1.1", "127.0.0.1:8080" },
        { "http://[::1]:8080/health", "[::1]:8080", "GET /health HTTP/1.1", "[::1]:8080" },
        { "http://[::1]/", "[::1]:80", "GET / HTTP/1.1", "[::1]" },
        { "http://[fe80::1%25eth0]:80/", NULL, NULL, NULL },   /* zone id: curl's */
        { "https://127.0.0.1:8443/health", NULL, NULL, NULL },
        { "http://localhost:8080/health", NULL, NULL, NULL },
        { "http://web.internal/health", NULL, NULL, NULL },
        { "http://user:pw@127.0.0.1:8080/", NULL, NULL, NULL },
        { "http://127.1:8080/", NULL, NULL, NULL },
        { "http://2130706433:8080/", NULL, NULL, NULL },
        { "http://127.0.0.1:0/", NULL, NULL, NULL },
        { "http://127.0.0.1:65536/", NULL, NULL, NULL },
        { "http://127.0.0.1:80a/", NULL, NULL, NULL },
        { "http://127.0.0.1:8080/a b", NULL, NULL, NULL },
        { "http://127.0.0.1:8080/\x7f", NULL, NULL, NULL },
        { "http://[::1/", NULL, NULL, NULL },
        { "http://[::1]x/", NULL, NULL, NULL },
        { "http:///health", NULL, NULL, NULL },
        { "ftp://127.0.0.1/", NULL, NULL, NULL },
        { "", NULL, NULL, NULL },
};

static void format_addr(const ks_http_request *r, char *buf, size_t size) {
        char a[INET6_ADDRSTRLEN];

        if (r->addr.sa.sa_family == AF_INET6) {
                inet_ntop(AF_INET6, &r->addr.in6.sin6_addr, a, sizeof a);
                snprintf(buf, size, "[%s]:%u", a, ntohs(r->addr.in6.sin6_port));
        } else {
                inet_ntop(AF_INET, &r->addr.in.sin_addr, a, sizeof a);
                snprintf(buf, size, "%s:%u", a, ntohs(r->addr.in.sin_port));
        }
}

static void test_urls(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const case_ *c = &cases[i];
                ks_http_request r;
                char addr[64], want[256];
                int k = ks_http_request_build(c->url, NULL, NULL, 0, true, &r);

                if (!c->addr) {
                        if (k != -EPROTONOSUPPORT)
                                fprintf(stderr, "%s: %d\n", c->url, k);
                        ASSERT_EQ(k, -EPROTONOSUPPORT);
                        continue;
                }
                ASSERT_EQ(k, 0);
                format_addr(&r, addr, sizeof addr);
                ASSERT_STREQ(addr, c->addr);
                snprintf(want, sizeof want, "%s\r\nHost: %s\r\n" UA "Accept: */*\r\n\r\n", c->request_line, c->host);
                ASSERT_EQ(r.size, strlen(want));
                ASSERT_STREQ(r.data, want);
                ASSERT_TRUE(!r.head);
                ks_http_request_done(&r);
        }
}

static void test_requests(void) {
        static const ks_kv h[] = { { (char *) "X-Token", (char *) "secret" },
                                   { (char *) "host", (char *) "web.internal" },
                                   { (char *) "Accept", (char *) "application/json" } };
        static const ks_kv conn[] = { { (char *) "Connection", (char *) "keep-alive" } };
        static const ks_kv len[] = { { (char *) "Content-Length", (char *) "0" } };
        const char *url = "http://127.0.0.1:8080/health";
        ks_http_request r;

        /* Replaced defaults keep their place; the others follow in their order. */
        ASSERT_EQ(ks_http_request_build(url, "GET", h, ELEMENTSOF(h), true, &r), 0);
        ASSERT_STREQ(r.data, "GET /health HTTP/1.1\r\nhost: web.internal\r\n" UA "Accept: application/json\r\n"
                             "X-Token: secret\r\n\r\n");
        ks_http_request_done(&r);

        ASSERT_EQ(ks_http_request_build(url, "HEAD", NULL, 0, false, &r), 0);
        ASSERT_TRUE(r.head);
        ASSERT_STREQ(r.data, "HEAD /health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" UA "Accept: */*\r\n"
                             "Connection: close\r\n\r\n");
        ks_http_request_done(&r);

        ASSERT_EQ(ks_http_request_build(url, "POST", NULL, 0, true, &r), 0);
        ASSERT_TRUE(!r.head);
        ASSERT_STREQ(r.data, "POST /health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" UA "Accept: */*\r\n"
                             "Content-Length: 0\r\n\r\n");
        ks_http_request_done(&r);

        ASSERT_EQ(ks_http_request_build(url, "PUT", len, ELEMENTSOF(len), true, &r), 0);
        ASSERT_STREQ(r.data, "PUT /health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" UA "Accept: */*\r\n"
                             "Content-Length: 0\r\n\r\n");
        ks_http_request_done(&r);

        /* A Connection header of the operator's wins over the one reuse would add. */
        ASSERT_EQ(ks_http_request_build(url, "OPTIONS", conn, ELEMENTSOF(conn), false, &r), 0);
        ASSERT_STREQ(r.data, "OPTIONS /health HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n" UA "Accept: */*\r\n"
                             "Connection: keep-alive\r\n\r\n");
        ks_http_request_done(&r);
}

int main(void) {
        test_urls();
        test_requests();
        TEST_DONE();
}
