/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ratelimit.c: the log rate limiter, repeats dropped and counted, a burst per window. */
#include "ratelimit.h"
#include "test.h"

#define S 1000000ull

TEST(ratelimit) {
        ks_ratelimit rl;
        unsigned sup = 99;

        ks_ratelimit_init(&rl, 10 * S, 3);
        ASSERT_TRUE(ks_ratelimit_check(&rl, "a", 0, &sup));
        ASSERT_EQ(sup, 0);
        /* Identical repeats within the window are dropped. */
        ASSERT_TRUE(!ks_ratelimit_check(&rl, "a", 1 * S, &sup));
        ASSERT_TRUE(!ks_ratelimit_check(&rl, "a", 2 * S, &sup));
        ASSERT_TRUE(ks_ratelimit_check(&rl, "b", 3 * S, &sup));
        ASSERT_EQ(sup, 2);
        ASSERT_TRUE(ks_ratelimit_check(&rl, "c", 4 * S, &sup));
        ASSERT_EQ(sup, 0);
        /* Burst of 3 per window used up. */
        ASSERT_TRUE(!ks_ratelimit_check(&rl, "d", 5 * S, &sup));
        /* New window. */
        ASSERT_TRUE(ks_ratelimit_check(&rl, "d", 11 * S, &sup));
        ASSERT_EQ(sup, 1);
        /* The same message again after the window has passed is let through. */
        ASSERT_TRUE(ks_ratelimit_check(&rl, "d", 22 * S, &sup));
}

TEST_MAIN()
