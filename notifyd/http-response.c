/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The incremental HTTP/1.x response parser of http-response.h. A state machine over bytes: the
 * status line, header lines, chunk-size lines and trailer lines go through one line accumulator that
 * keeps only the start of each line (r->line); body bytes are handed to the callback straight from
 * the caller's buffer. Framing follows RFC 9112 section 6.3.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "http-response.h"
#include "macro.h"

enum {
        S_STATUS,       /* the status line */
        S_HEADER,       /* header lines, until the empty line */
        S_BODY_LENGTH,  /* r->remaining bytes of body (Content-Length) */
        S_BODY_CLOSE,   /* body until the peer closes */
        S_CHUNK_SIZE,   /* a chunk-size line, extensions included */
        S_CHUNK_DATA,   /* r->remaining bytes of the current chunk */
        S_CHUNK_CR,     /* the line end after a chunk's data */
        S_CHUNK_LF,
        S_TRAILER,      /* trailer lines after the last chunk, until the empty line */
        S_DONE,
        S_FAILED,
};

/* A chunk-size line with its extensions may not be longer than this: extensions carry nothing we
 * use, and the line is never stored whole. */
#define CHUNK_LINE_MAX 4096u

static int fail(ks_http_response *r, int error, const char *message) {
        r->state = S_FAILED;
        r->failure = error;
        r->error = message;
        return error;
}

/* What a malformed line is called, by the state that read it. */
static const char *line_error(const ks_http_response *r) {
        switch (r->state) {
        case S_STATUS:
                return "malformed status line";
        case S_HEADER:
                return "malformed header line";
        case S_CHUNK_SIZE:
                return "invalid chunk size";
        default:
                return "malformed trailer line";
        }
}

static bool is_ows(char c) {
        return c == ' ' || c == '\t';
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

/* tchar of RFC 9110 section 5.6.2. */
static bool is_tchar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int hex_value(char c) {
        if (is_digit(c))
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static bool token_eq(const char *s, size_t n, const char *word) {
        return n == strlen(word) && strncasecmp(s, word, n) == 0;
}

/* Everything that belongs to one response's header section, reset for the response after a 1xx. */
static void reset_response(ks_http_response *r) {
        r->code = 0;
        r->minor = 0;
        r->chunked = r->te = r->have_length = false;
        r->close = r->conn_keep_alive = false;
        r->remaining = 0;
}

void ks_http_response_init(ks_http_response *r, bool head) {
        *r = (ks_http_response) { .head = head, .state = S_STATUS };
}

static void finish(ks_http_response *r, bool framed_by_close) {
        /* A response with Transfer-Encoding next to Content-Length, or in HTTP/1.0, has suspect
         * framing (RFC 9112 section 6.1 and 6.3): it is read, but the connection is not reused. */
        bool suspect = r->te && (r->have_length || r->minor == 0);

        r->keep_alive = !framed_by_close && !suspect && !r->close &&
                (r->minor >= 1 || r->conn_keep_alive);
        r->complete = true;
        r->state = S_DONE;
}

/* "HTTP/1.x SSS[ reason]": strict on the version and the code, anything goes in the reason. */
static int parse_status_line(ks_http_response *r, const char *l, size_t n) {
        if (n < 12 || memcmp(l, "HTTP/1.", 7) != 0 || !is_digit(l[7]) || l[8] != ' ' ||
            !is_digit(l[9]) || !is_digit(l[10]) || !is_digit(l[11]) || l[9] == '0' ||
            (r->line_len > 12 && l[12] != ' '))
                return fail(r, -EBADMSG, "malformed status line");

        r->minor = l[7] - '0';
        r->code = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
        r->state = S_HEADER;
        return 0;
}

static int parse_content_length(ks_http_response *r, const char *v, size_t n, bool truncated) {
        uint64_t length = 0;

        /* One value only: "Content-Length: 5, 5" is rejected rather than folded. */
        if (n == 0 || truncated)
                return fail(r, -EBADMSG, "invalid Content-Length");
        for (size_t i = 0; i < n; i++) {
                if (!is_digit(v[i]) || length > (UINT64_MAX - (unsigned) (v[i] - '0')) / 10)
                        return fail(r, -EBADMSG, "invalid Content-Length");
                length = length * 10 + (unsigned) (v[i] - '0');
        }
        if (r->have_length && r->remaining != length)
                return fail(r, -EBADMSG, "conflicting Content-Length");
        r->have_length = true;
        r->remaining = length;
        return 0;
}

/* The next non-empty element of a comma-separated list after *pos, OWS trimmed; false at the end. */
static bool next_element(const char *v, size_t n, size_t *pos, const char **ret_e, size_t *ret_len) {
        while (*pos <= n) {
                size_t s = *pos, e = s;

                while (e < n && v[e] != ',')
                        e++;
                *pos = e + 1;
                while (s < e && is_ows(v[s]))
                        s++;
                while (e > s && is_ows(v[e - 1]))
                        e--;
                if (e > s) {
                        *ret_e = v + s;
                        *ret_len = e - s;
                        return true;
                }
        }
        return false;
}

static int parse_transfer_encoding(ks_http_response *r, const char *v, size_t n, bool truncated) {
        const char *last = NULL, *e;
        size_t last_len = 0, en, pos = 0;

        /* The final coding decides the framing, and a cut line hides it. */
        if (truncated)
                return fail(r, -EBADMSG, "invalid Transfer-Encoding");

        while (next_element(v, n, &pos, &e, &en)) {
                size_t t = 0;

                /* transfer-coding = token *( OWS ";" OWS transfer-parameter ): parameters ignored. */
                while (t < en && is_tchar(e[t]))
                        t++;
                size_t p = t;
                while (p < en && is_ows(e[p]))
                        p++;
                if (t == 0 || (p < en && e[p] != ';'))
                        return fail(r, -EBADMSG, "invalid Transfer-Encoding");
                last = e;
                last_len = t;
        }
        if (!last)
                return fail(r, -EBADMSG, "invalid Transfer-Encoding");

        /* Over several Transfer-Encoding lines, the last line's last coding is the final one. */
        r->te = true;
        r->chunked = token_eq(last, last_len, "chunked");
        return 0;
}

static void parse_connection(ks_http_response *r, const char *v, size_t n, bool truncated) {
        const char *e;
        size_t en, pos = 0;

        /* A Connection line too long to read whole might say "close" at its end: assume it does. */
        if (truncated) {
                r->close = true;
                return;
        }
        while (next_element(v, n, &pos, &e, &en)) {
                if (token_eq(e, en, "close"))
                        r->close = true;
                else if (token_eq(e, en, "keep-alive"))
                        r->conn_keep_alive = true;
        }
}

static int parse_header_line(ks_http_response *r, const char *l, size_t n) {
        bool truncated = r->line_len > n;
        const char *colon;
        size_t name_len;

        if (is_ows(l[0]))
                return fail(r, -EBADMSG, "obsolete line folding");

        colon = memchr(l, ':', n);
        name_len = colon ? (size_t) (colon - l) : n;
        if (name_len == 0)
                return fail(r, -EBADMSG, "malformed header line");
        for (size_t i = 0; i < name_len; i++)
                if (!is_tchar(l[i]))
                        return fail(r, -EBADMSG, "malformed header line");
        if (!colon) {
                /* A name longer than what is kept: no header we care about, skipped. */
                if (truncated)
                        return 0;
                return fail(r, -EBADMSG, "malformed header line");
        }

        const char *v = colon + 1;
        size_t vn = n - name_len - 1;
        while (vn > 0 && is_ows(v[0]))
                v++, vn--;
        /* Trailing whitespace of a cut line is not the end of the value. */
        while (!truncated && vn > 0 && is_ows(v[vn - 1]))
                vn--;

        if (token_eq(l, name_len, "Content-Length"))
                return parse_content_length(r, v, vn, truncated);
        if (token_eq(l, name_len, "Transfer-Encoding"))
                return parse_transfer_encoding(r, v, vn, truncated);
        if (token_eq(l, name_len, "Connection"))
                parse_connection(r, v, vn, truncated);
        return 0;
}

static int end_of_headers(ks_http_response *r) {
        if (r->code < 200) {
                /* We never ask for an upgrade: a 101 is a protocol we do not speak. */
                if (r->code == 101)
                        return fail(r, -EBADMSG, "unexpected 101 switching protocols");
                /* 100 Continue, 103 Early Hints...: the final response follows. */
                reset_response(r);
                r->state = S_STATUS;
                return 0;
        }

        r->status = r->code;
        r->minor_version = r->minor;

        if (r->head || r->code == 204 || r->code == 304)
                finish(r, false);
        else if (r->te)
                r->state = r->chunked ? S_CHUNK_SIZE : S_BODY_CLOSE;
        else if (r->have_length && r->remaining == 0)
                finish(r, false);
        else if (r->have_length)
                r->state = S_BODY_LENGTH;
        else
                r->state = S_BODY_CLOSE;
        return 0;
}

/* chunk-size [ chunk-ext ]: hex digits, then optional whitespace and ";..." (not validated). */
static int parse_chunk_size(ks_http_response *r, const char *l, size_t n) {
        uint64_t size = 0;
        size_t i = 0;

        for (; i < n && hex_value(l[i]) >= 0; i++) {
                if (size > UINT64_MAX >> 4)
                        return fail(r, -EBADMSG, "invalid chunk size");
                size = size << 4 | (unsigned) hex_value(l[i]);
        }
        if (i == 0)
                return fail(r, -EBADMSG, "invalid chunk size");
        while (i < n && is_ows(l[i]))
                i++;
        if (i < n ? l[i] != ';' : r->line_len > n)
                return fail(r, -EBADMSG, "invalid chunk size");

        if (size == 0) {
                r->header_bytes = 0;    /* the trailer section gets its own budget */
                r->state = S_TRAILER;
        } else {
                r->remaining = size;
                r->state = S_CHUNK_DATA;
        }
        return 0;
}

static int end_of_line(ks_http_response *r) {
        size_t n = MIN((size_t) r->line_len, sizeof r->line);
        int k;

        /* The parsers see line_len (the whole length) to tell a cut line from a short one. */
        switch (r->state) {
        case S_STATUS:
                k = parse_status_line(r, r->line, n);
                break;
        case S_HEADER:
                k = n == 0 ? end_of_headers(r) : parse_header_line(r, r->line, n);
                break;
        case S_CHUNK_SIZE:
                k = parse_chunk_size(r, r->line, n);
                break;
        case S_TRAILER:
                /* Trailer fields are discarded; only the empty line that ends them matters. */
                if (n == 0)
                        finish(r, false);
                k = 0;
                break;
        default:
                k = fail(r, -EBADMSG, "internal parser error");
        }
        r->line_len = 0;
        return k;
}

/* One byte of a line (status, header, chunk-size or trailer line). */
static int line_byte(ks_http_response *r, char c) {
        if (r->state != S_CHUNK_SIZE) {
                if (++r->header_bytes > KS_HTTP_MAX_HEADER_BYTES)
                        return fail(r, -E2BIG, r->state == S_TRAILER ? "trailer section too large" :
                                                                      "header section too large");
        } else if (r->line_len >= CHUNK_LINE_MAX)
                return fail(r, -EBADMSG, "chunk extension too long");

        if (r->cr) {
                r->cr = false;
                if (c != '\n')
                        return fail(r, -EBADMSG, line_error(r));
        }
        switch (c) {
        case '\n':
                return end_of_line(r);
        case '\r':
                r->cr = true;
                return 0;
        case '\0':
                return fail(r, -EBADMSG, line_error(r));
        default:
                if (r->line_len < sizeof r->line)
                        r->line[r->line_len] = c;
                r->line_len++;
                return 0;
        }
}

static int deliver(ks_http_response *r, const char *data, size_t n, ks_http_body_t body, void *userdata) {
        int k;

        if (!body || n == 0)
                return 0;
        k = body(data, n, userdata);
        if (k < 0) {
                /* The callback's own reason (e.g. a size cap), passed on unchanged. */
                r->state = S_FAILED;
                r->failure = k;
                return k;
        }
        return 0;
}

int ks_http_response_feed(ks_http_response *r, const char *data, size_t n,
                          ks_http_body_t body, void *userdata) {
        size_t i = 0;
        int k;

        if (r->state == S_FAILED)
                return r->failure;
        /* The count is returned as an int. */
        n = MIN(n, (size_t) INT_MAX);

        while (i < n && r->state != S_DONE) {
                switch (r->state) {
                case S_BODY_LENGTH:
                case S_CHUNK_DATA: {
                        size_t m = (size_t) MIN((uint64_t) (n - i), r->remaining);

                        k = deliver(r, data + i, m, body, userdata);
                        if (k < 0)
                                return k;
                        i += m;
                        r->remaining -= m;
                        if (r->remaining == 0) {
                                if (r->state == S_BODY_LENGTH)
                                        finish(r, false);
                                else
                                        r->state = S_CHUNK_CR;
                        }
                        break;
                }
                case S_BODY_CLOSE:
                        k = deliver(r, data + i, n - i, body, userdata);
                        if (k < 0)
                                return k;
                        i = n;
                        break;
                case S_CHUNK_CR:
                case S_CHUNK_LF: {
                        char c = data[i++];

                        if (c == '\n')
                                r->state = S_CHUNK_SIZE;
                        else if (c == '\r' && r->state == S_CHUNK_CR)
                                r->state = S_CHUNK_LF;
                        else
                                return fail(r, -EBADMSG, "missing line end after chunk data");
                        break;
                }
                default:
                        k = line_byte(r, data[i++]);
                        if (k < 0)
                                return k;
                }
        }
        return (int) i;
}

int ks_http_response_eof(ks_http_response *r) {
        switch (r->state) {
        case S_DONE:
                return 0;
        case S_FAILED:
                return r->failure;
        case S_BODY_CLOSE:
                finish(r, true);
                return 0;
        case S_STATUS:
                if (r->header_bytes == 0)
                        return fail(r, -EBADMSG, "empty response");
                return fail(r, -EBADMSG, "response truncated");
        default:
                return fail(r, -EBADMSG, "response truncated");
        }
}
