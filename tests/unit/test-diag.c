/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for lib/diag.c: diagnostics formatted with and without a position, control characters
 * escaped so a message stays one line, and the "did you mean" helper. */
#include "diag.h"
#include "test.h"

TEST(edit_distance) {
        EXPECT_EQ(ks_edit_distance("", ""), 0);
        EXPECT_EQ(ks_edit_distance("abc", ""), 3);
        EXPECT_EQ(ks_edit_distance("restart", "restart"), 0);
        EXPECT_EQ(ks_edit_distance("restrat", "restart"), 1);      /* transposition */
        EXPECT_EQ(ks_edit_distance("kitten", "sitting"), 3);
        EXPECT_EQ(ks_edit_distance("intervall", "interval"), 1);
}

TEST(closest_word) {
        const char *words[] = { "interval", "timeout", "start_period", "watchdog" };
        EXPECT_STREQ(ks_closest_word("intrval", words, 4), "interval");
        EXPECT_STREQ(ks_closest_word("timeuot", words, 4), "timeout");
        EXPECT_STREQ(ks_closest_word("banana", words, 4), NULL);
        EXPECT_STREQ(ks_closest_word("interval", words, 4), NULL);    /* exact: not a typo */
        EXPECT_STREQ(ks_closest_word("x", words, 4), NULL);
}

TEST(format) {
        _cleanup_diag_list_ ks_diag_list d = {};
        EXPECT_TRUE(ks_diag_add(&d, "f.toml", 3, 7, "bad %s", "thing") == 0);
        EXPECT_TRUE(ks_diag_add(&d, NULL, 0, 0, "plain") == 0);
        EXPECT_STREQ(d.items[0].text, "f.toml:3:7: bad thing");
        EXPECT_STREQ(d.items[0].message, "bad thing");
        EXPECT_STREQ(d.items[1].text, "plain");

        /* A file without a position (unreadable, say): "FILE: message". */
        ASSERT_OK(ks_diag_add(&d, "gone.toml", 0, 0, "cannot read"));
        ASSERT_EQ(d.n, 3);
        EXPECT_STREQ(d.items[2].text, "gone.toml: cannot read");
        EXPECT_STREQ(d.items[2].file, "gone.toml");
        EXPECT_EQ(d.items[2].line, 0);

        /* Many: the list grows and keeps every one. */
        for (unsigned i = 0; i < 100; i++)
                ASSERT_OK(ks_diag_add(&d, "many.toml", i + 1, 1, "number %u", i));
        ASSERT_EQ(d.n, 103);
        EXPECT_STREQ(d.items[102].text, "many.toml:100:1: number 99");

        ks_diag_list_clear(&d);
        EXPECT_EQ(d.n, 0);
        EXPECT_NULL(d.items);
}

TEST(escaping) {
        _cleanup_diag_list_ ks_diag_list d = {};

        /* Newline, tab, carriage return by name; other control characters and DEL in hex; UTF-8
         * untouched. The message and the file name both, so no input forges a log line. */
        ASSERT_OK(ks_diag_add(&d, "a\nb.toml", 1, 2, "key \"%s\"", "x\ny\tz\r\x1b[31m\x7f\xc3\xa9"));
        EXPECT_STREQ(d.items[0].message, "key \"x\\ny\\tz\\r\\x1b[31m\\x7f\xc3\xa9\"");
        EXPECT_STREQ(d.items[0].text, "a\\nb.toml:1:2: key \"x\\ny\\tz\\r\\x1b[31m\\x7f\xc3\xa9\"");
        EXPECT_STREQ(d.items[0].file, "a\nb.toml");    /* the file itself, as given */
}

TEST_MAIN()
