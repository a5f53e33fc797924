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
        int status;                     /* 200..999 of the final response (1xx ones are skipped) */
        int minor_version;              /* HTTP/1.minor_version */
        bool keep_alive;                /* the connection may carry another request after this */
        bool complete;                  /* the whole response, body included, was parsed */
        const char *error;              /* after a failure: what was wrong, for messages */

        /* Parser state: private. */
        bool head;                      /* the request was HEAD: no body whatever the headers say */
        unsigned state;
        unsigned header_bytes;          /* of the header section (1xx ones included), then of the trailers */
        unsigned line_len;              /* of the current line, beyond what line[] keeps */
        char line[96];                  /* the start of the current line: only its start matters */
        bool cr;                        /* the last byte was a CR: only LF may follow */
        int code, minor;                /* of the response being read (status is set at its end) */
        bool chunked, te, have_length;  /* Transfer-Encoding: chunked final; any; Content-Length */
        bool close, conn_keep_alive;    /* Connection: close; keep-alive */
        int failure;                    /* the error, returned again by later calls */
        uint64_t remaining;             /* of the body (length) or of the current chunk */
} ks_http_response;

/* head: the request was a HEAD request. */
void ks_http_response_init(ks_http_response *r, bool head);

/* Parses n more bytes. Returns how many it consumed: all n unless the response ended before them
 * (then r->complete is set; the rest is not part of this response). -EBADMSG for a malformed
 * response, -E2BIG for a header (or trailer) section over KS_HTTP_MAX_HEADER_BYTES (both set
 * r->error), or the body callback's own error (r->error stays NULL: the callback knows why). Once
 * complete, it consumes nothing and returns 0; once failed, it returns the same error again.
 * body may be NULL when the body does not matter. At most INT_MAX bytes are taken per call.
 *
 * 1xx interim responses are skipped (their bytes count against KS_HTTP_MAX_HEADER_BYTES with the
 * final response's); a 101 is an error, since no upgrade is ever asked for. Transfer-Encoding next
 * to Content-Length, or in HTTP/1.0, is read by the Transfer-Encoding but the connection is not
 * kept (RFC 9112 section 6.1). */
int ks_http_response_feed(ks_http_response *r, const char *data, size_t n, ks_http_body_t body, void *userdata);

/* The peer closed the connection. 0 when that ends the response (a body framed by the close: then
 * complete, keep_alive false) or it had already ended; -EBADMSG (r->error set: "empty response"
 * when no byte came at all, "response truncated" otherwise) when the response was cut short. */
int ks_http_response_eof(ks_http_response *r);
