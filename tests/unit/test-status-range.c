/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* status-range.c: matching and formatting a check's accepted statuses; and the one parser of
 * expect_status items ("200", "2xx", "200-299"), lib/service.c's, on the forms it must take and
 * refuse. */
#include <string.h>

#include "test.h"
#include "service.h"
#include "status-range.h"

static void test_match_format(void) {
        static const ks_status_range set[] = { { 200, 299 }, { 404, 404 }, { 300, 302 } };
        char buf[64];

        /* No ranges: the default, 2xx. */
        ASSERT_TRUE(ks_status_ranges_match(NULL, 0, 200));
        ASSERT_TRUE(ks_status_ranges_match(NULL, 0, 299));
        ASSERT_TRUE(!ks_status_ranges_match(NULL, 0, 300));
        ASSERT_TRUE(!ks_status_ranges_match(NULL, 0, 199));
        ks_status_ranges_format(NULL, 0, buf, sizeof buf);
        ASSERT_STREQ(buf, "2xx");

        ASSERT_TRUE(ks_status_ranges_match(set, 3, 250));
        ASSERT_TRUE(ks_status_ranges_match(set, 3, 404));
        ASSERT_TRUE(ks_status_ranges_match(set, 3, 301));
        ASSERT_TRUE(!ks_status_ranges_match(set, 3, 303));
        ASSERT_TRUE(!ks_status_ranges_match(set, 3, 500));
        ks_status_ranges_format(set, 3, buf, sizeof buf);
        ASSERT_STREQ(buf, "2xx,404,300-302");
        /* Cut, and terminated, when the buffer is short. */
        ks_status_ranges_format(set, 3, buf, 6);
        ASSERT_STREQ(buf, "2xx,4");
}

/* Loads a definition whose one check expects item; returns whether it loaded, and its first
 * range. */
static bool parse_item(const char *item, ks_status_range *ret) {
        _cleanup_(ks_toml_freep) ks_toml_document *doc = NULL;
        _cleanup_diag_list_ ks_diag_list d = {};
        ks_toml_error err = {};
        ks_service *s = NULL;
        char text[256];
        bool ok;

        snprintf(text, sizeof text, "exec = [\"/bin/true\"]\n[[health.check]]\ntype = \"http\"\n"
                                    "url = \"http://127.0.0.1/\"\nexpect_status = [%s]\n", item);
        ASSERT_EQ(ks_toml_parse(text, strlen(text), &doc, &err), 0);
        ok = ks_service_load("web", doc, "web.toml", &s, &d) >= 0 && s;
        if (ok) {
                ASSERT_EQ(s->health.checks[0].n_expect_status, 1);
                *ret = s->health.checks[0].expect_status[0];
        }
        ks_service_free(s);
        return ok;
}

static void test_parse(void) {
        ks_status_range r;

        ASSERT_TRUE(parse_item("\"2xx\"", &r) && r.lo == 200 && r.hi == 299);
        ASSERT_TRUE(parse_item("\"404\"", &r) && r.lo == 404 && r.hi == 404);
        ASSERT_TRUE(parse_item("\"300-302\"", &r) && r.lo == 300 && r.hi == 302);
        ASSERT_TRUE(parse_item("\"5XX\"", &r) && r.lo == 500 && r.hi == 599);
        ASSERT_TRUE(parse_item("204", &r) && r.lo == 204 && r.hi == 204);
        ASSERT_TRUE(!parse_item("\"abc\"", &r));
        ASSERT_TRUE(!parse_item("\"20\"", &r));
        ASSERT_TRUE(!parse_item("\"2000\"", &r));
        ASSERT_TRUE(!parse_item("\"302-300\"", &r));
        ASSERT_TRUE(!parse_item("\"099\"", &r));
        ASSERT_TRUE(!parse_item("\"6xx\"", &r));
        ASSERT_TRUE(!parse_item("600", &r));
}

int main(void) {
        test_match_format();
        test_parse();
        TEST_DONE();
}
