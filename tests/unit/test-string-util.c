/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* string-util.c: endswith, streq_ptr, and safe_atou64's strict decimal numbers. */
#include <inttypes.h>

#include "macro.h"
#include "string-util.h"
#include "test.h"

TEST(predicates) {
        ASSERT_TRUE(endswith("web.state", ".state"));
        ASSERT_FALSE(endswith("state", ".state"));
        ASSERT_TRUE(streq_ptr(NULL, NULL));
        ASSERT_FALSE(streq_ptr("a", NULL));
        ASSERT_TRUE(streq_ptr("a", "a"));
}

TEST(safe_atou64) {
        static const struct {
                const char *in;
                uint64_t v;
        } ok[] = {
                { "0", 0 }, { "7", 7 }, { "007", 7 }, { "1234567890", 1234567890 },
                { "18446744073709551615", UINT64_MAX },
        };
        static const char *const bad[] = { "", " 1", "1 ", "+1", "-1", "0x10", "1e3", "1.0", "a" };
        uint64_t v;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                v = 1;
                EXPECT_OK(safe_atou64(ok[i].in, &v));
                EXPECT_EQ(v, ok[i].v);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (safe_atou64(bad[i], &v) != -EINVAL)
                        TEST_FAILED("safe_atou64(\"%s\") accepted", bad[i]);
        ASSERT_ERROR(safe_atou64("18446744073709551616", &v), ERANGE);
        ASSERT_ERROR(safe_atou64("99999999999999999999999", &v), ERANGE);
}

TEST_MAIN()
