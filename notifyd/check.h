/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One health check (HTTP or TCP) of one service and its runs on the curl loop. A ks_check_spec
 * is the plain, comparable description (filled from the service model); a ks_check owns a copy,
 * the easy handle and the buffers of the run in flight. At most one run per check at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "curl-glue.h"
#include "status-set.h"

typedef enum ks_check_type {
        KS_CHECK_HTTP,
        KS_CHECK_TCP,
} ks_check_type;

#define KS_CHECK_DEFAULT_MAX_RESPONSE (64u * 1024u)

typedef struct ks_check_spec {
        ks_check_type type;
        /* HTTP */
        char *url;
        char *method;                   /* NULL: GET */
        ks_status_set expect;           /* empty: 2xx */
        char *body_contains;            /* NULL: body not inspected */
        char **headers;                 /* NULL-terminated "Name: value" list, may be NULL */
        bool tls_verify;
        bool follow_redirects;
        bool reuse_connection;
        size_t max_response_bytes;      /* 0: KS_CHECK_DEFAULT_MAX_RESPONSE */
        /* TCP */
        char *host;
        uint16_t port;
        /* both */
        uint64_t connect_timeout_usec;  /* 0: same as timeout */
        uint64_t timeout_usec;          /* whole check */
} ks_check_spec;

void ks_check_spec_done(ks_check_spec *s);
int ks_check_spec_copy(const ks_check_spec *src, ks_check_spec *dst);
bool ks_check_spec_equal(const ks_check_spec *a, const ks_check_spec *b);
/* "GET http://127.0.0.1:8080/health" or "tcp 127.0.0.1:5432": for messages. */
void ks_check_spec_describe(const ks_check_spec *s, char *buf, size_t size);

typedef struct ks_check_result {
        bool passed;
        long http_status;               /* 0 when no HTTP response */
        uint64_t latency_usec;
        char reason[192];               /* "HTTP 200", "HTTP 500 (expected 2xx)", "timed out after 2s" ... */
} ks_check_result;

typedef struct ks_check ks_check;
typedef void (*ks_check_done_t)(ks_check *c, const ks_check_result *result, void *userdata);

int ks_check_new(const ks_check_spec *spec, ks_check **ret);
ks_check *ks_check_free(ks_check *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_check *, ks_check_free);

const ks_check_spec *ks_check_get_spec(const ks_check *c);

/* Starts one run; done is called from the loop when it finished (passed or not). -EBUSY when a
 * run is already in flight. */
int ks_check_start(ks_check *c, ks_curl_loop *loop, ks_check_done_t done, void *userdata);
/* Aborts the run in flight, if any, without calling done. */
void ks_check_cancel(ks_check *c);
bool ks_check_in_flight(const ks_check *c);
