/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * An incremental parser for one HTTP/1.x response, for notifyd's own plain-HTTP checks. It is fed
 * the bytes as they arrive (any split, down to one byte at a time) and keeps no copy of them: it
 * reports the status, whether the connection may carry the next request, and hands the body
 * (de-chunked) to a callback. It stores no header but the few that frame the message.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The whole header section (status line and headers) may not be longer than this. */
#define KS_HTTP_MAX_HEADER_BYTES (16u * 1024u)

/* Body bytes as they arrive; a negative errno return aborts the parse with that error. */
typedef int (*ks_http_body_t)(const char *data, size_t n, void *userdata);

typedef struct ks_http_response {
        /* Results, valid once the header section was parsed (status != 0). */
        int status;                     /* 100..999 of the final (non-1xx) response */
        int minor_version;              /* HTTP/1.minor_version */
        bool keep_alive;                /* the connection may carry another request after this */
        bool complete;                  /* the whole response, body included, was parsed */
        const char *error;              /* after a failure: what was wrong, for messages */

        /* Parser state: private. */
        bool head;                      /* the request was HEAD: no body whatever the headers say */
        unsigned state;
        unsigned header_bytes;
        unsigned line_len;
        char line[96];                  /* the start of the current line: only its start matters */
        bool chunked, have_length, close;
        uint64_t remaining;             /* of the body (length) or of the current chunk */
} ks_http_response;

/* head: the request was a HEAD request. */
void ks_http_response_init(ks_http_response *r, bool head);

/* Parses n more bytes. Returns how many it consumed: all n unless the response ended before them
 * (then r->complete is set; the rest is not part of this response). -EBADMSG for a malformed
 * response, -E2BIG for a header section over KS_HTTP_MAX_HEADER_BYTES (both set r->error), or
 * the body callback's own error. */
int ks_http_response_feed(ks_http_response *r, const char *data, size_t n, ks_http_body_t body, void *userdata);

/* The peer closed the connection. 0 when that ends the response (a body framed by the close) or
 * it had already ended; -EBADMSG (r->error set) when the response was cut short. */
int ks_http_response_eof(ks_http_response *r);
