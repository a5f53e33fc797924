/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The incremental HTTP/1.x response parser of http-response.h. A state machine: the status line,
 * header lines, chunk-size lines and trailer lines are scanned eight bytes at a time for their line
 * end (or a NUL), and a line that arrived whole is parsed in the caller's buffer. One cut by the end
 * of a feed goes through a line accumulator that keeps only its start (r->line), and the bytes
 * around a cut (a CR, a NUL, the byte over a limit) one at a time. Either way each line byte is
 * counted and checked as if it came alone, so how the input is split never changes the result.
 * Body bytes are handed to the callback straight from the caller's buffer. Framing follows RFC 9112
 * section 6.3.
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

/* tchar of RFC 9110 section 5.6.2, by table: every byte of every header name goes through here. */
static const bool tchar_table[256] = {
        ['0' ... '9'] = true, ['A' ... 'Z'] = true, ['a' ... 'z'] = true,
        ['!'] = true, ['#'] = true, ['$'] = true, ['%'] = true, ['&'] = true, ['\''] = true,
        ['*'] = true, ['+'] = true, ['-'] = true, ['.'] = true, ['^'] = true, ['_'] = true,
        ['`'] = true, ['|'] = true, ['~'] = true,
};

static bool is_tchar(char c) {
        return tchar_table[(unsigned char) c];
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
            (n > 12 && l[12] != ' '))
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

/* Which of the headers that frame the message a name is; H_OTHER for all the rest. */
enum { H_OTHER, H_CONTENT_LENGTH, H_TRANSFER_ENCODING, H_CONNECTION };

static int header_kind(const char *name, size_t n) {
        /* By length and first letter first: most names are none of the three. */
        if ((name[0] | 0x20) != 'c' && (name[0] | 0x20) != 't')
                return H_OTHER;
        switch (n) {
        case 10:
                return strncasecmp(name, "Connection", n) == 0 ? H_CONNECTION : H_OTHER;
        case 14:
                return strncasecmp(name, "Content-Length", n) == 0 ? H_CONTENT_LENGTH : H_OTHER;
        case 17:
                return strncasecmp(name, "Transfer-Encoding", n) == 0 ? H_TRANSFER_ENCODING : H_OTHER;
        default:
                return H_OTHER;
        }
}

/* l[0..n) is what is kept of the line, truncated: the line was longer. */
static int parse_header_line(ks_http_response *r, const char *l, size_t n, bool truncated) {
        size_t name_len = 0;
        int kind;

        if (is_ows(l[0]))
                return fail(r, -EBADMSG, "obsolete line folding");

        /* The name runs up to the first colon and must be all tchar; ':' is none, so the first
         * byte that is not a tchar has to be the colon. */
        while (name_len < n && is_tchar(l[name_len]))
                name_len++;
        if (name_len == n) {
                /* A name longer than what is kept: no header we care about, skipped. */
                if (truncated && n > 0)
                        return 0;
                return fail(r, -EBADMSG, "malformed header line");
        }
        if (name_len == 0 || l[name_len] != ':')
                return fail(r, -EBADMSG, "malformed header line");

        kind = header_kind(l, name_len);
        if (kind == H_OTHER)
                return 0;

        const char *v = l + name_len + 1;
        size_t vn = n - name_len - 1;
        while (vn > 0 && is_ows(v[0]))
                v++, vn--;
        /* Trailing whitespace of a cut line is not the end of the value. */
        while (!truncated && vn > 0 && is_ows(v[vn - 1]))
                vn--;

        switch (kind) {
        case H_CONTENT_LENGTH:
                return parse_content_length(r, v, vn, truncated);
        case H_TRANSFER_ENCODING:
                return parse_transfer_encoding(r, v, vn, truncated);
        default:
                parse_connection(r, v, vn, truncated);
                return 0;
        }
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
static int parse_chunk_size(ks_http_response *r, const char *l, size_t n, bool truncated) {
        uint64_t size = 0;
        size_t i = 0;

        for (; i < n && unhexchar(l[i]) >= 0; i++) {
                if (size > UINT64_MAX >> 4)
                        return fail(r, -EBADMSG, "invalid chunk size");
                size = size << 4 | (unsigned) unhexchar(l[i]);
        }
        if (i == 0)
                return fail(r, -EBADMSG, "invalid chunk size");
        while (i < n && is_ows(l[i]))
                i++;
        if (i < n ? l[i] != ';' : truncated)
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

/* A line of len bytes (without its line end) starting at l: in the caller's buffer, or r->line, which
 * has its first sizeof(r->line) bytes. Either way the parsers see only those first bytes, and whether
 * there were more, so a line parses the same whether it arrived whole or cut. */
static int end_of_line(ks_http_response *r, const char *l, size_t len) {
        size_t n = MIN(len, sizeof r->line);
        bool truncated = len > n;
        int k;

        switch (r->state) {
        case S_STATUS:
                k = parse_status_line(r, l, n);
                break;
        case S_HEADER:
                k = n == 0 ? end_of_headers(r) : parse_header_line(r, l, n, truncated);
                break;
        case S_CHUNK_SIZE:
                k = parse_chunk_size(r, l, n, truncated);
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
                return end_of_line(r, r->line, r->line_len);
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

static bool is_line_special(char c) {
        return c == '\r' || c == '\n' || c == '\0';
}

/* How many bytes at the start of p[0..m) are ordinary line bytes: not CR, LF or NUL. */
static size_t ordinary_run(const char *p, size_t m) {
        const uint64_t ones = UINT64_C(0x0101010101010101), highs = UINT64_C(0x8080808080808080);
        size_t i = 0;

        /* Eight bytes at a time: x - ones & ~x has a high bit set exactly when some byte of x is 0,
         * and x is the word itself, or xor'ed with CR or LF in every byte. */
        for (; i + 8 <= m; i += 8) {
                uint64_t v, cr, lf;

                memcpy(&v, p + i, 8);
                cr = v ^ (ones * '\r');
                lf = v ^ (ones * '\n');
                if ((((v - ones) & ~v) | ((cr - ones) & ~cr) | ((lf - ones) & ~lf)) & highs)
                        break;
        }
        while (i < m && !is_line_special(p[i]))
                i++;
        return i;
}

/* Some bytes of a line (status, header, chunk-size or trailer line) from data[0..n), n > 0: a whole
 * line at once when it is all there and within the limits, else the ordinary bytes before the next
 * special one in bulk, else one byte through line_byte(). Returns how many were consumed, > 0. */
static int line_bytes(ks_http_response *r, const char *data, size_t n) {
        size_t budget, m, run;
        int k;

        /* Bytes line_byte() would take without failing on a limit: in chunk-size lines, line_len
         * (CR and LF excluded) is checked before each byte; elsewhere every byte counts. */
        if (r->cr)
                budget = 0;
        else if (r->state == S_CHUNK_SIZE)
                budget = r->line_len < CHUNK_LINE_MAX ? CHUNK_LINE_MAX - r->line_len : 0;
        else
                budget = KS_HTTP_MAX_HEADER_BYTES - r->header_bytes;
        m = MIN(n, budget);
        run = ordinary_run(data, m);

        if (r->line_len == 0 && run < m) {
                /* A whole line, if its end is here: parsed where it lies, never copied. In a
                 * chunk-size line run < m <= CHUNK_LINE_MAX, so its CR and LF pass the check too. */
                size_t end = data[run] == '\n' ? 1 :
                             data[run] == '\r' && run + 1 < n && data[run + 1] == '\n' ? 2 : 0;

                if (end > 0 && (r->state == S_CHUNK_SIZE || run + end <= budget)) {
                        if (r->state != S_CHUNK_SIZE)
                                r->header_bytes += (unsigned) (run + end);
                        k = end_of_line(r, data, run);
                        return k < 0 ? k : (int) (run + end);
                }
        }
        if (run > 0) {
                if (r->line_len < sizeof r->line)
                        memcpy(r->line + r->line_len, data, MIN(run, sizeof r->line - r->line_len));
                r->line_len += (unsigned) run;
                if (r->state != S_CHUNK_SIZE)
                        r->header_bytes += (unsigned) run;
                return (int) run;
        }
        k = line_byte(r, data[0]);
        return k < 0 ? k : 1;
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
                        k = line_bytes(r, data + i, n - i);
                        if (k < 0)
                                return k;
                        i += (size_t) k;
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
