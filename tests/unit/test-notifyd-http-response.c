/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The HTTP/1.x response parser against a table of responses, valid and not: each is fed whole, one
 * byte at a time, and in two pieces split at every point, and every way must give the expected
 * status, framing, keep-alive, error and body (as collected by the callback), and leave the bytes
 * after the response unconsumed.
 */
#include <errno.h>

#include "http-response.h"
#include "macro.h"
#include "test.h"

#define BODY_MAX 65536

typedef struct body {
        char data[BODY_MAX];
        size_t len;
        size_t cap;             /* the callback fails with -EFBIG past this many bytes; 0: no cap */
        unsigned calls;
} body;

static int collect(const char *data, size_t n, void *userdata) {
        body *b = userdata;

        ASSERT_TRUE(n > 0);
        b->calls++;
        if (b->cap > 0 && b->len + n > b->cap)
                return -EFBIG;
        ASSERT_TRUE(b->len + n <= BODY_MAX);
        memcpy(b->data + b->len, data, n);
        b->len += n;
        return 0;
}

enum { NO_EOF, EOF_AFTER };

typedef struct test_case {
        const char *name;
        const char *input;
        size_t len;             /* 0: strlen(input) */
        bool head;
        int eof;                /* EOF_AFTER: the peer closes after the input */
        size_t cap;             /* body cap, see struct body */

        /* Expected, after the input (and the close, with EOF_AFTER). */
        int rc;                 /* the first error of feed or eof, or 0 */
        const char *error;      /* r->error */
        int status, minor;
        bool complete, keep_alive;
        const char *body;       /* NULL: "" */
        size_t trailing;        /* bytes after the response, left unconsumed */
} test_case;

#define OK200 "HTTP/1.1 200 OK\r\n"
/* An input with NUL bytes in it. */
#define BIN(s) s, .len = sizeof(s) - 1
#define CHUNKED OK200 "Transfer-Encoding: chunked\r\n\r\n"

static const test_case cases[] = {
        /* Content-Length framing and the status line. */
        { "length", OK200 "Content-Length: 5\r\n\r\nhello",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "hello" },
        { "length-then-next-response", OK200 "Content-Length: 5\r\n\r\nhelloHTTP/1.1 200",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "hello", .trailing = 12 },
        { "length-zero", OK200 "Content-Length: 0\r\n\r\nXY",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .trailing = 2 },
        { "no-reason-no-space", "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true },
        { "empty-reason", "HTTP/1.1 404 \r\nContent-Length: 2\r\n\r\nno",
          .status = 404, .minor = 1, .complete = true, .keep_alive = true, .body = "no" },
        { "odd-reason", "HTTP/1.1 500 Internal  Server\tError \xc3\xbc :-)\r\nContent-Length: 1\r\n\r\nx",
          .status = 500, .minor = 1, .complete = true, .keep_alive = true, .body = "x" },
        { "status-999", "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
          .status = 999, .minor = 1, .complete = true, .keep_alive = true },
        { "minor-9", "HTTP/1.9 200 OK\r\nContent-Length: 0\r\n\r\n",
          .status = 200, .minor = 9, .complete = true, .keep_alive = true },
        { "name-case", OK200 "cOnTeNt-LeNgTh: 2\r\n\r\nab",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "ab" },
        { "value-whitespace", OK200 "Content-Length:\t 2 \t\r\n\r\nab",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "ab" },
        { "leading-zeros", OK200 "Content-Length: 0003\r\n\r\nabc",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "abc" },
        { "duplicate-length-same", OK200 "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "abc" },
        { "other-headers", OK200 "Server: x\r\nX-Empty:\r\nX-Colons: a:b:c\r\nContent-Length: 1\r\n\r\n!",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "!" },
        { "bare-lf", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "ok" },
        { "mixed-line-ends", "HTTP/1.1 200 OK\nContent-Length: 2\r\n\nok",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "ok" },

        /* Content-Length errors. */
        { "length-letters", OK200 "Content-Length: abc\r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-negative", OK200 "Content-Length: -1\r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-plus", OK200 "Content-Length: +1\r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-empty", OK200 "Content-Length:  \r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-inner-space", OK200 "Content-Length: 1 2\r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-list", OK200 "Content-Length: 2, 2\r\n\r\nab",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-overflow", OK200 "Content-Length: 18446744073709551616\r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-overflow-big", OK200 "Content-Length: 99999999999999999999999\r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Content-Length" },
        { "length-max-truncated", OK200 "Content-Length: 18446744073709551615\r\n\r\nabc", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "response truncated", .status = 200, .minor = 1, .body = "abc" },
        { "length-conflict", OK200 "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
          .rc = -EBADMSG, .error = "conflicting Content-Length" },
        { "length-truncated", OK200 "Content-Length: 10\r\n\r\nabc", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "response truncated", .status = 200, .minor = 1, .body = "abc" },
        { "length-incomplete-no-eof", OK200 "Content-Length: 10\r\n\r\nabc",
          .status = 200, .minor = 1, .body = "abc" },

        /* Keep-alive and Connection. */
        { "http10", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
          .status = 200, .minor = 0, .complete = true, .keep_alive = false, .body = "ok" },
        { "http10-keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok",
          .status = 200, .minor = 0, .complete = true, .keep_alive = true, .body = "ok" },
        { "http10-keep-alive-and-close", "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\n"
          "Content-Length: 2\r\n\r\nok",
          .status = 200, .minor = 0, .complete = true, .keep_alive = false, .body = "ok" },
        { "http11-close", OK200 "Connection: close\r\nContent-Length: 2\r\n\r\nok",
          .status = 200, .minor = 1, .complete = true, .keep_alive = false, .body = "ok" },
        { "connection-list-close", OK200 "Connection: Upgrade, CLOSE\r\nContent-Length: 0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = false },
        { "connection-list-empty-elements", "HTTP/1.0 200 OK\r\nConnection: ,, keep-alive ,\r\n"
          "Content-Length: 0\r\n\r\n",
          .status = 200, .minor = 0, .complete = true, .keep_alive = true },
        { "connection-not-close", OK200 "Connection: closed, xclose, close-ish\r\nContent-Length: 0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true },
        { "connection-second-line", OK200 "Connection: te\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = false },
        { "until-close", OK200 "\r\nabc", .eof = EOF_AFTER,
          .status = 200, .minor = 1, .complete = true, .keep_alive = false, .body = "abc" },
        { "until-close-empty", OK200 "Server: x\r\n\r\n", .eof = EOF_AFTER,
          .status = 200, .minor = 1, .complete = true, .keep_alive = false },
        { "until-close-no-eof", OK200 "\r\nabc",
          .status = 200, .minor = 1, .complete = false, .body = "abc" },
        { "http10-until-close", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nabc", .eof = EOF_AFTER,
          .status = 200, .minor = 0, .complete = true, .keep_alive = false, .body = "abc" },

        /* Responses without a body. */
        { "head", OK200 "Content-Length: 100\r\n\r\n", .head = true,
          .status = 200, .minor = 1, .complete = true, .keep_alive = true },
        { "head-chunked", CHUNKED "HTTP/1.1 200", .head = true,
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .trailing = 12 },
        { "head-no-length", OK200 "\r\nX", .head = true,
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .trailing = 1 },
        { "204", "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nHTTP/1.1", .status = 204, .minor = 1,
          .complete = true, .keep_alive = true, .trailing = 8 },
        { "304-chunked", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
          .status = 304, .minor = 1, .complete = true, .keep_alive = true, .trailing = 5 },
        { "304-close", "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n",
          .status = 304, .minor = 1, .complete = true, .keep_alive = false },

        /* Interim responses. */
        { "100-continue", "HTTP/1.1 100 Continue\r\n\r\n" OK200 "Content-Length: 2\r\n\r\nhi",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "hi" },
        { "100-103-then-200", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
          "Link: </a.css>; rel=preload\r\nContent-Length: 99\r\nConnection: close\r\n\r\n"
          "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi",
          .status = 200, .minor = 0, .complete = true, .keep_alive = true, .body = "hi" },
        { "1xx-bare-lf", "HTTP/1.1 100 Continue\n\nHTTP/1.1 204 No Content\n\n",
          .status = 204, .minor = 1, .complete = true, .keep_alive = true },
        { "101", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n",
          .rc = -EBADMSG, .error = "unexpected 101 switching protocols" },
        { "1xx-then-eof", "HTTP/1.1 100 Continue\r\n\r\n", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "response truncated" },

        /* Chunked. */
        { "chunked", CHUNKED "5\r\nhello\r\n6;ext=1;q=\"a;b\"\r\n world\r\nA \r\n0123456789\r\n0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "hello world0123456789" },
        { "chunked-hex-case", CHUNKED "000a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "0123456789abcdefghijk" },
        { "chunked-trailers", CHUNKED "3\r\nabc\r\n0;end\r\nExpires: never\r\n folded trailer\r\n"
          "X-Sum: 1\r\n\r\nNEXT",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "abc", .trailing = 4 },
        { "chunked-bare-lf", "HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n3\nabc\n2\r\nde\n0\n\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "abcde" },
        { "chunked-ext-whitespace", CHUNKED "3 \t;x\r\nabc\r\n0 \r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "abc" },
        { "chunked-close", OK200 "Connection: close\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n"
          "0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = false, .body = "a" },
        { "chunked-wins-over-length", OK200 "Content-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"
          "2\r\nab\r\n0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = false, .body = "ab" },
        { "chunked-http10", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n"
          "2\r\nab\r\n0\r\n\r\n",
          .status = 200, .minor = 0, .complete = true, .keep_alive = false, .body = "ab" },
        { "te-gzip-chunked", OK200 "Transfer-Encoding: gzip, Chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "ab" },
        { "te-params", OK200 "Transfer-Encoding: foo;a=1 , chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "ab" },
        { "te-two-lines", OK200 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n"
          "ab\r\n0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "ab" },
        { "te-chunked-not-final", OK200 "Transfer-Encoding: chunked, gzip\r\n\r\n2\r\nab\r\n0\r\n\r\n",
          .eof = EOF_AFTER, .status = 200, .minor = 1, .complete = true, .keep_alive = false,
          .body = "2\r\nab\r\n0\r\n\r\n" },
        { "te-not-chunked-with-length", OK200 "Transfer-Encoding: gzip\r\nContent-Length: 2\r\n\r\nabcd",
          .eof = EOF_AFTER, .status = 200, .minor = 1, .complete = true, .keep_alive = false,
          .body = "abcd" },
        { "te-empty", OK200 "Transfer-Encoding: \r\n\r\n", .rc = -EBADMSG,
          .error = "invalid Transfer-Encoding" },
        { "te-commas", OK200 "Transfer-Encoding: , ,\r\n\r\n", .rc = -EBADMSG,
          .error = "invalid Transfer-Encoding" },
        { "te-bad-token", OK200 "Transfer-Encoding: ch@nked\r\n\r\n",
          .rc = -EBADMSG, .error = "invalid Transfer-Encoding" },
        { "te-space-in-token", OK200 "Transfer-Encoding: chun ked\r\n\r\n", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "invalid Transfer-Encoding" },

        /* Chunked errors. */
        { "chunk-size-letters", CHUNKED "zz\r\n", .rc = -EBADMSG, .error = "invalid chunk size",
          .status = 200, .minor = 1 },
        { "chunk-size-empty", CHUNKED "\r\nabc", .rc = -EBADMSG, .error = "invalid chunk size",
          .status = 200, .minor = 1 },
        { "chunk-size-negative", CHUNKED "-1\r\n", .rc = -EBADMSG, .error = "invalid chunk size",
          .status = 200, .minor = 1 },
        { "chunk-size-0x", CHUNKED "0x5\r\nhello\r\n", .rc = -EBADMSG, .error = "invalid chunk size",
          .status = 200, .minor = 1 },
        { "chunk-size-junk", CHUNKED "5 x\r\nhello\r\n", .rc = -EBADMSG, .error = "invalid chunk size",
          .status = 200, .minor = 1 },
        { "chunk-size-overflow", CHUNKED "10000000000000000\r\n", .rc = -EBADMSG,
          .error = "invalid chunk size",
          .status = 200, .minor = 1 },
        { "chunk-size-max", CHUNKED "ffffffffffffffff\r\nabc", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "response truncated", .status = 200, .minor = 1, .body = "abc" },
        { "chunk-missing-crlf", CHUNKED "5\r\nhelloX\r\n0\r\n\r\n", .body = "hello",
          .rc = -EBADMSG, .error = "missing line end after chunk data", .status = 200, .minor = 1 },
        { "chunk-cr-without-lf", CHUNKED "5\r\nhello\rX", .body = "hello",
          .rc = -EBADMSG, .error = "missing line end after chunk data", .status = 200, .minor = 1 },
        { "chunk-truncated-data", CHUNKED "5\r\nhel", .eof = EOF_AFTER, .body = "hel",
          .rc = -EBADMSG, .error = "response truncated", .status = 200, .minor = 1 },
        { "chunk-truncated-no-last", CHUNKED "5\r\nhello\r\n", .eof = EOF_AFTER, .body = "hello",
          .rc = -EBADMSG, .error = "response truncated", .status = 200, .minor = 1 },
        { "chunk-truncated-trailers", CHUNKED "0\r\nX: y\r\n", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "response truncated", .status = 200, .minor = 1 },
        { "chunk-bare-cr-in-size", CHUNKED "5\rhello", .rc = -EBADMSG, .error = "invalid chunk size",
          .status = 200, .minor = 1 },

        /* Status line errors. */
        { "status-2-digits", "HTTP/1.1 20 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "status-4-digits", "HTTP/1.1 2000 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "status-no-space", "HTTP/1.1 200OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "status-below-100", "HTTP/1.1 099 Low\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "status-letters", "HTTP/1.1 2x0 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "status-two-spaces", "HTTP/1.1  200 OK\r\n\r\n", .rc = -EBADMSG,
          .error = "malformed status line" },
        { "status-tab", "HTTP/1.1\t200 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "version-2", "HTTP/2 200 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "version-2.0", "HTTP/2.0 200 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "version-1.10", "HTTP/1.10 200 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "version-lowercase", "http/1.1 200 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "version-1.x", "HTTP/1.x 200 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "icy", "ICY 200 OK\r\n\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "leading-empty-line", "\r\n" OK200 "\r\n", .rc = -EBADMSG, .error = "malformed status line" },
        { "status-bare-cr", "HTTP/1.1 200 OK\rContent-Length: 0\r\n\r\n",
          .rc = -EBADMSG, .error = "malformed status line" },
        { "status-nul", BIN("HTTP/1.1 200 O\0K\r\n\r\n"), .rc = -EBADMSG, .error = "malformed status line" },
        { "html-instead", "<html><body>hi</body></html>\n", .rc = -EBADMSG,
          .error = "malformed status line" },

        /* Header errors. */
        { "obs-fold", OK200 "X-A: a\r\n b\r\nContent-Length: 0\r\n\r\n",
          .rc = -EBADMSG, .error = "obsolete line folding" },
        { "obs-fold-tab", OK200 "X-A: a\r\n\tb\r\nContent-Length: 0\r\n\r\n",
          .rc = -EBADMSG, .error = "obsolete line folding" },
        { "obs-fold-first", OK200 " X-A: a\r\n\r\n", .rc = -EBADMSG, .error = "obsolete line folding" },
        { "space-before-colon", OK200 "Content-Length : 5\r\n\r\nhello",
          .rc = -EBADMSG, .error = "malformed header line" },
        { "no-colon", OK200 "Content-Length 5\r\n\r\nhello", .rc = -EBADMSG,
          .error = "malformed header line" },
        { "empty-name", OK200 ": x\r\n\r\n", .rc = -EBADMSG, .error = "malformed header line" },
        { "bad-name", OK200 "X(y): z\r\n\r\n", .rc = -EBADMSG, .error = "malformed header line" },
        { "header-bare-cr", OK200 "X-A: a\rb\r\n\r\n", .rc = -EBADMSG, .error = "malformed header line" },
        { "header-nul", BIN(OK200 "X-A: a\0b\r\n\r\n"), .rc = -EBADMSG, .error = "malformed header line" },
        { "header-nul-first", BIN(OK200 "\0X-A: a\r\n\r\n"), .rc = -EBADMSG, .error = "malformed header line" },
        { "header-nul-before-crlf", BIN(OK200 "X-A: a\0\r\n\r\n"), .rc = -EBADMSG,
          .error = "malformed header line" },
        { "header-cr-cr-lf", OK200 "X-A: a\r\r\n\r\n", .rc = -EBADMSG, .error = "malformed header line" },
        { "header-bare-cr-in-empty-line", OK200 "X-A: a\r\n\rX\r\n", .rc = -EBADMSG,
          .error = "malformed header line" },
        /* Other control bytes and bytes over 0x7f are ordinary in a value. */
        { "header-odd-value-bytes", OK200 "X-A: \t\x01\x0b\x0c\x0e\x7f\x80\xff\r\nContent-Length: 0\r\n\r\n",
          .status = 200, .minor = 1, .complete = true, .keep_alive = true },
        { "header-name-high-byte", OK200 "X-\xc3\xa4: a\r\n\r\n", .rc = -EBADMSG,
          .error = "malformed header line" },
        { "trailer-nul", BIN(CHUNKED "0\r\nX: a\0b\r\n\r\n"), .rc = -EBADMSG,
          .error = "malformed trailer line", .status = 200, .minor = 1 },
        { "trailer-bare-cr", CHUNKED "0\r\nX: a\rb\r\n\r\n", .rc = -EBADMSG,
          .error = "malformed trailer line", .status = 200, .minor = 1 },
        { "chunk-size-nul", BIN(CHUNKED "3\0\r\nabc\r\n0\r\n\r\n"), .rc = -EBADMSG,
          .error = "invalid chunk size", .status = 200, .minor = 1 },

        /* Cut short, and the body callback's own error. */
        { "empty", "", .eof = EOF_AFTER, .rc = -EBADMSG, .error = "empty response" },
        { "truncated-status", "HTTP/1.1 2", .eof = EOF_AFTER, .rc = -EBADMSG,
          .error = "response truncated" },
        { "truncated-headers", OK200 "Content-Length: 2\r\n", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "response truncated" },
        { "truncated-before-status-end", "HTTP/1.1 200 OK\r", .eof = EOF_AFTER,
          .rc = -EBADMSG, .error = "response truncated" },
        { "incomplete-headers-no-eof", OK200 "Content-Length: 2\r\n" },
        { "body-cap", OK200 "Content-Length: 10\r\n\r\n0123456789", .cap = 4,
          .rc = -EFBIG, .status = 200, .minor = 1 },
        { "body-cap-chunked", CHUNKED "3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n", .cap = 5,
          .rc = -EFBIG, .status = 200, .minor = 1 },
        { "body-cap-until-close", OK200 "\r\n0123456789", .cap = 9, .eof = EOF_AFTER,
          .rc = -EFBIG, .status = 200, .minor = 1 },
        { "body-cap-exact", OK200 "Content-Length: 4\r\n\r\n0123", .cap = 4,
          .status = 200, .minor = 1, .complete = true, .keep_alive = true, .body = "0123" },
};

typedef struct outcome {
        int rc;
        size_t consumed;
        ks_http_response r;
        body b;
} outcome;

static body scratch;

/* Feeds c's input in pieces: of size step, or (step 0) split in two at split. */
static void feed(const test_case *c, size_t len, size_t step, size_t split, outcome *o) {
        ks_http_response *r = &o->r;
        size_t off = 0;

        memset(&o->b, 0, sizeof o->b);
        o->b.cap = c->cap;
        o->rc = 0;
        o->consumed = 0;
        ks_http_response_init(r, c->head);

        while (off < len || (off == 0 && len == 0)) {
                size_t n = step > 0 ? MIN(step, len - off) : (off < split ? split - off : len - off);
                int k = ks_http_response_feed(r, c->input + off, n, collect, &o->b);

                if (k < 0) {
                        o->rc = k;
                        /* An error sticks. */
                        ASSERT_EQ(ks_http_response_feed(r, c->input, len, collect, &o->b), k);
                        break;
                }
                ASSERT_TRUE((size_t) k <= n);
                /* Less than all only when the response ended. */
                ASSERT_TRUE((size_t) k == n || r->complete);
                o->consumed += (size_t) k;
                off += n;
                if (len == 0)
                        break;
        }
        if (o->rc == 0 && c->eof == EOF_AFTER)
                o->rc = ks_http_response_eof(r);
        if (r->complete) {
                /* Complete stays complete and consumes nothing more. */
                ASSERT_EQ(ks_http_response_feed(r, "HTTP/1.1 200 OK\r\n", 17, collect, &o->b), 0);
                ASSERT_EQ(ks_http_response_eof(r), 0);
        }
}

static void check(const test_case *c, const outcome *o, const char *how, size_t arg) {
        const char *want_body = c->body ?: "";
        size_t len = c->len ?: strlen(c->input);
        bool ok = true;

#define EXPECT(cond) do { ks_test_checks++; if (!(cond)) { ok = false; \
                fprintf(stderr, "case %s (%s %zu): failed: %s\n", c->name, how, arg, #cond); } } while (0)
        EXPECT(o->rc == c->rc);
        EXPECT((o->r.error == NULL) == (c->error == NULL));
        EXPECT(!o->r.error || !c->error || strcmp(o->r.error, c->error) == 0);
        EXPECT(o->r.status == c->status);
        if (c->status != 0)
                EXPECT(o->r.minor_version == c->minor);
        EXPECT(o->r.complete == c->complete);
        EXPECT(o->r.keep_alive == c->keep_alive);
        if (c->rc == 0 || c->body) {
                EXPECT(o->b.len == strlen(want_body));
                EXPECT(memcmp(o->b.data, want_body, MIN(o->b.len, strlen(want_body))) == 0);
        }
        if (c->rc == 0)
                EXPECT(o->consumed == len - c->trailing);
#undef EXPECT
        if (!ok) {
                fprintf(stderr, "  got rc=%d error=%s status=%d minor=%d complete=%d keep_alive=%d "
                        "consumed=%zu body=\"%.*s\"\n", o->rc, o->r.error ?: "(null)", o->r.status,
                        o->r.minor_version, o->r.complete, o->r.keep_alive, o->consumed,
                        (int) MIN(o->b.len, 200u), o->b.data);
                abort();
        }
}

static unsigned n_runs;

/* Whole, byte by byte, in a few small steps, and split in two at every point (every stride-th point
 * for long inputs, plus those near the ends). */
static void run_case(const test_case *c) {
        size_t len = c->len ?: strlen(c->input);
        size_t stride = len > 2048 ? 61 : 1;
        static outcome o;

        feed(c, len, 0, len, &o);
        check(c, &o, "whole", len);
        for (size_t step = 1; step <= 7; step++) {
                feed(c, len, step, 0, &o);
                check(c, &o, "steps of", step);
                n_runs++;
        }
        for (size_t split = 0; split <= len; split++) {
                if (split % stride != 0 && split > 64 && len - split > 64)
                        continue;
                feed(c, len, 0, split, &o);
                check(c, &o, "split at", split);
                n_runs++;
        }
}

/* Cases too long to write out: built here, then run like the table's. */
static char big[80000];

static size_t build(const char *prefix, const char *fill, size_t times, const char *suffix) {
        size_t n = 0, l;

        l = strlen(prefix);
        ASSERT_TRUE(n + l < sizeof big);
        memcpy(big + n, prefix, l), n += l;
        l = strlen(fill);
        for (size_t i = 0; i < times; i++) {
                ASSERT_TRUE(n + l < sizeof big);
                memcpy(big + n, fill, l), n += l;
        }
        l = strlen(suffix);
        ASSERT_TRUE(n + l < sizeof big);
        memcpy(big + n, suffix, l), n += l;
        big[n] = 0;
        return n;
}

static void test_long_inputs(void) {
        /* The header section at exactly the limit, and one byte over it. Fixed part: status line
         * (17), "X-Pad: " (7), CRLF (2), "Content-Length: 0\r\n" (19), final CRLF (2) = 47. */
        size_t pad = KS_HTTP_MAX_HEADER_BYTES - 47;
        build(OK200 "X-Pad: ", "p", pad, "\r\nContent-Length: 0\r\n\r\n");
        ASSERT_EQ(strlen(big), KS_HTTP_MAX_HEADER_BYTES);
        run_case(&(test_case) { "header-at-limit", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true });
        build(OK200 "X-Pad: ", "p", pad + 1, "\r\nContent-Length: 0\r\n\r\n");
        run_case(&(test_case) { "header-over-limit", big, .rc = -E2BIG,
                                .error = "header section too large" });
        /* The limit falls between a header line's CR and its LF. Fixed part: status line (17),
         * "Content-Length: 0\r\n" (19), "X-Pad: " (7), CR (1) = 44. */
        build(OK200 "Content-Length: 0\r\nX-Pad: ", "p", KS_HTTP_MAX_HEADER_BYTES - 44, "\r\n\r\n");
        run_case(&(test_case) { "header-limit-inside-crlf", big, .rc = -E2BIG,
                                .error = "header section too large" });
        /* A NUL (or bare CR) past the part of a line that is kept is still seen, even at the limit. */
        size_t nul = build(OK200 "X-Long: ", "v", 200, "?\r\nContent-Length: 0\r\n\r\n") - 24;
        big[nul] = '\0';
        run_case(&(test_case) { "nul-past-kept-part", big, .len = nul + 24, .rc = -EBADMSG,
                                .error = "malformed header line" });
        big[nul] = '\r';
        run_case(&(test_case) { "cr-past-kept-part", big, .rc = -EBADMSG, .error = "malformed header line" });
        /* The NUL as the last byte within the limit, then as the first one over it. */
        nul = build(OK200 "X-Pad: ", "p", KS_HTTP_MAX_HEADER_BYTES - 25, "?\r\n\r\n") - 5;
        big[nul] = '\0';
        run_case(&(test_case) { "nul-at-limit", big, .len = nul + 5, .rc = -EBADMSG,
                                .error = "malformed header line" });
        nul = build(OK200 "X-Pad: ", "p", KS_HTTP_MAX_HEADER_BYTES - 24, "?\r\n\r\n") - 5;
        big[nul] = '\0';
        run_case(&(test_case) { "nul-over-limit", big, .len = nul + 5, .rc = -E2BIG,
                                .error = "header section too large" });
        build(OK200 "X-Pad: ", "p", 40000, "");
        run_case(&(test_case) { "endless-header-line", big, .rc = -E2BIG,
                                .error = "header section too large" });
        build("HTTP/1.1 200 ", "r", 20000, "\r\n\r\n");
        run_case(&(test_case) { "endless-status-line", big, .rc = -E2BIG,
                                .error = "header section too large" });
        build("", "HTTP/1.1 100 Continue\r\n\r\n", 700, OK200 "Content-Length: 0\r\n\r\n");
        run_case(&(test_case) { "endless-1xx", big, .rc = -E2BIG, .error = "header section too large" });
        build(OK200, "X-Many: 1\r\n", 1000, "Content-Length: 0\r\n\r\n");
        run_case(&(test_case) { "many-headers", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true });

        /* Long lines of headers that do not matter are skipped. */
        build(OK200 "X-Long: ", "v", 3000, "\r\nContent-Length: 2\r\n\r\nok");
        run_case(&(test_case) { "long-unrelated-header", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = "ok" });
        build(OK200 "X-", "n", 300, ": v\r\nContent-Length: 2\r\n\r\nok");
        run_case(&(test_case) { "long-header-name", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = "ok" });
        build(OK200 "X-", "n", 300, "\r\nContent-Length: 2\r\n\r\nok");
        run_case(&(test_case) { "long-header-name-no-colon", big, .status = 200, .minor = 1,
                                .complete = true, .keep_alive = true, .body = "ok" });
        build("HTTP/1.1 200 ", "reason ", 1000, "\r\nContent-Length: 2\r\n\r\nok");
        run_case(&(test_case) { "long-reason", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = "ok" });

        /* Framing headers too long to keep: decided safely. */
        build(OK200 "Connection: ", "keep-alive, ", 30, "te\r\nContent-Length: 2\r\n\r\nok");
        run_case(&(test_case) { "long-connection", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = false, .body = "ok" });
        build(OK200 "Content-Length: ", "0", 200, "2\r\n\r\nok");
        run_case(&(test_case) { "long-content-length", big, .rc = -EBADMSG,
                                .error = "invalid Content-Length" });
        build(OK200 "Transfer-Encoding: ", "gzip, ", 30, "chunked\r\n\r\n0\r\n\r\n");
        run_case(&(test_case) { "long-transfer-encoding", big, .rc = -EBADMSG,
                                .error = "invalid Transfer-Encoding" });
        /* What is kept of a line: all of a line of sizeof(line) bytes, and not one byte more. */
        ks_http_response probe;
        size_t keep = sizeof probe.line;
        build(OK200 "Content-Length: ", "0", keep - 17, "2\r\n\r\nok");
        run_case(&(test_case) { "content-length-line-kept", big, .status = 200, .minor = 1,
                                .complete = true, .keep_alive = true, .body = "ok" });
        build(OK200 "Content-Length: ", "0", keep - 16, "2\r\n\r\nok");
        run_case(&(test_case) { "content-length-line-cut", big, .rc = -EBADMSG,
                                .error = "invalid Content-Length" });
        build(CHUNKED, "0", keep - 1, "3\r\nabc\r\n0\r\n\r\n");
        run_case(&(test_case) { "chunk-size-line-kept", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = "abc" });
        build(CHUNKED, "0", keep, "3\r\nabc\r\n0\r\n\r\n");
        run_case(&(test_case) { "chunk-size-line-cut", big, .rc = -EBADMSG, .error = "invalid chunk size",
                                .status = 200, .minor = 1 });
        build(OK200 "Connection: close", " ", keep - 17, "\r\nContent-Length: 0\r\n\r\n");
        run_case(&(test_case) { "connection-line-kept", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = false });
        build(OK200 "Connection: te", " ", keep - 14, "\r\nContent-Length: 0\r\n\r\n");
        run_case(&(test_case) { "connection-line-kept-no-close", big, .status = 200, .minor = 1,
                                .complete = true, .keep_alive = true });
        build(OK200 "Connection: te", " ", keep - 13, "\r\nContent-Length: 0\r\n\r\n");
        run_case(&(test_case) { "connection-line-cut", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = false });
        build(CHUNKED, "0", 200, "3\r\nabc\r\n0\r\n\r\n");
        run_case(&(test_case) { "long-chunk-size", big, .rc = -EBADMSG, .error = "invalid chunk size",
                                .status = 200, .minor = 1 });
        build(CHUNKED "3;", "x", 3000, "\r\nabc\r\n0\r\n\r\n");
        run_case(&(test_case) { "long-chunk-extension", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = "abc" });
        build(CHUNKED "3;", "x", 5000, "\r\nabc\r\n0\r\n\r\n");
        run_case(&(test_case) { "endless-chunk-extension", big, .rc = -EBADMSG,
                                .error = "chunk extension too long", .status = 200, .minor = 1 });
        /* The longest chunk-size line: CHUNK_LINE_MAX - 1 = 4095 bytes before its line end. */
        build(CHUNKED "3;", "x", 4093, "\r\nabc\r\n0\r\n\r\n");
        run_case(&(test_case) { "chunk-extension-at-limit", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = "abc" });
        build(CHUNKED "3;", "x", 4094, "\r\nabc\r\n0\r\n\r\n");
        run_case(&(test_case) { "chunk-extension-over-limit", big, .rc = -EBADMSG,
                                .error = "chunk extension too long", .status = 200, .minor = 1 });
        build(CHUNKED "0\r\n", "X-Trailer: 0123456789\r\n", 1000, "\r\n");
        run_case(&(test_case) { "trailers-too-large", big, .rc = -E2BIG,
                                .error = "trailer section too large",
                                .status = 200, .minor = 1 });

        /* Big bodies arrive whole. */
        static char want[BODY_MAX];
        size_t n = build(OK200 "Content-Length: 60000\r\n\r\n", "0123456789", 6000, "");
        memcpy(want, big + n - 60000, 60000);
        want[60000] = 0;
        run_case(&(test_case) { "big-body", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = want });
        build(CHUNKED, "a\r\n0123456789\r\n", 3000, "0\r\n\r\n");
        want[30000] = 0;
        run_case(&(test_case) { "many-chunks", big, .status = 200, .minor = 1, .complete = true,
                                .keep_alive = true, .body = want });
}

/* The API's edges that the table does not reach. */
static void test_api(void) {
        ks_http_response r;

        /* No callback: the body is skipped. */
        ks_http_response_init(&r, false);
        ASSERT_EQ(ks_http_response_feed(&r, OK200 "Content-Length: 3\r\n\r\nabcX", 42, NULL, NULL), 41);
        ASSERT_TRUE(r.complete);
        ASSERT_TRUE(r.keep_alive);

        /* status stays 0 until the header section is over, and through 1xx. */
        ks_http_response_init(&r, false);
        ASSERT_EQ(ks_http_response_feed(&r, "HTTP/1.1 100 Continue\r\n\r\n" OK200, 42, NULL, NULL), 42);
        ASSERT_EQ(r.status, 0);
        ASSERT_EQ(ks_http_response_feed(&r, "\r\n", 2, NULL, NULL), 2);
        ASSERT_EQ(r.status, 200);
        ASSERT_TRUE(!r.complete);

        /* A zero-length feed is harmless. */
        ks_http_response_init(&r, false);
        ASSERT_EQ(ks_http_response_feed(&r, "", 0, collect, &scratch), 0);
        ASSERT_EQ(ks_http_response_eof(&r), -EBADMSG);
        ASSERT_STREQ(r.error, "empty response");
        ASSERT_EQ(ks_http_response_feed(&r, OK200, 17, collect, &scratch), -EBADMSG);

        /* The body callback's error is passed on and sticks; r->error is left alone. */
        ks_http_response_init(&r, false);
        scratch = (body) { .cap = 1 };
        ASSERT_EQ(ks_http_response_feed(&r, OK200 "\r\nabc", 22, collect, &scratch), -EFBIG);
        ASSERT_TRUE(r.error == NULL);
        ASSERT_EQ(ks_http_response_eof(&r), -EFBIG);
}

int main(void) {
        for (size_t i = 0; i < ELEMENTSOF(cases); i++)
                run_case(&cases[i]);
        printf("%zu table cases\n", ELEMENTSOF(cases));
        test_long_inputs();
        test_api();
        printf("%u feeds of split inputs\n", n_runs);
        TEST_DONE();
}
