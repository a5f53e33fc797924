/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crc32.c: the standard check value, continuation across pieces, every single-bit error caught. */
#include <string.h>

#include "crc32.h"
#include "test.h"

TEST(check_value) {
        ASSERT_EQ(crc32_ieee(0, "", 0), 0);
        ASSERT_EQ(crc32_ieee(0, "123456789", 9), 0xcbf43926u);
        ASSERT_EQ(crc32_ieee(crc32_ieee(0, "1234", 4), "56789", 5), 0xcbf43926u);
        ASSERT_EQ(crc32_ieee(0, "The quick brown fox jumps over the lazy dog", 43), 0x414fa339u);
}

TEST(single_bit_errors) {
        char buf[64];
        uint32_t good;

        for (size_t i = 0; i < sizeof buf; i++)
                buf[i] = (char) (i * 37 + 11);
        good = crc32_ieee(0, buf, sizeof buf);
        for (size_t i = 0; i < sizeof buf * 8; i++) {
                buf[i / 8] ^= (char) (1 << (i % 8));
                EXPECT_TRUE(crc32_ieee(0, buf, sizeof buf) != good);
                buf[i / 8] ^= (char) (1 << (i % 8));
        }
}

TEST_MAIN()
