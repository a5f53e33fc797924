/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The requests of notifyd's own plain-HTTP checks. notifyd speaks HTTP/1.1 itself to an
 * http:// URL whose host is an IP address (the common health endpoint on loopback): nothing to
 * resolve, encrypt or authenticate, so a socket, one write and a read or two do the check. Any
 * other URL is left to libcurl. The request bytes are built once, when the check is created.
 */
#pragma once

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "service.h"

/* An IP address and port to connect to. */
typedef struct ks_sockaddr {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        };
        socklen_t len;
} ks_sockaddr;

typedef struct ks_http_request {
        ks_sockaddr addr;
        bool head;                      /* a HEAD request: the answer has no body */
        char *data;                     /* the request: request line, headers, empty line */
        size_t size;
} ks_http_request;

/* method: NULL for GET. headers: the check's, in order; one named like a header notifyd sends
 * itself (Host, User-Agent, Accept, Connection, Content-Length) replaces it. keep_alive: false
 * adds "Connection: close". -EPROTONOSUPPORT when the URL is not one notifyd handles itself (then
 * curl does), -ENOMEM. */
int ks_http_request_build(const char *url, const char *method, const ks_kv *headers, size_t n_headers,
                          bool keep_alive, ks_http_request *ret);
void ks_http_request_done(ks_http_request *r);

/* An IP address in text (family AF_INET, AF_INET6, or AF_UNSPEC for either) and a port.
 * -EPROTONOSUPPORT when ip is not one (a host name: curl's). */
int ks_http_address(int family, const char *ip, uint16_t port, ks_sockaddr *ret);

/* The header among n whose name is name, in any case, or NULL. */
const ks_kv *ks_http_find_header(const ks_kv *headers, size_t n, const char *name);
