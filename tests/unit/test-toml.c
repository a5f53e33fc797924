/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for lib/toml.c: typed getters (durations and sizes through lib/time-util.c), positions,
 * values, errors. */
#include <inttypes.h>
#include <math.h>

#include "time-util.h"
#include "test.h"
#include "toml.h"

static ks_toml_document *parse_ok(const char *text) {
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        int r = ks_toml_parse(text, strlen(text), &doc, &err);
        if (r < 0) {
                TEST_FAILED("unexpected parse error %d at %u:%u: %s", r, err.line, err.column, err.message);
        }
        return doc;
}

TEST(getters) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = parse_ok(
                "name = \"web\"\n"
                "port = 8080\n"
                "ratio = 0.5\n"
                "enabled = true\n"
                "timeout = \"1min 30s\"\n"
                "delay = 5\n"
                "exec = [\"/bin/true\", \"--flag\"]\n"
                "\n"
                "[health]\n"
                "  interval = \"500ms\"\n");
        const ks_toml_value *root, *v, *t;
        const char *s = NULL;
        int64_t i = 0;
        double d = 0;
        bool b = false;
        uint64_t u = 0;

        if (!doc)
                return;
        root = ks_toml_root(doc);
        EXPECT_TRUE(root && root->type == KS_TOML_TABLE && root->line == 1 && root->column == 1);
        EXPECT_TRUE(ks_toml_get_string(root, "name", &s) == 0 && streq(s, "web"));
        EXPECT_TRUE(ks_toml_get_integer(root, "port", &i) == 0 && i == 8080);
        EXPECT_TRUE(ks_toml_get_float(root, "ratio", &d) == 0 && d == 0.5);
        EXPECT_TRUE(ks_toml_get_bool(root, "enabled", &b) == 0 && b);
        EXPECT_TRUE(ks_toml_get_duration(root, "timeout", &u) == 0 && u == 90 * KS_USEC_PER_SEC);
        EXPECT_TRUE(ks_toml_get_duration(root, "delay", &u) == 0 && u == 5 * KS_USEC_PER_SEC);
        EXPECT_TRUE(ks_toml_get_array(root, "exec", &v) == 0 && v->array.n == 2);
        EXPECT_TRUE(v && streq(v->array.items[1]->string.str, "--flag"));
        EXPECT_TRUE(v && v->line == 7 && v->column == 8);
        EXPECT_TRUE(v && v->array.items[1]->line == 7 && v->array.items[1]->column == 22);
        EXPECT_TRUE(ks_toml_get_table(root, "health", &t) == 0 && t->line == 9 && t->column == 1);
        EXPECT_TRUE(ks_toml_get_duration(t, "interval", &u) == 0 && u == 500000);

        /* Type mismatches and absent keys; outputs untouched on failure. */
        i = 42;
        EXPECT_TRUE(ks_toml_get_integer(root, "name", &i) == -EMEDIUMTYPE && i == 42);
        EXPECT_TRUE(ks_toml_get_float(root, "port", &d) == -EMEDIUMTYPE);
        EXPECT_TRUE(ks_toml_get_string(root, "nosuch", &s) == -ENOENT);
        EXPECT_TRUE(ks_toml_get_duration(root, "enabled", &u) == -EMEDIUMTYPE);
        EXPECT_TRUE(ks_toml_get_duration(root, "name", &u) == -EINVAL);
        EXPECT_TRUE(ks_toml_table_get(root, "nosuch") == NULL);
        EXPECT_TRUE(ks_toml_table_get(NULL, "name") == NULL);
        /* Key positions. */
        EXPECT_TRUE(root->table.n == 8);
        EXPECT_TRUE(root->table.items[1].line == 2 && root->table.items[1].column == 1);
        EXPECT_TRUE(t->table.items[0].line == 10 && t->table.items[0].column == 3);
}

TEST(additions) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = parse_ok(
                "spans = [\"1s\", 2, \"bogus\", -1, 1.5, \"infinity\"]\n"
                "\"nul\\u0000key\" = 1\n");
        const ks_toml_value *root, *a;
        uint64_t u = 7;

        if (!doc)
                return;
        root = ks_toml_root(doc);
        EXPECT_TRUE(ks_toml_get_array(root, "spans", &a) == 0 && a->array.n == 6);
        if (!a || a->array.n != 6)
                return;
        EXPECT_TRUE(ks_toml_value_to_duration(a->array.items[0], &u) == 0 && u == KS_USEC_PER_SEC);
        EXPECT_TRUE(ks_toml_value_to_duration(a->array.items[1], &u) == 0 && u == 2 * KS_USEC_PER_SEC);
        EXPECT_TRUE(ks_toml_value_to_duration(a->array.items[2], &u) == -EINVAL && u == 2 * KS_USEC_PER_SEC);
        EXPECT_TRUE(ks_toml_value_to_duration(a->array.items[3], &u) == -ERANGE);
        EXPECT_TRUE(ks_toml_value_to_duration(a->array.items[4], &u) == -EMEDIUMTYPE);
        EXPECT_TRUE(ks_toml_value_to_duration(a->array.items[5], &u) == 0 && u == KS_USEC_INFINITY);
        EXPECT_TRUE(ks_toml_value_to_duration(NULL, &u) == -ENOENT);
        /* Keys holding NUL are reachable by length only. */
        EXPECT_TRUE(ks_toml_table_getn(root, "nul\0key", 7) != NULL);
        EXPECT_TRUE(ks_toml_table_get(root, "nul") == NULL);
        EXPECT_TRUE(root->table.items[1].key_len == 7 && root->table.items[1].key[7] == '\0');
}

/* Each malformed document, with the exact position of the offending character and a piece of
 * the message. Columns count code points; a BOM is not a column. */
static const struct {
        const char *text;
        size_t len; /* 0: strlen(text) */
        unsigned line, column;
        const char *message;
} error_cases[] = {
        { "a = 1\na = 2\n", 0, 2, 1, "duplicate key 'a' (first defined at line 1)" },
        { "a = \n", 0, 1, 5, "expected a value, found newline" },
        { "a = 1 b = 2\n", 0, 1, 7, "expected a newline or end of file, found 'b'" },
        { "= 1\n", 0, 1, 1, "expected a key, found '='" },
        { "a 1\n", 0, 1, 3, "expected '=' after the key" },
        { "a = \"abc\n", 0, 1, 9, "unterminated string" },
        { "a = \"\\q\"\n", 0, 1, 6, "invalid escape sequence" },
        { "a = \"\\uD800\"\n", 0, 1, 6, "not a Unicode scalar value" },
        { "a = \"\\u12G4\"\n", 0, 1, 10, "\\u escape needs 4 hexadecimal digits" },
        { "a = 0x\n", 0, 1, 7, "expected a digit, found newline" },
        { "a = 01\n", 0, 1, 5, "leading zeros are not allowed" },
        { "a = 1__2\n", 0, 1, 6, "'_' is only allowed between digits" },
        { "a = 9223372036854775808\n", 0, 1, 5, "integer out of range" },
        { "a = +0x10\n", 0, 1, 5, "cannot have a sign" },
        { "a = 1.\n", 0, 1, 7, "expected a digit" },
        { "a = 1e\n", 0, 1, 7, "expected a digit" },
        { "a = 1979-13-01\n", 0, 1, 10, "month out of range" },
        { "a = 1979-02-30\n", 0, 1, 13, "day out of range for 1979-02" },
        { "a = 1979-05-27T25:00:00\n", 0, 1, 16, "hour out of range" },
        { "a = 07:32\n", 0, 1, 10, "seconds are required" },
        { "a = 1979-05-27T07:32:00+25:00\n", 0, 1, 25, "offset hours out of range" },
        { "a = [1 2]\n", 0, 1, 8, "expected ',' or ']' after an array element, found '2'" },
        { "a = {b = 1,}\n", 0, 1, 12, "trailing comma in an inline table" },
        { "a = {b = 1\n}\n", 0, 1, 11, "newline in an inline table" },
        { "[a]\n[a]\n", 0, 2, 2, "table 'a' is defined twice (first at line 1)" },
        { "a = 1\n[a]\n", 0, 2, 2, "already defined as integer at line 1" },
        { "[[a]]\n[a]\n", 0, 2, 2, "already defined as array of tables" },
        { "a = []\n[[a]]\n", 0, 2, 3, "cannot define array of tables 'a': already defined as array" },
        { "a = {b = 1}\n[a.c]\n", 0, 2, 2, "inline table 'a' (line 1) cannot be extended" },
        { "a = {b = 1}\na.c = 2\n", 0, 2, 1, "inline table 'a' (line 1) cannot be extended" },
        { "[a.b]\n[a]\nb.c = 1\n", 0, 3, 1, "dotted keys cannot add to it" },
        { "[a.b.c]\n[a]\nb.d = 1\n[a.b]\n", 0, 4, 4, "already defined by dotted keys at line 3" },
        { "[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", 0, 4, 3, "table 'c' is already defined at line 1" },
        { "a.b = 1\n[a]\n", 0, 2, 2, "already defined by dotted keys" },
        { "a.b = 1\na.b.c = 2\n", 0, 2, 3, "key 'b' is already defined as integer" },
        { "a = 1 # \x01\n", 0, 1, 9, "control character U+0001 is not allowed in a comment" },
        { "a = \"\xff\"\n", 0, 1, 6, "invalid UTF-8 byte 0xFF in string" },
        { "a = 1\r\n b = 2\r", 0, 2, 7, "carriage return not followed by a newline" },
        { "[a\n", 0, 1, 3, "expected ']' after the table name, found newline" },
        { "[[a]\n", 0, 1, 5, "expected ']]'" },
        { "a = tru\n", 0, 1, 5, "expected a value, found 't'" },
        { "a = truex\n", 0, 1, 9, "unexpected 'x' after a boolean" },
        { "a = \"\"\"abc\n\ndef", 0, 3, 4, "unterminated multi-line string" },
        { "a = '''\n\x7f'''\n", 0, 2, 1, "control character U+007F" },
        { "a = 1.5.3\n", 0, 1, 8, "unexpected '.' in a number" },
        { "a = \"x\"\"y\"\n", 0, 1, 8, "expected a newline or end of file, found '\"'" },
        { "a = [1,,2]\n", 0, 1, 8, "expected a value, found ','" },
        { "\"\"\"a\"\"\" = 1\n", 0, 1, 1, "a multi-line string cannot be a key" },
        { "a = 1\nb\0 = 2\n", 13, 2, 2, "expected '=' after the key, found NUL byte" },
        { "a = 1979-05-27T07:32:00Zx\n", 0, 1, 25, "unexpected 'x' in a date or time" },
        { "a = 'abc\n", 0, 1, 9, "unterminated string" },
        { "a = \"\xc3\xa9\" x\n", 0, 1, 9, "found 'x'" },
        { "\xef\xbb\xbf" "a = 1 x\n", 0, 1, 7, "found 'x'" },
        { "a = 0b102\n", 0, 1, 9, "unexpected '2' in a number" },
        { "a.b.c = 1\na.b = 2\n", 0, 2, 3, "duplicate key 'b'" },
        { "[a]\nb = 1\n[a.b]\n", 0, 3, 4, "cannot define table 'b': already defined as integer at line 2" },
        { "a = \"\"\"\\ x\"\"\"\n", 0, 1, 8, "invalid escape sequence: backslash followed by ' '" },
        { "a = 1e999\n", 0, 1, 5, "floating-point number out of range" },
        { "a = 0x8000000000000000\n", 0, 1, 5, "integer out of range" },
        { "# ok\n\n  [x]\n  y = \"\\x41\"\n", 0, 4, 8, "invalid escape sequence: backslash followed by 'x'" },
        { "a = [\n  1,\n  2\n  3,\n]\n", 0, 4, 3, "expected ',' or ']' after an array element" },
        { "a = \"\"\"\n\n\"\"\"\"\"\"\n", 0, 3, 6, "expected a newline or end of file, found '\"'" },
        { "a = -inf1\n", 0, 1, 9, "unexpected '1' in a number" },
        { "[a.\"b\n", 0, 1, 6, "unterminated string" },
        { "a = {x = 1, x = 2}\n", 0, 1, 13, "duplicate key 'x'" },
        { "a = 1979-05-27 07:32\n", 0, 1, 21, "seconds are required" },
        { "k = '\xed\xa0\x80'\n", 0, 1, 6, "invalid UTF-8 byte 0xED in string" },
        { "a = \"\\U00110000\"\n", 0, 1, 6, "not a Unicode scalar value" },
        { "[[t]]\n[t.u]\nx = 1\n[[t.u]]\n", 0, 4, 5, "cannot define array of tables 'u': already defined as table" },
};

TEST(errors) {
        for (size_t i = 0; i < ELEMENTSOF(error_cases); i++) {
                ks_toml_document *doc = NULL;
                ks_toml_error err = {};
                size_t len = error_cases[i].len ?: strlen(error_cases[i].text);
                int r = ks_toml_parse(error_cases[i].text, len, &doc, &err);

                if (r != -EINVAL || doc || err.line != error_cases[i].line || err.column != error_cases[i].column ||
                    !strstr(err.message, error_cases[i].message)) {
                        TEST_FAILED("error case %zu: got %d at %u:%u \"%s\", expected %u:%u \"%s\"", i, r,
                            err.line, err.column, err.message, error_cases[i].line, error_cases[i].column,
                            error_cases[i].message);
                }
                ks_toml_free(doc);
        }
        printf("%zu error cases checked\n", ELEMENTSOF(error_cases));
}

TEST(positions) {
        /* Columns count code points, tabs count one, CRLF ends a line, a BOM is not a column. */
        _cleanup_(ks_toml_freep) ks_toml_document *doc = parse_ok(
                "\xef\xbb\xbf" "k = 1\r\n"
                "\"\xc3\xa9t\xc3\xa9\" = \"\xe2\x82\xac\" \t# comment\r\n"
                "multi = \"\"\"\n"
                "line two\n"
                "\"\"\"\n"
                "after = [ 1,\n"
                "\t2 ]\n"
                "[tbl . sub]\n"
                "  x.y = { z = true }\n"
                "[[aot]]\n"
                "[[aot]]\n"
                "  n = 2\n");
        const ks_toml_value *root, *v, *t;

        if (!doc)
                return;
        root = ks_toml_root(doc);
        EXPECT_TRUE(root->table.items[0].line == 1 && root->table.items[0].column == 1);
        v = ks_toml_table_get(root, "\xc3\xa9t\xc3\xa9");
        EXPECT_TRUE(v && v->line == 2 && v->column == 9 && streq(v->string.str, "\xe2\x82\xac"));
        EXPECT_TRUE(root->table.items[1].line == 2 && root->table.items[1].column == 1);
        v = ks_toml_table_get(root, "multi");
        EXPECT_TRUE(v && v->line == 3 && v->column == 9 && streq(v->string.str, "line two\n"));
        EXPECT_TRUE(root->table.items[3].line == 6 && root->table.items[3].column == 1);
        v = ks_toml_table_get(root, "after");
        EXPECT_TRUE(v && v->line == 6 && v->column == 9 && v->array.n == 2);
        EXPECT_TRUE(v && v->array.items[1]->line == 7 && v->array.items[1]->column == 2);
        EXPECT_TRUE(ks_toml_get_table(root, "tbl", &t) == 0 && t->line == 8 && t->column == 2);
        EXPECT_TRUE(t && ks_toml_get_table(t, "sub", &t) == 0 && t->line == 8 && t->column == 1);
        EXPECT_TRUE(t && ks_toml_get_table(t, "x", &v) == 0 && v->line == 9 && v->column == 3);
        EXPECT_TRUE(v && (v = ks_toml_table_get(v, "y")) && v->line == 9 && v->column == 9);
        EXPECT_TRUE(ks_toml_get_array(root, "aot", &v) == 0 && v->array.n == 2 && v->line == 10 && v->column == 1);
        EXPECT_TRUE(v && v->array.items[1]->line == 11 && v->array.items[1]->column == 1);
        EXPECT_TRUE(v && ks_toml_get_integer(v->array.items[1], "n", NULL) == 0);
}

TEST(values) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = parse_ok(
                "s1 = \"tab\\there \\u00e9 \\U0001F600 nul\\u0000end\"\n"
                "s2 = 'C:\\path'\n"
                "s3 = \"\"\"\\\n    folded \\\n    line\"\"\"\n"
                "i1 = -9223372036854775808\n"
                "i2 = 0xDEAD_beef\n"
                "i3 = 0o755\n"
                "i4 = 0b1010\n"
                "i5 = 1_000\n"
                "f1 = -0.0\n"
                "f2 = 6.02e23\n"
                "f3 = -inf\n"
                "f4 = nan\n"
                "f5 = 1e-7\n"
                "d1 = 1979-05-27T07:32:00.123456789123-07:30\n"
                "d2 = 1979-05-27 07:32:00\n"
                "d3 = 2000-02-29\n"
                "d4 = 23:59:60.5\n");
        const ks_toml_value *root, *v;
        const char *s;
        int64_t i;
        double f;

        if (!doc)
                return;
        root = ks_toml_root(doc);
        v = ks_toml_table_get(root, "s1");
        EXPECT_TRUE(v && v->string.len == 24 && memcmp(v->string.str, "tab\there \xc3\xa9 \xf0\x9f\x98\x80 nul\0end", 25) == 0);
        EXPECT_TRUE(ks_toml_get_string(root, "s2", &s) == 0 && streq(s, "C:\\path"));
        EXPECT_TRUE(ks_toml_get_string(root, "s3", &s) == 0 && streq(s, "folded line"));
        EXPECT_TRUE(ks_toml_get_integer(root, "i1", &i) == 0 && i == INT64_MIN);
        EXPECT_TRUE(ks_toml_get_integer(root, "i2", &i) == 0 && i == 0xDEADBEEF);
        EXPECT_TRUE(ks_toml_get_integer(root, "i3", &i) == 0 && i == 0755);
        EXPECT_TRUE(ks_toml_get_integer(root, "i4", &i) == 0 && i == 10);
        EXPECT_TRUE(ks_toml_get_integer(root, "i5", &i) == 0 && i == 1000);
        EXPECT_TRUE(ks_toml_get_float(root, "f1", &f) == 0 && f == 0 && signbit(f));
        EXPECT_TRUE(ks_toml_get_float(root, "f2", &f) == 0 && f == 6.02e23);
        EXPECT_TRUE(ks_toml_get_float(root, "f3", &f) == 0 && isinf(f) && f < 0);
        EXPECT_TRUE(ks_toml_get_float(root, "f4", &f) == 0 && isnan(f));
        EXPECT_TRUE(ks_toml_get_float(root, "f5", &f) == 0 && f == 1e-7);
        v = ks_toml_table_get(root, "d1");
        EXPECT_TRUE(v && v->type == KS_TOML_DATETIME && v->datetime.year == 1979 && v->datetime.nanosecond == 123456789 &&
              v->datetime.offset_minutes == -450);
        v = ks_toml_table_get(root, "d2");
        EXPECT_TRUE(v && v->type == KS_TOML_DATETIME_LOCAL && v->datetime.hour == 7 && v->datetime.second == 0);
        v = ks_toml_table_get(root, "d3");
        EXPECT_TRUE(v && v->type == KS_TOML_DATE_LOCAL && v->datetime.month == 2 && v->datetime.day == 29);
        v = ks_toml_table_get(root, "d4");
        EXPECT_TRUE(v && v->type == KS_TOML_TIME_LOCAL && v->datetime.second == 60 && v->datetime.nanosecond == 500000000);
        EXPECT_TRUE(streq(ks_toml_type_to_string(KS_TOML_DATETIME_LOCAL), "local date-time"));
}

TEST(file) {
        char path[] = "/tmp/test-toml-XXXXXX";
        _cleanup_close_ int fd = mkstemp(path);
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        int64_t i = 0;

        EXPECT_TRUE(fd >= 0);
        if (fd < 0)
                return;
        EXPECT_TRUE(write(fd, "[x]\nn = 7\n", 10) == 10);
        EXPECT_TRUE(ks_toml_parse_file(path, &doc, &err) == 0);
        EXPECT_TRUE(doc && ks_toml_get_table(ks_toml_root(doc), "x", NULL) == 0);
        EXPECT_TRUE(doc && ks_toml_get_integer(ks_toml_table_get(ks_toml_root(doc), "x"), "n", &i) == 0 && i == 7);
        doc = ks_toml_free(doc);
        EXPECT_TRUE(write(fd, "n = 8\n", 6) == 6);
        EXPECT_TRUE(ks_toml_parse_file(path, &doc, &err) == -EINVAL && !doc && err.line == 3 && err.column == 1);
        EXPECT_TRUE(strstr(err.message, "duplicate key 'n'"));
        (void) unlink(path);
        EXPECT_TRUE(ks_toml_parse_file(path, &doc, &err) == -ENOENT && !doc);
        EXPECT_TRUE(ks_toml_parse_file("/", &doc, &err) == -EISDIR && !doc);
}

TEST(large_table) {
        /* Many keys: the hash index must find every one and catch a late duplicate. */
        size_t n = 20000, cap = n * 24 + 64, len = 0;
        _cleanup_free_ char *text = malloc(cap);
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        const ks_toml_value *root;
        char key[32];
        int64_t v = -1;

        if (!text) {
                TEST_FAILED("out of memory");
                return;
        }
        for (size_t i = 0; i < n; i++)
                len += snprintf(text + len, cap - len, "key%zu = %zu\n", i * 7919 % n, i);
        EXPECT_TRUE(ks_toml_parse(text, len, &doc, &err) == 0);
        root = ks_toml_root(doc);
        EXPECT_TRUE(root && root->table.n == n);
        for (size_t i = 0; root && i < n; i += 97) {
                snprintf(key, sizeof key, "key%zu", i * 7919 % n);
                EXPECT_TRUE(ks_toml_get_integer(root, key, &v) == 0 && v == (int64_t) i);
        }
        EXPECT_TRUE(!ks_toml_table_get(root, "key20000"));
        doc = ks_toml_free(doc);
        len += snprintf(text + len, cap - len, "key%u = 0\n", 4321);
        EXPECT_TRUE(ks_toml_parse(text, len, &doc, &err) == -EINVAL && err.line == n + 1 && err.column == 1);
        EXPECT_TRUE(strstr(err.message, "duplicate key 'key4321'"));
}

TEST_MAIN()
