/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Pathological inputs for the TOML parser, generated here rather than committed: 1 MB of [[a]],
 * 100 000 nested arrays / inline tables / dotted keys / header parts (a depth error, not a stack
 * overflow), a 50 MB string (plain and escaped), NUL bytes and invalid UTF-8 inserted at every
 * position of a small document, and a wide array. Each must finish, without a sanitizer report,
 * with the expected result.
 */
#include <inttypes.h>
#include <time.h>

#include "toml.h"

static int failures;

#define CHECK(expr)                                                                              \
        do {                                                                                     \
                if (!(expr)) {                                                                   \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        failures++;                                                              \
                }                                                                                \
        } while (0)

typedef struct buf {
        char *p;
        size_t n, cap;
} buf;

static void put(buf *b, const char *s, size_t n) {
        if (b->n + n > b->cap) {
                size_t cap = MAX(b->cap * 2, b->n + n + 4096);
                char *np = realloc(b->p, cap);
                if (!np) {
                        fprintf(stderr, "out of memory\n");
                        exit(1);
                }
                b->p = np;
                b->cap = cap;
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
}

static void puts_n(buf *b, const char *s, size_t times) {
        size_t l = strlen(s);
        for (size_t i = 0; i < times; i++)
                put(b, s, l);
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse(const buf *b, ks_toml_document **doc, ks_toml_error *err) {
        double t = now();
        int r = ks_toml_parse(b->p, b->n, doc, err);
        printf("  %zu bytes: r=%d in %.3f s%s%s\n", b->n, r, now() - t, r < 0 ? ", " : "", r < 0 ? err->message : "");
        return r;
}

static void test_many_aot(void) {
        buf b = {};
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        const ks_toml_value *a;
        size_t n = 0;

        printf("1 MB of [[a]]\n");
        while (b.n < 1024 * 1024) {
                put(&b, "[[a]]\n", 6);
                n++;
        }
        CHECK(parse(&b, &doc, &err) == 0);
        CHECK(ks_toml_get_array(ks_toml_root(doc), "a", &a) == 0 && a->array.n == n);
        CHECK(a && a->array.items[n - 1]->line == n && a->array.items[n - 1]->type == KS_TOML_TABLE);
        ks_toml_free(doc);
        free(b.p);
}

static void test_depth(void) {
        buf b = {};
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        const ks_toml_value *v;
        unsigned depth = 0;

        /* "a = [[[...]]]" with 100 000 brackets: the 257th container is refused, at its first
         * character, column 4 + 257. */
        put(&b, "a = ", 4);
        puts_n(&b, "[", 100000);
        puts_n(&b, "]", 100000);
        printf("100 000 nested arrays as a value\n");
        CHECK(parse(&b, &doc, &err) == -EINVAL && err.line == 1 && err.column == 4 + 257);
        CHECK(strstr(err.message, "nesting deeper than 256 levels") != NULL);
        free(b.p);

        b = (buf) {};
        put(&b, "a = ", 4);
        puts_n(&b, "{b=", 100000);
        put(&b, "1", 1);
        puts_n(&b, "}", 100000);
        printf("100 000 nested inline tables\n");
        CHECK(parse(&b, &doc, &err) == -EINVAL && err.line == 1 && err.column == 4 + 256 * 3 + 1);
        CHECK(strstr(err.message, "deeper than 256 levels") != NULL);
        free(b.p);

        b = (buf) {};
        puts_n(&b, "a.", 100000);
        put(&b, "a = 1\n", 6);
        printf("a dotted key of 100 001 parts\n");
        CHECK(parse(&b, &doc, &err) == -EINVAL && err.line == 1 && err.column == 257 * 2 + 1);
        CHECK(strstr(err.message, "deeper than 256 levels") != NULL);
        free(b.p);

        b = (buf) {};
        put(&b, "[", 1);
        puts_n(&b, "a.", 100000);
        put(&b, "a]\n", 3);
        printf("a table header of 100 001 parts\n");
        CHECK(parse(&b, &doc, &err) == -EINVAL && err.line == 1 && err.column == 1 + 257 * 2 + 1);
        CHECK(strstr(err.message, "deeper than 256 levels") != NULL);
        free(b.p);

        /* Depth adds up across a header, dotted keys and values: still capped. */
        b = (buf) {};
        put(&b, "[", 1);
        puts_n(&b, "a.", 150);
        put(&b, "a]\n", 3);
        puts_n(&b, "b.", 150);
        put(&b, "b = 1\n", 6);
        printf("header and dotted key nesting 302 levels together\n");
        CHECK(parse(&b, &doc, &err) == -EINVAL && err.line == 2 && strstr(err.message, "deeper than 256 levels"));
        free(b.p);

        /* Exactly at the cap is fine: 255 nested arrays under the root's key. */
        b = (buf) {};
        put(&b, "a = ", 4);
        puts_n(&b, "[", KS_TOML_MAX_DEPTH);
        puts_n(&b, "]", KS_TOML_MAX_DEPTH);
        printf("%d nested arrays (the cap)\n", KS_TOML_MAX_DEPTH);
        CHECK(parse(&b, &doc, &err) == 0);
        for (v = ks_toml_table_get(ks_toml_root(doc), "a"); v && v->type == KS_TOML_ARRAY;
             v = v->array.n ? v->array.items[0] : NULL)
                depth++;
        CHECK(depth == KS_TOML_MAX_DEPTH);
        ks_toml_free(doc);
        free(b.p);
}

static void test_big_strings(void) {
        size_t n = 50 * 1024 * 1024;
        buf b = {};
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        const ks_toml_value *v;
        bool same = true;

        printf("50 MB basic string\n");
        put(&b, "s = \"", 5);
        b.p = realloc(b.p, n + 16);
        if (!b.p)
                exit(1);
        b.cap = n + 16;
        for (size_t i = 0; i < n; i++)
                b.p[b.n++] = 'a' + i % 26;
        put(&b, "\"\n", 2);
        CHECK(parse(&b, &doc, &err) == 0);
        v = ks_toml_table_get(ks_toml_root(doc), "s");
        CHECK(v && v->type == KS_TOML_STRING && v->string.len == n && v->string.str[n] == '\0');
        for (size_t i = 0; v && i < n; i += 4093)
                same = same && v->string.str[i] == (char) ('a' + i % 26);
        CHECK(same);
        doc = ks_toml_free(doc);

        /* Unterminated: the error is at the end of the input, on line 1. */
        b.n -= 2;
        CHECK(parse(&b, &doc, &err) == -EINVAL && err.line == 1 && err.column == 5 + n + 1);
        CHECK(strstr(err.message, "unterminated string") != NULL);

        printf("50 MB multi-line basic string of escapes\n");
        b.n = 0;
        put(&b, "s = \"\"\"", 7);
        puts_n(&b, "\\t\\u00e9\n", n / 9);
        put(&b, "\"\"\"\n", 4);
        CHECK(parse(&b, &doc, &err) == 0);
        v = ks_toml_table_get(ks_toml_root(doc), "s");
        CHECK(v && v->string.len == (n / 9) * 4 && memcmp(v->string.str, "\t\xc3\xa9\n\t", 5) == 0);
        ks_toml_free(doc);
        free(b.p);
}

/* A small document using every construct, to damage at every position. */
static const char small[] =
        "# comment \xc3\xa9\n"
        "title = \"T\xc3\xa9st \\u00e9\"\n"
        "lit = 'C:\\x'\n"
        "ml = \"\"\"\nx\xe2\x82\xac\n\"\"\"\n"
        "mll = '''\ny'''\n"
        "n = [1, 2.5, true, 1979-05-27T07:32:00Z]\n"
        "[tab.\"k\xc3\xa9y\"]\n"
        "in = { a = 1, b.c = \"d\" }\n"
        "[[aot]]\n";

static bool before_or_at(const ks_toml_error *e, unsigned line, unsigned col) {
        return e->line < line || (e->line == line && e->column <= col);
}

static void test_damage(const char *what, const char *bad, size_t badlen) {
        size_t len = sizeof small - 1, exact = 0;
        unsigned line = 1, col = 1;
        ks_toml_document *doc = NULL;
        ks_toml_error err;

        CHECK(ks_toml_parse(small, len, &doc, &err) == 0);
        doc = ks_toml_free(doc);

        for (size_t i = 0; i <= len; i++) {
                char text[sizeof small + 8];
                int r;

                /* A carriage return before a newline makes a valid CRLF. */
                if (badlen == 1 && bad[0] == '\r' && small[i] == '\n') {
                        line++;
                        col = 1;
                        continue;
                }
                memcpy(text, small, i);
                memcpy(text + i, bad, badlen);
                memcpy(text + i + badlen, small + i, len - i);
                memset(&err, 0, sizeof err);
                r = ks_toml_parse(text, len + badlen, &doc, &err);
                /* Never accepted; the error is reported where the damage is or, when the damage
                 * cuts a token short, at that token, never after the bad bytes. */
                if (r != -EINVAL || doc || !err.message[0] || err.line < 1 || !before_or_at(&err, line, col)) {
                        fprintf(stderr, "%s inserted at offset %zu (%u:%u): r=%d, error at %u:%u: %s\n", what, i,
                                line, col, r, err.line, err.column, err.message);
                        failures++;
                }
                if (err.line == line && err.column == col)
                        exact++;
                doc = ks_toml_free(doc);
                if (small[i] == '\n') {
                        line++;
                        col = 1;
                } else if (((unsigned char) small[i] & 0xC0) != 0x80)
                        col++;
        }
        printf("%s at each of %zu positions: all rejected, %zu reported at the exact position\n", what, len + 1, exact);
        CHECK(exact > len / 2);
}

static void test_wide(void) {
        buf b = {};
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        const ks_toml_value *v;
        size_t n = 1000000;

        printf("an array of 1 000 000 integers, a table of 200 000 keys\n");
        put(&b, "a = [", 5);
        puts_n(&b, "12345,", n);
        put(&b, "]\n[t]\n", 6);
        for (size_t i = 0; i < 200000; i++) {
                char line[64];
                int l = snprintf(line, sizeof line, "k%zu = %zu\n", i, i);
                put(&b, line, l);
        }
        CHECK(parse(&b, &doc, &err) == 0);
        CHECK(ks_toml_get_array(ks_toml_root(doc), "a", &v) == 0 && v->array.n == n);
        CHECK(ks_toml_get_table(ks_toml_root(doc), "t", &v) == 0 && v->table.n == 200000);
        ks_toml_free(doc);
        free(b.p);
}

int main(void) {
        static const struct {
                const char *what, *bytes;
                size_t len;
        } damage[] = {
                { "NUL byte", "\0", 1 },
                { "byte 0xFF", "\xff", 1 },
                { "lone continuation byte", "\x80", 1 },
                { "overlong NUL", "\xc0\x80", 2 },
                { "overlong slash", "\xe0\x80\xaf", 3 },
                { "UTF-16 surrogate", "\xed\xa0\x80", 3 },
                { "code point above U+10FFFF", "\xf4\x90\x80\x80", 4 },
                { "truncated sequence", "\xe2\x82", 2 },
                { "5-byte sequence", "\xf8\x88\x80\x80\x80", 5 },
                { "DEL", "\x7f", 1 },
                { "bare carriage return", "\r", 1 },
        };

        test_many_aot();
        test_depth();
        test_big_strings();
        for (size_t i = 0; i < ELEMENTSOF(damage); i++)
                test_damage(damage[i].what, damage[i].bytes, damage[i].len);
        test_wide();
        if (failures) {
                fprintf(stderr, "%d check(s) failed\n", failures);
                return 1;
        }
        printf("all checks passed\n");
        return 0;
}
