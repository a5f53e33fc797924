/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One health check (HTTP or TCP) of one service and its runs on the curl loop. A ks_probe_spec
 * is the plain, comparable description (filled from the service model); a ks_probe owns a copy,
 * the easy handle and the buffers of the run in flight. At most one run per check at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "curl-glue.h"
#include "status-set.h"

typedef enum ks_probe_type {
        KS_PROBE_HTTP,
        KS_PROBE_TCP,
} ks_probe_type;

#define KS_PROBE_DEFAULT_MAX_RESPONSE (64u * 1024u)
/* curl's receive buffer per handle in flight (CURLOPT_BUFFERSIZE; curl's default is 16 KiB). */
#define KS_PROBE_RECV_BUFFER (8u * 1024u)

typedef struct ks_probe_spec {
        ks_probe_type type;
        /* HTTP */
        char *url;
        char *method;                   /* NULL: GET */
        ks_status_set expect;           /* empty: 2xx */
        char *body_contains;            /* NULL: body not inspected */
        char **headers;                 /* NULL-terminated "Name: value" list, may be NULL */
        bool tls_verify;
        bool follow_redirects;
        bool reuse_connection;
        size_t max_response_bytes;      /* 0: KS_PROBE_DEFAULT_MAX_RESPONSE */
        /* TCP */
        char *host;
        uint16_t port;
        /* both */
        uint64_t connect_timeout_usec;  /* 0: same as timeout */
        uint64_t timeout_usec;          /* whole check */
} ks_probe_spec;

void ks_probe_spec_done(ks_probe_spec *s);
int ks_probe_spec_copy(const ks_probe_spec *src, ks_probe_spec *dst);
bool ks_probe_spec_equal(const ks_probe_spec *a, const ks_probe_spec *b);
/* "GET http://127.0.0.1:8080/health" or "tcp 127.0.0.1:5432": for messages. */
void ks_probe_spec_describe(const ks_probe_spec *s, char *buf, size_t size);

typedef struct ks_probe_result {
        bool passed;
        long http_status;               /* 0 when no HTTP response */
        uint64_t latency_usec;
        bool timed_out;                 /* failed because the (connect) timeout ran out */
        char reason[192];               /* "HTTP 200", "HTTP 500 (expected 2xx)", "timed out after 2s" ... */
} ks_probe_result;

typedef struct ks_probe ks_probe;
typedef void (*ks_probe_done_t)(ks_probe *c, const ks_probe_result *result, void *userdata);

/* Checks created after this run through libcurl even where notifyd would speak HTTP itself (an
 * escape hatch for a server the built-in client does not get along with, and for comparisons). */
void ks_probe_set_curl_only(bool b);

int ks_probe_new(const ks_probe_spec *spec, ks_probe **ret);
ks_probe *ks_probe_free(ks_probe *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_probe *, ks_probe_free);

const ks_probe_spec *ks_probe_get_spec(const ks_probe *c);

/* Starts one run; done is called from the loop when it finished (passed or not). timeout_usec,
 * when not 0, replaces the spec's timeout for this run (what is left of a round's time).
 * -EBUSY when a run is already in flight. */
int ks_probe_start(ks_probe *c, ks_curl_loop *loop, uint64_t timeout_usec, ks_probe_done_t done, void *userdata);
/* Aborts the run in flight, if any, without calling done. */
void ks_probe_cancel(ks_probe *c);
bool ks_probe_in_flight(const ks_probe *c);
