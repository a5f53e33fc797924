/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* strv.c: string vectors, NULL as the empty one, ownership on push, consume and extend. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "strv.h"

static void test_build(void) {
        _cleanup_strv_free_ char **l = NULL, **c = NULL;
        size_t n = 0;

        ASSERT_EQ(strv_length(NULL), 0);
        ASSERT_TRUE(strv_equal(NULL, NULL));
        ASSERT_EQ(strv_extend(&l, "a"), 0);
        ASSERT_EQ(strv_push(&l, strdup("b")), 0);
        ASSERT_EQ(strv_consume(&l, strdup("c")), 0);
        ASSERT_EQ(strv_length(l), 3);
        ASSERT_STREQ(l[0], "a");
        ASSERT_STREQ(l[2], "c");
        ASSERT_TRUE(l[3] == NULL);
        STRV_FOREACH(s, l)
                n++;
        ASSERT_EQ(n, 3);

        ASSERT_EQ(strv_copy(l, &c), 0);
        ASSERT_TRUE(c != l && c[0] != l[0]);
        ASSERT_TRUE(strv_equal(l, c));
        free(c[2]);
        c[2] = NULL;
        ASSERT_TRUE(!strv_equal(l, c));
        ASSERT_TRUE(!strv_equal(l, NULL));
        c = strv_free(c);
        ASSERT_TRUE(c == NULL);
}

static void test_empty(void) {
        _cleanup_strv_free_ char **c = (char **) 1;
        char *empty[] = { NULL };

        ASSERT_EQ(strv_copy(NULL, &c), 0);
        ASSERT_TRUE(c == NULL);
        ASSERT_TRUE(strv_equal(empty, NULL));
        STRV_FOREACH(s, (char **) NULL)
                ASSERT_TRUE(false);
}

int main(void) {
        test_build();
        test_empty();
        TEST_DONE();
}
