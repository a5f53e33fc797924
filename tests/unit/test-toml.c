/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for lib/toml.c and lib/time-util.c: typed getters, positions, durations, sizes. */
#include <inttypes.h>
#include <math.h>

#include "time-util.h"
#include "toml.h"

static int failures;

#define CHECK(expr)                                                                      \
        do {                                                                             \
                if (!(expr)) {                                                           \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        failures++;                                                      \
                }                                                                        \
        } while (0)

static ks_toml_document *parse_ok(const char *text) {
        ks_toml_document *doc = NULL;
        ks_toml_error err = {};
        int r = ks_toml_parse(text, strlen(text), &doc, &err);
        if (r < 0) {
                fprintf(stderr, "unexpected parse error %d at %u:%u: %s\n", r, err.line, err.column, err.message);
                failures++;
        }
        return doc;
}

static void test_getters(void) {
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
        CHECK(root && root->type == KS_TOML_TABLE && root->line == 1 && root->column == 1);
        CHECK(ks_toml_get_string(root, "name", &s) == 0 && streq(s, "web"));
        CHECK(ks_toml_get_integer(root, "port", &i) == 0 && i == 8080);
        CHECK(ks_toml_get_float(root, "ratio", &d) == 0 && d == 0.5);
        CHECK(ks_toml_get_bool(root, "enabled", &b) == 0 && b);
        CHECK(ks_toml_get_duration(root, "timeout", &u) == 0 && u == 90 * KS_USEC_PER_SEC);
        CHECK(ks_toml_get_duration(root, "delay", &u) == 0 && u == 5 * KS_USEC_PER_SEC);
        CHECK(ks_toml_get_array(root, "exec", &v) == 0 && v->array.n == 2);
        CHECK(v && streq(v->array.items[1]->string.str, "--flag"));
        CHECK(v && v->line == 7 && v->column == 8);
        CHECK(v && v->array.items[1]->line == 7 && v->array.items[1]->column == 22);
        CHECK(ks_toml_get_table(root, "health", &t) == 0 && t->line == 9 && t->column == 1);
        CHECK(ks_toml_get_duration(t, "interval", &u) == 0 && u == 500000);

        /* Type mismatches and absent keys; outputs untouched on failure. */
        i = 42;
        CHECK(ks_toml_get_integer(root, "name", &i) == -EMEDIUMTYPE && i == 42);
        CHECK(ks_toml_get_float(root, "port", &d) == -EMEDIUMTYPE);
        CHECK(ks_toml_get_string(root, "nosuch", &s) == -ENOENT);
        CHECK(ks_toml_get_duration(root, "enabled", &u) == -EMEDIUMTYPE);
        CHECK(ks_toml_get_duration(root, "name", &u) == -EINVAL);
        CHECK(ks_toml_table_get(root, "nosuch") == NULL);
        CHECK(ks_toml_table_get(NULL, "name") == NULL);
        /* Key positions. */
        CHECK(root->table.n == 8);
        CHECK(root->table.items[1].line == 2 && root->table.items[1].column == 1);
        CHECK(t->table.items[0].line == 10 && t->table.items[0].column == 3);
}

static void test_timespan(void) {
        static const struct {
                const char *in;
                uint64_t usec;
        } ok[] = {
                { "30s", 30000000 },       { "1min 30s", 90000000 },  { "1min30s", 90000000 },
                { "500ms", 500000 },       { "5", 5000000 },          { " 2 h ", 7200000000 },
                { "1.5h", 5400000000 },    { "1d", 86400000000 },     { "1w", 604800000000 },
                { "3us", 3 },              { "1M", 2629800000000 },   { "1y", 31557600000000 },
                { "0", 0 },                { "2hr 1sec", 7201000000 }, { "1 minute", 60000000 },
                { "infinity", UINT64_MAX }, { "0.5s", 500000 },       { "10msec", 10000 },
                { "4 days 2 hours", 352800000000 }, { "1\xc2\xb5s", 1 },
        };
        static const char *const bad[] = { "", "  ", "abc", "5x", "1min 3q", "-1s", "s", "1.s.", "infinityx", "++1" };
        uint64_t u;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                u = 1;
                if (ks_parse_timespan(ok[i].in, &u) < 0 || u != ok[i].usec) {
                        fprintf(stderr, "ks_parse_timespan(\"%s\") = %" PRIu64 ", expected %" PRIu64 "\n", ok[i].in, u,
                                ok[i].usec);
                        failures++;
                }
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (ks_parse_timespan(bad[i], &u) >= 0) {
                        fprintf(stderr, "ks_parse_timespan(\"%s\") accepted\n", bad[i]);
                        failures++;
                }
        CHECK(ks_parse_timespan("99999999999999999999s", &u) == -ERANGE);
        CHECK(ks_parse_timespan("-5s", &u) == -ERANGE);
}

static void test_format_timespan(void) {
        static const struct {
                uint64_t usec;
                const char *out;
        } cases[] = {
                { 0, "0" },
                { 90000000, "1min 30s" },
                { 500000, "500ms" },
                { UINT64_MAX, "infinity" },
                { 3600000000 + 1, "1h 1us" },
                { 86400000000ULL * 8, "1w 1d" },
        };
        char buf[128];
        uint64_t back;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                CHECK(ks_format_timespan(buf, sizeof buf, cases[i].usec) == 0);
                if (!streq(buf, cases[i].out)) {
                        fprintf(stderr, "ks_format_timespan(%" PRIu64 ") = \"%s\", expected \"%s\"\n", cases[i].usec, buf,
                                cases[i].out);
                        failures++;
                }
        }
        /* Round trip through the parser, over a spread of values. */
        for (uint64_t v = 1; v < UINT64_MAX / 7; v = v * 7 + 3) {
                CHECK(ks_format_timespan(buf, sizeof buf, v) == 0);
                CHECK(ks_parse_timespan(buf, &back) == 0 && back == v);
        }
        CHECK(ks_format_timespan(buf, 3, 90000000) == -ENOBUFS);
}

static void test_size(void) {
        uint64_t v = 0;

        CHECK(ks_parse_size("512", &v) == 0 && v == 512);
        CHECK(ks_parse_size("1K", &v) == 0 && v == 1024);
        CHECK(ks_parse_size("512M", &v) == 0 && v == 512ULL << 20);
        CHECK(ks_parse_size("1.5G", &v) == 0 && v == 3ULL << 29);
        CHECK(ks_parse_size("2T", &v) == 0 && v == 2ULL << 40);
        CHECK(ks_parse_size("1G 512M", &v) == 0 && v == (1ULL << 30) + (512ULL << 20));
        CHECK(ks_parse_size("10B", &v) == 0 && v == 10);
        CHECK(ks_parse_size("", &v) == -EINVAL);
        CHECK(ks_parse_size("1X", &v) == -EINVAL);
        CHECK(ks_parse_size("1.5", &v) == -EINVAL);
        CHECK(ks_parse_size("-1K", &v) == -ERANGE);
        CHECK(ks_parse_size("16E", &v) == -ERANGE);
}

int main(void) {
        test_getters();
        test_timespan();
        test_format_timespan();
        test_size();
        if (failures) {
                fprintf(stderr, "%d check(s) failed\n", failures);
                return 1;
        }
        printf("all checks passed\n");
        return 0;
}
