/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * URL to address and request bytes. Deliberately narrow: "http://", an IPv4 address in dotted
 * form or a bracketed IPv6 address without zone, an optional port, a path of printable ASCII.
 * Everything else (user info, host names, other address spellings, odd characters) is curl's, which
 * handles or rejects it with its own message, so both paths agree on what a URL means.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http-request.h"
#include "macro.h"

typedef struct url_parts {
        const char *host;               /* as written, brackets included */
        size_t host_len;
        const char *port;               /* digits, or NULL */
        size_t port_len;
        const char *target;             /* path and query; "" for none */
        size_t target_len;
} url_parts;

static bool printable(const char *p, size_t n) {
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) p[i] <= ' ' || (unsigned char) p[i] >= 0x7f)
                        return false;
        return true;
}

static int split_url(const char *url, url_parts *u) {
        const char *a, *end, *colon;
        size_t n;

        if (strncasecmp(url, "http://", 7) != 0)
                return -EPROTONOSUPPORT;
        a = url + 7;
        n = strcspn(a, "/?#");
        if (n == 0 || memchr(a, '@', n))
                return -EPROTONOSUPPORT;
        end = a + n;
        if (a[0] == '[') {
                const char *close = memchr(a, ']', n);
                if (!close)
                        return -EPROTONOSUPPORT;
                colon = close + 1 < end ? close + 1 : NULL;
                if (colon && *colon != ':')
                        return -EPROTONOSUPPORT;
        } else
                colon = memchr(a, ':', n);
        u->host = a;
        u->host_len = colon ? (size_t) (colon - a) : n;
        u->port = colon ? colon + 1 : NULL;
        u->port_len = colon ? (size_t) (end - colon - 1) : 0;
        u->target = end;
        u->target_len = strcspn(end, "#");
        if (!printable(url, (size_t) (end - url)) || !printable(u->target, u->target_len))
                return -EPROTONOSUPPORT;
        return 0;
}

static int parse_port(const url_parts *u, unsigned *ret) {
        unsigned p = 0;

        if (!u->port || u->port_len == 0) {
                *ret = 80;
                return 0;
        }
        if (u->port_len > 5)
                return -EPROTONOSUPPORT;
        for (size_t i = 0; i < u->port_len; i++) {
                if (u->port[i] < '0' || u->port[i] > '9')
                        return -EPROTONOSUPPORT;
                p = p * 10 + (unsigned) (u->port[i] - '0');
        }
        if (p == 0 || p > 65535)
                return -EPROTONOSUPPORT;
        *ret = p;
        return 0;
}

int ks_http_address(int family, const char *ip, uint16_t port, ks_sockaddr *ret) {
        ks_sockaddr a = {};

        if (family != AF_INET6 && inet_pton(AF_INET, ip, &a.in.sin_addr) == 1) {
                a.in.sin_family = AF_INET;
                a.in.sin_port = htons(port);
                a.len = sizeof a.in;
        } else if (family != AF_INET && inet_pton(AF_INET6, ip, &a.in6.sin6_addr) == 1) {
                a.in6.sin6_family = AF_INET6;
                a.in6.sin6_port = htons(port);
                a.len = sizeof a.in6;
        } else
                return -EPROTONOSUPPORT;
        *ret = a;
        return 0;
}

static int parse_address(const url_parts *u, unsigned port, ks_http_request *r) {
        char host[INET6_ADDRSTRLEN + 2];

        if (u->host_len >= sizeof host)
                return -EPROTONOSUPPORT;
        memcpy(host, u->host, u->host_len);
        host[u->host_len] = 0;
        /* inet_pton takes the dotted quad only, not "127.1" or "2130706433": those are curl's. An
         * IPv6 address is in brackets. */
        if (host[0] == '[') {
                host[u->host_len - 1] = 0;
                return ks_http_address(AF_INET6, host + 1, (uint16_t) port, &r->addr);
        }
        return ks_http_address(AF_INET, host, (uint16_t) port, &r->addr);
}

const ks_kv *ks_http_find_header(const ks_kv *headers, size_t n, const char *name) {
        for (size_t i = 0; i < n; i++)
                if (strcaseeq(headers[i].key, name))
                        return &headers[i];
        return NULL;
}

static bool is_default(const char *name) {
        static const char *const names[] = { "Host", "User-Agent", "Accept", "Connection", "Content-Length" };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strcaseeq(name, names[i]))
                        return true;
        return false;
}

static void put_header(FILE *f, const ks_kv *headers, size_t n, const char *name, const char *fallback) {
        const ks_kv *h = ks_http_find_header(headers, n, name);

        if (h)
                fprintf(f, "%s: %s\r\n", h->key, h->value);
        else if (fallback)
                fprintf(f, "%s: %s\r\n", name, fallback);
}

int ks_http_request_build(const char *url, const char *method, const ks_kv *headers, size_t n_headers,
                          bool keep_alive, ks_http_request *ret) {
        ks_http_request r = {};
        url_parts u;
        unsigned port;
        char host[INET6_ADDRSTRLEN + 8];
        bool with_body;
        FILE *f;
        int k;

        k = split_url(url, &u);
        if (k < 0)
                return k;
        k = parse_port(&u, &port);
        if (k < 0)
                return k;
        k = parse_address(&u, port, &r);
        if (k < 0)
                return k;
        method = method ?: "GET";
        r.head = streq(method, "HEAD");
        /* A method that defines a request body says it has none; nginx answers 411 otherwise. */
        with_body = streq(method, "POST") || streq(method, "PUT");
        /* The port only when it is not the default, as browsers and curl do. */
        snprintf(host, sizeof host, "%.*s%s%.*s", (int) u.host_len, u.host, port != 80 ? ":" : "",
                 port != 80 ? (int) u.port_len : 0, u.port ?: "");

        f = open_memstream(&r.data, &r.size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "%s %s%.*s HTTP/1.1\r\n", method, u.target_len == 0 || u.target[0] != '/' ? "/" : "",
                (int) u.target_len, u.target);
        put_header(f, headers, n_headers, "Host", host);
        put_header(f, headers, n_headers, "User-Agent", "kservice-notifyd/" PACKAGE_VERSION);
        put_header(f, headers, n_headers, "Accept", "*/*");
        put_header(f, headers, n_headers, "Connection", keep_alive ? NULL : "close");
        put_header(f, headers, n_headers, "Content-Length", with_body ? "0" : NULL);
        for (size_t i = 0; i < n_headers; i++)
                if (!is_default(headers[i].key))
                        fprintf(f, "%s: %s\r\n", headers[i].key, headers[i].value);
        fputs("\r\n", f);
        if (fclose(f) != 0 || !r.data) {
                free(r.data);
                return -ENOMEM;
        }
        *ret = r;
        return 0;
}

void ks_http_request_done(ks_http_request *r) {
        r->data = mfree(r->data);
        r->size = 0;
}
