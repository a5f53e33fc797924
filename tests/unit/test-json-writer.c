/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/basic/json-writer: documents compact and pretty, escaping (RFC 8259), invalid UTF-8,
 * numbers, and misuse reported by ks_json_writer_finish(). */
#include <locale.h>

#include "json-writer.h"
#include "test.h"

/* The finished document, or NULL with the error in *r. */
static char *finish(ks_json_writer *w, int *r) {
        char *out = NULL;
        *r = ks_json_writer_finish(w, &out, NULL);
        ks_json_writer_free(w);
        return out;
}

static char *one_string(const char *s, size_t n) {
        ks_json_writer *w = ks_json_writer_new(0);
        int r;
        ASSERT_NOT_NULL(w);
        ks_json_writer_stringn(w, s, n);
        char *out = finish(w, &r);
        ASSERT_OK(r);
        return out;
}

#define EXPECT_ESCAPED(in, expected)                                                                \
        do {                                                                                        \
                _cleanup_free_ char *_o = one_string(in, sizeof(in) - 1);                           \
                EXPECT_STREQ(_o, "\"" expected "\"\n");                                             \
        } while (0)

TEST(compact) {
        ks_json_writer *w = ks_json_writer_new(0);
        int r;

        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "command", "status");
        ks_json_writer_key(w, "services");
        ks_json_writer_array_begin(w);
        ks_json_writer_object_begin(w);
        ks_json_writer_field_uint(w, "pid", 42);
        ks_json_writer_field_int(w, "delta", -7);
        ks_json_writer_field_bool(w, "flapping", false);
        ks_json_writer_field_double(w, "score", 0.5);
        ks_json_writer_field_string(w, "note", NULL);
        ks_json_writer_object_end(w);
        ks_json_writer_array_end(w);
        ks_json_writer_key(w, "empty");
        ks_json_writer_array_begin(w);
        ks_json_writer_array_end(w);
        ks_json_writer_key(w, "none");
        ks_json_writer_object_begin(w);
        ks_json_writer_object_end(w);
        ks_json_writer_object_end(w);
        _cleanup_free_ char *out = finish(w, &r);
        ASSERT_OK(r);
        EXPECT_STREQ(out, "{\"command\":\"status\",\"services\":[{\"pid\":42,\"delta\":-7,\"flapping\":false,"
                          "\"score\":0.5,\"note\":null}],\"empty\":[],\"none\":{}}\n");
}

TEST(pretty) {
        ks_json_writer *w = ks_json_writer_new(KS_JSON_PRETTY);
        int r;

        ks_json_writer_object_begin(w);
        ks_json_writer_field_string(w, "a", "x");
        ks_json_writer_key(w, "b");
        ks_json_writer_array_begin(w);
        ks_json_writer_uint(w, 1);
        ks_json_writer_uint(w, 2);
        ks_json_writer_array_end(w);
        ks_json_writer_key(w, "c");
        ks_json_writer_array_begin(w);
        ks_json_writer_array_end(w);
        ks_json_writer_object_end(w);
        _cleanup_free_ char *out = finish(w, &r);
        ASSERT_OK(r);
        EXPECT_STREQ(out, "{\n  \"a\": \"x\",\n  \"b\": [\n    1,\n    2\n  ],\n  \"c\": []\n}\n");
}

TEST(escaping) {
        EXPECT_ESCAPED("plain", "plain");
        EXPECT_ESCAPED("say \"hi\"", "say \\\"hi\\\"");
        EXPECT_ESCAPED("C:\\dir", "C:\\\\dir");
        EXPECT_ESCAPED("a\nb\tc\rd\be\ff", "a\\nb\\tc\\rd\\be\\ff");
        EXPECT_ESCAPED("\x01\x1f\x7f", "\\u0001\\u001f\\u007f");
        EXPECT_ESCAPED("nul\0here", "nul\\u0000here");
        EXPECT_ESCAPED("/slash/", "/slash/");
        /* Valid UTF-8, 2, 3 and 4 bytes, and the line separators JSON allows raw. */
        EXPECT_ESCAPED("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe2\x80\xa8");
        /* Edges of the valid ranges. */
        EXPECT_ESCAPED("\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
                       "\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf");
}

#define FFFD "\xef\xbf\xbd"

TEST(invalid_utf8) {
        EXPECT_ESCAPED("a\x80z", "a" FFFD "z");                         /* stray continuation */
        EXPECT_ESCAPED("\xff\xfe", FFFD FFFD);                          /* never valid */
        EXPECT_ESCAPED("\xc0\xaf", FFFD FFFD);                          /* overlong '/' */
        EXPECT_ESCAPED("\xe0\x80\xaf", FFFD FFFD FFFD);                 /* overlong, 3 bytes */
        EXPECT_ESCAPED("\xed\xa0\x80", FFFD FFFD FFFD);                 /* surrogate U+D800 */
        EXPECT_ESCAPED("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD);        /* U+110000 */
        EXPECT_ESCAPED("\xe2\x82", FFFD FFFD);                          /* truncated at the end */
        EXPECT_ESCAPED("\xe2\x82x", FFFD FFFD "x");                     /* truncated inside */
        EXPECT_ESCAPED("\xc3\n", FFFD "\\n");                           /* a control char cuts it */
}

TEST(keys_escaped) {
        ks_json_writer *w = ks_json_writer_new(0);
        int r;

        ks_json_writer_object_begin(w);
        ks_json_writer_field_uint(w, "we\"ird\n", 1);
        ks_json_writer_object_end(w);
        _cleanup_free_ char *out = finish(w, &r);
        ASSERT_OK(r);
        EXPECT_STREQ(out, "{\"we\\\"ird\\n\":1}\n");
}

static char *one_double(double v) {
        ks_json_writer *w = ks_json_writer_new(0);
        int r;
        ks_json_writer_double(w, v);
        char *out = finish(w, &r);
        ASSERT_OK(r);
        return out;
}

TEST(numbers) {
        static const struct {
                double v;
                const char *text;
        } table[] = {
                { 0, "0\n" },           { 1, "1\n" },         { 0.5, "0.5\n" },
                { 0.1, "0.1\n" },       { -2.25, "-2.25\n" }, { 1e300, "1e+300\n" },
                { 0.3333333333333333, "0.33333333333333331\n" },
                { NAN, "null\n" },      { INFINITY, "null\n" },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                _cleanup_free_ char *o = one_double(table[i].v);
                EXPECT_STREQ(o, table[i].text);
        }

        ks_json_writer *w = ks_json_writer_new(0);
        int r;
        ks_json_writer_array_begin(w);
        ks_json_writer_uint(w, UINT64_MAX);
        ks_json_writer_int(w, INT64_MIN);
        ks_json_writer_array_end(w);
        _cleanup_free_ char *out = finish(w, &r);
        ASSERT_OK(r);
        EXPECT_STREQ(out, "[18446744073709551615,-9223372036854775808]\n");
}

/* A locale with a decimal comma must not leak into the output (skipped where none is installed). */
TEST(locale) {
        const char *names[] = { "de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8" };
        bool set = false;
        for (size_t i = 0; i < ELEMENTSOF(names) && !set; i++)
                set = setlocale(LC_NUMERIC, names[i]) != NULL;
        if (!set) {
                printf("no locale with a decimal comma installed, skipped\n");
                return;
        }
        _cleanup_free_ char *o = one_double(0.25);
        setlocale(LC_NUMERIC, "C");
        EXPECT_STREQ(o, "0.25\n");
}

/* Misuse, each in a writer of its own: what it does, the error finish() reports. */
static void value_without_key(ks_json_writer *w) {
        ks_json_writer_object_begin(w);
        ks_json_writer_uint(w, 1);
        ks_json_writer_object_end(w);
}

static void key_in_array(ks_json_writer *w) {
        ks_json_writer_array_begin(w);
        ks_json_writer_key(w, "k");
        ks_json_writer_array_end(w);
}

static void mismatched_end(ks_json_writer *w) {
        ks_json_writer_array_begin(w);
        ks_json_writer_object_end(w);
}

static void unclosed(ks_json_writer *w) {
        ks_json_writer_array_begin(w);
}

static void key_without_value(ks_json_writer *w) {
        ks_json_writer_object_begin(w);
        ks_json_writer_key(w, "k");
        ks_json_writer_object_end(w);
}

static void nothing(ks_json_writer *w) {
}

static void two_values(ks_json_writer *w) {
        ks_json_writer_uint(w, 1);
        ks_json_writer_uint(w, 2);
}

static void too_deep(ks_json_writer *w) {
        for (int i = 0; i < 100; i++)
                ks_json_writer_array_begin(w);
}

TEST(misuse) {
        static const struct {
                void (*build)(ks_json_writer *w);
                int error;
        } table[] = {
                { value_without_key, EINVAL }, { key_in_array, EINVAL }, { mismatched_end, EINVAL },
                { unclosed, EINVAL },          { key_without_value, EINVAL }, { nothing, EINVAL },
                { two_values, EINVAL },        { too_deep, E2BIG },
        };
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                ks_json_writer *w = ks_json_writer_new(0);
                int r;
                ASSERT_NOT_NULL(w);
                table[i].build(w);
                char *out = finish(w, &r);
                EXPECT_ERROR(r, table[i].error);
                EXPECT_NULL(out);
        }
        EXPECT_NULL(ks_json_writer_free(NULL));
}

/* A random byte string always comes out as valid UTF-8 with no raw control characters. */
TEST(random_bytes_valid) {
        uint64_t state = 0x9e3779b97f4a7c15;
        for (int round = 0; round < 2000; round++) {
                char in[32];
                size_t n = ks_test_random(&state) % sizeof in;
                for (size_t i = 0; i < n; i++)
                        in[i] = (char) ks_test_random(&state);
                _cleanup_free_ char *o = one_string(in, n);
                const unsigned char *p = (const unsigned char *) o;
                size_t len = strlen(o);
                ASSERT_TRUE(len >= 3 && o[0] == '"' && o[len - 2] == '"' && o[len - 1] == '\n');
                for (size_t i = 1; i < len - 2;) {
                        if (p[i] < 0x20 || p[i] == 0x7f)
                                TEST_FAILED("raw control byte 0x%02x in output", p[i]);
                        if (p[i] == '"')
                                TEST_FAILED("unescaped quote in %s", o);
                        size_t k = p[i] < 0x80 ? 1 : p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
                        if (p[i] >= 0x80 && (p[i] < 0xc2 || p[i] > 0xf4))
                                TEST_FAILED("invalid lead byte 0x%02x", p[i]);
                        for (size_t j = 1; j < k; j++)
                                if (i + j >= len - 2 || (p[i + j] & 0xc0) != 0x80)
                                        TEST_FAILED("invalid continuation after 0x%02x", p[i]);
                        if (p[i] == '\\')
                                k = p[i + 1] == 'u' ? 6 : 2;
                        i += k;
                }
        }
}

TEST_MAIN()
