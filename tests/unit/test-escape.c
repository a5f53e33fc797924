/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* escape.c: control characters as \xNN, or \n \t \r with KS_ESCAPE_SHORT; everything else as it is. */
#include <stdlib.h>

#include "escape.h"
#include "test.h"

static void check(const char *in, ks_escape_flags flags, const char *expected) {
        char *e = escape_controls(in, flags);

        ASSERT_STREQ(e, expected);
        free(e);
}

int main(void) {
        check("", 0, "");
        check("plain \\ text é", 0, "plain \\ text é");
        check("a\nb\tc\rd\x01" "e\x1f" "f\x7f", 0, "a\\x0ab\\x09c\\x0dd\\x01e\\x1ff\\x7f");
        check("a\nb\tc\rd\x01" "e\x1f" "f\x7f", KS_ESCAPE_SHORT, "a\\nb\\tc\\rd\\x01e\\x1ff\\x7f");
        check("\x1b[31m", KS_ESCAPE_SHORT, "\\x1b[31m");
        TEST_DONE();
}
