/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ks-testd's command-file language and HTTP request-head parser (see testd-command.h for the
 * language). Pure functions, no I/O.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "testd-command.h"

void testd_command_init(TestdCommand *c) {
        *c = (TestdCommand) {
                .behaviour = { .mode = TESTD_MODE_STATUS, .status = 200 },
        };
}

void testd_command_done(TestdCommand *c) {
        free(c->ports);
        free(c->body);
        testd_command_init(c);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *ret) {
        char *end;

        if (!s || !isdigit((unsigned char) *s))
                return -EINVAL;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (errno != 0 || *end != '\0' || v > max)
                return -EINVAL;
        *ret = v;
        return 0;
}

/* Splits line (modified in place) into at most max words separated by blanks. */
static size_t split_words(char *line, char **words, size_t max) {
        size_t n = 0;
        char *p = line;

        while (*p) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (!*p)
                        break;
                if (n == max)
                        return max + 1;         /* too many */
                words[n++] = p;
                while (*p && *p != ' ' && *p != '\t')
                        p++;
                if (*p)
                        *p++ = '\0';
        }
        return n;
}

static int parse_behaviour(char **w, size_t n, TestdBehaviour *ret) {
        unsigned long v, code = 200;

        if (n == 0)
                return -EINVAL;
        if (streq(w[0], "ok") && n == 1)
                *ret = (TestdBehaviour) { .mode = TESTD_MODE_STATUS, .status = 200 };
        else if (streq(w[0], "fail") && n == 1)
                *ret = (TestdBehaviour) { .mode = TESTD_MODE_STATUS, .status = 500 };
        else if (streq(w[0], "status") && n == 2) {
                if (parse_uint(w[1], 599, &v) < 0 || v < 100)
                        return -EINVAL;
                *ret = (TestdBehaviour) { .mode = TESTD_MODE_STATUS, .status = (int) v };
        } else if (streq(w[0], "slow") && (n == 2 || n == 3)) {
                if (parse_uint(w[1], 24UL * 3600 * 1000, &v) < 0)
                        return -EINVAL;
                if (n == 3 && (parse_uint(w[2], 599, &code) < 0 || code < 100))
                        return -EINVAL;
                *ret = (TestdBehaviour) { .mode = TESTD_MODE_SLOW, .status = (int) code,
                                          .delay_ms = (unsigned) v };
        } else if ((streq(w[0], "sequence") || streq(w[0], "cycle")) && n >= 2 && n - 1 <= TESTD_SEQUENCE_MAX) {
                TestdBehaviour b = { .mode = TESTD_MODE_SEQUENCE, .n_sequence = (unsigned) (n - 1),
                                     .cycle = streq(w[0], "cycle") };

                for (size_t i = 1; i < n; i++) {
                        if (parse_uint(w[i], 599, &code) < 0 || code < 100)
                                return -EINVAL;
                        b.sequence[i - 1] = (int) code;
                }
                b.status = b.sequence[0];
                *ret = b;
        } else if (streq(w[0], "hang") && n == 1)
                *ret = (TestdBehaviour) { .mode = TESTD_MODE_HANG };
        else if (streq(w[0], "close") && n == 1)
                *ret = (TestdBehaviour) { .mode = TESTD_MODE_CLOSE };
        else if (streq(w[0], "garbage") && n == 1)
                *ret = (TestdBehaviour) { .mode = TESTD_MODE_GARBAGE };
        else
                return -EINVAL;
        return 0;
}

static int parse_action(char **w, size_t n, TestdAction *ret_action, int *ret_code) {
        unsigned long v = 0;

        if (n == 2 && streq(w[0], "exit")) {
                if (parse_uint(w[1], 255, &v) < 0)
                        return -EINVAL;
                *ret_action = TESTD_ACTION_EXIT;
        } else if (n == 1 && streq(w[0], "crash"))
                *ret_action = TESTD_ACTION_CRASH;
        else if (n == 1 && streq(w[0], "abort"))
                *ret_action = TESTD_ACTION_ABORT;
        else
                return -EINVAL;
        *ret_code = (int) v;
        return 0;
}

int testd_command_parse(const char *text, TestdCommand *c, unsigned *reterr_line) {
        TestdCommand n;
        unsigned lineno = 0;
        const char *p = text;

        testd_command_init(&n);
        while (*p) {
                const char *eol = strchrnul(p, '\n');
                size_t len = (size_t) (eol - p);
                char line[1024], *w[3 + TESTD_SEQUENCE_MAX];     /* port N sequence CODE... */
                size_t nw;
                int r = 0;

                lineno++;
                if (len >= sizeof(line)) {
                        r = -EINVAL;
                        goto fail;
                }
                memcpy(line, p, len);
                line[len] = '\0';
                if (len > 0 && line[len - 1] == '\r')
                        line[len - 1] = '\0';
                p = *eol ? eol + 1 : eol;

                /* "body" takes the rest of the line verbatim (after one blank). */
                if (strncmp(line, "body ", 5) == 0 || streq(line, "body")) {
                        const char *b = line[4] ? line + 5 : "";
                        if (strlen(b) + 2 > TESTD_BODY_MAX) {
                                r = -EINVAL;
                                goto fail;
                        }
                        free(n.body);
                        if (asprintf(&n.body, "%s\n", b) < 0) {
                                n.body = NULL;
                                r = -ENOMEM;
                                goto fail;
                        }
                        continue;
                }

                nw = split_words(line, w, ELEMENTSOF(w));
                if (nw == 0 || w[0][0] == '#')
                        continue;
                if (nw > ELEMENTSOF(w)) {
                        r = -EINVAL;
                        goto fail;
                }

                if (streq(w[0], "port")) {
                        unsigned long port;
                        TestdBehaviour b;
                        TestdPortBehaviour *a;

                        if (nw < 3 || parse_uint(w[1], 65535, &port) < 0 ||
                            parse_behaviour(w + 2, nw - 2, &b) < 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        a = reallocarray(n.ports, n.n_ports + 1, sizeof(*a));
                        if (!a) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        n.ports = a;
                        n.ports[n.n_ports++] = (TestdPortBehaviour) { .port = (unsigned) port, .behaviour = b };
                } else if (streq(w[0], "repeat")) {
                        if (parse_action(w + 1, nw - 1, &n.action, &n.exit_code) < 0) {
                                r = -EINVAL;
                                goto fail;
                        }
                        n.action_repeat = true;
                        n.action_line = lineno;
                } else if (parse_action(w, nw, &n.action, &n.exit_code) >= 0) {
                        n.action_repeat = false;
                        n.action_line = lineno;
                } else if (parse_behaviour(w, nw, &n.behaviour) < 0) {
                        r = -EINVAL;
                        goto fail;
                }
                continue;
        fail:
                testd_command_done(&n);
                if (reterr_line)
                        *reterr_line = lineno;
                return r;
        }

        testd_command_done(c);
        *c = n;
        return 0;
}

const TestdBehaviour *testd_command_behaviour(const TestdCommand *c, unsigned port) {
        for (size_t i = c->n_ports; i > 0; i--)
                if (c->ports[i - 1].port == port)
                        return &c->ports[i - 1].behaviour;
        return &c->behaviour;
}

int testd_sequence_status(const TestdBehaviour *b, uint64_t index) {
        if (b->n_sequence == 0)
                return b->status;
        if (b->cycle)
                return b->sequence[index % b->n_sequence];
        return b->sequence[MIN(index, (uint64_t) b->n_sequence - 1)];
}

char *testd_text_drop_line(const char *text, unsigned line) {
        size_t len = strlen(text);
        char *out = malloc(len + 1), *o = out;
        const char *p = text;
        unsigned lineno = 0;

        if (!out)
                return NULL;
        while (*p) {
                const char *eol = strchrnul(p, '\n');
                const char *next = *eol ? eol + 1 : eol;

                if (++lineno != line) {
                        memcpy(o, p, (size_t) (next - p));
                        o += next - p;
                }
                p = next;
        }
        *o = '\0';
        return out;
}

const char *testd_reason_phrase(int status) {
        switch (status) {
        case 200: return "OK";
        case 204: return "No Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 500: return "Internal Server Error";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        default: return "Status";
        }
}

/* Finds the end of the head: the first empty line, accepting bare LF as well as CRLF. */
static const char *find_head_end(const char *buf, size_t len, size_t *ret_len) {
        for (size_t i = 0; i + 1 < len; i++) {
                if (buf[i] != '\n')
                        continue;
                if (buf[i + 1] == '\n') {
                        *ret_len = i + 2;
                        return buf + i;
                }
                if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n') {
                        *ret_len = i + 3;
                        return buf + i;
                }
        }
        return NULL;
}

int testd_http_parse_head(const char *buf, size_t len, TestdRequest *ret) {
        TestdRequest req = {};
        size_t head_len, n;
        const char *p, *sp1, *sp2, *eol, *end;
        int minor;

        if (!find_head_end(buf, len, &head_len))
                return 0;
        end = buf + head_len;

        eol = memchr(buf, '\n', head_len);
        sp1 = memchr(buf, ' ', (size_t) (eol - buf));
        if (!sp1)
                return -EBADMSG;
        sp2 = memchr(sp1 + 1, ' ', (size_t) (eol - sp1 - 1));
        if (!sp2)
                return -EBADMSG;

        n = (size_t) (sp1 - buf);
        if (n == 0 || n >= sizeof(req.method))
                return -EBADMSG;
        for (size_t i = 0; i < n; i++)
                if (!isupper((unsigned char) buf[i]))
                        return -EBADMSG;
        memcpy(req.method, buf, n);

        n = (size_t) (sp2 - sp1 - 1);
        if (n == 0 || n >= sizeof(req.path) || sp1[1] != '/')
                return -EBADMSG;
        memcpy(req.path, sp1 + 1, n);

        p = sp2 + 1;
        if ((size_t) (eol - p) < 8 || strncmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
                return -EBADMSG;
        if (!(eol == p + 8 || (eol == p + 9 && p[8] == '\r')))
                return -EBADMSG;
        minor = p[7] - '0';
        req.keep_alive = minor == 1;

        for (p = eol + 1; p < end; p = eol + 1) {
                const char *colon, *v;
                size_t vlen;

                eol = memchr(p, '\n', (size_t) (end - p));
                if (!eol || eol == p || (eol == p + 1 && *p == '\r'))
                        break;
                colon = memchr(p, ':', (size_t) (eol - p));
                if (!colon || colon == p)
                        return -EBADMSG;
                v = colon + 1;
                while (v < eol && (*v == ' ' || *v == '\t'))
                        v++;
                vlen = (size_t) (eol - v);
                while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
                        vlen--;

                if ((size_t) (colon - p) == 10 && strncasecmp(p, "Connection", 10) == 0) {
                        if (vlen == 5 && strncasecmp(v, "close", 5) == 0)
                                req.keep_alive = false;
                        else if (vlen == 10 && strncasecmp(v, "keep-alive", 10) == 0)
                                req.keep_alive = true;
                } else if ((size_t) (colon - p) == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
                        char num[24];
                        unsigned long cl;

                        if (vlen == 0 || vlen >= sizeof(num))
                                return -EBADMSG;
                        memcpy(num, v, vlen);
                        num[vlen] = '\0';
                        if (parse_uint(num, 1UL << 20, &cl) < 0)
                                return -EBADMSG;
                        req.content_length = cl;
                }
        }

        *ret = req;
        return (int) MIN(head_len, (size_t) INT_MAX);
}
