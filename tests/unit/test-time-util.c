/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests for lib/time-util.c: time spans and sizes as systemd parses them, and spans formatted
 * so that they read back to the same value. */
#include <inttypes.h>
#include <time.h>

#include "macro.h"
#include "test.h"
#include "time-util.h"

TEST(timespan) {
        static const struct {
                const char *in;
                uint64_t usec;
        } ok[] = {
                { "30s", 30000000 },       { "1min 30s", 90000000 },  { "1min30s", 90000000 },
                { "500ms", 500000 },       { "5", 5000000 },          { " 2 h ", 7200000000 },
                { "1.5h", 5400000000 },    { "1d", 86400000000 },     { "1w", 604800000000 },
                { "3us", 3 },              { "1M", 2629800000000 },   { "1y", 31557600000000 },
                { "0", 0 },                { "2hr 1sec", 7201000000 }, { "1 minute", 60000000 },
                { "infinity", UINT64_MAX }, { "0.5s", 500000 },       { "10msec", 10000 },
                { "4 days 2 hours", 352800000000 }, { "1\xc2\xb5s", 1 },
        };
        static const char *const bad[] = { "", "  ", "abc", "5x", "1min 3q", "-1s", "s", "1.s.", "infinityx", "++1" };
        uint64_t u;

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                u = 1;
                if (ks_parse_timespan(ok[i].in, &u) < 0 || u != ok[i].usec)
                        TEST_FAILED("ks_parse_timespan(\"%s\") = %" PRIu64 ", expected %" PRIu64, ok[i].in, u,
                                    ok[i].usec);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (ks_parse_timespan(bad[i], &u) >= 0)
                        TEST_FAILED("ks_parse_timespan(\"%s\") accepted", bad[i]);
        EXPECT_TRUE(ks_parse_timespan("99999999999999999999s", &u) == -ERANGE);
        EXPECT_TRUE(ks_parse_timespan("-5s", &u) == -ERANGE);
}

TEST(format_timespan) {
        static const struct {
                uint64_t usec;
                const char *out;
        } cases[] = {
                { 0, "0" },
                { 90000000, "1min 30s" },
                { 500000, "500ms" },
                { UINT64_MAX, "infinity" },
                { 3600000000 + 1, "1h 1us" },
                { 86400000000ULL * 8, "1w 1d" },
        };
        char buf[128];
        uint64_t back;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                EXPECT_TRUE(ks_format_timespan(buf, sizeof buf, cases[i].usec) == 0);
                if (!streq(buf, cases[i].out))
                        TEST_FAILED("ks_format_timespan(%" PRIu64 ") = \"%s\", expected \"%s\"", cases[i].usec, buf,
                                    cases[i].out);
        }
        /* Round trip through the parser, over a spread of values. */
        for (uint64_t v = 1; v < UINT64_MAX / 7; v = v * 7 + 3) {
                EXPECT_TRUE(ks_format_timespan(buf, sizeof buf, v) == 0);
                EXPECT_TRUE(ks_parse_timespan(buf, &back) == 0 && back == v);
        }
        EXPECT_TRUE(ks_format_timespan(buf, 3, 90000000) == -ENOBUFS);
}

TEST(size) {
        uint64_t v = 0;

        EXPECT_TRUE(ks_parse_size("512", &v) == 0 && v == 512);
        EXPECT_TRUE(ks_parse_size("1K", &v) == 0 && v == 1024);
        EXPECT_TRUE(ks_parse_size("512M", &v) == 0 && v == 512ULL << 20);
        EXPECT_TRUE(ks_parse_size("1.5G", &v) == 0 && v == 3ULL << 29);
        EXPECT_TRUE(ks_parse_size("2T", &v) == 0 && v == 2ULL << 40);
        EXPECT_TRUE(ks_parse_size("1G 512M", &v) == 0 && v == (1ULL << 30) + (512ULL << 20));
        EXPECT_TRUE(ks_parse_size("10B", &v) == 0 && v == 10);
        EXPECT_TRUE(ks_parse_size("", &v) == -EINVAL);
        EXPECT_TRUE(ks_parse_size("1X", &v) == -EINVAL);
        EXPECT_TRUE(ks_parse_size("1.5", &v) == -EINVAL);
        EXPECT_TRUE(ks_parse_size("-1K", &v) == -ERANGE);
        EXPECT_TRUE(ks_parse_size("16E", &v) == -ERANGE);
}

TEST(now_realtime) {
        struct timespec before, after;
        uint64_t now;

        /* clock_gettime, not time(): glibc's time() reads the coarse clock, which can still be in
         * the previous second when the precise one has moved on (seen in a CI run). */
        ASSERT_TRUE(clock_gettime(CLOCK_REALTIME, &before) == 0);
        now = ks_now_realtime_usec();
        ASSERT_TRUE(clock_gettime(CLOCK_REALTIME, &after) == 0);
        ASSERT_TRUE(now >= (uint64_t) before.tv_sec * KS_USEC_PER_SEC + (uint64_t) before.tv_nsec / 1000);
        ASSERT_TRUE(now <= (uint64_t) after.tv_sec * KS_USEC_PER_SEC + (uint64_t) after.tv_nsec / 1000);
}

TEST(timestamps) {
        char b[64];
        const uint64_t t = UINT64_C(1796119200) * KS_USEC_PER_SEC; /* Tue 2026-12-01 10:00:00 UTC */

        ASSERT_OK(setenv("TZ", "UTC", 1));
        tzset();
        ASSERT_OK(ks_format_timestamp(b, sizeof b, t));
        EXPECT_STREQ(b, "Tue 2026-12-01 10:00:00 UTC");
        ASSERT_OK(ks_format_timestamp_iso8601(b, sizeof b, t + 999999));
        EXPECT_STREQ(b, "2026-12-01T10:00:00Z");
        EXPECT_ERROR(ks_format_timestamp(b, sizeof b, 0), EINVAL);
        EXPECT_ERROR(ks_format_timestamp_iso8601(b, 5, t), ENOBUFS);

        static const struct {
                uint64_t ago;
                const char *text;
        } rel[] = {
                { 0, "now" },
                { 500, "500us ago" },
                { 12 * 1000, "12ms ago" },
                { 42 * KS_USEC_PER_SEC, "42s ago" },
                { 295 * KS_USEC_PER_SEC, "4min 55s ago" },
                { 300 * KS_USEC_PER_SEC, "5min ago" },
                { 3900 * KS_USEC_PER_SEC, "1h 5min ago" },
                { 7 * 3600 * KS_USEC_PER_SEC, "7h ago" },
                { 26 * 3600 * KS_USEC_PER_SEC, "1 day 2h ago" },
                { 3 * 86400 * KS_USEC_PER_SEC, "3 days ago" },
                { 10 * 86400 * KS_USEC_PER_SEC, "1 weeks 3 days ago" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rel); i++) {
                ASSERT_OK(ks_format_timestamp_relative(b, sizeof b, t - rel[i].ago, t));
                EXPECT_STREQ(b, rel[i].text);
        }
        ASSERT_OK(ks_format_timestamp_relative(b, sizeof b, t + 42 * KS_USEC_PER_SEC, t));
        EXPECT_STREQ(b, "42s left");
}

TEST_MAIN()
