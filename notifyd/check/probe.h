/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One health check (HTTP or TCP) of one service and its runs on the curl loop. A ks_probe keeps
 * its own copy of the definition's ks_check (lib/service.h), the options notifyd runs it with,
 * the easy handle and the buffers of the run in flight. At most one run per check at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check-loop.h"
#include "service.h"

/* When the check's max_response_bytes is 0 (a check not made by lib/service.c). */
#define KS_PROBE_DEFAULT_MAX_RESPONSE (64u * 1024u)
/* curl's receive buffer per handle in flight (CURLOPT_BUFFERSIZE; curl's default is 16 KiB). */
#define KS_PROBE_RECV_BUFFER (8u * 1024u)

/* How notifyd runs a check, beyond what the definition says. */
typedef struct ks_probe_options {
        uint64_t timeout_usec;          /* whole check; 0: 10 s */
        uint64_t connect_timeout_usec;  /* 0: same as timeout */
        bool reuse_connection;
} ks_probe_options;

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

int ks_probe_new(const ks_check *check, const ks_probe_options *opts, ks_probe **ret);
ks_probe *ks_probe_free(ks_probe *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ks_probe *, ks_probe_free);

const ks_check *ks_probe_get_check(const ks_probe *c);
/* "GET http://127.0.0.1:8080/health" or "tcp 127.0.0.1:5432": for messages. */
void ks_probe_describe(const ks_probe *c, char *buf, size_t size);

/* Starts one run; done is called from the loop when it finished (passed or not). timeout_usec,
 * when not 0, replaces the options' timeout for this run (what is left of a round's time).
 * -EBUSY when a run is already in flight. */
int ks_probe_start(ks_probe *c, ks_check_loop *loop, uint64_t timeout_usec, ks_probe_done_t done, void *userdata);
/* Aborts the run in flight, if any, without calling done. */
void ks_probe_cancel(ks_probe *c);
bool ks_probe_in_flight(const ks_probe *c);
