/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* env-name.c: environment variable names, ASCII letters, digits and "_", not starting with a digit. */
#include "env-name.h"
#include "test.h"

int main(void) {
        static const char *const good[] = { "A", "_", "PATH", "_x1", "lower_case", "A9" };
        static const char *const bad[] = { "", "1A", "A-B", "A.B", "A B", "A=B", "é", "A\n" };

        for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
                ASSERT_TRUE(env_name_is_valid(good[i]));
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                ASSERT_TRUE(!env_name_is_valid(bad[i]));
        ASSERT_TRUE(!env_name_is_valid(NULL));
        TEST_DONE();
}
