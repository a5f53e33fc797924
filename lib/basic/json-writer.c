/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A streaming JSON writer into a growing buffer; see json-writer.h for the escaping rules. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-writer.h"

#define JSON_MAX_DEPTH 64

typedef struct json_level {
        bool object;            /* else array */
        bool want_value;        /* object: a key was written, its value is due */
        size_t n;               /* members or elements written */
} json_level;

struct ks_json_writer {
        ks_json_flags flags;
        char *buf;
        size_t len, cap;
        json_level stack[JSON_MAX_DEPTH];
        size_t depth;
        bool done;              /* the top-level value is complete */
        int error;
};

ks_json_writer *ks_json_writer_new(ks_json_flags flags) {
        ks_json_writer *w = calloc(1, sizeof(*w));
        if (w)
                w->flags = flags;
        return w;
}

ks_json_writer *ks_json_writer_free(ks_json_writer *w) {
        if (!w)
                return NULL;
        free(w->buf);
        return mfree(w);
}

static int grow(char **buf, size_t *len, size_t *cap, size_t n) {
        if (*len + n + 1 <= *cap)
                return 0;
        size_t c = MAX(*cap * 2, *len + n + 1);
        c = MAX(c, (size_t) 256);
        char *b = realloc(*buf, c);
        if (!b)
                return -ENOMEM;
        *buf = b;
        *cap = c;
        return 0;
}

static int append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
        if (grow(buf, len, cap, n) < 0)
                return -ENOMEM;
        memcpy(*buf + *len, s, n);
        *len += n;
        (*buf)[*len] = 0;
        return 0;
}

static void put(ks_json_writer *w, const char *s, size_t n) {
        if (w->error == 0 && append(&w->buf, &w->len, &w->cap, s, n) < 0)
                w->error = -ENOMEM;
}

static void puts_(ks_json_writer *w, const char *s) {
        put(w, s, strlen(s));
}

static void newline_indent(ks_json_writer *w) {
        if (!(w->flags & KS_JSON_PRETTY))
                return;
        put(w, "\n", 1);
        for (size_t i = 0; i < w->depth; i++)
                put(w, "  ", 2);
}

/* Before any value: the separator and indentation its position needs; false on misuse. */
static bool value_prefix(ks_json_writer *w) {
        if (w->error < 0)
                return false;
        if (w->depth == 0) {
                if (w->done) {
                        w->error = -EINVAL;
                        return false;
                }
                return true;
        }
        json_level *l = &w->stack[w->depth - 1];
        if (l->object) {
                if (!l->want_value) {
                        w->error = -EINVAL;
                        return false;
                }
                l->want_value = false;
                return true;
        }
        if (l->n > 0)
                put(w, ",", 1);
        l->n++;
        newline_indent(w);
        return true;
}

/* After a complete value at the top level, the document is done. */
static void value_done(ks_json_writer *w) {
        if (w->depth == 0)
                w->done = true;
}

static void container_begin(ks_json_writer *w, bool object) {
        if (!value_prefix(w))
                return;
        if (w->depth >= JSON_MAX_DEPTH) {
                w->error = -E2BIG;
                return;
        }
        put(w, object ? "{" : "[", 1);
        w->stack[w->depth++] = (json_level) { .object = object };
}

static void container_end(ks_json_writer *w, bool object) {
        if (w->error < 0)
                return;
        if (w->depth == 0 || w->stack[w->depth - 1].object != object || w->stack[w->depth - 1].want_value) {
                w->error = -EINVAL;
                return;
        }
        size_t n = w->stack[w->depth - 1].n;
        w->depth--;
        if (n > 0)
                newline_indent(w);
        put(w, object ? "}" : "]", 1);
        value_done(w);
}

void ks_json_writer_object_begin(ks_json_writer *w) {
        container_begin(w, true);
}

void ks_json_writer_object_end(ks_json_writer *w) {
        container_end(w, true);
}

void ks_json_writer_array_begin(ks_json_writer *w) {
        container_begin(w, false);
}

void ks_json_writer_array_end(ks_json_writer *w) {
        container_end(w, false);
}

/* The length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is not one
 * (Unicode 15, table 3-7: no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t utf8_valid_len(const unsigned char *s, size_t n) {
        unsigned char c = s[0];
        size_t len;
        unsigned char lo = 0x80, hi = 0xbf;     /* the range of the second byte */

        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                len = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                len = 3;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                len = 4;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return len;
}

int ks_json_escape_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        size_t i = 0;

        while (i < n) {
                /* The run of bytes that need nothing, copied at once. */
                size_t start = i;
                while (i < n && p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
                        i++;
                if (i > start && append(buf, len, cap, s + start, i - start) < 0)
                        return -ENOMEM;
                if (i >= n)
                        break;

                unsigned char c = p[i];
                char esc[8];
                const char *out = esc;
                size_t k = 1;
                switch (c) {
                case '"':  out = "\\\""; break;
                case '\\': out = "\\\\"; break;
                case '\b': out = "\\b"; break;
                case '\f': out = "\\f"; break;
                case '\n': out = "\\n"; break;
                case '\r': out = "\\r"; break;
                case '\t': out = "\\t"; break;
                default:
                        if (c < 0x20 || c == 0x7f)
                                snprintf(esc, sizeof esc, "\\u%04x", c);
                        else {
                                k = utf8_valid_len(p + i, n - i);
                                if (k > 0)
                                        memcpy(esc, s + i, k), esc[k] = 0;
                                else {
                                        out = "\xef\xbf\xbd";   /* U+FFFD for this one byte */
                                        k = 1;
                                }
                        }
                }
                if (append(buf, len, cap, out, strlen(out)) < 0)
                        return -ENOMEM;
                i += k;
        }
        return 0;
}

void ks_json_writer_stringn(ks_json_writer *w, const char *s, size_t n) {
        if (!value_prefix(w))
                return;
        put(w, "\"", 1);
        if (w->error == 0 && ks_json_escape_append(&w->buf, &w->len, &w->cap, s, n) < 0)
                w->error = -ENOMEM;
        put(w, "\"", 1);
        value_done(w);
}

void ks_json_writer_string(ks_json_writer *w, const char *s) {
        if (!s)
                ks_json_writer_null(w);
        else
                ks_json_writer_stringn(w, s, strlen(s));
}

void ks_json_writer_key(ks_json_writer *w, const char *key) {
        if (w->error < 0)
                return;
        if (w->depth == 0 || !w->stack[w->depth - 1].object || w->stack[w->depth - 1].want_value) {
                w->error = -EINVAL;
                return;
        }
        json_level *l = &w->stack[w->depth - 1];
        if (l->n > 0)
                put(w, ",", 1);
        l->n++;
        newline_indent(w);
        put(w, "\"", 1);
        if (w->error == 0 && ks_json_escape_append(&w->buf, &w->len, &w->cap, key, strlen(key)) < 0)
                w->error = -ENOMEM;
        puts_(w, (w->flags & KS_JSON_PRETTY) ? "\": " : "\":");
        l->want_value = true;
}

static void raw_value(ks_json_writer *w, const char *text) {
        if (!value_prefix(w))
                return;
        puts_(w, text);
        value_done(w);
}

void ks_json_writer_int(ks_json_writer *w, int64_t v) {
        char t[32];
        snprintf(t, sizeof t, "%" PRIi64, v);
        raw_value(w, t);
}

void ks_json_writer_uint(ks_json_writer *w, uint64_t v) {
        char t[32];
        snprintf(t, sizeof t, "%" PRIu64, v);
        raw_value(w, t);
}

/* The decimal point of the current locale, replaced by '.', so that output is JSON in any locale. */
static void c_locale_point(char *t) {
        for (char *p = t; *p; p++)
                if (*p == ',')
                        *p = '.';
}

void ks_json_writer_double(ks_json_writer *w, double v) {
        char t[40];

        if (!isfinite(v)) {
                raw_value(w, "null");
                return;
        }
        /* Printed and read back in the same locale; then its decimal comma, if any, made a point. */
        snprintf(t, sizeof t, "%.15g", v);
        double back;
        if (sscanf(t, "%lf", &back) != 1 || back != v)
                snprintf(t, sizeof t, "%.17g", v);
        c_locale_point(t);
        raw_value(w, t);
}

void ks_json_writer_bool(ks_json_writer *w, bool v) {
        raw_value(w, v ? "true" : "false");
}

void ks_json_writer_null(ks_json_writer *w) {
        raw_value(w, "null");
}

/* ks_json_writer_field_TYPE(w, key, v): the key, then ks_json_writer_TYPE(w, v). */
#define DEFINE_FIELD(suffix, type)                                                                 \
        void ks_json_writer_field_##suffix(ks_json_writer *w, const char *key, type v) {           \
                ks_json_writer_key(w, key);                                                        \
                ks_json_writer_##suffix(w, v);                                                     \
        }

DEFINE_FIELD(string, const char *)
DEFINE_FIELD(int, int64_t)
DEFINE_FIELD(uint, uint64_t)
DEFINE_FIELD(double, double)
DEFINE_FIELD(bool, bool)

int ks_json_writer_finish(ks_json_writer *w, char **ret, size_t *ret_size) {
        if (w->error < 0)
                return w->error;
        if (w->depth > 0 || !w->done)
                return -EINVAL;
        put(w, "\n", 1);
        if (w->error < 0)
                return w->error;
        if (ret_size)
                *ret_size = w->len;
        *ret = TAKE_PTR(w->buf);
        w->len = w->cap = 0;
        w->error = -EINVAL;     /* nothing more to write */
        return 0;
}
