/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Inside a probe: what its two implementations share. probe.c keeps the check and the run (its
 * callback, timeout, body) and judges the answer; a backend moves the bytes, natively
 * (probe-native.c: plain HTTP and TCP to an IP address, in the loop's io set) or through libcurl
 * (probe-curl.c: everything else). Included by those three files only.
 */
#pragma once

#include <curl/curl.h>

#include "check-loop.h"
#include "http-request.h"
#include "http-response.h"
#include "io-set.h"
#include "probe.h"

typedef struct ks_probe_backend {
        /* At ks_probe_new: 0 when this backend runs the check, -EPROTONOSUPPORT when it cannot,
         * other negative errno on failure. */
        int (*init)(ks_probe *c);
        /* Starts a run, whose callback, timeout and start time probe.c has set. */
        int (*start)(ks_probe *c, ks_check_loop *loop);
        /* Aborts the run in flight without a result. */
        void (*cancel)(ks_probe *c);
        /* Drops what only a run needs (run ended or aborted). */
        void (*end_run)(ks_probe *c);
        /* Frees the backend's state, with the probe. */
        void (*done)(ks_probe *c);
} ks_probe_backend;

extern const ks_probe_backend ks_probe_native_backend;
extern const ks_probe_backend ks_probe_curl_backend;

typedef struct ks_probe_native {
        ks_sockaddr addr;               /* where to connect */
        ks_http_request req;            /* HTTP: the request, built once */
        ks_io_watch conn;               /* the connection; with reuse kept between runs */
        ks_io_set *io;                  /* where conn is, while it is */
        ks_io_deadline deadline;        /* of the run in flight */
        ks_http_response *resp;         /* the parser, from the first HTTP run on */
        size_t sent;                    /* of the request, in this run */
        int conn_errno;                 /* connect()'s own failure, reported from the loop */
        bool connected;                 /* the handshake finished (in this run, or a kept one) */
        bool reused;                    /* this run started on a kept connection */
        bool got_bytes;                 /* any byte of the answer arrived */
} ks_probe_native;

typedef struct ks_probe_curl {
        CURL *easy;                     /* only while a run is in flight */
        ks_check_loop *pool;            /* where easy came from and goes back to */
        struct curl_slist *headers;     /* made at the first run (needs libcurl) */
        char *tcp_url;                  /* what curl connects to for a TCP check to a host name */
        ks_curl_done done_glue;
        char *errbuf;                   /* CURL_ERROR_SIZE bytes, only while a run is in flight */
        bool too_large;
        bool ip_literal;                /* the URL's host is an address: nothing to resolve */
        bool prepared;                  /* headers and ip_literal are made */
        unsigned key;                   /* the connection cache its connection stays in */
} ks_probe_curl;

struct ks_probe {
        ks_check check;                 /* a copy of the definition's */
        ks_probe_options opts;
        const ks_probe_backend *backend;
        ks_check_loop *loop;            /* set while a run is in flight */
        ks_probe_done_t done;
        void *userdata;
        uint64_t started_usec;
        uint64_t run_timeout_usec;
        size_t received;                /* body bytes seen in this run */
        char *body;                     /* the first max_response bytes, when expect_body is set */
        size_t body_len, body_size;
        ks_probe_native native;
        ks_probe_curl curl;
};

/* The largest answer the check takes. */
size_t probe_max_response(const ks_probe *c);
/* Takes n more body bytes of the answer: counted against the cap, and kept when the body is to
 * be inspected. -EFBIG over the cap, -ENOMEM. */
int probe_take_body(ks_probe *c, const char *data, size_t n);
/* The verdict on an HTTP answer: its status, then its body. */
void probe_judge_http(ks_probe *c, long status, ks_probe_result *r);
/* A result that says which timeout ran out. */
void probe_timed_out(ks_probe *c, bool connecting, ks_probe_result *r);
/* Ends the run in flight with result (latency set by the backend): the backend drops the run's
 * state, then the callback runs, last (it may free or restart the check). */
void probe_finish(ks_probe *c, ks_probe_result *result);
