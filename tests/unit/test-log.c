/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* log.c: log_*_errno() returns the negative errno it was given, %m prints it, levels filter, and the memory target keeps lines. */
#include <errno.h>
#include <stdlib.h>

#include "log.h"
#include "test.h"
#include "strv.h"

static void test_errno(void) {
        ASSERT_EQ(ks_log_open(KS_LOG_TARGET_MEMORY), 0);
        errno = EBADF;
        ASSERT_EQ(log_error_errno(-ENOENT, "open %s: %m", "x"), -ENOENT);
        ASSERT_EQ(errno, EBADF);        /* restored */
        ASSERT_EQ(log_error_errno(EACCES, "positive: %m"), -EACCES);
        ASSERT_EQ(log_error("no errno"), 0);
        ASSERT_EQ(log_debug("filtered at info"), 0);
        ASSERT_EQ(ks_log_string(LOG_WARNING, "as it is: %m"), 0);

        _cleanup_strv_free_ char **l = ks_log_take_kept();
        ASSERT_EQ(strv_length(l), 4);
        ASSERT_STREQ(l[0], "open x: No such file or directory");
        ASSERT_STREQ(l[1], "positive: Permission denied");
        ASSERT_STREQ(l[2], "no errno");
        ASSERT_STREQ(l[3], "as it is: %m");
        ASSERT_TRUE(ks_log_take_kept() == NULL);
        ks_log_close();
        ASSERT_EQ(ks_log_get_target(), KS_LOG_TARGET_CONSOLE);
}

static void test_levels(void) {
        ASSERT_EQ(ks_log_level_from_string("emerg"), LOG_EMERG);
        ASSERT_EQ(ks_log_level_from_string("err"), LOG_ERR);
        ASSERT_EQ(ks_log_level_from_string("debug"), LOG_DEBUG);
        ASSERT_EQ(ks_log_level_from_string("3"), -EINVAL);
        ASSERT_EQ(ks_log_level_from_string("verbose"), -EINVAL);

        ks_log_set_max_level(LOG_DEBUG);
        ASSERT_EQ(ks_log_open(KS_LOG_TARGET_MEMORY), 0);
        log_debug("shown at debug");
        _cleanup_strv_free_ char **l = ks_log_take_kept();
        ASSERT_EQ(strv_length(l), 1);
        ks_log_close();
        ks_log_set_max_level(LOG_INFO);
}

int main(void) {
        test_errno();
        test_levels();
        TEST_DONE();
}
