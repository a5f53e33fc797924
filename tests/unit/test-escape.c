/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape.c: control characters as \xNN, or \n \t \r with KS_ESCAPE_SHORT; backslashes doubled with
 * KS_ESCAPE_BACKSLASH; everything else as it is; and unescape_controls() as the way back. */
#include <stdlib.h>

#include "escape.h"
#include "macro.h"
#include "test.h"

static void check(const char *in, ks_escape_flags flags, const char *expected) {
        char *e = escape_controls(in, flags);

        ASSERT_STREQ(e, expected);
        free(e);
}

TEST(escape) {
        check("", 0, "");
        check("plain \\ text é", 0, "plain \\ text é");
        check("a\nb\tc\rd\x01" "e\x1f" "f\x7f", 0, "a\\x0ab\\x09c\\x0dd\\x01e\\x1ff\\x7f");
        check("a\nb\tc\rd\x01" "e\x1f" "f\x7f", KS_ESCAPE_SHORT, "a\\nb\\tc\\rd\\x01e\\x1ff\\x7f");
        check("\x1b[31m", KS_ESCAPE_SHORT, "\\x1b[31m");
        check("a\\b\\\n", KS_ESCAPE_BACKSLASH, "a\\\\b\\\\\\x0a");
        check("a\\b\\\n", KS_ESCAPE_BACKSLASH | KS_ESCAPE_SHORT, "a\\\\b\\\\\\n");
}

TEST(round_trip) {
        /* Every byte but NUL, each alone and all together, comes back as it was. */
        char all[256];

        for (int c = 1; c < 256; c++) {
                char one[2] = { (char) c, 0 };
                _cleanup_free_ char *e = escape_controls(one, KS_ESCAPE_SHORT | KS_ESCAPE_BACKSLASH), *u = NULL;

                ASSERT_NOT_NULL(e);
                ASSERT_OK(unescape_controls(e, strlen(e), &u));
                ASSERT_STREQ(u, one);
                all[c - 1] = (char) c;
        }
        all[255] = 0;
        _cleanup_free_ char *e = escape_controls(all, KS_ESCAPE_SHORT | KS_ESCAPE_BACKSLASH), *u = NULL;
        ASSERT_NOT_NULL(e);
        for (const char *p = e; *p; p++)
                ASSERT_FALSE((unsigned char) *p < 0x20 || *p == 0x7f);
        ASSERT_OK(unescape_controls(e, strlen(e), &u));
        ASSERT_STREQ(u, all);
}

TEST(unescape) {
        static const struct {
                const char *in, *out;
        } ok[] = {
                { "", "" }, { "plain", "plain" }, { "\\\\", "\\" }, { "\\x41\\x7f\\xFF", "A\x7f\xff" },
                { "a\\nb\\tc\\rd", "a\nb\tc\rd" }, { "\xc3\xa9\xff", "\xc3\xa9\xff" },
        };
        static const char *const bad[] = { "\\", "a\\", "\\q", "\\x", "\\x4", "\\x4g", "\\x00", "\\0", "a\tb", "\x7f" };

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *u = NULL;

                EXPECT_OK(unescape_controls(ok[i].in, strlen(ok[i].in), &u));
                EXPECT_STREQ(u, ok[i].out);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *u = NULL;

                if (unescape_controls(bad[i], strlen(bad[i]), &u) != -EINVAL)
                        TEST_FAILED("unescape_controls(\"%s\") accepted", bad[i]);
                ASSERT_NULL(u);
        }
        /* Only n bytes are read, and a NUL inside them is refused. */
        _cleanup_free_ char *u = NULL;
        ASSERT_OK(unescape_controls("abc", 2, &u));
        ASSERT_STREQ(u, "ab");
        ASSERT_ERROR(unescape_controls("a\0b", 3, &u), EINVAL);
}

TEST_MAIN()
